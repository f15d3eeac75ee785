//! Every main page, reached through the pages as its users reach it and filled with what a
//! cohort run leaves (instructors, a session, enrolments, marks, a certificate), checked by axe
//! at desktop and phone width, checked for nothing sticking out sideways on a 360-pixel phone,
//! and saved whole as `docs/screenshots/<page>-<desktop|phone>.png`.

use super::steps;
use super::{describe, Browser, Viewport, Violation};
use crate::harness::spawn_app;

/// What one page at one width showed.
struct Seen {
    page: String,
    viewport: Viewport,
    violations: Vec<Violation>,
    overflowing: Vec<String>,
    /// Tables that scroll sideways in their box at this width (caption, pixels out of sight).
    scrolling: Vec<(String, i64)>,
}

impl Seen {
    fn serious(&self) -> Vec<&Violation> {
        self.violations
            .iter()
            .filter(|v| matches!(v.impact.as_str(), "serious" | "critical"))
            .collect()
    }
}

/// The pages checked so far.
#[derive(Default)]
struct Audit {
    seen: Vec<Seen>,
}

impl Audit {
    /// Checks the page the window shows, at both widths, as `page` (its path and state); saves
    /// its screenshots as `screenshot` when given. The window is back at the desktop width.
    async fn check(&mut self, browser: &Browser, page: &str, screenshot: Option<&str>) {
        self.check_answer(browser, 200, page, screenshot).await;
    }

    /// [`check`](Self::check) for a page that answered `status`.
    async fn check_answer(
        &mut self,
        browser: &Browser,
        status: u16,
        page: &str,
        screenshot: Option<&str>,
    ) {
        browser.assert_status(status).await;
        for viewport in [Viewport::Desktop, Viewport::Phone] {
            browser.resize(viewport).await;
            let violations = browser.axe_all().await;
            let (overflowing, scrolling) = if viewport == Viewport::Phone {
                (browser.overflowing().await, browser.hidden_sideways().await)
            } else {
                (Vec::new(), browser.hidden_sideways().await)
            };
            if let Some(name) = screenshot {
                browser.screenshot_page(name, viewport).await;
            }
            self.seen.push(Seen {
                page: format!("{page} ({})", browser.path().await),
                viewport,
                violations,
                overflowing,
                scrolling,
            });
        }
        browser.resize(Viewport::Desktop).await;
    }

    /// Prints what axe found on each page (every impact, for the record), then fails when a
    /// page has a serious or critical violation or sticks out of a phone's width.
    fn finish(self) {
        let mut failures = String::new();
        for s in &self.seen {
            let found: Vec<String> = s
                .violations
                .iter()
                .map(|v| format!("{} ({}, {} element(s))", v.id, v.impact, v.nodes.len()))
                .collect();
            println!(
                "axe {:<7} {}: {}{}",
                s.viewport.name(),
                s.page,
                if found.is_empty() {
                    "no violation".to_string()
                } else {
                    found.join(", ")
                },
                if s.scrolling.is_empty() {
                    String::new()
                } else {
                    format!("; tables scrolling sideways: {:?}", s.scrolling)
                }
            );
            let serious = s.serious();
            if !serious.is_empty() {
                let list: Vec<Violation> = serious.into_iter().cloned().collect();
                failures.push_str(&format!(
                    "{} at {} width:\n{}",
                    s.page,
                    s.viewport.name(),
                    describe(&list)
                ));
            }
            if !s.overflowing.is_empty() {
                failures.push_str(&format!(
                    "{} at phone width sticks out sideways: {:?}\n",
                    s.page, s.overflowing
                ));
            }
        }
        assert!(failures.is_empty(), "{failures}");
    }
}

/// Every main page, with content, at desktop and phone width: no serious or critical axe
/// violation, nothing wider than a phone; the screenshots in docs/screenshots.
#[actix_web::test]
async fn every_main_page_passes_axe_and_fits_a_phone() {
    let app = spawn_app().await;
    crate::training::chain(&app).await;
    let Some(browser) = Browser::start(&app).await else {
        return;
    };
    let mut audit = Audit::default();

    // a visitor
    browser.open("/login").await;
    audit.check(&browser, "sign-in", Some("login")).await;
    browser.open("/verify").await;
    audit
        .check(&browser, "verification form", Some("verify-form"))
        .await;

    // the coordinator: the new-cohort form, the cohort page in progress and finalised, the
    // schedule of its month
    browser.sign_in("dieuphoi.hn").await;
    audit
        .check(&browser, "home of a coordinator", Some("home"))
        .await;
    browser.follow_menu("Lịch lớp").await;
    browser.follow("Tạo lớp mới").await;
    audit
        .check(&browser, "new cohort form", Some("cohort-new"))
        .await;
    steps::create_cohort(&browser).await;
    steps::staff_cohort(&browser).await;
    steps::add_session(&browser).await;
    steps::enrol(&browser).await;
    // the search's candidates shown too
    browser.fill("q", "nguyen van").await;
    browser.click("Tìm người").await;
    audit
        .check(&browser, "cohort open, with a search for people", None)
        .await;
    steps::mark(&browser).await;
    audit
        .check(
            &browser,
            "cohort in progress with instructor, session, enrolments and marks",
            Some("cohort"),
        )
        .await;
    steps::finalise(&browser).await;
    audit
        .check(&browser, "cohort finalised", Some("cohort-finalised"))
        .await;
    browser.follow_menu("Lịch lớp").await;
    browser.follow("Tháng trước").await;
    assert_eq!(browser.path().await, "/cohorts?month=2027-05");
    assert!(browser.text().await.contains(steps::COHORT_TITLE));
    audit
        .check(&browser, "schedule of May 2027", Some("cohorts"))
        .await;
    // its filters, sent as they are
    browser.click("Lọc").await;
    browser.assert_status(200).await;
    assert!(browser.text().await.contains(steps::COHORT_TITLE));
    // the campaigns, with the May campaign's form, and the targets of the unit below
    browser.follow_menu("Trang chủ").await;
    browser.follow("Chiến dịch").await;
    assert_eq!(browser.path().await, "/campaigns");
    audit
        .check(
            &browser,
            "campaigns with the new campaign form",
            Some("campaigns"),
        )
        .await;
    browser.follow_menu("Trang chủ").await;
    browser.follow("Chỉ tiêu").await;
    assert_eq!(browser.path().await, "/targets");
    audit
        .check(&browser, "targets of the units below a branch", None)
        .await;
    browser.sign_out().await;

    // the implementing agency's coordinator: the targets of its 34 branches on a phone
    browser.sign_in("dieuphoi.bhxh").await;
    browser.open("/targets").await;
    audit
        .check(&browser, "targets of the branches", Some("targets"))
        .await;
    browser.sign_out().await;

    // HR: the certificate desk, people, the coverage report
    browser.sign_in("nhansu.hn").await;
    audit.check(&browser, "home of HR", None).await;
    browser.follow_menu("Giấy chứng nhận").await;
    audit
        .check(&browser, "certificate desk of HR", Some("certificates"))
        .await;
    browser.follow_menu("Nhân sự").await;
    browser
        .fill(
            "Tìm theo họ tên hoặc tên đăng nhập (có dấu hay không dấu đều được)",
            "nguyen van hang",
        )
        .await;
    browser.click("Tìm").await;
    assert!(browser.text().await.contains(steps::HANG));
    audit
        .check(&browser, "people, found by a name", Some("people"))
        .await;
    browser.follow_menu("Báo cáo").await;
    audit
        .check(&browser, "coverage report", Some("coverage"))
        .await;
    browser.click("Xem").await;
    browser.assert_status(200).await;
    browser.follow("Xem báo cáo kết quả tuyên truyền").await;
    audit
        .check(&browser, "outreach report", Some("outreach-report"))
        .await;
    browser.click("Xem").await;
    browser.assert_status(200).await;
    browser.sign_out().await;

    // the issuer's coordinator: the desk with the forms to revoke and reissue, one opened
    browser.sign_in("dieuphoi.bnv").await;
    browser.follow_menu("Giấy chứng nhận").await;
    browser
        .press("//summary[starts-with(normalize-space(.), 'Thu hồi')]")
        .await;
    audit
        .check(
            &browser,
            "certificate desk of an issuer, revoke form open",
            Some("certificates-issuer"),
        )
        .await;
    browser.sign_out().await;

    // the trainee: home, her record, the password form (and its error), help, her
    // certificate's public page
    browser.sign_in("hang.nt").await;
    audit.check(&browser, "home of a trainee", None).await;
    // certified now, she records an outreach activity from her phone, then sees it and her list
    browser.follow("Ghi nhận hoạt động tuyên truyền").await;
    assert_eq!(browser.path().await, "/outreach/new");
    audit
        .check(&browser, "outreach entry form", Some("outreach-new"))
        .await;
    browser
        .press("//input[@name='form' and @value='door_to_door']")
        .await;
    browser.fill("Số người được tuyên truyền", "35").await;
    browser.click("Ghi nhận").await;
    assert!(browser.path().await.starts_with("/outreach/"));
    assert!(browser.text().await.contains("35"));
    audit
        .check(
            &browser,
            "an outreach entry, just recorded",
            Some("outreach-entry"),
        )
        .await;
    browser.follow_menu("Trang chủ").await;
    browser.follow("Hoạt động tuyên truyền").await;
    assert_eq!(browser.path().await, "/outreach");
    audit
        .check(&browser, "my outreach entries", Some("outreach-list"))
        .await;
    browser.follow_menu("Trang chủ").await;
    browser.follow_menu("Hồ sơ của tôi").await;
    let record = browser.text().await;
    assert!(record.contains(steps::COHORT_TITLE), "{record}");
    assert!(record.contains("PDF"), "{record}");
    audit.check(&browser, "my record", Some("me")).await;
    let to_verify = browser
        .links("//main//a[starts-with(@href, '/verify/')]")
        .await;
    assert_eq!(to_verify.len(), 1, "{to_verify:?}");
    // everything held about her, and who saw it
    browser.follow("Dữ liệu của tôi").await;
    assert_eq!(browser.path().await, "/me/data");
    assert!(browser.text().await.contains("Ai đã xem dữ liệu của tôi"));
    audit.check(&browser, "my data", Some("my-data")).await;
    browser.follow_menu("Trang chủ").await;
    browser.follow("Đổi mật khẩu").await;
    assert_eq!(browser.path().await, "/account/password");
    audit
        .check(&browser, "password form", Some("password"))
        .await;
    // a wrong current password: the form again, the field marked with its error
    browser
        .fill("Mật khẩu hiện tại", "khong-phai-mat-khau-nay")
        .await;
    browser
        .fill("Mật khẩu mới (ít nhất 10 ký tự)", "một mật khẩu mới đủ dài")
        .await;
    browser.click("Đổi mật khẩu").await;
    audit
        .check_answer(&browser, 400, "password form with an error", None)
        .await;
    browser.follow_menu("Hướng dẫn").await;
    audit.check(&browser, "help", Some("help")).await;
    browser.open(&to_verify[0].1).await;
    audit
        .check(
            &browser,
            "a valid certificate's public page, signed in",
            None,
        )
        .await;
    browser.sign_out().await;
    browser.open(&to_verify[0].1).await;
    audit
        .check(
            &browser,
            "a valid certificate's public page, as a visitor",
            Some("verify-valid"),
        )
        .await;

    // the administrator: the audit trail, filtered to the reads of personal data
    browser.sign_in("quantri").await;
    browser.follow("Nhật ký truy cập").await;
    assert_eq!(browser.path().await, "/audit");
    audit.check(&browser, "audit trail", Some("audit")).await;
    browser.sign_out().await;

    browser.close().await;
    audit.finish();
}
