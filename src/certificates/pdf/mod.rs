//! Renders a certificate page (A4 landscape) as PDF from its stored claims; same claims → same bytes.
//!
//! The layout follows `docs/CERTIFICATE.md`: issuer block and national header at the top, the
//! title, the body, then place-and-date with the signature block on the right and the verification
//! QR code on the left, inside a double frame in the accent colour.
//!
//! Design notes:
//! - Text is real text in DejaVu Serif (regular, bold, italic), embedded as subsets. printpdf maps
//!   each `char` to one glyph through the font's cmap and does no shaping or mark positioning, so
//!   every string is NFC-normalised first: Vietnamese precomposed letters all have their own glyph.
//! - Widths are measured from the same font's `hmtx` advances that end up in the PDF `/W` array, so
//!   the measured width is exactly the drawn width (printpdf applies no kerning to plain text).
//! - Determinism: printpdf gives fonts random resource ids and writes a random `/ID`; we register the
//!   fonts under fixed ids, then post-process the lopdf document (fixed `/ID` from the certificate id,
//!   dates from the issue date, our own Info dictionary) before saving.
//! - The signed claims travel as an embedded file (`/EmbeddedFiles` name tree), which viewers list
//!   as an attachment and `pdfdetach` can save, and which [`extract_embedded_claims`] reads back.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use lopdf::{Dictionary, Object, Stream, StringFormat};
use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFont,
    PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem,
};
use unicode_normalization::UnicodeNormalization;

const REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSerif.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSerif-Bold.ttf");
const ITALIC_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSerif-Italic.ttf");

/// File name of the embedded signed claims inside the PDF (`/EmbeddedFiles` name tree key).
pub const CLAIMS_ATTACHMENT_NAME: &str = "cascade-claims.bin";

/// Upper bound when inflating the embedded claims, so a hostile PDF cannot exhaust memory.
const MAX_CLAIMS_BYTES: usize = 4 * 1024 * 1024;

// Page geometry, in mm, y measured from the TOP edge (converted to PDF coordinates when drawing).
const PAGE_W: f32 = 297.0;
const PAGE_H: f32 = 210.0;
const OUTER_FRAME_INSET: f32 = 7.0;
const INNER_FRAME_INSET: f32 = 9.5;
/// Centre of the issuer block (left column) and its usable width.
const LEFT_COL_CX: f32 = 80.0;
const LEFT_COL_W: f32 = 120.0;
/// Centre of the national header and of the signature block (right column) and its width.
const RIGHT_COL_CX: f32 = 214.0;
const RIGHT_COL_W: f32 = 124.0;
/// Body text column.
const BODY_LEFT: f32 = 34.0;
const BODY_RIGHT: f32 = 263.0;
const BODY_FIRST_BASELINE: f32 = 82.0;
/// Baseline of the place-and-date line; the body must end above it.
const PLACE_DATE_BASELINE: f32 = 149.0;
const BODY_LAST_BASELINE_MAX: f32 = PLACE_DATE_BASELINE - 7.0;
/// Verification block (bottom left).
const QR_LEFT: f32 = 14.0;
const QR_SYMBOL_MM: f32 = 27.0;
const QR_BOTTOM: f32 = PAGE_H - INNER_FRAME_INSET - 3.0;
const SIGNER_NAME_BASELINE: f32 = 192.0;

const MM_PER_PT: f32 = 25.4 / 72.0;
/// Smallest type used for body text; below this a certificate stops being comfortably legible.
const BODY_FLOOR_PT: f32 = 8.5;
/// Step used when shrinking text to fit.
const SHRINK_STEP_PT: f32 = 0.5;

const ACCENT: (f32, f32, f32) = (
    0x8B as f32 / 255.0,
    0x1A as f32 / 255.0,
    0x1A as f32 / 255.0,
);
const INK: (f32, f32, f32) = (0.0, 0.0, 0.0);

/// Which programme tier the certificate is for; decides the capability line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    MasterTrainer,
    Propagandist,
}

/// An instructor of the cohort, printed on tier-2 certificates as the lineage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instructor {
    pub name: String,
    pub certificate_serial: String,
}

/// Everything printed on a certificate, as stored at issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePage {
    /// The fixed document id derives from it.
    pub certificate_id: uuid::Uuid,
    /// e.g. "000042/2027/GCN-BHXH-HN".
    pub serial: String,
    pub tier: Tier,
    /// e.g. "Bảo hiểm xã hội Việt Nam" (None for Bộ Nội vụ); printed upper-cased.
    pub issuer_parent_name: Option<String>,
    /// e.g. "Bảo hiểm xã hội Thành phố Hà Nội"; printed bold upper-cased.
    pub issuer_name: String,
    /// Printed in capitals with Unicode upper-casing.
    pub holder_name: String,
    pub holder_birth_date: Option<NaiveDate>,
    pub holder_workplace: String,
    pub course_title: String,
    pub curriculum_version: String,
    pub cohort_starts_on: NaiveDate,
    pub cohort_ends_on: NaiveDate,
    /// Where the class was held ("Hà Nội", "Trực tuyến").
    pub cohort_location: String,
    /// Place in the place-and-date line, e.g. "Hà Nội".
    pub place: String,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    /// One or two lines separated by '\n' ("KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC").
    pub signer_title: String,
    pub signer_name: String,
    /// Tier 2: printed as "Giảng viên: <name> (GCN số <serial>)" lines.
    pub instructors: Vec<Instructor>,
    /// Full URL encoded in the QR code.
    pub verify_url: String,
    /// Shown in small type, grouped for typing.
    pub verification_code: String,
    /// Opaque bytes (signed claims) embedded for offline verification.
    pub embedded_claims: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the bundled font {0} could not be parsed")]
    Font(&'static str),
    #[error("the verification URL cannot be encoded as a QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    #[error("the certificate text does not fit on the page even at the smallest type ({0})")]
    DoesNotFit(&'static str),
    #[error("the PDF could not be assembled: {0}")]
    Assemble(String),
}

/// "Hà Nội, ngày 05 tháng 02 năm 2027": days < 10 and months 1 and 2 take a leading zero.
///
/// The rules for administrative documents (Nghị định 30/2020/NĐ-CP) zero-pad days below 10 and
/// months 1 and 2 only, so that "01"/"02" cannot be turned into "11"/"12"; other months are bare.
pub fn place_and_date(place: &str, date: NaiveDate) -> String {
    let month = date.month();
    let month = if month <= 2 {
        format!("{month:02}")
    } else {
        month.to_string()
    };
    format!(
        "{}, ngày {:02} tháng {} năm {}",
        clean(place),
        date.day(),
        month,
        date.year()
    )
}

/// Renders the certificate as a one-page PDF. Same page → byte-identical output.
pub fn render(page: &CertificatePage) -> Result<Vec<u8>, PdfError> {
    let fonts = fonts()?;
    let mut canvas = Canvas::new(fonts);
    draw_frame(&mut canvas);
    draw_header(&mut canvas, page);
    draw_title(&mut canvas);
    draw_body(&mut canvas, page)?;
    draw_signature(&mut canvas, page);
    draw_verification(&mut canvas, page)?;
    assemble(page, fonts, canvas.ops)
}

/// Reads back the `embedded_claims` bytes from a PDF produced by `render` (None if absent/unreadable).
pub fn extract_embedded_claims(pdf: &[u8]) -> Option<Vec<u8>> {
    let doc = lopdf::Document::load_mem(pdf).ok()?;
    let root = doc.trailer.get(b"Root").ok()?;
    let catalog = deref_dict(&doc, root)?;
    let names = deref_dict(&doc, catalog.get(b"Names").ok()?)?;
    let embedded = deref_dict(&doc, names.get(b"EmbeddedFiles").ok()?)?;
    let entries = deref(&doc, embedded.get(b"Names").ok()?)?.as_array().ok()?;
    // A flat name tree of (key, file specification) pairs: that is what `render` writes.
    let spec = entries.chunks_exact(2).find_map(|pair| match pair {
        [key, value] if key.as_str().ok()? == CLAIMS_ATTACHMENT_NAME.as_bytes() => Some(value),
        _ => None,
    })?;
    let spec = deref_dict(&doc, spec)?;
    let ef = deref_dict(&doc, spec.get(b"EF").ok()?)?;
    let stream = deref(&doc, ef.get(b"F").ok()?)?.as_stream().ok()?;
    let bytes = stream
        .decompressed_content_with_limit(MAX_CLAIMS_BYTES)
        .ok()?;
    // The declared size guards against a truncated or tampered stream being taken as the claims.
    let declared = stream
        .dict
        .get(b"Params")
        .ok()
        .and_then(|p| deref_dict(&doc, p))
        .and_then(|p| p.get(b"Size").ok())
        .and_then(|s| s.as_i64().ok());
    match declared {
        Some(size) if usize::try_from(size).ok() == Some(bytes.len()) => Some(bytes),
        _ => None,
    }
}

fn deref<'a>(doc: &'a lopdf::Document, obj: &'a Object) -> Option<&'a Object> {
    doc.dereference(obj).ok().map(|(_, o)| o)
}

fn deref_dict<'a>(doc: &'a lopdf::Document, obj: &'a Object) -> Option<&'a Dictionary> {
    deref(doc, obj)?.as_dict().ok()
}

// ---------------------------------------------------------------------------------------------
// Text helpers

/// NFC with whitespace runs (including stray newlines and tabs) collapsed to one space: the PDF
/// must carry precomposed letters, and control characters have no glyph.
fn clean(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Unicode upper-casing, re-normalised: `to_uppercase` may emit decomposed sequences for a few
/// letters, and the glyph lookup needs precomposed ones.
fn upper(s: &str) -> String {
    clean(s).to_uppercase().nfc().collect()
}

fn dmy(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// Groups a verification code in blocks of four for people who type it, unless it already
/// carries its own separators.
fn group_code(code: &str) -> String {
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains('-') {
        return compact;
    }
    compact
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

// ---------------------------------------------------------------------------------------------
// Fonts

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
    Italic,
}

impl Face {
    /// Fixed resource ids: printpdf's own ids are random, which would change the bytes on every
    /// render. The first six letters become the subset tag (`SERIFR+DejaVuSerif`), so they are
    /// upper-case letters as ISO 32000 asks.
    fn id(self) -> FontId {
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

struct Fonts {
    regular: ParsedFont,
    bold: ParsedFont,
    italic: ParsedFont,
}

impl Fonts {
    fn get(&self, face: Face) -> &ParsedFont {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::Italic => &self.italic,
        }
    }
}

/// Parsing ~1 MB of TrueType takes longer than laying out a page, so it is done once per process.
fn fonts() -> Result<&'static Fonts, PdfError> {
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
fn text_width(font: &ParsedFont, size_pt: f32, text: &str) -> f32 {
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

// ---------------------------------------------------------------------------------------------
// Runs and line breaking

/// A piece of text in one face and size.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    face: Face,
    size: f32,
    text: String,
}

impl Run {
    fn new(face: Face, size: f32, text: impl Into<String>) -> Self {
        Self {
            face,
            size,
            text: text.into(),
        }
    }
}

/// A laid-out line: runs drawn left to right from `indent` mm after the column's left edge.
#[derive(Debug, Clone, PartialEq)]
struct LaidLine {
    indent: f32,
    runs: Vec<Run>,
}

impl LaidLine {
    fn max_size(&self) -> f32 {
        self.runs.iter().map(|r| r.size).fold(0.0, f32::max)
    }
}

struct Canvas<'a> {
    fonts: &'a Fonts,
    ops: Vec<Op>,
    fill: Option<(f32, f32, f32)>,
}

impl<'a> Canvas<'a> {
    fn new(fonts: &'a Fonts) -> Self {
        Self {
            fonts,
            ops: Vec::new(),
            fill: None,
        }
    }

    fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        text_width(self.fonts.get(face), size, text)
    }

    fn runs_width(&self, runs: &[Run]) -> f32 {
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

    fn text_centered(
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

    fn line(&mut self, left: f32, baseline: f32, line: &LaidLine, rgb: (f32, f32, f32)) {
        let mut x = left + line.indent;
        for run in &line.runs {
            self.text(x, baseline, run.face, run.size, rgb, &run.text);
            x += self.width(run.face, run.size, &run.text);
        }
    }

    /// Horizontal rule from `x0` to `x1` mm at `y` mm below the top edge.
    fn rule(&mut self, x0: f32, x1: f32, y: f32, thickness_pt: f32, rgb: (f32, f32, f32)) {
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

    fn frame(&mut self, inset: f32, thickness_pt: f32, rgb: (f32, f32, f32)) {
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
    fn labelled(
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
    fn paragraph(&self, runs: &[Run], width: f32) -> Vec<LaidLine> {
        self.wrap(runs, width, width)
            .into_iter()
            .map(|runs| LaidLine { indent: 0.0, runs })
            .collect()
    }

    /// A single centred text in a column `width` mm wide: shrinks from `base` to `floor`, then
    /// wraps at the floor. Returns the lines with their size.
    fn fit_centered(
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
    fn centered_block(
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

fn rgb_color((r, g, b): (f32, f32, f32)) -> Color {
    Color::Rgb(Rgb {
        r,
        g,
        b,
        icc_profile: None,
    })
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

// ---------------------------------------------------------------------------------------------
// Page parts

fn draw_frame(canvas: &mut Canvas) {
    canvas.frame(OUTER_FRAME_INSET, 2.4, ACCENT);
    canvas.frame(INNER_FRAME_INSET, 0.8, ACCENT);
}

fn draw_header(canvas: &mut Canvas, page: &CertificatePage) {
    // Issuer block, centred on itself in the left column.
    let mut y = 22.0;
    if let Some(parent) = page
        .issuer_parent_name
        .as_deref()
        .map(upper)
        .filter(|p| !p.is_empty())
    {
        y = canvas.centered_block(
            LEFT_COL_CX,
            y,
            Face::Regular,
            &parent,
            (12.0, 9.0),
            LEFT_COL_W,
        );
        y += 6.0;
    }
    let issuer = upper(&page.issuer_name);
    let issuer_lines = canvas.fit_centered(Face::Bold, &issuer, 12.0, 9.0, LEFT_COL_W);
    let mut widest: f32 = 0.0;
    for (i, (line, size)) in issuer_lines.iter().enumerate() {
        if i > 0 {
            y += size * 1.35 * MM_PER_PT;
        }
        widest = widest.max(canvas.width(Face::Bold, *size, line));
        canvas.text_centered(LEFT_COL_CX, y, Face::Bold, *size, INK, line);
    }
    // The short rule under the issuer: a third of its name, as in administrative documents.
    let half = (widest / 3.0).max(22.0) / 2.0;
    canvas.rule(LEFT_COL_CX - half, LEFT_COL_CX + half, y + 3.0, 0.6, INK);
    canvas.centered_block(
        LEFT_COL_CX,
        y + 9.5,
        Face::Regular,
        &format!("Số: {}", clean(&page.serial)),
        (12.0, 8.0),
        LEFT_COL_W,
    );

    // National header, centred on itself in the right column.
    let country = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
    let motto = "Độc lập - Tự do - Hạnh phúc";
    canvas.text_centered(RIGHT_COL_CX, 22.0, Face::Bold, 12.0, INK, country);
    canvas.text_centered(RIGHT_COL_CX, 28.0, Face::Bold, 13.0, INK, motto);
    // The rule under the motto is as wide as the motto.
    let motto_w = canvas.width(Face::Bold, 13.0, motto);
    canvas.rule(
        RIGHT_COL_CX - motto_w / 2.0,
        RIGHT_COL_CX + motto_w / 2.0,
        31.0,
        0.6,
        INK,
    );
}

fn draw_title(canvas: &mut Canvas) {
    canvas.text_centered(
        PAGE_W / 2.0,
        58.0,
        Face::Bold,
        30.0,
        ACCENT,
        "GIẤY CHỨNG NHẬN",
    );
    canvas.text_centered(
        PAGE_W / 2.0,
        68.0,
        Face::Bold,
        16.0,
        INK,
        "HOÀN THÀNH KHÓA BỒI DƯỠNG",
    );
}

/// How the instructor lineage is set: one line each, or (when the page runs out of room) one
/// wrapped paragraph.
#[derive(Clone, Copy, PartialEq, Eq)]
enum InstructorStyle {
    OnePerLine,
    Joined,
}

fn draw_body(canvas: &mut Canvas, page: &CertificatePage) -> Result<(), PdfError> {
    let width = BODY_RIGHT - BODY_LEFT;
    // Try the comfortable size first, then smaller type and tighter leading until the body fits
    // above the place-and-date line.
    for style in [InstructorStyle::OnePerLine, InstructorStyle::Joined] {
        let mut size = 13.0;
        while size >= BODY_FLOOR_PT - 1e-3 {
            let leading = if size >= 12.0 { 1.55 } else { 1.4 };
            let lines = body_lines(canvas, page, size, width, style);
            let mut baselines = Vec::with_capacity(lines.len());
            let mut baseline = BODY_FIRST_BASELINE;
            for (i, line) in lines.iter().enumerate() {
                if i > 0 {
                    baseline += line.max_size().max(size) * leading * MM_PER_PT;
                }
                baselines.push(baseline);
            }
            if baseline <= BODY_LAST_BASELINE_MAX {
                // A short body moves down a little so the page does not look top-heavy.
                let shift = ((BODY_LAST_BASELINE_MAX - baseline) / 2.0).min(6.0);
                for (line, baseline) in lines.iter().zip(baselines) {
                    canvas.line(BODY_LEFT, baseline + shift, line, INK);
                }
                return Ok(());
            }
            size -= SHRINK_STEP_PT;
        }
    }
    Err(PdfError::DoesNotFit("body"))
}

fn body_lines(
    canvas: &Canvas,
    page: &CertificatePage,
    size: f32,
    width: f32,
    style: InstructorStyle,
) -> Vec<LaidLine> {
    let r = |text: &str| Run::new(Face::Regular, size, text);
    let floor = (size - 2.0).max(BODY_FLOOR_PT);
    let mut lines = Vec::new();

    lines.extend(canvas.labelled(
        &[r("Chứng nhận Ông (Bà): ")],
        (Face::Bold, &upper(&page.holder_name)),
        size + 2.0,
        floor,
        width,
        true,
    ));
    if let Some(birth) = page.holder_birth_date {
        lines.extend(canvas.paragraph(&[r("Sinh ngày: "), r(&dmy(birth))], width));
    }
    lines.extend(canvas.labelled(
        &[r("Đơn vị công tác: ")],
        (Face::Regular, &clean(&page.holder_workplace)),
        size,
        floor,
        width,
        false,
    ));
    lines.extend(canvas.labelled(
        &[r("Đã hoàn thành khóa bồi dưỡng: ")],
        (Face::Bold, &clean(&page.course_title)),
        size,
        floor,
        width,
        false,
    ));
    lines.extend(canvas.paragraph(
        &[r(&format!(
            "(chương trình {}), từ ngày {} đến ngày {}, tại {}.",
            clean(&page.curriculum_version),
            dmy(page.cohort_starts_on),
            dmy(page.cohort_ends_on),
            clean(&page.cohort_location)
        ))],
        width,
    ));
    let capability = match page.tier {
        Tier::MasterTrainer => "Đủ điều kiện làm giảng viên nguồn về tuyên truyền bảo hiểm xã hội.",
        Tier::Propagandist => "Đủ điều kiện làm tuyên truyền viên về bảo hiểm xã hội.",
    };
    lines.extend(canvas.paragraph(&[Run::new(Face::Bold, size, capability)], width));

    let lineage: Vec<String> = page
        .instructors
        .iter()
        .map(|i| {
            format!(
                "{} (GCN số {})",
                clean(&i.name),
                clean(&i.certificate_serial)
            )
        })
        .collect();
    match style {
        InstructorStyle::OnePerLine => {
            for entry in &lineage {
                lines.extend(canvas.labelled(
                    &[r("Giảng viên: ")],
                    (Face::Regular, entry),
                    size,
                    size,
                    width,
                    true,
                ));
            }
        }
        InstructorStyle::Joined if !lineage.is_empty() => {
            lines.extend(canvas.labelled(
                &[r("Giảng viên: ")],
                (Face::Regular, &lineage.join("; ")),
                size,
                size,
                width,
                true,
            ));
        }
        InstructorStyle::Joined => {}
    }
    lines
}

fn draw_signature(canvas: &mut Canvas, page: &CertificatePage) {
    let place_date = place_and_date(&page.place, page.issued_on);
    let mut y = canvas.centered_block(
        RIGHT_COL_CX,
        PLACE_DATE_BASELINE,
        Face::Italic,
        &place_date,
        (12.5, 9.0),
        RIGHT_COL_W,
    );
    for title_line in page
        .signer_title
        .lines()
        .map(upper)
        .filter(|l| !l.is_empty())
    {
        y = canvas.centered_block(
            RIGHT_COL_CX,
            y + 6.5,
            Face::Bold,
            &title_line,
            (12.5, 9.0),
            RIGHT_COL_W,
        );
    }
    // The space between the title and the name is left for the signature and the seal.
    canvas.centered_block(
        RIGHT_COL_CX,
        SIGNER_NAME_BASELINE,
        Face::Bold,
        &clean(&page.signer_name),
        (13.0, 9.0),
        RIGHT_COL_W,
    );
}

fn draw_verification(canvas: &mut Canvas, page: &CertificatePage) -> Result<(), PdfError> {
    let (ops, placement) = qr::qr_ops(&page.verify_url, QR_LEFT, PAGE_H - QR_BOTTOM, QR_SYMBOL_MM)?;
    canvas.ops.extend(ops);
    // The QR code painted its own fill colour inside a saved graphics state.
    canvas.fill = None;
    let qr_top = QR_BOTTOM - placement.total_mm;
    let left = QR_LEFT + placement.total_mm + 1.0;
    // Stay clear of the space kept for the signature and seal (about 30 mm either side of the
    // signature block's centre); the block's title lines end above this text.
    let width = RIGHT_COL_CX - 36.0 - left;
    let small = 8.0;
    let floor = 6.5;
    let r = |text: &str| Run::new(Face::Regular, small, text);
    let mut lines = Vec::new();
    lines.extend(canvas.labelled(
        &[r("Tra cứu: ")],
        (Face::Regular, page.verify_url.trim()),
        small,
        7.5,
        width,
        true,
    ));
    lines.extend(canvas.labelled(
        &[r("Mã xác thực: ")],
        (Face::Bold, &group_code(&page.verification_code)),
        small,
        floor,
        width,
        true,
    ));
    lines.push(LaidLine {
        indent: 0.0,
        runs: vec![Run::new(
            Face::Bold,
            9.0,
            format!("Có giá trị đến ngày {}", dmy(page.valid_until)),
        )],
    });
    // Set the lines against the middle of the symbol.
    let mut baseline = qr_top + placement.total_mm / 2.0 - (lines.len() as f32 - 1.0) * 2.2;
    for line in &lines {
        canvas.line(left, baseline, line, INK);
        baseline += line.max_size() * 1.45 * MM_PER_PT;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Document assembly

fn assemble(page: &CertificatePage, fonts: &Fonts, ops: Vec<Op>) -> Result<Vec<u8>, PdfError> {
    let title = format!(
        "Giấy chứng nhận {} — {}",
        clean(&page.serial),
        clean(&page.holder_name)
    );
    let mut doc = PdfDocument::new(&title);
    for face in [Face::Regular, Face::Bold, Face::Italic] {
        doc.resources
            .fonts
            .map
            .insert(face.id(), PdfFont::new(fonts.get(face).clone()));
    }
    doc.with_pages(vec![PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops)]);

    let opts = PdfSaveOptions {
        optimize: true,
        subset_fonts: true,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lo = doc.to_lopdf_document(&opts, &mut warnings);
    // PDF 1.7: /Lang and embedded files need 1.4+, and printpdf starts from 1.3.
    lo.version = "1.7".to_string();

    let date = pdf_date(page.issued_on);
    let mut info = Dictionary::new();
    info.set("Title", text_string(&title));
    info.set(
        "Subject",
        text_string("Giấy chứng nhận hoàn thành khóa bồi dưỡng"),
    );
    info.set("Creator", text_string("Cascade"));
    info.set("Producer", text_string("Cascade (printpdf)"));
    info.set(
        "CreationDate",
        Object::String(date.clone().into_bytes(), StringFormat::Literal),
    );
    info.set(
        "ModDate",
        Object::String(date.clone().into_bytes(), StringFormat::Literal),
    );
    // Replace printpdf's Info dictionary in place, so no orphan object is written.
    let info_id = lo
        .trailer
        .get(b"Info")
        .and_then(Object::as_reference)
        .map_err(|e| PdfError::Assemble(format!("no Info dictionary: {e}")))?;
    lo.objects.insert(info_id, Object::Dictionary(info));

    // The signed claims as an embedded file.
    let mut params = Dictionary::new();
    params.set("Size", Object::Integer(page.embedded_claims.len() as i64));
    params.set(
        "ModDate",
        Object::String(date.into_bytes(), StringFormat::Literal),
    );
    let mut file_dict = Dictionary::new();
    file_dict.set("Type", Object::Name(b"EmbeddedFile".to_vec()));
    file_dict.set(
        "Subtype",
        Object::Name(b"application/octet-stream".to_vec()),
    );
    file_dict.set("Params", Object::Dictionary(params));
    // Left uncompressed: the claims are small JSON, and anyone inspecting the file (or
    // `cascade verify`) can read them with any tool.
    let file_id = lo.add_object(Object::Stream(
        Stream::new(file_dict, page.embedded_claims.clone()).with_compression(false),
    ));
    let mut ef = Dictionary::new();
    ef.set("F", Object::Reference(file_id));
    let mut spec = Dictionary::new();
    spec.set("Type", Object::Name(b"Filespec".to_vec()));
    spec.set(
        "F",
        Object::String(
            CLAIMS_ATTACHMENT_NAME.as_bytes().to_vec(),
            StringFormat::Literal,
        ),
    );
    spec.set("UF", text_string(CLAIMS_ATTACHMENT_NAME));
    spec.set(
        "Desc",
        text_string("Signed certificate claims for offline verification (cascade verify)"),
    );
    spec.set("EF", Object::Dictionary(ef));
    let spec_id = lo.add_object(Object::Dictionary(spec));
    let mut embedded = Dictionary::new();
    embedded.set(
        "Names",
        Object::Array(vec![
            Object::String(
                CLAIMS_ATTACHMENT_NAME.as_bytes().to_vec(),
                StringFormat::Literal,
            ),
            Object::Reference(spec_id),
        ]),
    );
    let mut names = Dictionary::new();
    names.set("EmbeddedFiles", Object::Dictionary(embedded));

    let catalog_id = lo
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|e| PdfError::Assemble(format!("no document catalog: {e}")))?;
    let catalog = lo
        .get_dictionary_mut(catalog_id)
        .map_err(|e| PdfError::Assemble(format!("document catalog: {e}")))?;
    catalog.set(
        "Lang",
        Object::String(b"vi-VN".to_vec(), StringFormat::Literal),
    );
    catalog.set("Names", Object::Dictionary(names));
    let mut prefs = Dictionary::new();
    // Viewers then show the Vietnamese title instead of the file name.
    prefs.set("DisplayDocTitle", Object::Boolean(true));
    catalog.set("ViewerPreferences", Object::Dictionary(prefs));

    // Fixed file identifier from the certificate id: both halves equal, as for a file that has
    // never been modified. printpdf's random one would break byte-identical re-downloads.
    let id = page.certificate_id.as_bytes().to_vec();
    lo.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(id.clone(), StringFormat::Hexadecimal),
            Object::String(id, StringFormat::Hexadecimal),
        ]),
    );

    lo.compress();
    let mut out = Vec::new();
    lo.save_to(&mut out)
        .map_err(|e| PdfError::Assemble(e.to_string()))?;
    Ok(out)
}

/// PDF date of the issue day at midnight Vietnam time (UTC+7): a fixed, meaningful timestamp.
fn pdf_date(date: NaiveDate) -> String {
    format!("D:{}000000+07'00'", date.format("%Y%m%d"))
}

/// A PDF text string in UTF-16BE with byte-order mark, so Vietnamese survives in metadata.
fn text_string(s: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in clean(s).encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    Object::String(bytes, StringFormat::Hexadecimal)
}

// ---------------------------------------------------------------------------------------------
// QR code

/// The verification QR code, drawn as one filled vector path.
///
/// A vector path instead of an image keeps the symbol sharp at any print size, needs no image
/// codec, and has no per-render random resource ids (printpdf names image XObjects randomly),
/// which keeps the PDF byte-identical across renders.
mod qr {
    use printpdf::{
        Color, LinePoint, Mm, Op, PaintMode, Point, Polygon, PolygonRing, Rgb, WindingOrder,
    };
    use qrcode::{EcLevel, QrCode};

    /// Light modules around the symbol that must stay empty for scanners to find it (ISO/IEC 18004).
    pub const QUIET_ZONE_MODULES: usize = 4;

    /// Where a QR symbol was placed and how big it came out.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct QrPlacement {
        /// Outer size of the square, quiet zone included, in mm.
        pub total_mm: f32,
        /// Size of one module in mm.
        pub module_mm: f32,
    }

    /// Paints `data` as a QR symbol. `(left_mm, bottom_mm)` is the lower-left corner of the square
    /// *including* the quiet zone (PDF coordinates, origin bottom-left); `symbol_mm` is the width of
    /// the dark-module area alone, so callers can guarantee a minimum printed size for scanning.
    ///
    /// Error correction level M: survives a stamp or a fold across a corner of the code while keeping
    /// the modules large enough for phone cameras at ~60-character URLs.
    pub fn qr_ops(
        data: &str,
        left_mm: f32,
        bottom_mm: f32,
        symbol_mm: f32,
    ) -> Result<(Vec<Op>, QrPlacement), qrcode::types::QrError> {
        let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)?;
        let width = code.width();
        let colors = code.to_colors();
        let module = symbol_mm / width as f32;
        let quiet = QUIET_ZONE_MODULES as f32 * module;
        let total = symbol_mm + 2.0 * quiet;
        // Top edge of the symbol proper; rows are counted downwards from it.
        let symbol_top = bottom_mm + total - quiet;
        let symbol_left = left_mm + quiet;

        // One rectangle per horizontal run of dark modules: far fewer path segments than one square
        // per module, which keeps the content stream small.
        let mut rings = Vec::new();
        for (row, row_colors) in colors.chunks(width).enumerate() {
            let mut col = 0;
            while col < row_colors.len() {
                if row_colors[col] != qrcode::Color::Dark {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < row_colors.len() && row_colors[col] == qrcode::Color::Dark {
                    col += 1;
                }
                let x0 = symbol_left + start as f32 * module;
                let x1 = symbol_left + col as f32 * module;
                let y1 = symbol_top - row as f32 * module;
                let y0 = y1 - module;
                rings.push(PolygonRing {
                    points: [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
                        .into_iter()
                        .map(|(x, y)| LinePoint {
                            p: Point::new(Mm(x), Mm(y)),
                            bezier: false,
                        })
                        .collect(),
                });
            }
        }

        let ops = vec![
            Op::SaveGraphicsState,
            Op::SetFillColor {
                col: Color::Rgb(Rgb {
                    r: 0.0,
                    g: 0.0,
                    b: 0.0,
                    icc_profile: None,
                }),
            },
            Op::DrawPolygon {
                polygon: Polygon {
                    rings,
                    mode: PaintMode::Fill,
                    winding_order: WindingOrder::NonZero,
                },
            },
            Op::RestoreGraphicsState,
        ];
        Ok((
            ops,
            QrPlacement {
                total_mm: total,
                module_mm: module,
            },
        ))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn symbol_keeps_requested_size_and_quiet_zone() {
            let (ops, placement) =
                qr_ops("https://cascade.example/verify/K7Q2ABCD", 10.0, 10.0, 26.0).unwrap();
            assert_eq!(ops.len(), 4);
            let expected = 26.0 + 2.0 * QUIET_ZONE_MODULES as f32 * placement.module_mm;
            assert!((placement.total_mm - expected).abs() < 1e-4);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    pub(crate) fn sample() -> CertificatePage {
        CertificatePage {
            certificate_id: uuid::Uuid::from_u128(0x6f1c_2a4e_8b3d_4e5f_9a1b_2c3d_4e5f_6a7b),
            serial: "000042/2027/GCN-BHXH-HN".into(),
            tier: Tier::Propagandist,
            issuer_parent_name: Some("Bảo hiểm xã hội Việt Nam".into()),
            issuer_name: "Bảo hiểm xã hội Thành phố Hà Nội".into(),
            holder_name: "Nguyễn Thị Hằng".into(),
            holder_birth_date: Some(date(1985, 4, 12)),
            holder_workplace: "Bảo hiểm xã hội Thành phố Hà Nội".into(),
            course_title: "Bồi dưỡng tuyên truyền viên về BHXH".into(),
            curriculum_version: "Luật BHXH 2024".into(),
            cohort_starts_on: date(2027, 5, 10),
            cohort_ends_on: date(2027, 5, 11),
            cohort_location: "Hà Nội".into(),
            place: "Hà Nội".into(),
            issued_on: date(2027, 5, 11),
            valid_until: date(2029, 5, 10),
            signer_title: "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC".into(),
            signer_name: "Trần Văn Ký".into(),
            instructors: vec![Instructor {
                name: "Nguyễn Văn Giảng".into(),
                certificate_serial: "000001/2027/GCN-BNV".into(),
            }],
            verify_url: "https://cascade.bhxh.example.vn/verify/K7Q2ABCDEFGH2345JKMN".into(),
            verification_code: "K7Q2ABCDEFGH2345JKMN".into(),
            embedded_claims:
                b"eyJhbGciOiJFZERTQSJ9.eyJzZXJpYWwiOiIwMDAwNDIifQ.c2lnbmF0dXJl\x00\xff binary tail"
                    .to_vec(),
        }
    }

    fn long_sample() -> CertificatePage {
        let mut page = sample();
        // 60 characters.
        page.holder_name = "Tôn Nữ Hoàng Thị Phương Thảo Nguyễn Trần Lê Phạm Huỳnh Hoàng".into();
        assert_eq!(page.holder_name.chars().count(), 60);
        // 160 characters.
        let title = "Bồi dưỡng nghiệp vụ tuyên truyền, phổ biến chính sách pháp luật về bảo hiểm xã hội, bảo hiểm y tế, bảo hiểm thất nghiệp cho đội ngũ tuyên truyền viên cơ sở năm 2027";
        page.course_title = title.chars().take(160).collect();
        assert_eq!(page.course_title.chars().count(), 160);
        page.holder_workplace = "Trung tâm Dịch vụ hành chính công và Chăm sóc khách hàng, Bảo hiểm xã hội Thành phố Hồ Chí Minh".into();
        page.instructors.push(Instructor {
            name: "Lê Thị Hương Giang".into(),
            certificate_serial: "000002/2027/GCN-BNV".into(),
        });
        page
    }

    #[test]
    fn place_and_date_pads_days_and_first_two_months() {
        assert_eq!(
            place_and_date("Hà Nội", date(2027, 2, 5)),
            "Hà Nội, ngày 05 tháng 02 năm 2027"
        );
        assert_eq!(
            place_and_date("Hà Nội", date(2027, 5, 11)),
            "Hà Nội, ngày 11 tháng 5 năm 2027"
        );
        assert_eq!(
            place_and_date("Hà Nội", date(2027, 12, 25)),
            "Hà Nội, ngày 25 tháng 12 năm 2027"
        );
        assert_eq!(
            place_and_date("Hà Nội", date(2028, 1, 1)),
            "Hà Nội, ngày 01 tháng 01 năm 2028"
        );
        assert_eq!(
            place_and_date("Huế", date(2027, 10, 9)),
            "Huế, ngày 09 tháng 10 năm 2027"
        );
    }

    #[test]
    fn same_page_same_bytes() {
        let a = render(&sample()).unwrap();
        let b = render(&sample()).unwrap();
        assert_eq!(a, b);
        assert!(a.starts_with(b"%PDF-1.7"));
        // A different certificate id changes the document id.
        let mut other = sample();
        other.certificate_id = uuid::Uuid::from_u128(1);
        assert_ne!(render(&other).unwrap(), a);
    }

    #[test]
    fn embedded_claims_round_trip() {
        let page = sample();
        let pdf = render(&page).unwrap();
        assert_eq!(
            extract_embedded_claims(&pdf),
            Some(page.embedded_claims.clone())
        );

        let mut big = sample();
        big.embedded_claims = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let pdf = render(&big).unwrap();
        assert_eq!(extract_embedded_claims(&pdf), Some(big.embedded_claims));

        let mut empty = sample();
        empty.embedded_claims = Vec::new();
        assert_eq!(
            extract_embedded_claims(&render(&empty).unwrap()),
            Some(Vec::new())
        );

        assert_eq!(extract_embedded_claims(b"not a pdf"), None);
        assert_eq!(extract_embedded_claims(&pdf[..pdf.len() / 2]), None);
    }

    /// Every field at the longest the API accepts, and the most instructors a cohort takes:
    /// the page must still fit, so issuing can never fail on layout.
    #[test]
    fn the_longest_accepted_fields_still_fit() {
        let mut page = sample();
        let words = |n: usize| -> String {
            let mut s = String::new();
            while s.chars().count() < n {
                s.push_str("Nguyễn Hoàng ");
            }
            s.chars().take(n).collect::<String>().trim().to_string()
        };
        page.holder_name = words(80);
        page.course_title = words(200);
        page.curriculum_version = words(60);
        page.cohort_location = words(150);
        page.holder_workplace = words(150);
        page.issuer_name = words(150);
        page.issuer_parent_name = Some(words(150));
        page.signer_name = words(80);
        page.signer_title = format!("{}\n{}", words(40), words(40));
        page.instructors = (0..crate::domain::training::MAX_INSTRUCTORS)
            .map(|i| Instructor {
                name: words(80),
                certificate_serial: format!("{:06}/2027/GCN-BNV", i + 1),
            })
            .collect();
        render(&page).unwrap();
    }

    #[test]
    fn long_name_and_title_render() {
        let page = long_sample();
        let pdf = render(&page).unwrap();
        assert_eq!(
            extract_embedded_claims(&pdf),
            Some(page.embedded_claims.clone())
        );
        let mut tier1 = long_sample();
        tier1.tier = Tier::MasterTrainer;
        tier1.instructors.clear();
        tier1.issuer_parent_name = None;
        tier1.issuer_name = "Bộ Nội vụ".into();
        render(&tier1).unwrap();
    }

    #[test]
    fn body_lines_stay_inside_the_column() {
        let fonts = fonts().unwrap();
        let canvas = Canvas::new(fonts);
        let width = BODY_RIGHT - BODY_LEFT;
        let mut extreme = long_sample();
        // No spaces at all: must still be broken, between characters.
        extreme.holder_name = "Ư".repeat(120);
        for page in [sample(), long_sample(), extreme] {
            for size in [13.0, 11.5, BODY_FLOOR_PT] {
                for style in [InstructorStyle::OnePerLine, InstructorStyle::Joined] {
                    for line in body_lines(&canvas, &page, size, width, style) {
                        let right = line.indent + canvas.runs_width(&line.runs);
                        assert!(right <= width + 1e-3, "{right} > {width}: {line:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn many_instructors_still_fit() {
        let mut page = long_sample();
        page.instructors = (1..=8)
            .map(|i| Instructor {
                name: format!("Giảng viên thứ {i}"),
                certificate_serial: format!("{i:06}/2027/GCN-BNV"),
            })
            .collect();
        render(&page).unwrap();
    }

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

    #[test]
    fn text_helpers() {
        assert_eq!(upper("Nguyễn Thị Hằng"), "NGUYỄN THỊ HẰNG");
        // Decomposed input comes out precomposed.
        assert_eq!(upper("Nguye\u{302}\u{303}n"), "NGUYỄN");
        assert_eq!(group_code("K7Q2ABCDEFGH23"), "K7Q2-ABCD-EFGH-23");
        assert_eq!(group_code("K7Q2-ABCD"), "K7Q2-ABCD");
        assert_eq!(clean(" a \n b\t"), "a b");
    }

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

    /// Checks with poppler and zbar when they are installed (skipped with a note otherwise).
    #[test]
    fn external_tools_agree() {
        use std::process::Command;
        let have = |tool: &str| Command::new(tool).arg("-v").output().is_ok();
        if !(have("pdftotext")
            && have("pdffonts")
            && have("pdftoppm")
            && Command::new("zbarimg").arg("--version").output().is_ok())
        {
            eprintln!("note: poppler-utils/zbar-tools not installed; external checks skipped");
            return;
        }
        let dir = std::env::temp_dir().join(format!("certpdf-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, page) in [("sample", sample()), ("long", long_sample())] {
            let pdf_path = dir.join(format!("{name}.pdf"));
            std::fs::write(&pdf_path, render(&page).unwrap()).unwrap();

            let fonts = Command::new("pdffonts").arg(&pdf_path).output().unwrap();
            let fonts = String::from_utf8_lossy(&fonts.stdout).to_string();
            let font_rows: Vec<&str> = fonts.lines().filter(|l| l.contains("DejaVu")).collect();
            assert_eq!(font_rows.len(), 3, "{fonts}");
            for row in font_rows {
                assert!(
                    row.contains("yes yes"),
                    "font not an embedded subset: {row}"
                );
            }

            let text = Command::new("pdftotext")
                .args(["-layout"])
                .arg(&pdf_path)
                .arg("-")
                .output()
                .unwrap();
            let text = String::from_utf8(text.stdout).unwrap();
            for needle in [
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                "Độc lập - Tự do - Hạnh phúc",
                "GIẤY CHỨNG NHẬN",
                "HOÀN THÀNH KHÓA BỒI DƯỠNG",
                "000042/2027/GCN-BHXH-HN",
                "Đủ điều kiện làm tuyên truyền viên về bảo hiểm xã hội.",
                "Hà Nội, ngày 11 tháng 5 năm 2027",
                "Có giá trị đến ngày 10/05/2029",
            ] {
                assert!(
                    text.contains(needle),
                    "{name}: missing {needle:?} in\n{text}"
                );
            }
            if name == "sample" {
                assert!(text.contains("NGUYỄN THỊ HẰNG"), "{text}");
                assert!(
                    text.contains("Giảng viên: Nguyễn Văn Giảng (GCN số 000001/2027/GCN-BNV)"),
                    "{text}"
                );
            }

            let png_base = dir.join(name);
            let status = Command::new("pdftoppm")
                .args(["-r", "200", "-png", "-singlefile"])
                .arg(&pdf_path)
                .arg(&png_base)
                .status()
                .unwrap();
            assert!(status.success());
            let zbar = Command::new("zbarimg")
                .args(["-q", "--raw"])
                .arg(png_base.with_extension("png"))
                .output()
                .unwrap();
            let decoded = String::from_utf8(zbar.stdout).unwrap();
            assert_eq!(decoded.trim_end_matches('\n'), page.verify_url);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
