//! Enrolments of people in cohorts: enrolling, withdrawing, attendance at sessions, scores, and
//! the outcome a finalised cohort gives each.

use chrono::Utc;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::enrollments;
use super::training::EnrollmentRow;

/// How many enrolments of the cohort have `status`.
pub fn count_by_status(conn: &mut PgConnection, cohort_id: Uuid, status: &str) -> QueryResult<i64> {
    enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .filter(enrollments::status.eq(status))
        .count()
        .get_result(conn)
}

/// The enrolments still `enrolled`: those a finalised cohort judges.
pub fn active(conn: &mut PgConnection, cohort_id: Uuid) -> QueryResult<Vec<EnrollmentRow>> {
    enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .filter(enrollments::status.eq("enrolled"))
        .select(EnrollmentRow::as_select())
        .load(conn)
}

/// Records the outcome (`completed` or `failed`) and the attendance it was judged on.
pub fn set_outcome(
    conn: &mut PgConnection,
    id: Uuid,
    outcome: &str,
    attendance_percent: f64,
) -> QueryResult<()> {
    diesel::update(enrollments::table.find(id))
        .set((
            enrollments::status.eq(outcome),
            enrollments::attendance_percent.eq(attendance_percent),
            enrollments::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Does the person hold a place in the cohort (enrolled, not withdrawn)?
pub fn holds_place(conn: &mut PgConnection, cohort_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    let enrolled: i64 = enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .filter(enrollments::user_id.eq(user_id))
        .filter(enrollments::status.ne("withdrawn"))
        .count()
        .get_result(conn)?;
    Ok(enrolled > 0)
}
