//! Outreach entries and their revisions: rows and named queries, plus what the outreach rules
//! read from other tables (a person's certificates, the campaigns of an organisation's chain,
//! the provinces).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{campaigns, certificates, outreach_entries, outreach_revisions, provinces};
use crate::db::outreach_summary::OutreachContribution;
use crate::domain::outreach::Certification;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outreach_entries)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct OutreachRow {
    pub id: Uuid,
    pub author_id: Uuid,
    pub organization_id: Uuid,
    pub held_on: NaiveDate,
    pub province_code: String,
    pub commune: Option<String>,
    pub form: String,
    pub audience: i32,
    pub employers_reached: Option<i32>,
    pub campaign_id: Option<Uuid>,
    pub note: Option<String>,
    pub status: String,
    pub rejection_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OutreachRow {
    /// What the entry adds to the reports while it counts; `None` once rejected.
    pub fn contribution(&self) -> Option<OutreachContribution> {
        (self.status == "recorded").then(|| OutreachContribution {
            organization_id: self.organization_id,
            author_id: self.author_id,
            held_on: self.held_on,
            form: self.form.clone(),
            audience: self.audience,
            employers_reached: self.employers_reached.unwrap_or(0),
            campaign_id: self.campaign_id,
        })
    }

    /// The entry's fields as a revision keeps them.
    pub fn previous_values(&self) -> serde_json::Value {
        serde_json::json!({
            "held_on": self.held_on,
            "province_code": self.province_code,
            "commune": self.commune,
            "form": self.form,
            "audience": self.audience,
            "employers_reached": self.employers_reached,
            "campaign_id": self.campaign_id,
            "note": self.note,
            "status": self.status,
            "rejection_reason": self.rejection_reason,
        })
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outreach_entries)]
pub struct NewOutreach {
    pub id: Uuid,
    pub author_id: Uuid,
    pub organization_id: Uuid,
    pub held_on: NaiveDate,
    pub province_code: String,
    pub commune: Option<String>,
    pub form: String,
    pub audience: i32,
    pub employers_reached: Option<i32>,
    pub campaign_id: Option<Uuid>,
    pub note: Option<String>,
}

/// An entry's new values: every field written (a cleared optional field becomes NULL).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = outreach_entries, treat_none_as_null = true)]
pub struct OutreachUpdate {
    pub held_on: NaiveDate,
    pub province_code: String,
    pub commune: Option<String>,
    pub form: String,
    pub audience: i32,
    pub employers_reached: Option<i32>,
    pub campaign_id: Option<Uuid>,
    pub note: Option<String>,
    pub status: String,
    pub rejection_reason: Option<String>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// Rows of one multi-row insert: an entry binds eleven parameters, PostgreSQL takes 65,535.
const ENTRIES_PER_STATEMENT: usize = 4_000;

pub fn insert_many(conn: &mut PgConnection, rows: &[NewOutreach]) -> QueryResult<Vec<OutreachRow>> {
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(ENTRIES_PER_STATEMENT) {
        out.extend(
            diesel::insert_into(outreach_entries::table)
                .values(chunk)
                .returning(OutreachRow::as_returning())
                .get_results(conn)?,
        );
    }
    Ok(out)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<OutreachRow> {
    outreach_entries::table
        .find(id)
        .select(OutreachRow::as_select())
        .first(conn)
}

/// The entry, locked until the transaction ends (two coordinators correcting at once queue).
pub fn find_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<OutreachRow> {
    outreach_entries::table
        .find(id)
        .select(OutreachRow::as_select())
        .for_update()
        .first(conn)
}

pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    values: &OutreachUpdate,
) -> QueryResult<OutreachRow> {
    diesel::update(outreach_entries::table.find(id))
        .set(values)
        .returning(OutreachRow::as_returning())
        .get_result(conn)
}

/// Keeps the values `entry` had at its `version`, before `revised_by` changed it.
pub fn insert_revision(
    conn: &mut PgConnection,
    entry: &OutreachRow,
    revised_by: Option<Uuid>,
) -> QueryResult<()> {
    diesel::insert_into(outreach_revisions::table)
        .values((
            outreach_revisions::entry_id.eq(entry.id),
            outreach_revisions::version.eq(entry.version),
            outreach_revisions::revised_by.eq(revised_by),
            outreach_revisions::previous.eq(entry.previous_values()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Which entries a list shows.
#[derive(Debug, Clone, Default)]
pub struct OutreachFilter {
    /// Only these organisations' entries (`None`: any).
    pub organizations: Option<Vec<Uuid>>,
    pub author_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub campaign_id: Option<Uuid>,
    pub status: Option<String>,
}

fn filtered(filter: &OutreachFilter) -> outreach_entries::BoxedQuery<'_, Pg> {
    let mut q = outreach_entries::table.into_boxed();
    if let Some(ids) = &filter.organizations {
        q = q.filter(outreach_entries::organization_id.eq_any(ids));
    }
    if let Some(author) = filter.author_id {
        q = q.filter(outreach_entries::author_id.eq(author));
    }
    if let Some(from) = filter.from {
        q = q.filter(outreach_entries::held_on.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(outreach_entries::held_on.le(to));
    }
    if let Some(campaign) = filter.campaign_id {
        q = q.filter(outreach_entries::campaign_id.eq(campaign));
    }
    if let Some(status) = &filter.status {
        q = q.filter(outreach_entries::status.eq(status));
    }
    q
}

/// The ids of one page of entries, newest activity first, and how many match in all.
pub fn page_ids(
    conn: &mut PgConnection,
    filter: &OutreachFilter,
    page: i64,
    per_page: i64,
) -> QueryResult<(Vec<Uuid>, i64)> {
    let total = filtered(filter).count().get_result(conn)?;
    let ids = filtered(filter)
        .select(outreach_entries::id)
        .order((
            outreach_entries::held_on.desc(),
            outreach_entries::created_at.desc(),
            outreach_entries::id,
        ))
        .offset((page - 1) * per_page)
        .limit(per_page)
        .load(conn)?;
    Ok((ids, total))
}

/// Every entry of one author, newest activity first (their own data).
pub fn ids_of_author(conn: &mut PgConnection, author: Uuid) -> QueryResult<Vec<Uuid>> {
    outreach_entries::table
        .filter(outreach_entries::author_id.eq(author))
        .select(outreach_entries::id)
        .order((
            outreach_entries::held_on.desc(),
            outreach_entries::created_at.desc(),
        ))
        .load(conn)
}

/// A person's propagandist and master-trainer certificates, as the outreach rules read them.
pub fn certifications_of(
    conn: &mut PgConnection,
    people: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<Certification>>> {
    let rows: Vec<(
        Uuid,
        String,
        String,
        NaiveDate,
        NaiveDate,
        Option<NaiveDate>,
    )> = certificates::table
        .filter(certificates::holder_id.eq_any(people))
        .filter(certificates::tier.eq_any(["propagandist", "master_trainer"]))
        .select((
            certificates::holder_id,
            certificates::tier,
            certificates::status,
            certificates::issued_on,
            certificates::valid_until,
            certificates::ended_on,
        ))
        .load(conn)?;
    let mut out: HashMap<Uuid, Vec<Certification>> = HashMap::new();
    for (holder, tier, status, issued_on, valid_until, ended_on) in rows {
        out.entry(holder).or_default().push(Certification {
            tier,
            status,
            issued_on,
            valid_until,
            ended_on,
        });
    }
    Ok(out)
}

/// A campaign as the outreach log reads it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaigns)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct CampaignFacts {
    pub id: Uuid,
    pub name: String,
    pub organization_id: Uuid,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

pub fn campaign(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<CampaignFacts>> {
    campaigns::table
        .find(id)
        .select(CampaignFacts::as_select())
        .first(conn)
        .optional()
}

/// The campaigns of these organisations (an author's and those above it), newest first.
pub fn campaigns_of(
    conn: &mut PgConnection,
    organizations: &[Uuid],
) -> QueryResult<Vec<CampaignFacts>> {
    campaigns::table
        .filter(campaigns::organization_id.eq_any(organizations))
        .select(CampaignFacts::as_select())
        .order((campaigns::starts_on.desc(), campaigns::name))
        .load(conn)
}

/// Every province: (code, name), by code.
pub fn provinces(conn: &mut PgConnection) -> QueryResult<Vec<(String, String)>> {
    provinces::table
        .select((provinces::code, provinces::name))
        .order(provinces::code)
        .load(conn)
}

/// The people with these usernames: username → (id, organisation).
pub fn people_by_username(
    conn: &mut PgConnection,
    usernames: &[String],
) -> QueryResult<HashMap<String, (Uuid, Uuid)>> {
    use super::schema::users;
    let rows: Vec<(String, Uuid, Uuid)> = users::table
        .filter(users::username.eq_any(usernames))
        .select((users::username, users::id, users::organization_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(u, id, org)| (u, (id, org)))
        .collect())
}
