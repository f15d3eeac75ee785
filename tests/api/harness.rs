//! The test harness: one throwaway PostgreSQL cluster for the whole run (or `TEST_DATABASE_URL`),
//! a template database migrated once, a fresh database per test cloned from it, and the app
//! started on port 0 against it, with a small typed client.

// Not every suite uses every helper.
#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::{Mutex, OnceLock};

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use cascade::db::cluster::PostgresCluster;
use cascade::db::Db;
use cascade::startup::{AppState, Application};
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::Value;

mod builders;

pub use builders::CertificateBuilder;

struct Harness {
    /// URL of the maintenance database (`postgres`), used to create and drop test databases.
    base_url: String,
    template: String,
    // keeps the throwaway cluster for the life of the process; its reaper removes it afterwards
    _cluster: Option<Mutex<PostgresCluster>>,
}

/// Replaces the database name in a postgres URL.
pub fn url_for_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or("");
    match query {
        Some(q) => format!("{scheme}://{authority}/{database}?{q}"),
        None => format!("{scheme}://{authority}/{database}"),
    }
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        cascade::telemetry::init("error");
        let (base_url, cluster) = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => (url_for_database(&url, "postgres"), None),
            _ => {
                let cluster = PostgresCluster::start_throwaway()
                    .unwrap_or_else(|e| panic!("cannot start a test PostgreSQL: {e}"));
                (cluster.database_url("postgres"), Some(Mutex::new(cluster)))
            }
        };
        let template = format!("cascade_template_{}", std::process::id());
        let mut admin = PgConnection::establish(&base_url).expect("connect to test PostgreSQL");
        // on a shared server (TEST_DATABASE_URL), templates and databases of finished runs go
        drop_leftovers(&mut admin);
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {template}"))
            .execute(&mut admin)
            .expect("drop old template");
        diesel::sql_query(format!(
            "CREATE DATABASE {template} TEMPLATE template0 ENCODING 'UTF8'"
        ))
        .execute(&mut admin)
        .expect("create template database");
        cascade::db::migrate(&url_for_database(&base_url, &template)).expect("migrate template");
        Harness {
            base_url,
            template,
            _cluster: cluster,
        }
    })
}

/// Drops the template of any earlier test run whose process is gone, and test databases that
/// a killed run left behind.
fn drop_leftovers(admin: &mut PgConnection) {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'cascade\\_template\\_%'",
    )
    .load(admin)
    .unwrap_or_default();
    for Name { datname } in names {
        let pid = datname.trim_start_matches("cascade_template_");
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {datname} WITH (FORCE)"))
                .execute(admin);
        }
    }
}

/// A fresh database cloned from the migrated template; its URL.
pub fn fresh_database() -> (String, String) {
    let h = harness();
    let name = format!("cascade_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&h.base_url).expect("connect to test PostgreSQL");
    diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {}", h.template))
        .execute(&mut admin)
        .expect("clone template database");
    (name.clone(), url_for_database(&h.base_url, &name))
}

/// An empty database (no migrations), for start-up tests.
pub fn empty_database() -> (String, String) {
    let h = harness();
    let name = format!("cascade_empty_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&h.base_url).expect("connect to test PostgreSQL");
    diesel::sql_query(format!(
        "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"
    ))
    .execute(&mut admin)
    .expect("create empty database");
    (name.clone(), url_for_database(&h.base_url, &name))
}

pub fn drop_database(name: &str) {
    let h = harness();
    if let Ok(mut admin) = PgConnection::establish(&h.base_url) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
}

pub struct TestApp {
    pub address: String,
    pub database_name: String,
    pub database_url: String,
    pub client: awc::Client,
    /// The app's certificate issuer (its signing key), for calling the library as the app would.
    pub issuer: cascade::certificates::Issuer,
    handle: ServerHandle,
    _data_dir: tempfile::TempDir,
}

/// The day the tests' application lives on: their cohorts run in May 2027, and they act as of
/// 1 June 2027.
pub fn test_today() -> chrono::NaiveDate {
    date(2027, 6, 1)
}

/// Starts the application on a fresh database and a free port.
pub async fn spawn_app() -> TestApp {
    let (name, url) = fresh_database();
    spawn_app_on(name, url).await
}

pub async fn spawn_app_on(database_name: String, database_url: String) -> TestApp {
    spawn_app_with(database_name, database_url, &[]).await
}

/// Starts the application with extra settings (`CASCADE_…` variables).
pub async fn spawn_app_with(
    database_name: String,
    database_url: String,
    extra: &[(&str, &str)],
) -> TestApp {
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let data = data_dir.path().to_string_lossy().to_string();
    let url = database_url.clone();
    let config = cascade::Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some(url.clone()),
        "CASCADE_BIND" => Some("127.0.0.1:0".into()),
        "CASCADE_PUBLIC_URL" => Some("https://cascade.test".into()),
        "CASCADE_DATA_DIR" => Some(data.clone()),
        "CASCADE_DB_POOL_SIZE" => Some("8".into()),
        other => extra
            .iter()
            .find(|(k, _)| k == other)
            .map(|(_, v)| v.clone()),
    })
    .expect("test config");
    cascade::db::migrate(&database_url).expect("migrate");
    let db = Db::connect(&database_url, config.db_pool_size).expect("pool");
    let mut state = AppState::new(config, db).expect("state");
    state.clock = cascade::startup::Clock::Fixed(test_today());
    let issuer = state.issuer();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let app = Application::with_listener(listener, state).expect("build app");
    let port = app.port();
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        database_name,
        database_url,
        client: awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish(),
        issuer,
        handle,
        _data_dir: data_dir,
    }
}

/// What a request answered: status, headers and the body as JSON (Null when not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: awc::http::header::HeaderMap,
    pub body: Vec<u8>,
    pub json: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The `error.code` of an error body.
    pub fn error_code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn db(&self) -> PgConnection {
        PgConnection::establish(&self.database_url).expect("connect to test database")
    }

    async fn answer(
        mut res: awc::ClientResponse<
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
                + Unpin,
        >,
    ) -> Answer {
        let body = res
            .body()
            .limit(50 * 1024 * 1024)
            .await
            .expect("read body")
            .to_vec();
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Answer {
            status: res.status(),
            headers: res.headers().clone(),
            body,
            json,
        }
    }

    pub async fn request(
        &self,
        method: awc::http::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .expect("send request");
        Self::answer(res).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.request(awc::http::Method::GET, path, token, None)
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.request(awc::http::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.request(awc::http::Method::PATCH, path, token, Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.request(awc::http::Method::PUT, path, token, Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.request(awc::http::Method::DELETE, path, token, None)
            .await
    }

    /// Sends raw bytes with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let mut req = self
            .client
            .post(self.url(path))
            .insert_header(("content-type", content_type));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send_body(body).await.expect("send request");
        Self::answer(res).await
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // the server stops with the test's runtime; the database goes with it
        drop_database(&self.database_name);
    }
}

/// Asserts a status and prints the body when it differs.
#[track_caller]
pub fn assert_status(answer: &Answer, expected: u16) {
    assert_eq!(
        answer.status.as_u16(),
        expected,
        "unexpected status; body: {}",
        String::from_utf8_lossy(&answer.body)
    );
}

/// The password of every person the fixtures create.
pub const PASSWORD: &str = "mật-khẩu-thử-nghiệm-2027";

fn fixture_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| cascade::auth::password::hash_blocking(PASSWORD).expect("hash"))
}

impl TestApp {
    /// The id of an organisation by code.
    pub fn org(&self, code: &str) -> uuid::Uuid {
        use cascade::db::schema::organizations;
        use diesel::prelude::*;
        organizations::table
            .filter(organizations::code.eq(code))
            .select(organizations::id)
            .first(&mut self.db())
            .unwrap_or_else(|_| panic!("no organisation {code}"))
    }

    /// Adds a unit below `parent` (for scopes below a branch).
    pub fn unit(&self, code: &str, name: &str, parent: &str) -> uuid::Uuid {
        use cascade::db::schema::organizations;
        use diesel::prelude::*;
        let parent_id = self.org(parent);
        let province: Option<String> = organizations::table
            .find(parent_id)
            .select(organizations::province_code)
            .first(&mut self.db())
            .expect("parent");
        diesel::insert_into(organizations::table)
            .values((
                organizations::code.eq(code),
                organizations::name.eq(name),
                organizations::kind.eq("unit"),
                organizations::parent_id.eq(parent_id),
                organizations::province_code.eq(province),
            ))
            .returning(organizations::id)
            .get_result(&mut self.db())
            .expect("insert unit")
    }

    /// Adds a person who can sign in with [`PASSWORD`].
    pub fn person(
        &self,
        username: &str,
        org_code: &str,
        roles: &[&str],
        category: &str,
    ) -> uuid::Uuid {
        use cascade::db::schema::{user_roles, users};
        use diesel::prelude::*;
        let org = self.org(org_code);
        let full_name = format!("Nguyễn Văn {}", username.replace(['.', '_', '-'], " "));
        let mut conn = self.db();
        let id: uuid::Uuid = diesel::insert_into(users::table)
            .values((
                users::username.eq(username),
                users::full_name.eq(&full_name),
                users::name_search.eq(cascade::domain::people::search_fold(&full_name)),
                users::date_of_birth.eq(chrono::NaiveDate::from_ymd_opt(1985, 4, 12)),
                users::organization_id.eq(org),
                users::category.eq(category),
                users::password_hash.eq(fixture_hash()),
            ))
            .returning(users::id)
            .get_result(&mut conn)
            .expect("insert person");
        for role in roles {
            diesel::insert_into(user_roles::table)
                .values((user_roles::user_id.eq(id), user_roles::role.eq(*role)))
                .execute(&mut conn)
                .expect("insert role");
        }
        id
    }

    pub async fn login_answer(&self, username: &str, password: &str) -> Answer {
        self.post(
            "/api/v1/auth/login",
            None,
            &serde_json::json!({"username": username, "password": password}),
        )
        .await
    }

    /// Signs in with [`PASSWORD`]; the access token.
    pub async fn login(&self, username: &str) -> String {
        let answer = self.login_answer(username, PASSWORD).await;
        assert_status(&answer, 200);
        answer.json["access_token"]
            .as_str()
            .expect("token")
            .to_string()
    }

    /// The HS256 key this app signs access tokens with.
    pub fn jwt_secret(&self) -> Vec<u8> {
        std::fs::read(self._data_dir.path().join("jwt-secret")).expect("jwt secret")
    }

    /// The key this app seals CCCDs with (the one generated in its data dir; not the file of a
    /// `CASCADE_DATA_KEY_FILE` passed to [`spawn_app_with`]).
    pub fn data_key(&self) -> cascade::privacy::DataKey {
        let secret = std::fs::read(self._data_dir.path().join("data-key")).expect("data key");
        cascade::privacy::DataKey::from_secret(&secret).expect("data key")
    }

    /// Gives a person a CCCD, sealed with its blind index as Cascade stores it.
    pub fn give_national_id(&self, person: uuid::Uuid, national_id: &str) {
        self.seal_national_id_with(&self.data_key(), person, national_id);
    }

    /// [`Self::give_national_id`] under the key of `key_file` (an app started with
    /// `CASCADE_DATA_KEY_FILE`).
    pub fn give_national_id_with(
        &self,
        key_file: &std::path::Path,
        person: uuid::Uuid,
        national_id: &str,
    ) {
        let secret = std::fs::read(key_file).expect("data key file");
        let key = cascade::privacy::DataKey::from_secret(&secret).expect("data key");
        self.seal_national_id_with(&key, person, national_id);
    }

    fn seal_national_id_with(
        &self,
        key: &cascade::privacy::DataKey,
        person: uuid::Uuid,
        national_id: &str,
    ) {
        let sealed = (
            key.seal_national_id(national_id),
            key.national_id_index(national_id),
        );
        cascade::db::users::store_national_id(&mut self.db(), person, Some(sealed))
            .expect("store a CCCD");
    }

    pub fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let n: N = diesel::sql_query(sql)
            .get_result(&mut self.db())
            .expect("count");
        n.n
    }
}

impl TestApp {
    /// A master-trainer certificate for `holder` with the given dates and status (shorthand for
    /// a [`CertificateBuilder`]; real issuance goes through finalising a tier-1 cohort).
    pub fn master_certificate(
        &self,
        holder: uuid::Uuid,
        issued_on: chrono::NaiveDate,
        valid_until: chrono::NaiveDate,
        status: &str,
    ) -> uuid::Uuid {
        CertificateBuilder::master_trainer(holder)
            .issued_on(issued_on)
            .valid_until(valid_until)
            .status(status)
            .insert(self)
    }

    /// A master-trainer certificate that corrects (supersedes) an earlier one.
    pub fn master_certificate_correcting(
        &self,
        holder: uuid::Uuid,
        issued_on: chrono::NaiveDate,
        valid_until: chrono::NaiveDate,
        status: &str,
        supersedes: Option<uuid::Uuid>,
    ) -> uuid::Uuid {
        let builder = CertificateBuilder::master_trainer(holder)
            .issued_on(issued_on)
            .valid_until(valid_until)
            .status(status);
        match supersedes {
            Some(earlier) => builder.correcting(earlier),
            None => builder,
        }
        .insert(self)
    }
}

impl TestApp {
    /// Revokes a certificate behind the API's back (as a master trainer's certificate may be
    /// revoked by its issuer while cohorts run).
    pub fn revoke_in_database(&self, certificate: uuid::Uuid, reason: &str) {
        use cascade::db::schema::certificates;
        use diesel::prelude::*;
        let mut conn = self.db();
        let holder: uuid::Uuid = diesel::update(certificates::table.find(certificate))
            .set((
                certificates::status.eq("revoked"),
                certificates::revocation_reason.eq(reason),
                certificates::revoked_at.eq(chrono::Utc::now()),
                // the app's day, as revocation through the service records it
                certificates::ended_on.eq(test_today()),
            ))
            .returning(certificates::holder_id)
            .get_result(&mut conn)
            .expect("revoke certificate");
        // the reports' summary, as revocation keeps it
        cascade::db::coverage_summary::holders_changed(&mut conn, &[holder])
            .expect("coverage summary");
    }

    /// The `name=value` of the session cookie a response sets.
    pub fn session_cookie(answer: &Answer) -> Option<String> {
        answer
            .headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("cascade_session="))
            .map(str::to_string)
    }
}

pub fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// Set to `1` on a developer's machine without poppler-utils or zbar-tools to let the checks
/// that need them skip; unset, as in CI, a missing tool fails the test.
pub const ALLOW_MISSING_TOOLS: &str = "CASCADE_ALLOW_MISSING_TOOLS";

/// The outside programs the tests run, with the Debian package that installs each.
const TOOLS: &[(&str, &str)] = &[
    ("pdffonts", "poppler-utils"),
    ("pdftoppm", "poppler-utils"),
    ("pdftotext", "poppler-utils"),
    ("zbarimg", "zbar-tools"),
];

/// Whether the outside programs `tools` can be started. One that cannot fails the test with the
/// package to install, unless [`ALLOW_MISSING_TOOLS`] is `1`: then this says loudly what is
/// skipped and answers false, and the caller skips the checks that need it.
#[track_caller]
pub fn require_tools(tools: &[&str]) -> bool {
    use std::io::Write;
    let package = |tool: &str| {
        TOOLS
            .iter()
            .find(|(name, _)| *name == tool)
            .map(|(_, package)| *package)
            .unwrap_or_else(|| panic!("{tool} is not among the tools the tests know"))
    };
    let missing: Vec<(&str, std::io::Error)> = tools
        .iter()
        .filter_map(|tool| {
            package(tool);
            // `-v` prints a version (poppler) or, with no image, usage (zbarimg): either way the
            // program started, which is all this asks
            std::process::Command::new(tool)
                .arg("-v")
                .output()
                .err()
                .map(|e| (*tool, e))
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let mut packages: Vec<&str> = missing.iter().map(|(tool, _)| package(tool)).collect();
    packages.sort_unstable();
    packages.dedup();
    let what = missing
        .iter()
        .map(|(tool, e)| format!("{tool} ({e})"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!(
        "cannot run {what}: install with `apt-get install {}` (.ci/run does)",
        packages.join(" ")
    );
    if std::env::var(ALLOW_MISSING_TOOLS).as_deref() == Ok("1") {
        // straight to the process's stderr: the test harness would swallow an `eprintln!`
        let _ = writeln!(
            std::io::stderr(),
            "WARNING: CHECKS SKIPPED: {message}; {ALLOW_MISSING_TOOLS}=1 allows it"
        );
        false
    } else {
        panic!("{message}, or set {ALLOW_MISSING_TOOLS}=1 to skip these checks on purpose");
    }
}

/// Runs an outside program (after [`require_tools`]); its standard output. Fails the test when
/// it cannot start or exits with an error.
#[track_caller]
pub fn run_tool(tool: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let out = std::process::Command::new(tool)
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("{tool} printed non-UTF-8: {e}"))
}
