//! `cascade seed-scale`: a believable national data set of N people, written fast (COPY) into a
//! migrated database with every index and constraint in place, the same for the same seed.
//!
//! Everything is drawn in memory first ([`plan`]), then written in one transaction, the reports'
//! summaries rebuilt in it, and `ANALYZE`d. Certificates carry real claims signed with the
//! instance's key, so verification answers for them as for any other; their PDF digests are left
//! to be recorded at first download (as after an interrupted issuance), since rendering a
//! million PDFs would take hours (`serve --skip-digest-backfill`).

pub mod copy;
mod issuing;
mod outreach;
mod people;
pub mod plan;
mod reference;
mod training;
pub mod vocabulary;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::certificates::Issuer;
use crate::db::schema::{organization_targets, users};
use crate::error::AppError;
use plan::Plan;

/// What to seed.
#[derive(Debug, Clone)]
pub struct Options {
    pub people: u64,
    pub seed: u64,
    /// The day the data set is seeded as of (today in Vietnam by default).
    pub today: NaiveDate,
    /// The password of the administrator and the branch coordinators (a random one otherwise).
    pub password: Option<String>,
    /// Seed even though the database already holds people.
    pub force: bool,
    /// Draw the progress bar on standard error.
    pub progress: bool,
}

/// What was written, and how to sign in.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub people: usize,
    pub organizations: usize,
    pub cohorts: usize,
    pub enrollments: usize,
    pub certificates: usize,
    pub lineage: usize,
    pub outreach_entries: usize,
    pub targets: usize,
    /// The administrator's username, and each branch coordinator's (with the branch's code).
    pub administrator: String,
    pub coordinators: Vec<(String, String)>,
    /// Set when no password was given: the one generated for the logins, shown once.
    pub generated_password: Option<String>,
    pub elapsed: Duration,
    /// How long each stage took.
    pub stages: Vec<(&'static str, Duration)>,
}

/// Times the stages of a seeding.
struct Stopwatch<'a> {
    bar: &'a ProgressBar,
    last: Instant,
    stages: Vec<(&'static str, Duration)>,
}

impl<'a> Stopwatch<'a> {
    fn new(bar: &'a ProgressBar) -> Self {
        Stopwatch {
            bar,
            last: Instant::now(),
            stages: Vec::new(),
        }
    }

    /// The stage that just ended, and what the bar says next.
    fn lap(&mut self, stage: &'static str, next: &'static str) {
        let now = Instant::now();
        self.stages.push((stage, now - self.last));
        self.last = now;
        self.bar.set_message(next);
    }
}

/// The tables the load writes in bulk.
const LOADED: &[&str] = &[
    "users",
    "user_roles",
    "cohorts",
    "cohort_instructors",
    "enrollments",
    "certificates",
    "certificate_lineage",
    "outreach_entries",
    "outreach_revisions",
];

/// The administrator the benchmark signs in as.
pub const ADMINISTRATOR: &str = "quantri.quymo";

/// The coordinator of a branch (`HN` → `dieuphoi.quymo.hn`).
pub fn coordinator_username(short: &str) -> String {
    format!("dieuphoi.quymo.{}", short.to_lowercase())
}

/// Seeds the data set into the database at `url` (migrated), its certificates signed by `issuer`.
pub fn run(url: &str, issuer: &Issuer, options: &Options) -> Result<Report, String> {
    let started = Instant::now();
    if options.people == 0 {
        return Err("--people phải lớn hơn 0.".into());
    }
    let password = match &options.password {
        Some(p) => p.clone(),
        None => generated_password(),
    };
    crate::domain::people::check_new_password(ADMINISTRATOR, &password).map_err(|e| e.message)?;
    let mut conn =
        PgConnection::establish(url).map_err(|e| format!("cannot connect to the database: {e}"))?;
    let present: i64 = users::table
        .count()
        .get_result(&mut conn)
        .map_err(|e| e.to_string())?;
    if present > 0 && !options.force {
        return Err(format!(
            "Cơ sở dữ liệu đã có {present} người: seed-scale chỉ nạp vào cơ sở dữ liệu chưa có ai \
             (thêm --force để vẫn nạp thêm)."
        ));
    }
    let first = plan::username(options.seed, 0);
    let seeded_before: i64 = users::table
        .filter(users::username.eq(&first))
        .count()
        .get_result(&mut conn)
        .map_err(|e| e.to_string())?;
    if seeded_before > 0 {
        return Err(format!(
            "Cơ sở dữ liệu này đã được nạp với --seed {}: hãy chọn một hạt giống khác.",
            options.seed
        ));
    }
    let bar = progress_bar(options.progress);
    let mut report = conn
        .transaction::<_, AppError, _>(|conn| {
            diesel::sql_query("SET LOCAL synchronous_commit = off").execute(conn)?;
            seed(conn, issuer, options, &password, &bar)
        })
        .map_err(|e| format!("seed-scale failed, nothing was written: {e}"))?;
    report.generated_password = options.password.is_none().then_some(password);
    let mut watch = Stopwatch::new(&bar);
    bar.set_message("ANALYZE");
    diesel::sql_query("ANALYZE")
        .execute(&mut conn)
        .map_err(|e| format!("ANALYZE failed: {e}"))?;
    watch.lap("analyze", "");
    report.stages.extend(watch.stages);
    bar.finish_and_clear();
    report.elapsed = started.elapsed();
    Ok(report)
}

fn generated_password() -> String {
    use rand::distributions::Alphanumeric;
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

fn progress_bar(visible: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(0),
        if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} hàng  {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn seed(
    conn: &mut PgConnection,
    issuer: &Issuer,
    options: &Options,
    password: &str,
    bar: &ProgressBar,
) -> Result<Report, AppError> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut watch = Stopwatch::new(bar);
    bar.set_message("dữ liệu tham chiếu");
    let reference = reference::load_reference(conn, &mut rng, options.today)?;
    let shorts = reference.shorts.clone();
    watch.lap("reference", "lập kế hoạch");
    let mut plan = Plan::draw(
        &mut rng,
        reference,
        options.people,
        options.seed,
        options.today,
    )?;
    let outreach = options.people * plan::OUTREACH_PER_PERSON;
    bar.set_length(
        (plan.people.len()
            + plan.cohorts.len()
            + plan.enrolments.len()
            + plan.certificates.len()
            + outreach as usize) as u64,
    );
    let mut report = Report {
        people: plan.people.len(),
        organizations: plan.orgs.iter().filter(|o| o.new).count(),
        cohorts: plan.cohorts.len(),
        enrollments: plan.enrolments.len(),
        certificates: plan.certificates.len(),
        targets: plan.targets.len(),
        ..Report::default()
    };
    watch.lap("plan", "người");
    // the loaded tables' foreign keys and non-unique indexes are built once over the whole
    // table at the end of the load rather than kept up row by row (unique ones stay)
    crate::db::bulk::roomy_memory(conn)?;
    let set_aside = crate::db::bulk::set_aside(conn, LOADED)?;
    people::write_units(conn, &plan)?;
    people::write_people(conn, &plan, bar)?;
    watch.lap("people", "tài khoản đăng nhập");
    let logins = people::write_logins(conn, &plan, &shorts, password, options.seed)?;
    report.administrator = ADMINISTRATOR.to_string();
    report.coordinators = logins.coordinators;
    watch.lap("logins", "lớp bồi dưỡng");
    training::write_cohorts(conn, &plan, bar)?;
    watch.lap("cohorts", "ghi danh");
    training::write_enrolments(conn, &plan, bar)?;
    watch.lap("enrolments", "giấy chứng nhận");
    issuing::take_serials(conn, &mut plan)?;
    report.lineage = issuing::write_certificates(conn, issuer, &plan, bar)?;
    watch.lap("certificates", "hoạt động tuyên truyền");
    report.outreach_entries = outreach::write_outreach(
        conn,
        &mut rng,
        &plan,
        &logins.coordinator_ids,
        outreach,
        bar,
    )?;
    watch.lap("outreach", "chỉ tiêu");
    write_targets(conn, &plan)?;
    watch.lap("targets", "chỉ mục và khóa ngoại");
    crate::db::bulk::put_back(conn, set_aside)?;
    watch.lap("indexes", "tổng hợp số liệu báo cáo");
    // the reports' maintained summaries, recomputed from the rows just written, in the same
    // transaction: no reader ever sees the data without them
    crate::service::reports::rebuild_summaries(conn)?;
    watch.lap("summaries", "ghi vào đĩa");
    crate::db::audit::AuditEvent::new(None, "data_set_seeded", "database")
        .details(serde_json::json!({
            "people": report.people,
            "seed": options.seed,
            "as_of": options.today,
            "organizations_added": report.organizations,
            "cohorts": report.cohorts,
            "enrollments": report.enrollments,
            "certificates": report.certificates,
            "outreach_entries": report.outreach_entries,
        }))
        .record(conn)?;
    report.stages = watch.stages;
    Ok(report)
}

/// Targets already set (by a person, or a previous seeding) are kept.
fn write_targets(conn: &mut PgConnection, plan: &Plan) -> Result<(), AppError> {
    let rows: Vec<_> = plan
        .targets
        .iter()
        .map(|t| {
            (
                organization_targets::organization_id.eq(plan.orgs[t.org].id),
                organization_targets::year.eq(t.year),
                organization_targets::master_trainers.eq(t.master_trainers),
                organization_targets::propagandists.eq(t.propagandists),
            )
        })
        .collect();
    for chunk in rows.chunks(1000) {
        diesel::insert_into(organization_targets::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(())
}

/// What `cascade seed-scale` prints at the end.
pub fn print_report(report: &Report) {
    println!(
        "Đã nạp {} người, {} đơn vị mới, {} lớp, {} lượt ghi danh, {} giấy chứng nhận \
         ({} liên kết giảng viên nguồn), {} hoạt động tuyên truyền, {} chỉ tiêu trong {:.1} giây.",
        report.people,
        report.organizations,
        report.cohorts,
        report.enrollments,
        report.certificates,
        report.lineage,
        report.outreach_entries,
        report.targets,
        report.elapsed.as_secs_f64()
    );
    println!(
        "Quản trị viên: {}; điều phối viên mỗi chi nhánh: {} … (dieuphoi.quymo.<mã tỉnh>).",
        report.administrator,
        report
            .coordinators
            .first()
            .map(|(u, _)| u.as_str())
            .unwrap_or("")
    );
    let stages: Vec<String> = report
        .stages
        .iter()
        .map(|(stage, took)| format!("{stage} {:.1}s", took.as_secs_f64()))
        .collect();
    println!("Thời gian từng bước: {}.", stages.join(", "));
    if let Some(password) = &report.generated_password {
        println!("Mật khẩu của các tài khoản này (chỉ hiện một lần): {password}");
    }
}
