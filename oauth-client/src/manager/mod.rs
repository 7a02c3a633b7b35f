//! A token manager: caches a token, refreshes it early and once under concurrency, hands
//! each new token to a callback (to persist a rotated refresh token), and can share tokens
//! through a [`TokenStore`] across managers and processes.
//!
//! ```no_run
//! use oauth_client::{ClientAuth, OAuthClient, TokenManager};
//! use oauth_client::manager::ClientCredentials;
//!
//! # async fn run() -> Result<(), oauth_client::Error> {
//! let client = OAuthClient::builder("https://auth.example.com/oauth2/token")
//!     .client_auth(ClientAuth::client_secret_basic("my-client", "my-secret"))
//!     .build()?;
//! let tokens = TokenManager::builder(client, ClientCredentials::new().scope("read")).build();
//!
//! // Anywhere, from any number of tasks: a valid token, fetched at most once at a time.
//! let api = reqwest::Client::new();
//! let response = tokens.bearer(api.get("https://api.example.com/things")).await?.send().await;
//! # let _ = response;
//! # Ok(()) }
//! ```
//!
//! How it behaves:
//!
//! - A token counts as expired [`leeway`](TokenManagerBuilder::leeway) (60 s by default)
//!   before its expiry, the leeway being at most half the token's lifetime (a token issued
//!   for 60 s is replaced after 30 s, not on every call) and a token being used for at least
//!   the second it was issued in; a token without an expiry never expires on its own.
//! - When many tasks ask while the token is missing or expiring, exactly one request goes to
//!   the provider and every waiter gets its result, success or error. The request runs in
//!   its own task, so a waiter that gives up does not cancel it for the others, and within
//!   a deadline ([`refresh_timeout`](TokenManagerBuilder::refresh_timeout)), so a hung source
//!   cannot wedge the manager. Reading a valid cached token takes no lock, and no write to
//!   memory another thread writes: each thread keeps a copy of the token it read last (of up
//!   to 16 managers), with its own handle on the access token, until the token changes.
//! - After a failed refresh, calls get the same error without a new request for
//!   [`failure_backoff`](TokenManagerBuilder::failure_backoff) (5 s by default).
//! - A refresh response without a refresh token keeps the previous one (RFC 6749 §6); one with
//!   a new refresh token replaces it. [`on_update`](TokenManagerBuilder::on_update) sees every
//!   new token before any caller does; if it panics or overruns its deadline, the token is
//!   still used and stored (a rotated refresh token is never dropped) and the failure is
//!   logged at `ERROR`.
//! - After a resource server rejects a token, [`invalidate`](TokenManager::invalidate) it (or
//!   call [`refresh_now`](TokenManager::refresh_now)); the next call fetches a new one, once.
//! - With a shared [`TokenStore`], a manager first looks for a valid token in the store, then
//!   refreshes under the store's lock — renewed for as long as the refresh runs — with the
//!   newest refresh token any manager stored, and saves the result only if no other manager
//!   saved since. Others wait for the new token, stop waiting when the refresh failed (the
//!   store publishes the failure), and take the lock over if its holder disappears. A slow
//!   store is waited for. While it is unreachable, client credentials are fetched directly;
//!   a refresh-token grant keeps its token until the token's actual expiry and then answers
//!   [`Error::StoreUnavailable`] rather than risk a replay that gets the grant revoked
//!   ([`refresh_when_store_unreachable`](TokenManagerBuilder::refresh_when_store_unreachable)).

mod current;
mod file_store;
#[cfg(feature = "metrics")]
mod metered;
#[cfg(feature = "redis")]
mod redis_store;
#[cfg(all(feature = "redis", feature = "rustls"))]
mod redis_tls;
mod refresh;
pub(crate) mod resource;
pub(crate) mod source;
mod store;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

pub use crate::clock::{Clock, SystemClock};
pub use file_store::FileStore;
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
pub use source::{AuthorizationCode, BoxFuture, ClientCredentials, PasswordGrant, TokenSource, from_fn};
pub use store::{
    MemoryStore, RefreshFailure, SharedKind, StoreError, StoreErrorKind, StoreLock, StoreSnapshot, TokenStore,
};

use crate::{AccessToken, Error, OAuthClient, OAuthToken};

type UpdateCallback = Box<dyn Fn(OAuthToken) -> BoxFuture<'static, ()> + Send + Sync>;
type Flight = watch::Receiver<Option<Result<Arc<OAuthToken>, Error>>>;

/// Hands out valid access tokens; see the [module docs](self). Cheap to clone: clones share
/// the cache.
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

struct Inner {
    client: OAuthClient,
    source: Box<dyn TokenSource>,
    settings: Settings,
    clock: Arc<dyn Clock>,
    on_update: Option<UpdateCallback>,
    store: Arc<dyn TokenStore>,
    /// Whether other managers share the store (one was given to the builder), so that a
    /// failed refresh is worth publishing there.
    shared: bool,
    key: String,
    /// The token handed out, and whether a resource server rejected it. Readers load it
    /// without a lock, most of the time without a shared write.
    current: current::CurrentToken,
    /// The refresh in progress, if any: callers that find the token invalid join it.
    flight: Mutex<Option<Flight>>,
    /// A token given to the builder that a shared store has not seen yet: the first refresh
    /// publishes it instead of calling the provider.
    seed: Mutex<Option<OAuthToken>>,
    /// The last failed refresh and until when (clock seconds) calls get it without a new try.
    failure: Mutex<Option<(Error, i64)>>,
    /// Cache hits, misses and waiters, counted on the read path (feature `metrics`).
    reads: crate::telemetry::ReadCounters,
    /// The client's DPoP state, captured at build: resource requests prove possession with
    /// it, and a shared store passes its token endpoint's nonce (with that origin) around.
    #[cfg(feature = "dpop")]
    dpop: Option<(Arc<crate::dpop::Dpop>, String)>,
}

/// The manager's timing, fixed at build time.
#[derive(Clone, Debug)]
struct Settings {
    leeway: i64,
    refresh_timeout: Duration,
    on_update_timeout: Duration,
    lock_ttl: Duration,
    failure_backoff: Duration,
    refresh_when_store_unreachable: bool,
}

impl Settings {
    /// The longest one flight may take: waiting for another holder's refresh (or for its
    /// lock to lapse), then a refresh of its own.
    fn flight_deadline(&self) -> Duration {
        self.refresh_timeout.saturating_mul(2).saturating_add(self.lock_ttl)
    }
}

struct Cached {
    token: Arc<OAuthToken>,
    /// When to replace it, in the clock's Unix seconds; `None` never.
    refresh_at: Option<i64>,
    /// The store version it was saved or loaded as; `None` when the store never saw it.
    version: Option<u64>,
    rejected: AtomicBool,
}

/// Configures a [`TokenManager`]; made by [`TokenManager::builder`].
#[must_use]
pub struct TokenManagerBuilder {
    client: OAuthClient,
    source: Box<dyn TokenSource>,
    leeway: Duration,
    clock: Arc<dyn Clock>,
    on_update: Option<UpdateCallback>,
    on_update_timeout: Duration,
    refresh_timeout: Option<Duration>,
    lock_ttl: Duration,
    failure_backoff: Duration,
    refresh_when_store_unreachable: bool,
    store: Option<(Arc<dyn TokenStore>, String)>,
    initial: Option<OAuthToken>,
}

impl TokenManager {
    /// A manager that gets tokens from `source` through `client`.
    pub fn builder(client: OAuthClient, source: impl TokenSource) -> TokenManagerBuilder {
        TokenManagerBuilder {
            client,
            source: Box::new(source),
            leeway: Duration::from_secs(60),
            clock: Arc::new(SystemClock),
            on_update: None,
            on_update_timeout: TokenManagerBuilder::DEFAULT_ON_UPDATE_TIMEOUT,
            refresh_timeout: None,
            lock_ttl: TokenManagerBuilder::DEFAULT_LOCK_TTL,
            failure_backoff: TokenManagerBuilder::DEFAULT_FAILURE_BACKOFF,
            refresh_when_store_unreachable: false,
            store: None,
            initial: None,
        }
    }

    /// A valid access token: the cached one, or a new one if it is missing or expiring.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        // The hot path: no lock, and no write to memory another thread writes (see `current`).
        let usable = |cached: &Cached, token: &AccessToken| self.inner.usable(cached).then(|| token.clone());
        if let Some(token) = self.inner.current.read(&self.inner.reads, usable) {
            return Ok(token);
        }
        self.inner.reads.miss();
        Ok(Inner::join_flight(&self.inner, false).await?.access_token.clone())
    }

    /// The whole valid token (scope, refresh token, `extra` such as `id_token`).
    pub async fn token(&self) -> Result<Arc<OAuthToken>, Error> {
        let usable =
            |cached: &Cached, _: &AccessToken| self.inner.usable(cached).then(|| Arc::clone(&cached.token));
        if let Some(token) = self.inner.current.read(&self.inner.reads, usable) {
            return Ok(token);
        }
        self.inner.reads.miss();
        Inner::join_flight(&self.inner, false).await
    }

    /// Sets `Authorization: Bearer <access token>` on a request — or, for a DPoP-bound token
    /// (cargo feature `dpop`), `Authorization: DPoP <access token>` and a proof for the
    /// request's method and URL with the server's last nonce. To also answer a resource
    /// server's nonce challenge, use [`send`](Self::send).
    pub async fn bearer(&self, request: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, Error> {
        let (http, request) = request.build_split();
        let mut request = request.map_err(resource::invalid_request)?;
        let url = request.url().clone();
        let method = request.method().clone();
        resource::ResourceCall::new(self).authorize(&method, Some(&url), request.headers_mut()).await?;
        Ok(reqwest::RequestBuilder::from_parts(http, request))
    }

    /// Marks `rejected` (a token a resource server refused with 401) as unusable: the next
    /// call gets a new token. A token other than the current one is ignored, so many tasks
    /// reporting the same rejection cause one refresh.
    pub fn invalidate(&self, rejected: &AccessToken) {
        if let Some(cached) = self.inner.cached()
            && cached.token.access_token == *rejected
        {
            cached.rejected.store(true, Ordering::Release);
        }
    }

    /// Gets a new token now, whatever the cached one's state; joins a refresh already running.
    pub async fn refresh_now(&self) -> Result<AccessToken, Error> {
        Ok(Inner::join_flight(&self.inner, true).await?.access_token.clone())
    }
}

impl core::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenManager")
            .field("client", &self.inner.client)
            .field("settings", &self.inner.settings)
            .field("key", &self.inner.key)
            .field("token", &self.inner.cached().map(|cached| Arc::clone(&cached.token)))
            .finish_non_exhaustive()
    }
}

impl TokenManagerBuilder {
    const DEFAULT_ON_UPDATE_TIMEOUT: Duration = Duration::from_secs(10);
    const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(10);
    const DEFAULT_FAILURE_BACKOFF: Duration = Duration::from_secs(5);

    /// How long before its expiry a token is replaced. Default: 60 s. For a token whose
    /// lifetime is shorter than twice this, half its lifetime is used instead.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The clock that decides expiry (default: the system clock). Tests use their own.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Called with each new token before any caller gets it, e.g. to persist a rotated
    /// refresh token. The refresh waits for it, at most
    /// [`on_update_timeout`](Self::on_update_timeout); if it panics or overruns, the token is
    /// used and stored all the same and the failure is logged at `ERROR`.
    pub fn on_update<F, Fut>(mut self, callback: F) -> Self
    where
        F: Fn(OAuthToken) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.on_update = Some(Box::new(move |token| Box::pin(callback(token))));
        self
    }

    /// How long a refresh waits for [`on_update`](Self::on_update). Default: 10 s.
    pub fn on_update_timeout(mut self, timeout: Duration) -> Self {
        self.on_update_timeout = timeout;
        self
    }

    /// How long getting one new token from the source may take, callback included, before
    /// the refresh fails with [`Error::Timeout`]. Default: the client's longest request (its
    /// timeout times the attempts its retry policy allows, plus the waits in between) plus
    /// the [`on_update_timeout`](Self::on_update_timeout). Set it for a [`from_fn`] source
    /// that does not use the client.
    pub fn refresh_timeout(mut self, timeout: Duration) -> Self {
        self.refresh_timeout = Some(timeout);
        self
    }

    /// How long a store lock lives without renewal. Default: 10 s. The holder renews it
    /// every third of that for as long as its refresh runs; if the holder dies, others take
    /// over after at most this long.
    pub fn store_lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl.max(Duration::from_millis(30));
        self
    }

    /// How long after a failed refresh calls get the same error instead of a new request
    /// (and, with a shared store, how long other managers do). Default: 5 s;
    /// `Duration::ZERO` retries on the next call.
    pub fn failure_backoff(mut self, backoff: Duration) -> Self {
        self.failure_backoff = backoff;
        self
    }

    /// Whether a manager with a shared store refreshes on its own while the store is
    /// unreachable, when its source refreshes with a refresh token
    /// ([`TokenSource::needs_coordination`]). Default: `false` — it keeps using its token
    /// until the token's actual expiry, then answers [`Error::StoreUnavailable`] until the
    /// store is back, because processes refreshing with the same refresh token at a rotating
    /// provider get the whole grant revoked. Turn it on for a provider that tolerates a
    /// replayed refresh token, or a deployment of one process. Client credentials are always
    /// fetched directly while the store is down.
    pub fn refresh_when_store_unreachable(mut self, allow: bool) -> Self {
        self.refresh_when_store_unreachable = allow;
        self
    }

    /// Shares tokens through `store` under `key` (e.g. one key per client and scope).
    pub fn store(mut self, store: Arc<dyn TokenStore>, key: impl Into<String>) -> Self {
        self.store = Some((store, key.into()));
        self
    }

    /// Starts from a token obtained elsewhere, e.g. by the authorization-code flow. With a
    /// shared [`store`](Self::store), the first call publishes it to the store, replacing
    /// what is there (it is taken as the newest login); managers in other processes then
    /// start from the store alone. Do not pass a token persisted long ago when the fleet may
    /// have rotated it since: build without it and the manager reads the store.
    pub fn initial_token(mut self, token: OAuthToken) -> Self {
        self.initial = Some(token);
        self
    }

    /// Builds the manager. Nothing is fetched until a token is asked for.
    pub fn build(self) -> TokenManager {
        let refresh_timeout = self
            .refresh_timeout
            .unwrap_or_else(|| self.client.request_budget().saturating_add(self.on_update_timeout));
        let settings = Settings {
            leeway: i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX),
            refresh_timeout,
            on_update_timeout: self.on_update_timeout,
            lock_ttl: self.lock_ttl,
            failure_backoff: self.failure_backoff,
            refresh_when_store_unreachable: self.refresh_when_store_unreachable,
        };
        let shared = self.store.is_some();
        let (store, mut key) =
            self.store.unwrap_or_else(|| (Arc::new(MemoryStore::new()), String::from("default")));
        // A shared store's calls are counted and timed (feature `metrics`).
        #[cfg(feature = "metrics")]
        let store: Arc<dyn TokenStore> = if shared { Arc::new(metered::MeteredStore(store)) } else { store };
        let reads = crate::telemetry::ReadCounters::new(self.source.kind());
        // Tokens for different resources (RFC 8707) must never be handed out for one another.
        let resources = self.source.resources();
        if !resources.is_empty() {
            key = format!("{key}#resource={}", resources.join(" "));
        }
        // A private store needs no publishing: the initial token is simply the current one.
        let (current, seed) = match self.initial {
            Some(token) if shared => (None, Some(token)),
            Some(mut token) => {
                token.complete_lifetime(self.clock.now());
                (Some(Arc::new(Cached::new(token, None, settings.leeway, self.clock.now()))), None)
            }
            None => (None, None),
        };
        TokenManager {
            inner: Arc::new(Inner {
                #[cfg(feature = "dpop")]
                dpop: self.client.dpop_state().map(|dpop| {
                    let origin = self
                        .client
                        .endpoint(crate::Endpoint::TOKEN)
                        .map(|url| url.origin().ascii_serialization())
                        .unwrap_or_default();
                    (dpop, origin)
                }),
                client: self.client.with_clock(Arc::clone(&self.clock)),
                source: self.source,
                settings,
                clock: self.clock,
                on_update: self.on_update,
                store,
                shared,
                key,
                current: current::CurrentToken::new(current),
                flight: Mutex::new(None),
                seed: Mutex::new(seed),
                failure: Mutex::new(None),
                reads,
            }),
        }
    }
}

impl Cached {
    fn new(token: OAuthToken, version: Option<u64>, leeway: i64, now: i64) -> Self {
        let refresh_at = refresh_at(&token, leeway, now);
        Cached { token: Arc::new(token), refresh_at, version, rejected: AtomicBool::new(false) }
    }

    /// The same token, to be handed out until `until` (Unix seconds).
    fn until(&self, until: i64) -> Self {
        Cached {
            token: Arc::clone(&self.token),
            refresh_at: Some(until),
            version: self.version,
            rejected: AtomicBool::new(false),
        }
    }
}

/// When to replace `token`: `leeway` before its expiry, but the leeway is at most half the
/// token's lifetime, and a token is kept for at least the second it was issued in (a token
/// that lives no longer than the leeway, or `expires_in: 0`, would otherwise be replaced on
/// every call). `None` for a token without an expiry. The lifetime is counted from issue
/// (`expiry - expires_in`), or from `now` for a token that has an expiry alone.
fn refresh_at(token: &OAuthToken, leeway: i64, now: i64) -> Option<i64> {
    let expiry = token.expiry?;
    let issued = token
        .expires_in
        .and_then(|lifetime| i64::try_from(lifetime).ok())
        .map_or(now, |lifetime| expiry.saturating_sub(lifetime))
        .min(expiry);
    let leeway = leeway.min(expiry.saturating_sub(issued) / 2);
    Some(expiry.saturating_sub(leeway).max(issued.saturating_add(1)))
}

/// A lock that a panic elsewhere cannot make unusable: every value kept under these locks
/// is whole after each assignment.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Clears the flight slot when the refresh task ends, even by a panic, so that the next
/// caller starts a new refresh instead of joining a dead one.
struct FlightGuard<'a>(&'a Inner);

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        *lock(&self.0.flight) = None;
    }
}

impl Inner {
    fn cached(&self) -> Option<Arc<Cached>> {
        self.current.load()
    }

    fn fresh(&self, token: &OAuthToken) -> bool {
        let now = self.clock.now();
        refresh_at(token, self.settings.leeway, now).is_none_or(|refresh_at| now < refresh_at)
    }

    fn usable(&self, cached: &Cached) -> bool {
        !cached.rejected.load(Ordering::Acquire)
            && cached.refresh_at.is_none_or(|refresh_at| self.clock.now() < refresh_at)
    }

    fn valid_cached(&self) -> Option<Arc<OAuthToken>> {
        self.cached().filter(|cached| self.usable(cached)).map(|cached| Arc::clone(&cached.token))
    }

    /// The last failure, while its backoff lasts.
    fn recent_failure(&self) -> Option<Error> {
        let failure = lock(&self.failure);
        failure.as_ref().filter(|(_, until)| self.clock.now() < *until).map(|(error, _)| error.clone())
    }

    fn remember_failure(&self, error: &Error) {
        let backoff =
            i64::try_from(self.settings.failure_backoff.as_millis().div_ceil(1000)).unwrap_or(i64::MAX);
        *lock(&self.failure) = Some((error.clone(), self.clock.now().saturating_add(backoff)));
    }

    async fn join_flight(this: &Arc<Inner>, force: bool) -> Result<Arc<OAuthToken>, Error> {
        let mut flight = {
            let mut slot = lock(&this.flight);
            if !force && let Some(token) = this.valid_cached() {
                return Ok(token);
            }
            match slot.as_ref() {
                Some(flight) => {
                    this.reads.waiter();
                    flight.clone()
                }
                None => {
                    if let Some(error) = this.recent_failure() {
                        crate::telemetry::backoff_rejection(this.source.kind());
                        return Err(error);
                    }
                    // Spawn before filling the slot: a call outside a runtime must leave the
                    // manager as it was.
                    let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
                    let (sender, receiver) = watch::channel(None);
                    let inner = Arc::clone(this);
                    // Its own task: the refresh completes even if every waiter is dropped. The
                    // guard's drop waits for this slot's lock, so it clears the slot only
                    // after the slot is filled below.
                    runtime.spawn(async move {
                        let guard = FlightGuard(&inner);
                        let deadline = inner.settings.flight_deadline();
                        let result = tokio::time::timeout(deadline, inner.obtain(force))
                            .await
                            .unwrap_or(Err(Error::Timeout));
                        if let Err(error) = &result {
                            inner.remember_failure(error);
                        }
                        drop(guard);
                        let _ = sender.send(Some(result));
                    });
                    *slot = Some(receiver.clone());
                    receiver
                }
            }
        };
        match flight.wait_for(Option::is_some).await {
            Ok(result) => result.clone().unwrap_or(Err(Error::Timeout)),
            Err(_) => Err(Error::refresh_unavailable("the refresh task ended without a result")),
        }
    }

    /// Caches `token` as the one to hand out.
    fn adopt(&self, token: OAuthToken, version: Option<u64>) -> Arc<OAuthToken> {
        let cached = Arc::new(Cached::new(token, version, self.settings.leeway, self.clock.now()));
        let token = Arc::clone(&cached.token);
        self.current.store(cached);
        token
    }
}
