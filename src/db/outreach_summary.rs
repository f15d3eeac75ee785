//! The outreach report's maintained summary, kept right in the same transaction as each change
//! to an outreach entry. (Being written by the reports engineer; the outreach service calls
//! `outreach_changed` on every insert, correction and rejection.)

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

/// What one outreach entry contributes to the reports while it counts (rejected entries do not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutreachContribution {
    pub organization_id: Uuid,
    pub author_id: Uuid,
    pub held_on: NaiveDate,
    pub form: String,
    pub audience: i32,
    pub employers_reached: i32,
    pub campaign_id: Option<Uuid>,
}

/// Moves the summary from `before` (None: the entry did not count) to `after` (None: it no
/// longer counts), in the caller's transaction.
pub fn outreach_changed(
    _conn: &mut PgConnection,
    _before: Option<&OutreachContribution>,
    _after: Option<&OutreachContribution>,
) -> QueryResult<()> {
    Ok(())
}
