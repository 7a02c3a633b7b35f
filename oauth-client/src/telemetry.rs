//! What the library counts, through the [`metrics`](https://docs.rs/metrics) facade (cargo
//! feature `metrics`; without it every function here is empty and compiles away). The
//! program's recorder — Prometheus, OpenTelemetry, StatsD — receives the values; none is
//! installed here. Names follow OpenTelemetry's dotted style (a Prometheus exporter writes
//! `oauth_client_requests_total`); labels have few values each: endpoint, grant or source
//! kind, outcome, a standard error code — never a token, a client or a user.
//!
//! The README's "Operating a fleet" lists each metric with what to alert on.

#[cfg(feature = "metrics")]
use crate::Error;

/// Token-endpoint and other provider requests, after their attempts: `endpoint`, `grant`,
/// `outcome`, `error`.
pub const REQUESTS: &str = "oauth_client.requests";
/// Their duration in seconds, attempts and retries included: `endpoint`, `outcome`.
pub const REQUEST_DURATION: &str = "oauth_client.request.duration";
/// Requests sent again at once because the answer asked for it: `reason`
/// (`use_dpop_nonce`, `invalid_token`, `client_auth_challenge`).
pub const AUTOMATIC_RETRIES: &str = "oauth_client.automatic_retries";
/// Token-manager reads: `source`, `result` (`hit`: the cached token; `miss`: the caller
/// waited for a refresh or for the store).
pub const MANAGER_READS: &str = "oauth_client.token_manager.reads";
/// Callers that joined a refresh another caller of the same manager had started: `source`.
pub const MANAGER_WAITERS: &str = "oauth_client.token_manager.waiters";
/// Refreshes by their end: `source`, `outcome` (`fetched`: this manager asked the provider;
/// `from_store`: another manager's token was taken; `failed`).
pub const MANAGER_REFRESHES: &str = "oauth_client.token_manager.refreshes";
/// Calls answered with the last failure while the manager backs off: `source`.
pub const MANAGER_BACKOFF_REJECTIONS: &str = "oauth_client.token_manager.backoff_rejections";
/// Token-store calls: `operation`, `outcome` (`ok`, `slow`, `unreachable`, `error`).
pub const STORE_OPERATIONS: &str = "oauth_client.store.operations";
/// Their duration in seconds: `operation`.
pub const STORE_OPERATION_DURATION: &str = "oauth_client.store.operation.duration";
/// What a manager did because the store could not coordinate a refresh: `action`
/// (`direct_fetch`, `kept_token`, `refused`).
pub const STORE_FALLBACKS: &str = "oauth_client.store.fallbacks";
/// Key-set (JWKS) fetches: `outcome` (`ok`, `error`).
pub const JWKS_FETCHES: &str = "oauth_client.jwks.fetches";

/// When something measured started; without the feature it reads no clock and holds nothing.
pub(crate) struct Stopwatch(#[cfg(feature = "metrics")] std::time::Instant);

impl Stopwatch {
    pub(crate) fn start() -> Self {
        Stopwatch(
            #[cfg(feature = "metrics")]
            std::time::Instant::now(),
        )
    }

    #[cfg(feature = "metrics")]
    fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// A provider request ended.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn request_finished<T>(
    endpoint: &'static str,
    grant: &'static str,
    result: &Result<T, crate::Error>,
    started: &Stopwatch,
) {
    #[cfg(feature = "metrics")]
    {
        let (outcome, error) = match result {
            Ok(_) => ("success", "none"),
            Err(error) => outcome_of(error),
        };
        let labels = [("endpoint", endpoint), ("grant", grant), ("outcome", outcome), ("error", error)];
        metrics::counter!(REQUESTS, &labels).increment(1);
        metrics::histogram!(REQUEST_DURATION, "endpoint" => endpoint, "outcome" => outcome)
            .record(started.seconds());
    }
}

/// An error's `outcome` label and its `error` label (a standard code, else `other`).
#[cfg(feature = "metrics")]
fn outcome_of(error: &Error) -> (&'static str, &'static str) {
    match error {
        Error::Provider { error, .. } => ("provider_error", standard_code(error.error.as_str())),
        Error::Http { .. } => ("http_error", "none"),
        Error::Timeout => ("timeout", "none"),
        Error::Transport(_) => ("transport_error", "none"),
        Error::Decode { .. } | Error::UnexpectedRedirect { .. } | Error::ResponseTooLarge { .. } => {
            ("invalid_response", "none")
        }
        _ => ("other", "none"),
    }
}

/// A provider's error code as a label: the codes of RFC 6749, 7009, 8628, 8693, 9449 and
/// 6750 as they are, anything else `other` (a provider's own codes would grow the series).
#[cfg(feature = "metrics")]
fn standard_code(code: &str) -> &'static str {
    const STANDARD: [&str; 22] = [
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
        "server_error",
        "temporarily_unavailable",
        "authorization_pending",
        "slow_down",
        "expired_token",
        "unsupported_token_type",
        "invalid_target",
        "invalid_dpop_proof",
        "use_dpop_nonce",
        "invalid_token",
        "insufficient_scope",
        "invalid_authorization_details",
        "interaction_required",
        "login_required",
        "consent_required",
    ];
    STANDARD.into_iter().find(|standard| *standard == code).unwrap_or("other")
}

/// A request is sent again at once because its answer asked for it.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn automatic_retry(reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(AUTOMATIC_RETRIES, "reason" => reason).increment(1);
}

/// A token manager's read counters, registered once at build (handles registered before the
/// program installs its recorder count nowhere, so install it before building managers).
/// Cache hits are counted per thread ([`ThreadHits`]), the others here.
pub(crate) struct ReadCounters {
    #[cfg(feature = "metrics")]
    hit: metrics::Counter,
    #[cfg(feature = "metrics")]
    miss: metrics::Counter,
    #[cfg(feature = "metrics")]
    waiter: metrics::Counter,
}

impl ReadCounters {
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn new(source: &'static str) -> Self {
        ReadCounters {
            #[cfg(feature = "metrics")]
            hit: metrics::counter!(MANAGER_READS, "source" => source, "result" => "hit"),
            #[cfg(feature = "metrics")]
            miss: metrics::counter!(MANAGER_READS, "source" => source, "result" => "miss"),
            #[cfg(feature = "metrics")]
            waiter: metrics::counter!(MANAGER_WAITERS, "source" => source),
        }
    }

    /// The cached token was handed out where no thread's count could be kept.
    pub(crate) fn hit(&self) {
        #[cfg(feature = "metrics")]
        self.hit.increment(1);
    }

    /// A count of cache hits for one thread to keep.
    pub(crate) fn thread_hits(&self) -> ThreadHits {
        ThreadHits {
            #[cfg(feature = "metrics")]
            counter: self.hit.clone(),
            #[cfg(feature = "metrics")]
            pending: 0,
        }
    }

    /// The caller had to wait for a refresh or the store.
    pub(crate) fn miss(&self) {
        #[cfg(feature = "metrics")]
        self.miss.increment(1);
    }

    /// The caller joined a refresh already running.
    pub(crate) fn waiter(&self) {
        #[cfg(feature = "metrics")]
        self.waiter.increment(1);
    }
}

/// One thread's cache hits of one manager, handed to the recorder 64 at a time and when
/// dropped (the thread's copy of the token replaced, the manager dropped, the thread ended).
/// A recorder's counter is an atomic add on memory every reading thread writes: on the read
/// path that is more than the rest of it together, and it grows with the threads.
pub(crate) struct ThreadHits {
    #[cfg(feature = "metrics")]
    counter: metrics::Counter,
    #[cfg(feature = "metrics")]
    pending: u64,
}

/// Hits handed to the recorder at once.
#[cfg(feature = "metrics")]
const HIT_BATCH: u64 = 64;

impl ThreadHits {
    /// The cached token was handed out.
    #[inline]
    pub(crate) fn count(&mut self) {
        #[cfg(feature = "metrics")]
        {
            self.pending += 1;
            if self.pending == HIT_BATCH {
                self.counter.increment(HIT_BATCH);
                self.pending = 0;
            }
        }
    }
}

#[cfg(feature = "metrics")]
impl Drop for ThreadHits {
    fn drop(&mut self) {
        if self.pending > 0 {
            // Also called while the thread ends: a recorder that panics then (its own
            // thread-locals gone, say) must not abort the host, so its panic stops here.
            let counter = &self.counter;
            let pending = self.pending;
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| counter.increment(pending)));
        }
    }
}

/// A manager's refresh ended: `fetched`, `from_store` or `failed`.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn refresh(source: &'static str, outcome: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(MANAGER_REFRESHES, "source" => source, "outcome" => outcome).increment(1);
}

/// A call got the last failure again, without a request, during the backoff.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn backoff_rejection(source: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(MANAGER_BACKOFF_REJECTIONS, "source" => source).increment(1);
}

/// A token-store call ended as `outcome` (`ok`, `slow`, `unreachable`, `error`); the
/// managers' stores are wrapped only with the feature.
#[cfg(feature = "metrics")]
pub(crate) fn store_operation(operation: &'static str, outcome: &'static str, started: &Stopwatch) {
    metrics::counter!(STORE_OPERATIONS, "operation" => operation, "outcome" => outcome).increment(1);
    metrics::histogram!(STORE_OPERATION_DURATION, "operation" => operation).record(started.seconds());
}

/// The store could not coordinate a refresh; the manager did `action`.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn store_fallback(action: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(STORE_FALLBACKS, "action" => action).increment(1);
}

/// A key set was fetched (`ok`) or could not be (`error`).
#[cfg(feature = "oidc")]
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn jwks_fetch(ok: bool) {
    #[cfg(feature = "metrics")]
    metrics::counter!(JWKS_FETCHES, "outcome" => if ok { "ok" } else { "error" }).increment(1);
}
