//! How long Cascade keeps the records that exist only for security and accountability, and the
//! instants before which each kind is past its period.

use chrono::{DateTime, Duration, Utc};

/// Audit actions that record a login attempt (with the username typed, which may be anything —
/// even a password typed in the wrong box): kept as long as the login attempts themselves.
pub const LOGIN_ATTEMPT_ACTIONS: [&str; 1] = ["login_failed"];

/// Days each kind of record is kept (`CASCADE_RETAIN_…_DAYS`), each at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Login attempts (failed or still being checked) and their audit events
    /// ([`LOGIN_ATTEMPT_ACTIONS`]): who tried which username from where.
    pub login_attempts_days: u32,
    /// Audit events that record a read of personal data ([`super::privacy::READ_ACTIONS`]).
    pub read_events_days: u32,
    /// Login sessions, counted from when they ended (logout, revocation or expiry).
    pub sessions_days: u32,
}

impl Retention {
    pub const DEFAULT_LOGIN_ATTEMPTS_DAYS: u32 = 90;
    pub const DEFAULT_READ_EVENTS_DAYS: u32 = 730;
    pub const DEFAULT_SESSIONS_DAYS: u32 = 30;
    /// The longest period a setting accepts: a hundred years, so the cutoff stays a date.
    pub const MAX_DAYS: u32 = 36_500;

    /// The instants before which each kind of record is past its period, as of `now`. Login
    /// attempts within `throttle_window` of `now` are what the login throttle reads: those stay
    /// whatever the setting.
    pub fn cutoffs(&self, now: DateTime<Utc>, throttle_window: Duration) -> Cutoffs {
        let days = |n: u32| now - Duration::days(i64::from(n.clamp(1, Self::MAX_DAYS)));
        let throttle_reads_since = now - throttle_window.max(Duration::zero());
        Cutoffs {
            login_attempts: days(self.login_attempts_days).min(throttle_reads_since),
            read_events: days(self.read_events_days),
            sessions: days(self.sessions_days),
        }
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            login_attempts_days: Self::DEFAULT_LOGIN_ATTEMPTS_DAYS,
            read_events_days: Self::DEFAULT_READ_EVENTS_DAYS,
            sessions_days: Self::DEFAULT_SESSIONS_DAYS,
        }
    }
}

/// Records from before these instants are past their period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub login_attempts: DateTime<Utc>,
    pub read_events: DateTime<Utc>,
    pub sessions: DateTime<Utc>,
}

/// Reads a retention period in days: a whole number from 1 to [`Retention::MAX_DAYS`].
pub fn parse_days(value: &str) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(n) if (1..=Retention::MAX_DAYS).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{}` is not a number of days from 1 to {}",
            value.trim(),
            Retention::MAX_DAYS
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window() -> Duration {
        Duration::minutes(15)
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn cutoffs_are_the_periods_before_now() {
        let now = at("2027-06-01T12:00:00Z");
        let c = Retention::default().cutoffs(now, window());
        assert_eq!(c.login_attempts, at("2027-03-03T12:00:00Z"));
        assert_eq!(c.read_events, at("2025-06-01T12:00:00Z"));
        assert_eq!(c.sessions, at("2027-05-02T12:00:00Z"));
    }

    #[test]
    fn the_throttle_window_is_never_purged() {
        let now = at("2027-06-01T12:00:00Z");
        let shortest = Retention {
            login_attempts_days: 1,
            read_events_days: 1,
            sessions_days: 1,
        };
        let c = shortest.cutoffs(now, Duration::days(3));
        assert_eq!(c.login_attempts, now - Duration::days(3));
        assert_eq!(c.sessions, now - Duration::days(1));
    }

    #[test]
    fn periods_are_whole_days_from_one() {
        assert_eq!(parse_days(" 30 "), Ok(30));
        assert!(parse_days("0").is_err());
        assert!(parse_days("-5").is_err());
        assert!(parse_days("ninety").is_err());
        assert!(parse_days("1.5").is_err());
        assert!(parse_days("36501").is_err());
    }
}
