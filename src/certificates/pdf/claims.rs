//! The signed claims as a PDF attachment: embedded at render, read back from any (untrusted) PDF.

use lopdf::{Dictionary, Object};

use super::syntax::{int, literal, text_string, PdfFile};

/// File name of the embedded signed claims inside the PDF (`/EmbeddedFiles` name tree key).
pub const CLAIMS_ATTACHMENT_NAME: &str = "cascade-claims.bin";

/// Upper bound when inflating the embedded claims, so a hostile PDF cannot exhaust memory.
const MAX_CLAIMS_BYTES: usize = 4 * 1024 * 1024;

/// The file specification of the attachment (the same for every certificate), which viewers list
/// and `pdfdetach` can save, and which [`extract_embedded_claims`] follows to the file itself,
/// object `file`. The catalog's `/EmbeddedFiles` name tree points here.
pub(super) fn file_specification(d: &mut Vec<u8>, file: usize) {
    d.extend_from_slice(b"<</Type /Filespec /F ");
    literal(d, CLAIMS_ATTACHMENT_NAME.as_bytes());
    d.extend_from_slice(b" /UF ");
    text_string(d, CLAIMS_ATTACHMENT_NAME);
    d.extend_from_slice(b" /Desc ");
    text_string(
        d,
        "Signed certificate claims for offline verification (cascade verify)",
    );
    d.extend_from_slice(b" /EF <</F ");
    int(d, file as u64);
    d.extend_from_slice(b" 0 R>>>>");
}

/// The claims as an embedded file stream. Left uncompressed: the claims are small, and anyone
/// inspecting the file (or `cascade verify`) can read them with any tool.
pub(super) fn embedded_file(file: &mut PdfFile, claims: &[u8], mod_date: &str) {
    let mut d = Vec::with_capacity(160);
    d.extend_from_slice(
        b"/Type /EmbeddedFile /Subtype /application#2Foctet-stream /Params <</Size ",
    );
    int(&mut d, claims.len() as u64);
    d.extend_from_slice(b" /ModDate ");
    literal(&mut d, mod_date.as_bytes());
    d.extend_from_slice(b">> ");
    file.stream(&d, claims);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificates::pdf::render;
    use crate::certificates::pdf::samples::sample;

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
}
