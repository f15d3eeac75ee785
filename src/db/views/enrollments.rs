//! Read models of enrolments: each with its person, their organisation and attendance so far;
//! and who was present at a session.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::db::schema::{attendance, enrollments, organizations, users};
use crate::db::training::{self as rows, EnrollmentRow};
use crate::db::users::OrganizationRef;
use crate::domain::training;
use crate::error::AppError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PersonRef {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub organization: OrganizationRef,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnrollmentView {
    pub id: Uuid,
    pub cohort_id: Uuid,
    pub user_id: Uuid,
    pub person: PersonRef,
    pub status: String,
    pub score: Option<f64>,
    /// Share of session hours attended so far (fixed when the cohort is finalised).
    pub attendance_percent: f64,
    pub enrolled_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EnrollmentList {
    pub items: Vec<EnrollmentView>,
}

/// An enrolment with its person (id, username, name) and their organisation (id, code, name).
type EnrollmentLine = (
    EnrollmentRow,
    (Uuid, String, String),
    (Uuid, String, String),
);

/// Views of enrolments with their people and attendance so far.
pub fn enrollment_views(
    conn: &mut PgConnection,
    cohort_id: Uuid,
    only: Option<Uuid>,
) -> Result<Vec<EnrollmentView>, AppError> {
    let mut query = enrollments::table
        .inner_join(users::table.inner_join(organizations::table))
        .filter(enrollments::cohort_id.eq(cohort_id))
        .into_boxed();
    if let Some(e) = only {
        query = query.filter(enrollments::id.eq(e));
    }
    let found: Vec<EnrollmentLine> = query
        .order(users::name_search.asc())
        .select((
            EnrollmentRow::as_select(),
            (users::id, users::username, users::full_name),
            (organizations::id, organizations::code, organizations::name),
        ))
        .load(conn)?;
    let (total, attended) = rows::attended_minutes(conn, cohort_id)?;
    Ok(found
        .into_iter()
        .map(
            |(e, (uid, username, full_name), (oid, code, name))| EnrollmentView {
                attendance_percent: e.attendance_percent.unwrap_or_else(|| {
                    training::attendance_percent(total, attended.get(&e.id).copied().unwrap_or(0))
                }),
                id: e.id,
                cohort_id: e.cohort_id,
                user_id: e.user_id,
                person: PersonRef {
                    id: uid,
                    username,
                    full_name,
                    organization: OrganizationRef {
                        id: oid,
                        code,
                        name,
                    },
                },
                status: e.status,
                score: e.score,
                enrolled_at: e.enrolled_at,
            },
        )
        .collect())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttendanceLine {
    pub enrollment_id: Uuid,
    pub user_id: Uuid,
    pub full_name: String,
    /// `null` when not yet recorded.
    pub present: Option<bool>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionAttendance {
    pub session_id: Uuid,
    pub items: Vec<AttendanceLine>,
}

/// Who is expected at a session (every enrolment not withdrawn) and whether they were there.
pub fn session_attendance(
    conn: &mut PgConnection,
    session_id: Uuid,
    cohort_id: Uuid,
) -> Result<SessionAttendance, AppError> {
    let people = enrollment_views(conn, cohort_id, None)?;
    let marks: std::collections::HashMap<Uuid, bool> = attendance::table
        .filter(attendance::session_id.eq(session_id))
        .select((attendance::enrollment_id, attendance::present))
        .load::<(Uuid, bool)>(conn)?
        .into_iter()
        .collect();
    let items = people
        .into_iter()
        .filter(|e| e.status != "withdrawn")
        .map(|e| AttendanceLine {
            present: marks.get(&e.id).copied(),
            enrollment_id: e.id,
            user_id: e.user_id,
            full_name: e.person.full_name,
        })
        .collect();
    Ok(SessionAttendance { session_id, items })
}
