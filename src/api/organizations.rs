//! `/organizations`: the tree of bodies that organise training and employ people.

use actix_web::{get, patch, post, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::auth::current_user::CurrentUser;
use crate::db::audit::AuditEvent;
use crate::db::organizations::{self as rows, OrganizationRow};
use crate::db::schema::organizations;
use crate::domain::organizations::{check_new_organization, NewOrganization, OrganizationKind};
use crate::domain::people::Role;
use crate::error::AppError;
use crate::startup::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Organization {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<Uuid>,
    /// Two-digit province code (`provinces.md`), for branches and the units below them.
    pub province: Option<String>,
    pub signer_name: Option<String>,
    pub signer_title: Option<String>,
}

impl From<OrganizationRow> for Organization {
    fn from(r: OrganizationRow) -> Self {
        Organization {
            id: r.id,
            code: r.code,
            name: r.name,
            kind: r.kind,
            parent_id: r.parent_id,
            province: r.province_code,
            signer_name: r.signer_name,
            signer_title: r.signer_title,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrganizationList {
    pub items: Vec<Organization>,
}

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
#[utoipa::path(get, path = "/api/v1/organizations", responses((status = 200, body = OrganizationList)))]
#[get("/organizations")]
pub async fn list(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let filter = match user.scope.organization_filter() {
        Some(ids) if ids.is_empty() => Some(vec![user.organization_id]),
        other => other,
    };
    let items = state
        .db
        .run(move |conn| Ok(rows::in_tree_order(conn, filter.as_deref())?))
        .await?;
    Ok(HttpResponse::Ok().json(OrganizationList {
        items: items.into_iter().map(Organization::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}", responses((status = 200, body = Organization), (status = 404, body = crate::error::ErrorBody)))]
#[get("/organizations/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let visible = user.scope.covers_organization(id) || id == user.organization_id;
    if !visible {
        return Err(AppError::NotFound);
    }
    let row = state.db.run(move |conn| Ok(rows::find(conn, id)?)).await?;
    Ok(HttpResponse::Ok().json(Organization::from(row)))
}

#[utoipa::path(post, path = "/api/v1/organizations", request_body = CreateOrganization,
    responses((status = 201, body = Organization), (status = 400, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
#[post("/organizations")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<CreateOrganization>,
) -> Result<HttpResponse, AppError> {
    user.require_any(&[Role::Admin], "create_organization")
        .await?;
    let body = body.into_inner();
    if let Some(province) = &body.province {
        crate::domain::text::check_plain("province", province, 2)
            .map_err(|e| AppError::Validation(vec![e]))?;
    }
    let (actor, address) = (user.id, user.address.clone());
    let row = state
        .db
        .run(move |conn| {
            let parent = match body.parent_id {
                Some(id) => Some(rows::find(conn, id).optional()?.ok_or_else(|| {
                    AppError::validation("parent_id", "no organisation has this id")
                })?),
                None => None,
            };
            let province_known = match &body.province {
                Some(code) => rows::province(conn, code)?.is_some(),
                None => true,
            };
            let new = check_new_organization(
                NewOrganization {
                    code: &body.code,
                    name: &body.name,
                    kind: &body.kind,
                    province: body.province.as_deref(),
                    signer_name: body.signer_name.as_deref(),
                    signer_title: body.signer_title.as_deref(),
                },
                parent.as_ref().map(|p| (OrganizationKind::parse(&p.kind), p.province_code.as_deref())),
                province_known,
                crate::certificates::pdf::can_draw,
            )
            .map_err(AppError::Validation)?;
            conn.transaction(|conn| {
                let row: OrganizationRow = diesel::insert_into(organizations::table)
                    .values((
                        organizations::code.eq(&new.code),
                        organizations::name.eq(&new.name),
                        organizations::kind.eq(new.kind.as_str()),
                        organizations::parent_id.eq(parent.as_ref().map(|p| p.id)),
                        organizations::province_code.eq(&new.province),
                        organizations::signer_name.eq(&new.signer_name),
                        organizations::signer_title.eq(&new.signer_title),
                    ))
                    .returning(OrganizationRow::as_returning())
                    .get_result(conn)
                    .map_err(|e| match AppError::from(e) {
                        AppError::Conflict { .. } => AppError::Conflict {
                            code: "conflict",
                            message: "An organisation with this code, or a branch for this province, already exists.".into(),
                        },
                        other => other,
                    })?;
                AuditEvent::new(Some(actor), "organization_created", "organization")
                    .object(row.id)
                    .from_address(&address)
                    .details(json!({ "code": row.code }))
                    .record(conn)?;
                Ok(row)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(Organization::from(row)))
}

#[utoipa::path(patch, path = "/api/v1/organizations/{id}", request_body = UpdateOrganization,
    responses((status = 200, body = Organization), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
#[patch("/organizations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateOrganization>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    if !(user.scope.covers_organization(id) || id == user.organization_id) {
        return Err(AppError::NotFound);
    }
    user.require_any(&[Role::Admin], "update_organization")
        .await?;
    let body = body.into_inner();
    use crate::certificates::pdf::can_draw;
    use crate::domain::organizations::{check_name, check_signer_name, check_signer_title};
    let one = |e| AppError::Validation(vec![e]);
    let name = body
        .name
        .as_deref()
        .map(|n| check_name(n, can_draw))
        .transpose()
        .map_err(one)?;
    let signer_name = body
        .signer_name
        .as_deref()
        .map(|n| check_signer_name(n, can_draw))
        .transpose()
        .map_err(one)?;
    let signer_title = body
        .signer_title
        .as_deref()
        .map(|t| check_signer_title(t, can_draw))
        .transpose()
        .map_err(one)?;
    let (actor, address) = (user.id, user.address.clone());
    let row = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let current = rows::find(conn, id)?;
                let row: OrganizationRow = diesel::update(organizations::table.find(id))
                    .set((
                        organizations::name.eq(name.unwrap_or(current.name)),
                        organizations::signer_name.eq(signer_name.or(current.signer_name)),
                        organizations::signer_title.eq(signer_title.or(current.signer_title)),
                        organizations::updated_at.eq(chrono::Utc::now()),
                    ))
                    .returning(OrganizationRow::as_returning())
                    .get_result(conn)?;
                AuditEvent::new(Some(actor), "organization_updated", "organization")
                    .object(id)
                    .from_address(&address)
                    .record(conn)?;
                Ok(row)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Organization::from(row)))
}
