//! Cohorts: scheduling and changing them, searching them, their instructors and sessions, and
//! closing one when it is finalised.

use chrono::Utc;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{certificates, cohorts};
use crate::domain::training::CohortStatus;

/// How many certificates the cohort has issued.
pub fn certificate_count(conn: &mut PgConnection, cohort_id: Uuid) -> QueryResult<i64> {
    certificates::table
        .filter(certificates::cohort_id.eq(cohort_id))
        .count()
        .get_result(conn)
}

/// Closes a finalised cohort: completed, now.
pub fn mark_completed(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(cohorts::table.find(id))
        .set((
            cohorts::status.eq(CohortStatus::Completed.as_str()),
            cohorts::finalized_at.eq(Utc::now()),
            cohorts::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    Ok(())
}
