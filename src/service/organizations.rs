//! Organisations: the tree in the caller's scope, adding a branch or unit, renaming, who signs.

use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::refuse;
use crate::auth::current_user::Actor;
use crate::db::audit::AuditEvent;
use crate::db::organizations::{self as rows, OrganizationRow};
use crate::db::schema::organizations;
use crate::db::Db;
use crate::domain::organizations::{check_new_organization, NewOrganization, OrganizationKind};
use crate::domain::people::Role;
use crate::error::AppError;

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

/// A new organisation as asked for, before any check.
#[derive(Debug, Clone)]
pub struct OrganizationInput {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<Uuid>,
    pub province: Option<String>,
    pub signer_name: Option<String>,
    pub signer_title: Option<String>,
}

/// What a change to an organisation says (`None`: as it is).
#[derive(Debug, Default, Clone)]
pub struct OrganizationChanges {
    pub name: Option<String>,
    pub signer_name: Option<String>,
    pub signer_title: Option<String>,
}

/// May the caller see this organisation? Their scope, and a trainee their own workplace.
fn visible(actor: &Actor, id: Uuid) -> bool {
    actor.scope.covers_organization(id) || id == actor.organization_id
}

/// The organisations in the caller's scope, in tree order. A trainee sees their own.
pub async fn organizations(db: &Db, actor: &Actor) -> Result<OrganizationList, AppError> {
    let filter = match actor.scope.organization_filter() {
        Some(ids) if ids.is_empty() => Some(vec![actor.organization_id]),
        other => other,
    };
    let items = db
        .run(move |conn| Ok(rows::in_tree_order(conn, filter.as_deref())?))
        .await?;
    Ok(OrganizationList {
        items: items.into_iter().map(Organization::from).collect(),
    })
}

/// One organisation the caller may see (404 otherwise).
pub async fn organization(db: &Db, actor: &Actor, id: Uuid) -> Result<Organization, AppError> {
    if !visible(actor, id) {
        return Err(AppError::NotFound);
    }
    let row = db.run(move |conn| Ok(rows::find(conn, id)?)).await?;
    Ok(Organization::from(row))
}

/// Adds a branch or a unit (administrators).
pub async fn create_organization(
    db: &Db,
    actor: &Actor,
    body: OrganizationInput,
) -> Result<Organization, AppError> {
    if !actor.has(Role::Admin) {
        return Err(refuse(db, actor, "create_organization").await);
    }
    if let Some(province) = &body.province {
        crate::domain::text::check_plain("province", province, 2)
            .map_err(|e| AppError::Validation(vec![e]))?;
    }
    let (actor, address) = (actor.id, actor.address.clone());
    let row = db
        .run(move |conn| {
            let parent = match body.parent_id {
                Some(id) => Some(rows::find(conn, id).optional()?.ok_or_else(|| {
                    AppError::validation("parent_id", "Không có đơn vị nào có mã định danh này.")
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
                parent
                    .as_ref()
                    .map(|p| (OrganizationKind::parse(&p.kind), p.province_code.as_deref())),
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
                    .map_err(|e| {
                        AppError::unique(
                            e,
                            &[
                                ("code", "Đã có đơn vị mang mã này."),
                                (
                                    "branch",
                                    "Tỉnh, thành phố này đã có bảo hiểm xã hội cấp tỉnh.",
                                ),
                            ],
                            "Đơn vị này đã có trong hệ thống.",
                        )
                    })?;
                AuditEvent::new(actor, "organization_created", "organization")
                    .object(row.id)
                    .from_address(&address)
                    .details(json!({ "code": row.code }))
                    .record(conn)?;
                Ok(row)
            })
        })
        .await?;
    Ok(Organization::from(row))
}

/// Renames an organisation or changes who signs its certificates (administrators).
pub async fn update_organization(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    body: OrganizationChanges,
) -> Result<Organization, AppError> {
    if !visible(actor, id) {
        return Err(AppError::NotFound);
    }
    if !actor.has(Role::Admin) {
        return Err(refuse(db, actor, "update_organization").await);
    }
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
    let (actor, address) = (actor.id, actor.address.clone());
    let row = db
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
                AuditEvent::new(actor, "organization_updated", "organization")
                    .object(id)
                    .from_address(&address)
                    .record(conn)?;
                Ok(row)
            })
        })
        .await?;
    Ok(Organization::from(row))
}
