//! The certificate's typeface: DejaVu Serif in three faces, read once per process, and measured.

use std::sync::OnceLock;

use printpdf::ParsedFont;

use super::sfnt::Sfnt;
use super::subset::FontProgram;
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
    pub(super) const ALL: [Face; 3] = [Face::Regular, Face::Bold, Face::Italic];

    pub(super) fn index(self) -> usize {
        self as usize
    }

    /// The subset tag (ISO 32000 asks for six upper-case letters) and the PostScript name.
    pub(super) fn base_font(self) -> &'static str {
        match self {
            Face::Regular => "SERIFR+DejaVuSerif",
            Face::Bold => "SERIFB+DejaVuSerif-Bold",
            Face::Italic => "SERIFI+DejaVuSerif-Italic",
        }
    }

    /// The page's resource name for the face.
    pub(super) fn resource(self) -> &'static str {
        match self {
            Face::Regular => "R",
            Face::Bold => "B",
            Face::Italic => "I",
        }
    }

    fn file(self) -> (&'static [u8], &'static str) {
        match self {
            Face::Regular => (REGULAR_TTF, "DejaVuSerif.ttf"),
            Face::Bold => (BOLD_TTF, "DejaVuSerif-Bold.ttf"),
            Face::Italic => (ITALIC_TTF, "DejaVuSerif-Italic.ttf"),
        }
    }
}

/// A character the page cannot draw: it is shown as `.notdef` (an empty box).
pub(super) const NOTDEF: u16 = u16::MAX;

/// The characters every face draws (its repertoire), and each face's glyphs for them.
pub(super) struct Fonts {
    /// The repertoire, ascending; a character's position is its code on every face.
    chars: Vec<char>,
    /// `code + 1` of each BMP character, 0 if outside the repertoire (DejaVu Serif's three
    /// faces share no character beyond the BMP).
    code_of: Vec<u16>,
    faces: [FaceFont; 3],
}

pub(super) struct FaceFont {
    /// Original glyph id of each repertoire character.
    glyph: Vec<u16>,
    /// Advance of each repertoire character, in font units.
    advance: Vec<u16>,
    notdef_advance: u16,
    pub(super) units_per_em: u16,
    pub(super) program: FontProgram,
    pub(super) metrics: DescriptorMetrics,
}

/// What a PDF font descriptor says about a face, in font units.
pub(super) struct DescriptorMetrics {
    pub(super) ascent: i16,
    pub(super) descent: i16,
    pub(super) cap_height: i16,
    pub(super) bbox: [i16; 4],
    pub(super) italic_angle: f32,
    pub(super) weight_class: u16,
}

impl Fonts {
    pub(super) fn face(&self, face: Face) -> &FaceFont {
        &self.faces[face.index()]
    }

    /// The character's code (its place in the repertoire), or [`NOTDEF`].
    pub(super) fn code(&self, c: char) -> u16 {
        match self.code_of.get(c as usize) {
            Some(&n) if n != 0 => n - 1,
            _ => NOTDEF,
        }
    }

    pub(super) fn char_of(&self, code: u16) -> Option<char> {
        self.chars.get(usize::from(code)).copied()
    }

    pub(super) fn repertoire_len(&self) -> usize {
        self.chars.len()
    }

    /// Advance width of `text` in mm at `size_pt`, from the font's `hmtx` (the widths the PDF
    /// declares and the embedded program carries). No kerning is applied, in measuring or drawing.
    pub(super) fn text_width(&self, face: Face, size_pt: f32, text: &str) -> f32 {
        let font = self.face(face);
        let units: u32 = text
            .chars()
            .map(|c| u32::from(font.advance_of(self.code(c))))
            .sum();
        units as f32 / f32::from(font.units_per_em) * size_pt * MM_PER_PT
    }
}

impl FaceFont {
    pub(super) fn glyph_of(&self, code: u16) -> u16 {
        self.glyph.get(usize::from(code)).copied().unwrap_or(0)
    }

    pub(super) fn advance_of(&self, code: u16) -> u16 {
        self.advance
            .get(usize::from(code))
            .copied()
            .unwrap_or(self.notdef_advance)
    }
}

/// Reading ~1 MB of TrueType and preparing its outlines takes longer than laying out many pages,
/// so it is done once per process.
pub(super) fn fonts() -> Result<&'static Fonts, PdfError> {
    static FONTS: OnceLock<Result<Fonts, &'static str>> = OnceLock::new();
    FONTS
        .get_or_init(load)
        .as_ref()
        .map_err(|name| PdfError::Font(name))
}

fn load() -> Result<Fonts, &'static str> {
    let parsed = Face::ALL.map(|face| {
        let (bytes, name) = face.file();
        ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).ok_or(name)
    });
    let [Ok(regular), Ok(bold), Ok(italic)] = parsed else {
        let failed = parsed.into_iter().find_map(Result::err);
        return Err(failed.unwrap_or("DejaVu Serif"));
    };
    let parsed = [regular, bold, italic];
    let glyph_for =
        |font: &ParsedFont, c: char| font.lookup_glyph_index(u32::from(c)).filter(|&g| g != 0);
    // The repertoire: what printpdf's reading of every face's cmap maps to a real glyph.
    let chars: Vec<char> = (0u32..=0xFFFF)
        .filter_map(char::from_u32)
        .filter(|&c| parsed.iter().all(|f| glyph_for(f, c).is_some()))
        .collect();
    let mut code_of = vec![0u16; 0x10000];
    for (code, &c) in chars.iter().enumerate() {
        code_of[c as usize] = code as u16 + 1;
    }
    let mut faces = Vec::with_capacity(3);
    for (face, font) in Face::ALL.into_iter().zip(&parsed) {
        let (bytes, name) = face.file();
        let sfnt = Sfnt::parse(bytes).map_err(|_| name)?;
        let program = FontProgram::new(&sfnt).map_err(|_| name)?;
        let glyph: Vec<u16> = chars
            .iter()
            .map(|&c| glyph_for(font, c).unwrap_or(0))
            .collect();
        // Measuring uses printpdf's advances; the embedded hmtx must say the same.
        let advance: Vec<u16> = glyph
            .iter()
            .map(|&g| font.get_glyph_width(g).unwrap_or(0))
            .collect();
        if glyph
            .iter()
            .zip(&advance)
            .any(|(&g, &a)| program.advance(g) != Some(a))
        {
            return Err(name);
        }
        let metrics = descriptor_metrics(&sfnt, &program, font).map_err(|_| name)?;
        faces.push(FaceFont {
            notdef_advance: font.get_glyph_width(0).unwrap_or(0),
            units_per_em: font.units_per_em.max(1),
            glyph,
            advance,
            program,
            metrics,
        });
    }
    let faces: [FaceFont; 3] = faces.try_into().map_err(|_| "DejaVu Serif")?;
    Ok(Fonts {
        chars,
        code_of,
        faces,
    })
}

fn descriptor_metrics(
    sfnt: &Sfnt,
    program: &FontProgram,
    font: &ParsedFont,
) -> Result<DescriptorMetrics, &'static str> {
    use super::sfnt::{i16_at, u16_at, u32_at};
    let head = sfnt.table(b"head")?;
    let hhea = sfnt.table(b"hhea")?;
    let post = sfnt.table(b"post")?;
    let os2 = sfnt.table(b"OS/2")?;
    let cap_height = font
        .lookup_glyph_index(u32::from('H'))
        .map_or(i16_at(hhea, 4)?, |g| program.y_max(g));
    Ok(DescriptorMetrics {
        ascent: i16_at(hhea, 4)?,
        descent: i16_at(hhea, 6)?,
        cap_height,
        bbox: [
            i16_at(head, 36)?,
            i16_at(head, 38)?,
            i16_at(head, 40)?,
            i16_at(head, 42)?,
        ],
        italic_angle: u32_at(post, 4)? as i32 as f32 / 65536.0,
        weight_class: u16_at(os2, 4)?,
    })
}

/// Can every face of the certificate font draw `c`, in the case it is printed in (names are
/// printed upper-cased)? Text refused here would otherwise print as an empty box.
///
/// Exactly the renderer's repertoire: a character outside it is drawn as `.notdef`.
pub fn can_draw(c: char) -> bool {
    let Ok(fonts) = fonts() else {
        // the embedded fonts always load (a unit test proves it); rendering reports it if not
        return true;
    };
    let has = |c: char| fonts.code(c) != NOTDEF;
    has(c) && c.to_uppercase().all(has)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIETNAMESE: &str =
        "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ";

    #[test]
    fn every_vietnamese_letter_has_a_glyph_in_every_face() {
        let fonts = fonts().unwrap();
        let all: String = format!("{VIETNAMESE}{}", VIETNAMESE.to_uppercase());
        for face in Face::ALL {
            for c in all.chars() {
                let code = fonts.code(c);
                assert_ne!(code, NOTDEF, "{c} is outside the repertoire");
                assert_ne!(fonts.face(face).glyph_of(code), 0, "{face:?} lacks {c}");
            }
        }
        for c in all.chars().chain(' '..='~') {
            assert!(can_draw(c), "{c}");
        }
    }

    /// The repertoire is what printpdf reads in every face's cmap, and measuring uses its
    /// advances: the same glyph metrics as ever, now also the ones embedded.
    #[test]
    fn the_repertoire_is_what_every_face_maps_and_nothing_else() {
        let fonts = fonts().unwrap();
        let parsed = Face::ALL
            .map(|face| ParsedFont::from_bytes(face.file().0, 0, &mut Vec::new()).unwrap());
        // DejaVu Serif's astral characters (mathematical letters) are not in all three faces.
        for cp in (0u32..=0x1FFFF).step_by(1) {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let everywhere = parsed
                .iter()
                .all(|f| f.lookup_glyph_index(cp).is_some_and(|g| g != 0));
            assert_eq!(fonts.code(c) != NOTDEF, everywhere, "U+{cp:04X}");
            if everywhere {
                for (face, f) in Face::ALL.into_iter().zip(&parsed) {
                    let g = f.lookup_glyph_index(cp).unwrap();
                    assert_eq!(fonts.face(face).glyph_of(fonts.code(c)), g);
                    assert_eq!(
                        fonts.face(face).advance_of(fonts.code(c)),
                        f.get_glyph_width(g).unwrap_or(0)
                    );
                }
            }
        }
        for c in ['😀', '王', '\u{E000}', '\t', '\u{0}'] {
            assert!(!can_draw(c), "{c:?}");
        }
    }
}
