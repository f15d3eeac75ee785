//! What Cascade holds about one person, read for that person (`/me/data`): their row, their
//! enrolments with each session's attendance, their certificates. Every query is keyed by the
//! person, so nothing of anyone else can come along.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{
    attendance, certificates, cohorts, courses, enrollments, organizations, sessions, users,
};

/// The person's own row (the CCCD as stored: see the service for reading it).
#[derive(Debug, Clone, Queryable)]
pub struct ProfileRow {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub category: String,
    pub email: Option<String>,
    pub has_login: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub organization: (Uuid, String, String),
}

pub fn profile(conn: &mut PgConnection, person: Uuid) -> QueryResult<ProfileRow> {
    users::table
        .inner_join(organizations::table)
        .filter(users::id.eq(person))
        .select((
            users::id,
            users::username,
            users::full_name,
            users::date_of_birth,
            users::category,
            users::email,
            users::password_hash.is_not_null(),
            users::active,
            users::created_at,
            users::updated_at,
            (organizations::id, organizations::code, organizations::name),
        ))
        .first(conn)
}

/// One enrolment of the person, with its cohort and course.
#[derive(Debug, Clone, Queryable)]
pub struct EnrollmentRow {
    pub id: Uuid,
    pub status: String,
    pub score: Option<f64>,
    pub attendance_percent: Option<f64>,
    pub enrolled_at: DateTime<Utc>,
    pub cohort: CohortPart,
    pub course: CoursePart,
}

// An enrolment's cohort as the person's data shows it (its JSON and schema are `MyCohort`'s).
#[derive(Debug, Clone, Queryable, serde::Serialize, utoipa::ToSchema)]
#[schema(as = MyCohort)]
pub struct CohortPart {
    pub id: Uuid,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub location: String,
    pub mode: String,
    pub status: String,
    /// The organising organisation's name.
    pub organizer: String,
}

// An enrolment's course as the person's data shows it (its JSON and schema are `MyCourse`'s).
#[derive(Debug, Clone, Queryable, serde::Serialize, utoipa::ToSchema)]
#[schema(as = MyCourse)]
pub struct CoursePart {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub tier: String,
    pub curriculum_version: String,
}

/// The person's enrolments, the newest cohort first.
pub fn enrollments_of(conn: &mut PgConnection, person: Uuid) -> QueryResult<Vec<EnrollmentRow>> {
    enrollments::table
        .inner_join(
            cohorts::table
                .inner_join(courses::table)
                .inner_join(organizations::table),
        )
        .filter(enrollments::user_id.eq(person))
        .order((cohorts::starts_on.desc(), enrollments::enrolled_at.desc()))
        .select((
            enrollments::id,
            enrollments::status,
            enrollments::score,
            enrollments::attendance_percent,
            enrollments::enrolled_at,
            (
                cohorts::id,
                cohorts::title,
                cohorts::starts_on,
                cohorts::ends_on,
                cohorts::location,
                cohorts::mode,
                cohorts::status,
                organizations::name,
            ),
            (
                courses::id,
                courses::code,
                courses::title,
                courses::tier,
                courses::curriculum_version,
            ),
        ))
        .load(conn)
}

/// One session of a cohort the person is enrolled in, and whether they were marked present
/// (`None`: not marked yet).
#[derive(Debug, Clone, Queryable)]
pub struct SessionLine {
    pub enrollment_id: Uuid,
    pub session_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub minutes: i32,
    pub topic: String,
    pub present: Option<bool>,
}

/// Every session of the person's cohorts with their attendance, in time order: one query for
/// all their enrolments.
pub fn sessions_of(conn: &mut PgConnection, person: Uuid) -> QueryResult<Vec<SessionLine>> {
    enrollments::table
        .inner_join(sessions::table.on(sessions::cohort_id.eq(enrollments::cohort_id)))
        .left_join(
            attendance::table.on(attendance::session_id
                .eq(sessions::id)
                .and(attendance::enrollment_id.eq(enrollments::id))),
        )
        .filter(enrollments::user_id.eq(person))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .select((
            enrollments::id,
            sessions::id,
            sessions::starts_at,
            sessions::ends_at,
            sessions::minutes,
            sessions::topic,
            attendance::present.nullable(),
        ))
        .load(conn)
}

/// One certificate the person holds, with what it was signed with.
#[derive(Debug, Clone, Queryable)]
pub struct CertificateLine {
    pub id: Uuid,
    pub serial: String,
    pub verification_code: String,
    pub tier: String,
    pub holder_name: String,
    pub holder_birth_date: Option<NaiveDate>,
    pub holder_workplace: String,
    pub course_title: String,
    pub issuer_name: String,
    pub cohort_id: Option<Uuid>,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub status: String,
    pub revocation_reason: Option<String>,
    pub supersedes_id: Option<Uuid>,
}

/// The person's certificates, newest first.
pub fn certificates_of(conn: &mut PgConnection, person: Uuid) -> QueryResult<Vec<CertificateLine>> {
    certificates::table
        .filter(certificates::holder_id.eq(person))
        .order((certificates::issued_on.desc(), certificates::serial.asc()))
        .select((
            certificates::id,
            certificates::serial,
            certificates::verification_code,
            certificates::tier,
            certificates::holder_name,
            certificates::holder_birth_date,
            certificates::holder_workplace,
            certificates::course_title,
            certificates::issuer_name,
            certificates::cohort_id,
            certificates::issued_on,
            certificates::valid_until,
            certificates::status,
            certificates::revocation_reason,
            certificates::supersedes_id,
        ))
        .load(conn)
}

/// The holder of each of these certificates (certificate id, holder id).
pub fn holders(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<(Uuid, Uuid)>> {
    certificates::table
        .filter(certificates::id.eq_any(ids))
        .select((certificates::id, certificates::holder_id))
        .load(conn)
}
