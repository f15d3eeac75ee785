//! The hot read path: the queries nearly every request makes — who the caller is, a public
//! verification, a person's training record — on async connections, so a request reads without
//! a hop to a blocking thread and a thread switch per query. Each worker thread has a small pool
//! of its own (a connection's I/O is driven by the worker that opened it). Everything that writes,
//! or runs in a transaction, stays on [`super::Db::run`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use deadpool::managed::{
    Metrics, Object, Pool, PoolError, RecycleError, RecycleResult, TimeoutType,
};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, NullableExpressionMethods, QueryDsl,
    Queryable, Selectable, SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::breaker::Breaker;
use super::schema::{
    attendance, certificate_lineage, certificates, cohorts, courses, enrollments, login_sessions,
    organizations, sessions, user_roles, users,
};
use super::training::EnrollmentRow;
use super::users::{OrganizationRef, UserRow, UserView};
use super::views::certificates::{LineageLink, Verification};
use crate::domain::certificates::{normalize_code, public_status};
use crate::domain::people::Role;
use crate::domain::training::Tier;
use crate::error::AppError;

pub type ReadConn = Object<Manager>;

/// How long after a connection was last handed out the pool trusts it without a `SELECT 1`
/// (as the blocking pool does): busy connections never pay a round trip, idle ones are checked.
const TRUSTED_FOR: Duration = Duration::from_millis(500);

/// deadpool's manager for [`AsyncPgConnection`]s; every connect tells the [`Breaker`] how it
/// went.
pub struct Manager {
    url: String,
    breaker: Arc<Breaker>,
}

impl deadpool::managed::Manager for Manager {
    type Type = AsyncPgConnection;
    type Error = AppError;

    async fn create(&self) -> Result<AsyncPgConnection, AppError> {
        match AsyncPgConnection::establish(&self.url).await {
            Ok(conn) => {
                self.breaker.connected();
                Ok(conn)
            }
            Err(e) => {
                self.breaker.failed();
                Err(AppError::Unavailable(e.to_string()))
            }
        }
    }

    async fn recycle(
        &self,
        conn: &mut AsyncPgConnection,
        metrics: &Metrics,
    ) -> RecycleResult<AppError> {
        use diesel_async::pooled_connection::PoolableConnection;
        if std::thread::panicking() || conn.is_broken() {
            return Err(RecycleError::message("broken connection"));
        }
        if metrics.last_used() < TRUSTED_FOR {
            return Ok(());
        }
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
            .get_result::<i32>(conn)
            .await
            .map(|_| ())
            .map_err(|e| RecycleError::Backend(AppError::from(e)))
    }
}

/// A worker's pool: `size` connections at most. A free connection within 3 s under load; a new
/// one within [`super::CHECKOUT_WITHIN`], or a 503.
pub fn pool(url: &str, size: usize, breaker: Arc<Breaker>) -> Result<Pool<Manager>, AppError> {
    Pool::builder(Manager {
        url: url.to_string(),
        breaker,
    })
    .max_size(size)
    .wait_timeout(Some(Duration::from_secs(3)))
    .create_timeout(Some(super::CHECKOUT_WITHIN))
    .runtime(deadpool::Runtime::Tokio1)
    .build()
    .map_err(AppError::internal)
}

/// A pool's refusal as the client sees it: the database is unavailable (503). A connect that
/// did not finish in time opens the breaker, as a failed one did already (in the manager).
pub fn unavailable(e: PoolError<AppError>, breaker: &Breaker) -> AppError {
    match e {
        PoolError::Backend(e) => e,
        PoolError::Timeout(TimeoutType::Create) => {
            breaker.failed();
            AppError::Unavailable(e.to_string())
        }
        other => AppError::Unavailable(other.to_string()),
    }
}

/// The caller of a request, as one round trip finds them: the account, its organisation and
/// roles — present only while the token's login session is open — and the version of the
/// organisation tree, so a cached tree is known to be current without asking again.
pub struct SignedIn {
    pub token_version: i32,
    pub active: bool,
    pub tree_version: i64,
    pub view: UserView,
}

/// The account `user_id` with its open login session `session_id` (`None` when either is
/// missing or the session has ended).
pub async fn signed_in(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<Option<SignedIn>, AppError> {
    type Line = (UserRow, (Uuid, String, String), Option<String>, i64);
    let lines: Vec<Line> = users::table
        .inner_join(organizations::table)
        .inner_join(login_sessions::table)
        .left_join(user_roles::table)
        .filter(users::id.eq(user_id))
        .filter(login_sessions::id.eq(session_id))
        .filter(login_sessions::revoked_at.is_null())
        .select((
            UserRow::as_select(),
            (organizations::id, organizations::code, organizations::name),
            user_roles::role.nullable(),
            super::organizations::tree_version(),
        ))
        .load(conn)
        .await?;
    let mut roles: Vec<Role> = lines
        .iter()
        .filter_map(|l| l.2.as_deref().and_then(Role::parse))
        .collect();
    roles.sort();
    roles.dedup();
    Ok(lines
        .into_iter()
        .next()
        .map(|(row, (id, code, name), _, tree_version)| SignedIn {
            token_version: row.token_version,
            active: row.active,
            tree_version,
            view: UserView::of(row, OrganizationRef { id, code, name }, roles),
        }))
}

/// The whole organisation tree and its version, in one statement (one snapshot).
pub async fn organization_tree(
    conn: &mut AsyncPgConnection,
) -> Result<Vec<(Uuid, Option<Uuid>, i64)>, AppError> {
    Ok(organizations::table
        .select((
            organizations::id,
            organizations::parent_id,
            super::organizations::tree_version(),
        ))
        .load(conn)
        .await?)
}

/// Where a person works (404 when there is no such person).
pub async fn organization_of(conn: &mut AsyncPgConnection, person: Uuid) -> Result<Uuid, AppError> {
    Ok(users::table
        .find(person)
        .select(users::organization_id)
        .first(conn)
        .await?)
}

/// Looks a certificate up by its verification code, walking its lineage up to the state agency.
pub async fn verification(
    conn: &mut AsyncPgConnection,
    code: &str,
    today: NaiveDate,
) -> Result<Verification, AppError> {
    let code = normalize_code(code).ok_or(AppError::NotFound)?;
    let (successor, master) = diesel::alias!(certificates as successor, certificates as master);
    // one round trip: the certificate, what replaced it, and the master-trainer certificates
    // its instructors held (a line per master)
    let lines: Vec<VerificationLine> = certificates::table
        .left_join(
            successor.on(successor
                .field(certificates::supersedes_id)
                .eq(certificates::id.nullable())),
        )
        .left_join(
            certificate_lineage::table.on(certificate_lineage::certificate_id.eq(certificates::id)),
        )
        .left_join(
            master.on(master
                .field(certificates::id)
                .eq(certificate_lineage::master_certificate_id)),
        )
        .filter(certificates::verification_code.eq(&code))
        .order(master.field(certificates::serial).asc())
        .select((
            PublicRow::as_select(),
            (
                successor.field(certificates::serial),
                successor.field(certificates::verification_code),
            )
                .nullable(),
            master
                .fields((
                    certificates::id,
                    certificates::serial,
                    certificates::holder_name,
                    certificates::tier,
                    certificates::issuer_name,
                    certificates::status,
                    certificates::valid_until,
                ))
                .nullable(),
        ))
        .load(conn)
        .await?;
    let Some((row, successor, _)) = <[VerificationLine]>::first(&lines) else {
        return Err(AppError::NotFound);
    };
    let (row, (superseded_by_serial, superseded_by_code)) =
        (row.clone(), successor.clone().unzip());
    let mut seen = HashSet::from([row.id]);
    let mut links: Vec<LinkRow> = lines
        .into_iter()
        .filter_map(|(_, _, m)| m)
        .filter(|m| seen.insert(m.0))
        .collect();
    // A master-trainer certificate is the root of the chain (the state agency's own): only a
    // link of another tier, which issuance does not make today, has masters above it.
    let mut frontier: Vec<Uuid> = links
        .iter()
        .filter(|l| l.3 != Tier::MasterTrainer.as_str())
        .map(|l| l.0)
        .collect();
    while !frontier.is_empty() && links.len() < 50 {
        let above: Vec<LinkRow> = certificate_lineage::table
            .inner_join(
                master.on(master
                    .field(certificates::id)
                    .eq(certificate_lineage::master_certificate_id)),
            )
            .filter(certificate_lineage::certificate_id.eq_any(&frontier))
            .order(master.field(certificates::serial).asc())
            .select(master.fields((
                certificates::id,
                certificates::serial,
                certificates::holder_name,
                certificates::tier,
                certificates::issuer_name,
                certificates::status,
                certificates::valid_until,
            )))
            .load(conn)
            .await?;
        frontier.clear();
        for m in above {
            if seen.insert(m.0) {
                if m.3 != Tier::MasterTrainer.as_str() {
                    frontier.push(m.0);
                }
                links.push(m);
            }
        }
    }
    let lineage = links
        .into_iter()
        .take(50)
        .map(
            |(_, serial, holder_name, tier, issuer_name, status, valid_until)| LineageLink {
                status: public_status(&status, valid_until, today).to_string(),
                serial,
                holder_name,
                tier,
                issuer_name,
            },
        )
        .collect();
    Ok(Verification {
        status: public_status(&row.status, row.valid_until, today).to_string(),
        serial: row.serial,
        holder_name: row.holder_name,
        course_title: row.course_title,
        curriculum_version: row.curriculum_version,
        tier: row.tier,
        issuer_name: row.issuer_name,
        issued_on: row.issued_on,
        valid_until: row.valid_until,
        revocation_reason: row.revocation_reason,
        superseded_by_serial,
        superseded_by_code,
        lineage,
    })
}

/// What a verifier is shown of a certificate (no claims, no signature, no personal data).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = certificates)]
#[diesel(check_for_backend(diesel::pg::Pg))]
struct PublicRow {
    id: Uuid,
    serial: String,
    tier: String,
    holder_name: String,
    course_title: String,
    curriculum_version: String,
    issuer_name: String,
    issued_on: NaiveDate,
    valid_until: NaiveDate,
    status: String,
    revocation_reason: Option<String>,
}

/// The certificate, its successor's serial and code, one master-trainer certificate above it.
type VerificationLine = (PublicRow, Option<(String, String)>, Option<LinkRow>);

/// A master-trainer certificate in a lineage: id, serial, holder, tier, issuer, status, until.
type LinkRow = (Uuid, String, String, String, String, String, NaiveDate);

/// One line of a person's training record: the enrolment, its cohort (id, title, dates), its
/// course (id, code, title, tier), and a certificate it earned (id, serial, status, valid until,
/// issued at) — a line per certificate, newest first, when a correction superseded the first.
pub type RecordLine = (
    EnrollmentRow,
    (Uuid, String, NaiveDate, NaiveDate),
    (Uuid, String, String, String),
    Option<(Uuid, String, String, NaiveDate)>,
);

/// Every enrolment of a person with its cohort, course and certificates, in one round trip,
/// the newest cohort first.
pub async fn record_lines(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
) -> Result<Vec<RecordLine>, AppError> {
    Ok(enrollments::table
        .inner_join(cohorts::table.inner_join(courses::table))
        .left_join(
            certificates::table.on(certificates::enrollment_id.eq(enrollments::id.nullable())),
        )
        .filter(enrollments::user_id.eq(user_id))
        .order((
            cohorts::starts_on.desc(),
            enrollments::id,
            certificates::created_at.desc(),
        ))
        .select((
            EnrollmentRow::as_select(),
            (
                cohorts::id,
                cohorts::title,
                cohorts::starts_on,
                cohorts::ends_on,
            ),
            (courses::id, courses::code, courses::title, courses::tier),
            (
                certificates::id,
                certificates::serial,
                certificates::status,
                certificates::valid_until,
            )
                .nullable(),
        ))
        .load(conn)
        .await?)
}

/// For each of these enrolments: the minutes its cohort's sessions last, and the minutes the
/// person attended — in one round trip, whatever the number of cohorts.
pub async fn enrollment_minutes(
    conn: &mut AsyncPgConnection,
    enrollment_ids: &[Uuid],
) -> Result<HashMap<Uuid, (i64, i64)>, AppError> {
    let rows: Vec<(Uuid, i32, Option<bool>)> = enrollments::table
        .inner_join(sessions::table.on(sessions::cohort_id.eq(enrollments::cohort_id)))
        .left_join(
            attendance::table.on(attendance::session_id
                .eq(sessions::id)
                .and(attendance::enrollment_id.eq(enrollments::id))),
        )
        .filter(enrollments::id.eq_any(enrollment_ids))
        .select((
            enrollments::id,
            sessions::minutes,
            attendance::present.nullable(),
        ))
        .load(conn)
        .await?;
    let mut out = HashMap::new();
    for (id, minutes, present) in rows {
        let (total, attended): &mut (i64, i64) = out.entry(id).or_default();
        *total += i64::from(minutes);
        if present == Some(true) {
            *attended += i64::from(minutes);
        }
    }
    Ok(out)
}
