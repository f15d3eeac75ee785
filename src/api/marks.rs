//! Marks: attendance per session (a whole cohort in one request) and scores per enrolment. Each
//! handler parses, calls one use case of [`crate::service::enrolment`] and answers.

use actix_web::{put, web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::db::views::enrollments::{EnrollmentView, SessionAttendance};
use crate::error::AppError;
use crate::service::enrolment::{self, Presence, MAX_ATTENDANCE_LINES};
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
    #[schema(minimum = 0, maximum = 100, example = 85.5)]
    pub score: f64,
}

/// Room for one attendance line in JSON: `{"enrollment_id":"<uuid>","present":false},` is 72
/// bytes; the rest allows for a pretty-printed body.
const ATTENDANCE_LINE_BYTES: usize = 128;

/// The body limit of a session's attendance: a whole cohort at the largest capacity, one line a
/// person, and 64 KiB to spare (1,314 KiB; every other JSON body keeps [`super::JSON_LIMIT`]).
pub const ATTENDANCE_JSON_LIMIT: usize =
    MAX_ATTENDANCE_LINES * ATTENDANCE_LINE_BYTES + super::JSON_LIMIT;

/// Records who was present at a session; all lines or none.
///
/// One request takes the whole cohort: up to 10,000 lines (the largest capacity), in a body of
/// up to 1,314 KiB (1,345,536 bytes) — the 64 KiB limit of other JSON bodies does not apply
/// here. A larger body answers 413 `payload_too_large`; more lines, an unknown, withdrawn or
/// repeated enrolment answer 400 and record nothing.
#[utoipa::path(put, operation_id = "marks_put_attendance", tag = "marks", path = "/api/v1/sessions/{id}/attendance", request_body = Vec<AttendanceMark>,
    responses((status = 200, body = SessionAttendance), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 413, body = crate::error::ErrorBody)))]
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

#[utoipa::path(put, operation_id = "marks_put_score", tag = "marks", path = "/api/v1/enrollments/{id}/score", request_body = ScoreBody,
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

#[cfg(test)]
mod tests {
    /// The figure the OpenAPI description of the route states.
    #[test]
    fn a_whole_cohort_at_the_largest_capacity_fits_the_attendance_limit() {
        assert_eq!(super::ATTENDANCE_JSON_LIMIT, 1_345_536);
    }
}
