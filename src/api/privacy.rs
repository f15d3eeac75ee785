//! `/audit` (who did what, and who saw whose data: administrators) and `/me/data` (everything
//! held about the caller): each handler parses, calls one use case of
//! [`crate::service::privacy`] and answers.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::error::AppError;
use crate::service::privacy::{self as service, AuditPage, AuditSearch, MyData};
use crate::startup::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// The person the events are about.
    pub subject_id: Option<Uuid>,
    /// Who acted.
    pub actor_id: Option<Uuid>,
    /// An action name, e.g. `certificate_downloaded`, `people_exported`, `national_id_revealed`.
    #[param(max_length = 64)]
    pub action: Option<String>,
    /// From this date (`YYYY-MM-DD`, from 00:00 UTC) or RFC 3339 instant, included.
    #[param(max_length = 40)]
    pub from: Option<String>,
    /// Up to this date (the whole day, UTC) or RFC 3339 instant, included.
    #[param(max_length = 40)]
    pub to: Option<String>,
    #[serde(default, deserialize_with = "crate::api::whole::query_i64")]
    #[param(minimum = 1, maximum = 100_000)]
    pub page: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::whole::query_i64")]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// The audit trail, newest first: who did what, to which object, about whom, from where.
#[utoipa::path(get, operation_id = "privacy_list", tag = "privacy", path = "/api/v1/audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let search = AuditSearch {
        subject_id: q.subject_id,
        actor_id: q.actor_id,
        action: q.action,
        from: q.from,
        to: q.to,
        page: q.page,
        per_page: q.per_page,
    };
    let page = service::audit_trail(&state.db, &user.actor(), search).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Everything Cascade holds about the caller: profile (the CCCD in full), enrolments with
/// attendance per session, marks and outcome, certificates, the outreach activities they
/// recorded (each with its history), and the newest 1,000 audit events about the caller or by
/// them, with their total. Exports of many people are recorded as one event about no one in
/// particular, so they do not appear here; exports limited to the caller do.
#[utoipa::path(get, operation_id = "privacy_my_data", tag = "privacy", path = "/api/v1/me/data",
    responses((status = 200, body = MyData), (status = 401, body = crate::error::ErrorBody)))]
#[get("/me/data")]
pub async fn my_data(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let data = service::my_data(&state.db, &user.actor(), state.today()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .json(data))
}
