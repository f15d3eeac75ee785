//! The foundation: start-up, reference data, error bodies, headers, probes, the private cluster.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::json;

use crate::harness::{assert_status, drop_database, empty_database, spawn_app, spawn_app_on};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[actix_web::test]
async fn startup_migrates_an_empty_database() {
    let (name, url) = empty_database();
    let app = spawn_app_on(name, url).await;
    let mut conn = app.db();
    let tables: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_name IN ('organizations','users','courses','cohorts','enrollments','certificates','audit_events')",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(tables.n, 7);
    let answer = app.get("/readyz", None).await;
    assert_status(&answer, 200);
}

#[actix_web::test]
async fn reference_data_has_the_state_agency_the_implementing_agency_and_34_branches() {
    let app = spawn_app().await;
    let mut conn = app.db();
    let branches: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM organizations o JOIN organizations p ON p.id = o.parent_id \
         WHERE o.kind = 'branch' AND p.code = 'BHXH' AND o.code LIKE 'BHXH-%'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(branches.n, 34);
    let bnv: Name = diesel::sql_query(
        "SELECT name FROM organizations WHERE code = 'BNV' AND kind = 'state_agency'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(bnv.name, "Bộ Nội vụ");
    let hn: Name = diesel::sql_query("SELECT name FROM organizations WHERE code = 'BHXH-HN'")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(hn.name, "Bảo hiểm xã hội Thành phố Hà Nội");
    let hcm: Name = diesel::sql_query("SELECT name FROM organizations WHERE code = 'BHXH-HCM'")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(hcm.name, "Bảo hiểm xã hội Thành phố Hồ Chí Minh");
}

#[actix_web::test]
async fn unknown_route_answers_404_with_the_json_error_body_and_security_headers() {
    let app = spawn_app().await;
    let answer = app.get("/api/v1/no-such-thing", None).await;
    assert_status(&answer, 404);
    assert_eq!(answer.error_code(), "not_found");
    assert!(answer.json["error"]["message"].is_string());
    assert_eq!(
        answer.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(answer.header("x-frame-options").as_deref(), Some("DENY"));
    assert!(answer.header("referrer-policy").is_some());
    assert!(answer
        .header("content-security-policy")
        .is_some_and(|v| v.contains("frame-ancestors 'none'")));
}

#[actix_web::test]
async fn malformed_json_answers_400_invalid_json_without_serde_wording() {
    let app = spawn_app().await;
    let answer = app
        .post_raw(
            "/api/v1/auth/login",
            None,
            "application/json",
            b"{\"username\": ".to_vec(),
        )
        .await;
    assert_status(&answer, 400);
    assert_eq!(answer.error_code(), "invalid_json");
    let text = String::from_utf8_lossy(&answer.body);
    assert!(!text.contains("EOF") && !text.contains("line 1") && !text.contains("column"));
    assert_eq!(
        answer.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

#[actix_web::test]
async fn wrong_json_types_answer_400_invalid_json() {
    let app = spawn_app().await;
    let answer = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": 42, "password": ["x"]}),
        )
        .await;
    assert_status(&answer, 400);
    assert_eq!(answer.error_code(), "invalid_json");
    assert!(!String::from_utf8_lossy(&answer.body).contains("invalid type"));
}

#[actix_web::test]
async fn json_body_over_64_kib_answers_413() {
    let app = spawn_app().await;
    let big = json!({"username": "x".repeat(70 * 1024), "password": "y"});
    let answer = app.post("/api/v1/auth/login", None, &big).await;
    assert_status(&answer, 413);
    assert_eq!(answer.error_code(), "payload_too_large");
    assert_eq!(answer.header("x-frame-options").as_deref(), Some("DENY"));
}

#[actix_web::test]
async fn wrong_content_type_answers_415() {
    let app = spawn_app().await;
    let answer = app
        .post_raw("/api/v1/auth/login", None, "text/plain", b"hello".to_vec())
        .await;
    assert_status(&answer, 415);
    assert_eq!(answer.error_code(), "unsupported_media_type");
}

#[actix_web::test]
async fn healthz_answers_without_touching_the_database() {
    let app = spawn_app().await;
    drop_database(&app.database_name);
    let answer = app.get("/healthz", None).await;
    assert_status(&answer, 200);
    assert_eq!(answer.json["status"], "ok");
}

#[actix_web::test]
async fn readyz_answers_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    assert_status(&app.get("/readyz", None).await, 200);
    drop_database(&app.database_name);
    let answer = app.get("/readyz", None).await;
    assert_status(&answer, 503);
    assert_eq!(answer.error_code(), "unavailable");
    assert_eq!(
        answer.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

#[actix_web::test]
async fn openapi_document_and_swagger_ui_are_served() {
    let app = spawn_app().await;
    let doc = app.get("/api/openapi.json", None).await;
    assert_status(&doc, 200);
    assert!(doc.json["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.")));
    assert!(doc.json["paths"]["/readyz"].is_object());
    let ui = app.get("/api/docs/", None).await;
    assert_status(&ui, 200);
    assert!(String::from_utf8_lossy(&ui.body).contains("swagger"));
}

/// The `cascade` binary with no DATABASE_URL runs its own PostgreSQL, serves, and stops it on
/// SIGTERM; the next start reuses the data.
#[test]
fn private_cluster_mode_starts_serves_and_stops_cleanly() {
    let dir = tempfile::Builder::new()
        .prefix("cascade-private-")
        .tempdir_in("/tmp")
        .unwrap();
    // the postgres system user must be able to enter the folder when we run as root
    Command::new("chmod")
        .arg("755")
        .arg(dir.path())
        .status()
        .unwrap();

    for round in 0..2 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_cascade"))
            .arg("serve")
            .env_remove("DATABASE_URL")
            .env("CASCADE_DATA_DIR", dir.path())
            .env("CASCADE_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();

        let deadline = Instant::now() + Duration::from_secs(60);
        let ready = loop {
            let out = Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
                .arg(format!("http://127.0.0.1:{port}/readyz"))
                .output()
                .unwrap();
            if out.stdout == b"200" {
                break true;
            }
            if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                break false;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        assert!(ready, "round {round}: the service never became ready");

        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "round {round}: exit status {status}");

        // the cluster is down: no postmaster.pid left behind
        let pid_file = dir.path().join("postgres/pgdata/postmaster.pid");
        assert!(
            !pid_file.exists(),
            "round {round}: PostgreSQL still running"
        );
        assert!(dir.path().join("postgres/pgdata/PG_VERSION").exists());
    }
}

#[actix_web::test]
async fn seed_demo_twice_duplicates_nothing() {
    let app = spawn_app().await;
    let issuer = cascade::certificates::Issuer {
        signing_key_seed: [9u8; 32],
        public_url: "https://cascade.test".into(),
    };
    let logins = cascade::demo::seed(&app.database_url, &app.data_key(), &issuer).unwrap();
    assert!(logins.len() >= 10);
    let tables = [
        "users",
        "user_roles",
        "organizations",
        "courses",
        "cohorts",
        "sessions",
        "enrollments",
        "attendance",
        "certificates",
        "campaigns",
    ];
    let counts = |app: &crate::harness::TestApp| -> Vec<i64> {
        tables
            .iter()
            .map(|t| app.count(&format!("SELECT count(*) AS n FROM {t}")))
            .collect()
    };
    let first = counts(&app);
    cascade::demo::seed(&app.database_url, &app.data_key(), &issuer).unwrap();
    assert_eq!(counts(&app), first);
    // the demo shows the chain at work: cohorts finished, running and planned
    for status in ["completed", "in_progress", "planned"] {
        assert!(
            app.count(&format!(
                "SELECT count(*) AS n FROM cohorts WHERE status = '{status}'"
            )) >= 1,
            "no {status} cohort"
        );
    }
    let token = app
        .login_answer("dieuphoi.hn", cascade::demo::DEMO_PASSWORD)
        .await;
    assert_status(&token, 200);
}

/// `cascade create-admin` reads the password from standard input and makes a working login.
#[actix_web::test]
async fn create_admin_from_the_command_line_can_sign_in() {
    use std::io::Write;
    let app = spawn_app().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args([
            "create-admin",
            "--username",
            "quantri2",
            "--full-name",
            "Lê Thị Quản Trị",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("CASCADE_DATA_DIR", tempfile::tempdir().unwrap().path())
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"mot-mat-khau-dai-2027\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let login = app.login_answer("quantri2", "mot-mat-khau-dai-2027").await;
    assert_status(&login, 200);
    let me = app
        .get("/api/v1/me", login.json["access_token"].as_str())
        .await;
    assert_eq!(me.json["roles"], json!(["admin"]));
    assert_eq!(me.json["organization"]["code"], "BNV");

    // a short password is refused, and nothing is created
    let mut weak = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args([
            "create-admin",
            "--username",
            "quantri3",
            "--full-name",
            "Lê Văn Ba",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    weak.stdin.take().unwrap().write_all(b"short\n").unwrap();
    assert!(!weak.wait().unwrap().success());
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'quantri3'"),
        0
    );
}

/// The OpenAPI document changes only on purpose: a refactoring leaves it byte for byte as it
/// was. After a deliberate change of the API, `UPDATE_OPENAPI_SNAPSHOT=1 cargo test openapi`
/// rewrites the snapshot, and the diff shows in review.
#[actix_rt::test]
async fn openapi_document_matches_its_snapshot() {
    let app = crate::harness::spawn_app().await;
    let doc = app.get("/api/openapi.json", None).await;
    let now = serde_json::to_string_pretty(&doc.json).unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/api/openapi.snapshot.json"
    );
    if std::env::var_os("UPDATE_OPENAPI_SNAPSHOT").is_some() {
        std::fs::write(path, &now).unwrap();
    }
    let snapshot = std::fs::read_to_string(path).unwrap();
    assert!(
        now == snapshot,
        "/api/openapi.json differs from tests/api/openapi.snapshot.json; if the change is meant, \
         rerun with UPDATE_OPENAPI_SNAPSHOT=1"
    );
}
