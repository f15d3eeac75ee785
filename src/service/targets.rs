//! Yearly targets: an administrator or the coordinator of a parent organisation sets how many
//! certified master trainers and propagandists an organisation should have; anyone whose scope
//! covers it reads them.

use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{as_actor, audit};
use crate::auth::current_user::Actor;
use crate::db::organizations as orgs;
use crate::db::targets::{self as rows, TargetRow};
use crate::db::users::OrganizationRef;
use crate::db::Db;
use crate::domain::people::Role;
use crate::domain::targets::{check_target, may_set_target, Setter, TargetDenial};
use crate::error::AppError;

/// One year's target of an organisation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrganizationTarget {
    pub year: i32,
    pub master_trainers: i32,
    pub propagandists: i32,
}

impl From<&TargetRow> for OrganizationTarget {
    fn from(r: &TargetRow) -> Self {
        OrganizationTarget {
            year: r.year,
            master_trainers: r.master_trainers,
            propagandists: r.propagandists,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TargetList {
    /// Newest year first.
    pub items: Vec<OrganizationTarget>,
}

/// May the caller see this organisation's targets? Their scope, and a trainee their workplace.
fn visible(actor: &Actor, id: Uuid) -> bool {
    actor.scope.covers_organization(id) || id == actor.organization_id
}

/// Every target set for an organisation the caller may see, newest year first (404 outside
/// their scope).
pub async fn targets(
    db: &Db,
    actor: &Actor,
    organization_id: Uuid,
) -> Result<TargetList, AppError> {
    if !visible(actor, organization_id) {
        return Err(AppError::NotFound);
    }
    db.run(move |conn| {
        orgs::find(conn, organization_id)?;
        let items = rows::of_organization(conn, organization_id)?
            .iter()
            .map(OrganizationTarget::from)
            .collect();
        Ok(TargetList { items })
    })
    .await
}

/// Sets (or changes) an organisation's target of a year: an administrator, or a coordinator of
/// an organisation above it — never of the organisation itself (403) — and 404 outside the
/// caller's scope. Audited with the values before and after.
pub async fn set_target(
    db: &Db,
    actor: &Actor,
    organization_id: Uuid,
    year: i32,
    master_trainers: i64,
    propagandists: i64,
) -> Result<OrganizationTarget, AppError> {
    let target =
        check_target(year, master_trainers, propagandists).map_err(AppError::Validation)?;
    as_actor(db, actor, "set_target", move |conn, actor| {
        let organization = orgs::find(conn, organization_id)?;
        may_set_target(Setter {
            admin: actor.has(Role::Admin),
            coordinator: actor.has(Role::Coordinator),
            covers_organization: actor.scope.covers_organization(organization.id),
            covers_parent: organization
                .parent_id
                .is_some_and(|p| actor.scope.covers_organization(p)),
        })
        .map_err(|denial| match denial {
            TargetDenial::OutOfScope => AppError::NotFound,
            TargetDenial::NotAbove => AppError::Forbidden,
        })?;
        conn.transaction(|conn| {
            let before = rows::find_for_update(conn, organization.id, target.year)?;
            let row = rows::upsert(
                conn,
                organization.id,
                target.year,
                target.master_trainers,
                target.propagandists,
                actor.id,
            )?;
            let after = OrganizationTarget::from(&row);
            let details = json!({
                "year": target.year,
                "before": before.as_ref().map(OrganizationTarget::from),
                "after": after,
            });
            audit(
                conn,
                actor,
                "target_set",
                "organization",
                organization.id,
                details,
            )?;
            Ok(after)
        })
    })
    .await
}

/// One organisation below the caller with its target of the year (`None`: not set).
#[derive(Debug, Serialize)]
pub struct BoardLine {
    pub organization: OrganizationRef,
    pub kind: String,
    pub target: Option<OrganizationTarget>,
}

/// The organisations whose targets the caller sets, in tree order, with their targets of a
/// year: everything for an administrator, the organisations below their own for a coordinator.
#[derive(Debug, Serialize)]
pub struct TargetBoard {
    pub year: i32,
    pub lines: Vec<BoardLine>,
}

/// The board of targets for a year (the targets page).
pub async fn target_board(db: &Db, actor: &Actor, year: i32) -> Result<TargetBoard, AppError> {
    check_target(year, 0, 0).map_err(AppError::Validation)?;
    if !(actor.has(Role::Admin) || actor.has(Role::Coordinator)) {
        return Err(super::refuse(db, actor, "target_board").await);
    }
    let actor = actor.clone();
    db.run(move |conn| {
        let filter = actor.scope.organization_filter();
        let set = rows::for_year(conn, year)?;
        let lines = orgs::in_tree_order(conn, filter.as_deref())?
            .into_iter()
            // a coordinator sets the targets of the organisations below their own, not their own
            .filter(|o| actor.has(Role::Admin) || o.id != actor.organization_id)
            .map(|o| BoardLine {
                target: set.get(&o.id).map(|&(m, p)| OrganizationTarget {
                    year,
                    master_trainers: m,
                    propagandists: p,
                }),
                kind: o.kind,
                organization: OrganizationRef {
                    id: o.id,
                    code: o.code,
                    name: o.name,
                },
            })
            .collect();
        Ok(TargetBoard { year, lines })
    })
    .await
}
