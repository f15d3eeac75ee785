//! Retention: deleting the login attempts, read-audit events and ended login sessions that are
//! past the periods of [`Retention`] (`cascade purge`, and once a day under `cascade serve`).

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;
use serde_json::json;

use crate::auth::throttle;
use crate::db::audit::AuditEvent;
use crate::db::retention as rows;
use crate::db::Db;
use crate::domain::privacy::READ_ACTIONS;
use crate::domain::retention::{Retention, LOGIN_ATTEMPT_ACTIONS};
use crate::error::AppError;

/// The audit action a purge records, with its counts.
pub const RETENTION_PURGED: &str = "retention_purged";

/// What one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Login attempts and the `login_failed` events that recorded them.
    pub login_attempts: u64,
    pub read_events: u64,
    pub sessions: u64,
}

/// Deletes, as of `now`, what is past its period, in bounded batches that commit one by one
/// (so a large purge holds no long transaction), then records one `retention_purged` event with
/// the counts. Never what a live rule reads: the login throttle's window of attempts, an open
/// session, events other than reads.
pub async fn purge(
    db: &Db,
    now: DateTime<Utc>,
    retention: &Retention,
) -> Result<PurgeReport, AppError> {
    let retention = *retention;
    db.run(move |conn| purge_on(conn, now, &retention)).await
}

/// [`purge`] on a connection of one's own (the command line has no pool).
pub fn purge_on(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    retention: &Retention,
) -> Result<PurgeReport, AppError> {
    let cutoffs = retention.cutoffs(now, chrono::Duration::minutes(throttle::WINDOW_MINUTES));
    let report = PurgeReport {
        login_attempts: rows::delete_login_attempts_before(conn, cutoffs.login_attempts)?
            + rows::delete_events_before(conn, &LOGIN_ATTEMPT_ACTIONS, cutoffs.login_attempts)?,
        read_events: rows::delete_events_before(conn, &READ_ACTIONS, cutoffs.read_events)?,
        sessions: rows::delete_sessions_ended_before(conn, cutoffs.sessions)?,
    };
    AuditEvent::new(None, RETENTION_PURGED, "retention")
        .details(json!({
            "deleted": report,
            "retention_days": {
                "login_attempts": retention.login_attempts_days,
                "read_events": retention.read_events_days,
                "sessions": retention.sessions_days,
            },
        }))
        .record(conn)?;
    Ok(report)
}
