//! Rows of the training chain: courses, cohorts, sessions, enrolments, attendance.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{
    attendance, certificates, cohort_instructors, cohorts, courses, enrollments, sessions, users,
};
use crate::domain::training::{certificate_covers, MasterCertificateFacts, Tier};

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = courses)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct CourseRow {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub tier: String,
    pub curriculum_version: String,
    pub required_hours: i32,
    pub min_attendance_percent: i32,
    pub pass_score: i32,
    pub certificate_validity_months: i32,
    pub superseded_by_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl CourseRow {
    pub fn tier(&self) -> Tier {
        Tier::parse(&self.tier).unwrap_or(Tier::Propagandist)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cohorts)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct CohortRow {
    pub id: Uuid,
    pub course_id: Uuid,
    pub organization_id: Uuid,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub location: String,
    pub mode: String,
    pub capacity: i32,
    pub status: String,
    pub finalized_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The campaign the cohort belongs to, if any.
    pub campaign_id: Option<Uuid>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = sessions)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct SessionRow {
    pub id: Uuid,
    pub cohort_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub minutes: i32,
    pub topic: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enrollments)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct EnrollmentRow {
    pub id: Uuid,
    pub cohort_id: Uuid,
    pub user_id: Uuid,
    pub status: String,
    pub score: Option<f64>,
    pub attendance_percent: Option<f64>,
    pub enrolled_at: DateTime<Utc>,
}

pub fn course(conn: &mut PgConnection, id: Uuid) -> QueryResult<CourseRow> {
    courses::table
        .find(id)
        .select(CourseRow::as_select())
        .first(conn)
}

/// Every course, by tier then code.
pub fn courses(conn: &mut PgConnection) -> QueryResult<Vec<CourseRow>> {
    courses::table
        .order((courses::tier.asc(), courses::code.asc()))
        .select(CourseRow::as_select())
        .load(conn)
}

/// A new course's columns, checked.
pub struct NewCourse<'a> {
    pub code: &'a str,
    pub title: &'a str,
    pub tier: Tier,
    pub curriculum_version: &'a str,
    pub required_hours: i32,
    pub min_attendance_percent: i32,
    pub pass_score: i32,
    pub certificate_validity_months: i32,
}

pub fn insert_course(conn: &mut PgConnection, new: &NewCourse<'_>) -> QueryResult<CourseRow> {
    diesel::insert_into(courses::table)
        .values((
            courses::code.eq(new.code),
            courses::title.eq(new.title),
            courses::tier.eq(new.tier.as_str()),
            courses::curriculum_version.eq(new.curriculum_version),
            courses::required_hours.eq(new.required_hours),
            courses::min_attendance_percent.eq(new.min_attendance_percent),
            courses::pass_score.eq(new.pass_score),
            courses::certificate_validity_months.eq(new.certificate_validity_months),
        ))
        .returning(CourseRow::as_returning())
        .get_result(conn)
}

/// The course, locked until the end of the transaction (serialises superseding it).
pub fn course_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<CourseRow> {
    courses::table
        .find(id)
        .select(CourseRow::as_select())
        .for_update()
        .first(conn)
}

/// Marks `old_id` as replaced by `new_id` from `day` on.
pub fn supersede_course(
    conn: &mut PgConnection,
    old_id: Uuid,
    new_id: Uuid,
    day: NaiveDate,
) -> QueryResult<()> {
    diesel::update(courses::table.find(old_id))
        .set((
            courses::superseded_by_id.eq(new_id),
            courses::superseded_on.eq(day),
            courses::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    // its holders now need a refresher: the coverage summary, in this transaction
    super::coverage_summary::course_superseded(conn, old_id)
}

pub fn cohort(conn: &mut PgConnection, id: Uuid) -> QueryResult<CohortRow> {
    cohorts::table
        .find(id)
        .select(CohortRow::as_select())
        .first(conn)
}

/// The cohort, locked until the end of the transaction (serialises finalising, enrolling).
pub fn cohort_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<CohortRow> {
    cohorts::table
        .find(id)
        .select(CohortRow::as_select())
        .for_update()
        .first(conn)
}

pub fn enrollment(conn: &mut PgConnection, id: Uuid) -> QueryResult<EnrollmentRow> {
    enrollments::table
        .find(id)
        .select(EnrollmentRow::as_select())
        .first(conn)
}

pub fn session(conn: &mut PgConnection, id: Uuid) -> QueryResult<SessionRow> {
    sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
}

pub fn sessions_of(conn: &mut PgConnection, cohort_id: Uuid) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::cohort_id.eq(cohort_id))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .select(SessionRow::as_select())
        .load(conn)
}

/// People holding a place (not withdrawn).
pub fn enrolled_count(conn: &mut PgConnection, cohort_id: Uuid) -> QueryResult<i64> {
    enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .filter(enrollments::status.ne("withdrawn"))
        .count()
        .get_result(conn)
}

pub fn is_participant(
    conn: &mut PgConnection,
    cohort_id: Uuid,
    user_id: Uuid,
) -> QueryResult<bool> {
    let enrolled: i64 = enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .filter(enrollments::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    let teaching: i64 = cohort_instructors::table
        .filter(cohort_instructors::cohort_id.eq(cohort_id))
        .filter(cohort_instructors::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(enrolled + teaching > 0)
}

/// Has the person ever been issued a master-trainer certificate (whatever its state now)?
pub fn holds_master_certificate(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<bool> {
    let held: i64 = certificates::table
        .filter(certificates::holder_id.eq(user_id))
        .filter(certificates::tier.eq(Tier::MasterTrainer.as_str()))
        .count()
        .get_result(conn)?;
    Ok(held > 0)
}

/// id, status, issued on, valid until, supersedes.
type MasterRow = (Uuid, String, NaiveDate, NaiveDate, Option<Uuid>);

/// The person's master-trainer certificates that cover the whole of `starts_on..=ends_on`
/// (rule 2), newest first.
pub fn covering_master_certificates(
    conn: &mut PgConnection,
    user_id: Uuid,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<MasterRow> = certificates::table
        .filter(certificates::holder_id.eq(user_id))
        .filter(certificates::tier.eq(Tier::MasterTrainer.as_str()))
        .order(certificates::issued_on.desc())
        .select((
            certificates::id,
            certificates::status,
            certificates::issued_on,
            certificates::valid_until,
            certificates::supersedes_id,
        ))
        .load(conn)?;
    // A correction (reissue) continues the certificate it supersedes: the holder has been
    // certified since the first of the chain was issued.
    fn first_issued<'a>(rows: &'a [MasterRow], mut row: &'a MasterRow) -> NaiveDate {
        let mut issued = row.2;
        for _ in 0..rows.len() {
            match row.4.and_then(|prev| rows.iter().find(|r| r.0 == prev)) {
                Some(prev) => {
                    issued = issued.min(prev.2);
                    row = prev;
                }
                None => break,
            }
        }
        issued
    }
    Ok(rows
        .iter()
        .filter(|row| {
            certificate_covers(
                &MasterCertificateFacts {
                    tier: Tier::MasterTrainer,
                    status: row.1.clone(),
                    issued_on: first_issued(&rows, row),
                    valid_until: row.3,
                },
                starts_on,
                ends_on,
            )
        })
        .map(|row| row.0)
        .collect())
}

/// For each instructor of the cohort: their id, name, and a covering master-trainer
/// certificate if they hold one.
pub fn instructors_with_cover(
    conn: &mut PgConnection,
    cohort: &CohortRow,
) -> QueryResult<Vec<(Uuid, String, Option<Uuid>)>> {
    let people: Vec<(Uuid, String)> = cohort_instructors::table
        .inner_join(users::table)
        .filter(cohort_instructors::cohort_id.eq(cohort.id))
        .order(users::name_search.asc())
        .select((users::id, users::full_name))
        .load(conn)?;
    let mut out = Vec::with_capacity(people.len());
    for (id, name) in people {
        let cover = covering_master_certificates(conn, id, cohort.starts_on, cohort.ends_on)?
            .into_iter()
            .next();
        out.push((id, name, cover));
    }
    Ok(out)
}

/// Minutes attended by each enrolment of a cohort, and the cohort's total minutes.
pub fn attended_minutes(
    conn: &mut PgConnection,
    cohort_id: Uuid,
) -> QueryResult<(i64, std::collections::HashMap<Uuid, i64>)> {
    let total: Option<i64> = sessions::table
        .filter(sessions::cohort_id.eq(cohort_id))
        .select(diesel::dsl::sum(sessions::minutes))
        .first(conn)?;
    let rows: Vec<(Uuid, i32)> = attendance::table
        .inner_join(sessions::table)
        .filter(sessions::cohort_id.eq(cohort_id))
        .filter(attendance::present.eq(true))
        .select((attendance::enrollment_id, sessions::minutes))
        .load(conn)?;
    let mut by_enrollment = std::collections::HashMap::new();
    for (enrollment, minutes) in rows {
        *by_enrollment.entry(enrollment).or_insert(0) += i64::from(minutes);
    }
    Ok((total.unwrap_or(0), by_enrollment))
}
