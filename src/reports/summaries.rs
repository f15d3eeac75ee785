//! The reports' maintained summaries recomputed from the base tables: after a bulk load
//! (`cascade seed-scale`), after the migration that made them, or to check them
//! (`cascade rebuild-summaries`).

use diesel::prelude::*;
use serde::Serialize;

use crate::db::{coverage_summary, outreach_summary};
use crate::error::AppError;

/// What a rebuild wrote.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rebuilt {
    /// People's coverage contributions (validity intervals, certificates near expiry, completions).
    pub coverage_contributions: usize,
    /// Rows of outreach per author, organisation and month.
    pub outreach_authors: usize,
}

/// Recomputes every summary from the base tables in one transaction. Changes to certificates,
/// enrolments, people and outreach wait until it commits (their tables are held in SHARE mode),
/// so nothing slips between the rebuild and the upkeep of later changes.
pub fn rebuild(conn: &mut PgConnection) -> Result<Rebuilt, AppError> {
    conn.transaction(|conn| {
        diesel::sql_query(
            "LOCK TABLE certificates, enrollments, cohorts, courses, users, outreach_entries
             IN SHARE MODE",
        )
        .execute(conn)?;
        let coverage_contributions = coverage_summary::rebuild(conn)?;
        let outreach_authors = outreach_summary::rebuild(conn)?;
        Ok(Rebuilt {
            coverage_contributions,
            outreach_authors,
        })
    })
}
