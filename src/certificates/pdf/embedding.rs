//! How one certificate embeds a face: a subset of exactly the characters it shows, numbered in
//! character order, with its widths and the ToUnicode map that gives `pdftotext` the exact text.

use super::canvas::PageContent;
use super::fonts::{Face, Fonts, NOTDEF};
use super::syntax::{hex_u16, int, literal};

/// A face as one certificate embeds it. Glyph id `i + 1` shows the `i`-th character of `chars`;
/// glyph 0 is `.notdef`.
pub(super) struct FaceSubset {
    /// Repertoire codes shown, ascending.
    codes: Vec<u16>,
    /// New glyph id of each repertoire code (0 where unused).
    glyph_of_code: Vec<u16>,
}

impl FaceSubset {
    pub(super) fn new(fonts: &Fonts, page: &PageContent, face: Face) -> Self {
        let mut codes = Vec::new();
        for (word_index, &word) in page.used[face.index()].iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                codes.push((word_index * 64) as u16 + bits.trailing_zeros() as u16);
                bits &= bits - 1;
            }
        }
        let mut glyph_of_code = vec![0u16; fonts.repertoire_len()];
        for (i, &code) in codes.iter().enumerate() {
            glyph_of_code[usize::from(code)] = i as u16 + 1;
        }
        Self {
            codes,
            glyph_of_code,
        }
    }

    /// The TrueType program: `.notdef`, the shown glyphs in order, then their components.
    pub(super) fn program(&self, fonts: &Fonts, face: Face) -> Vec<u8> {
        let font = fonts.face(face);
        let glyphs: Vec<u16> = std::iter::once(0)
            .chain(self.codes.iter().map(|&code| font.glyph_of(code)))
            .collect();
        font.program.subset(&glyphs)
    }

    /// The CIDFont `/W` array: every glyph's advance in thousandths of an em.
    pub(super) fn widths(&self, fonts: &Fonts, face: Face, out: &mut Vec<u8>) {
        let font = fonts.face(face);
        let em = f32::from(font.units_per_em);
        out.extend_from_slice(b"[0[");
        for (i, code) in std::iter::once(NOTDEF)
            .chain(self.codes.iter().copied())
            .enumerate()
        {
            if i > 0 {
                out.push(b' ');
            }
            let width = (f32::from(font.advance_of(code)) * 1000.0 / em).round();
            int(out, width as u64);
        }
        out.extend_from_slice(b"]]");
    }

    /// The ToUnicode CMap: glyph ids to the characters they show, as ranges where both run on.
    pub(super) fn to_unicode(&self, fonts: &Fonts) -> Vec<u8> {
        let mut ranges: Vec<(u16, u16, u16)> = Vec::new();
        for (i, &code) in self.codes.iter().enumerate() {
            let gid = i as u16 + 1;
            let Some(c) = fonts.char_of(code) else {
                continue;
            };
            let unit = c as u32 as u16;
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
