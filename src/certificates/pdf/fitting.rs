//! Runs of text fitted to a measure: greedy line breaking, and shrinking type before wrapping.

use super::canvas::Canvas;
use super::fonts::{Face, MM_PER_PT};
use super::layout::INK;

/// Step used when shrinking text to fit.
pub(super) const SHRINK_STEP_PT: f32 = 0.5;

/// A piece of text in one face and size.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Run {
    pub(super) face: Face,
    pub(super) size: f32,
    pub(super) text: String,
}

impl Run {
    pub(super) fn new(face: Face, size: f32, text: impl Into<String>) -> Self {
        Self {
            face,
            size,
            text: text.into(),
        }
    }
}

/// A laid-out line: runs drawn left to right from `indent` mm after the column's left edge.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LaidLine {
    pub(super) indent: f32,
    pub(super) runs: Vec<Run>,
}

impl LaidLine {
    pub(super) fn max_size(&self) -> f32 {
        self.runs.iter().map(|r| r.size).fold(0.0, f32::max)
    }
}

// Fitting measures with the canvas's fonts, so it is a canvas method; it lives here, beside the
// runs, so that canvas.rs keeps to the drawing primitives.
impl Canvas<'_> {
    /// Greedy line breaking of `runs` into lines `first_width` mm wide, then `rest_width` mm wide.
    /// Breaks at spaces; a single word wider than a line (a URL, a name without spaces) is broken
    /// between characters so that nothing can run past the column.
    fn wrap(&self, runs: &[Run], first_width: f32, rest_width: f32) -> Vec<Vec<Run>> {
        // Tokens: words and single spaces, each carrying its run's face and size.
        let mut tokens: Vec<(Run, bool)> = Vec::new();
        for run in runs {
            let mut word = String::new();
            for c in run.text.chars() {
                if c == ' ' {
                    if !word.is_empty() {
                        tokens.push((
                            Run::new(run.face, run.size, std::mem::take(&mut word)),
                            false,
                        ));
                    }
                    tokens.push((Run::new(run.face, run.size, " "), true));
                } else {
                    word.push(c);
                }
            }
            if !word.is_empty() {
                tokens.push((Run::new(run.face, run.size, word), false));
            }
        }

        let mut lines: Vec<Vec<Run>> = Vec::new();
        let mut current: Vec<Run> = Vec::new();
        let mut used = 0.0;
        let mut width = first_width;
        let finish = |current: &mut Vec<Run>, lines: &mut Vec<Vec<Run>>| {
            while current.last().is_some_and(|r| r.text == " ") {
                current.pop();
            }
            lines.push(merge_runs(std::mem::take(current)));
        };

        for (token, is_space) in tokens {
            let w = self.width(token.face, token.size, &token.text);
            if is_space {
                // Spaces never start a line.
                if !current.is_empty() {
                    used += w;
                    current.push(token);
                }
                continue;
            }
            if used + w <= width {
                used += w;
                current.push(token);
                continue;
            }
            // The word does not fit: close the current line (its trailing spaces are dropped).
            if current.iter().any(|r| r.text != " ") {
                finish(&mut current, &mut lines);
                used = 0.0;
                width = rest_width;
            }
            if w <= width {
                used = w;
                current.push(token);
                continue;
            }
            // The word alone is wider than a line: break it between characters.
            let mut piece = String::new();
            let mut piece_w = 0.0;
            for c in token.text.chars() {
                let cw = self.width(token.face, token.size, c.encode_utf8(&mut [0; 4]));
                if used + piece_w + cw > width && !(piece.is_empty() && current.is_empty()) {
                    current.push(Run::new(token.face, token.size, std::mem::take(&mut piece)));
                    finish(&mut current, &mut lines);
                    used = 0.0;
                    piece_w = 0.0;
                    width = rest_width;
                }
                piece.push(c);
                piece_w += cw;
            }
            if !piece.is_empty() {
                used += piece_w;
                current.push(Run::new(token.face, token.size, piece));
            }
        }
        if current.iter().any(|r| r.text != " ") {
            finish(&mut current, &mut lines);
        }
        lines
    }

    /// `label` followed by `value`, the value's type shrinking from `base` towards `floor` until
    /// label and value share one line of `width` mm; at the floor the value wraps. With `hang`,
    /// continuation lines start under the value (names, URLs: they read as one unit); without,
    /// they return to the left margin as running text does in administrative documents.
    pub(super) fn labelled(
        &self,
        label: &[Run],
        value: (Face, &str),
        base: f32,
        floor: f32,
        width: f32,
        hang: bool,
    ) -> Vec<LaidLine> {
        let label_w = self.runs_width(label);
        let (face, text) = value;
        let mut size = base;
        loop {
            let value_w = self.width(face, size, text);
            if label_w + value_w <= width {
                let mut runs = label.to_vec();
                runs.push(Run::new(face, size, text));
                return vec![LaidLine {
                    indent: 0.0,
                    runs: merge_runs(runs),
                }];
            }
            if size - SHRINK_STEP_PT < floor - 1e-3 {
                break;
            }
            size -= SHRINK_STEP_PT;
        }
        let value_run = [Run::new(face, size, text)];
        // A hanging indent only helps while it leaves a reasonable measure for the value.
        let indent = if hang && label_w <= width * 0.4 {
            label_w
        } else {
            0.0
        };
        let mut lines = Vec::new();
        if indent > 0.0 {
            for (i, runs) in self
                .wrap(&value_run, width - indent, width - indent)
                .into_iter()
                .enumerate()
            {
                let runs = if i == 0 {
                    let mut with_label = label.to_vec();
                    with_label.extend(runs);
                    merge_runs(with_label)
                } else {
                    runs
                };
                lines.push(LaidLine {
                    indent: if i == 0 { 0.0 } else { indent },
                    runs,
                });
            }
        } else {
            let mut all = label.to_vec();
            all.extend(value_run);
            for runs in self.wrap(&all, width, width) {
                lines.push(LaidLine { indent: 0.0, runs });
            }
        }
        lines
    }

    /// A plain paragraph wrapped to `width` mm.
    pub(super) fn paragraph(&self, runs: &[Run], width: f32) -> Vec<LaidLine> {
        self.wrap(runs, width, width)
            .into_iter()
            .map(|runs| LaidLine { indent: 0.0, runs })
            .collect()
    }

    /// A single centred text in a column `width` mm wide: shrinks from `base` to `floor`, then
    /// wraps at the floor. Returns the lines with their size.
    pub(super) fn fit_centered(
        &self,
        face: Face,
        text: &str,
        base: f32,
        floor: f32,
        width: f32,
    ) -> Vec<(String, f32)> {
        let mut size = base;
        while self.width(face, size, text) > width && size - SHRINK_STEP_PT >= floor - 1e-3 {
            size -= SHRINK_STEP_PT;
        }
        if self.width(face, size, text) <= width {
            return vec![(text.to_string(), size)];
        }
        self.wrap(&[Run::new(face, size, text)], width, width)
            .into_iter()
            .map(|runs| (runs.into_iter().map(|r| r.text).collect::<String>(), size))
            .collect()
    }

    /// Centred block of lines in ink colour, sized by `fit_centered`; returns the baseline of the
    /// last line drawn.
    pub(super) fn centered_block(
        &mut self,
        cx: f32,
        first_baseline: f32,
        face: Face,
        text: &str,
        (base, floor): (f32, f32),
        width: f32,
    ) -> f32 {
        let mut baseline = first_baseline;
        for (i, (line, size)) in self
            .fit_centered(face, text, base, floor, width)
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                baseline += size * 1.35 * MM_PER_PT;
            }
            self.text_centered(cx, baseline, face, size, INK, &line);
        }
        baseline
    }
}

/// Joins neighbouring runs of the same face and size, so each line becomes as few text
/// operators as possible (and `pdftotext` sees whole words).
fn merge_runs(runs: Vec<Run>) -> Vec<Run> {
    let mut merged: Vec<Run> = Vec::with_capacity(runs.len());
    for run in runs {
        match merged.last_mut() {
            Some(last) if last.face == run.face && last.size == run.size => {
                last.text.push_str(&run.text)
            }
            _ => merged.push(run),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificates::pdf::fonts::fonts;

    #[test]
    fn wrap_never_exceeds_the_measure() {
        let fonts = fonts().unwrap();
        let canvas = Canvas::new(fonts);
        let runs = [Run::new(Face::Regular, 12.0, "https://cascade.example.vn/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA và chữ")];
        let lines = canvas.wrap(&runs, 40.0, 40.0);
        assert!(lines.len() > 2);
        for line in &lines {
            assert!(canvas.runs_width(line) <= 40.0 + 1e-3, "{line:?}");
        }
        let text: String = lines
            .iter()
            .map(|l| l.iter().map(|r| r.text.as_str()).collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains("và chữ"));
    }
}
