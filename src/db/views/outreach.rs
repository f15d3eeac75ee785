//! Read models of outreach entries: an entry with its province, campaign, author and
//! organisation (a page of them in one query), and its history of revisions.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::db::schema::{
    campaigns, organizations, outreach_entries, outreach_revisions, provinces, users,
};
use crate::db::users::OrganizationRef;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProvinceRef {
    #[schema(example = "01")]
    pub code: String,
    #[schema(example = "Hà Nội")]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CampaignRef {
    pub id: Uuid,
    pub name: String,
}

/// A person named on an entry: its author, or who revised it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuthorRef {
    pub id: Uuid,
    pub full_name: String,
}

/// One earlier state of an entry: the values it had at `version`, before `revised_by` changed it
/// at `revised_at`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RevisionView {
    pub version: i32,
    pub revised_at: DateTime<Utc>,
    pub revised_by: Option<AuthorRef>,
    /// `{held_on, province_code, commune, form, audience, employers_reached, campaign_id, note,
    /// status, rejection_reason}` as they were.
    #[schema(value_type = Object)]
    pub previous: serde_json::Value,
}

/// An outreach activity as the API and the pages show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutreachView {
    pub id: Uuid,
    /// `recorded` or `rejected`.
    #[schema(example = "recorded")]
    pub status: String,
    pub held_on: NaiveDate,
    pub province: ProvinceRef,
    pub commune: Option<String>,
    /// `direct_talk`, `conference`, `door_to_door`, `online`, `social_media` or `short_video`.
    #[schema(example = "door_to_door")]
    pub form: String,
    pub audience: i32,
    pub employers_reached: Option<i32>,
    pub campaign: Option<CampaignRef>,
    pub note: Option<String>,
    /// Why a coordinator rejected it (only when `rejected`).
    pub rejection_reason: Option<String>,
    pub author: AuthorRef,
    /// The author's organisation when it was recorded: the reports count it there.
    pub organization: OrganizationRef,
    /// 1 when recorded, one more with each correction or rejection.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The earlier versions, oldest first (on a single entry; absent from lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<RevisionView>>,
}

type ViewRow = (
    (
        Uuid,
        String,
        NaiveDate,
        Option<String>,
        String,
        i32,
        Option<i32>,
        Option<String>,
        Option<String>,
        i32,
        DateTime<Utc>,
        DateTime<Utc>,
    ),
    (String, String),
    Option<(Uuid, String)>,
    (Uuid, String),
    (Uuid, String, String),
);

/// The views of these entries, in the order of `ids` (missing ids are left out).
pub fn views(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<OutreachView>> {
    let rows: Vec<ViewRow> = outreach_entries::table
        .inner_join(provinces::table)
        .left_join(campaigns::table)
        .inner_join(users::table)
        .inner_join(organizations::table)
        .filter(outreach_entries::id.eq_any(ids))
        .select((
            (
                outreach_entries::id,
                outreach_entries::status,
                outreach_entries::held_on,
                outreach_entries::commune,
                outreach_entries::form,
                outreach_entries::audience,
                outreach_entries::employers_reached,
                outreach_entries::note,
                outreach_entries::rejection_reason,
                outreach_entries::version,
                outreach_entries::created_at,
                outreach_entries::updated_at,
            ),
            (provinces::code, provinces::name),
            (campaigns::id, campaigns::name).nullable(),
            (users::id, users::full_name),
            (organizations::id, organizations::code, organizations::name),
        ))
        .load(conn)?;
    let mut by_id: HashMap<Uuid, OutreachView> = rows
        .into_iter()
        .map(|(e, p, c, a, o)| {
            let view = OutreachView {
                id: e.0,
                status: e.1,
                held_on: e.2,
                province: ProvinceRef {
                    code: p.0,
                    name: p.1,
                },
                commune: e.3,
                form: e.4,
                audience: e.5,
                employers_reached: e.6,
                campaign: c.map(|(id, name)| CampaignRef { id, name }),
                note: e.7,
                rejection_reason: e.8,
                author: AuthorRef {
                    id: a.0,
                    full_name: a.1,
                },
                organization: OrganizationRef {
                    id: o.0,
                    code: o.1,
                    name: o.2,
                },
                version: e.9,
                created_at: e.10,
                updated_at: e.11,
                history: None,
            };
            (view.id, view)
        })
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// A revision as loaded: entry, version, when, by whom, the previous values.
type RevisionRow = (
    Uuid,
    i32,
    DateTime<Utc>,
    Option<(Uuid, String)>,
    serde_json::Value,
);

/// The history of these entries, oldest version first, by entry.
pub fn histories(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<RevisionView>>> {
    let rows: Vec<RevisionRow> = outreach_revisions::table
        .left_join(users::table)
        .filter(outreach_revisions::entry_id.eq_any(ids))
        .select((
            outreach_revisions::entry_id,
            outreach_revisions::version,
            outreach_revisions::revised_at,
            (users::id, users::full_name).nullable(),
            outreach_revisions::previous,
        ))
        .order((outreach_revisions::entry_id, outreach_revisions::version))
        .load(conn)?;
    let mut out: HashMap<Uuid, Vec<RevisionView>> = HashMap::new();
    for (entry, version, revised_at, by, previous) in rows {
        out.entry(entry).or_default().push(RevisionView {
            version,
            revised_at,
            revised_by: by.map(|(id, full_name)| AuthorRef { id, full_name }),
            previous,
        });
    }
    Ok(out)
}

/// The views of these entries with their histories.
pub fn views_with_history(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<OutreachView>> {
    let mut histories = histories(conn, ids)?;
    let mut found = views(conn, ids)?;
    for view in &mut found {
        view.history = Some(histories.remove(&view.id).unwrap_or_default());
    }
    Ok(found)
}

/// One entry with its history.
pub fn view_with_history(conn: &mut PgConnection, id: Uuid) -> QueryResult<OutreachView> {
    views_with_history(conn, &[id])?
        .pop()
        .ok_or(diesel::result::Error::NotFound)
}
