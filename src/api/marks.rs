//! Marks: attendance per session (in bulk) and scores per enrolment.

use actix_web::{put, web, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;
use diesel::upsert::excluded;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::cohorts::{reach_cohort, Access};
use crate::auth::current_user::CurrentUser;
use crate::db::audit::AuditEvent;
use crate::db::schema::{attendance, enrollments};
use crate::db::training as rows;
use crate::db::views::enrollments::{
    enrollment_views, session_attendance, EnrollmentView, SessionAttendance,
};
use crate::domain::training::{check_score, CohortStatus};
use crate::error::{AppError, FieldError};
use crate::startup::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceMark {
    pub enrollment_id: Uuid,
    pub present: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreBody {
    pub score: f64,
}

fn open_for_marks(status: &str) -> Result<(), AppError> {
    match CohortStatus::parse(status) {
        Some(CohortStatus::Open | CohortStatus::InProgress) => Ok(()),
        _ => Err(AppError::Conflict {
            code: "cohort_closed",
            message: format!(
                "Marks are recorded while a cohort is open or in progress; this one is {status}."
            ),
        }),
    }
}

/// Records who was present at a session; all lines or none.
#[utoipa::path(put, path = "/api/v1/sessions/{id}/attendance", request_body = Vec<AttendanceMark>,
    responses((status = 200, body = SessionAttendance), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[put("/sessions/{id}/attendance")]
pub async fn put_attendance(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<Vec<AttendanceMark>>,
) -> Result<HttpResponse, AppError> {
    let (session_id, actor, marks) = (id.into_inner(), user.actor(), body.into_inner());
    if marks.len() > 10_000 {
        return Err(AppError::validation("body", "at most 10000 lines at once"));
    }
    let result = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let session = rows::session(conn, session_id)?;
                reach_cohort(conn, &actor, session.cohort_id, Access::Manage)?;
                let cohort = rows::cohort_for_update(conn, session.cohort_id)?;
                open_for_marks(&cohort.status)?;
                let ids: Vec<Uuid> = marks.iter().map(|m| m.enrollment_id).collect();
                let known: Vec<(Uuid, String)> = enrollments::table
                    .filter(enrollments::cohort_id.eq(cohort.id))
                    .filter(enrollments::id.eq_any(&ids))
                    .select((enrollments::id, enrollments::status))
                    .load(conn)?;
                let mut errors = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for (i, m) in marks.iter().enumerate() {
                    match known.iter().find(|(id, _)| *id == m.enrollment_id) {
                        None => errors.push(FieldError::new(
                            format!("[{i}].enrollment_id"),
                            "is not an enrolment of this cohort",
                        )),
                        Some((_, status)) if status == "withdrawn" => errors.push(FieldError::new(
                            format!("[{i}].enrollment_id"),
                            "has withdrawn",
                        )),
                        _ => {}
                    }
                    if !seen.insert(m.enrollment_id) {
                        errors.push(FieldError::new(
                            format!("[{i}].enrollment_id"),
                            "appears twice",
                        ));
                    }
                }
                if !errors.is_empty() {
                    return Err(AppError::Validation(errors));
                }
                let values: Vec<_> = marks
                    .iter()
                    .map(|m| {
                        (
                            attendance::session_id.eq(session_id),
                            attendance::enrollment_id.eq(m.enrollment_id),
                            attendance::present.eq(m.present),
                        )
                    })
                    .collect();
                if !values.is_empty() {
                    diesel::insert_into(attendance::table)
                        .values(values)
                        .on_conflict((attendance::session_id, attendance::enrollment_id))
                        .do_update()
                        .set((
                            attendance::present.eq(excluded(attendance::present)),
                            attendance::recorded_at.eq(Utc::now()),
                        ))
                        .execute(conn)?;
                }
                AuditEvent::new(actor.id, "attendance_recorded", "session")
                    .object(session_id)
                    .from_address(&actor.address)
                    .details(json!({ "lines": marks.len() }))
                    .record(conn)?;
                session_attendance(conn, session_id, cohort.id)
            })
        })
        .await;
    let body = user.audited(result, "record_attendance").await?;
    Ok(HttpResponse::Ok().json(body))
}

#[utoipa::path(put, path = "/api/v1/enrollments/{id}/score", request_body = ScoreBody,
    responses((status = 200, body = EnrollmentView), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[put("/enrollments/{id}/score")]
pub async fn put_score(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<ScoreBody>,
) -> Result<HttpResponse, AppError> {
    let (enrollment_id, actor) = (id.into_inner(), user.actor());
    let score = check_score(body.score)?;
    let result = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                // an enrolment never changes cohort, so its cohort id may be read before the lock
                let cohort_id: Uuid = enrollments::table
                    .find(enrollment_id)
                    .select(enrollments::cohort_id)
                    .first(conn)?;
                reach_cohort(conn, &actor, cohort_id, Access::Manage)?;
                // the cohort lock first, as withdrawing takes it: the enrolment read after it
                // sees any withdrawal that committed while this call waited
                let cohort = rows::cohort_for_update(conn, cohort_id)?;
                open_for_marks(&cohort.status)?;
                let e = rows::enrollment(conn, enrollment_id)?;
                if e.status != "enrolled" {
                    return Err(AppError::conflict(format!(
                        "The enrolment is {}; scores go to active enrolments.",
                        e.status
                    )));
                }
                diesel::update(enrollments::table.find(enrollment_id))
                    .set((
                        enrollments::score.eq(score),
                        enrollments::updated_at.eq(Utc::now()),
                    ))
                    .execute(conn)?;
                AuditEvent::new(actor.id, "score_recorded", "enrollment")
                    .object(enrollment_id)
                    .from_address(&actor.address)
                    .details(json!({ "score": score }))
                    .record(conn)?;
                enrollment_views(conn, cohort.id, Some(enrollment_id))?
                    .pop()
                    .ok_or(AppError::NotFound)
            })
        })
        .await;
    let view = user.audited(result, "record_score").await?;
    Ok(HttpResponse::Ok().json(view))
}
