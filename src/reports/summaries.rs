//! The reports' maintained summaries recomputed from the base tables: after a bulk load
//! (`cascade seed-scale`), after the migration that made them, or to check them
//! (`cascade rebuild-summaries`).

use diesel::prelude::*;
use serde::Serialize;

use crate::db::{bulk, coverage_summary, outreach_summary};
use crate::error::AppError;

/// What a rebuild wrote.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rebuilt {
    /// People's coverage contributions (validity intervals, certificates near expiry, completions).
    pub coverage_contributions: usize,
    /// Rows of outreach per author, organisation and month.
    pub outreach_authors: usize,
}

/// The summaries' tables, emptied and written again by a rebuild.
const SUMMARIES: &[&str] = &[
    "coverage_contributions",
    "coverage_deltas",
    "outreach_totals",
    "outreach_authors",
    "outreach_active",
    "outreach_author_organizations",
];

/// Recomputes every summary from the base tables in one transaction. Changes to certificates,
/// enrolments, people and outreach wait until it commits (their tables are held in SHARE mode),
/// so nothing slips between the rebuild and the upkeep of later changes. The summaries' foreign
/// keys and non-unique indexes are set aside while their rows are written and built again over
/// the whole tables before it commits (readers of the summaries wait for it either way: emptying
/// them locks them).
pub fn rebuild(conn: &mut PgConnection) -> Result<Rebuilt, AppError> {
    conn.transaction(|conn| {
        diesel::sql_query(
            "LOCK TABLE certificates, enrollments, cohorts, courses, users, outreach_entries
             IN SHARE MODE",
        )
        .execute(conn)?;
        bulk::roomy_memory(conn)?;
        let set_aside = bulk::set_aside(conn, SUMMARIES)?;
        let coverage_contributions = coverage_summary::rebuild(conn)?;
        let outreach_authors = outreach_summary::rebuild(conn)?;
        bulk::put_back(conn, set_aside)?;
        Ok(Rebuilt {
            coverage_contributions,
            outreach_authors,
        })
    })
}
