//! The page being drawn: text, rules and frames as printpdf operations, placed in mm from the top.

use printpdf::{
    Color, Line, LinePoint, Mm, Op, PaintMode, PdfFontHandle, Point, Pt, Rect, Rgb, TextItem,
};

use super::fitting::{LaidLine, Run};
use super::fonts::{text_width, Face, Fonts};
use super::layout::{PAGE_H, PAGE_W};

/// Operations collected for the page, plus the current fill colour so repeats can be skipped.
pub(super) struct Canvas<'a> {
    fonts: &'a Fonts,
    ops: Vec<Op>,
    fill: Option<(f32, f32, f32)>,
}

impl<'a> Canvas<'a> {
    pub(super) fn new(fonts: &'a Fonts) -> Self {
        Self {
            fonts,
            ops: Vec::new(),
            fill: None,
        }
    }

    pub(super) fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        text_width(self.fonts.get(face), size, text)
    }

    pub(super) fn runs_width(&self, runs: &[Run]) -> f32 {
        runs.iter()
            .map(|r| self.width(r.face, r.size, &r.text))
            .sum()
    }

    fn set_fill(&mut self, rgb: (f32, f32, f32)) {
        // Skip redundant colour operators; keeps the content stream short.
        if self.fill != Some(rgb) {
            self.ops.push(Op::SetFillColor {
                col: rgb_color(rgb),
            });
            self.fill = Some(rgb);
        }
    }

    /// Draws `text` with its baseline `baseline` mm below the top edge, starting at `x` mm.
    fn text(
        &mut self,
        x: f32,
        baseline: f32,
        face: Face,
        size: f32,
        rgb: (f32, f32, f32),
        text: &str,
    ) {
        if text.is_empty() {
            return;
        }
        self.set_fill(rgb);
        // One BT/ET per run: printpdf's cursor operator is the relative `Td`, which is only an
        // absolute position right after `BT`.
        self.ops.extend([
            Op::StartTextSection,
            Op::SetTextCursor {
                pos: Point::new(Mm(x), Mm(PAGE_H - baseline)),
            },
            Op::SetFont {
                font: PdfFontHandle::External(face.id()),
                size: Pt(size),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_string())],
            },
            Op::EndTextSection,
        ]);
    }

    pub(super) fn text_centered(
        &mut self,
        cx: f32,
        baseline: f32,
        face: Face,
        size: f32,
        rgb: (f32, f32, f32),
        text: &str,
    ) {
        let w = self.width(face, size, text);
        self.text(cx - w / 2.0, baseline, face, size, rgb, text);
    }

    pub(super) fn line(&mut self, left: f32, baseline: f32, line: &LaidLine, rgb: (f32, f32, f32)) {
        let mut x = left + line.indent;
        for run in &line.runs {
            self.text(x, baseline, run.face, run.size, rgb, &run.text);
            x += self.width(run.face, run.size, &run.text);
        }
    }

    /// Horizontal rule from `x0` to `x1` mm at `y` mm below the top edge.
    pub(super) fn rule(
        &mut self,
        x0: f32,
        x1: f32,
        y: f32,
        thickness_pt: f32,
        rgb: (f32, f32, f32),
    ) {
        let point = |x: f32| LinePoint {
            p: Point::new(Mm(x), Mm(PAGE_H - y)),
            bezier: false,
        };
        self.ops.extend([
            Op::SetOutlineColor {
                col: rgb_color(rgb),
            },
            Op::SetOutlineThickness {
                pt: Pt(thickness_pt),
            },
            Op::DrawLine {
                line: Line {
                    points: vec![point(x0), point(x1)],
                    is_closed: false,
                },
            },
        ]);
    }

    pub(super) fn frame(&mut self, inset: f32, thickness_pt: f32, rgb: (f32, f32, f32)) {
        self.ops.extend([
            Op::SetOutlineColor {
                col: rgb_color(rgb),
            },
            Op::SetOutlineThickness {
                pt: Pt(thickness_pt),
            },
            Op::DrawRectangle {
                rectangle: Rect {
                    x: Mm(inset).into(),
                    y: Mm(inset).into(),
                    width: Mm(PAGE_W - 2.0 * inset).into(),
                    height: Mm(PAGE_H - 2.0 * inset).into(),
                    mode: Some(PaintMode::Stroke),
                    winding_order: None,
                },
            },
        ]);
    }

    /// Appends operations that paint in their own colour inside a saved graphics state (the QR
    /// code). The fill they leave behind is forgotten, so the next text sets its colour again.
    pub(super) fn paint_isolated(&mut self, ops: Vec<Op>) {
        self.ops.extend(ops);
        self.fill = None;
    }

    /// The page's content stream.
    pub(super) fn into_ops(self) -> Vec<Op> {
        self.ops
    }
}

fn rgb_color((r, g, b): (f32, f32, f32)) -> Color {
    Color::Rgb(Rgb {
        r,
        g,
        b,
        icc_profile: None,
    })
}
