//! Renders a certificate page (A4 landscape) as PDF from its stored claims; same claims → same bytes.

mod body;
mod canvas;
mod claims;
mod document;
mod embedding;
mod fitting;
mod fonts;
mod layout;
mod qr;
#[cfg(test)]
mod samples;
mod sfnt;
mod subset;
mod syntax;
mod text;

use chrono::NaiveDate;

pub use claims::{extract_embedded_claims, CLAIMS_ATTACHMENT_NAME};
pub use fonts::can_draw;
pub use text::place_and_date;

use canvas::Canvas;

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

/// Renders the certificate as a one-page PDF. Same page → byte-identical output.
///
/// The layout follows `docs/CERTIFICATE.md`: issuer block and national header at the top, the
/// title, the body, then place-and-date with the signature block on the right and the verification
/// QR code on the left, inside a double frame in the accent colour. Text is real text in DejaVu
/// Serif (regular, bold, italic), embedded as subsets; the signed claims travel as an attachment.
pub fn render(page: &CertificatePage) -> Result<Vec<u8>, PdfError> {
    let fonts = fonts::fonts()?;
    let mut canvas = Canvas::new(fonts);
    layout::draw_frame(&mut canvas);
    layout::draw_header(&mut canvas, page);
    layout::draw_title(&mut canvas);
    body::draw_body(&mut canvas, page)?;
    layout::draw_signature(&mut canvas, page);
    layout::draw_verification(&mut canvas, page)?;
    document::assemble(page, fonts, &canvas.into_page())
}

#[cfg(test)]
mod tests {
    use super::samples::{long_sample, sample};
    use super::*;

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

    /// Whether poppler-utils and zbar-tools can be run. A missing one fails the test with the
    /// package to install, unless a developer sets `CASCADE_ALLOW_MISSING_TOOLS=1` (CI never
    /// does): then the checks skip with a warning. The integration tests follow the same rule
    /// (`require_tools` in tests/api/harness.rs).
    fn external_tools_present() -> bool {
        use std::io::Write;
        let mut missing = Vec::new();
        let mut packages = Vec::new();
        for (tool, package) in [
            ("pdffonts", "poppler-utils"),
            ("pdftoppm", "poppler-utils"),
            ("pdftotext", "poppler-utils"),
            ("zbarimg", "zbar-tools"),
            ("qpdf", "qpdf"),
        ] {
            // `-v` prints a version or usage; only whether the program starts matters here
            if let Err(e) = std::process::Command::new(tool).arg("-v").output() {
                missing.push(format!("{tool} ({e})"));
                packages.push(package);
            }
        }
        if missing.is_empty() {
            return true;
        }
        packages.dedup();
        let message = format!(
            "cannot run {}: install with `apt-get install {}` (.ci/run does)",
            missing.join(", "),
            packages.join(" ")
        );
        if std::env::var("CASCADE_ALLOW_MISSING_TOOLS").as_deref() == Ok("1") {
            // straight to the process's stderr: the test harness would swallow an `eprintln!`
            let _ = writeln!(
                std::io::stderr(),
                "WARNING: CHECKS SKIPPED: {message}; CASCADE_ALLOW_MISSING_TOOLS=1 allows it"
            );
            false
        } else {
            panic!(
                "{message}, or set CASCADE_ALLOW_MISSING_TOOLS=1 to skip these checks on purpose"
            );
        }
    }

    /// The page as poppler, zbar and qpdf read it: a well-formed file (qpdf finds no syntax or
    /// stream error), embedded subset fonts, real text, a QR that decodes.
    #[test]
    fn external_tools_agree() {
        use std::process::Command;
        if !external_tools_present() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("certpdf-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, page) in [("sample", sample()), ("long", long_sample())] {
            let pdf_path = dir.join(format!("{name}.pdf"));
            std::fs::write(&pdf_path, render(&page).unwrap()).unwrap();

            let check = Command::new("qpdf")
                .arg("--check")
                .arg(&pdf_path)
                .output()
                .unwrap();
            let report = String::from_utf8_lossy(&check.stdout).to_string();
            assert!(
                check.status.success() && report.contains("No syntax or stream encoding errors"),
                "{name}: qpdf --check: {report}{}",
                String::from_utf8_lossy(&check.stderr)
            );

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

    /// Every Vietnamese letter, lower and upper case, in each of the three faces (regular:
    /// workplace; bold: course title and the upper-cased name; italic: the place), reads back
    /// exactly through `pdftotext`.
    #[test]
    fn every_vietnamese_letter_reads_back_exactly_in_every_face() {
        use std::process::Command;
        if !external_tools_present() {
            return;
        }
        let lower = [
            "aàáảãạ",
            "ăằắẳẵặ",
            "âầấẩẫậ",
            "eèéẻẽẹ",
            "êềếểễệ",
            "iìíỉĩị",
            "oòóỏõọ",
            "ôồốổỗộ",
            "ơờớởỡợ",
            "uùúủũụ",
            "ưừứửữự",
            "yỳýỷỹỵ",
            "đ",
        ];
        let upper: Vec<String> = lower.iter().map(|g| g.to_uppercase()).collect();
        let groups: Vec<String> = lower
            .iter()
            .map(|g| g.to_string())
            .chain(upper.iter().cloned())
            .collect();
        let all = groups.join(" ");
        assert_eq!(all.chars().filter(|c| *c != ' ').count(), 2 * (12 * 6 + 1));
        let mut page = sample();
        page.holder_workplace = all.clone();
        page.course_title = all.clone();
        page.holder_name = lower.join(" ");
        page.place = all.clone();
        let pdf = render(&page).unwrap();
        let path = std::env::temp_dir().join(format!("certpdf-letters-{}.pdf", std::process::id()));
        std::fs::write(&path, &pdf).unwrap();
        let text = Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        let text = String::from_utf8(text.stdout).unwrap();
        let words: Vec<&str> = text.split_whitespace().collect();
        // Each group appears as a word: once from the workplace, once from the course title,
        // once from the place (and the upper-case ones once more from the name).
        for group in &groups {
            let found = words
                .iter()
                .filter(|w| w.trim_end_matches(',') == group.as_str())
                .count();
            let expected = if upper.contains(group) { 4 } else { 3 };
            assert_eq!(found, expected, "{group:?} in\n{text}");
        }
    }

    /// The longest name and course title the API accepts, in real Vietnamese words with many
    /// different letters, still make a PDF of at most 30 KB.
    #[test]
    fn a_certificate_with_the_longest_name_and_title_stays_under_30_kb() {
        use crate::domain::text::limits;
        let take = |text: &str, n: usize| -> String {
            let mut s = String::new();
            while s.chars().count() < n {
                s.push_str(text);
                s.push(' ');
            }
            s.chars().take(n).collect::<String>().trim_end().to_string()
        };
        let mut page = long_sample();
        page.holder_name = take(
            "Tôn Nữ Hoàng Thị Phương Thảo Nguyễn Trần Lê Phạm Huỳnh Võ Đặng Bùi Đỗ Hồ Ngô \
             Dương Lý Khúc Quỳnh Ngọc Ánh Tuyết Ưng Yến Xuân",
            limits::FULL_NAME,
        );
        page.course_title = take(
            "Bồi dưỡng nghiệp vụ tuyên truyền, vận động người dân tham gia bảo hiểm xã hội \
             tự nguyện, bảo hiểm y tế hộ gia đình; kỹ năng giải đáp chế độ ốm đau, thai sản, \
             tai nạn lao động, hưu trí, tử tuất và quyền lợi khi nghỉ việc",
            limits::COURSE_TITLE,
        );
        assert_eq!(page.holder_name.chars().count(), limits::FULL_NAME);
        assert_eq!(page.course_title.chars().count(), limits::COURSE_TITLE);
        let pdf = render(&page).unwrap();
        assert!(pdf.len() <= 30 * 1024, "{} bytes", pdf.len());
    }
}
