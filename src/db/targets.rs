//! Organisations' yearly targets: how many certified master trainers and propagandists each
//! should have. (Being written by the targets engineer; reports read `for_year`.)

use std::collections::HashMap;

use diesel::prelude::*;
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
