//! Importing outreach activities from a CSV file (a coordinator entering what propagandists
//! reported offline): every line checked first — the file's own rules, then the author in the
//! coordinator's scope and certified today and on the day of the activity, the campaign — then
//! all written in one transaction, or nothing.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{campaign_chain, insert_entries};
use crate::auth::current_user::Actor;
use crate::db::outreach::{self as rows, CampaignFacts};
use crate::db::Db;
use crate::domain::campaigns::{resolve_by_name, Candidate};
use crate::domain::organizations::clean_text;
use crate::domain::outreach::{
    check_campaign, require_certified_on, require_current_certificate, CampaignSpan,
    CheckedOutreach,
};
use crate::domain::outreach_import::{parse_outreach_import, OutreachImportRow};
use crate::domain::people::Role;
use crate::domain::user_import::ImportError;
use crate::error::AppError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutreachImportReport {
    pub created: usize,
    pub errors: Vec<ImportError>,
}

/// May the caller import activities (the API and the pages ask the same): a coordinator or an
/// administrator.
pub fn may_import(actor: &Actor) -> bool {
    actor.has(Role::Coordinator) || actor.has(Role::Admin)
}

/// Imports activities from a CSV file: a coordinator (or administrator) for authors in their
/// scope. A file with any error writes nothing and answers every error with its line.
pub async fn import_outreach(
    db: &Db,
    actor: &Actor,
    bytes: Vec<u8>,
    today: NaiveDate,
) -> Result<OutreachImportReport, AppError> {
    super::as_actor(db, actor, "import_outreach", move |conn, actor| {
        if !may_import(actor) {
            return Err(AppError::Forbidden);
        }
        let (parsed, errors) = parse_outreach_import(&bytes, today);
        conn.transaction(|conn| apply_import(conn, actor, &parsed, errors, today))
    })
    .await
}

/// The campaigns an organisation's authors may name, kept per organisation for the file.
struct Campaigns {
    by_organization: HashMap<Uuid, (Vec<Uuid>, Vec<CampaignFacts>)>,
}

impl Campaigns {
    fn of(
        &mut self,
        conn: &mut PgConnection,
        organization: Uuid,
    ) -> Result<&(Vec<Uuid>, Vec<CampaignFacts>), AppError> {
        use std::collections::hash_map::Entry;
        match self.by_organization.entry(organization) {
            Entry::Occupied(known) => Ok(known.into_mut()),
            Entry::Vacant(slot) => {
                let chain = campaign_chain(conn, organization)?;
                let campaigns = rows::campaigns_of(conn, &chain)?;
                Ok(slot.insert((chain, campaigns)))
            }
        }
    }
}

/// The campaign a cell names (an id, or a name: among the chain's campaigns of that name, one
/// whose days contain the activity, the nearest organisation first), checked for the day.
fn campaign_for(
    chain: &[Uuid],
    campaigns: &[CampaignFacts],
    cell: &str,
    held_on: NaiveDate,
) -> Result<Uuid, String> {
    let unknown =
        || format!("Không có chiến dịch “{cell}” của đơn vị người thực hiện hay đơn vị cấp trên.");
    let found = match Uuid::parse_str(cell) {
        Ok(id) => campaigns.iter().find(|c| c.id == id),
        Err(_) => {
            // the same choice as for a cohort's campaign named by its text, on the activity's day
            let name = clean_text(cell);
            let candidates = campaigns
                .iter()
                .filter(|c| c.name == name)
                .map(|c| Candidate::in_chain(c, c.organization_id, chain, c.starts_on, c.ends_on))
                .collect();
            resolve_by_name(candidates, held_on, held_on).map(|c| c.item)
        }
    };
    let campaign = found.ok_or_else(unknown)?;
    let span = CampaignSpan {
        starts_on: campaign.starts_on,
        ends_on: campaign.ends_on,
        of_authors_chain: chain.contains(&campaign.organization_id),
    };
    check_campaign(&span, held_on).map_err(|e| e.public_message())?;
    Ok(campaign.id)
}

/// Checks every row against the database, then writes them all — or, if any row fails, writes
/// nothing and reports every failure with its line number.
fn apply_import(
    conn: &mut PgConnection,
    actor: &Actor,
    parsed: &[OutreachImportRow],
    mut errors: Vec<ImportError>,
    today: NaiveDate,
) -> Result<OutreachImportReport, AppError> {
    let usernames: Vec<String> = parsed.iter().map(|r| r.username.clone()).collect();
    let people = rows::people_by_username(conn, &usernames)?;
    let ids: Vec<Uuid> = people.values().map(|(id, _)| *id).collect();
    let mut certifications = rows::certifications_of(conn, &ids)?;
    let provinces: Vec<String> = rows::provinces(conn)?.into_iter().map(|(c, _)| c).collect();
    let mut campaigns = Campaigns {
        by_organization: HashMap::new(),
    };
    let mut plan: Vec<(Uuid, Uuid, CheckedOutreach, Option<Uuid>)> = Vec::new();
    for row in parsed {
        let line = row.line;
        let Some(&(author, organization)) = people
            .get(&row.username)
            .filter(|(id, org)| actor.scope.covers_person(*id, *org))
        else {
            errors.push(ImportError::in_column(
                line,
                "username",
                &format!(
                    "Không có người dùng “{}” trong phạm vi của bạn.",
                    row.username
                ),
            ));
            continue;
        };
        let held = certifications.entry(author).or_default();
        if let Err(e) = require_current_certificate(held, today) {
            errors.push(ImportError::in_column(
                line,
                "username",
                &e.public_message(),
            ));
            continue;
        }
        if let Err(e) = require_certified_on(held, row.entry.held_on) {
            errors.push(ImportError::in_column(line, "held_on", &e.public_message()));
            continue;
        }
        if !provinces.contains(&row.entry.province_code) {
            errors.push(ImportError::in_column(
                line,
                "province_code",
                &format!("Không có tỉnh, thành phố mã “{}”.", row.entry.province_code),
            ));
            continue;
        }
        let campaign = match &row.campaign {
            None => None,
            Some(cell) => {
                let (chain, known) = campaigns.of(conn, organization)?;
                match campaign_for(chain, known, cell, row.entry.held_on) {
                    Ok(id) => Some(id),
                    Err(message) => {
                        errors.push(ImportError::in_column(line, "campaign", &message));
                        continue;
                    }
                }
            }
        };
        plan.push((author, organization, row.entry.clone(), campaign));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Ok(OutreachImportReport { created: 0, errors });
    }
    let created = insert_entries(conn, actor, &plan, "import")?.len();
    crate::db::audit::AuditEvent::new(actor.id, "outreach_imported", "outreach_entry")
        .from_address(&actor.address)
        .details(json!({ "created": created }))
        .record(conn)?;
    Ok(OutreachImportReport {
        created,
        errors: Vec::new(),
    })
}
