//! Identity and access: logins, tokens that end, throttling, people, search, import.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use unicode_normalization::UnicodeNormalization;

use crate::harness::{assert_status, spawn_app, TestApp, PASSWORD};

/// The session id inside a genuine access token.
fn session_of(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sid"].as_str().unwrap().to_string()
}

fn claims(app_user: &str, sid: &str, overrides: Value) -> Value {
    let now = Utc::now().timestamp();
    let mut c = json!({
        "iss": "cascade", "aud": "cascade-api", "sub": app_user,
        "iat": now, "nbf": now, "exp": now + 600,
        "jti": "test-jti", "ver": 0, "typ": "access", "sid": sid
    });
    if let (Some(base), Some(extra)) = (c.as_object_mut(), overrides.as_object()) {
        for (k, v) in extra {
            if v.is_null() {
                base.remove(k);
            } else {
                base.insert(k.clone(), v.clone());
            }
        }
    }
    c
}

fn sign(app: &TestApp, alg: Algorithm, claims: &Value) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(&app.jwt_secret()),
    )
    .unwrap()
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me", Some(token)).await.status.as_u16()
}

#[actix_web::test]
async fn login_returns_a_token_pair_and_me_shows_the_person() {
    let app = spawn_app().await;
    let id = app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let answer = app.login_answer("hang.nt", PASSWORD).await;
    assert_status(&answer, 200);
    assert_eq!(answer.json["token_type"], "Bearer");
    assert!(answer.json["expires_in"].as_i64().unwrap() <= 900);
    assert!(answer.json["refresh_token"].is_string());
    let token = answer.json["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/me", Some(token)).await;
    assert_status(&me, 200);
    assert_eq!(me.json["id"], id.to_string());
    assert_eq!(me.json["roles"], json!(["trainee"]));
    assert_eq!(me.json["organization"]["code"], "BHXH-HN");
    assert!(me.json.get("password_hash").is_none());
    assert!(!String::from_utf8_lossy(&me.body).contains("argon2"));
}

#[actix_web::test]
async fn unknown_user_and_wrong_password_get_the_same_401() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let wrong = app.login_answer("hang.nt", "not the password").await;
    let unknown = app.login_answer("nobody.here", "not the password").await;
    assert_status(&wrong, 401);
    assert_status(&unknown, 401);
    assert_eq!(wrong.error_code(), "invalid_credentials");
    assert_eq!(wrong.body, unknown.body);
}

#[actix_web::test]
async fn forged_and_malformed_access_tokens_are_401() {
    let app = spawn_app().await;
    let id = app
        .person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant")
        .to_string();
    let sid = session_of(&app.login("hang.nt").await);
    let claims = |user: &str, overrides: Value| claims(user, &sid, overrides);
    // control: a correctly made token works
    let good = sign(&app, Algorithm::HS256, &claims(&id, json!({})));
    assert_eq!(me_status(&app, &good).await, 200);

    let now = Utc::now().timestamp();
    let cases: Vec<(&str, String)> = vec![
        ("alg none", {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let body = URL_SAFE_NO_PAD.encode(claims(&id, json!({})).to_string());
            format!("{header}.{body}.")
        }),
        ("wrong signature", {
            encode(
                &Header::new(Algorithm::HS256),
                &claims(&id, json!({})),
                &EncodingKey::from_secret(b"some other secret that is long enough!!"),
            )
            .unwrap()
        }),
        (
            "other algorithm",
            sign(&app, Algorithm::HS512, &claims(&id, json!({}))),
        ),
        (
            "expired",
            sign(
                &app,
                Algorithm::HS256,
                &claims(
                    &id,
                    json!({"iat": now - 3600, "nbf": now - 3600, "exp": now - 1800}),
                ),
            ),
        ),
        (
            "nbf in the future",
            sign(
                &app,
                Algorithm::HS256,
                &claims(&id, json!({"nbf": now + 600})),
            ),
        ),
        (
            "exp as a string",
            sign(
                &app,
                Algorithm::HS256,
                &claims(&id, json!({"exp": (now + 600).to_string()})),
            ),
        ),
        (
            "wrong iss",
            sign(
                &app,
                Algorithm::HS256,
                &claims(&id, json!({"iss": "someone-else"})),
            ),
        ),
        (
            "missing iss",
            sign(&app, Algorithm::HS256, &claims(&id, json!({"iss": null}))),
        ),
        (
            "wrong aud",
            sign(
                &app,
                Algorithm::HS256,
                &claims(&id, json!({"aud": "other-api"})),
            ),
        ),
        (
            "missing aud",
            sign(&app, Algorithm::HS256, &claims(&id, json!({"aud": null}))),
        ),
        (
            "missing exp",
            sign(&app, Algorithm::HS256, &claims(&id, json!({"exp": null}))),
        ),
        (
            "missing jti",
            sign(&app, Algorithm::HS256, &claims(&id, json!({"jti": null}))),
        ),
        (
            "not an access token",
            sign(
                &app,
                Algorithm::HS256,
                &claims(&id, json!({"typ": "refresh"})),
            ),
        ),
        (
            "old token version",
            sign(&app, Algorithm::HS256, &claims(&id, json!({"ver": 7}))),
        ),
        (
            "unknown user",
            sign(
                &app,
                Algorithm::HS256,
                &claims(&uuid::Uuid::new_v4().to_string(), json!({})),
            ),
        ),
        (
            "missing session",
            sign(&app, Algorithm::HS256, &claims(&id, json!({"sid": null}))),
        ),
        (
            "unknown session",
            sign(
                &app,
                Algorithm::HS256,
                &claims(&id, json!({"sid": uuid::Uuid::new_v4().to_string()})),
            ),
        ),
        ("garbage", "not.a.jwt".to_string()),
    ];
    for (name, token) in cases {
        let answer = app.get("/api/v1/me", Some(&token)).await;
        assert_eq!(answer.status.as_u16(), 401, "{name}");
        assert_eq!(answer.error_code(), "unauthenticated", "{name}");
    }
    let none = app.get("/api/v1/me", None).await;
    assert_status(&none, 401);
}

#[actix_web::test]
async fn a_refresh_token_is_not_an_access_token() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let pair = app.login_answer("hang.nt", PASSWORD).await;
    let refresh = pair.json["refresh_token"].as_str().unwrap();
    assert_eq!(me_status(&app, refresh).await, 401);
}

#[actix_web::test]
async fn logout_ends_the_access_token_and_its_refresh_tokens() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let pair = app.login_answer("hang.nt", PASSWORD).await;
    let access = pair.json["access_token"].as_str().unwrap();
    let refresh = pair.json["refresh_token"].as_str().unwrap();
    let out = app
        .post("/api/v1/auth/logout", Some(access), &json!({}))
        .await;
    assert_status(&out, 204);
    assert_eq!(me_status(&app, access).await, 401);
    let again = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_status(&again, 401);
}

#[actix_web::test]
async fn password_change_ends_the_other_sessions_and_the_new_password_works() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let other_session = app.login("hang.nt").await;
    let token = app.login("hang.nt").await;
    let weak = app
        .post(
            "/api/v1/me/password",
            Some(&token),
            &json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_status(&weak, 400);
    assert_eq!(weak.error_code(), "validation_failed");
    let wrong = app
        .post(
            "/api/v1/me/password",
            Some(&token),
            &json!({"current_password": "wrong one!!", "new_password": "một mật khẩu mới dài"}),
        )
        .await;
    assert_status(&wrong, 400);
    let ok = app
        .post(
            "/api/v1/me/password",
            Some(&token),
            &json!({"current_password": PASSWORD, "new_password": "một mật khẩu mới dài"}),
        )
        .await;
    assert_status(&ok, 204);
    // other sessions end; this one goes on
    assert_eq!(me_status(&app, &other_session).await, 401);
    assert_eq!(me_status(&app, &token).await, 200);
    assert_status(&app.login_answer("hang.nt", PASSWORD).await, 401);
    assert_status(
        &app.login_answer("hang.nt", "một mật khẩu mới dài").await,
        200,
    );
}

#[actix_web::test]
async fn deactivation_ends_every_session() {
    let app = spawn_app().await;
    let hang = app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
    let token = app.login("hang.nt").await;
    let hr = app.login("nhansu.hn").await;
    let off = app
        .patch(
            &format!("/api/v1/users/{hang}"),
            Some(&hr),
            &json!({"active": false}),
        )
        .await;
    assert_status(&off, 200);
    assert_eq!(off.json["active"], false);
    assert_eq!(me_status(&app, &token).await, 401);
    assert_status(&app.login_answer("hang.nt", PASSWORD).await, 401);
}

#[actix_web::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_family() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let first = app.login_answer("hang.nt", PASSWORD).await;
    let r1 = first.json["refresh_token"].as_str().unwrap().to_string();
    let second = app
        .post("/api/v1/auth/refresh", None, &json!({"refresh_token": r1}))
        .await;
    assert_status(&second, 200);
    let r2 = second.json["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    assert_eq!(
        me_status(&app, second.json["access_token"].as_str().unwrap()).await,
        200
    );
    // the old one again: refused, and the family is revoked
    let replay = app
        .post("/api/v1/auth/refresh", None, &json!({"refresh_token": r1}))
        .await;
    assert_status(&replay, 401);
    let after = app
        .post("/api/v1/auth/refresh", None, &json!({"refresh_token": r2}))
        .await;
    assert_status(&after, 401);
}

#[actix_web::test]
async fn repeated_failures_lock_the_account_with_429_and_retry_after() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    for _ in 0..5 {
        assert_status(&app.login_answer("hang.nt", "wrong password!").await, 401);
    }
    let locked = app.login_answer("hang.nt", PASSWORD).await;
    assert_status(&locked, 429);
    assert_eq!(locked.error_code(), "rate_limited");
    let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900);
}

#[actix_web::test]
async fn repeated_failures_from_one_address_are_throttled_across_accounts() {
    let app = spawn_app().await;
    for i in 0..30 {
        let name = format!("guess{i}");
        assert_status(&app.login_answer(&name, "wrong password!").await, 401);
    }
    let next = app.login_answer("someone.else", "wrong password!").await;
    assert_status(&next, 429);
    assert!(next.header("retry-after").is_some());
}

#[actix_web::test]
async fn login_sets_an_httponly_samesite_strict_cookie_that_pages_can_use() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let answer = app.login_answer("hang.nt", PASSWORD).await;
    let cookie = TestApp::session_cookie(&answer).expect("session cookie");
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Strict"));
    assert!(cookie.contains("Secure"), "public URL is https: {cookie}");
    let value = cookie.split(';').next().unwrap();
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .insert_header(("cookie", value))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
}

#[actix_web::test]
async fn failed_logins_are_audited_without_the_password() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    app.login_answer("hang.nt", "the-wrong-secret-123").await;
    app.login("hang.nt").await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'login_failed'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'login'"),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_events WHERE details::text LIKE '%the-wrong-secret%' \
             OR details::text LIKE '%{PASSWORD}%' OR details::text LIKE '%argon2%' OR details::text LIKE '%eyJ%'"
        )),
        0
    );
}

fn new_user(username: &str, org: uuid::Uuid) -> Value {
    json!({
        "username": username, "full_name": "Trần Thị Bích", "organization_id": org,
        "roles": ["trainee"], "category": "public_employee",
        "date_of_birth": "1990-02-08", "national_id": "001190000123"
    })
}

#[actix_web::test]
async fn decomposed_name_is_stored_composed_and_search_ignores_diacritics() {
    let app = spawn_app().await;
    app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
    let hr = app.login("nhansu.hn").await;
    let nfd: String = "Nguyễn Thị Hằng".nfd().collect();
    let mut body = new_user("hang.nt", app.org("BHXH-HN"));
    body["full_name"] = json!(nfd);
    let created = app.post("/api/v1/users", Some(&hr), &body).await;
    assert_status(&created, 201);
    assert_eq!(created.json["full_name"], "Nguyễn Thị Hằng");
    assert_eq!(
        created.json["full_name"].as_str().unwrap().len(),
        "Nguyễn Thị Hằng".len()
    );

    for q in ["nguyen thi hang", "NGUYỄN THỊ HẰNG", "thi hang", "Hằng"] {
        let found = app
            .get(&format!("/api/v1/users?q={}", urlencode(q)), Some(&hr))
            .await;
        assert_status(&found, 200);
        let names: Vec<&str> = found.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|u| u["full_name"].as_str())
            .collect();
        assert!(names.contains(&"Nguyễn Thị Hằng"), "q={q}: {names:?}");
    }
    let none = app.get("/api/v1/users?q=tran%20van", Some(&hr)).await;
    assert_eq!(none.json["total"], 0);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[actix_web::test]
async fn invalid_cccd_is_rejected_with_validation_failed() {
    let app = spawn_app().await;
    app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
    let hr = app.login("nhansu.hn").await;
    let mut body = new_user("binh.tt", app.org("BHXH-HN"));
    // century digit 2 says born 2000–2099, but the date of birth is 1990
    body["national_id"] = json!("001290000123");
    let answer = app.post("/api/v1/users", Some(&hr), &body).await;
    assert_status(&answer, 400);
    assert_eq!(answer.error_code(), "validation_failed");
    assert_eq!(answer.json["error"]["details"][0]["field"], "national_id");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'binh.tt'"),
        0
    );
}

#[actix_web::test]
async fn duplicate_username_is_409() {
    let app = spawn_app().await;
    app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
    let hr = app.login("nhansu.hn").await;
    let body = new_user("binh.tt", app.org("BHXH-HN"));
    assert_status(&app.post("/api/v1/users", Some(&hr), &body).await, 201);
    let mut again = body.clone();
    again["national_id"] = json!(null);
    let dup = app.post("/api/v1/users", Some(&hr), &again).await;
    assert_status(&dup, 409);
}

#[actix_web::test]
async fn coordinator_cannot_grant_admin() {
    let app = spawn_app().await;
    app.person(
        "dieuphoi.hn",
        "BHXH-HN",
        &["coordinator"],
        "public_employee",
    );
    let coord = app.login("dieuphoi.hn").await;
    let mut body = new_user("binh.tt", app.org("BHXH-HN"));
    body["roles"] = json!(["admin"]);
    let answer = app.post("/api/v1/users", Some(&coord), &body).await;
    assert_status(&answer, 403);
    assert_eq!(answer.error_code(), "forbidden");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'access_denied'"),
        1
    );
}

const CSV_HEADER: &str =
    "username,full_name,date_of_birth,national_id,email,organization_code,category,roles\n";

#[actix_web::test]
async fn csv_import_with_a_bad_line_changes_nothing() {
    let app = spawn_app().await;
    app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
    let hr = app.login("nhansu.hn").await;
    let before = app.count("SELECT count(*) AS n FROM users");
    let csv = format!(
        "{CSV_HEADER}binh.tt,Trần Thị Bình,1990-02-08,,,BHXH-HN,public_employee,trainee\n\
         an.lv,Lê Văn An,1980-01-01,001290000001,,BHXH-HN,official,trainee\n\
         cuong.pv,Phạm Văn Cường,,,,BHXH-HCM,official,trainee\n"
    );
    let answer = app
        .post_raw(
            "/api/v1/users/import",
            Some(&hr),
            "text/csv",
            csv.into_bytes(),
        )
        .await;
    assert_status(&answer, 200);
    assert_eq!(answer.json["created"], 0);
    let errors = answer.json["errors"].as_array().unwrap();
    let lines: Vec<i64> = errors.iter().map(|e| e["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, vec![3, 4], "{errors:?}");
    assert_eq!(app.count("SELECT count(*) AS n FROM users"), before);
}

#[actix_web::test]
async fn csv_import_creates_and_updates_in_scope() {
    let app = spawn_app().await;
    // a coordinator: the one who may grant `coordinator` below their branch
    app.person(
        "dieuphoi.hn",
        "BHXH-HN",
        &["coordinator"],
        "public_employee",
    );
    app.unit("HN-BADINH", "Ủy ban nhân dân phường Ba Đình", "BHXH-HN");
    let hr = app.login("dieuphoi.hn").await;
    let csv = format!(
        "{CSV_HEADER}binh.tt,Trần Thị Bình,1990-02-08,001190000123,binh@example.vn,BHXH-HN,public_employee,trainee\n\
         an.lv,Lê Văn An,,,,hn-badinh,official,\"trainee;coordinator\"\n"
    );
    let first = app
        .post_raw(
            "/api/v1/users/import",
            Some(&hr),
            "text/csv",
            csv.clone().into_bytes(),
        )
        .await;
    assert_status(&first, 200);
    assert_eq!(first.json["created"], 2, "{}", first.json);
    let second = app
        .post_raw(
            "/api/v1/users/import",
            Some(&hr),
            "text/csv; charset=utf-8",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(second.json["updated"], 2);
    assert_eq!(second.json["created"], 0);
    let wrong_type = app
        .post_raw(
            "/api/v1/users/import",
            Some(&hr),
            "application/json",
            b"{}".to_vec(),
        )
        .await;
    assert_status(&wrong_type, 415);
}

#[actix_web::test]
async fn csv_upload_over_10_mib_is_413() {
    let app = spawn_app().await;
    app.person("nhansu.hn", "BHXH-HN", &["hr"], "public_employee");
    let hr = app.login("nhansu.hn").await;
    let mut csv = CSV_HEADER.to_string().into_bytes();
    csv.resize(11 * 1024 * 1024, b'\n');
    let answer = app
        .post_raw("/api/v1/users/import", Some(&hr), "text/csv", csv)
        .await;
    assert_status(&answer, 413);
    assert_eq!(answer.error_code(), "payload_too_large");
}

#[actix_web::test]
async fn parallel_guesses_count_against_each_other() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let guesses: Vec<_> = (0..20).map(|i| format!("wrong password {i}")).collect();
    let answers =
        futures_util::future::join_all(guesses.iter().map(|g| app.login_answer("hang.nt", g)))
            .await;
    let checked = answers.iter().filter(|a| a.status.as_u16() == 401).count();
    let refused = answers.iter().filter(|a| a.status.as_u16() == 429).count();
    assert_eq!(checked, 5, "only five guesses may reach the password check");
    assert_eq!(refused, 15);
}

#[actix_web::test]
async fn the_session_cookie_does_not_authorise_changes_from_other_sites() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let answer = app.login_answer("hang.nt", PASSWORD).await;
    let cookie = TestApp::session_cookie(&answer)
        .expect("session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let logout = |origin: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/api/v1/auth/logout"))
            .insert_header(("cookie", cookie.clone()));
        if let Some(o) = origin {
            req = req.insert_header(("origin", o));
        }
        req.send()
    };
    assert_eq!(logout(None).await.unwrap().status().as_u16(), 403);
    assert_eq!(
        logout(Some("https://evil.example"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    // reading with the cookie is fine, and so is a change from Cascade's own origin
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .insert_header(("cookie", cookie.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
    assert_eq!(
        logout(Some("https://cascade.test"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        204
    );
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_client_is_throttled_on_its_own() {
    let (name, url) = crate::harness::fresh_database();
    let app =
        crate::harness::spawn_app_with(name, url, &[("CASCADE_TRUSTED_PROXIES", "127.0.0.1")])
            .await;
    let login = |from: &'static str, user: String| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .insert_header(("x-forwarded-for", from))
            .send_json(&json!({"username": user, "password": "wrong password!"}))
    };
    for i in 0..30 {
        let status = login("203.0.113.5", format!("guess{i}"))
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 401);
    }
    assert_eq!(
        login("203.0.113.5", "one.more".into())
            .await
            .unwrap()
            .status()
            .as_u16(),
        429
    );
    // another client behind the same balancer is not locked out
    assert_eq!(
        login("198.51.100.7", "someone".into())
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
}

#[actix_web::test]
async fn logout_ends_only_that_session() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let phone = app.login("hang.nt").await;
    let laptop = app.login("hang.nt").await;
    assert_status(
        &app.post("/api/v1/auth/logout", Some(&phone), &json!({}))
            .await,
        204,
    );
    assert_eq!(me_status(&app, &phone).await, 401);
    assert_eq!(me_status(&app, &laptop).await, 200);
}
