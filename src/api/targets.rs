//! `/organizations/{id}/targets`: the yearly targets of an organisation, set by an administrator
//! or the coordinator of a parent organisation. Each handler parses, calls one use case of
//! [`crate::service::targets`] and answers.

use actix_web::{get, put, web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::error::AppError;
use crate::service::targets::{self as service, OrganizationTarget, TargetList};
use crate::startup::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    /// Certified master trainers the organisation should have that year.
    #[serde(deserialize_with = "crate::api::whole::i32")]
    #[schema(minimum = 0, maximum = 10_000_000, example = 12)]
    pub master_trainers: i32,
    /// Certified propagandists the organisation should have that year.
    #[serde(deserialize_with = "crate::api::whole::i32")]
    #[schema(minimum = 0, maximum = 10_000_000, example = 1200)]
    pub propagandists: i32,
}

/// Every target set for an organisation in the caller's scope, newest year first.
#[utoipa::path(get, operation_id = "targets_list", tag = "targets", path = "/api/v1/organizations/{id}/targets",
    responses((status = 200, body = TargetList), (status = 404, body = crate::error::ErrorBody)))]
#[get("/organizations/{id}/targets")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let found = service::targets(&state.db, &user.actor(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Sets an organisation's target of a year (2000–2100): an administrator, or a coordinator of
/// an organisation above it (never of the organisation itself).
#[utoipa::path(put, operation_id = "targets_set", tag = "targets", path = "/api/v1/organizations/{id}/targets/{year}",
    params(("id" = Uuid, Path), ("year" = i32, Path, minimum = 2000, maximum = 2100)),
    request_body = TargetBody,
    responses((status = 200, body = OrganizationTarget), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[put("/organizations/{id}/targets/{year}")]
pub async fn set(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(Uuid, i32)>,
    body: web::Json<TargetBody>,
) -> Result<HttpResponse, AppError> {
    let (id, year) = path.into_inner();
    let b = body.into_inner();
    let set = service::set_target(
        &state.db,
        &user.actor(),
        id,
        year,
        i64::from(b.master_trainers),
        i64::from(b.propagandists),
    )
    .await?;
    Ok(HttpResponse::Ok().json(set))
}
