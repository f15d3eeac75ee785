//! The page being drawn: text, rules, frames and the QR code written as a PDF content stream, in
//! mm from the top-left corner, recording which characters each face shows.

use super::fitting::{LaidLine, Run};
use super::fonts::{Face, Fonts, MM_PER_PT, NOTDEF};
use super::layout::PAGE_H;
use super::qr::QrSymbol;
use super::syntax::{int, num};

type Rgb = (f32, f32, f32);

/// The drawing of one page.
pub(super) struct Canvas<'a> {
    fonts: &'a Fonts,
    page: PageContent,
    fill: Option<Rgb>,
    stroke: Option<(Rgb, f32)>,
    font: Option<(Face, f32)>,
}

/// A drawn page: its content stream with the text strings left out (they are written once the
/// subsets, and so the glyph ids, are known), the strings as character codes, and the set of
/// codes each face shows.
pub(super) struct PageContent {
    /// Operators; each text string goes at its run's `at`.
    pub(super) ops: Vec<u8>,
    pub(super) runs: Vec<TextRun>,
    /// Repertoire codes of every run, back to back.
    pub(super) codes: Vec<u16>,
    /// Per face, a bit per repertoire code shown.
    pub(super) used: [Vec<u64>; 3],
}

pub(super) struct TextRun {
    pub(super) at: usize,
    pub(super) face: Face,
    pub(super) codes: std::ops::Range<usize>,
}

/// mm → PDF points.
fn pt(mm: f32) -> f32 {
    mm / MM_PER_PT
}

impl<'a> Canvas<'a> {
    pub(super) fn new(fonts: &'a Fonts) -> Self {
        let words = fonts.repertoire_len().div_ceil(64);
        Self {
            fonts,
            page: PageContent {
                ops: Vec::with_capacity(8 * 1024),
                runs: Vec::with_capacity(64),
                codes: Vec::with_capacity(2048),
                used: [vec![0; words], vec![0; words], vec![0; words]],
            },
            fill: None,
            stroke: None,
            font: None,
        }
    }

    pub(super) fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        self.fonts.text_width(face, size, text)
    }

    pub(super) fn runs_width(&self, runs: &[Run]) -> f32 {
        runs.iter()
            .map(|r| self.width(r.face, r.size, &r.text))
            .sum()
    }

    fn color(&mut self, rgb: Rgb, op: &[u8]) {
        let out = &mut self.page.ops;
        for (i, v) in [rgb.0, rgb.1, rgb.2].into_iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            num(out, v, 3);
        }
        out.extend_from_slice(op);
    }

    fn set_fill(&mut self, rgb: Rgb) {
        // Skip redundant colour operators; keeps the content stream short.
        if self.fill != Some(rgb) {
            self.color(rgb, b" rg\n");
            self.fill = Some(rgb);
        }
    }

    fn set_stroke(&mut self, rgb: Rgb, thickness_pt: f32) {
        if self.stroke.map(|s| s.0) != Some(rgb) {
            self.color(rgb, b" RG\n");
        }
        if self.stroke.map(|s| s.1) != Some(thickness_pt) {
            num(&mut self.page.ops, thickness_pt, 2);
            self.page.ops.extend_from_slice(b" w\n");
        }
        self.stroke = Some((rgb, thickness_pt));
    }

    fn point(&mut self, x_mm: f32, y_from_top_mm: f32) {
        num(&mut self.page.ops, pt(x_mm), 2);
        self.page.ops.push(b' ');
        num(&mut self.page.ops, pt(PAGE_H - y_from_top_mm), 2);
    }

    /// Draws `text` with its baseline `baseline` mm below the top edge, starting at `x` mm.
    fn text(&mut self, x: f32, baseline: f32, face: Face, size: f32, rgb: Rgb, text: &str) {
        if text.is_empty() {
            return;
        }
        self.set_fill(rgb);
        self.page.ops.extend_from_slice(b"BT\n");
        // The font is graphics state: it outlives BT/ET, so it is set only when it changes.
        if self.font != Some((face, size)) {
            self.page.ops.push(b'/');
            self.page.ops.extend_from_slice(face.resource().as_bytes());
            self.page.ops.push(b' ');
            num(&mut self.page.ops, size, 2);
            self.page.ops.extend_from_slice(b" Tf\n");
            self.font = Some((face, size));
        }
        self.point(x, baseline);
        self.page.ops.extend_from_slice(b" Td\n");
        let start = self.page.codes.len();
        let used = &mut self.page.used[face.index()];
        for c in text.chars() {
            let code = self.fonts.code(c);
            if code != NOTDEF {
                used[usize::from(code / 64)] |= 1 << (code % 64);
            }
            self.page.codes.push(code);
        }
        self.page.runs.push(TextRun {
            at: self.page.ops.len(),
            face,
            codes: start..self.page.codes.len(),
        });
        self.page.ops.extend_from_slice(b" Tj\nET\n");
    }

    pub(super) fn text_centered(
        &mut self,
        cx: f32,
        baseline: f32,
        face: Face,
        size: f32,
        rgb: Rgb,
        text: &str,
    ) {
        let w = self.width(face, size, text);
        self.text(cx - w / 2.0, baseline, face, size, rgb, text);
    }

    pub(super) fn line(&mut self, left: f32, baseline: f32, line: &LaidLine, rgb: Rgb) {
        let mut x = left + line.indent;
        for run in &line.runs {
            self.text(x, baseline, run.face, run.size, rgb, &run.text);
            x += self.width(run.face, run.size, &run.text);
        }
    }

    /// Horizontal rule from `x0` to `x1` mm at `y` mm below the top edge.
    pub(super) fn rule(&mut self, x0: f32, x1: f32, y: f32, thickness_pt: f32, rgb: Rgb) {
        self.set_stroke(rgb, thickness_pt);
        self.point(x0, y);
        self.page.ops.extend_from_slice(b" m ");
        self.point(x1, y);
        self.page.ops.extend_from_slice(b" l S\n");
    }

    /// A rectangle `inset` mm inside the page edge, stroked.
    pub(super) fn frame(&mut self, inset: f32, thickness_pt: f32, rgb: Rgb) {
        self.set_stroke(rgb, thickness_pt);
        self.point(inset, PAGE_H - inset);
        for v in [super::layout::PAGE_W - 2.0 * inset, PAGE_H - 2.0 * inset] {
            self.page.ops.push(b' ');
            num(&mut self.page.ops, pt(v), 2);
        }
        self.page.ops.extend_from_slice(b" re S\n");
    }

    /// Paints a QR symbol in black, its top-left module at (`left`, `top`) mm from the page's
    /// top-left corner, each module `module` mm wide: one filled path of rectangles in module
    /// units, inside a saved graphics state so the fill colour it sets does not leak.
    pub(super) fn qr(&mut self, symbol: &QrSymbol, left: f32, top: f32, module: f32) {
        let out = &mut self.page.ops;
        out.extend_from_slice(b"q\n0 g\n");
        // Module units, y downwards from the symbol's top-left corner.
        num(out, pt(module), 4);
        out.extend_from_slice(b" 0 0 ");
        num(out, -pt(module), 4);
        out.push(b' ');
        num(out, pt(left), 3);
        out.push(b' ');
        num(out, pt(PAGE_H - top), 3);
        out.extend_from_slice(b" cm\n");
        for rect in symbol.rectangles() {
            for (i, v) in [rect.x, rect.y, rect.w, rect.h].into_iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                int(out, u64::from(v));
            }
            out.extend_from_slice(b" re\n");
        }
        out.extend_from_slice(b"f\nQ\n");
    }

    /// The page as drawn.
    pub(super) fn into_page(self) -> PageContent {
        self.page
    }
}
