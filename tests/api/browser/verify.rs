//! The public verification page in a real browser: the form, the answers, accessibility, and
//! the screenshots in docs/screenshots.

use super::{Browser, Viewport};
use crate::harness::{date, spawn_app, TestApp};

fn verification_code(app: &TestApp, certificate: uuid::Uuid) -> String {
    use cascade::db::schema::certificates;
    use diesel::prelude::*;
    certificates::table
        .find(certificate)
        .select(certificates::verification_code)
        .first(&mut app.db())
        .expect("verification code")
}

#[actix_web::test]
async fn verify_page_looks_up_codes_and_passes_axe() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    let holder = app.person("gvn.trinh", "BHXH-HN", &[], "public_employee");
    let certificate = app.master_certificate(holder, date(2026, 1, 1), date(2029, 1, 1), "valid");
    let code = verification_code(&app, certificate);

    // the empty form
    browser.open("/verify").await;
    let page = browser.text().await;
    assert!(page.contains("Tra cứu giấy chứng nhận"), "{page}");
    assert!(!page.contains("Không tìm thấy"), "{page}");
    browser.assert_accessible().await;

    // a person types a code that matches nothing (the field found by its label) and submits
    browser.fill("Mã tra cứu", "khong-co-ma-nay").await;
    browser.click("Tra cứu").await;
    assert_eq!(browser.path().await, "/verify/khongcomanay");
    let page = browser.text().await;
    assert!(
        page.contains("Không tìm thấy giấy chứng nhận với mã này."),
        "{page}"
    );
    browser.assert_accessible().await;
    browser.resize(Viewport::Phone).await;
    browser.assert_accessible().await;

    // then the code of a real certificate, as printed (grouped, in lower case), by the name
    let printed: Vec<String> = code
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).to_lowercase())
        .collect();
    browser.resize(Viewport::Desktop).await;
    browser.fill("code", &printed.join("-")).await;
    browser.click("Tra cứu").await;
    let page = browser.text().await;
    assert!(page.contains("Giấy chứng nhận hợp lệ."), "{page}");
    assert!(page.contains("Giảng viên nguồn"), "{page}");
    assert!(!page.contains("Không tìm thấy"), "{page}");
    browser.assert_accessible().await;
    browser.screenshot("verify", Viewport::Desktop).await;
    browser.screenshot("verify", Viewport::Phone).await;
    browser.assert_accessible().await;
    browser.close().await;
}
