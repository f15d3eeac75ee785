//! How one certificate embeds a face: a subset of exactly the characters it shows, with its widths
//! and the ToUnicode map that gives `pdftotext` the exact text.
//!
//! Glyph ids: 0 is `.notdef`; then the characters every certificate prints in that face (the
//! fixed part, the same ids in every PDF, its outlines compressed once per process); then the
//! other characters this certificate shows; both in character order.

use std::sync::OnceLock;

use super::canvas::PageContent;
use super::fonts::{Face, Fonts, NOTDEF};
use super::layout::always_printed;
use super::subset::FixedPart;
use super::syntax::{hex_u16, int, literal};

/// What every certificate embeds of a face.
pub(super) struct FixedGlyphs {
    /// Repertoire codes, ascending; code `codes[i]` has glyph id `i + 1`.
    codes: Vec<u16>,
    /// A bit per repertoire code in `codes`.
    bits: Vec<u64>,
    part: FixedPart,
    /// The `/W` array's first entry (`.notdef` and the fixed characters), the array still open.
    widths: Vec<u8>,
}

fn fixed_glyphs(fonts: &Fonts) -> &'static [FixedGlyphs; 3] {
    static FIXED: OnceLock<[FixedGlyphs; 3]> = OnceLock::new();
    FIXED.get_or_init(|| {
        Face::ALL.map(|face| {
            let font = fonts.face(face);
            let mut codes: Vec<u16> = always_printed()
                .iter()
                .filter(|(f, _)| *f == face)
                .flat_map(|(_, text)| text.chars().map(|c| fonts.code(c)))
                .filter(|&code| code != NOTDEF)
                .collect();
            codes.sort_unstable();
            codes.dedup();
            let mut bits = vec![0u64; fonts.repertoire_len().div_ceil(64)];
            for &code in &codes {
                bits[usize::from(code / 64)] |= 1 << (code % 64);
            }
            let glyphs: Vec<u16> = std::iter::once(0)
                .chain(codes.iter().map(|&code| font.glyph_of(code)))
                .collect();
            let part = font.program.fixed_part(&glyphs);
            // `.notdef` and the fixed characters; their components are never shown.
            let mut widths = b"[0[".to_vec();
            for (i, &gid) in glyphs.iter().enumerate() {
                if i > 0 {
                    widths.push(b' ');
                }
                width(
                    &mut widths,
                    font.program.advance(gid).unwrap_or(0),
                    font.units_per_em,
                );
            }
            widths.push(b']');
            FixedGlyphs {
                codes,
                bits,
                part,
                widths,
            }
        })
    })
}

/// An advance in font units as thousandths of an em.
fn width(out: &mut Vec<u8>, advance: u16, units_per_em: u16) {
    int(
        out,
        (f32::from(advance) * 1000.0 / f32::from(units_per_em)).round() as u64,
    );
}

/// A face as one certificate embeds it.
pub(super) struct FaceSubset {
    face: Face,
    fixed: &'static FixedGlyphs,
    /// Codes shown beyond the fixed part, ascending; `added[i]` has glyph id `fixed.part.len() + i`.
    added: Vec<u16>,
    /// Glyph id of each repertoire code shown (0 elsewhere).
    glyph_of_code: Vec<u16>,
}

impl FaceSubset {
    pub(super) fn new(fonts: &Fonts, page: &PageContent, face: Face) -> Self {
        let fixed = &fixed_glyphs(fonts)[face.index()];
        let mut added = Vec::new();
        for (word_index, (&used, &fixed_bits)) in
            page.used[face.index()].iter().zip(&fixed.bits).enumerate()
        {
            let mut bits = used & !fixed_bits;
            while bits != 0 {
                added.push((word_index * 64) as u16 + bits.trailing_zeros() as u16);
                bits &= bits - 1;
            }
        }
        let mut glyph_of_code = vec![0u16; fonts.repertoire_len()];
        for (i, &code) in fixed.codes.iter().enumerate() {
            glyph_of_code[usize::from(code)] = i as u16 + 1;
        }
        let first_added = fixed.part.len();
        for (i, &code) in added.iter().enumerate() {
            glyph_of_code[usize::from(code)] = (first_added + i) as u16;
        }
        Self {
            face,
            fixed,
            added,
            glyph_of_code,
        }
    }

    /// The TrueType program as a `/FlateDecode` stream, and its length uncompressed.
    pub(super) fn program(&self, fonts: &Fonts) -> (Vec<u8>, usize) {
        let font = fonts.face(self.face);
        let glyphs: Vec<u16> = self.added.iter().map(|&code| font.glyph_of(code)).collect();
        font.program.subset(&self.fixed.part, &glyphs)
    }

    /// The CIDFont `/W` array: the advance of every glyph shown, in thousandths of an em.
    pub(super) fn widths(&self, fonts: &Fonts, out: &mut Vec<u8>) {
        let font = fonts.face(self.face);
        out.extend_from_slice(&self.fixed.widths);
        if !self.added.is_empty() {
            out.push(b' ');
            int(out, self.fixed.part.len() as u64);
            out.push(b'[');
            for (i, &code) in self.added.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                width(out, font.advance_of(code), font.units_per_em);
            }
            out.push(b']');
        }
        out.push(b']');
    }

    /// The ToUnicode CMap: glyph ids to the characters they show, as ranges where both run on.
    pub(super) fn to_unicode(&self, fonts: &Fonts) -> Vec<u8> {
        let first_added = self.fixed.part.len();
        let shown = self
            .fixed
            .codes
            .iter()
            .enumerate()
            .map(|(i, &code)| (i + 1, code))
            .chain(
                self.added
                    .iter()
                    .enumerate()
                    .map(|(i, &code)| (first_added + i, code)),
            );
        let mut ranges: Vec<(u16, u16, u16)> = Vec::new();
        for (gid, code) in shown {
            let Some(c) = fonts.char_of(code) else {
                continue;
            };
            let (gid, unit) = (gid as u16, c as u32 as u16);
            match ranges.last_mut() {
                // A range may only vary in its last byte, on both sides.
                Some((start, last, first_unit))
                    if *last + 1 == gid
                        && first_unit.wrapping_add(gid - *start) == unit
                        && *last & 0xFF != 0xFF
                        && unit & 0xFF != 0 =>
                {
                    *last = gid;
                }
                _ => ranges.push((gid, gid, unit)),
            }
        }
        let mut out = Vec::with_capacity(300 + ranges.len() * 20);
        out.extend_from_slice(
            b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
              /CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n\
              /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
              1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        for block in ranges.chunks(100) {
            int(&mut out, block.len() as u64);
            out.extend_from_slice(b" beginbfrange\n");
            for &(start, end, unit) in block {
                for v in [start, end, unit] {
                    out.push(b'<');
                    hex_u16(&mut out, v);
                    out.extend_from_slice(b"> ");
                }
                out.pop();
                out.push(b'\n');
            }
            out.extend_from_slice(b"endbfrange\n");
        }
        out.extend_from_slice(
            b"endcmap\nCMapName currentdict /CMapResource defineresource pop\nend\nend\n",
        );
        out
    }
}

/// The page's content stream, each text string written as the subset glyph ids of its face.
pub(super) fn content_stream(page: &PageContent, subsets: &[FaceSubset; 3]) -> Vec<u8> {
    let mut out = Vec::with_capacity(page.ops.len() + page.codes.len() * 2 + 256);
    let mut copied = 0;
    let mut bytes = Vec::with_capacity(256);
    for run in &page.runs {
        out.extend_from_slice(&page.ops[copied..run.at]);
        copied = run.at;
        let subset = &subsets[run.face.index()];
        bytes.clear();
        for &code in &page.codes[run.codes.clone()] {
            let gid = subset
                .glyph_of_code
                .get(usize::from(code))
                .copied()
                .unwrap_or(0);
            bytes.extend_from_slice(&gid.to_be_bytes());
        }
        literal(&mut out, &bytes);
    }
    out.extend_from_slice(&page.ops[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificates::pdf::canvas::Canvas;
    use crate::certificates::pdf::fonts::fonts;
    use crate::certificates::pdf::samples::sample;
    use crate::certificates::pdf::{body, layout, Tier};

    /// The fixed part is worth its place only if its characters are printed on every page: a
    /// label changed without `always_printed` would show here.
    #[test]
    fn what_is_always_printed_is_printed_on_every_page() {
        let fonts = fonts().unwrap();
        let mut tier1 = sample();
        tier1.tier = Tier::MasterTrainer;
        tier1.instructors.clear();
        tier1.holder_birth_date = None;
        for page in [sample(), tier1] {
            let mut canvas = Canvas::new(fonts);
            layout::draw_frame(&mut canvas);
            layout::draw_header(&mut canvas, &page);
            layout::draw_title(&mut canvas);
            body::draw_body(&mut canvas, &page).unwrap();
            layout::draw_signature(&mut canvas, &page);
            layout::draw_verification(&mut canvas, &page).unwrap();
            let drawn = canvas.into_page();
            for face in Face::ALL {
                let fixed = &fixed_glyphs(fonts)[face.index()];
                for (word, (&used, &bits)) in
                    drawn.used[face.index()].iter().zip(&fixed.bits).enumerate()
                {
                    let missing = bits & !used;
                    assert_eq!(
                        missing,
                        0,
                        "{face:?}: {:?} always printed but not on this page",
                        (0..64)
                            .filter(|b| missing >> b & 1 == 1)
                            .filter_map(|b| fonts.char_of((word * 64 + b) as u16))
                            .collect::<String>()
                    );
                }
            }
        }
    }
}
