//! The opt-in retry policy: which failures are retried, and how long to wait in between.

use std::time::Duration;

use reqwest::header::RETRY_AFTER;

use crate::error::Error;

/// How often and how patiently to retry transient failures (transport errors, timeouts,
/// HTTP 429 and 5xx). Set it with [`OAuthClientBuilder::retry`](crate::OAuthClientBuilder::retry).
///
/// The wait before retry `n` (from 1) is `initial_backoff * 2^(n-1)`, at least the
/// provider's `Retry-After` (in seconds), and at most `max_backoff`.
///
/// ```
/// use std::time::Duration;
/// use oauth_client::RetryPolicy;
///
/// let policy = RetryPolicy::new(3).initial_backoff(Duration::from_millis(100));
/// assert_eq!(policy.backoff(1, None), Duration::from_millis(100));
/// assert_eq!(policy.backoff(3, None), Duration::from_millis(400));
/// assert_eq!(policy.backoff(1, Some(Duration::from_secs(2))), Duration::from_secs(2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl RetryPolicy {
    /// Up to `max_retries` retries after the first attempt; backoff from 200 ms up to 10 s.
    pub fn new(max_retries: u32) -> Self {
        RetryPolicy {
            max_retries,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
        }
    }

    /// The wait before the first retry.
    #[must_use]
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest wait between two attempts, `Retry-After` included.
    #[must_use]
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The number of retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The longest wait between two attempts.
    pub(crate) fn longest_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The wait before retry number `retry` (from 1), given the provider's `Retry-After`.
    pub fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = self.initial_backoff.saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)));
        exponential.max(retry_after.unwrap_or_default()).min(self.max_backoff)
    }
}

/// `Retry-After` in seconds, when the error is an HTTP response that carries one. (The
/// HTTP-date form is not read: providers send seconds for 429 and 503 in practice.)
pub(crate) fn retry_after(error: &Error) -> Option<Duration> {
    let Error::Http { headers, .. } = error else { return None };
    let seconds = headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds))
}

/// Why a request is sent again at once, without waiting: the trace's `reason`.
pub(crate) const USE_DPOP_NONCE: &str = "use_dpop_nonce";
/// A resource server called the token invalid (RFC 6750 §3.1): sent again with a new one.
pub(crate) const INVALID_TOKEN: &str = "invalid_token";
/// A team's client authentication asked for another attempt.
pub(crate) const CLIENT_AUTH_CHALLENGE: &str = "client_auth_challenge";

/// The one DEBUG event of an automatic retry (a nonce challenge, an invalid token), the same
/// at the authorization server's endpoints and at resource servers: the reason, and where
/// the request goes (host and path; never the query, which may hold a credential).
pub(crate) fn trace_automatic_retry(reason: &'static str, host: Option<&str>, path: &str) {
    crate::telemetry::automatic_retry(reason);
    tracing::debug!(reason, host = host.unwrap_or_default(), path, "sending the request again");
}
