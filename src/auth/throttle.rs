//! Login throttling per account and per client address, kept in the database so every process
//! behind a load balancer sees the same counts.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::schema::login_failures;

/// Failures allowed for one account within the window before it is locked.
pub const ACCOUNT_LIMIT: usize = 5;
/// Failures allowed from one address within the window (many people may share an office NAT).
pub const ADDRESS_LIMIT: usize = 30;
pub const WINDOW_MINUTES: i64 = 15;

/// Seconds to wait before the next attempt, or `None` when an attempt may go ahead, given the
/// instants of recent failures (newest first).
pub fn retry_after(failures: &[DateTime<Utc>], limit: usize, now: DateTime<Utc>) -> Option<u64> {
    let window = Duration::minutes(WINDOW_MINUTES);
    let recent: Vec<&DateTime<Utc>> = failures.iter().filter(|t| now - **t < window).collect();
    if recent.len() < limit {
        return None;
    }
    // the attempt becomes possible when the limit-th most recent failure leaves the window
    let oldest_counted = recent.get(limit - 1)?;
    let wait = (**oldest_counted + window - now).num_seconds().max(1);
    Some(wait as u64)
}

/// The wait imposed on this username or address, if any.
pub fn check(conn: &mut PgConnection, username: &str, address: &str) -> QueryResult<Option<u64>> {
    let since = Utc::now() - Duration::minutes(WINDOW_MINUTES);
    let by_account: Vec<DateTime<Utc>> = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::failed_at.gt(since))
        .order(login_failures::failed_at.desc())
        .limit(ACCOUNT_LIMIT as i64)
        .select(login_failures::failed_at)
        .load(conn)?;
    let by_address: Vec<DateTime<Utc>> = login_failures::table
        .filter(login_failures::address.eq(address))
        .filter(login_failures::failed_at.gt(since))
        .order(login_failures::failed_at.desc())
        .limit(ADDRESS_LIMIT as i64)
        .select(login_failures::failed_at)
        .load(conn)?;
    let now = Utc::now();
    Ok(retry_after(&by_account, ACCOUNT_LIMIT, now)
        .into_iter()
        .chain(retry_after(&by_address, ADDRESS_LIMIT, now))
        .max())
}

/// Starts a login attempt: under a per-account and per-address lock, checks the recent failures
/// and, when the attempt may go ahead, records it as a failure *before* the password is checked,
/// so parallel guesses count against each other. A successful login then removes it
/// ([`forget_attempt`]). `Err(seconds)` is the wait imposed.
pub fn begin_attempt(
    conn: &mut PgConnection,
    username: &str,
    address: &str,
) -> QueryResult<Result<i64, u64>> {
    use diesel::sql_types::Text;
    conn.transaction(|conn| {
        // always the account first, then the address: no two attempts wait on each other in a cycle
        for key in [
            format!("login-user:{username}"),
            format!("login-addr:{address}"),
        ] {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<Text, _>(key)
                .execute(conn)?;
        }
        if let Some(wait) = check(conn, username, address)? {
            return Ok(Err(wait));
        }
        let id: i64 = diesel::insert_into(login_failures::table)
            .values((
                login_failures::username.eq(username),
                login_failures::address.eq(address),
            ))
            .returning(login_failures::id)
            .get_result(conn)?;
        // keep the table small: nothing older than the window matters
        diesel::delete(login_failures::table.filter(
            login_failures::failed_at.lt(Utc::now() - Duration::minutes(WINDOW_MINUTES * 4)),
        ))
        .execute(conn)?;
        Ok(Ok(id))
    })
}

/// The attempt succeeded: it was no failure, and the account's earlier failures are forgiven.
pub fn forget_attempt(conn: &mut PgConnection, attempt: i64, username: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.find(attempt)).execute(conn)?;
    clear_account(conn, username)
}

pub fn clear_account(conn: &mut PgConnection, username: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::username.eq(username)))
        .execute(conn)?;
    Ok(())
}

/// A fixed-window counter per key, in memory: for the public verification endpoint, where a
/// per-process limit is enough to stop anyone walking the code space.
pub struct RateLimiter {
    limit: u32,
    window: std::time::Duration,
    counts: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: std::time::Duration) -> Self {
        RateLimiter {
            limit,
            window,
            counts: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Counts one request for `key`; 429 with the seconds to wait once over the limit.
    pub fn check(&self, key: &str) -> Result<(), crate::error::AppError> {
        let now = std::time::Instant::now();
        let mut counts = match self.counts.lock() {
            Ok(guard) => guard,
            // a panic elsewhere while holding the lock leaves plain counters: still usable
            Err(poisoned) => poisoned.into_inner(),
        };
        if counts.len() > 100_000 {
            let window = self.window;
            counts.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = counts.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > self.limit {
            let wait = self
                .window
                .saturating_sub(now.duration_since(entry.0))
                .as_secs()
                .max(1);
            return Err(crate::error::AppError::RateLimited {
                retry_after_secs: wait,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn limiter_allows_the_limit_then_refuses() {
        let l = RateLimiter::new(3, std::time::Duration::from_secs(60));
        for _ in 0..3 {
            assert!(l.check("1.2.3.4").is_ok());
        }
        assert!(l.check("1.2.3.4").is_err());
        assert!(l.check("5.6.7.8").is_ok());
    }

    use super::*;

    #[test]
    fn under_the_limit_nothing_waits() {
        let now = Utc::now();
        let f = vec![now - Duration::minutes(1); ACCOUNT_LIMIT - 1];
        assert_eq!(retry_after(&f, ACCOUNT_LIMIT, now), None);
    }

    #[test]
    fn at_the_limit_the_wait_ends_when_the_oldest_counted_failure_leaves_the_window() {
        let now = Utc::now();
        let f: Vec<_> = (0..ACCOUNT_LIMIT as i64)
            .map(|i| now - Duration::minutes(i + 1))
            .collect();
        let wait = retry_after(&f, ACCOUNT_LIMIT, now).unwrap();
        // oldest counted is 5 minutes old: 10 minutes left
        assert!((595..=600).contains(&wait), "{wait}");
    }

    #[test]
    fn old_failures_do_not_count() {
        let now = Utc::now();
        let f = vec![now - Duration::minutes(WINDOW_MINUTES + 1); 10];
        assert_eq!(retry_after(&f, ACCOUNT_LIMIT, now), None);
    }
}
