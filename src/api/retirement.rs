//! `POST /users/{id}/retire`: an administrator retires a person who asked to leave (see
//! [`crate::service::retirement`]).

use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::db::users::UserView;
use crate::error::AppError;
use crate::service::retirement;
use crate::startup::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireBody {
    /// Why the person is retired (their request, its date): kept in the audit trail.
    /// Required; a missing one is answered as an empty one, with the field's error.
    #[serde(default)]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

/// Retires a person: the login is blocked for good; CCCD, date of birth, e-mail and username are
/// erased (the username can never be taken again) and the name is replaced; issued certificates
/// stay valid and verifiable with the name they were signed with. Administrators only; 403 for
/// one's own account, 409 when already retired.
#[utoipa::path(post, operation_id = "retirement_retire", tag = "retirement", path = "/api/v1/users/{id}/retire", request_body = RetireBody,
    params(("id" = Uuid, Path, description = "The person to retire")),
    responses((status = 200, body = UserView), (status = 400, body = crate::error::ErrorBody),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/users/{id}/retire")]
pub async fn retire(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<RetireBody>,
) -> Result<HttpResponse, AppError> {
    let reason = body.into_inner().reason.unwrap_or_default();
    let view =
        retirement::retire_person(&state.db, &user.actor(), id.into_inner(), &reason).await?;
    Ok(HttpResponse::Ok().json(view))
}
