//! Conformance of the API to its OpenAPI document (issue 13): the document itself, 405 with
//! `Allow`, whole numbers sent as `30.0`, and the faults schemathesis and people found.

use std::collections::HashSet;

use awc::http::Method;
use serde_json::{json, Value};

use crate::harness::{assert_status, spawn_app};
use crate::training::{chain, cohort};

const PUBLIC: &[&str] = &[
    "openapi_document",
    "health_healthz",
    "health_readyz",
    "auth_login",
    "auth_refresh",
    "certificates_verify",
    "certificates_keys",
];

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                out.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

#[actix_web::test]
async fn every_operation_has_a_unique_operation_id_named_after_its_handler() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json", None).await.json;
    let ops = operations(&doc);
    assert!(ops.len() >= 48, "only {} operations documented", ops.len());
    let mut seen = HashSet::new();
    for (method, path, op) in &ops {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(seen.insert(id.to_string()), "operationId {id} repeats");
        assert!(
            id.contains('_') && id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{id} is not module_function"
        );
    }
    assert!(seen.contains("users_list") && seen.contains("cohorts_get"));
}

#[actix_web::test]
async fn the_document_declares_bearer_and_cookie_security_and_who_needs_it() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json", None).await.json;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["bearer"]["bearerFormat"], "JWT");
    assert_eq!(schemes["session_cookie"]["type"], "apiKey");
    assert_eq!(schemes["session_cookie"]["in"], "cookie");
    assert_eq!(schemes["session_cookie"]["name"], "cascade_session");
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default();
        if PUBLIC.contains(&id) {
            assert!(op.get("security").is_none(), "{method} {path} is public");
            continue;
        }
        let security = op["security"].as_array().unwrap_or_else(|| {
            panic!("{method} {path} declares no security");
        });
        let names: Vec<&str> = security
            .iter()
            .flat_map(|s| s.as_object().into_iter().flat_map(|o| o.keys()))
            .map(String::as_str)
            .collect();
        assert_eq!(names, ["bearer", "session_cookie"], "{method} {path}");
        assert!(
            op["responses"]["401"]["content"]["application/json"].is_object(),
            "{method} {path} does not document 401 with the error body"
        );
    }
}

#[actix_web::test]
async fn every_authenticated_operation_answers_an_anonymous_caller_with_401() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json", None).await.json;
    let id = "00000000-0000-0000-0000-000000000001";
    for (method, path, op) in operations(&doc) {
        if PUBLIC.contains(&op["operationId"].as_str().unwrap_or_default()) {
            continue;
        }
        let concrete = path
            .replace("{id}", id)
            .replace("{user_id}", id)
            .replace("{enrollment_id}", id)
            .replace("{year}", "2027");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let body = op.get("requestBody").map(|_| json!({}));
        let answer = app
            .request(method.clone(), &concrete, None, body.as_ref())
            .await;
        assert_eq!(answer.status.as_u16(), 401, "{method} {concrete}");
        assert_eq!(answer.error_code(), "unauthenticated");
    }
}

#[actix_web::test]
async fn every_operation_with_a_body_documents_415_and_the_limits_are_stated() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json", None).await.json;
    for (method, path, op) in operations(&doc) {
        if op.get("requestBody").is_some() {
            for status in ["400", "413", "415"] {
                assert!(
                    op["responses"][status].is_object(),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
    let schemas = &doc["components"]["schemas"];
    let capacity = &schemas["CreateCohort"]["properties"]["capacity"];
    assert_eq!(
        (capacity["minimum"].as_f64(), capacity["maximum"].as_f64()),
        (Some(1.0), Some(10000.0))
    );
    let score = &schemas["ScoreBody"]["properties"]["score"];
    assert_eq!(
        (score["minimum"].as_f64(), score["maximum"].as_f64()),
        (Some(0.0), Some(100.0))
    );
    assert_eq!(
        schemas["CreateCohort"]["properties"]["mode"]["enum"],
        json!(["in_person", "online"])
    );
    assert_eq!(
        schemas["CreateUser"]["properties"]["roles"]["items"]["enum"],
        json!(["admin", "coordinator", "hr", "trainee"])
    );
    let title = schemas["CreateCohort"]["properties"]["title"]["pattern"]
        .as_str()
        .expect("a free-text field states which characters it takes");
    assert!(!title.contains("\\u0000-"), "NUL is not among them");
    let users = doc["paths"]["/api/v1/users"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let per_page = users
        .iter()
        .find(|p| p["name"] == "per_page")
        .expect("per_page");
    assert_eq!(per_page["schema"]["maximum"].as_f64(), Some(100.0));
    assert_eq!(per_page["schema"]["minimum"].as_f64(), Some(1.0));
}

#[actix_web::test]
async fn an_undeclared_method_answers_405_with_allow_and_an_unknown_path_404() {
    let app = spawn_app().await;
    let answer = app.request(Method::DELETE, "/api/v1/me", None, None).await;
    assert_status(&answer, 405);
    assert_eq!(answer.error_code(), "method_not_allowed");
    assert_eq!(answer.header("allow").as_deref(), Some("GET"));

    let user = "/api/v1/users/00000000-0000-0000-0000-000000000001";
    let answer = app.request(Method::PUT, user, None, Some(&json!({}))).await;
    assert_status(&answer, 405);
    let allow = answer.header("allow").expect("Allow");
    let mut methods: Vec<&str> = allow.split(", ").collect();
    methods.sort_unstable();
    assert_eq!(methods, ["GET", "PATCH"]);

    let answer = app.request(Method::POST, "/healthz", None, None).await;
    assert_status(&answer, 405);
    assert_eq!(answer.header("allow").as_deref(), Some("GET"));
    assert_eq!(answer.error_code(), "method_not_allowed");

    let answer = app.get("/api/v1/no-such-thing", None).await;
    assert_status(&answer, 404);
    assert_eq!(answer.error_code(), "not_found");
}

#[actix_web::test]
async fn a_whole_float_is_taken_as_an_integer_and_a_fraction_refused() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let course = |code: &str, hours: Value| {
        json!({
            "code": code, "title": "Bồi dưỡng kiến thức BHXH", "tier": "propagandist",
            "curriculum_version": "Luật BHXH 2024", "required_hours": hours,
            "min_attendance_percent": 70.0, "pass_score": 50, "certificate_validity_months": 24.0
        })
    };
    let answer = app
        .post(
            "/api/v1/courses",
            Some(&c.bhxh),
            &course("TTV-F1", json!(30.0)),
        )
        .await;
    assert_status(&answer, 201);
    assert_eq!(answer.json["required_hours"], 30);
    assert_eq!(answer.json["min_attendance_percent"], 70);

    let before = app.count("SELECT count(*) AS n FROM courses");
    let answer = app
        .post(
            "/api/v1/courses",
            Some(&c.bhxh),
            &course("TTV-F2", json!(30.5)),
        )
        .await;
    assert_status(&answer, 400);
    assert_eq!(app.count("SELECT count(*) AS n FROM courses"), before);

    let answer = app
        .get("/api/v1/users?per_page=5.0&page=1.0", Some(&c.admin))
        .await;
    assert_status(&answer, 200);
    let answer = app.get("/api/v1/users?per_page=5.5", Some(&c.admin)).await;
    assert_status(&answer, 400);
}

#[actix_web::test]
async fn a_session_shorter_than_a_second_is_refused_with_a_field_error() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let id = cohort(&app, &c.hn, c.tier2, "BHXH-HN", 30).await;
    for ends_at in [
        "2027-05-10T08:00:00.5+07:00",
        "2027-05-10T09:00:00.250+07:00",
    ] {
        let answer = app
            .post(
                &format!("/api/v1/cohorts/{id}/sessions"),
                Some(&c.hn),
                &json!({
                    "starts_at": "2027-05-10T08:00:00+07:00", "ends_at": ends_at,
                    "topic": "Luật Bảo hiểm xã hội 2024"
                }),
            )
            .await;
        assert_status(&answer, 400);
        assert_eq!(answer.error_code(), "validation_failed");
        assert_eq!(answer.json["error"]["details"][0]["field"], "ends_at");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM sessions"), 0);
}

#[actix_web::test]
async fn a_nul_in_any_text_field_is_a_validation_error() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let nul = "Hà\u{0}Nội";
    let hn = app.org("BHXH-HN");
    let id = cohort(&app, &c.hn, c.tier2, "BHXH-HN", 30).await;
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/api/v1/auth/login".into(),
            Some(json!({"username": nul, "password": nul})),
        ),
        (Method::GET, "/api/v1/users?q=H%C3%A0%00".into(), None),
        (Method::GET, "/api/v1/certificates?q=%00".into(), None),
        (Method::GET, "/api/v1/audit?action=%00".into(), None),
        (
            Method::PATCH,
            format!("/api/v1/organizations/{hn}"),
            Some(json!({"signer_name": nul})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/cohorts/{id}"),
            Some(json!({"campaign": nul})),
        ),
        (
            Method::POST,
            format!("/api/v1/cohorts/{id}/sessions"),
            Some(json!({"starts_at": "2027-05-10T08:00:00+07:00",
                        "ends_at": "2027-05-10T09:00:00+07:00", "topic": nul})),
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(
                json!({"username": "binh.tt", "full_name": nul, "organization_id": hn,
                        "roles": ["trainee"], "category": "official"}),
            ),
        ),
        (
            Method::POST,
            "/api/v1/courses".into(),
            Some(
                json!({"code": "A\u{0}B", "title": nul, "tier": "propagandist",
                        "curriculum_version": "v", "required_hours": 1,
                        "min_attendance_percent": 1, "pass_score": 1,
                        "certificate_validity_months": 1}),
            ),
        ),
    ];
    for (method, path, body) in cases {
        let answer = app
            .request(method.clone(), &path, Some(&c.admin), body.as_ref())
            .await;
        assert_status(&answer, 400);
        assert_eq!(answer.error_code(), "validation_failed", "{method} {path}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM sessions"), 0);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'binh.tt'"),
        0
    );
}

#[actix_web::test]
async fn a_coordinator_cannot_deactivate_themselves_or_strip_their_own_roles() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let me = app.get("/api/v1/me", Some(&c.hn)).await;
    let id = me.json["id"].as_str().expect("id").to_string();
    for body in [
        json!({"active": false}),
        json!({"roles": ["trainee"]}),
        json!({"roles": []}),
    ] {
        let answer = app
            .patch(&format!("/api/v1/users/{id}"), Some(&c.hn), &body)
            .await;
        assert_status(&answer, 403);
        assert_eq!(answer.error_code(), "forbidden");
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM audit_events WHERE action = 'access_denied'"),
        3
    );
    let still = app.get("/api/v1/me", Some(&c.hn)).await;
    assert_status(&still, 200);
    assert_eq!(still.json["roles"], json!(["coordinator"]));
    assert_eq!(still.json["active"], true);
}

#[actix_web::test]
async fn a_refused_new_password_is_reported_on_new_password() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let answer = app
        .post(
            "/api/v1/me/password",
            Some(&c.hang_token),
            &json!({"current_password": crate::harness::PASSWORD, "new_password": "ngắn"}),
        )
        .await;
    assert_status(&answer, 400);
    let fields: Vec<&str> = answer.json["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["new_password"]);
}

#[actix_web::test]
async fn a_birth_date_the_database_would_refuse_is_a_field_error_not_a_failure() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let answer = app
        .post(
            "/api/v1/users",
            Some(&c.admin),
            &json!({"username": "binh.tt", "full_name": "Trần Thị Bình",
                    "organization_id": app.org("BHXH-HN"), "roles": ["trainee"],
                    "category": "official", "date_of_birth": "1900-01-01"}),
        )
        .await;
    assert_status(&answer, 400);
    assert_eq!(answer.json["error"]["details"][0]["field"], "date_of_birth");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'binh.tt'"),
        0
    );
    let answer = app
        .post(
            "/api/v1/users",
            Some(&c.admin),
            &json!({"username": "binh.tt", "full_name": "Trần Thị Bình",
                    "organization_id": app.org("BHXH-HN"), "roles": ["trainee"],
                    "category": "official", "date_of_birth": "1900-01-02"}),
        )
        .await;
    assert_status(&answer, 201);
}

#[actix_web::test]
async fn a_cohort_of_a_course_that_does_not_exist_is_not_found() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let before = app.count("SELECT count(*) AS n FROM cohorts");
    let body = crate::training::cohort_body(uuid::Uuid::new_v4(), app.org("BHXH-HN"), 30);
    let answer = app.post("/api/v1/cohorts", Some(&c.hn), &body).await;
    assert_status(&answer, 404);
    assert_eq!(answer.error_code(), "not_found");
    assert_eq!(app.count("SELECT count(*) AS n FROM cohorts"), before);
}

/// The patterns the document gives the free-text fields say what the server does: a name the
/// pattern takes is created, one it refuses is refused with the field's error.
#[actix_web::test]
async fn the_documented_name_pattern_agrees_with_the_server() {
    let app = spawn_app().await;
    let c = chain(&app).await;
    let doc = app.get("/api/openapi.json", None).await.json;
    let pattern = doc["components"]["schemas"]["CreateUser"]["properties"]["full_name"]["pattern"]
        .as_str()
        .expect("full_name pattern");
    let pattern = regex::Regex::new(pattern).expect("the pattern compiles");
    let samples = [
        ("Nguyễn Thị Hằng", true),
        ("Đặng Minh Khoa", true),
        ("Hà\u{0}Nội", false),
        ("Trần\u{202E}Bình", false),
        ("Lê Văn 3", false),
        ("", false),
    ];
    for (i, (name, taken)) in samples.into_iter().enumerate() {
        assert_eq!(pattern.is_match(name), taken, "the pattern on {name:?}");
        let answer = app
            .post(
                "/api/v1/users",
                Some(&c.admin),
                &json!({"username": format!("mau.{i}"), "full_name": name,
                        "organization_id": app.org("BHXH-HN"), "roles": ["trainee"],
                        "category": "official"}),
            )
            .await;
        if taken {
            assert_status(&answer, 201);
        } else {
            assert_status(&answer, 400);
            assert_eq!(answer.json["error"]["details"][0]["field"], "full_name");
        }
    }
}
