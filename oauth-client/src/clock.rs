//! The crate's notion of "now": the receipt time of responses (and so tokens' expiry) and
//! the token manager's expiry checks. Injectable, so tests and simulations control time.

#[cfg(not(target_os = "linux"))]
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in Unix seconds, the unit of [`OAuthToken::expiry`](crate::OAuthToken::expiry).
pub trait Clock: Send + Sync + 'static {
    /// Now, in Unix seconds.
    fn now(&self) -> i64;
}

/// The system's wall clock: the default.
///
/// On Linux it reads `CLOCK_REALTIME_COARSE`, which ticks every few milliseconds and is
/// cheaper than the precise clock (BENCHMARKS.md): the manager reads the time on every
/// call, and expiry is in whole seconds anyway.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[cfg(target_os = "linux")]
    fn now(&self) -> i64 {
        rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse).tv_sec
    }

    #[cfg(not(target_os = "linux"))]
    fn now(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(elapsed) => i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX),
            Err(_) => 0,
        }
    }
}
