//! Enrolments of people in cohorts: enrolling, withdrawing, attendance at sessions, scores, and
//! the outcome a finalised cohort gives each.

use chrono::Utc;
use diesel::prelude::*;
use diesel::upsert::excluded;
use uuid::Uuid;

use super::schema::{attendance, enrollments};
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

/// The outcome a finalised cohort gives one enrolment: `completed` or `failed`, and the
/// attendance it was judged on.
#[derive(Debug, Clone, Copy)]
pub struct Outcome<'a> {
    pub enrollment_id: Uuid,
    pub status: &'a str,
    pub attendance_percent: f64,
}

/// Records the outcomes of a cohort's enrolments in one statement, however many there are.
pub fn set_outcomes(conn: &mut PgConnection, outcomes: &[Outcome<'_>]) -> QueryResult<()> {
    use diesel::sql_types::{Array, Double, Text, Timestamptz, Uuid as SqlUuid};
    if outcomes.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = outcomes.iter().map(|o| o.enrollment_id).collect();
    let statuses: Vec<&str> = outcomes.iter().map(|o| o.status).collect();
    let percents: Vec<f64> = outcomes.iter().map(|o| o.attendance_percent).collect();
    diesel::sql_query(
        "UPDATE enrollments e \
         SET status = v.status, attendance_percent = v.percent, updated_at = $4 \
         FROM unnest($1, $2, $3) AS v (id, status, percent) \
         WHERE e.id = v.id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Text>, _>(statuses)
    .bind::<Array<Double>, _>(percents)
    .bind::<Timestamptz, _>(Utc::now())
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

/// The person's enrolment in the cohort, whatever its status.
pub fn of_person(
    conn: &mut PgConnection,
    cohort_id: Uuid,
    user_id: Uuid,
) -> QueryResult<Option<EnrollmentRow>> {
    enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .filter(enrollments::user_id.eq(user_id))
        .select(EnrollmentRow::as_select())
        .first(conn)
        .optional()
}

/// Enrols the person in the cohort; the new enrolment's id.
pub fn insert(conn: &mut PgConnection, cohort_id: Uuid, user_id: Uuid) -> QueryResult<Uuid> {
    diesel::insert_into(enrollments::table)
        .values((
            enrollments::cohort_id.eq(cohort_id),
            enrollments::user_id.eq(user_id),
        ))
        .returning(enrollments::id)
        .get_result(conn)
}

/// Sets the enrolment's status (`enrolled` again, `withdrawn`); its id.
pub fn set_status(conn: &mut PgConnection, id: Uuid, status: &str) -> QueryResult<Uuid> {
    diesel::update(enrollments::table.find(id))
        .set((
            enrollments::status.eq(status),
            enrollments::updated_at.eq(Utc::now()),
        ))
        .returning(enrollments::id)
        .get_result(conn)
}

/// The cohort an enrolment belongs to (it never changes).
pub fn cohort_of(conn: &mut PgConnection, id: Uuid) -> QueryResult<Uuid> {
    enrollments::table
        .find(id)
        .select(enrollments::cohort_id)
        .first(conn)
}

pub fn set_score(conn: &mut PgConnection, id: Uuid, score: f64) -> QueryResult<()> {
    diesel::update(enrollments::table.find(id))
        .set((
            enrollments::score.eq(score),
            enrollments::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Of `ids`, those that are enrolments of the cohort, with their status.
pub fn statuses(
    conn: &mut PgConnection,
    cohort_id: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, String)>> {
    enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .filter(enrollments::id.eq_any(ids))
        .select((enrollments::id, enrollments::status))
        .load(conn)
}

/// Records who was present at a session (enrolment id, present), replacing what was recorded.
pub fn record_attendance(
    conn: &mut PgConnection,
    session_id: Uuid,
    marks: &[(Uuid, bool)],
) -> QueryResult<()> {
    if marks.is_empty() {
        return Ok(());
    }
    let values: Vec<_> = marks
        .iter()
        .map(|(enrollment_id, present)| {
            (
                attendance::session_id.eq(session_id),
                attendance::enrollment_id.eq(*enrollment_id),
                attendance::present.eq(*present),
            )
        })
        .collect();
    diesel::insert_into(attendance::table)
        .values(values)
        .on_conflict((attendance::session_id, attendance::enrollment_id))
        .do_update()
        .set((
            attendance::present.eq(excluded(attendance::present)),
            attendance::recorded_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    Ok(())
}
