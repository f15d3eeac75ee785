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

/// A pending attempt older than this is counted as a failure: its process died mid-check.
const PENDING_STALE_SECS: i64 = 30;

/// Why an attempt may not go ahead now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Too many failures: locked for this many seconds.
    Locked(u64),
    /// Failures and attempts still being checked fill the limit: try again in a moment, when
    /// those have an outcome.
    Busy,
}

/// An attempt's instant and whether its password is still being checked.
type Attempt = (DateTime<Utc>, bool);

/// Failures and pending attempts within the window for one key (account or address).
fn judge(rows: &[Attempt], limit: usize, now: DateTime<Utc>) -> Option<Wait> {
    let stale = now - Duration::seconds(PENDING_STALE_SECS);
    let (in_flight, settled): (Vec<&Attempt>, Vec<&Attempt>) = rows
        .iter()
        .partition(|(at, pending)| *pending && *at >= stale);
    let mut failures: Vec<DateTime<Utc>> = settled.into_iter().map(|r| r.0).collect();
    failures.sort_by(|a, b| b.cmp(a));
    if let Some(wait) = retry_after(&failures, limit, now) {
        return Some(Wait::Locked(wait));
    }
    let window = Duration::minutes(WINDOW_MINUTES);
    let counted = failures.iter().filter(|t| now - **t < window).count();
    (counted + in_flight.len() >= limit).then_some(Wait::Busy)
}

fn recent(
    conn: &mut PgConnection,
    by_username: Option<&str>,
    by_address: Option<&str>,
    limit: usize,
) -> QueryResult<Vec<(DateTime<Utc>, bool)>> {
    let since = Utc::now() - Duration::minutes(WINDOW_MINUTES);
    let mut q = login_failures::table
        .filter(login_failures::failed_at.gt(since))
        .into_boxed();
    if let Some(u) = by_username {
        q = q.filter(login_failures::username.eq(u.to_string()));
    }
    if let Some(a) = by_address {
        q = q.filter(login_failures::address.eq(a.to_string()));
    }
    // every pending attempt counts, plus enough of the newest to judge the limit
    q.order(login_failures::failed_at.desc())
        .limit((limit * 2) as i64)
        .select((login_failures::failed_at, login_failures::pending))
        .load(conn)
}

/// The wait imposed on this username or address, if any.
pub fn check(conn: &mut PgConnection, username: &str, address: &str) -> QueryResult<Option<Wait>> {
    let now = Utc::now();
    let by_account = recent(conn, Some(username), None, ACCOUNT_LIMIT)?;
    let by_address = recent(conn, None, Some(address), ADDRESS_LIMIT)?;
    let waits = [
        judge(&by_account, ACCOUNT_LIMIT, now),
        judge(&by_address, ADDRESS_LIMIT, now),
    ];
    let locked = waits
        .iter()
        .filter_map(|w| match w {
            Some(Wait::Locked(s)) => Some(*s),
            _ => None,
        })
        .max();
    Ok(match locked {
        Some(s) => Some(Wait::Locked(s)),
        None => waits.into_iter().flatten().next(),
    })
}

/// Starts a password check (a login, or the current password of a change): under a per-account
/// and per-address lock, checks the recent failures and the attempts still being checked and,
/// when the attempt may go ahead, records it as *pending* before the password is checked, so
/// parallel guesses count against each other. [`attempt_failed`] turns it into a failure;
/// [`forget_attempt`] removes it after a right password. Only failures lock an account, so
/// several right passwords at once all get through (after waiting their turn at most).
pub fn begin_attempt(
    conn: &mut PgConnection,
    username: &str,
    address: &str,
) -> QueryResult<Result<i64, Wait>> {
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
                login_failures::pending.eq(true),
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

/// How long an attempt waits its turn behind attempts still being checked before it is refused.
pub const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// How often it looks again meanwhile.
pub const BUSY_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// The password was wrong: the attempt is a failure from now on.
pub fn attempt_failed(conn: &mut PgConnection, attempt: i64) -> QueryResult<()> {
    diesel::update(login_failures::table.find(attempt))
        .set((
            login_failures::pending.eq(false),
            login_failures::failed_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The attempt succeeded: it was no failure, and the account's earlier failures are forgiven.
pub fn forget_attempt(conn: &mut PgConnection, attempt: i64, username: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.find(attempt)).execute(conn)?;
    clear_account(conn, username)
}

/// Forgets the account's failures (and only its settled ones: attempts of others still being
/// checked stay counted).
pub fn clear_account(conn: &mut PgConnection, username: &str) -> QueryResult<()> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::username.eq(username))
            .filter(login_failures::pending.eq(false)),
    )
    .execute(conn)?;
    Ok(())
}

/// A fixed-window counter per key, in memory: for the public verification endpoint, where a
/// per-process limit is enough to stop anyone walking the code space.
pub struct RateLimiter {
    limit: u32,
    window: std::time::Duration,
    counts: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u32)>>,
    /// What `/metrics` calls the requests it refuses (`kind` of the throttled counter).
    kind: &'static str,
}

impl RateLimiter {
    pub fn new(limit: u32, window: std::time::Duration) -> Self {
        RateLimiter {
            limit,
            window,
            counts: std::sync::Mutex::new(std::collections::HashMap::new()),
            kind: "rate_limit",
        }
    }

    /// This limiter, its refusals counted in `/metrics` as `kind`.
    pub fn named(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
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
            crate::metrics::throttled(self.kind);
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
    fn attempts_being_checked_make_the_next_wait_but_never_lock() {
        let now = Utc::now();
        let pending = vec![(now - Duration::seconds(1), true); ACCOUNT_LIMIT];
        assert_eq!(judge(&pending, ACCOUNT_LIMIT, now), Some(Wait::Busy));
        let some = vec![(now - Duration::seconds(1), true); ACCOUNT_LIMIT - 1];
        assert_eq!(judge(&some, ACCOUNT_LIMIT, now), None);
        let mut mixed = vec![(now - Duration::minutes(1), false); ACCOUNT_LIMIT - 1];
        mixed.push((now, true));
        assert_eq!(judge(&mixed, ACCOUNT_LIMIT, now), Some(Wait::Busy));
    }

    #[test]
    fn failures_lock_and_a_stale_pending_attempt_counts_as_one() {
        let now = Utc::now();
        let mut rows = vec![(now - Duration::minutes(1), false); ACCOUNT_LIMIT - 1];
        rows.push((now - Duration::seconds(PENDING_STALE_SECS + 5), true));
        assert!(matches!(
            judge(&rows, ACCOUNT_LIMIT, now),
            Some(Wait::Locked(_))
        ));
    }

    #[test]
    fn old_failures_do_not_count() {
        let now = Utc::now();
        let f = vec![now - Duration::minutes(WINDOW_MINUTES + 1); 10];
        assert_eq!(retry_after(&f, ACCOUNT_LIMIT, now), None);
    }
}
