//! The journeys of the web pages in Chromium, each through the pages alone (the fixtures are
//! the training chain's people, courses and master trainer; everything else a person does on a
//! page): a trainee's certificate from `/me` checked by `cascade verify`, a coordinator's
//! tier-2 cohort from creation to its certificates, HR's downloads from the certificate desk, a
//! revoked certificate on the public page, and a cohort address typed by someone not in it.

use std::io::Read;
use std::process::Command;

use super::steps::{self, COHORT_TITLE, GIANG, HANG, TUAN};
use super::{Browser, Viewport};
use crate::harness::spawn_app;

/// Runs `cascade verify FILE --keys KEYS`; (exit success, what it printed).
fn cascade_verify(file: &std::path::Path, keys: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .arg("verify")
        .arg(file)
        .arg("--keys")
        .arg(keys)
        .env("RUST_LOG", "error")
        .output()
        .expect("run cascade verify");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The names of a ZIP's entries, with their bytes (the archives here are small).
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a readable ZIP archive");
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index_raw(i).expect("a ZIP entry");
            let name = entry.name().expect("the entry's name").to_string();
            let mut content = Vec::new();
            // stored entries read as they are; a compressed one is only named here
            if entry.compression() == zip::CompressionMethod::Stored {
                entry.read_to_end(&mut content).expect("read a ZIP entry");
            }
            (name, content)
        })
        .collect()
}

/// 1. A trainee signs in, opens "Hồ sơ của tôi", downloads the PDF of the certificate the
///    cohort gave her from the link on the page, and `cascade verify` accepts the file with
///    the service's published keys.
#[actix_web::test]
async fn a_trainee_downloads_her_certificate_from_her_page_and_cascade_verify_accepts_it() {
    let app = spawn_app().await;
    crate::training::chain(&app).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    // the certificate comes from a cohort run on its page by the coordinator
    browser.sign_in("dieuphoi.hn").await;
    steps::run_cohort(&browser).await;
    browser.sign_out().await;

    browser.sign_in("hang.nt").await;
    browser.follow_menu("Hồ sơ của tôi").await;
    assert_eq!(browser.path().await, "/me");
    let page = browser.text().await;
    assert!(page.contains(COHORT_TITLE), "{page}");
    assert!(page.contains("87,5"), "her score: {page}");
    assert!(page.contains("hoàn thành"), "her result: {page}");
    assert!(page.contains("còn hiệu lực"), "{page}");
    let pdfs = browser
        .links("//main//a[starts-with(normalize-space(.), 'PDF')]")
        .await;
    assert_eq!(pdfs.len(), 1, "one certificate, one PDF link: {pdfs:?}");
    let (label, href) = &pdfs[0];
    // the link says, to a screen reader, which certificate it downloads
    let serial = label
        .strip_prefix("PDF giấy chứng nhận số ")
        .unwrap_or_else(|| panic!("the link's text names the certificate: {label:?}"));
    assert!(page.contains(serial), "{page}");

    let pdf = browser.download(href).await;
    assert_eq!(pdf.status, 200, "{}", String::from_utf8_lossy(&pdf.bytes));
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(
        pdf.disposition.contains("attachment"),
        "{}",
        pdf.disposition
    );
    assert!(pdf.bytes.starts_with(b"%PDF-"), "a PDF");

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("giay-chung-nhan.pdf");
    std::fs::write(&file, &pdf.bytes).expect("write the PDF");
    let keys = dir.path().join("keys.json");
    let published = app.get("/api/v1/keys", None).await;
    assert_eq!(published.status.as_u16(), 200);
    std::fs::write(&keys, &published.body).expect("write the keys");
    let (ok, out) = cascade_verify(&file, &keys);
    assert!(ok, "cascade verify refused the downloaded PDF: {out}");
    assert!(out.contains(serial), "{out}");
    browser.close().await;
}

/// 2. A coordinator creates a tier-2 cohort on `/cohorts/new`, is refused an instructor
///    without a master-trainer certificate (the rule's message shows), assigns a certified one,
///    adds a session, opens the cohort, enrols by a search without diacritics (and from a CSV
///    file), starts it, marks attendance, scores, and finalises with the confirmation (the
///    form is not sent without it); the page says how it ended and lists the certificate.
#[actix_web::test]
async fn a_coordinator_runs_a_tier2_cohort_from_creation_to_its_certificates() {
    let app = spawn_app().await;
    crate::training::chain(&app).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    browser.sign_in("dieuphoi.hn").await;
    let path = steps::create_cohort(&browser).await;

    let refusal = steps::staff_cohort(&browser).await;
    // the rule's own words, not a generic error: it names the missing certificate
    let lower = refusal.to_lowercase();
    assert!(
        lower.contains("giảng viên nguồn") || lower.contains("master-trainer"),
        "the refusal does not give the rule: {refusal:?}"
    );
    let page = browser.text().await;
    assert!(page.contains(GIANG), "{page}");
    assert!(
        !page.contains("chưa có giấy chứng nhận giảng viên nguồn"),
        "the assigned instructor is certified: {page}"
    );

    steps::add_session(&browser).await;
    steps::enrol(&browser).await;
    steps::mark(&browser).await;
    let page = browser.text().await;
    assert!(page.contains("đang học"), "{page}");
    assert!(page.contains("100 %"), "hang was there: {page}");

    let page = steps::finalise(&browser).await;
    assert!(
        page.contains("Đã kết thúc lớp: 1 hoàn thành, 1 không đạt, 1 giấy chứng nhận được cấp."),
        "{page}"
    );
    assert!(page.contains("đã kết thúc"), "the cohort's status: {page}");
    assert!(
        !page.contains("Tôi xác nhận kết thúc lớp này"),
        "no second finalising"
    );
    // her line says completed, his says failed (absent from the only session)
    let rows = browser
        .client()
        .find_all(fantoccini::Locator::XPath(
            "//table[caption[starts-with(., 'Học viên')]]/tbody/tr",
        ))
        .await
        .expect("the enrolled people's rows");
    let mut lines = Vec::new();
    for row in rows {
        lines.push(row.text().await.expect("a row's text"));
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains(HANG) && l.contains("hoàn thành") && l.contains("87,5")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(TUAN) && l.contains("không đạt") && l.contains("0 %")),
        "{lines:?}"
    );
    // the certificate issued, with its download and the cohort's ZIP
    let issued = browser
        .links("//h2[@id='giay-chung-nhan']/following-sibling::ul[1]//a")
        .await;
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert!(issued[0].0.starts_with("PDF số "), "{issued:?}");
    let page = browser.text().await;
    assert!(page.contains(&format!("— {HANG} — còn hiệu lực")), "{page}");
    assert_eq!(browser.path().await, path);
    browser.close().await;
}

/// 3. HR opens the cohort's certificates on the desk (from the cohort's page, whose address a
///    coordinator shares) and downloads the cohort's ZIP, which holds the PDFs, and an XLSX
///    export, a workbook.
#[actix_web::test]
async fn hr_downloads_a_cohorts_zip_and_an_xlsx_from_the_certificate_desk() {
    let app = spawn_app().await;
    crate::training::chain(&app).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    browser.sign_in("dieuphoi.hn").await;
    let cohort = steps::run_cohort(&browser).await;
    browser.sign_out().await;

    browser.sign_in("nhansu.hn").await;
    browser.follow_menu("Giấy chứng nhận").await;
    assert_eq!(browser.path().await, "/certificates");
    let desk = browser.text().await;
    assert!(desk.contains(HANG), "{desk}");

    browser.open(&cohort).await;
    browser.assert_status(200).await;
    browser.follow("Mở trong bàn giấy chứng nhận").await;
    assert!(
        browser.path().await.starts_with("/certificates?cohort_id="),
        "{}",
        browser.path().await
    );
    let desk = browser.text().await;
    assert!(desk.contains("1 giấy chứng nhận"), "{desk}");
    assert!(desk.contains(HANG), "{desk}");

    let zip = browser
        .download(&browser.href("Tải cả lớp (ZIP)").await)
        .await;
    assert_eq!(zip.status, 200, "{}", String::from_utf8_lossy(&zip.bytes));
    assert_eq!(zip.content_type, "application/zip");
    assert!(zip.bytes.starts_with(b"PK"), "a ZIP");
    let entries = unzip(&zip.bytes);
    assert_eq!(entries.len(), 1, "one certificate, one PDF");
    for (name, content) in &entries {
        assert!(name.ends_with(".pdf"), "{name}");
        assert!(content.starts_with(b"%PDF-"), "{name} is a PDF");
    }

    let xlsx = browser.download(&browser.href("Xuất XLSX").await).await;
    assert_eq!(xlsx.status, 200, "{}", String::from_utf8_lossy(&xlsx.bytes));
    assert_eq!(
        xlsx.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(xlsx.bytes.starts_with(b"PK"), "an XLSX is a ZIP");
    let names: Vec<String> = unzip(&xlsx.bytes).into_iter().map(|(n, _)| n).collect();
    assert!(
        names.iter().any(|n| n == "xl/workbook.xml"),
        "a workbook: {names:?}"
    );
    browser.close().await;
}

/// 4. The issuer's coordinator revokes a certificate on the desk with a reason; its holder
///    finds it revoked on "Hồ sơ của tôi", and its public page says "đã bị thu hồi" with the
///    reason, to her and to a visitor who is not signed in.
#[actix_web::test]
async fn a_revoked_certificate_shows_as_revoked_with_its_reason_on_the_public_page() {
    let app = spawn_app().await;
    crate::training::chain(&app).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    let reason = "Cấp nhầm người";
    browser.sign_in("dieuphoi.bnv").await;
    browser.follow_menu("Giấy chứng nhận").await;
    // the master trainer's is the only certificate Bộ Nội vụ has issued (the desk's filter is
    // left alone: see the ignored test below)
    let desk = browser.text().await;
    assert!(desk.contains("1 giấy chứng nhận"), "{desk}");
    assert!(desk.contains("GCN-BNV"), "{desk}");
    browser
        .press("//summary[starts-with(normalize-space(.), 'Thu hồi')]")
        .await;
    browser.fill("Lý do thu hồi", reason).await;
    browser.click("Thu hồi").await;
    browser.assert_done("Đã thu hồi giấy chứng nhận số").await;
    assert!(browser.text().await.contains("đã thu hồi"));
    browser.sign_out().await;

    browser.sign_in("giang.nv").await;
    browser.follow_menu("Hồ sơ của tôi").await;
    let page = browser.text().await;
    assert!(page.contains("đã thu hồi"), "{page}");
    let to_verify = browser
        .links("//main//a[starts-with(@href, '/verify/')]")
        .await;
    assert_eq!(to_verify.len(), 1, "{to_verify:?}");
    browser.follow(&to_verify[0].0).await;
    let public = browser.path().await;
    let page = browser.text().await;
    assert!(
        page.contains("Giấy chứng nhận đã bị thu hồi."),
        "{public}: {page}"
    );
    assert!(page.contains("Lý do thu hồi"), "{page}");
    assert!(page.contains(reason), "{page}");
    browser.sign_out().await;

    // a visitor: no session at all
    browser.open(&public).await;
    browser.assert_status(200).await;
    let page = browser.text().await;
    assert!(!page.contains("Đăng xuất"), "not signed in: {page}");
    assert!(page.contains("Giấy chứng nhận đã bị thu hồi."), "{page}");
    assert!(page.contains(reason), "{page}");
    assert!(
        page.contains(GIANG) || page.contains("Nguyễn Văn Giảng"),
        "{page}"
    );
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        browser.resize(viewport).await;
        browser.assert_accessible().await;
        browser.screenshot_page("verify-revoked", viewport).await;
    }
    browser.close().await;
}

/// 5. A trainee who types the address of a cohort she is not in sees "Không tìm thấy" (404),
///    whether she works in the cohort's own ward or in another province, and nothing of the
///    cohort; the trainee who is in it sees it at the same address.
#[actix_web::test]
async fn a_trainee_who_types_another_persons_cohort_address_sees_not_found() {
    let app = spawn_app().await;
    crate::training::chain(&app).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    browser.sign_in("dieuphoi.hn").await;
    let cohort = steps::create_cohort(&browser).await;
    browser.click("Mở nhận học viên").await;
    browser.fill("q", "nguyen van hang").await;
    browser.click("Tìm người").await;
    browser.click(&format!("Ghi danh {HANG}")).await;
    browser.assert_done(&format!("Đã ghi danh {HANG}.")).await;
    browser.sign_out().await;

    // ngoc.bt works in the same ward, khoa.dm in Hồ Chí Minh City
    for outsider in ["ngoc.bt", "khoa.dm"] {
        browser.sign_in(outsider).await;
        browser.open(&cohort).await;
        assert_eq!(browser.status().await, 404, "{outsider}");
        let page = browser.text().await;
        assert!(page.contains("Không tìm thấy"), "{outsider}: {page}");
        assert!(!page.contains(COHORT_TITLE), "{outsider}: {page}");
        assert!(!page.contains(HANG), "{outsider}: {page}");
        browser.assert_accessible().await;
        // the error page has no menu: back home, and out from there
        browser.follow("Về trang chủ").await;
        browser.sign_out().await;
    }

    browser.sign_in("hang.nt").await;
    browser.open(&cohort).await;
    browser.assert_status(200).await;
    let page = browser.text().await;
    assert!(page.contains(COHORT_TITLE), "{page}");
    assert!(
        !page.contains("Ghi danh từ tệp"),
        "a trainee gets no coordinator's form: {page}"
    );
    browser.close().await;
}

/// The certificate desk's filter form as a browser sends it: the date fields left empty go as
/// `issued_from=&issued_to=` and mean "no date filter" (they once answered 400).
#[actix_web::test]
async fn the_certificate_desk_filters_by_name_with_the_dates_left_empty() {
    let app = spawn_app().await;
    crate::training::chain(&app).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    browser.sign_in("nhansu.hn").await;
    browser.follow_menu("Giấy chứng nhận").await;
    browser
        .fill(
            "Họ tên người được cấp hoặc số giấy chứng nhận",
            "nguyen van giang",
        )
        .await;
    browser.click("Lọc").await;
    browser.assert_status(200).await;
    let desk = browser.text().await;
    assert!(desk.contains("1 giấy chứng nhận"), "{desk}");
    assert!(desk.contains("GCN-BNV"), "{desk}");
    browser.close().await;
}
