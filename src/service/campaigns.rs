//! Campaigns: adding one for an organisation, the ones a person sees (their scope's, their
//! organisation's and those above it, and the national ones of the state agency), the yearly
//! national May campaign, and which campaign a cohort may belong to.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{as_actor, audit, refuse};
use crate::auth::current_user::Actor;
use crate::db::campaigns::{self as rows, CampaignRow, NewCampaignRow};
use crate::db::organizations as orgs;
use crate::db::users::OrganizationRef;
use crate::db::Db;
use crate::domain::campaigns::{
    check_new_campaign, may_campaign, overlaps, resolve_by_name, year_bounds, Candidate,
};
use crate::domain::people::Role;
use crate::error::{AppError, ErrorCode};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    pub organization: OrganizationRef,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignList {
    /// Latest start first.
    pub items: Vec<Campaign>,
}

/// A new campaign as asked for, before any check.
#[derive(Debug, Clone)]
pub struct CampaignInput {
    pub name: String,
    pub organization_id: Uuid,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// The views of these campaign rows, each with its organisation.
fn views(conn: &mut PgConnection, found: Vec<CampaignRow>) -> Result<Vec<Campaign>, AppError> {
    let mut ids: Vec<Uuid> = found.iter().map(|c| c.organization_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: std::collections::HashMap<Uuid, OrganizationRef> =
        orgs::in_tree_order(conn, Some(&ids))?
            .into_iter()
            .map(|o| {
                (
                    o.id,
                    OrganizationRef {
                        id: o.id,
                        code: o.code,
                        name: o.name,
                    },
                )
            })
            .collect();
    found
        .into_iter()
        .map(|c| {
            let organization = names
                .get(&c.organization_id)
                .cloned()
                .ok_or(AppError::NotFound)?;
            Ok(Campaign {
                id: c.id,
                name: c.name,
                organization,
                starts_on: c.starts_on,
                ends_on: c.ends_on,
            })
        })
        .collect()
}

/// The organisations whose campaigns the caller sees (`None`: all, for an administrator): their
/// scope, their own organisation and every one above it, and the national state agencies.
fn visible_organizations(
    conn: &mut PgConnection,
    actor: &Actor,
) -> Result<Option<Vec<Uuid>>, AppError> {
    let Some(mut ids) = actor.scope.organization_filter() else {
        return Ok(None);
    };
    ids.extend(
        orgs::ancestors(conn, actor.organization_id)?
            .into_iter()
            .map(|o| o.id),
    );
    ids.extend(rows::national_organizations(conn)?);
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(ids))
}

/// The campaigns the caller sees, those overlapping `year` when given, latest first.
pub async fn campaigns(
    db: &Db,
    actor: &Actor,
    year: Option<i32>,
) -> Result<CampaignList, AppError> {
    let period = match year {
        Some(y) => Some(
            year_bounds(y)
                .filter(|_| (1900..=2200).contains(&y))
                .ok_or_else(|| AppError::validation("year", "Năm phải từ 1900 đến 2200."))?,
        ),
        None => None,
    };
    let actor = actor.clone();
    db.run(move |conn| {
        let organizations = visible_organizations(conn, &actor)?;
        let found = rows::of_organizations(conn, organizations.as_deref(), period)?;
        Ok(CampaignList {
            items: views(conn, found)?,
        })
    })
    .await
}

/// The campaign `id` if the caller sees it (404 otherwise, an unknown id too): the rule of
/// `GET /campaigns/{id}`, also applied to a report asked for one campaign.
pub(crate) fn visible_campaign(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<CampaignRow, AppError> {
    let row = rows::find(conn, id)?;
    if let Some(ids) = visible_organizations(conn, actor)? {
        if !ids.contains(&row.organization_id) {
            return Err(AppError::NotFound);
        }
    }
    Ok(row)
}

/// One campaign the caller sees (404 otherwise).
pub async fn campaign(db: &Db, actor: &Actor, id: Uuid) -> Result<Campaign, AppError> {
    let actor = actor.clone();
    db.run(move |conn| {
        let row = visible_campaign(conn, &actor, id)?;
        views(conn, vec![row])?.pop().ok_or(AppError::NotFound)
    })
    .await
}

/// May the caller add campaigns at all (the API and the pages ask the same): an administrator
/// or a coordinator; which organisations, [`create_campaign`] checks.
pub fn may_create_campaigns(actor: &Actor) -> bool {
    actor.has(Role::Admin) || actor.has(Role::Coordinator)
}

/// Adds a campaign for an organisation the caller coordinates (theirs or one below it); a name
/// the organisation already uses answers 409.
pub async fn create_campaign(
    db: &Db,
    actor: &Actor,
    input: CampaignInput,
) -> Result<Campaign, AppError> {
    if !may_create_campaigns(actor) {
        return Err(refuse(db, actor, "create_campaign").await);
    }
    let new = check_new_campaign(&input.name, input.starts_on, input.ends_on)
        .map_err(AppError::Validation)?;
    if !actor.scope.covers_organization(input.organization_id) {
        return Err(AppError::NotFound);
    }
    as_actor(db, actor, "create_campaign", move |conn, actor| {
        let organization = orgs::find(conn, input.organization_id)?;
        if !actor.coordinates(organization.id) {
            return Err(AppError::Forbidden);
        }
        conn.transaction(|conn| {
            let row = rows::insert(
                conn,
                &NewCampaignRow {
                    name: &new.name,
                    organization_id: organization.id,
                    starts_on: new.starts_on,
                    ends_on: new.ends_on,
                    created_by: actor.id,
                },
            )
            .map_err(|e| {
                AppError::unique(
                    e,
                    &[],
                    "Đơn vị này đã có một chiến dịch mang tên này; hãy đặt tên khác.",
                )
            })?;
            let details = json!({
                "organization_id": organization.id,
                "name": row.name,
                "starts_on": row.starts_on,
                "ends_on": row.ends_on,
            });
            audit(conn, actor, "campaign_created", "campaign", row.id, details)?;
            views(conn, vec![row])?.pop().ok_or(AppError::NotFound)
        })
    })
    .await
}

/// Makes sure the national May campaign of `year` exists for the state agency (start-up and the
/// demo): one statement, nothing done when it is already there. How many were added.
pub fn ensure_may_campaign(conn: &mut PgConnection, year: i32) -> Result<usize, AppError> {
    let (name, starts_on, ends_on) =
        may_campaign(year).ok_or_else(|| AppError::internal(format!("no May in year {year}")))?;
    Ok(rows::ensure_national(conn, &name, starts_on, ends_on)?)
}

/// The organisations whose campaigns a cohort (or an activity) of `organizer` may belong to,
/// nearest first: the organiser itself, every organisation above it, then the national state
/// agencies.
pub(crate) fn organizer_chain(
    conn: &mut PgConnection,
    organizer: Uuid,
) -> Result<Vec<Uuid>, AppError> {
    let mut chain: Vec<Uuid> = orgs::ancestors(conn, organizer)?
        .into_iter()
        .map(|o| o.id)
        .collect();
    for national in rows::national_organizations(conn)? {
        if !chain.contains(&national) {
            chain.push(national);
        }
    }
    Ok(chain)
}

/// The campaigns a cohort of `organizer` over `from..=to` may belong to (what
/// [`applicable_campaign`] takes), latest first: for the cohort page's choice.
pub async fn applicable_campaigns(
    db: &Db,
    actor: &Actor,
    organizer: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<CampaignList, AppError> {
    if !actor.scope.covers_organization(organizer) {
        return Err(AppError::NotFound);
    }
    db.run(move |conn| {
        let chain = organizer_chain(conn, organizer)?;
        let found = rows::of_organizations(conn, Some(&chain), Some((from, to)))?;
        Ok(CampaignList {
            items: views(conn, found)?,
        })
    })
    .await
}

fn not_applicable(message: impl Into<String>) -> AppError {
    AppError::Rule {
        code: ErrorCode::CampaignNotApplicable,
        message: message.into(),
    }
}

/// The campaign a cohort of `organizer` over `from..=to` may belong to: one of the organiser's
/// or of an organisation above it (or national), whose days overlap the cohort's; 422
/// `campaign_not_applicable` otherwise.
pub fn applicable_campaign(
    conn: &mut PgConnection,
    organizer: Uuid,
    campaign_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<CampaignRow, AppError> {
    let chain = organizer_chain(conn, organizer)?;
    let campaign = rows::find(conn, campaign_id)
        .optional()?
        .filter(|c| chain.contains(&c.organization_id))
        .ok_or_else(|| {
            not_applicable(
                "Chiến dịch này không thuộc đơn vị tổ chức lớp hay một đơn vị cấp trên của \
                 đơn vị đó.",
            )
        })?;
    if !overlaps(campaign.starts_on, campaign.ends_on, from, to) {
        return Err(not_applicable(format!(
            "Chiến dịch “{}” diễn ra từ {} đến {}, không trùng với thời gian của lớp.",
            campaign.name,
            campaign.starts_on.format("%d/%m/%Y"),
            campaign.ends_on.format("%d/%m/%Y")
        )));
    }
    Ok(campaign)
}

/// The campaign a cohort names by its text (the `campaign` field of earlier releases): among
/// the campaigns the organiser may use that carry the name, one overlapping the cohort's days,
/// the nearest first; then checked as [`applicable_campaign`] checks an id.
pub fn campaign_named(
    conn: &mut PgConnection,
    organizer: Uuid,
    name: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<CampaignRow, AppError> {
    let chain = organizer_chain(conn, organizer)?;
    let candidates = rows::named(conn, name, &chain)?
        .into_iter()
        .map(|c| {
            let (organization, starts_on, ends_on) = (c.organization_id, c.starts_on, c.ends_on);
            Candidate::in_chain(c, organization, &chain, starts_on, ends_on)
        })
        .collect();
    let found = resolve_by_name(candidates, from, to).ok_or_else(|| {
        not_applicable(format!(
            "Không có chiến dịch nào tên “{name}” của đơn vị tổ chức lớp hay một đơn vị cấp \
             trên; hãy chọn một chiến dịch trong danh sách."
        ))
    })?;
    applicable_campaign(conn, organizer, found.item.id, from, to)
}
