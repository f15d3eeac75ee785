//! The certificate's typeface: DejaVu Serif embedded in three faces, parsed once, and measured.

use std::sync::OnceLock;

use printpdf::{FontId, ParsedFont};

use super::PdfError;

const REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSerif.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSerif-Bold.ttf");
const ITALIC_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSerif-Italic.ttf");

/// Type is sized in points, the page is laid out in mm.
pub(super) const MM_PER_PT: f32 = 25.4 / 72.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Face {
    Regular,
    Bold,
    Italic,
}

impl Face {
    /// Fixed resource ids: printpdf's own ids are random, which would change the bytes on every
    /// render. The first six letters become the subset tag (`SERIFR+DejaVuSerif`), so they are
    /// upper-case letters as ISO 32000 asks.
    pub(super) fn id(self) -> FontId {
        FontId(
            match self {
                Face::Regular => "SERIFR",
                Face::Bold => "SERIFB",
                Face::Italic => "SERIFI",
            }
            .to_string(),
        )
    }
}

pub(super) struct Fonts {
    regular: ParsedFont,
    bold: ParsedFont,
    italic: ParsedFont,
}

impl Fonts {
    pub(super) fn get(&self, face: Face) -> &ParsedFont {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::Italic => &self.italic,
        }
    }
}

/// Parsing ~1 MB of TrueType takes longer than laying out a page, so it is done once per process.
pub(super) fn fonts() -> Result<&'static Fonts, PdfError> {
    static FONTS: OnceLock<Result<Fonts, &'static str>> = OnceLock::new();
    let parse = |bytes: &[u8], name: &'static str| {
        ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).ok_or(name)
    };
    FONTS
        .get_or_init(|| {
            Ok(Fonts {
                regular: parse(REGULAR_TTF, "DejaVuSerif.ttf")?,
                bold: parse(BOLD_TTF, "DejaVuSerif-Bold.ttf")?,
                italic: parse(ITALIC_TTF, "DejaVuSerif-Italic.ttf")?,
            })
        })
        .as_ref()
        .map_err(|name| PdfError::Font(name))
}

/// Can every face of the certificate font draw `c`, in the case it is printed in (names are
/// printed upper-cased)? Text refused here would otherwise print as an empty box.
pub fn can_draw(c: char) -> bool {
    let Ok(fonts) = fonts() else {
        // the embedded fonts always parse (a unit test proves it); rendering reports it if not
        return true;
    };
    let has = |c: char| {
        [Face::Regular, Face::Bold, Face::Italic]
            .into_iter()
            .all(|face| {
                fonts
                    .get(face)
                    .lookup_glyph_index(u32::from(c))
                    .is_some_and(|g| g != 0)
            })
    };
    has(c) && c.to_uppercase().all(has)
}

/// Advance width of `text` in mm, from the font's `hmtx` (the same widths the PDF declares).
///
/// The measured width is exactly the drawn width: the advances are the ones printpdf writes
/// into the PDF `/W` array, and printpdf applies no kerning to plain text.
pub(super) fn text_width(font: &ParsedFont, size_pt: f32, text: &str) -> f32 {
    let units_per_em = f32::from(font.font_metrics.units_per_em.max(1));
    let units: u32 = text
        .chars()
        .map(|c| {
            let gid = font.lookup_glyph_index(u32::from(c)).unwrap_or(0);
            u32::from(font.get_horizontal_advance(gid))
        })
        .sum();
    units as f32 / units_per_em * size_pt * MM_PER_PT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vietnamese_letter_has_a_glyph_in_every_face() {
        let fonts = fonts().unwrap();
        let letters = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ";
        let all: String = format!("{letters}{}", letters.to_uppercase());
        for face in [Face::Regular, Face::Bold, Face::Italic] {
            for c in all.chars() {
                assert!(
                    fonts
                        .get(face)
                        .lookup_glyph_index(u32::from(c))
                        .is_some_and(|g| g != 0),
                    "{face:?} lacks {c}"
                );
            }
        }
    }
}
