//! Failing fast while PostgreSQL is unreachable: a circuit breaker shared by the blocking pool and
//! the per-worker read pools.
//!
//! A failed connect opens it. While it is open, callers are refused at once (503 `unavailable`)
//! instead of queueing for a pool's timeout; every [`COOLDOWN`] one caller at a time is let
//! through as a probe. The first connect that succeeds — a probe's, or one of the blocking pool's
//! own retries — closes it again, so the service recovers on the first request after the
//! database is back, without a restart.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long after a failed connect callers are refused without trying.
pub const COOLDOWN: Duration = Duration::from_millis(250);

#[derive(Default)]
pub struct Breaker {
    /// Fast path: false while the database answers, so a request reads one atomic.
    open: AtomicBool,
    /// Failed connects so far: a caller waiting for a connection gives up when it moves.
    failures: AtomicU64,
    state: Mutex<OpenState>,
}

#[derive(Default)]
struct OpenState {
    /// When the next probe may go.
    retry_at: Option<Instant>,
    /// A probe is trying now: the others are refused until it is done.
    probing: bool,
}

/// What a caller may do now.
pub enum Admission {
    /// The breaker is closed: go ahead.
    Go,
    /// The breaker is open and this caller is the one probe: go ahead, and the guard lets the
    /// next probe go when it is dropped (also when the caller gives up half-way).
    Probe(ProbeGuard),
}

/// Held by the probe; dropping it lets the next probe go once the cooldown has passed.
pub struct ProbeGuard {
    breaker: Arc<Breaker>,
}

impl Drop for ProbeGuard {
    fn drop(&mut self) {
        self.breaker.lock().probing = false;
    }
}

impl Breaker {
    fn lock(&self) -> MutexGuard<'_, OpenState> {
        // plain values inside: a panic elsewhere while holding the lock leaves them usable
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the caller may try the database now; `None` when it must answer 503 at once.
    pub fn admit(self: &Arc<Self>) -> Option<Admission> {
        if !self.open.load(Ordering::Acquire) {
            return Some(Admission::Go);
        }
        let mut state = self.lock();
        if !self.open.load(Ordering::Acquire) {
            return Some(Admission::Go);
        }
        let now = Instant::now();
        if state.probing || state.retry_at.is_some_and(|at| now < at) {
            return None;
        }
        state.probing = true;
        Some(Admission::Probe(ProbeGuard {
            breaker: self.clone(),
        }))
    }

    /// Would a caller be refused now? (Unlike [`Self::admit`], takes no probe.)
    pub fn refuses(&self) -> bool {
        if !self.open.load(Ordering::Acquire) {
            return false;
        }
        let state = self.lock();
        state.probing || state.retry_at.is_some_and(|at| Instant::now() < at)
    }

    /// Is the breaker open (the last connect failed)?
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// How many connects have failed since the process started.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Acquire)
    }

    /// A connect (or a wait for a connection) failed: refuse callers for [`COOLDOWN`].
    pub fn failed(&self) {
        let mut state = self.lock();
        self.failures.fetch_add(1, Ordering::AcqRel);
        state.retry_at = Some(Instant::now() + COOLDOWN);
        if !self.open.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                cooldown_ms = COOLDOWN.as_millis() as u64,
                "database unreachable: answering 503 at once, probing every cooldown"
            );
        }
    }

    /// A connect succeeded: the database answers again.
    pub fn connected(&self) {
        if !self.open.load(Ordering::Acquire) {
            return;
        }
        let mut state = self.lock();
        if self.open.swap(false, Ordering::AcqRel) {
            state.retry_at = None;
            tracing::info!("database reachable again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_breaker_lets_everyone_go() {
        let b = Arc::new(Breaker::default());
        assert!(matches!(b.admit(), Some(Admission::Go)));
        assert!(!b.is_open());
    }

    #[test]
    fn after_a_failed_connect_callers_are_refused_until_the_cooldown_ends() {
        let b = Arc::new(Breaker::default());
        b.failed();
        assert!(b.is_open());
        assert!(b.admit().is_none());
        assert!(b.refuses());
        std::thread::sleep(COOLDOWN + Duration::from_millis(20));
        assert!(!b.refuses());
        let probe = b.admit();
        assert!(matches!(probe, Some(Admission::Probe(_))));
        assert!(b.refuses());
        // one probe at a time
        assert!(b.admit().is_none());
        drop(probe);
        assert!(matches!(b.admit(), Some(Admission::Probe(_))));
    }

    #[test]
    fn a_successful_connect_closes_the_breaker() {
        let b = Arc::new(Breaker::default());
        b.failed();
        b.connected();
        assert!(!b.is_open());
        assert!(matches!(b.admit(), Some(Admission::Go)));
        assert_eq!(b.failures(), 1);
    }

    #[test]
    fn a_probe_that_fails_restarts_the_cooldown() {
        let b = Arc::new(Breaker::default());
        b.failed();
        std::thread::sleep(COOLDOWN + Duration::from_millis(20));
        let probe = b.admit();
        assert!(probe.is_some());
        b.failed();
        drop(probe);
        assert!(b.admit().is_none());
    }
}
