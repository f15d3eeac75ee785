//! Marks: attendance per session (in bulk) and scores per enrolment. Each handler parses, calls
//! one use case of [`crate::service::enrolment`] and answers.

use actix_web::{put, web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::db::views::enrollments::{EnrollmentView, SessionAttendance};
use crate::error::AppError;
use crate::service::enrolment::{self, Presence};
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
    let marks = body
        .into_inner()
        .into_iter()
        .map(|m| Presence {
            enrollment_id: m.enrollment_id,
            present: m.present,
        })
        .collect();
    let found =
        enrolment::record_attendance(&state.db, &user.actor(), id.into_inner(), marks).await?;
    Ok(HttpResponse::Ok().json(found))
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
    let view =
        enrolment::record_score(&state.db, &user.actor(), id.into_inner(), body.score).await?;
    Ok(HttpResponse::Ok().json(view))
}
