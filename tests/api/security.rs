//! Security findings of the outside test (issue 8): who may grant what, hostile text, sessions,
//! throttling, CSV exports and what the database log may hold. Each test failed before its fix.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::authorization::World;
use crate::harness::{assert_status, spawn_app, TestApp, PASSWORD};
use crate::training::{chain, cohort};

fn roles_of(app: &TestApp, id: Uuid) -> Vec<String> {
    use cascade::db::schema::user_roles;
    use diesel::prelude::*;
    let mut roles: Vec<String> = user_roles::table
        .filter(user_roles::user_id.eq(id))
        .select(user_roles::role)
        .load(&mut app.db())
        .unwrap();
    roles.sort();
    roles
}

fn id_of(app: &TestApp, username: &str) -> Uuid {
    use cascade::db::schema::users;
    use diesel::prelude::*;
    users::table
        .filter(users::username.eq(username))
        .select(users::id)
        .first(&mut app.db())
        .unwrap()
}

const IMPORT_HEADER: &str =
    "username,full_name,date_of_birth,national_id,email,organization_code,category,roles\n";

async fn import(app: &TestApp, token: &str, rows: &str) -> crate::harness::Answer {
    app.post_raw(
        "/api/v1/users/import",
        Some(token),
        "text/csv",
        format!("{IMPORT_HEADER}{rows}").into_bytes(),
    )
    .await
}

#[actix_rt::test]
async fn hr_officer_cannot_make_herself_a_coordinator() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let me = id_of(&app, "nhansu.hn");
    let answer = app
        .patch(
            &format!("/api/v1/users/{me}"),
            Some(&w.hr),
            &json!({"roles": ["hr", "coordinator"]}),
        )
        .await;
    assert_status(&answer, 403);
    // through the CSV import of her own row: refused by line, nothing written
    let answer = import(
        &app,
        &w.hr,
        "nhansu.hn,Nguyễn Văn nhansu hn,,,,BHXH-HN,public_employee,hr;coordinator\n",
    )
    .await;
    assert_status(&answer, 200);
    assert_eq!(answer.json["updated"], 0);
    assert!(
        answer.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("coordinator"),
        "{}",
        answer.json
    );
    assert_eq!(roles_of(&app, me), ["hr"]);
    // signed in again, still no coordinator
    let again = app.login("nhansu.hn").await;
    let cohort = app
        .post(
            "/api/v1/cohorts",
            Some(&again),
            &crate::training::cohort_body(Uuid::new_v4(), w.hn_branch, 10),
        )
        .await;
    assert_status(&cohort, 403);
}

#[actix_rt::test]
async fn hr_officer_cannot_set_a_coordinators_password() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let coordinator = id_of(&app, "dieuphoi.hn");
    let answer = app
        .patch(
            &format!("/api/v1/users/{coordinator}"),
            Some(&w.hr),
            &json!({"password": "mật khẩu của kẻ chiếm quyền"}),
        )
        .await;
    assert_status(&answer, 403);
    assert_status(
        &app.login_answer("dieuphoi.hn", "mật khẩu của kẻ chiếm quyền")
            .await,
        401,
    );
    assert_status(&app.login_answer("dieuphoi.hn", PASSWORD).await, 200);
}

#[actix_rt::test]
async fn hr_officer_creates_trainees_only_and_a_coordinator_grants_hr_and_coordinator() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let body = |username: &str, roles: &[&str]| {
        json!({"username": username, "full_name": "Trần Thị Mai", "organization_id": w.hn_unit,
               "roles": roles, "category": "civil_servant"})
    };
    for (token, username, roles, expected) in [
        (&w.hr, "mai.hr1", &["hr"][..], 403),
        (&w.hr, "mai.hr2", &["coordinator"][..], 403),
        (&w.hr, "mai.hr3", &["trainee"][..], 201),
        (&w.coordinator, "mai.co1", &["coordinator", "hr"][..], 201),
        (&w.coordinator, "mai.co2", &["admin"][..], 403),
        (&w.admin, "mai.ad1", &["admin"][..], 201),
    ] {
        let answer = app
            .post("/api/v1/users", Some(token), &body(username, roles))
            .await;
        assert_eq!(
            answer.status.as_u16(),
            expected,
            "{username} {roles:?}: {}",
            answer.json
        );
    }
}

/// The authorisation matrix of the grant rule over HTTP: grantor role × target's roles ×
/// own/other × field, each case on a fresh target.
#[actix_rt::test]
async fn grant_rule_matrix_grantor_target_own_other_field() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let grantors = [
        ("admin", w.admin.as_str(), "quantri"),
        ("coordinator", w.coordinator.as_str(), "dieuphoi.hn"),
        ("hr", w.hr.as_str(), "nhansu.hn"),
    ];
    let fields: [(&str, Value); 4] = [
        ("profile", json!({"full_name": "Phạm Văn Đổi"})),
        ("password", json!({"password": "một mật khẩu mới đủ dài"})),
        ("active", json!({"active": false})),
        ("roles", json!({"roles": ["trainee"]})),
    ];
    // who may touch a person holding this role
    let may = |grantor: &str, target: &str| match grantor {
        "admin" => true,
        "coordinator" => target != "admin",
        _ => target == "trainee",
    };
    let mut n = 0;
    for (grantor, token, _) in grantors {
        for target_role in ["trainee", "hr", "coordinator", "admin"] {
            for (field, body) in &fields {
                n += 1;
                // letters only: the fixture's full name is made from the username
                let letters: String = [n / 26, n % 26]
                    .iter()
                    .map(|d| (b'a' + *d as u8) as char)
                    .collect();
                let target = app.person(
                    &format!("dich.{letters}"),
                    "HN-BADINH",
                    &[target_role, "trainee"][..if target_role == "trainee" { 1 } else { 2 }],
                    "civil_servant",
                );
                let answer = app
                    .patch(&format!("/api/v1/users/{target}"), Some(token), body)
                    .await;
                let expected = if may(grantor, target_role) { 200 } else { 403 };
                assert_eq!(
                    answer.status.as_u16(),
                    expected,
                    "{grantor} → other {target_role}: {field}: {}",
                    answer.json
                );
            }
        }
    }
    // own account: the profile yes; roles, password and access never
    for (grantor, token, username) in grantors {
        let me = id_of(&app, username);
        for (field, body) in &fields {
            let body = if *field == "roles" {
                json!({"roles": [grantor, "trainee"]})
            } else {
                body.clone()
            };
            let answer = app
                .patch(&format!("/api/v1/users/{me}"), Some(token), &body)
                .await;
            let expected = if *field == "profile" { 200 } else { 403 };
            assert_eq!(
                answer.status.as_u16(),
                expected,
                "{grantor} → own: {field}: {}",
                answer.json
            );
        }
    }
}

#[actix_rt::test]
async fn a_role_change_is_audited_and_ends_the_persons_sessions() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let answer = app
        .patch(
            &format!("/api/v1/users/{}", w.trainee_id),
            Some(&w.coordinator),
            &json!({"roles": ["hr", "trainee"]}),
        )
        .await;
    assert_status(&answer, 200);
    assert_status(&app.get("/api/v1/me", Some(&w.trainee)).await, 401);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'user_updated' \
             AND object_id = '{}' AND details->'roles'->'to' = '[\"hr\",\"trainee\"]'::jsonb",
            w.trainee_id
        )),
        1
    );
}

#[actix_rt::test]
async fn a_role_change_through_the_csv_import_ends_the_persons_sessions() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    assert_status(&app.get("/api/v1/me", Some(&w.trainee)).await, 200);
    let answer = import(
        &app,
        &w.coordinator,
        "hang.nt,Nguyễn Văn hang nt,,,,HN-BADINH,civil_servant,trainee;hr\n",
    )
    .await;
    assert_status(&answer, 200);
    assert_eq!(answer.json["updated"], 1, "{}", answer.json);
    assert_eq!(roles_of(&app, w.trainee_id), ["hr", "trainee"]);
    assert_status(&app.get("/api/v1/me", Some(&w.trainee)).await, 401);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_events WHERE action = 'user_updated' \
             AND object_id = '{}' AND details->>'via' = 'import'",
            w.trainee_id
        )),
        1
    );
}

/// Every text input refuses a NUL with 400 (PostgreSQL would fail on it with a 500).
#[actix_rt::test]
async fn nul_byte_in_any_text_input_is_400_never_500() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let id = cohort(&app, &c.hn, c.tier2, "BHXH-HN", 30).await;
    let nul = "a\u{0}b";
    let mut cases: Vec<(&str, crate::harness::Answer)> = Vec::new();
    cases.push((
        "login username",
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "hang\u{0}nt", "password": "x"}),
        )
        .await,
    ));
    cases.push((
        "login password",
        app.post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "hang.nt", "password": nul}),
        )
        .await,
    ));
    cases.push((
        "user email",
        app.patch(
            &format!("/api/v1/users/{}", c.hang),
            Some(&c.hn),
            &json!({"email": "hang\u{0}@bhxh.gov.vn"}),
        )
        .await,
    ));
    for field in ["title", "location", "campaign"] {
        cases.push((
            field,
            app.patch(
                &format!("/api/v1/cohorts/{id}"),
                Some(&c.hn),
                &json!({ field: nul }),
            )
            .await,
        ));
    }
    cases.push((
        "session topic",
        app.post(
            &format!("/api/v1/cohorts/{id}/sessions"),
            Some(&c.hn),
            &json!({"starts_at": "2027-05-10T01:00:00Z", "ends_at": "2027-05-10T04:00:00Z",
                    "topic": nul}),
        )
        .await,
    ));
    cases.push((
        "search",
        app.get("/api/v1/users?q=a%00b", Some(&c.hn)).await,
    ));
    cases.push((
        "revocation reason",
        app.post(
            &format!("/api/v1/certificates/{}/revoke", c.master_certificate),
            Some(&c.bnv),
            &json!({"reason": nul}),
        )
        .await,
    ));
    cases.push((
        "organisation name",
        app.patch(
            &format!("/api/v1/organizations/{}", app.org("HN-BADINH")),
            Some(&c.admin),
            &json!({"name": nul}),
        )
        .await,
    ));
    for (label, answer) in &cases {
        assert_eq!(answer.status.as_u16(), 400, "{label}: {}", answer.json);
    }
    for (label, row) in [
        (
            "csv email",
            "mai.tt,Trần Thị Mai,,,mai\u{0}@x.vn,HN-BADINH,civil_servant,trainee\n",
        ),
        (
            "csv organization_code",
            "mai.tt,Trần Thị Mai,,,,HN\u{0}X,civil_servant,trainee\n",
        ),
    ] {
        let answer = import(&app, &c.hn, row).await;
        assert_status(&answer, 200);
        assert_eq!(answer.json["created"], 0, "{label}");
        assert_eq!(
            answer.json["errors"][0]["line"], 2,
            "{label}: {}",
            answer.json
        );
    }
    // nothing was written on the way
    assert_eq!(
        app.count("SELECT count(*) AS n FROM certificates WHERE status = 'revoked'"),
        0
    );
}

#[actix_rt::test]
async fn control_characters_in_names_and_free_text_are_refused() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let id = cohort(&app, &c.hn, c.tier2, "BHXH-HN", 30).await;
    let answer = app
        .patch(
            &format!("/api/v1/cohorts/{id}"),
            Some(&c.hn),
            &json!({"location": "Phường\u{7}Ba Đình\u{1}"}),
        )
        .await;
    assert_status(&answer, 400);
    assert!(answer.body.windows(6).any(|w| w == b"U+0007"));
    let answer = app
        .post(
            "/api/v1/users",
            Some(&c.hn),
            &json!({"username": "mai.tt", "full_name": "Trần\u{1}Thị Mai",
                    "organization_id": app.org("HN-BADINH"), "roles": ["trainee"],
                    "category": "civil_servant"}),
        )
        .await;
    assert_status(&answer, 400);
}

#[actix_rt::test]
async fn text_printed_on_a_certificate_refuses_characters_its_font_cannot_draw() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let answer = app
        .post(
            &format!("/api/v1/certificates/{}/reissue", c.master_certificate),
            Some(&c.bnv),
            &json!({"full_name": "Nguyễn Văn Giảng 😀"}),
        )
        .await;
    assert_status(&answer, 400);
    let message = answer.json["error"]["details"][0]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("😀") && message.contains("U+1F600"),
        "{message}"
    );
    let answer = app
        .post(
            "/api/v1/users",
            Some(&c.hn),
            &json!({"username": "wang", "full_name": "王小明",
                    "organization_id": app.org("HN-BADINH"), "roles": ["trainee"],
                    "category": "civil_servant"}),
        )
        .await;
    assert_status(&answer, 400);
    assert!(
        answer.body.windows(6).any(|w| w == b"U+738B"),
        "{}",
        answer.json
    );
    // a course title and a cohort's place are printed too
    let answer = app
        .post(
            "/api/v1/courses",
            Some(&c.bhxh),
            &json!({"code": "TTV-EMOJI", "title": "Bồi dưỡng 🎓", "tier": "propagandist",
                    "curriculum_version": "Luật BHXH 2024", "required_hours": 8,
                    "min_attendance_percent": 70, "pass_score": 50,
                    "certificate_validity_months": 24}),
        )
        .await;
    assert_status(&answer, 400);
    // nothing was issued
    assert_eq!(
        app.count("SELECT count(*) AS n FROM certificates WHERE status = 'superseded'"),
        0
    );
}

#[actix_rt::test]
async fn bidi_overrides_are_refused_in_names() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    for name in ["Nguyễn \u{202E}gnăH", "Lê\u{2066}Văn\u{2069} Tuấn"] {
        let answer = app
            .post(
                "/api/v1/users",
                Some(&c.hn),
                &json!({"username": "bidi.test", "full_name": name,
                        "organization_id": app.org("HN-BADINH"), "roles": ["trainee"],
                        "category": "civil_servant"}),
            )
            .await;
        assert_status(&answer, 400);
        let answer = app
            .post(
                &format!("/api/v1/certificates/{}/reissue", c.master_certificate),
                Some(&c.bnv),
                &json!({ "full_name": name }),
            )
            .await;
        assert_status(&answer, 400);
    }
}

#[actix_rt::test]
async fn every_free_text_field_has_a_limit_stated_in_the_openapi_document() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let id = cohort(&app, &c.hn, c.tier2, "BHXH-HN", 30).await;
    let answer = app
        .patch(
            &format!("/api/v1/cohorts/{id}"),
            Some(&c.hn),
            &json!({"campaign": "x".repeat(10_000)}),
        )
        .await;
    assert_status(&answer, 400);
    assert_eq!(answer.json["error"]["details"][0]["field"], "campaign");
    let doc = app.get("/api/openapi.json", None).await.json;
    let schemas = &doc["components"]["schemas"];
    for (schema, field, max) in [
        ("CreateCohort", "campaign", 100),
        ("CreateCohort", "title", 200),
        ("CreateCohort", "location", 150),
        ("UpdateCohort", "campaign", 100),
        ("CreateSession", "topic", 300),
        ("RevokeBody", "reason", 500),
        ("CreateUser", "full_name", 80),
        ("CreateUser", "email", 254),
        ("CreateOrganization", "name", 150),
        ("CreateCourse", "title", 200),
        ("LoginRequest", "username", 64),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["maxLength"], max,
            "{schema}.{field}"
        );
    }
}

#[actix_rt::test]
async fn reusing_a_rotated_refresh_token_ends_the_whole_session() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let first = app.login_answer("hang.nt", PASSWORD).await;
    let old_refresh = first.json["refresh_token"].as_str().unwrap().to_string();
    let rotated = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": old_refresh}),
        )
        .await;
    assert_status(&rotated, 200);
    let access = rotated.json["access_token"].as_str().unwrap().to_string();
    assert_status(&app.get("/api/v1/me", Some(&access)).await, 200);
    // the old token comes back: the thief or the owner, one of them is not who they say
    let reused = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": old_refresh}),
        )
        .await;
    assert_status(&reused, 401);
    assert_status(&app.get("/api/v1/me", Some(&access)).await, 401);
    let first_access = first.json["access_token"].as_str().unwrap();
    assert_status(&app.get("/api/v1/me", Some(first_access)).await, 401);
    // other sessions of the person go on
    assert_status(&app.get("/api/v1/me", Some(&w.trainee)).await, 200);
}

#[actix_rt::test]
async fn wrong_current_passwords_are_throttled_like_logins() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        let answer = app
            .post(
                "/api/v1/me/password",
                Some(&w.trainee),
                &json!({"current_password": format!("đoán sai lần {i}"),
                        "new_password": "một mật khẩu mới đủ dài"}),
            )
            .await;
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(&statuses[..5], &[400; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    // and the login of that account is locked with them
    assert_status(&app.login_answer("hang.nt", PASSWORD).await, 429);
}

#[actix_rt::test]
async fn password_change_names_the_new_password_field() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    let answer = app
        .post(
            "/api/v1/me/password",
            Some(&w.trainee),
            &json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_status(&answer, 400);
    assert_eq!(answer.json["error"]["details"][0]["field"], "new_password");
}

#[actix_rt::test]
async fn six_correct_logins_at_once_all_succeed() {
    let app = spawn_app().await;
    World::build(&app).await;
    let logins = (0..6).map(|_| app.login_answer("hang.nt", PASSWORD));
    let answers = futures_util::future::join_all(logins).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(statuses, [200; 6]);
}

#[actix_rt::test]
async fn coverage_csv_neutralises_cells_a_spreadsheet_would_run() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    app.unit(
        "HN-FORMULA",
        "=HYPERLINK(\"http://evil.example\",\"Bấm vào đây\")",
        "BHXH-HN",
    );
    app.unit("HN-PLUS", "+1+2", "BHXH-HN");
    let answer = app
        .get("/api/v1/reports/coverage?format=csv", Some(&w.coordinator))
        .await;
    assert_status(&answer, 200);
    let text = String::from_utf8_lossy(&answer.body);
    assert!(text.contains("\"'=HYPERLINK("), "{text}");
    assert!(text.contains(",'+1+2,"), "{text}");
    assert!(!text.contains(",=HYPERLINK") && !text.contains(",\"=HYPERLINK"));
}

#[actix_rt::test]
async fn probing_national_ids_is_audited_and_throttled() {
    let app = spawn_app().await;
    let w = World::build(&app).await;
    // a person in another province holds this CCCD
    app.give_national_id(w.far_person_id, "079185000001");
    let create = |n: usize, nid: &str| {
        json!({"username": format!("probe.{n}"), "full_name": "Trần Thị Dò",
               "organization_id": w.hn_unit, "roles": ["trainee"], "category": "civil_servant",
               "date_of_birth": "1985-01-01", "national_id": nid})
    };
    let mut statuses = Vec::new();
    for n in 0..7 {
        let answer = app
            .post(
                "/api/v1/users",
                Some(&w.coordinator),
                &create(n, "079185000001"),
            )
            .await;
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(&statuses[..5], &[409; 5], "{statuses:?}");
    assert_eq!(&statuses[5..], &[429; 2], "{statuses:?}");
    // every conflict is on the record, and no record holds the number
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'national_id_conflict'"),
        5
    );
    assert_eq!(
        app.count(
            "SELECT count(*) AS n FROM audit_events WHERE details::text LIKE '%079185000001%'"
        ),
        0
    );
    // the import, which tells the same, is held back too
    let answer = import(
        &app,
        &w.coordinator,
        "probe.x,Trần Thị Dò,1985-01-01,079185000002,,HN-BADINH,civil_servant,trainee\n",
    )
    .await;
    assert_status(&answer, 429);
    // other people's work goes on
    let answer = app
        .post("/api/v1/users", Some(&w.hr), &create(99, "001185000099"))
        .await;
    assert_status(&answer, 201);
}

/// The private cluster's own log never records a personal value, even for a duplicate-key
/// error whose DETAIL would name it.
#[test]
fn postgres_log_of_the_private_cluster_never_holds_a_national_id() {
    use diesel::{Connection, RunQueryDsl};
    let dir = tempfile::Builder::new()
        .prefix("cascade-pglog-")
        .tempdir_in("/tmp")
        .unwrap();
    std::process::Command::new("chmod")
        .arg("755")
        .arg(dir.path())
        .status()
        .unwrap();
    let mut cluster = cascade::db::cluster::PostgresCluster::start(dir.path()).unwrap();
    let mut conn = diesel::PgConnection::establish(&cluster.database_url("postgres")).unwrap();
    diesel::sql_query("CREATE TABLE people (national_id TEXT UNIQUE)")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query("INSERT INTO people VALUES ('001185012345')")
        .execute(&mut conn)
        .unwrap();
    let duplicate =
        diesel::sql_query("INSERT INTO people VALUES ('001185012345')").execute(&mut conn);
    assert!(duplicate.is_err());
    drop(conn);
    cluster.stop().unwrap();
    let log = std::fs::read_to_string(dir.path().join("postgres.log")).unwrap();
    assert!(log.contains("duplicate key"), "the error is logged: {log}");
    assert!(!log.contains("001185012345"), "{log}");
}
