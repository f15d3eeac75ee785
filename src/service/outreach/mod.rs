//! The outreach log: a certified propagandist or master trainer records each activity; the
//! author (while it stands recorded) or a coordinator in scope corrects it, a coordinator rejects
//! it; nothing is deleted, every change keeps the previous values as a revision, and every
//! insert, correction and rejection moves the reports' summary in the same transaction.
//! Importing a CSV file of activities is [`import`].

pub mod import;

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{as_actor, event};
use crate::auth::current_user::Actor;
use crate::db::organizations as orgs;
use crate::db::outreach::{
    self as rows, CampaignFacts, NewOutreach, OutreachFilter, OutreachRow, OutreachUpdate,
};
use crate::db::outreach_summary::outreach_changed;
use crate::db::views::outreach::{self as views, OutreachView};
use crate::db::Db;
use crate::domain::access::manages_people;
use crate::domain::outreach::{
    check_campaign, check_change, check_entry, check_rejection_reason, check_version,
    require_certified_on, require_current_certificate, CampaignSpan, Certification,
    CheckedOutreach, OutreachChange, OutreachDraft, OutreachStatus,
};
use crate::domain::paging::paging;
use crate::error::{AppError, FieldError};

pub use import::{import_outreach, may_import, OutreachImportReport};

/// An activity as its author records it.
#[derive(Debug, Clone, Default)]
pub struct OutreachInput {
    pub draft: OutreachDraft,
    pub campaign_id: Option<Uuid>,
}

/// Records an outreach activity for the caller, who must hold a valid propagandist or
/// master-trainer certificate `today` (422 `not_certified`); the entry belongs to the caller's
/// organisation.
pub async fn record_outreach(
    db: &Db,
    actor: &Actor,
    input: OutreachInput,
    today: NaiveDate,
) -> Result<OutreachView, AppError> {
    as_actor(db, actor, "record_outreach", move |conn, actor| {
        let me = actor.id.ok_or(AppError::Forbidden)?;
        conn.transaction(|conn| {
            let held = certifications(conn, me)?;
            require_current_certificate(&held, today)?;
            let entry = check_entry(&input.draft, today).map_err(AppError::Validation)?;
            require_province(conn, &entry.province_code)?;
            require_certified_on(&held, entry.held_on)?;
            // the author's organisation as it is now, read in the transaction
            let organization = crate::db::users::find(conn, me)?.organization_id;
            if let Some(campaign) = input.campaign_id {
                applicable_campaign(conn, organization, campaign, entry.held_on)?;
            }
            let row = insert_entries(
                conn,
                actor,
                &[(me, organization, entry, input.campaign_id)],
                "api",
            )?
            .pop()
            .ok_or_else(|| AppError::internal("an inserted entry did not come back"))?;
            Ok(views::view_with_history(conn, row.id)?)
        })
    })
    .await
}

/// Inserts checked entries — (author, organisation, fields, campaign) — in multi-row
/// statements, moves the summary for each and records `outreach_recorded` for each with its
/// author as subject (the actor: the author, or the importing coordinator). In the caller's
/// transaction.
pub(crate) fn insert_entries(
    conn: &mut PgConnection,
    actor: &Actor,
    entries: &[(Uuid, Uuid, CheckedOutreach, Option<Uuid>)],
    via: &str,
) -> Result<Vec<OutreachRow>, AppError> {
    let new: Vec<NewOutreach> = entries
        .iter()
        .map(|(author, organization, e, campaign)| NewOutreach {
            id: Uuid::new_v4(),
            author_id: *author,
            organization_id: *organization,
            held_on: e.held_on,
            province_code: e.province_code.clone(),
            commune: e.commune.clone(),
            form: e.form.as_str().to_string(),
            audience: e.audience,
            employers_reached: e.employers_reached,
            campaign_id: *campaign,
            note: e.note.clone(),
        })
        .collect();
    let inserted = rows::insert_many(conn, &new)?;
    let mut events = Vec::with_capacity(inserted.len());
    for row in &inserted {
        outreach_changed(conn, None, row.contribution().as_ref())?;
        events.push(
            event(
                actor,
                "outreach_recorded",
                "outreach_entry",
                row.id,
                json!({
                    "held_on": row.held_on,
                    "form": row.form,
                    "audience": row.audience,
                    "via": via,
                }),
            )
            .subject(row.author_id),
        );
    }
    crate::db::audit::record_all(conn, events)?;
    Ok(inserted)
}

/// A person's propagandist and master-trainer certificates.
fn certifications(conn: &mut PgConnection, person: Uuid) -> Result<Vec<Certification>, AppError> {
    Ok(rows::certifications_of(conn, &[person])?
        .remove(&person)
        .unwrap_or_default())
}

/// The province must be one of the 34 (a field error otherwise).
fn require_province(conn: &mut PgConnection, code: &str) -> Result<(), AppError> {
    match orgs::province(conn, code)? {
        Some(_) => Ok(()),
        None => Err(AppError::validation(
            "province_code",
            format!("Không có tỉnh, thành phố mã “{code}”."),
        )),
    }
}

// The organisations whose campaigns an author of `organization` may use: their own, every
// one above it, and the national ones of the state agency — the same chain as for cohorts.
pub(crate) use crate::service::campaigns::organizer_chain as campaign_chain;

/// The campaign `id` checked for an activity of an author of `organization` on `held_on`: one
/// of the chain's whose days contain it (422 `campaign_not_applicable`; an unknown id too).
fn applicable_campaign(
    conn: &mut PgConnection,
    organization: Uuid,
    id: Uuid,
    held_on: NaiveDate,
) -> Result<CampaignFacts, AppError> {
    let chain = campaign_chain(conn, organization)?;
    let campaign = rows::campaign(conn, id)?;
    let span = match &campaign {
        Some(c) => CampaignSpan {
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            of_authors_chain: chain.contains(&c.organization_id),
        },
        // an unknown campaign is one of no chain
        None => CampaignSpan {
            starts_on: held_on,
            ends_on: held_on,
            of_authors_chain: false,
        },
    };
    check_campaign(&span, held_on)?;
    campaign.ok_or(AppError::NotFound)
}

/// What a search for entries asks.
#[derive(Debug, Clone, Default)]
pub struct OutreachSearch {
    pub organization_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub campaign_id: Option<Uuid>,
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutreachPage {
    pub items: Vec<OutreachView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

const STATUS_UNKNOWN: &str =
    "Trạng thái phải là recorded (đã ghi nhận) hoặc rejected (bị từ chối).";

/// The entries the caller may see, newest activity first: a coordinator, HR officer or
/// administrator those of the organisations in scope (an `organization_id` narrows to it and
/// below; outside the scope 404); anyone else only their own (asking for someone else's: 403).
pub async fn find_outreach(
    db: &Db,
    actor: &Actor,
    q: OutreachSearch,
) -> Result<OutreachPage, AppError> {
    let (page, per_page) = paging(q.page, q.per_page)?;
    crate::domain::training::check_dates(&[("from", q.from), ("to", q.to)])?;
    if let (Some(from), Some(to)) = (q.from, q.to) {
        // the report's rule for a period: not ending before it starts
        crate::domain::reports::check_period(from, to)?;
    }
    if let Some(s) = q.status.as_deref() {
        if OutreachStatus::parse(s).is_none() {
            return Err(AppError::validation("status", STATUS_UNKNOWN));
        }
    }
    as_actor(db, actor, "list_outreach", move |conn, actor| {
        let me = actor.id.ok_or(AppError::Forbidden)?;
        let mut filter = OutreachFilter {
            organizations: None,
            author_id: q.author_id,
            from: q.from,
            to: q.to,
            campaign_id: q.campaign_id,
            status: q.status,
        };
        if manages_people(&actor.roles) {
            filter.organizations = match (q.organization_id, actor.scope.organization_filter()) {
                (Some(org), _) if actor.scope.covers_organization(org) => {
                    Some(super::existing_subtree(conn, org)?)
                }
                (Some(_), _) => return Err(AppError::NotFound),
                (None, f) => f,
            };
        } else {
            // an author's own entries, wherever they were recorded
            if q.organization_id.is_some() || q.author_id.is_some_and(|a| a != me) {
                return Err(AppError::Forbidden);
            }
            filter.author_id = Some(me);
        }
        let (ids, total) = rows::page_ids(conn, &filter, page, per_page)?;
        Ok(OutreachPage {
            items: views::views(conn, &ids)?,
            total,
            page,
            per_page,
        })
    })
    .await
}

/// May the caller see this entry: its author, or staff whose scope covers its organisation?
fn sees(actor: &Actor, entry: &OutreachRow) -> bool {
    actor.id == Some(entry.author_id)
        || (manages_people(&actor.roles) && actor.scope.covers_organization(entry.organization_id))
}

/// One entry the caller may see, with its history (404 otherwise).
pub async fn outreach_entry(db: &Db, actor: &Actor, id: Uuid) -> Result<OutreachView, AppError> {
    let actor = actor.clone();
    db.run(move |conn| {
        let entry = rows::find(conn, id)?;
        if !sees(&actor, &entry) {
            return Err(AppError::NotFound);
        }
        Ok(views::view_with_history(conn, id)?)
    })
    .await
}

/// A correction: the fields to change (`None`: as they are; for an optional field
/// `Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct OutreachCorrection {
    pub held_on: Option<NaiveDate>,
    pub province_code: Option<String>,
    pub commune: Option<Option<String>>,
    pub form: Option<String>,
    pub audience: Option<i64>,
    pub employers_reached: Option<Option<i64>>,
    pub campaign_id: Option<Option<Uuid>>,
    pub note: Option<Option<String>>,
}

/// What a change of an entry asks.
#[derive(Debug, Clone)]
pub enum OutreachEdit {
    Correct(OutreachCorrection),
    Reject { reason: String },
}

/// Corrects or rejects an entry: the row locked, the rules of who may (the author while it is
/// recorded, a coordinator of its organisation; only a coordinator rejects; a rejected entry is
/// final, 409), the version the caller saw (409 when stale), the previous values kept as a
/// revision, the version bumped, the summary moved and the change audited — one transaction.
pub async fn change_outreach(
    db: &Db,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i32>,
    edit: OutreachEdit,
    today: NaiveDate,
) -> Result<OutreachView, AppError> {
    as_actor(db, actor, "change_outreach", move |conn, actor| {
        conn.transaction(|conn| {
            let before = rows::find_for_update(conn, id)?;
            if !sees(actor, &before) {
                return Err(AppError::NotFound);
            }
            let status = OutreachStatus::parse(&before.status).unwrap_or(OutreachStatus::Rejected);
            let change = match edit {
                OutreachEdit::Correct(_) => OutreachChange::Correct,
                OutreachEdit::Reject { .. } => OutreachChange::Reject,
            };
            check_change(
                change,
                actor.id == Some(before.author_id),
                actor.coordinates(before.organization_id),
                status,
            )?;
            check_version(expected_version, before.version)?;
            let (values, action, details) = match edit {
                OutreachEdit::Correct(c) => {
                    let (values, fields) = corrected(conn, &before, c, today)?;
                    if fields.is_empty() {
                        // nothing differs: no new version
                        return Ok(views::view_with_history(conn, id)?);
                    }
                    (values, "outreach_corrected", json!({ "fields": fields }))
                }
                OutreachEdit::Reject { reason } => {
                    let reason = check_rejection_reason(&reason)
                        .map_err(|e| AppError::Validation(vec![e]))?;
                    let values = OutreachUpdate {
                        status: OutreachStatus::Rejected.as_str().into(),
                        rejection_reason: Some(reason),
                        ..unchanged(&before)
                    };
                    (values, "outreach_rejected", json!({}))
                }
            };
            rows::insert_revision(conn, &before, actor.id)?;
            let after = rows::update(conn, id, &values)?;
            outreach_changed(
                conn,
                before.contribution().as_ref(),
                after.contribution().as_ref(),
            )?;
            let mut details = details;
            details["version"] = json!(after.version);
            event(actor, action, "outreach_entry", id, details)
                .subject(after.author_id)
                .record(conn)?;
            Ok(views::view_with_history(conn, id)?)
        })
    })
    .await
}

/// The entry's values as they are, at the next version.
fn unchanged(row: &OutreachRow) -> OutreachUpdate {
    OutreachUpdate {
        held_on: row.held_on,
        province_code: row.province_code.clone(),
        commune: row.commune.clone(),
        form: row.form.clone(),
        audience: row.audience,
        employers_reached: row.employers_reached,
        campaign_id: row.campaign_id,
        note: row.note.clone(),
        status: row.status.clone(),
        rejection_reason: row.rejection_reason.clone(),
        version: row.version + 1,
        updated_at: Utc::now(),
    }
}

/// The entry's values after a correction, checked by the same rules as a new entry (the day
/// within the author's certification, the campaign applicable on it), and the names of the
/// fields that differ.
fn corrected(
    conn: &mut PgConnection,
    before: &OutreachRow,
    c: OutreachCorrection,
    today: NaiveDate,
) -> Result<(OutreachUpdate, Vec<&'static str>), AppError> {
    let draft = OutreachDraft {
        held_on: Some(c.held_on.unwrap_or(before.held_on)),
        province_code: c
            .province_code
            .unwrap_or_else(|| before.province_code.clone()),
        commune: c.commune.unwrap_or_else(|| before.commune.clone()),
        form: c.form.unwrap_or_else(|| before.form.clone()),
        audience: Some(c.audience.unwrap_or(i64::from(before.audience))),
        employers_reached: c
            .employers_reached
            .unwrap_or(before.employers_reached.map(i64::from)),
        note: c.note.unwrap_or_else(|| before.note.clone()),
    };
    let entry = check_entry(&draft, today).map_err(AppError::Validation)?;
    let campaign_id = c.campaign_id.unwrap_or(before.campaign_id);
    if entry.province_code != before.province_code {
        require_province(conn, &entry.province_code)?;
    }
    if entry.held_on != before.held_on {
        let held = certifications(conn, before.author_id)?;
        require_certified_on(&held, entry.held_on)?;
    }
    if let Some(campaign) = campaign_id {
        if Some(campaign) != before.campaign_id || entry.held_on != before.held_on {
            applicable_campaign(conn, before.organization_id, campaign, entry.held_on)?;
        }
    }
    let after = OutreachUpdate {
        held_on: entry.held_on,
        province_code: entry.province_code,
        commune: entry.commune,
        form: entry.form.as_str().to_string(),
        audience: entry.audience,
        employers_reached: entry.employers_reached,
        campaign_id,
        note: entry.note,
        ..unchanged(before)
    };
    let mut fields = Vec::new();
    let differs = [
        ("held_on", after.held_on != before.held_on),
        ("province_code", after.province_code != before.province_code),
        ("commune", after.commune != before.commune),
        ("form", after.form != before.form),
        ("audience", after.audience != before.audience),
        (
            "employers_reached",
            after.employers_reached != before.employers_reached,
        ),
        ("campaign_id", after.campaign_id != before.campaign_id),
        ("note", after.note != before.note),
    ];
    for (field, changed) in differs {
        if changed {
            fields.push(field);
        }
    }
    Ok((after, fields))
}

/// Every entry the person recorded, with its history (their own data, `/me/data`).
pub fn own_entries(conn: &mut PgConnection, me: Uuid) -> Result<Vec<OutreachView>, AppError> {
    let ids = rows::ids_of_author(conn, me)?;
    Ok(views::views_with_history(conn, &ids)?)
}

/// What the form for a new entry offers the caller.
#[derive(Debug)]
pub struct RecordForm {
    /// Why the caller may not record (no valid certificate), if so.
    pub refusal: Option<String>,
    /// Every province: (code, name).
    pub provinces: Vec<(String, String)>,
    /// The province of the caller's organisation (or of the nearest one above it with one).
    pub home_province: Option<String>,
    /// Campaigns the caller may name (their organisation's chain), not ended a year ago.
    pub campaigns: Vec<CampaignFacts>,
}

/// What the page for recording an activity needs to know about the caller.
pub async fn record_form(db: &Db, actor: &Actor, today: NaiveDate) -> Result<RecordForm, AppError> {
    let actor = actor.clone();
    db.run(move |conn| {
        let me = actor.id.ok_or(AppError::Forbidden)?;
        let refusal = require_current_certificate(&certifications(conn, me)?, today)
            .err()
            .map(|e| e.public_message());
        let home_province = orgs::ancestors(conn, actor.organization_id)?
            .into_iter()
            .find_map(|o| o.province_code);
        let campaigns = campaigns_near(conn, actor.organization_id, today)?;
        Ok(RecordForm {
            refusal,
            provinces: rows::provinces(conn)?,
            home_province,
            campaigns,
        })
    })
    .await
}

/// The campaigns an author of `organization` may name, begun by `today` and ended at most a
/// year before it.
fn campaigns_near(
    conn: &mut PgConnection,
    organization: Uuid,
    today: NaiveDate,
) -> Result<Vec<CampaignFacts>, AppError> {
    let chain = campaign_chain(conn, organization)?;
    let since = today - chrono::Days::new(366);
    Ok(rows::campaigns_of(conn, &chain)?
        .into_iter()
        .filter(|c| c.ends_on >= since && c.starts_on <= today)
        .collect())
}

/// What a correction of an entry of `organization` may choose from (the pages' form).
#[derive(Debug)]
pub struct EntryChoices {
    pub provinces: Vec<(String, String)>,
    pub campaigns: Vec<CampaignFacts>,
}

pub async fn entry_choices(
    db: &Db,
    organization: Uuid,
    today: NaiveDate,
) -> Result<EntryChoices, AppError> {
    db.run(move |conn| {
        Ok(EntryChoices {
            provinces: rows::provinces(conn)?,
            campaigns: campaigns_near(conn, organization, today)?,
        })
    })
    .await
}

/// A field error about the version the caller saw (an unreadable `If-Match`).
pub fn bad_version() -> AppError {
    AppError::Validation(vec![FieldError::new(
        "version",
        "Phiên bản phải là một số nguyên dương.",
    )])
}

/// What the caller may do to an entry they see (for the pages' forms): the rule of
/// [`check_change`], asked for each change.
#[derive(Debug, Clone, Copy, Default)]
pub struct Permitted {
    pub correct: bool,
    pub reject: bool,
}

pub fn permitted(actor: &Actor, entry: &OutreachView) -> Permitted {
    let status = OutreachStatus::parse(&entry.status).unwrap_or(OutreachStatus::Rejected);
    let is_author = actor.id == Some(entry.author.id);
    let coordinates = actor.coordinates(entry.organization.id);
    let may = |change| check_change(change, is_author, coordinates, status).is_ok();
    Permitted {
        correct: may(OutreachChange::Correct),
        reject: may(OutreachChange::Reject),
    }
}

/// Does the caller hold, `today`, a certificate that lets them record outreach (the home page's
/// link)?
pub async fn may_record(db: &Db, actor: &Actor, today: NaiveDate) -> Result<bool, AppError> {
    let Some(me) = actor.id else {
        return Ok(false);
    };
    db.run(move |conn| Ok(require_current_certificate(&certifications(conn, me)?, today).is_ok()))
        .await
}
