//! The manager's notion of "now", injectable so tests (and simulations) control time.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in Unix seconds, the unit of [`OAuthToken::expiry`](crate::OAuthToken::expiry).
pub trait Clock: Send + Sync + 'static {
    /// Now, in Unix seconds.
    fn now(&self) -> i64;
}

/// The system's wall clock: the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(elapsed) => i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX),
            Err(_) => 0,
        }
    }
}
