//! Benchmark: a 1,000-person cohort's attendance, finalising it and its certificates ZIP, over
//! HTTP against the release server and a private PostgreSQL (issue 11, goal 4).
//!
//! `cargo bench --bench cohort` starts a durable PostgreSQL cluster in a temporary folder (the
//! library's own cluster code, as `cascade serve` without `DATABASE_URL`), the HTTP app on a
//! loopback port in this process, and then, in interleaved rounds (`ROUNDS`, default 5) so that
//! the shared machine's noise falls on all of them alike:
//! - baseline `insert`: one INSERT of 1,000 rows in a transaction (what the database costs);
//! - baseline `render`: 100 certificates rendered on one thread, ×10 (what 1,000 PDFs cost);
//! - `attendance`: one session's attendance for 1,000 people (`PUT /sessions/{id}/attendance`;
//!   split into as many requests as the body limit forces);
//! - `finalise`: `POST /cohorts/{id}/finalize` of a fresh 1,000-person cohort (1,000 issued);
//! - `zip`: `GET /cohorts/{id}/certificates.zip` of it, read as a stream;
//! - `zip100`: the same for a 100-person cohort.
//!
//! Then, once, the heap growth while each ZIP is served (a counting allocator, on only for
//! that): it must not grow with the cohort. Prints medians with min and max.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use cascade::db::cluster::PostgresCluster;
use cascade::db::schema::{organizations, signing_keys, user_roles, users};
use cascade::db::Db;
use cascade::startup::{AppState, Application, Clock};
use chrono::NaiveDate;
use diesel::prelude::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use uuid::Uuid;

/// Counts the heap in use while [`COUNTING`] is on: net bytes since it was switched on, and the
/// highest that reached.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static NET: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        let now = NET.fetch_add(delta, Ordering::Relaxed) + delta;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const PASSWORD: &str = "mật-khẩu-đo-hiệu-năng-2027";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

struct Bench {
    base: String,
    client: awc::Client,
    url: String,
    /// BHXH Hà Nội's coordinator and HR officer.
    coordinator: String,
    hr: String,
    course: Uuid,
    master: Uuid,
    /// The trainees, in a unit of Hà Nội.
    people: Vec<Uuid>,
}

impl Bench {
    fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect")
    }

    async fn send(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> Value {
        let (status, value) = self.try_send(method, path, token, body).await;
        assert!(status < 300, "{method} {path}: {status} {value}");
        value
    }

    async fn try_send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        let mut res = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .expect("send");
        let bytes = res.body().limit(256 << 20).await.expect("body");
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (res.status().as_u16(), value)
    }

    /// A tier-2 cohort of BHXH Hà Nội with `size` people enrolled, two 4-hour sessions, in
    /// progress, every score recorded: enrolments and scores by SQL (setting up, not measured).
    async fn cohort(&self, size: usize) -> (Uuid, [Uuid; 2], Vec<Uuid>) {
        let org = organization(&mut self.conn(), "BHXH-HN");
        let cohort = self
            .send(
                "POST",
                "/api/v1/cohorts",
                &self.coordinator,
                Some(&json!({
                    "course_id": self.course, "organization_id": org,
                    "title": "Lớp tuyên truyền viên tháng 5 (đo hiệu năng)",
                    "starts_on": "2027-05-10", "ends_on": "2027-05-11", "location": "Hà Nội",
                    "mode": "in_person", "capacity": size
                })),
            )
            .await;
        let id: Uuid = cohort["id"].as_str().expect("id").parse().expect("uuid");
        let path = format!("/api/v1/cohorts/{id}");
        self.send(
            "POST",
            &format!("{path}/instructors"),
            &self.coordinator,
            Some(&json!({"user_id": self.master})),
        )
        .await;
        let mut sessions = [Uuid::nil(); 2];
        for (i, day) in [10, 11].into_iter().enumerate() {
            let s = self
                .send(
                    "POST",
                    &format!("{path}/sessions"),
                    &self.coordinator,
                    Some(&json!({
                        "starts_at": format!("2027-05-{day}T08:00:00+07:00"),
                        "ends_at": format!("2027-05-{day}T12:00:00+07:00"),
                        "topic": "Luật Bảo hiểm xã hội 2024"
                    })),
                )
                .await;
            sessions[i] = s["id"].as_str().expect("id").parse().expect("uuid");
        }
        for status in ["open", "in_progress"] {
            self.send(
                "PATCH",
                &path,
                &self.coordinator,
                Some(&json!({"status": status})),
            )
            .await;
        }
        use cascade::db::schema::enrollments;
        let mut conn = self.conn();
        let rows: Vec<_> = self.people[..size]
            .iter()
            .map(|p| {
                (
                    enrollments::cohort_id.eq(id),
                    enrollments::user_id.eq(*p),
                    enrollments::score.eq(Some(80.0)),
                )
            })
            .collect();
        let enrolled: Vec<Uuid> = diesel::insert_into(enrollments::table)
            .values(rows)
            .returning(enrollments::id)
            .get_results(&mut conn)
            .expect("enrol");
        (id, sessions, enrolled)
    }

    /// Records everyone present at a session; the number of requests it took.
    async fn attendance(&self, session: Uuid, enrolled: &[Uuid]) -> usize {
        let path = format!("/api/v1/sessions/{session}/attendance");
        let mut per_request = enrolled.len();
        loop {
            let mut requests = 0;
            let mut too_large = false;
            for part in enrolled.chunks(per_request) {
                let lines: Vec<Value> = part
                    .iter()
                    .map(|e| json!({"enrollment_id": e, "present": true}))
                    .collect();
                let (status, body) = self
                    .try_send("PUT", &path, &self.coordinator, Some(&Value::Array(lines)))
                    .await;
                requests += 1;
                if status == 413 {
                    too_large = true;
                    break;
                }
                assert_eq!(status, 200, "attendance: {body}");
            }
            if !too_large {
                return requests;
            }
            // the body limit forces smaller requests: what a client would have to do
            per_request = per_request.div_ceil(2);
        }
    }

    async fn finalise(&self, cohort: Uuid) -> usize {
        let done = self
            .send(
                "POST",
                &format!("/api/v1/cohorts/{cohort}/finalize"),
                &self.coordinator,
                Some(&json!({})),
            )
            .await;
        done["issued"].as_array().map_or(0, Vec::len)
    }

    /// Downloads a cohort's ZIP as a stream, keeping none of it; its size.
    async fn zip(&self, cohort: Uuid) -> usize {
        let mut res = self
            .client
            .get(format!(
                "{}/api/v1/cohorts/{cohort}/certificates.zip",
                self.base
            ))
            .bearer_auth(&self.hr)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status().as_u16(), 200, "zip");
        let mut size = 0;
        while let Some(chunk) = res.next().await {
            size += chunk.expect("chunk").len();
        }
        size
    }
}

fn organization(conn: &mut PgConnection, code: &str) -> Uuid {
    organizations::table
        .filter(organizations::code.eq(code))
        .select(organizations::id)
        .first(conn)
        .expect("organisation")
}

fn person(conn: &mut PgConnection, username: &str, org: &str, role: &str, hash: &str) -> Uuid {
    let org = organization(conn, org);
    let name = format!("Nguyễn Văn {username}");
    let id = diesel::insert_into(users::table)
        .values((
            users::username.eq(username),
            users::full_name.eq(&name),
            users::name_search.eq(cascade::domain::people::search_fold(&name)),
            users::organization_id.eq(org),
            users::category.eq("public_employee"),
            users::password_hash.eq(hash),
        ))
        .returning(users::id)
        .get_result(conn)
        .expect("person");
    diesel::insert_into(user_roles::table)
        .values((user_roles::user_id.eq(id), user_roles::role.eq(role)))
        .execute(conn)
        .expect("role");
    id
}

/// 1,000 trainees of a ward in Hà Nội, with Vietnamese names of the usual lengths.
fn trainees(conn: &mut PgConnection, unit: Uuid) -> Vec<Uuid> {
    let family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"];
    let middle = ["Thị", "Văn", "Minh", "Thu", "Đức", "Ngọc"];
    let given = [
        "Hằng", "Tuấn", "Ngọc", "Khoa", "Phương", "Dũng", "Thảo", "Quỳnh",
    ];
    let rows: Vec<_> = (0..1000)
        .map(|i| {
            let name = format!(
                "{} {} {}",
                family[i % family.len()],
                middle[(i / 8) % middle.len()],
                given[(i / 48) % given.len()]
            );
            (
                users::username.eq(format!("hocvien.{i:04}")),
                users::name_search.eq(cascade::domain::people::search_fold(&name)),
                users::full_name.eq(name),
                users::date_of_birth.eq(Some(d(1980 + (i % 20) as i32, 4, 12))),
                users::organization_id.eq(unit),
                users::category.eq("civil_servant"),
            )
        })
        .collect();
    diesel::insert_into(users::table)
        .values(rows)
        .returning(users::id)
        .get_results(conn)
        .expect("trainees")
}

/// A valid master-trainer certificate for the instructor (dummy claims: it only qualifies them).
fn master_certificate(conn: &mut PgConnection, holder: Uuid) {
    use cascade::db::certificates::{insert, NewCertificateRow};
    use cascade::db::schema::courses;
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq("bench-key"),
            signing_keys::public_key.eq(vec![7u8; 32]),
        ))
        .execute(conn)
        .expect("key");
    let course: Uuid = diesel::insert_into(courses::table)
        .values((
            courses::code.eq("GVN-BENCH"),
            courses::title.eq("Bồi dưỡng giảng viên nguồn về BHXH"),
            courses::tier.eq("master_trainer"),
            courses::curriculum_version.eq("Luật BHXH 2024"),
            courses::required_hours.eq(16),
            courses::min_attendance_percent.eq(80),
            courses::pass_score.eq(50),
            courses::certificate_validity_months.eq(24),
        ))
        .returning(courses::id)
        .get_result(conn)
        .expect("course");
    let code = cascade::domain::certificates::new_verification_code();
    let bnv = organization(conn, "BNV");
    insert(
        conn,
        &NewCertificateRow {
            id: Uuid::new_v4(),
            serial: "000001/2026/GCN-BNV-B",
            issuer_id: bnv,
            serial_year: 2026,
            serial_number: 1,
            verification_code: &code,
            holder_id: holder,
            enrollment_id: None,
            course_id: course,
            cohort_id: None,
            tier: "master_trainer",
            holder_name: "Nguyễn Văn Giảng",
            holder_birth_date: None,
            holder_workplace: "Bảo hiểm xã hội Thành phố Hà Nội",
            course_title: "Bồi dưỡng giảng viên nguồn về BHXH",
            curriculum_version: "Luật BHXH 2024",
            issuer_name: "Bộ Nội vụ",
            signer_name: "Nguyễn Văn Ký",
            signer_title: "THỨ TRƯỞNG",
            cohort_starts_on: d(2026, 1, 1),
            cohort_ends_on: d(2026, 1, 1),
            place: "Hà Nội",
            issued_on: d(2026, 1, 1),
            valid_until: d(2028, 1, 1),
            supersedes_id: None,
            claims: b"{}",
            signature: &[0u8; 64],
            kid: "bench-key",
        },
    )
    .expect("master certificate");
}

/// Baseline: one INSERT of 1,000 rows, committed.
fn baseline_insert(url: &str) -> Duration {
    let mut conn = PgConnection::establish(url).expect("connect");
    diesel::sql_query("CREATE TABLE IF NOT EXISTS bench_rows (id uuid PRIMARY KEY, n int, t text)")
        .execute(&mut conn)
        .expect("table");
    let values: Vec<String> = (0..1000)
        .map(|n| format!("('{}', {n}, 'Nguyễn Thị Hằng {n}')", Uuid::new_v4()))
        .collect();
    let sql = format!("INSERT INTO bench_rows VALUES {}", values.join(","));
    let start = Instant::now();
    conn.transaction(|c| diesel::sql_query(&sql).execute(c))
        .expect("insert");
    start.elapsed()
}

/// Baseline: 100 certificates rendered on one thread, ×10.
fn baseline_render(url: &str, issuer: &cascade::certificates::Issuer, cohort: Uuid) -> Duration {
    use cascade::db::schema::certificates;
    let mut conn = PgConnection::establish(url).expect("connect");
    let rows: Vec<(Vec<u8>, Vec<u8>, String)> = certificates::table
        .filter(certificates::cohort_id.eq(cohort))
        .select((
            certificates::claims,
            certificates::signature,
            certificates::kid,
        ))
        .limit(100)
        .load(&mut conn)
        .expect("claims");
    let start = Instant::now();
    for (claims, signature, kid) in &rows {
        let pdf = cascade::certificates::issuance::render(issuer, claims, signature, kid);
        std::hint::black_box(pdf.expect("render"));
    }
    start.elapsed() * 10
}

fn stats(name: &str, mut v: Vec<Duration>, baseline: Option<Duration>, extra: &str) {
    v.sort();
    let (min, med, max) = (v[0], v[v.len() / 2], v[v.len() - 1]);
    let ratio = baseline.map_or(String::new(), |b| {
        format!("  ×{:.1} baseline", med.as_secs_f64() / b.as_secs_f64())
    });
    println!(
        "{name:<11} median {:>8.3} s  (min {:.3}, max {:.3}){ratio}{extra}",
        med.as_secs_f64(),
        min.as_secs_f64(),
        max.as_secs_f64(),
    );
}

/// Serves a ZIP with the counting allocator on; the highest net heap growth meanwhile.
async fn zip_heap(b: &Bench, cohort: Uuid) -> (usize, isize) {
    NET.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let size = b.zip(cohort).await;
    COUNTING.store(false, Ordering::SeqCst);
    (size, PEAK.load(Ordering::SeqCst))
}

async fn run(url: String) {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    cascade::db::migrate(&url).expect("migrate");
    let data = tempfile::tempdir().expect("temp dir");
    let data_path = data.path().to_string_lossy().to_string();
    let db_url = url.clone();
    let config = cascade::Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some(db_url.clone()),
        "CASCADE_BIND" => Some("127.0.0.1:0".into()),
        "CASCADE_PUBLIC_URL" => Some("https://cascade.bhxh.gov.vn".into()),
        "CASCADE_DATA_DIR" => Some(data_path.clone()),
        _ => None,
    })
    .expect("config");
    let db = Db::connect(&url, config.db_pool_size).expect("pool");
    let mut state = AppState::new(config, db).expect("state");
    // the cohorts run in May 2027; everything happens as of 1 June 2027
    state.clock = Clock::Fixed(d(2027, 6, 1));
    let issuer = state.issuer();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let app = Application::with_listener(listener, state).expect("app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());

    let mut conn = PgConnection::establish(&url).expect("connect");
    let hash = cascade::auth::password::hash_blocking(PASSWORD).expect("hash");
    diesel::sql_query(
        "UPDATE organizations SET signer_name = 'Trần Văn Ký', \
         signer_title = E'KT. GIÁM ĐỐC\\nPHÓ GIÁM ĐỐC' WHERE code = 'BHXH-HN'",
    )
    .execute(&mut conn)
    .expect("signer");
    let hn = organization(&mut conn, "BHXH-HN");
    let province: Option<String> = organizations::table
        .find(hn)
        .select(organizations::province_code)
        .first(&mut conn)
        .expect("province");
    let unit: Uuid = diesel::insert_into(organizations::table)
        .values((
            organizations::code.eq("HN-BADINH"),
            organizations::name.eq("Ủy ban nhân dân phường Ba Đình"),
            organizations::kind.eq("unit"),
            organizations::parent_id.eq(hn),
            organizations::province_code.eq(province),
        ))
        .returning(organizations::id)
        .get_result(&mut conn)
        .expect("unit");
    person(&mut conn, "dieuphoi.bhxh", "BHXH", "coordinator", &hash);
    person(&mut conn, "dieuphoi.hn", "BHXH-HN", "coordinator", &hash);
    person(&mut conn, "nhansu.hn", "BHXH-HN", "hr", &hash);
    let master = person(&mut conn, "giang.nv", "BHXH-HN", "trainee", &hash);
    master_certificate(&mut conn, master);
    let people = trainees(&mut conn, unit);

    let client = awc::Client::builder()
        .timeout(Duration::from_secs(600))
        .finish();
    let login = |username: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let mut res = client
                .post(format!("{base}/api/v1/auth/login"))
                .send_json(&json!({"username": username, "password": PASSWORD}))
                .await
                .expect("login");
            let body: Value = res.json().await.expect("login body");
            body["access_token"].as_str().expect("token").to_string()
        }
    };
    let bhxh = login("dieuphoi.bhxh").await;
    let mut b = Bench {
        coordinator: login("dieuphoi.hn").await,
        hr: login("nhansu.hn").await,
        base,
        client,
        url: url.clone(),
        course: Uuid::nil(),
        master,
        people,
    };
    let course = b
        .send(
            "POST",
            "/api/v1/courses",
            &bhxh,
            Some(&json!({
                "code": "TTV-2024", "title": "Bồi dưỡng tuyên truyền viên về bảo hiểm xã hội",
                "tier": "propagandist", "curriculum_version": "Luật BHXH 2024",
                "required_hours": 8, "min_attendance_percent": 70, "pass_score": 50,
                "certificate_validity_months": 24
            })),
        )
        .await;
    b.course = course["id"].as_str().expect("id").parse().expect("uuid");

    // the 100-person cohort, finalised once: its ZIP is measured in every round
    let (small, small_sessions, small_enrolled) = b.cohort(100).await;
    for s in small_sessions {
        b.attendance(s, &small_enrolled).await;
    }
    assert_eq!(b.finalise(small).await, 100);

    println!(
        "cohort benchmark: {rounds} interleaved rounds; 1,000 people a cohort, all completing"
    );
    let (mut insert, mut render, mut attendance, mut finalise, mut zip, mut zip100) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    let (mut requests, mut zip_size, mut zip100_size) = (0, 0, 0);
    let mut last = Uuid::nil();
    for round in 1..=rounds {
        insert.push(baseline_insert(&url));
        let (cohort, sessions, enrolled) = b.cohort(1000).await;
        for s in sessions {
            let start = Instant::now();
            requests = b.attendance(s, &enrolled).await;
            attendance.push(start.elapsed());
        }
        let start = Instant::now();
        assert_eq!(b.finalise(cohort).await, 1000);
        finalise.push(start.elapsed());
        let start = Instant::now();
        zip_size = b.zip(cohort).await;
        zip.push(start.elapsed());
        let start = Instant::now();
        zip100_size = b.zip(small).await;
        zip100.push(start.elapsed());
        render.push(baseline_render(&url, &issuer, cohort));
        last = cohort;
        eprintln!("round {round} done");
    }
    let base_insert = insert[insert.len() / 2];
    stats("insert", insert, None, "  (1,000 rows, one statement)");
    stats("render", render, None, "  (1,000 PDFs, one thread)");
    stats(
        "attendance",
        attendance,
        Some(base_insert),
        &format!("  (1,000 lines in {requests} request(s))"),
    );
    stats("finalise", finalise, Some(base_insert), "  (1,000 issued)");
    stats(
        "zip",
        zip,
        Some(base_insert),
        &format!("  ({:.1} MB)", zip_size as f64 / 1e6),
    );
    stats(
        "zip100",
        zip100,
        Some(base_insert),
        &format!("  ({:.1} MB)", zip100_size as f64 / 1e6),
    );
    let (_, heap100) = zip_heap(&b, small).await;
    let (_, heap1000) = zip_heap(&b, last).await;
    println!(
        "zip heap    peak growth while serving: {:.1} MB (100 people), {:.1} MB (1,000 people)",
        heap100 as f64 / 1e6,
        heap1000 as f64 / 1e6
    );
    handle.stop(true).await;
    drop(data);
}

fn main() {
    cascade::telemetry::init("error");
    let root = std::env::temp_dir().join(format!("cascade-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root).expect("bench folder");
    let mut cluster = PostgresCluster::start(&root).expect("PostgreSQL");
    cascade::db::create_database_if_missing(&cluster.database_url("postgres"), "cascade_bench")
        .expect("database");
    let url = cluster.database_url("cascade_bench");
    actix_web::rt::System::new().block_on(run(url));
    if let Err(e) = cluster.stop() {
        eprintln!("could not stop the PostgreSQL cluster: {e}");
    }
    let _ = std::fs::remove_dir_all(&root);
}
