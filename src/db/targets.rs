//! Organisations' yearly targets: how many certified master trainers and propagandists each
//! should have. The reports read [`for_year`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use uuid::Uuid;

use crate::db::schema::organization_targets;

/// The targets set for `year`, by organisation: (master trainers, propagandists).
pub fn for_year(conn: &mut PgConnection, year: i32) -> QueryResult<HashMap<Uuid, (i32, i32)>> {
    let rows: Vec<(Uuid, i32, i32)> = organization_targets::table
        .filter(organization_targets::year.eq(year))
        .select((
            organization_targets::organization_id,
            organization_targets::master_trainers,
            organization_targets::propagandists,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(o, m, p)| (o, (m, p))).collect())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organization_targets)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct TargetRow {
    pub organization_id: Uuid,
    pub year: i32,
    pub master_trainers: i32,
    pub propagandists: i32,
    pub updated_at: DateTime<Utc>,
}

/// Every target of one organisation, newest year first.
pub fn of_organization(
    conn: &mut PgConnection,
    organization_id: Uuid,
) -> QueryResult<Vec<TargetRow>> {
    organization_targets::table
        .filter(organization_targets::organization_id.eq(organization_id))
        .order(organization_targets::year.desc())
        .select(TargetRow::as_select())
        .load(conn)
}

/// One organisation's target of one year, locked for the rest of the transaction.
pub fn find_for_update(
    conn: &mut PgConnection,
    organization_id: Uuid,
    year: i32,
) -> QueryResult<Option<TargetRow>> {
    organization_targets::table
        .find((organization_id, year))
        .select(TargetRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Sets one organisation's target of one year, whether or not one was set before.
pub fn upsert(
    conn: &mut PgConnection,
    organization_id: Uuid,
    year: i32,
    master_trainers: i32,
    propagandists: i32,
    updated_by: Option<Uuid>,
) -> QueryResult<TargetRow> {
    diesel::insert_into(organization_targets::table)
        .values((
            organization_targets::organization_id.eq(organization_id),
            organization_targets::year.eq(year),
            organization_targets::master_trainers.eq(master_trainers),
            organization_targets::propagandists.eq(propagandists),
            organization_targets::updated_by.eq(updated_by),
        ))
        .on_conflict((
            organization_targets::organization_id,
            organization_targets::year,
        ))
        .do_update()
        .set((
            organization_targets::master_trainers
                .eq(excluded(organization_targets::master_trainers)),
            organization_targets::propagandists.eq(excluded(organization_targets::propagandists)),
            organization_targets::updated_by.eq(excluded(organization_targets::updated_by)),
            organization_targets::updated_at.eq(Utc::now()),
        ))
        .returning(TargetRow::as_returning())
        .get_result(conn)
}
