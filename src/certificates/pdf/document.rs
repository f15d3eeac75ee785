//! The PDF file around the page, with bytes that depend on the certificate alone.

use chrono::NaiveDate;
use lopdf::{Dictionary, Object, StringFormat};
use printpdf::{Mm, Op, PdfDocument, PdfFont, PdfPage, PdfSaveOptions};

use super::claims::embed_claims;
use super::fonts::{Face, Fonts};
use super::layout::{PAGE_H, PAGE_W};
use super::text::clean;
use super::{CertificatePage, PdfError};

/// Saves the page as a PDF whose bytes depend on the certificate alone.
///
/// printpdf gives fonts random resource ids and writes a random `/ID`, which would change the
/// bytes of every re-download: the fonts are registered under fixed ids ([`Face::id`]), then the
/// lopdf document is post-processed (fixed `/ID` from the certificate id, dates from the issue
/// date, our own Info dictionary) before saving.
pub(super) fn assemble(
    page: &CertificatePage,
    fonts: &Fonts,
    ops: Vec<Op>,
) -> Result<Vec<u8>, PdfError> {
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
    let names = embed_claims(&mut lo, &page.embedded_claims, &date);

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
pub(super) fn text_string(s: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in clean(s).encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    Object::String(bytes, StringFormat::Hexadecimal)
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
