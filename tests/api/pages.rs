//! The web pages over HTTP (the browser journeys are in `browser/`): signing in and out, the
//! session cookies and their renewal, the pages each role sees, errors as Vietnamese pages.

use awc::http::header;

use crate::authorization::World;
use crate::harness::{spawn_app, TestApp, PASSWORD};

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Page {
    /// The value a `Set-Cookie` gives this cookie, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies.iter().find_map(|c| {
            let first = c.split(';').next()?;
            let (n, v) = first.split_once('=')?;
            (n == name).then(|| v.to_string())
        })
    }
}

async fn read(
    mut res: awc::ClientResponse<
        impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
    >,
) -> Page {
    let body = res.body().limit(10 * 1024 * 1024).await.unwrap();
    Page {
        status: res.status().as_u16(),
        location: res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        set_cookies: res
            .headers()
            .get_all(header::SET_COOKIE)
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A client that shows redirects rather than following them.
fn browser_client() -> awc::Client {
    awc::Client::builder().disable_redirects().finish()
}

/// A page as a browser asks for it, with these cookies (`name=value; …`).
pub async fn get_page(app: &TestApp, path: &str, cookies: &str) -> Page {
    let mut req = browser_client()
        .get(app.url(path))
        .insert_header(("sec-fetch-dest", "document"));
    if !cookies.is_empty() {
        req = req.insert_header((header::COOKIE, cookies.to_string()));
    }
    read(req.send().await.unwrap()).await
}

/// A form posted from Cascade's own pages.
pub async fn post_form(app: &TestApp, path: &str, cookies: &str, form: &[(&str, &str)]) -> Page {
    let mut req = browser_client()
        .post(app.url(path))
        .insert_header(("sec-fetch-site", "same-origin"))
        .insert_header(("sec-fetch-dest", "document"));
    if !cookies.is_empty() {
        req = req.insert_header((header::COOKIE, cookies.to_string()));
    }
    read(req.send_form(&form).await.unwrap()).await
}

/// Signs in through the page; the `Cookie` header value the browser would send afterwards.
pub async fn sign_in(app: &TestApp, username: &str) -> String {
    let page = post_form(
        app,
        "/login",
        "",
        &[
            ("username", username),
            ("password", PASSWORD),
            ("next", "/"),
        ],
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    format!(
        "cascade_session={}; cascade_refresh={}",
        page.cookie("cascade_session").unwrap(),
        page.cookie("cascade_refresh").unwrap()
    )
}

#[actix_rt::test]
async fn a_page_without_a_session_sends_the_visitor_to_sign_in_and_back() {
    let app = spawn_app().await;
    World::build(&app).await;
    let page = get_page(&app, "/me", "").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/login?next=%2Fme"));
    let login = get_page(&app, "/login?next=%2Fme", "").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("lang=\"vi\""));
    assert!(login.body.contains("name=\"next\" value=\"/me\""));
    let signed = post_form(
        &app,
        "/login",
        "",
        &[
            ("username", "hang.nt"),
            ("password", PASSWORD),
            ("next", "/me"),
        ],
    )
    .await;
    assert_eq!(signed.status, 303);
    assert_eq!(signed.location.as_deref(), Some("/me"));
    let session = signed.cookie("cascade_session").unwrap();
    assert!(signed
        .set_cookies
        .iter()
        .all(|c| c.contains("HttpOnly") && c.contains("SameSite=Strict")));
    let me = get_page(&app, "/me", &format!("cascade_session={session}")).await;
    assert_eq!(me.status, 200);
    assert!(me.body.contains("Hồ sơ của tôi"));
}

#[actix_rt::test]
async fn wrong_password_and_throttling_are_said_in_vietnamese() {
    let app = spawn_app().await;
    World::build(&app).await;
    let page = post_form(
        &app,
        "/login",
        "",
        &[("username", "hang.nt"), ("password", "sai mật khẩu rồi")],
    )
    .await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains("Tên đăng nhập hoặc mật khẩu không đúng"));
    for _ in 0..5 {
        post_form(
            &app,
            "/login",
            "",
            &[("username", "hang.nt"), ("password", "sai")],
        )
        .await;
    }
    let page = post_form(
        &app,
        "/login",
        "",
        &[("username", "hang.nt"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(page.status, 429);
    assert!(page.body.contains("phút"), "{}", page.body);
}

#[actix_rt::test]
async fn next_never_leads_off_the_site() {
    let app = spawn_app().await;
    World::build(&app).await;
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let page = post_form(
            &app,
            "/login",
            "",
            &[
                ("username", "hang.nt"),
                ("password", PASSWORD),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(page.location.as_deref(), Some("/"), "{next}");
    }
}

#[actix_rt::test]
async fn an_expired_access_token_with_a_live_session_is_renewed_on_the_next_page() {
    let app = spawn_app().await;
    World::build(&app).await;
    let cookies = sign_in(&app, "hang.nt").await;
    let refresh = cookies
        .split("cascade_refresh=")
        .nth(1)
        .unwrap()
        .to_string();
    // the access cookie is gone (the browser drops it after 15 minutes)
    let page = get_page(&app, "/me", &format!("cascade_refresh={refresh}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let renewed = page.cookie("cascade_refresh").unwrap();
    assert_ne!(renewed, refresh, "the refresh token rotates");
    assert!(page.cookie("cascade_session").is_some());
    // signing out ends it: the refresh token no longer renews anything
    let out = post_form(
        &app,
        "/logout",
        &format!(
            "cascade_session={}; cascade_refresh={renewed}",
            page.cookie("cascade_session").unwrap()
        ),
        &[],
    )
    .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/login"));
    let after = get_page(&app, "/me", &format!("cascade_refresh={renewed}")).await;
    assert_eq!(after.status, 303);
}

#[actix_rt::test]
async fn the_home_page_offers_what_the_role_may_do() {
    let app = spawn_app().await;
    World::build(&app).await;
    let trainee = get_page(&app, "/", &sign_in(&app, "hang.nt").await).await;
    assert_eq!(trainee.status, 200);
    assert!(trainee.body.contains("href=\"/me\""));
    assert!(!trainee.body.contains("href=\"/certificates\""));
    let hr = get_page(&app, "/", &sign_in(&app, "nhansu.hn").await).await;
    assert!(hr.body.contains("href=\"/certificates\""));
    assert!(!hr.body.contains("href=\"/cohorts\""));
    let coordinator = get_page(&app, "/", &sign_in(&app, "dieuphoi.hn").await).await;
    assert!(coordinator.body.contains("href=\"/cohorts\""));
}

#[actix_rt::test]
async fn password_change_page_names_the_broken_rule_in_the_form() {
    let app = spawn_app().await;
    World::build(&app).await;
    let cookies = sign_in(&app, "hang.nt").await;
    let page = post_form(
        &app,
        "/account/password",
        &cookies,
        &[("current_password", PASSWORD), ("new_password", "ngắn")],
    )
    .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("new_password-error"), "{}", page.body);
    let page = post_form(
        &app,
        "/account/password",
        &cookies,
        &[
            ("current_password", PASSWORD),
            ("new_password", "một mật khẩu mới đủ dài"),
        ],
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Đã đổi mật khẩu"));
}

#[actix_rt::test]
async fn the_verify_form_and_an_unknown_code_are_vietnamese_pages() {
    let app = spawn_app().await;
    let form = get_page(&app, "/verify", "").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Mã tra cứu"));
    let unknown = get_page(&app, "/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("Không tìm thấy giấy chứng nhận"));
}

#[actix_rt::test]
async fn the_public_verify_limit_is_a_vietnamese_page_and_staff_are_not_held_to_it() {
    let app = spawn_app().await;
    World::build(&app).await;
    let mut last = None;
    for _ in 0..61 {
        last = Some(get_page(&app, "/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "").await);
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429);
    assert!(last.body.contains("quá nhiều lần"), "{}", last.body);
    assert!(last.body.contains("<html lang=\"vi\">"));
    let staff = sign_in(&app, "nhansu.hn").await;
    let page = get_page(&app, "/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &staff).await;
    assert_eq!(page.status, 404);
}

/// A multipart form with one file field, as a browser sends an upload.
pub async fn post_file(app: &TestApp, path: &str, cookies: &str, field: &str, file: &[u8]) -> Page {
    let boundary = "----cascade-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = browser_client()
        .post(app.url(path))
        .insert_header(("sec-fetch-site", "same-origin"))
        .insert_header((header::COOKIE, cookies.to_string()))
        .insert_header((
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        ));
    read(req.send_body(body).await.unwrap()).await
}

#[actix_rt::test]
async fn people_page_searches_without_diacritics_adds_and_imports_with_line_errors() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let hr = sign_in(&app, "nhansu.hn").await;
    // the fixture names are "Nguyễn Văn …": found without the marks
    let found = get_page(&app, "/people?q=nguyen+van+hang", &hr).await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains("hang.nt"), "{}", found.body);
    assert!(
        !found.body.contains("khoa.dm"),
        "another province stays out"
    );
    let unit = w.hn_unit.to_string();
    let added = post_form(
        &app,
        "/people",
        &hr,
        &[
            ("username", "mai.tt"),
            ("full_name", "Trần Thị Mai"),
            ("organization_id", &unit),
            ("category", "civil_servant"),
            ("roles", "trainee"),
        ],
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(added.body.contains("Đã thêm Trần Thị Mai"));
    // HR grants only `trainee`: the rule's answer, the form shown again
    let refused = post_form(
        &app,
        "/people",
        &hr,
        &[
            ("username", "lan.tt"),
            ("full_name", "Trần Thị Lan"),
            ("organization_id", &unit),
            ("category", "civil_servant"),
            ("roles", "coordinator"),
        ],
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("value=\"Trần Thị Lan\""));
    let csv =
        "username,full_name,date_of_birth,national_id,email,organization_code,category,roles\n\
               binh.tt,Trần Thị Bình,,,,HN-BADINH,civil_servant,trainee\n\
               x,,,,,HN-BADINH,boss,trainee\n";
    let import = post_file(&app, "/people", &hr, "file", csv.as_bytes()).await;
    assert_eq!(import.status, 200, "{}", import.body);
    assert!(import.body.contains("Dòng 3"), "{}", import.body);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'binh.tt'"),
        0,
        "a file with an error changes nothing"
    );
    let good =
        "username,full_name,date_of_birth,national_id,email,organization_code,category,roles\n\
                binh.tt,Trần Thị Bình,,,,HN-BADINH,civil_servant,trainee\n";
    let import = post_file(&app, "/people", &hr, "file", good.as_bytes()).await;
    assert!(
        import.body.contains("Đã nhập: 1 người mới"),
        "{}",
        import.body
    );
    // a trainee is not shown the desk
    let trainee = get_page(&app, "/people", &sign_in(&app, "hang.nt").await).await;
    assert_eq!(trainee.status, 403);
    assert!(trainee.body.contains("Không được phép"));
}

#[actix_rt::test]
async fn certificate_desk_searches_exports_and_revokes_where_the_role_allows() {
    let app = spawn_app().await;
    let c = crate::training::chain(&app).await;
    let hr = sign_in(&app, "nhansu.hn").await;
    // the master trainer of the chain is "Nguyễn Văn giang nv" at BHXH Hà Nội
    let desk = get_page(&app, "/certificates?q=nguyen+van+giang", &hr).await;
    assert_eq!(desk.status, 200, "{}", desk.body);
    assert!(desk.body.contains("GCN-BNV"), "{}", desk.body);
    assert!(!desk.body.contains("name=\"reason\""), "HR does not revoke");
    let refused = post_form(
        &app,
        "/certificates",
        &hr,
        &[
            ("action", "revoke"),
            ("id", &c.master_certificate.to_string()),
            ("reason", "thử"),
        ],
    )
    .await;
    assert_eq!(refused.status, 403);
    let csv = get_page(&app, "/certificates/export.csv?q=giang", &hr).await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with('\u{feff}'));
    assert!(csv.body.contains("Số,Họ và tên"));
    assert!(csv.body.contains("GCN-BNV"));
    let xlsx = get_page(&app, "/certificates/export.xlsx", &hr).await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.body.starts_with("PK"), "an XLSX is a ZIP");
    // the issuer's coordinator revokes, with a reason required
    let bnv = sign_in(&app, "dieuphoi.bnv").await;
    let desk = get_page(&app, "/certificates", &bnv).await;
    assert!(desk.body.contains("name=\"reason\""));
    let id = c.master_certificate.to_string();
    let empty = post_form(
        &app,
        "/certificates",
        &bnv,
        &[("action", "revoke"), ("id", &id), ("reason", " ")],
    )
    .await;
    assert_eq!(empty.status, 400);
    let revoked = post_form(
        &app,
        "/certificates",
        &bnv,
        &[
            ("action", "revoke"),
            ("id", &id),
            ("reason", "Cấp nhầm người"),
        ],
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert!(revoked.body.contains("Đã thu hồi giấy chứng nhận số"));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM certificates WHERE status = 'revoked'"),
        1
    );
}

#[actix_rt::test]
async fn coverage_page_shows_the_scope_with_download_links() {
    let app = spawn_app().await;
    crate::training::chain(&app).await;
    let hr = sign_in(&app, "nhansu.hn").await;
    let page = get_page(&app, "/reports/coverage", &hr).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("BHXH-HN"));
    assert!(
        !page.body.contains("BHXH-HCM"),
        "another province stays out"
    );
    assert!(page.body.contains("format=xlsx"));
}

/// The coordinator's journey through the pages alone: a tier-2 cohort from creation to its
/// certificates.
#[actix_rt::test]
async fn coordinator_runs_a_cohort_through_the_pages() {
    let app = spawn_app().await;
    let c = crate::training::chain(&app).await;
    let hn = sign_in(&app, "dieuphoi.hn").await;
    let schedule = get_page(&app, "/cohorts?month=2027-05", &hn).await;
    assert_eq!(schedule.status, 200, "{}", schedule.body);
    let form = get_page(&app, "/cohorts/new", &hn).await;
    assert_eq!(form.status, 200);
    let (course, org) = (c.tier2.to_string(), app.org("BHXH-HN").to_string());
    let created = post_form(
        &app,
        "/cohorts/new",
        &hn,
        &[
            ("course_id", &course),
            ("organization_id", &org),
            ("title", "Lớp tuyên truyền viên phường Ba Đình"),
            ("starts_on", "2027-05-10"),
            ("ends_on", "2027-05-11"),
            ("location", "Hà Nội"),
            ("mode", "in_person"),
            ("capacity", "30"),
        ],
    )
    .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let path = created.location.unwrap();
    let post = |form: Vec<(&'static str, String)>| {
        let (app, hn, path) = (&app, hn.clone(), path.clone());
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(app, &path, &hn, &pairs).await
        }
    };
    // an instructor without a master-trainer certificate: the rule's message, 422
    let refused = post(vec![
        ("action", "add_instructor".into()),
        ("user_id", c.tuan.to_string()),
    ])
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("notice-error"));
    let assigned = post(vec![
        ("action", "add_instructor".into()),
        ("user_id", c.master.to_string()),
    ])
    .await;
    assert_eq!(assigned.status, 200, "{}", assigned.body);
    let session = post(vec![
        ("action", "add_session".into()),
        ("day", "2027-05-10".into()),
        ("from", "08:00".into()),
        ("to", "16:00".into()),
        ("topic", "Luật Bảo hiểm xã hội 2024".into()),
    ])
    .await;
    assert_eq!(session.status, 200, "{}", session.body);
    let opened = post(vec![("action", "status".into()), ("status", "open".into())]).await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    // enrol by a search without diacritics
    let found = get_page(&app, &format!("{path}?q=nguyen+van+hang"), &hn).await;
    assert!(found.body.contains(&c.hang.to_string()), "{}", found.body);
    let enrolled = post(vec![
        ("action", "enroll".into()),
        ("user_id", c.hang.to_string()),
    ])
    .await;
    assert_eq!(enrolled.status, 200, "{}", enrolled.body);
    // a file that names someone unknown enrols nobody and says which line
    let upload = post_file(
        &app,
        &path,
        &hn,
        "file",
        b"username\ntuan.lv\nkhong.co.ai\n",
    )
    .await;
    assert_eq!(upload.status, 200);
    assert!(upload.body.contains("Dòng 3"), "{}", upload.body);
    let upload = post_file(&app, &path, &hn, "file", b"username\ntuan.lv\n").await;
    assert!(
        upload.body.contains("Đã ghi danh 1 người"),
        "{}",
        upload.body
    );
    let started = post(vec![
        ("action", "status".into()),
        ("status", "in_progress".into()),
    ])
    .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let ids: Vec<(uuid::Uuid, uuid::Uuid)> = {
        use cascade::db::schema::enrollments;
        use diesel::prelude::*;
        enrollments::table
            .select((enrollments::id, enrollments::user_id))
            .load(&mut app.db())
            .unwrap()
    };
    let hang = ids
        .iter()
        .find(|(_, u)| *u == c.hang)
        .unwrap()
        .0
        .to_string();
    let tuan = ids
        .iter()
        .find(|(_, u)| *u == c.tuan)
        .unwrap()
        .0
        .to_string();
    let session_id: uuid::Uuid = {
        use cascade::db::schema::sessions;
        use diesel::prelude::*;
        sessions::table
            .select(sessions::id)
            .first(&mut app.db())
            .unwrap()
    };
    let marked = post(vec![
        ("action", "attendance".into()),
        ("session_id", session_id.to_string()),
        ("enrolled", hang.clone()),
        ("enrolled", tuan.clone()),
        ("present", hang.clone()),
    ])
    .await;
    assert_eq!(marked.status, 200, "{}", marked.body);
    let scored = post(vec![
        ("action", "scores".into()),
        (
            Box::leak(format!("score-{hang}").into_boxed_str()),
            "87,5".into(),
        ),
        (
            Box::leak(format!("score-{tuan}").into_boxed_str()),
            "90".into(),
        ),
    ])
    .await;
    assert_eq!(scored.status, 200, "{}", scored.body);
    let unconfirmed = post(vec![("action", "finalize".into())]).await;
    assert_eq!(unconfirmed.status, 400);
    let done = post(vec![
        ("action", "finalize".into()),
        ("confirm", "yes".into()),
    ])
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body
            .contains("1 hoàn thành, 1 không đạt, 1 giấy chứng nhận"),
        "{}",
        done.body
    );
    // a trainee who types another person's cohort address: not found
    let other = get_page(&app, &path, &sign_in(&app, "khoa.dm").await).await;
    assert_eq!(other.status, 404);
    assert!(other.body.contains("Không tìm thấy"));
    // the trainee of the cohort sees it, without the coordinator's forms
    let own = get_page(&app, &path, &sign_in(&app, "hang.nt").await).await;
    assert_eq!(own.status, 200);
    assert!(!own.body.contains("name=\"action\""));
}

#[actix_rt::test]
async fn a_wrong_page_address_is_a_vietnamese_page_and_a_wrong_api_address_stays_json() {
    let app = spawn_app().await;
    World::build(&app).await;
    let page = get_page(&app, "/khong-co-trang-nay", "").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("<html lang=\"vi\">"), "{}", page.body);
    assert!(page.body.contains("Không tìm thấy"));
    let api = app.get("/api/v1/khong-co", None).await;
    assert_eq!(api.status.as_u16(), 404);
    assert_eq!(api.error_code(), "not_found");
    let hr = sign_in(&app, "nhansu.hn").await;
    let bad_query = get_page(&app, "/certificates?issued_from=hom-qua", &hr).await;
    assert_eq!(bad_query.status, 400);
    assert!(
        bad_query.body.contains("<html lang=\"vi\">"),
        "{}",
        bad_query.body
    );
    let bad_id = get_page(&app, "/cohorts/khong-phai-ma", &hr).await;
    assert_eq!(bad_id.status, 404);
    assert!(bad_id.body.contains("Không tìm thấy"));
}
