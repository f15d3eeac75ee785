//! The PDF file around the page. The objects every certificate shares (catalog, page, font
//! dictionaries and descriptors, the attachment's file specification) are written once per
//! process; a certificate adds its content stream, font subsets, metadata and signed claims.

use std::sync::OnceLock;

use chrono::NaiveDate;

use super::canvas::PageContent;
use super::claims;
use super::embedding::{content_stream, FaceSubset};
use super::fonts::{Face, FaceFont, Fonts};
use super::layout::{PAGE_H, PAGE_W};
use super::syntax::{deflate, int, literal, num, text_string, PdfFile};
use super::text::clean;
use super::{CertificatePage, PdfError};

// Object numbers. 1–10 are the shared prefix; the rest are written per certificate, in this order.
const CATALOG: usize = 1;
const PAGES: usize = 2;
const PAGE: usize = 3;
const FILESPEC: usize = 4;
const TYPE0: usize = 5; // + face
const DESCRIPTOR: usize = 8; // + face
const SHARED: usize = 10;
const CONTENTS: usize = 11;
const INFO: usize = 12;
const EMBEDDED_FILE: usize = 13;
const CID_FONT: usize = 14; // + face
const FONT_FILE: usize = 17; // + face
const TO_UNICODE: usize = 20; // + face

/// The file's first bytes, up to and including the shared objects, and their offsets.
struct Prefix {
    bytes: Vec<u8>,
    offsets: Vec<usize>,
}

fn reference(out: &mut Vec<u8>, n: usize) {
    int(out, n as u64);
    out.extend_from_slice(b" 0 R");
}

fn prefix(fonts: &Fonts) -> &'static Prefix {
    static PREFIX: OnceLock<Prefix> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let mut file = PdfFile::new(8 * 1024);
        let mut d = Vec::with_capacity(512);

        d.extend_from_slice(b"<</Type /Catalog /Pages ");
        reference(&mut d, PAGES);
        d.extend_from_slice(b" /Lang (vi-VN) /Names <</EmbeddedFiles <</Names [");
        literal(&mut d, claims::CLAIMS_ATTACHMENT_NAME.as_bytes());
        d.push(b' ');
        reference(&mut d, FILESPEC);
        // Viewers then show the Vietnamese title instead of the file name.
        d.extend_from_slice(b"]>>>> /ViewerPreferences <</DisplayDocTitle true>>>>");
        file.object(&d);

        d.clear();
        d.extend_from_slice(b"<</Type /Pages /Kids [");
        reference(&mut d, PAGE);
        d.extend_from_slice(b"] /Count 1>>");
        file.object(&d);

        d.clear();
        d.extend_from_slice(b"<</Type /Page /Parent ");
        reference(&mut d, PAGES);
        d.extend_from_slice(b" /MediaBox [0 0 ");
        num(&mut d, PAGE_W * 72.0 / 25.4, 2);
        d.push(b' ');
        num(&mut d, PAGE_H * 72.0 / 25.4, 2);
        d.extend_from_slice(b"] /Resources <</Font <<");
        for face in Face::ALL {
            d.push(b'/');
            d.extend_from_slice(face.resource().as_bytes());
            d.push(b' ');
            reference(&mut d, TYPE0 + face.index());
        }
        d.extend_from_slice(b">>>> /Contents ");
        reference(&mut d, CONTENTS);
        d.extend_from_slice(b">>");
        file.object(&d);

        d.clear();
        claims::file_specification(&mut d, EMBEDDED_FILE);
        file.object(&d);

        for face in Face::ALL {
            d.clear();
            d.extend_from_slice(b"<</Type /Font /Subtype /Type0 /BaseFont /");
            d.extend_from_slice(face.base_font().as_bytes());
            d.extend_from_slice(b" /Encoding /Identity-H /DescendantFonts [");
            reference(&mut d, CID_FONT + face.index());
            d.extend_from_slice(b"] /ToUnicode ");
            reference(&mut d, TO_UNICODE + face.index());
            d.extend_from_slice(b">>");
            file.object(&d);
        }
        for face in Face::ALL {
            d.clear();
            descriptor(&mut d, face, fonts.face(face));
            file.object(&d);
        }
        debug_assert_eq!(file.offsets().len(), SHARED);
        let offsets = file.offsets().to_vec();
        Prefix {
            bytes: file.out,
            offsets,
        }
    })
}

/// The font descriptor: metrics in thousandths of an em, as ISO 32000 wants them.
fn descriptor(d: &mut Vec<u8>, face: Face, font: &FaceFont) {
    let m = &font.metrics;
    let em = f32::from(font.units_per_em);
    let scaled = |d: &mut Vec<u8>, v: i16| num(d, f32::from(v) * 1000.0 / em, 0);
    const SERIF: u32 = 1 << 1;
    const NONSYMBOLIC: u32 = 1 << 5;
    const ITALIC: u32 = 1 << 6;
    let flags = SERIF | NONSYMBOLIC | if m.italic_angle != 0.0 { ITALIC } else { 0 };
    d.extend_from_slice(b"<</Type /FontDescriptor /FontName /");
    d.extend_from_slice(face.base_font().as_bytes());
    d.extend_from_slice(b" /Flags ");
    int(d, u64::from(flags));
    d.extend_from_slice(b" /FontBBox [");
    for (i, v) in m.bbox.into_iter().enumerate() {
        if i > 0 {
            d.push(b' ');
        }
        scaled(d, v);
    }
    d.extend_from_slice(b"] /ItalicAngle ");
    num(d, m.italic_angle, 2);
    d.extend_from_slice(b" /Ascent ");
    scaled(d, m.ascent);
    d.extend_from_slice(b" /Descent ");
    scaled(d, m.descent);
    d.extend_from_slice(b" /CapHeight ");
    scaled(d, m.cap_height);
    // No table holds the stem width; this is the usual estimate from the weight class.
    d.extend_from_slice(b" /StemV ");
    int(
        d,
        50 + (f32::from(m.weight_class) / 65.0).powi(2).round() as u64,
    );
    d.extend_from_slice(b" /FontFile2 ");
    reference(d, FONT_FILE + face.index());
    d.extend_from_slice(b">>");
}

/// Writes the PDF of a drawn page. Its bytes depend on the certificate alone: the document id
/// comes from the certificate id, the dates from the issue date, and nothing is random.
pub(super) fn assemble(
    page: &CertificatePage,
    fonts: &Fonts,
    drawn: &PageContent,
) -> Result<Vec<u8>, PdfError> {
    let prefix = prefix(fonts);
    let subsets = Face::ALL.map(|face| FaceSubset::new(fonts, drawn, face));
    let mut file = PdfFile::resume(&prefix.bytes, &prefix.offsets, 32 * 1024);
    let mut d = Vec::with_capacity(2048);

    let contents = deflate(&content_stream(drawn, &subsets));
    let n = file.stream(b"/Filter /FlateDecode ", &contents);
    debug_assert_eq!(n, CONTENTS);

    let date = pdf_date(page.issued_on);
    let title = format!(
        "Giấy chứng nhận {} — {}",
        clean(&page.serial),
        clean(&page.holder_name)
    );
    d.extend_from_slice(b"<</Title ");
    text_string(&mut d, &title);
    d.extend_from_slice(b" /Subject ");
    text_string(&mut d, "Giấy chứng nhận hoàn thành khóa bồi dưỡng");
    d.extend_from_slice(b" /Creator (Cascade) /Producer (Cascade) /CreationDate ");
    literal(&mut d, date.as_bytes());
    d.extend_from_slice(b" /ModDate ");
    literal(&mut d, date.as_bytes());
    d.extend_from_slice(b">>");
    file.object(&d);

    claims::embedded_file(&mut file, &page.embedded_claims, &date);

    for (face, subset) in Face::ALL.into_iter().zip(&subsets) {
        d.clear();
        d.extend_from_slice(b"<</Type /Font /Subtype /CIDFontType2 /BaseFont /");
        d.extend_from_slice(face.base_font().as_bytes());
        d.extend_from_slice(
            b" /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>> \
              /FontDescriptor ",
        );
        reference(&mut d, DESCRIPTOR + face.index());
        d.extend_from_slice(b" /CIDToGIDMap /Identity /W ");
        subset.widths(fonts, &mut d);
        d.extend_from_slice(b">>");
        file.object(&d);
    }
    for subset in &subsets {
        let (program, length) = subset.program(fonts);
        d.clear();
        d.extend_from_slice(b"/Length1 ");
        int(&mut d, length as u64);
        d.extend_from_slice(b" /Filter /FlateDecode ");
        file.stream(&d, &program);
    }
    for subset in &subsets {
        file.stream(
            b"/Filter /FlateDecode ",
            &deflate(&subset.to_unicode(fonts)),
        );
    }
    debug_assert_eq!(file.offsets().len(), TO_UNICODE + 2);

    // Fixed file identifier from the certificate id: both halves equal, as for a file that has
    // never been modified.
    d.clear();
    d.extend_from_slice(b" /Root ");
    reference(&mut d, CATALOG);
    d.extend_from_slice(b" /Info ");
    reference(&mut d, INFO);
    d.extend_from_slice(b" /ID [");
    for _ in 0..2 {
        d.push(b'<');
        for pair in page.certificate_id.as_bytes().chunks(2) {
            super::syntax::hex_u16(&mut d, u16::from_be_bytes([pair[0], pair[1]]));
        }
        d.push(b'>');
    }
    d.push(b']');
    Ok(file.finish(&d))
}

/// PDF date of the issue day at midnight Vietnam time (UTC+7): a fixed, meaningful timestamp.
fn pdf_date(date: NaiveDate) -> String {
    format!("D:{}000000+07'00'", date.format("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use crate::certificates::pdf::render;
    use crate::certificates::pdf::samples::sample;

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
}
