//! Deleting what is past its retention period, a bounded batch per statement: each batch commits
//! on its own, so a large purge never holds one long transaction or locks many rows at once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz};

/// Rows one statement deletes at most.
pub const BATCH: i64 = 10_000;

/// Runs `batch` until it deletes fewer than [`BATCH`] rows; the rows deleted in all.
fn in_batches(
    conn: &mut PgConnection,
    mut batch: impl FnMut(&mut PgConnection) -> QueryResult<usize>,
) -> QueryResult<u64> {
    let mut total = 0u64;
    loop {
        let n = batch(conn)?;
        total += n as u64;
        if (n as i64) < BATCH {
            return Ok(total);
        }
    }
}

/// Login attempts (failures, and checks a dead process left pending) from before `cutoff`.
pub fn delete_login_attempts_before(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
) -> QueryResult<u64> {
    in_batches(conn, |conn| {
        diesel::sql_query(
            "DELETE FROM login_failures WHERE id IN \
               (SELECT id FROM login_failures WHERE failed_at < $1 LIMIT $2)",
        )
        .bind::<Timestamptz, _>(cutoff)
        .bind::<BigInt, _>(BATCH)
        .execute(conn)
    })
}

/// Audit events of the given actions (the reads of personal data) from before `cutoff`.
pub fn delete_events_before(
    conn: &mut PgConnection,
    actions: &[&str],
    cutoff: DateTime<Utc>,
) -> QueryResult<u64> {
    let actions: Vec<String> = actions.iter().map(|a| a.to_string()).collect();
    in_batches(conn, |conn| {
        diesel::sql_query(
            "DELETE FROM audit_events WHERE id IN \
               (SELECT id FROM audit_events \
                 WHERE occurred_at < $1 AND action = ANY($2) LIMIT $3)",
        )
        .bind::<Timestamptz, _>(cutoff)
        .bind::<Array<Text>, _>(&actions)
        .bind::<BigInt, _>(BATCH)
        .execute(conn)
    })
}

/// Login sessions that ended before `cutoff` — logged out or revoked then, or left open with
/// every refresh token expired by then — with their refresh tokens. An open session whose
/// refresh token is still good is never touched.
pub fn delete_sessions_ended_before(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
) -> QueryResult<u64> {
    in_batches(conn, |conn| {
        diesel::sql_query(
            "WITH ended AS ( \
                 SELECT s.id FROM login_sessions s \
                  WHERE s.revoked_at < $1 \
                     OR (s.revoked_at IS NULL AND s.created_at < $1 \
                         AND NOT EXISTS (SELECT 1 FROM refresh_tokens r \
                                          WHERE r.family_id = s.id AND r.expires_at >= $1)) \
                  LIMIT $2), \
             tokens AS ( \
                 DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM ended)) \
             DELETE FROM login_sessions WHERE id IN (SELECT id FROM ended)",
        )
        .bind::<Timestamptz, _>(cutoff)
        .bind::<BigInt, _>(BATCH)
        .execute(conn)
    })
}
