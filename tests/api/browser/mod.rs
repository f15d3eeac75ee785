//! End-to-end tests in headless Chromium, driven through WebDriver (chromedriver) by fantoccini.
//!
//! ```ignore
//! let app = spawn_app().await;
//! let Some(browser) = Browser::start(&app).await else { return };
//! browser.open("/verify/ABCD").await;
//! browser.fill("Mã tra cứu", "ZZZZ").await; // a field by its label or its `name`
//! browser.click("Tra cứu").await; // a button by its text (`follow` for a link)
//! assert!(browser.text().await.contains("Không tìm thấy"));
//! browser.assert_accessible().await; // axe: no serious or critical violation
//! browser.screenshot("verify", Viewport::Phone).await; // docs/screenshots/verify-phone.png
//! browser.close().await;
//! ```
//!
//! Each [`Browser`] runs its own chromedriver on a free port of 127.0.0.1, with a Chromium of
//! its own (a fresh profile in a temporary folder); dropping it kills both. The browser reaches
//! the app at [`TestApp::address`](crate::harness::TestApp), which is on 127.0.0.1 too.
//!
//! What it needs from the machine: Debian's `chromium` and `chromium-driver`, and axe-core from
//! `npm ci` in `tests/browser/` (run by the first browser test when npm is there); `.ci/run`
//! installs all three. One that is missing fails the
//! test, naming what to install, unless `CASCADE_ALLOW_MISSING_TOOLS=1`: then
//! [`Browser::start`] says loudly what it skips and answers `None`.

// Not every test uses every helper.
#![allow(dead_code)]

mod accessibility;
mod journeys;
mod steps;
mod verify;

use std::fmt;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::harness::TestApp;

/// Set to `1` on a developer's machine without Chromium to let the browser tests skip; unset,
/// as in CI, a missing tool fails the test. (The same switch as the harness's for poppler.)
const ALLOW_MISSING_TOOLS: &str = "CASCADE_ALLOW_MISSING_TOOLS";

/// The flags Chromium runs with here: headless as root, and nothing that reaches out to the
/// network (this machine's network is closed, and a refused connection is only noise).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    // as on a phone, scrollbars take no room from the page (and stay out of the screenshots)
    "--hide-scrollbars",
];

/// axe-core as `npm ci` in `tests/browser/` installs it.
const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/browser/node_modules/axe-core/axe.min.js"
);

/// Where [`Browser::screenshot`] saves its PNGs.
const SCREENSHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/screenshots");

/// How long a page, a script or chromedriver's start may take. Generous: two cores, and the
/// other tests run at the same time.
const PATIENCE: Duration = Duration::from_secs(60);

/// How long a click on a button or link may take to bring the next page.
const NAVIGATION: Duration = Duration::from_secs(30);

/// The two window sizes the pages are checked and shown at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewport {
    /// 1280×900
    Desktop,
    /// 360×740
    Phone,
}

impl Viewport {
    pub fn size(self) -> (u32, u32) {
        match self {
            Viewport::Desktop => (1280, 900),
            Viewport::Phone => (360, 740),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Viewport::Desktop => "desktop",
            Viewport::Phone => "phone",
        }
    }
}

/// What the browser tests need from the machine, found; or why not.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
    axe: String,
}

/// axe-core's source. A fresh checkout has no `node_modules`: with npm on the machine, the first
/// browser test installs the pinned version (`npm ci` in tests/browser), once for the whole run,
/// so the README's `cargo test` needs no step of its own.
fn axe_source() -> Result<String, String> {
    static AXE_SOURCE: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    AXE_SOURCE
        .get_or_init(|| {
            if std::fs::metadata(AXE).is_err() && on_path("npm").is_some() {
                let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser");
                let installed = std::process::Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                    .current_dir(dir)
                    .status();
                if !installed.as_ref().is_ok_and(|s| s.success()) {
                    return Err(format!("`npm ci` in {dir} failed: {installed:?}"));
                }
            }
            std::fs::read_to_string(AXE).map_err(|e| e.to_string())
        })
        .clone()
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// The tools, or `None` when one is missing and [`ALLOW_MISSING_TOOLS`] allows skipping.
/// Otherwise a missing tool fails the test with what to install.
#[track_caller]
fn tools() -> Option<Tools> {
    let mut missing = Vec::new();
    let chromium = on_path("chromium");
    if chromium.is_none() {
        missing.push("chromium is not on PATH: `apt-get install chromium`".to_string());
    }
    let chromedriver = on_path("chromedriver");
    if chromedriver.is_none() {
        missing.push("chromedriver is not on PATH: `apt-get install chromium-driver`".to_string());
    }
    let axe = axe_source();
    if let Err(e) = &axe {
        missing.push(format!(
            "axe-core is not installed ({AXE}: {e}): `npm ci` in tests/browser"
        ));
    }
    if missing.is_empty() {
        return Some(Tools {
            chromium: chromium.unwrap(),
            chromedriver: chromedriver.unwrap(),
            axe: axe.unwrap(),
        });
    }
    let message = format!(
        "cannot run the browser tests: {} (.ci/run does all of this)",
        missing.join("; ")
    );
    if std::env::var(ALLOW_MISSING_TOOLS).as_deref() == Ok("1") {
        // straight to the process's stderr: the test harness would swallow an `eprintln!`
        let _ = writeln!(
            std::io::stderr(),
            "WARNING: BROWSER TEST SKIPPED: {message}; {ALLOW_MISSING_TOOLS}=1 allows it"
        );
        None
    } else {
        panic!("{message}; or set {ALLOW_MISSING_TOOLS}=1 to skip the browser tests on purpose");
    }
}

/// chromedriver as a child process in a process group of its own, so that dropping it kills
/// the Chromium it started too.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    async fn start(program: &Path, dir: &Path) -> Driver {
        use std::os::unix::process::CommandExt;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free port for chromedriver")
            .port();
        let log = dir.join("chromedriver.log");
        let out = std::fs::File::create(&log).expect("chromedriver log");
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let mut driver = Driver { child, port, log };
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited ({status}): {}", driver.log_text());
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return driver;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "chromedriver did not listen on {address}: {}",
                driver.log_text()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        // the end tells why
        let start = text.len().saturating_sub(4000);
        let start = (start..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text[start..].to_string()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // the whole group: chromedriver and every Chromium process it started
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An accessibility problem that axe found.
#[derive(Clone, Debug)]
pub struct Violation {
    /// The rule, such as `color-contrast`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical` ([`Browser::axe`] reports only the last
    /// two).
    pub impact: String,
    pub help: String,
    pub help_url: String,
    /// Each element that breaks the rule: its CSS selector and axe's summary of what is wrong.
    pub nodes: Vec<(String, String)>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} ({}): {} <{}>",
            self.id, self.impact, self.help, self.help_url
        )?;
        for (target, summary) in &self.nodes {
            writeln!(f, "  at {target}: {}", summary.replace('\n', " "))?;
        }
        Ok(())
    }
}

/// Violations, one after another, for an assertion's message.
pub fn describe(violations: &[Violation]) -> String {
    violations.iter().map(ToString::to_string).collect()
}

/// One Chromium window on the app under test.
pub struct Browser {
    client: Client,
    base: String,
    axe: String,
    // dropped after the client: kills chromedriver and Chromium, then removes the profile
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Chromium on `app`, at the desktop size. `None` only when a tool is missing and
    /// `CASCADE_ALLOW_MISSING_TOOLS=1`: the caller then returns (the test is skipped, loudly).
    #[track_caller]
    pub fn start(app: &TestApp) -> impl std::future::Future<Output = Option<Browser>> + '_ {
        Self::start_at(&app.address)
    }

    /// Chromium with `base` as the address [`open`](Self::open) goes to.
    #[track_caller]
    pub fn start_at(base: &str) -> impl std::future::Future<Output = Option<Browser>> + '_ {
        // checked before the first await, so a failure points at the test that called
        let tools = tools();
        async move { Some(Self::launch(tools?, base).await) }
    }

    async fn launch(tools: Tools, base: &str) -> Browser {
        let profile = tempfile::tempdir().expect("temp dir for the Chromium profile");
        let driver = Driver::start(&tools.chromedriver, profile.path()).await;
        let (width, height) = Viewport::Desktop.size();
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            profile.path().join("chromium").display()
        ));
        args.push(format!("--window-size={width},{height}"));
        args.push("--lang=vi".into());
        let mut capabilities = Capabilities::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": tools.chromium, "args": args }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot open a Chromium session: {e}\nchromedriver's log ends with:\n{}",
                    driver.log_text()
                )
            });
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(PATIENCE),
                Some(PATIENCE),
                None,
            ))
            .await
            .expect("set WebDriver timeouts");
        let browser = Browser {
            client,
            base: base.trim_end_matches('/').to_string(),
            axe: tools.axe,
            _driver: driver,
            _profile: profile,
        };
        browser.resize(Viewport::Desktop).await;
        browser
    }

    /// The fantoccini client, for what the helpers here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Ends the WebDriver session cleanly (Chromium closes), then the driver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Goes to `path` of the app (`/verify/…`), and waits until it has loaded.
    pub async fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        self.wait_loaded().await;
    }

    /// The path (and query) the window shows now, without the app's address.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// The page's text as a person sees it (`innerText` of the body).
    pub async fn text(&self) -> String {
        self.wait_loaded().await;
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("the page has a body")
            .text()
            .await
            .expect("text of the page")
    }

    /// The form field whose `name` is `field`, or whose label reads `field`.
    pub async fn field(&self, field: &str) -> Element {
        let lit = xpath_literal(field);
        let control = "(self::input or self::textarea or self::select)";
        let xpath = format!(
            "//*[{control} and @name={lit}] \
             | //*[{control} and @id=//label[normalize-space(.)={lit}]/@for] \
             | //label[normalize-space(.)={lit}]//*[{control}]"
        );
        let mut found = self
            .client
            .find_all(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("cannot look for a field {field:?}: {e}"));
        match found.len() {
            1 => found.remove(0),
            0 => panic!(
                "no field named or labelled {field:?} on {}",
                self.path().await
            ),
            n => panic!(
                "{n} fields named or labelled {field:?} on {}: which one is meant?",
                self.path().await
            ),
        }
    }

    /// Types `value` into the field named or labelled `field`, replacing what it held.
    pub async fn fill(&self, field: &str, value: &str) {
        let element = self.field(field).await;
        element
            .clear()
            .await
            .unwrap_or_else(|e| panic!("cannot clear {field:?}: {e}"));
        element
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {field:?}: {e}"));
    }

    /// Clicks the button whose text is `text` (a `<button>`, an `<input type=submit|button>`
    /// or an element with `role=button`), and waits for the page it leads to: the pages here
    /// are server-rendered, so a click that brings no new page fails the test.
    pub async fn click(&self, text: &str) {
        let lit = xpath_literal(text);
        let xpath = format!(
            "//button[normalize-space(.)={lit}] \
             | //input[(@type='submit' or @type='button') and @value={lit}] \
             | //*[@role='button' and normalize-space(.)={lit}]"
        );
        self.click_found(&xpath, "button", text).await;
    }

    /// Follows the link whose text is `text`, and waits for the page it leads to.
    pub async fn follow(&self, text: &str) {
        let xpath = format!("//a[normalize-space(.)={}]", xpath_literal(text));
        self.click_found(&xpath, "link", text).await;
    }

    async fn click_found(&self, xpath: &str, what: &str, text: &str) {
        let found = self
            .client
            .find_all(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("cannot look for a {what} {text:?}: {e}"));
        let element = match found.as_slice() {
            [one] => one,
            [] => panic!("no {what} {text:?} on {}", self.path().await),
            more => panic!(
                "{} {what}s {text:?} on {}: which one is meant?",
                more.len(),
                self.path().await
            ),
        };
        // the page this click leaves is marked, so that the wait below cannot mistake it,
        // still complete, for the next one
        self.client
            .execute("window.__cascadeLeaving = true", vec![])
            .await
            .expect("mark the page");
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click the {what} {text:?}: {e}"));
        let started = Instant::now();
        loop {
            // an error here is the old page going away: look again
            let state = self
                .client
                .execute(
                    "return window.__cascadeLeaving ? 'leaving' : document.readyState",
                    vec![],
                )
                .await
                .ok();
            if state.as_ref().and_then(Value::as_str) == Some("complete") {
                return;
            }
            assert!(
                started.elapsed() < NAVIGATION,
                "the {what} {text:?} led to no new page within {NAVIGATION:?} (a required \
                 field left empty? the form checks before it sends)"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the document has loaded.
    async fn wait_loaded(&self) {
        let started = Instant::now();
        loop {
            let state = self
                .client
                .execute("return document.readyState", vec![])
                .await
                .expect("read document.readyState");
            if state == "complete" {
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the page did not finish loading"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sets the window so that the page's viewport is `viewport`'s size.
    pub async fn resize(&self, viewport: Viewport) {
        let (width, height) = viewport.size();
        self.client
            .set_window_size(width, height)
            .await
            .expect("set window size");
        // headless windows have no frame, but make sure: correct by what the page sees
        let inner = self
            .client
            .execute("return [window.innerWidth, window.innerHeight]", vec![])
            .await
            .expect("read the viewport size");
        let seen = |i: usize| inner[i].as_i64().unwrap_or(0);
        let (dw, dh) = (i64::from(width) - seen(0), i64::from(height) - seen(1));
        if dw != 0 || dh != 0 {
            let fit =
                |size: u32, delta: i64| u32::try_from(i64::from(size) + delta).unwrap_or(size);
            self.client
                .set_window_size(fit(width, dw), fit(height, dh))
                .await
                .expect("set window size");
        }
    }

    /// Saves what the window shows at `viewport`'s size as
    /// `docs/screenshots/<name>-<desktop|phone>.png`; its path. The window stays at that size.
    pub async fn screenshot(&self, name: &str, viewport: Viewport) -> PathBuf {
        self.resize(viewport).await;
        self.wait_loaded().await;
        let png = self.client.screenshot().await.expect("take a screenshot");
        std::fs::create_dir_all(SCREENSHOTS).expect("create docs/screenshots");
        let path = Path::new(SCREENSHOTS).join(format!("{name}-{}.png", viewport.name()));
        std::fs::write(&path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// Runs axe-core on the page as it is now; the violations of impact `serious` or
    /// `critical`.
    pub async fn axe(&self) -> Vec<Violation> {
        self.axe_all()
            .await
            .into_iter()
            .filter(|v| matches!(v.impact.as_str(), "serious" | "critical"))
            .collect()
    }

    /// Runs axe-core on the page as it is now; every violation, of any impact (`minor`,
    /// `moderate`, `serious`, `critical`).
    pub async fn axe_all(&self) -> Vec<Violation> {
        self.wait_loaded().await;
        self.client
            .execute(&self.axe, vec![])
            .await
            .expect("load axe-core into the page");
        let answer = self
            .client
            .execute_async(
                r#"
                const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ["violations"] })
                  .then(r => done({ violations: r.violations.map(v => ({
                      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                      nodes: v.nodes.map(n => [n.target.join(" "), n.failureSummary || ""]),
                  })) }))
                  .catch(e => done({ error: String(e) }));
                "#,
                vec![],
            )
            .await
            .expect("run axe-core");
        if let Some(error) = answer.get("error") {
            panic!("axe-core failed: {error}");
        }
        let text = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_string();
        answer["violations"]
            .as_array()
            .expect("axe's violations")
            .iter()
            .map(|v| Violation {
                id: text(v, "id"),
                impact: text(v, "impact"),
                help: text(v, "help"),
                help_url: text(v, "helpUrl"),
                nodes: v["nodes"]
                    .as_array()
                    .map(|nodes| {
                        nodes
                            .iter()
                            .map(|n| {
                                let part = |i: usize| n[i].as_str().unwrap_or("").to_string();
                                (part(0), part(1))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Fails the test, listing each violation, when axe finds a serious or critical one.
    pub async fn assert_accessible(&self) {
        let violations = self.axe().await;
        assert!(
            violations.is_empty(),
            "axe found {} serious or critical accessibility violation(s) on {}:\n{}",
            violations.len(),
            self.path().await,
            describe(&violations)
        );
    }
}

/// `s` as an XPath 1.0 string literal (which has no escapes: `concat` joins the pieces).
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// The checker checks: a page that breaks two of axe's rules is reported, with the elements.
#[actix_web::test]
async fn axe_reports_what_breaks_its_rules() {
    let Some(browser) = Browser::start_at("http://127.0.0.1").await else {
        return;
    };
    let page = "<!doctype html><html lang=vi><title>Thử</title><main><h1>Thử</h1>\
        <p style='color:%23bbb;background:%23fff'>Chữ nhạt trên nền trắng</p>\
        <input id=unlabelled></main></html>";
    browser
        .client()
        .goto(&format!("data:text/html;charset=utf-8,{page}"))
        .await
        .expect("open the test page");
    let violations = browser.axe().await;
    let found: Vec<(&str, &str)> = violations
        .iter()
        .map(|v| (v.id.as_str(), v.impact.as_str()))
        .collect();
    assert_eq!(
        found,
        [("color-contrast", "serious"), ("label", "critical")],
        "{}",
        describe(&violations)
    );
    assert_eq!(violations[1].nodes[0].0, "#unlabelled");
    browser.close().await;
}
