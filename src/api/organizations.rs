//! `/organizations`: the tree of organisations in the caller's scope, and the administrator's
//! changes to it. Each handler parses, calls one use case of [`crate::service::organizations`]
//! and answers.

use actix_web::{get, patch, post, web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::error::AppError;
use crate::service::organizations::{
    self as service, Organization, OrganizationChanges, OrganizationInput, OrganizationList,
};
use crate::startup::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganization {
    #[schema(max_length = 32)]
    pub code: String,
    #[schema(max_length = 150)]
    pub name: String,
    pub kind: String,
    pub parent_id: Option<Uuid>,
    #[schema(max_length = 2)]
    pub province: Option<String>,
    #[schema(max_length = 80)]
    pub signer_name: Option<String>,
    /// One or two lines of at most 40 characters each.
    #[schema(max_length = 81)]
    pub signer_title: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganization {
    #[schema(max_length = 150)]
    pub name: Option<String>,
    #[schema(max_length = 80)]
    pub signer_name: Option<String>,
    /// One or two lines of at most 40 characters each.
    #[schema(max_length = 81)]
    pub signer_title: Option<String>,
}

/// The organisations in the caller's scope, in tree order. A trainee sees their own.
#[utoipa::path(get, operation_id = "organizations_list", tag = "organizations", path = "/api/v1/organizations", responses((status = 200, body = OrganizationList)))]
#[get("/organizations")]
pub async fn list(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let found = service::organizations(&state.db, &user.actor()).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[utoipa::path(get, operation_id = "organizations_get", tag = "organizations", path = "/api/v1/organizations/{id}", responses((status = 200, body = Organization), (status = 404, body = crate::error::ErrorBody)))]
#[get("/organizations/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let found = service::organization(&state.db, &user.actor(), id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[utoipa::path(post, operation_id = "organizations_create", tag = "organizations", path = "/api/v1/organizations", request_body = CreateOrganization,
    responses((status = 201, body = Organization), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/organizations")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<CreateOrganization>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let input = OrganizationInput {
        code: b.code,
        name: b.name,
        kind: b.kind,
        parent_id: b.parent_id,
        province: b.province,
        signer_name: b.signer_name,
        signer_title: b.signer_title,
    };
    let created = service::create_organization(&state.db, &user.actor(), input).await?;
    Ok(HttpResponse::Created().json(created))
}

#[utoipa::path(patch, operation_id = "organizations_update", tag = "organizations", path = "/api/v1/organizations/{id}", request_body = UpdateOrganization,
    responses((status = 200, body = Organization), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[patch("/organizations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateOrganization>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let changes = OrganizationChanges {
        name: b.name,
        signer_name: b.signer_name,
        signer_title: b.signer_title,
    };
    let updated =
        service::update_organization(&state.db, &user.actor(), id.into_inner(), changes).await?;
    Ok(HttpResponse::Ok().json(updated))
}
