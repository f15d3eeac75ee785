//! What the journeys do again and again, as a person does it on the pages: signing in and out,
//! the fields `fill` cannot type (a choice in a list, a date, a time, a tick box, a file), links
//! in one part of the page, a download with the browser's own session, a full-page screenshot,
//! and a tier-2 cohort run through its page step by step.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::{json, Value};

use super::{xpath_literal, Browser, Viewport, SCREENSHOTS};
use crate::harness::PASSWORD;

/// A file the browser fetched with its own cookies, as a click on the link would.
pub struct Download {
    pub status: u16,
    pub content_type: String,
    pub disposition: String,
    pub bytes: Vec<u8>,
}

/// The tallest page a full-page screenshot shows (longer pages are cut there).
const TALLEST: u32 = 9000;

impl Browser {
    /// Signs in on `/login` with the fixtures' password; the home page follows.
    pub async fn sign_in(&self, username: &str) {
        self.open("/login").await;
        self.fill("Tên đăng nhập", username).await;
        self.fill("Mật khẩu", PASSWORD).await;
        self.click("Đăng nhập").await;
        assert_eq!(
            self.path().await,
            "/",
            "{username} was not signed in: {}",
            self.text().await
        );
    }

    /// Signs out with the menu's button; the sign-in page follows.
    pub async fn sign_out(&self) {
        self.click("Đăng xuất").await;
        assert_eq!(self.path().await, "/login");
    }

    /// Follows the link of the main menu whose text is `text`.
    pub async fn follow_menu(&self, text: &str) {
        let xpath = format!("//nav//a[normalize-space(.)={}]", xpath_literal(text));
        self.click_found(&xpath, "menu link", text).await;
        self.assert_status(200).await;
    }

    /// Clicks the one element `xpath` finds (a `<summary>`, say) without waiting for a new page.
    pub async fn press(&self, xpath: &str) {
        let found = self
            .client
            .find_all(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("cannot look for {xpath}: {e}"));
        assert_eq!(found.len(), 1, "{xpath} on {}", self.path().await);
        found[0]
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {xpath}: {e}"));
    }

    /// Chooses, in the list named or labelled `field`, the one option whose text contains
    /// `option`.
    pub async fn choose(&self, field: &str, option: &str) {
        let select = self.field(field).await;
        let xpath = format!(
            ".//option[contains(normalize-space(.), {})]",
            xpath_literal(option)
        );
        let options = select
            .find_all(Locator::XPath(&xpath))
            .await
            .expect("options of the list");
        assert_eq!(
            options.len(),
            1,
            "options of {field:?} containing {option:?} on {}",
            self.path().await
        );
        options[0]
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot choose {option:?} in {field:?}: {e}"));
        let chosen = options[0].is_selected().await.expect("option state");
        assert!(chosen, "{option:?} was not chosen in {field:?}");
    }

    /// Sets a date (`YYYY-MM-DD`) or time (`HH:MM`) field to `value`, as its picker does.
    /// Typed keys would land in the picker's parts in the order of the machine's locale
    /// (day/month/year here, month/day/year elsewhere), so the test would depend on it; the
    /// picker's outcome is this value, which is what the form sends.
    pub async fn pick(&self, field: &str, value: &str) {
        let element = self.field(field).await;
        let set = self
            .client
            .execute(
                "const [e, v] = arguments; e.value = v; \
                 e.dispatchEvent(new Event('input', { bubbles: true })); \
                 e.dispatchEvent(new Event('change', { bubbles: true })); \
                 return e.value;",
                vec![
                    serde_json::to_value(&element).expect("element"),
                    json!(value),
                ],
            )
            .await
            .unwrap_or_else(|e| panic!("cannot set {field:?}: {e}"));
        assert_eq!(
            set.as_str(),
            Some(value),
            "{field:?} did not take {value:?} (outside its min and max?)"
        );
    }

    /// Ticks the box named or labelled `field` (it stays ticked if it was).
    pub async fn tick(&self, field: &str) {
        let element = self.field(field).await;
        if !element.is_selected().await.expect("tick box state") {
            element
                .click()
                .await
                .unwrap_or_else(|e| panic!("cannot tick {field:?}: {e}"));
        }
        assert!(element.is_selected().await.expect("tick box state"));
    }

    /// Chooses `file` in the file field named or labelled `field`.
    pub async fn attach(&self, field: &str, file: &Path) {
        let element = self.field(field).await;
        element
            .send_keys(&file.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("cannot attach {} to {field:?}: {e}", file.display()));
    }

    /// Each link that `xpath` finds: its text as a person reads it and its `href` as written.
    pub async fn links(&self, xpath: &str) -> Vec<(String, String)> {
        let found = self
            .client
            .find_all(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("cannot look for {xpath}: {e}"));
        let mut links = Vec::new();
        for a in found {
            let text = a
                .prop("textContent")
                .await
                .expect("text of a link")
                .unwrap_or_default();
            let href = a.attr("href").await.expect("href").unwrap_or_default();
            links.push((text.split_whitespace().collect::<Vec<_>>().join(" "), href));
        }
        links
    }

    /// The `href` of the one link whose text as a person reads it (hidden words included) is
    /// `text`.
    pub async fn href(&self, text: &str) -> String {
        let xpath = format!("//a[normalize-space(.)={}]", xpath_literal(text));
        let found = self.links(&xpath).await;
        assert_eq!(found.len(), 1, "links {text:?} on {}", self.path().await);
        found[0].1.clone()
    }

    /// The HTTP status of the page the window shows (Chromium's navigation timing says it).
    pub async fn status(&self) -> u16 {
        let status = self
            .client
            .execute(
                "return performance.getEntriesByType('navigation')[0].responseStatus",
                vec![],
            )
            .await
            .expect("the page's status");
        status
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .expect("a status")
    }

    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> impl std::future::Future<Output = ()> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            let status = self.status().await;
            if status != expected {
                panic!(
                    "{} answered {status}, not {expected} (at {caller}): {}",
                    self.path().await,
                    self.text().await
                );
            }
        }
    }

    /// Fetches `href` from the page, with the browser's cookies, as following the link would.
    pub async fn download(&self, href: &str) -> Download {
        use base64::Engine;
        let answer = self
            .client
            .execute_async(
                r#"
                const [url, done] = [arguments[0], arguments[arguments.length - 1]];
                fetch(url, { credentials: "same-origin" })
                  .then(async r => {
                    const bytes = new Uint8Array(await r.arrayBuffer());
                    let binary = "";
                    for (let i = 0; i < bytes.length; i += 0x8000) {
                      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
                    }
                    done({ status: r.status, type: r.headers.get("content-type") || "",
                           disposition: r.headers.get("content-disposition") || "",
                           body: btoa(binary) });
                  })
                  .catch(e => done({ error: String(e) }));
                "#,
                vec![json!(href)],
            )
            .await
            .unwrap_or_else(|e| panic!("cannot fetch {href}: {e}"));
        if let Some(error) = answer.get("error") {
            panic!("fetching {href} failed: {error}");
        }
        let text = |key: &str| answer[key].as_str().unwrap_or_default().to_string();
        Download {
            status: answer["status"].as_u64().unwrap_or(0) as u16,
            content_type: text("type"),
            disposition: text("disposition"),
            bytes: base64::engine::general_purpose::STANDARD
                .decode(text("body"))
                .expect("base64 from the page"),
        }
    }

    /// What sticks out past the right edge of the window and makes the whole page scroll
    /// sideways (a table inside its own scrolling box does not count): each as
    /// `tag.class "text"`.
    pub async fn overflowing(&self) -> Vec<String> {
        let found = self
            .client
            .execute(
                r#"
                const width = document.documentElement.clientWidth;
                if (document.documentElement.scrollWidth <= width) return [];
                const inScroller = e => {
                  for (let p = e.parentElement; p; p = p.parentElement) {
                    const o = getComputedStyle(p).overflowX;
                    if (o === "auto" || o === "scroll" || o === "hidden") return true;
                  }
                  return false;
                };
                return [...document.body.querySelectorAll("*")]
                  .filter(e => e.getBoundingClientRect().right > width + 0.5 && !inScroller(e))
                  .map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")
                            + " " + JSON.stringify((e.innerText || "").slice(0, 40)));
                "#,
                vec![],
            )
            .await
            .expect("look for what overflows");
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Each table that scrolls sideways inside its box: its caption and how many pixels of it
    /// are out of sight.
    pub async fn hidden_sideways(&self) -> Vec<(String, i64)> {
        let found = self
            .client
            .execute(
                r#"
                return [...document.querySelectorAll(".table-wrap")]
                  .filter(w => w.scrollWidth > w.clientWidth)
                  .map(w => [(w.querySelector("caption") || w).innerText.slice(0, 50),
                             w.scrollWidth - w.clientWidth]);
                "#,
                vec![],
            )
            .await
            .expect("measure the tables");
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        (
                            p[0].as_str().unwrap_or_default().to_string(),
                            p[1].as_i64().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Saves the whole page (not only what the window shows) at `viewport`'s width as
    /// `docs/screenshots/<name>-<desktop|phone>.png`, up to [`TALLEST`] pixels; its path. The
    /// window is back at `viewport`'s size afterwards.
    pub async fn screenshot_page(&self, name: &str, viewport: Viewport) -> PathBuf {
        self.resize(viewport).await;
        self.wait_loaded().await;
        let (_, height) = viewport.size();
        let full = self
            .client
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .expect("the page's height")
            .as_u64()
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(height)
            .clamp(height, TALLEST);
        if full > height {
            let (w, h) = self.client.get_window_size().await.expect("window size");
            let taller = u32::try_from(h).unwrap_or(height) + (full - height);
            self.client
                .set_window_size(u32::try_from(w).unwrap_or(0), taller)
                .await
                .expect("make the window as tall as the page");
        }
        // the page lays itself out again at the new height
        actix_web::rt::time::sleep(Duration::from_millis(150)).await;
        let png = self.client.screenshot().await.expect("take a screenshot");
        std::fs::create_dir_all(SCREENSHOTS).expect("create docs/screenshots");
        let path = Path::new(SCREENSHOTS).join(format!("{name}-{}.png", viewport.name()));
        std::fs::write(&path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        self.resize(viewport).await;
        path
    }

    /// Waits until the page's text contains `words` (for a page still arriving).
    pub async fn wait_for_text(&self, words: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text().await;
            if text.contains(words) {
                return text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{words:?} never showed on {}: {text}",
                self.path().await
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the page's error notice, if it shows one.
    pub async fn error_notice(&self) -> Option<String> {
        let found = self
            .client
            .find_all(Locator::Css(".notice-error"))
            .await
            .expect("look for an error notice");
        match found.first() {
            Some(e) => Some(e.text().await.expect("text of the notice")),
            None => None,
        }
    }

    /// The text of the page's notice of success, if it shows one.
    pub async fn ok_notice(&self) -> Option<String> {
        let found = self
            .client
            .find_all(Locator::Css(".notice-ok"))
            .await
            .expect("look for a notice");
        match found.first() {
            Some(e) => Some(e.text().await.expect("text of the notice")),
            None => None,
        }
    }

    /// Asserts that the page answered `200` with a notice of success containing `words`.
    pub async fn assert_done(&self, words: &str) {
        self.assert_status(200).await;
        let notice = self.ok_notice().await;
        assert!(
            notice.as_deref().is_some_and(|n| n.contains(words)),
            "expected a notice with {words:?} on {}, got {notice:?}; error: {:?}",
            self.path().await,
            self.error_notice().await
        );
    }
}

/// The names the fixtures give the chain's people ("Nguyễn Văn " and the username's words).
pub const HANG: &str = "Nguyễn Văn hang nt";
pub const TUAN: &str = "Nguyễn Văn tuan lv";
pub const GIANG: &str = "Nguyễn Văn giang nv";

/// The title of the cohort the journeys create.
pub const COHORT_TITLE: &str = "Lớp tuyên truyền viên phường Ba Đình";

/// The coordinator (signed in) creates the chain's tier-2 cohort of 10–11 May 2027 at BHXH Hà
/// Nội on `/cohorts/new`, reached from the schedule; the cohort's path.
pub async fn create_cohort(browser: &Browser) -> String {
    browser.follow_menu("Lịch lớp").await;
    browser.follow("Tạo lớp mới").await;
    assert_eq!(browser.path().await, "/cohorts/new");
    browser
        .choose("Khóa bồi dưỡng", "TTV-2024 — Bồi dưỡng kiến thức BHXH")
        .await;
    browser
        .choose("Đơn vị tổ chức", "Bảo hiểm xã hội Thành phố Hà Nội")
        .await;
    browser.fill("Tên lớp", COHORT_TITLE).await;
    browser.pick("Ngày bắt đầu", "2027-05-10").await;
    browser.pick("Ngày kết thúc", "2027-05-11").await;
    browser
        .fill(
            "Địa điểm (bắt buộc với lớp trực tiếp)",
            "Hội trường UBND phường Ba Đình",
        )
        .await;
    browser.fill("Sĩ số tối đa", "30").await;
    browser.choose("Hình thức", "Trực tiếp").await;
    browser.click("Tạo lớp").await;
    browser.assert_status(200).await;
    let path = browser.path().await;
    assert!(
        path.starts_with("/cohorts/") && path != "/cohorts/new",
        "no cohort page after creating: {path}: {}",
        browser.text().await
    );
    let page = browser.text().await;
    assert!(page.contains(COHORT_TITLE), "{page}");
    assert!(page.contains("dự kiến"), "{page}");
    path
}

/// On the cohort's page: tries to assign `tuan.lv`, who holds no master-trainer certificate
/// (refused with the rule's message, which is returned), then assigns the certified
/// `giang.nv`; each found by a search of the name.
pub async fn staff_cohort(browser: &Browser) -> String {
    browser.fill("Tìm giảng viên theo tên", "tuan").await;
    browser.click("Tìm giảng viên").await;
    browser.click(&format!("Phân công {TUAN}")).await;
    let refusal = browser
        .error_notice()
        .await
        .expect("the rule's message for an uncertified instructor");
    assert_eq!(browser.status().await, 422, "{refusal}");
    let page = browser.text().await;
    assert!(page.contains("Chưa phân công giảng viên."), "{page}");

    browser.fill("Tìm giảng viên theo tên", "giang").await;
    browser.click("Tìm giảng viên").await;
    browser.click(&format!("Phân công {GIANG}")).await;
    browser
        .assert_done(&format!("Đã phân công giảng viên {GIANG}"))
        .await;
    refusal
}

/// Adds the one session, 10 May 2027 from 8:00 to 16:00.
pub async fn add_session(browser: &Browser) {
    browser.pick("Ngày học", "2027-05-10").await;
    browser.pick("Từ giờ", "08:00").await;
    browser.pick("Đến giờ", "16:00").await;
    browser.fill("Nội dung", "Luật Bảo hiểm xã hội 2024").await;
    browser.click("Thêm buổi học").await;
    browser.assert_done("Đã thêm buổi học.").await;
    let page = browser.text().await;
    assert!(page.contains("10/05/2027 08:00–16:00"), "{page}");
}

/// Opens the cohort for enrolment, enrols `hang.nt` found by "nguyen van hang" (no
/// diacritics), and `tuan.lv` from a CSV file of usernames.
pub async fn enrol(browser: &Browser) {
    browser.click("Mở nhận học viên").await;
    browser
        .assert_done("Lớp chuyển sang trạng thái: đang nhận học viên.")
        .await;
    browser
        .fill(
            "Tìm người theo tên (có dấu hay không dấu đều được)",
            "nguyen van hang",
        )
        .await;
    browser.click("Tìm người").await;
    let page = browser.text().await;
    assert!(page.contains(&format!("{HANG} — ")), "{page}");
    browser.click(&format!("Ghi danh {HANG}")).await;
    browser.assert_done(&format!("Đã ghi danh {HANG}.")).await;

    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("hoc-vien.csv");
    std::fs::write(&csv, "username\ntuan.lv\n").expect("write the CSV");
    browser.attach("file", &csv).await;
    browser.click("Ghi danh từ tệp").await;
    browser.assert_done("Đã ghi danh 1 người từ tệp.").await;
    let page = browser.text().await;
    assert!(page.contains("2/30"), "two enrolled of 30: {page}");
}

/// Starts the cohort, marks `hang.nt` present and `tuan.lv` absent at the session, and scores
/// both (87,5 and 90).
pub async fn mark(browser: &Browser) {
    browser.click("Bắt đầu lớp").await;
    browser
        .assert_done("Lớp chuyển sang trạng thái: đang học.")
        .await;
    browser.tick(HANG).await;
    browser
        .click("Lưu điểm danh buổi 10/05/2027 08:00–16:00")
        .await;
    browser.assert_done("Đã lưu điểm danh.").await;
    browser.fill(&format!("Điểm của {HANG}"), "87,5").await;
    browser.fill(&format!("Điểm của {TUAN}"), "90").await;
    browser.click("Lưu điểm").await;
    browser.assert_done("Đã lưu điểm của 2 học viên.").await;
}

/// Finalises the cohort: first without ticking the confirmation (the browser keeps the form:
/// the box is required), then with it; the page's text afterwards.
pub async fn finalise(browser: &Browser) -> String {
    let submit = "//form[.//input[@name='action' and @value='finalize']]//button";
    // the required box left empty: the browser says so and sends nothing (the page stays,
    // with its mark)
    browser
        .client
        .execute("window.__cascadeStays = true", vec![])
        .await
        .expect("mark the page");
    browser.press(submit).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let stayed = browser
        .client
        .execute("return window.__cascadeStays === true", vec![])
        .await
        .expect("read the mark");
    assert_eq!(
        stayed,
        json!(true),
        "the form was sent without the confirmation"
    );
    let valid = browser
        .client
        .execute(
            "return document.querySelector('input[name=confirm]').validity.valueMissing",
            vec![],
        )
        .await
        .expect("the confirmation's validity");
    assert_eq!(valid, json!(true), "the confirmation is required");
    browser.tick("Tôi xác nhận kết thúc lớp này").await;
    browser.click("Kết thúc lớp").await;
    browser.assert_status(200).await;
    browser.text().await
}

/// The coordinator (signed in) runs a cohort from creation to its certificates; its path.
pub async fn run_cohort(browser: &Browser) -> String {
    let path = create_cohort(browser).await;
    staff_cohort(browser).await;
    add_session(browser).await;
    enrol(browser).await;
    mark(browser).await;
    let page = finalise(browser).await;
    assert!(
        page.contains("Đã kết thúc lớp: 1 hoàn thành, 1 không đạt, 1 giấy chứng nhận được cấp."),
        "{page}"
    );
    path
}
