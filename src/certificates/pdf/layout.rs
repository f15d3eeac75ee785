//! Page geometry, and the fixed blocks drawn on it: frame, header, title, signature, verification.

use super::body;
use super::canvas::Canvas;
use super::fitting::{LaidLine, Run};
use super::fonts::{Face, MM_PER_PT};
use super::qr::{QrSymbol, QUIET_ZONE_MODULES};
use super::text::{clean, dmy, group_code, place_and_date, upper};
use super::{CertificatePage, PdfError};

// Page geometry, in mm, y measured from the TOP edge (converted to PDF coordinates when drawing).
pub(super) const PAGE_W: f32 = 297.0;
pub(super) const PAGE_H: f32 = 210.0;
const OUTER_FRAME_INSET: f32 = 7.0;
const INNER_FRAME_INSET: f32 = 9.5;
/// Centre of the issuer block (left column) and its usable width.
const LEFT_COL_CX: f32 = 80.0;
const LEFT_COL_W: f32 = 120.0;
/// Centre of the national header and of the signature block (right column) and its width.
const RIGHT_COL_CX: f32 = 214.0;
const RIGHT_COL_W: f32 = 124.0;
/// Body text column.
pub(super) const BODY_LEFT: f32 = 34.0;
pub(super) const BODY_RIGHT: f32 = 263.0;
pub(super) const BODY_FIRST_BASELINE: f32 = 82.0;
/// Baseline of the place-and-date line; the body must end above it.
const PLACE_DATE_BASELINE: f32 = 149.0;
pub(super) const BODY_LAST_BASELINE_MAX: f32 = PLACE_DATE_BASELINE - 7.0;
/// Verification block (bottom left).
const QR_LEFT: f32 = 14.0;
const QR_SYMBOL_MM: f32 = 27.0;
const QR_BOTTOM: f32 = PAGE_H - INNER_FRAME_INSET - 3.0;
const SIGNER_NAME_BASELINE: f32 = 192.0;
const _: () = assert!(
    QR_SYMBOL_MM >= 25.0 && QR_LEFT > INNER_FRAME_INSET,
    "CERTIFICATE.md asks for a QR code of at least 25 mm, inside the frame"
);

pub(super) const ACCENT: (f32, f32, f32) = (
    0x8B as f32 / 255.0,
    0x1A as f32 / 255.0,
    0x1A as f32 / 255.0,
);
pub(super) const INK: (f32, f32, f32) = (0.0, 0.0, 0.0);

const SERIAL_LABEL: &str = "Số: ";
const COUNTRY: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
const MOTTO: &str = "Độc lập - Tự do - Hạnh phúc";
const TITLE: &str = "GIẤY CHỨNG NHẬN";
const SUBTITLE: &str = "HOÀN THÀNH KHÓA BỒI DƯỠNG";
const LOOKUP_LABEL: &str = "Tra cứu: ";
const CODE_LABEL: &str = "Mã xác thực: ";
const VALID_UNTIL: &str = "Có giá trị đến ngày ";

/// Text every certificate prints, by face. Its glyphs are in every PDF, so their outlines are
/// compressed once per process instead of once per certificate (a character listed here that a
/// page does not print costs only its outline's bytes; a test checks there is none).
pub(super) fn always_printed() -> [(Face, &'static str); 14] {
    [
        (Face::Regular, SERIAL_LABEL),
        (Face::Regular, body::HOLDER_LABEL),
        (Face::Regular, body::WORKPLACE_LABEL),
        (Face::Regular, body::COURSE_LABEL),
        // the words of the programme line around its dates and place
        (
            Face::Regular,
            "(chương trình ), từ ngày / đến ngày /, tại .",
        ),
        (Face::Regular, LOOKUP_LABEL),
        (Face::Regular, CODE_LABEL),
        (Face::Bold, COUNTRY),
        (Face::Bold, MOTTO),
        (Face::Bold, TITLE),
        (Face::Bold, SUBTITLE),
        (Face::Bold, VALID_UNTIL),
        // what both tiers' capability lines share
        (
            Face::Bold,
            "Đủ điều kiện làm tuyên truyền về bảo hiểm xã hội.",
        ),
        // the words of the place-and-date line
        (Face::Italic, ", ngày  tháng  năm "),
    ]
}

pub(super) fn draw_frame(canvas: &mut Canvas) {
    canvas.frame(OUTER_FRAME_INSET, 2.4, ACCENT);
    canvas.frame(INNER_FRAME_INSET, 0.8, ACCENT);
}

pub(super) fn draw_header(canvas: &mut Canvas, page: &CertificatePage) {
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
        &format!("{SERIAL_LABEL}{}", clean(&page.serial)),
        (12.0, 8.0),
        LEFT_COL_W,
    );

    // National header, centred on itself in the right column.
    canvas.text_centered(RIGHT_COL_CX, 22.0, Face::Bold, 12.0, INK, COUNTRY);
    canvas.text_centered(RIGHT_COL_CX, 28.0, Face::Bold, 13.0, INK, MOTTO);
    // The rule under the motto is as wide as the motto.
    let motto_w = canvas.width(Face::Bold, 13.0, MOTTO);
    canvas.rule(
        RIGHT_COL_CX - motto_w / 2.0,
        RIGHT_COL_CX + motto_w / 2.0,
        31.0,
        0.6,
        INK,
    );
}

pub(super) fn draw_title(canvas: &mut Canvas) {
    canvas.text_centered(PAGE_W / 2.0, 58.0, Face::Bold, 30.0, ACCENT, TITLE);
    canvas.text_centered(PAGE_W / 2.0, 68.0, Face::Bold, 16.0, INK, SUBTITLE);
}

pub(super) fn draw_signature(canvas: &mut Canvas, page: &CertificatePage) {
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

pub(super) fn draw_verification(
    canvas: &mut Canvas,
    page: &CertificatePage,
) -> Result<(), PdfError> {
    let symbol = QrSymbol::encode(&page.verify_url)?;
    let QrGeometry {
        module,
        quiet,
        total,
    } = QrGeometry::new(symbol.width());
    let qr_top = QR_BOTTOM - total;
    canvas.qr(&symbol, QR_LEFT + quiet, qr_top + quiet, module);
    let left = QR_LEFT + total + 1.0;
    // Stay clear of the space kept for the signature and seal (about 30 mm either side of the
    // signature block's centre); the block's title lines end above this text.
    let width = RIGHT_COL_CX - 36.0 - left;
    let small = 8.0;
    let floor = 6.5;
    let r = |text: &str| Run::new(Face::Regular, small, text);
    let mut lines = Vec::new();
    lines.extend(canvas.labelled(
        &[r(LOOKUP_LABEL)],
        (Face::Regular, page.verify_url.trim()),
        small,
        7.5,
        width,
        true,
    ));
    lines.extend(canvas.labelled(
        &[r(CODE_LABEL)],
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
            format!("{VALID_UNTIL}{}", dmy(page.valid_until)),
        )],
    });
    // Set the lines against the middle of the symbol.
    let mut baseline = qr_top + total / 2.0 - (lines.len() as f32 - 1.0) * 2.2;
    for line in &lines {
        canvas.line(left, baseline, line, INK);
        baseline += line.max_size() * 1.45 * MM_PER_PT;
    }
    Ok(())
}

/// Sizes of the QR code on the page, in mm.
#[derive(Debug, Clone, Copy, PartialEq)]
struct QrGeometry {
    /// One module.
    module: f32,
    /// The light margin scanners need, on each side.
    quiet: f32,
    /// The whole square, quiet zone included.
    total: f32,
}

impl QrGeometry {
    /// `QR_SYMBOL_MM` is the dark-module area alone, so the printed size for scanning is
    /// guaranteed whatever the version; the quiet zone is added around it.
    fn new(modules: usize) -> Self {
        let module = QR_SYMBOL_MM / modules.max(1) as f32;
        let quiet = QUIET_ZONE_MODULES as f32 * module;
        Self {
            module,
            quiet,
            total: QR_SYMBOL_MM + 2.0 * quiet,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_symbol_keeps_its_printed_size_and_quiet_zone() {
        // Versions 3 to 6 cover the verification addresses.
        for modules in [29, 33, 37, 41] {
            let g = QrGeometry::new(modules);
            assert!((g.module * modules as f32 - QR_SYMBOL_MM).abs() < 1e-4);
            let expected = QR_SYMBOL_MM + 2.0 * QUIET_ZONE_MODULES as f32 * g.module;
            assert!((g.total - expected).abs() < 1e-4);
            // The square stays inside the inner frame.
            assert!(QR_BOTTOM - g.total > INNER_FRAME_INSET);
        }
    }
}
