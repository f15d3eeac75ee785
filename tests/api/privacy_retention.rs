//! Retention and retirement (issue 14): `purge` deletes exactly what is past its period and
//! nothing a live rule reads; a retired person's login ends for good and their personal fields
//! are gone, while their certificates still verify and reports still count them.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::{json, Value};
use uuid::Uuid;

use cascade::domain::privacy::READ_ACTIONS;
use cascade::domain::retention::Retention;
use cascade::domain::retirement::RETIRED_NAME;
use cascade::service::retention::{purge, PurgeReport};

use crate::certificates::finished_cohort;
use crate::harness::{assert_status, spawn_app, Answer, TestApp, PASSWORD};
use crate::pages::{get_page, post_form, sign_in};
use crate::training::chain;

const CSV_HEADER: &str =
    "username,full_name,date_of_birth,national_id,email,organization_code,category,roles\n";

fn pool(app: &TestApp) -> cascade::db::Db {
    cascade::db::Db::connect(&app.database_url, 2).expect("pool")
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// A login attempt at `at`; its id.
fn login_attempt(app: &TestApp, username: &str, at: DateTime<Utc>, pending: bool) -> i64 {
    diesel::sql_query(
        "INSERT INTO login_failures (username, address, failed_at, pending) \
         VALUES ($1, '203.0.113.7', $2, $3) RETURNING id",
    )
    .bind::<Text, _>(username)
    .bind::<Timestamptz, _>(at)
    .bind::<Bool, _>(pending)
    .get_result::<Id>(&mut app.db())
    .expect("insert login attempt")
    .id
}

/// An audit event of `action` at `at`; its id.
fn event(app: &TestApp, action: &str, at: DateTime<Utc>) -> i64 {
    diesel::sql_query(
        "INSERT INTO audit_events (occurred_at, action, object_type, address) \
         VALUES ($1, $2, 'user', '203.0.113.7') RETURNING id",
    )
    .bind::<Timestamptz, _>(at)
    .bind::<Text, _>(action)
    .get_result::<Id>(&mut app.db())
    .expect("insert audit event")
    .id
}

/// A login session of `user` started at `created`, ended at `revoked` (if it was), with one
/// refresh token that expires at `refresh_expires`; its id.
fn session(
    app: &TestApp,
    user: Uuid,
    created: DateTime<Utc>,
    revoked: Option<DateTime<Utc>>,
    refresh_expires: DateTime<Utc>,
) -> Uuid {
    let id = Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO login_sessions (id, user_id, created_at, revoked_at) VALUES ($1, $2, $3, $4)",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(user)
    .bind::<Timestamptz, _>(created)
    .bind::<diesel::sql_types::Nullable<Timestamptz>, _>(revoked)
    .execute(&mut app.db())
    .expect("insert session");
    diesel::sql_query(
        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, token_version, created_at, \
                                     expires_at, revoked_at) \
         VALUES ($1, $2, sha256(gen_random_uuid()::text::bytea), 0, $3, $4, $5)",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<SqlUuid, _>(id)
    .bind::<Timestamptz, _>(created)
    .bind::<Timestamptz, _>(refresh_expires)
    .bind::<diesel::sql_types::Nullable<Timestamptz>, _>(revoked)
    .execute(&mut app.db())
    .expect("insert refresh token");
    id
}

fn ids(app: &TestApp, sql: &str) -> Vec<i64> {
    let mut found: Vec<i64> = diesel::sql_query(sql)
        .load::<Id>(&mut app.db())
        .expect(sql)
        .into_iter()
        .map(|r| r.id)
        .collect();
    found.sort_unstable();
    found
}

fn session_ids(app: &TestApp) -> Vec<Uuid> {
    #[derive(QueryableByName)]
    struct S {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let mut found: Vec<Uuid> = diesel::sql_query("SELECT id FROM login_sessions")
        .load::<S>(&mut app.db())
        .expect("sessions")
        .into_iter()
        .map(|s| s.id)
        .collect();
    found.sort_unstable();
    found
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort_unstable();
    v
}

#[actix_web::test]
async fn purge_removes_exactly_what_is_past_its_period() {
    let app = spawn_app().await;
    let hang = app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    // a live login first (a login tidies the throttle's own old rows, which would blur the count)
    let token = app.login("hang.nt").await;
    let live: Vec<Uuid> = session_ids(&app);
    assert_eq!(live.len(), 1);

    let now = Utc::now();
    let days = Duration::days;
    let retention = Retention {
        login_attempts_days: 90,
        read_events_days: 730,
        sessions_days: 30,
    };

    // login attempts: 90 days
    let old_failure = login_attempt(
        &app,
        "hang.nt",
        now - days(90) - Duration::minutes(1),
        false,
    );
    let old_pending = login_attempt(&app, "ai.do", now - days(200), true);
    let young_failure = login_attempt(
        &app,
        "hang.nt",
        now - days(90) + Duration::minutes(1),
        false,
    );
    let recent_failure = login_attempt(&app, "ai.do", now - Duration::minutes(3), false);
    // and the audit events of failed logins, which carry the username typed
    let old_failed_login = event(&app, "login_failed", now - days(90) - Duration::minutes(1));
    let young_failed_login = event(&app, "login_failed", now - days(90) + Duration::minutes(1));

    // read events: 730 days, every read action; other events stay whatever their age
    let mut old_reads = Vec::new();
    let mut young_reads = Vec::new();
    for action in READ_ACTIONS {
        old_reads.push(event(&app, action, now - days(730) - Duration::minutes(1)));
        young_reads.push(event(&app, action, now - days(730) + Duration::minutes(1)));
    }
    let old_change = event(&app, "user_updated", now - days(3000));
    let old_login = event(&app, "login", now - days(3000));

    // sessions: 30 days after they ended
    let ended_long_ago = session(
        &app,
        hang,
        now - days(60),
        Some(now - days(31)),
        now - days(31),
    );
    let ended_lately = session(
        &app,
        hang,
        now - days(60),
        Some(now - days(29)),
        now - days(29),
    );
    let expired_long_ago = session(&app, hang, now - days(60), None, now - days(31));
    let expired_lately = session(&app, hang, now - days(60), None, now - days(29));
    let still_open = session(&app, hang, now - days(60), None, now + days(5));

    let events_before = app.count("SELECT count(*) AS n FROM audit_events");
    let report = purge(&pool(&app), now, &retention).await.unwrap();
    assert_eq!(
        report,
        PurgeReport {
            login_attempts: 3,
            read_events: 3,
            sessions: 2,
        }
    );

    assert_eq!(
        ids(&app, "SELECT id FROM login_failures"),
        sorted(vec![young_failure, recent_failure])
    );
    let gone = ids(
        &app,
        &format!("SELECT id FROM login_failures WHERE id IN ({old_failure}, {old_pending})"),
    );
    assert!(gone.is_empty());
    let mut kept_events = young_reads.clone();
    kept_events.extend([old_change, old_login, young_failed_login]);
    let all_events = ids(
        &app,
        "SELECT id FROM audit_events WHERE action <> 'retention_purged'",
    );
    for id in old_reads.iter().chain([&old_failed_login]) {
        assert!(!all_events.contains(id), "old event {id} was kept");
    }
    for id in &kept_events {
        assert!(all_events.contains(id), "event {id} was deleted");
    }
    // the purge deleted four events and recorded itself
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events"),
        events_before - 4 + 1
    );
    let mut expected_sessions = vec![ended_lately, expired_lately, still_open];
    expected_sessions.extend(live);
    assert_eq!(session_ids(&app), sorted(expected_sessions));
    for gone in [ended_long_ago, expired_long_ago] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) AS n FROM refresh_tokens WHERE family_id = '{gone}'"
            )),
            0,
            "the refresh tokens of a purged session go with it"
        );
    }
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM refresh_tokens WHERE family_id = '{still_open}'"
        )),
        1
    );

    // the purge's own event carries the counts
    #[derive(QueryableByName)]
    struct Details {
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        details: Value,
    }
    let recorded: Details =
        diesel::sql_query("SELECT details FROM audit_events WHERE action = 'retention_purged'")
            .get_result(&mut app.db())
            .unwrap();
    assert_eq!(
        recorded.details["deleted"],
        json!({"login_attempts": 3, "read_events": 3, "sessions": 2})
    );
    assert_eq!(recorded.details["retention_days"]["sessions"], 30);

    // the live session goes on
    assert_status(&app.get("/api/v1/me", Some(&token)).await, 200);

    // a second purge at the same instant finds nothing more
    let again = purge(&pool(&app), now, &retention).await.unwrap();
    assert_eq!(again, PurgeReport::default());
}

#[actix_web::test]
async fn purge_keeps_what_the_login_throttle_still_reads() {
    let app = spawn_app().await;
    app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    let tuan = app.person("tuan.lv", "BHXH-HN", &["trainee"], "official");
    let token = app.login("tuan.lv").await;
    for _ in 0..5 {
        let wrong = app.login_answer("hang.nt", "không-phải-mật-khẩu").await;
        assert_status(&wrong, 401);
    }
    assert_status(&app.login_answer("hang.nt", PASSWORD).await, 429);
    let now = Utc::now();
    // a check still in flight counts against the next attempt too
    let in_flight = login_attempt(&app, "hang.nt", now - Duration::seconds(2), true);
    // an old open session whose refresh token is still good is a live session
    let long_lived = session(
        &app,
        tuan,
        now - Duration::days(40),
        None,
        now + Duration::days(2),
    );
    let attempts_before = app.count("SELECT count(*) AS n FROM login_failures");

    // the shortest periods there are
    let shortest = Retention {
        login_attempts_days: 1,
        read_events_days: 1,
        sessions_days: 1,
    };
    let report = purge(&pool(&app), now, &shortest).await.unwrap();
    assert_eq!(report.login_attempts, 0);
    assert_eq!(report.sessions, 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM login_failures"),
        attempts_before
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM login_failures WHERE id = {in_flight}"
        )),
        1
    );
    assert!(session_ids(&app).contains(&long_lived));
    // the account is still locked, and the signed-in person still signed in
    assert_status(&app.login_answer("hang.nt", PASSWORD).await, 429);
    assert_status(&app.get("/api/v1/me", Some(&token)).await, 200);
}

/// An administrator and the person they will retire, who signs in with a password.
struct Retiring {
    admin: String,
    person: Uuid,
}

async fn admin_and_person(app: &TestApp) -> Retiring {
    app.person("quantri", "BNV", &["admin"], "civil_servant");
    let person = app.person("hang.nt", "BHXH-HN", &["trainee"], "civil_servant");
    Retiring {
        admin: app.login("quantri").await,
        person,
    }
}

async fn retire(app: &TestApp, token: &str, id: Uuid, body: Value) -> Answer {
    app.post(&format!("/api/v1/users/{id}/retire"), Some(token), &body)
        .await
}

#[actix_web::test]
async fn a_retired_person_cannot_sign_in_and_their_token_stops_at_once() {
    let app = spawn_app().await;
    let r = admin_and_person(&app).await;
    let signed_in = app.login_answer("hang.nt", PASSWORD).await;
    assert_status(&signed_in, 200);
    let access = signed_in.json["access_token"].as_str().unwrap().to_string();
    let refresh = signed_in.json["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let cookies = sign_in(&app, "hang.nt").await;
    assert_status(&app.get("/api/v1/me", Some(&access)).await, 200);

    let retired = retire(
        &app,
        &r.admin,
        r.person,
        json!({"reason": "Đơn đề nghị ngày 20/11/2026"}),
    )
    .await;
    assert_status(&retired, 200);
    assert_eq!(retired.json["active"], false);

    // the very next request with the token fails, and so does the refresh token and the page
    assert_status(&app.get("/api/v1/me", Some(&access)).await, 401);
    let renewed = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert_status(&renewed, 401);
    let page = get_page(&app, "/me", &cookies).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM login_sessions WHERE user_id = '{}' AND revoked_at IS NULL",
            r.person
        )),
        0
    );

    // signing in fails as for someone who never existed: same status, code and message
    let unknown = app.login_answer("khong.ai.ca", PASSWORD).await;
    assert_status(&unknown, 401);
    let tombstone = retired.json["username"].as_str().unwrap().to_string();
    for username in ["hang.nt", tombstone.as_str()] {
        let refused = app.login_answer(username, PASSWORD).await;
        assert_status(&refused, 401);
        assert_eq!(refused.json, unknown.json, "a hint for {username}");
    }
}

/// The columns of `users` that hold the CCCD in any form (plain, sealed, blind index).
fn national_id_columns(app: &TestApp) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        column_name: String,
    }
    diesel::sql_query(
        "SELECT column_name::text AS column_name FROM information_schema.columns \
          WHERE table_name = 'users' AND column_name LIKE 'national_id%'",
    )
    .load::<Column>(&mut app.db())
    .unwrap()
    .into_iter()
    .map(|c| c.column_name)
    .collect()
}

#[actix_web::test]
async fn retiring_erases_the_personal_fields_from_the_database() {
    let app = spawn_app().await;
    app.person("quantri", "BNV", &["admin"], "civil_servant");
    let admin = app.login("quantri").await;
    let created = app
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({
                "username": "lan.pt", "full_name": "Phạm Thị Lan", "organization_id": app.org("BHXH-HN"),
                "roles": ["trainee"], "category": "public_employee", "date_of_birth": "1985-04-12",
                "national_id": "001185012345", "email": "lan.pt@example.vn",
                "password": "mật-khẩu-của-lan-2027",
            }),
        )
        .await;
    assert_status(&created, 201);
    let id: Uuid = created.json["id"].as_str().unwrap().parse().unwrap();

    let failed = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "lan.pt", "password": "sai-mật-khẩu"}),
        )
        .await;
    assert_status(&failed, 401);
    let retired = retire(&app, &admin, id, json!({"reason": "Người dùng yêu cầu"})).await;
    assert_status(&retired, 200);
    let tombstone = format!("retired-{}", &id.simple().to_string()[..8]);
    assert_eq!(retired.json["username"], tombstone);
    assert_eq!(retired.json["full_name"], RETIRED_NAME);
    assert_eq!(retired.json["date_of_birth"], Value::Null);
    assert_eq!(retired.json["national_id"], Value::Null);
    assert_eq!(retired.json["email"], Value::Null);
    assert_eq!(retired.json["has_login"], false);

    // the row itself
    let row = |condition: &str| {
        app.count(&format!(
            "SELECT count(*) AS n FROM users WHERE id = '{id}' AND {condition}"
        ))
    };
    for column in national_id_columns(&app) {
        assert_eq!(row(&format!("{column} IS NULL")), 1, "{column} kept");
    }
    for condition in [
        "date_of_birth IS NULL",
        "email IS NULL",
        "password_hash IS NULL",
        "NOT active",
        "retired_at IS NOT NULL",
        &format!("username = '{tombstone}'"),
        &format!("full_name = '{RETIRED_NAME}'"),
        "name_search NOT LIKE '%lan%'",
        "organization_id IS NOT NULL",
    ] {
        assert_eq!(row(condition), 1, "not so: {condition}");
    }
    // nothing of the old values anywhere in the row
    for value in [
        "lan.pt",
        "Phạm Thị Lan",
        "pham thi lan",
        "001185012345",
        "1985-04-12",
        "lan.pt@example.vn",
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) AS n FROM users u WHERE id = '{id}' AND u::text ILIKE '%{value}%'"
            )),
            0,
            "{value} is still in the row"
        );
    }
    // nor in the audit trail, whose events stay (user_created recorded the username; a failed
    // login typed it)
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_events \
              WHERE subject_id = '{id}' AND action = 'user_created'"
        )),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events a WHERE a::text ILIKE '%lan.pt%'"),
        0,
        "the username is still in the audit trail"
    );
    // the old username is kept only as a keyed hash
    assert_eq!(app.count("SELECT count(*) AS n FROM retired_usernames"), 1);
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM retired_usernames \
              WHERE position(convert_to('lan.pt', 'UTF8') IN username_index) > 0"
        ),
        0
    );
    // the retirement is in the audit trail with its reason, about the person
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'user_retired' \
               AND subject_id = '{id}' AND details->>'reason' = 'Người dùng yêu cầu'"
        )),
        1
    );
    // and nobody finds them by their old name
    let found = app
        .get("/api/v1/users?q=pham%20thi%20lan", Some(&admin))
        .await;
    assert_eq!(found.json["total"], 0);
}

#[actix_web::test]
async fn a_retired_persons_certificate_still_verifies_with_the_name_it_was_signed_with() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let (_, done) = finished_cohort(&app, &c).await;
    let hang = c.hang.to_string();
    let certificate = done.json["issued"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["holder"]["id"] == hang.as_str())
        .unwrap_or_else(|| panic!("no certificate of hang in {}", done.json))
        .clone();
    let code = certificate["verification_code"].as_str().unwrap();
    let before = app.get(&format!("/api/v1/verify/{code}"), None).await;
    assert_status(&before, 200);
    let signed_name = before.json["holder_name"].as_str().unwrap().to_string();
    assert_ne!(signed_name, RETIRED_NAME);

    assert_status(
        &retire(&app, &c.admin, c.hang, json!({"reason": "Yêu cầu rút"})).await,
        200,
    );

    let after = app.get(&format!("/api/v1/verify/{code}"), None).await;
    assert_status(&after, 200);
    assert_eq!(after.json["status"], "valid");
    assert_eq!(after.json["holder_name"], signed_name.as_str());
    assert_eq!(after.json, before.json);
    // the row and its PDF are untouched; the enrolment stays
    let id = certificate["id"].as_str().unwrap();
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM certificates WHERE id = '{id}' AND status = 'valid' \
               AND holder_name = '{signed_name}'"
        )),
        1
    );
    let pdf = app
        .get(&format!("/api/v1/certificates/{id}/pdf"), Some(&c.admin))
        .await;
    assert_status(&pdf, 200);
    assert!(pdf.body.starts_with(b"%PDF"));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM enrollments WHERE user_id = '{}' AND status = 'completed'",
            c.hang
        )),
        1
    );
}

#[actix_web::test]
async fn a_retired_username_cannot_be_taken_again() {
    let app = spawn_app().await;
    let r = admin_and_person(&app).await;
    let retired = retire(&app, &r.admin, r.person, json!({"reason": "Yêu cầu rút"})).await;
    assert_status(&retired, 200);
    let tombstone = retired.json["username"].as_str().unwrap().to_string();

    for username in ["hang.nt", " HANG.NT "] {
        let again = app
            .post(
                "/api/v1/users",
                Some(&r.admin),
                &json!({
                    "username": username, "full_name": "Người Mới", "organization_id": app.org("BHXH-HN"),
                    "roles": ["trainee"], "category": "official",
                }),
            )
            .await;
        assert_status(&again, 409);
        assert_eq!(again.error_code(), "conflict");
        assert!(
            again.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("đã từng được dùng"),
            "{}",
            again.json
        );
    }

    // nor by import, and the retired row cannot be written over through its tombstone either
    let users_before = app.count("SELECT count(*) AS n FROM users");
    let csv = format!(
        "{CSV_HEADER}hang.nt,Nguyễn Thị Hằng,,,,BHXH-HN,civil_servant,trainee\n\
         {tombstone},Nguyễn Thị Hằng,1990-01-01,,,BHXH-HN,civil_servant,trainee\n"
    );
    let imported = app
        .post_raw(
            "/api/v1/users/import",
            Some(&r.admin),
            "text/csv",
            csv.into_bytes(),
        )
        .await;
    assert_status(&imported, 200);
    assert_eq!(imported.json["created"], 0);
    assert_eq!(imported.json["updated"], 0);
    let lines: Vec<i64> = imported.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 3], "{}", imported.json);
    assert_eq!(app.count("SELECT count(*) AS n FROM users"), users_before);

    // nor brought back by a change
    let revived = app
        .patch(
            &format!("/api/v1/users/{}", r.person),
            Some(&r.admin),
            &json!({"active": true, "password": "một-mật-khẩu-mới-2027"}),
        )
        .await;
    assert_status(&revived, 409);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM users WHERE id = '{}' AND NOT active AND password_hash IS NULL",
            r.person
        )),
        1
    );
}

#[actix_web::test]
async fn only_an_administrator_retires_and_a_reason_is_required() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let untouched = || {
        app.count(&format!(
            "SELECT count(*) AS n FROM users WHERE id = '{}' AND active AND retired_at IS NULL \
               AND username = 'hang.nt'",
            c.hang
        ))
    };
    let body = json!({"reason": "Yêu cầu rút"});

    // not signed in, a coordinator over her, an HR officer, herself
    assert_status(
        &app.post(&format!("/api/v1/users/{}/retire", c.hang), None, &body)
            .await,
        401,
    );
    for token in [&c.hn, &c.hr_hn, &c.hang_token] {
        let refused = retire(&app, token, c.hang, body.clone()).await;
        assert_status(&refused, 403);
        assert_eq!(refused.error_code(), "forbidden");
    }
    assert!(
        app.count(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'access_denied' \
               AND object_id = 'retire_user'"
        ) >= 3
    );

    // a reason is required, at most 500 characters: 400 with the field, nothing written
    for bad in [
        json!({}),
        json!({"reason": ""}),
        json!({"reason": "   "}),
        json!({"reason": "x".repeat(501)}),
    ] {
        let refused = retire(&app, &c.admin, c.hang, bad.clone()).await;
        assert_status(&refused, 400);
        assert_eq!(refused.error_code(), "validation_failed", "{bad}");
        assert_eq!(refused.json["error"]["details"][0]["field"], "reason");
    }
    assert_eq!(untouched(), 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'user_retired'"),
        0
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM retired_usernames"), 0);

    // an administrator may not retire themselves (403, as for locking one's own account)
    let admin: Uuid = app.get("/api/v1/me", Some(&c.admin)).await.json["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_status(&retire(&app, &c.admin, admin, body.clone()).await, 403);
    // nobody by that id: 404
    assert_status(
        &retire(&app, &c.admin, Uuid::new_v4(), body.clone()).await,
        404,
    );

    // the administrator retires her, once: a second time is a conflict
    assert_status(&retire(&app, &c.admin, c.hang, body.clone()).await, 200);
    let twice = retire(&app, &c.admin, c.hang, body.clone()).await;
    assert_status(&twice, 409);
    assert_eq!(twice.error_code(), "conflict");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'user_retired'"),
        1
    );
}

#[actix_web::test]
async fn reports_keep_counting_retired_people() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    finished_cohort(&app, &c).await;
    let coverage = |org: &str| format!("/api/v1/reports/coverage?organization_id={}", app.org(org));
    let mut before = Vec::new();
    for org in ["BHXH-HN", "BHXH", "BNV"] {
        let report = app.get(&coverage(org), Some(&c.admin)).await;
        assert_status(&report, 200);
        before.push(report.json);
    }
    assert!(before[0].to_string().contains("\"propagandists_valid\":3"));

    for person in [c.hang, c.tuan, c.master] {
        assert_status(
            &retire(&app, &c.admin, person, json!({"reason": "Yêu cầu rút"})).await,
            200,
        );
    }
    for (i, org) in ["BHXH-HN", "BHXH", "BNV"].into_iter().enumerate() {
        let after = app.get(&coverage(org), Some(&c.admin)).await;
        assert_status(&after, 200);
        assert_eq!(after.json, before[i], "coverage of {org} changed");
    }
}

#[actix_web::test]
async fn an_administrator_retires_a_person_from_the_page_after_confirming() {
    let app = spawn_app().await;
    let r = admin_and_person(&app).await;
    app.person(
        "dieuphoi.hn",
        "BHXH-HN",
        &["coordinator"],
        "public_employee",
    );
    let admin = sign_in(&app, "quantri").await;
    let path = format!("/people/{}/retire", r.person);

    let form = get_page(&app, &path, &admin).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("Nguyễn Văn hang nt"));
    assert!(form.body.contains("không thể hoàn tác"));

    // a coordinator is refused the page
    let coordinator = sign_in(&app, "dieuphoi.hn").await;
    assert_eq!(get_page(&app, &path, &coordinator).await.status, 403);

    // without the confirmation, or without a reason, nothing happens
    let unconfirmed = post_form(&app, &path, &admin, &[("reason", "Đơn đề nghị")]).await;
    assert_eq!(unconfirmed.status, 400, "{}", unconfirmed.body);
    assert!(unconfirmed.body.contains("Hãy đánh dấu xác nhận"));
    let no_reason = post_form(&app, &path, &admin, &[("reason", " "), ("confirm", "yes")]).await;
    assert_eq!(no_reason.status, 400);
    assert!(no_reason.body.contains("Lý do không được để trống."));
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE retired_at IS NOT NULL"),
        0
    );

    let done = post_form(
        &app,
        &path,
        &admin,
        &[("reason", "Đơn đề nghị ngày 20/11"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Đã rút người này khỏi hệ thống"));
    assert!(done.body.contains(RETIRED_NAME));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM users WHERE id = '{}' AND retired_at IS NOT NULL",
            r.person
        )),
        1
    );
    // the page now says so, with no form
    let after = get_page(&app, &path, &admin).await;
    assert!(after.body.contains("đã rút khỏi hệ thống trước đây"));
    assert!(!after.body.contains("<form class=\"form\" method=\"post\""));
}

#[actix_web::test]
async fn cascade_purge_applies_the_configured_periods_and_says_what_it_deleted() {
    use std::process::Command;
    let app = spawn_app().await;
    let now = Utc::now();
    login_attempt(&app, "ai.do", now - Duration::days(10), false);
    login_attempt(&app, "ai.do", now - Duration::days(3), false);
    let data = tempfile::tempdir().unwrap();
    let purge = |days: &str| {
        Command::new(env!("CARGO_BIN_EXE_cascade"))
            .arg("purge")
            .env("DATABASE_URL", &app.database_url)
            .env("CASCADE_DATA_DIR", data.path())
            .env("CASCADE_RETAIN_LOGIN_ATTEMPTS_DAYS", days)
            .env("RUST_LOG", "error")
            .output()
            .unwrap()
    };

    // a period that is no number of days stops it before it touches anything
    let refused = purge("0");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("CASCADE_RETAIN_LOGIN_ATTEMPTS_DAYS"));
    assert_eq!(app.count("SELECT count(*) AS n FROM login_failures"), 2);

    let done = purge("7");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let said = String::from_utf8(done.stdout).unwrap();
    assert!(
        said.contains(
            "Đã xóa 1 lượt thử đăng nhập, 0 lần xem dữ liệu cá nhân và 0 phiên đăng nhập"
        ),
        "{said}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM login_failures"), 1);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'retention_purged'"),
        1
    );
}
