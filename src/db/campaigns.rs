//! Campaign rows and their named queries: adding one, finding them by organisation, name and
//! period, and making sure the national May campaign of a year exists.

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{campaigns, organizations};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaigns)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct CampaignRow {
    pub id: Uuid,
    pub name: String,
    pub organization_id: Uuid,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// A new campaign's columns, checked.
pub struct NewCampaignRow<'a> {
    pub name: &'a str,
    pub organization_id: Uuid,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub created_by: Option<Uuid>,
}

/// Inserts a campaign; a name its organisation already uses is a unique violation
/// (`campaigns_organization_id_name_key`).
pub fn insert(conn: &mut PgConnection, new: &NewCampaignRow<'_>) -> QueryResult<CampaignRow> {
    diesel::insert_into(campaigns::table)
        .values((
            campaigns::name.eq(new.name),
            campaigns::organization_id.eq(new.organization_id),
            campaigns::starts_on.eq(new.starts_on),
            campaigns::ends_on.eq(new.ends_on),
            campaigns::created_by.eq(new.created_by),
        ))
        .returning(CampaignRow::as_returning())
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<CampaignRow> {
    campaigns::table
        .find(id)
        .select(CampaignRow::as_select())
        .first(conn)
}

/// The campaigns of these organisations (`None`: of every organisation) whose days overlap
/// `period` when given, latest start first.
pub fn of_organizations(
    conn: &mut PgConnection,
    organizations: Option<&[Uuid]>,
    period: Option<(NaiveDate, NaiveDate)>,
) -> QueryResult<Vec<CampaignRow>> {
    let mut query = campaigns::table.into_boxed();
    if let Some(ids) = organizations {
        query = query.filter(campaigns::organization_id.eq_any(ids.to_vec()));
    }
    if let Some((from, to)) = period {
        query = query
            .filter(campaigns::starts_on.le(to))
            .filter(campaigns::ends_on.ge(from));
    }
    query
        .order((campaigns::starts_on.desc(), campaigns::name.asc()))
        .select(CampaignRow::as_select())
        .load(conn)
}

/// The campaigns of these organisations that carry exactly this name.
pub fn named(
    conn: &mut PgConnection,
    name: &str,
    organizations: &[Uuid],
) -> QueryResult<Vec<CampaignRow>> {
    campaigns::table
        .filter(campaigns::name.eq(name))
        .filter(campaigns::organization_id.eq_any(organizations.to_vec()))
        .select(CampaignRow::as_select())
        .load(conn)
}

/// The names of these campaigns, by id.
pub fn names(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(campaigns::table
        .filter(campaigns::id.eq_any(ids.to_vec()))
        .select((campaigns::id, campaigns::name))
        .load::<(Uuid, String)>(conn)?
        .into_iter()
        .collect())
}

/// The state agencies at the root of the tree: their campaigns are national, seen by everyone.
pub fn national_organizations(conn: &mut PgConnection) -> QueryResult<Vec<Uuid>> {
    organizations::table
        .filter(organizations::kind.eq("state_agency"))
        .filter(organizations::parent_id.is_null())
        .select(organizations::id)
        .load(conn)
}

/// Makes sure each root state agency has a campaign of this name and period: one statement,
/// nothing done where it is already there (the name is unique per organisation). How many were
/// added.
pub fn ensure_national(
    conn: &mut PgConnection,
    name: &str,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
) -> QueryResult<usize> {
    use diesel::sql_types::{Date, Text};
    diesel::sql_query(
        "INSERT INTO campaigns (name, organization_id, starts_on, ends_on)
         SELECT $1, o.id, $2, $3 FROM organizations o
         WHERE o.kind = 'state_agency' AND o.parent_id IS NULL
         ON CONFLICT (organization_id, name) DO NOTHING",
    )
    .bind::<Text, _>(name)
    .bind::<Date, _>(starts_on)
    .bind::<Date, _>(ends_on)
    .execute(conn)
}
