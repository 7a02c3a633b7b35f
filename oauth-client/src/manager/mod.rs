//! A token manager: caches a token, refreshes it early and once under concurrency, hands
//! each new token to a callback (to persist a rotated refresh token), and can share tokens
//! through a [`TokenStore`] across managers and processes.
//!
//! ```no_run
//! use oauth_client::{BasicAuth, OAuthClient, TokenManager};
//! use oauth_client::manager::ClientCredentials;
//!
//! # async fn run() -> Result<(), oauth_client::Error> {
//! let client = OAuthClient::new("https://auth.example.com/oauth2/token")?;
//! let auth = BasicAuth::new("my-client", "my-secret").header_value();
//! let tokens = TokenManager::builder(client, ClientCredentials::new(auth).scope("read")).build();
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
//!   before its expiry; a token without `expires_in` never expires on its own.
//! - When many tasks ask while the token is missing or expiring, exactly one request goes to
//!   the provider and every waiter gets its result, success or error; the next call after an
//!   error tries again. The request runs in its own task, so a waiter that gives up does not
//!   cancel it for the others. Reading a valid cached token takes no lock (an `arc-swap`
//!   load); its one write to shared memory is the token's reference count.
//! - A refresh response without a refresh token keeps the previous one (RFC 6749 §6); one with
//!   a new refresh token replaces it. [`on_update`](TokenManagerBuilder::on_update) sees every
//!   new token before any caller does.
//! - After a resource server rejects a token, [`invalidate`](TokenManager::invalidate) it (or
//!   call [`refresh_now`](TokenManager::refresh_now)); the next call fetches a new one, once.
//! - With a shared [`TokenStore`], a manager first looks for a valid token in the store, then
//!   refreshes under the store's lock while others wait for the new value; when the store
//!   fails, it calls the provider directly.

mod clock;
#[cfg(feature = "redis")]
mod redis_store;
mod source;
mod store;

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;
use std::time::Duration;

use tokio::sync::watch;

pub use clock::{Clock, SystemClock};
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
pub use source::{AuthorizationCode, BoxFuture, ClientCredentials, PasswordGrant, TokenSource, from_fn};
pub use store::{MemoryStore, StoreError, StoreLock, TokenStore};

use crate::{AccessToken, Error, OAuthClient, OAuthToken};

/// How long a refresh may hold a store's lock, and so how long others wait for its result
/// before calling the provider themselves.
const STORE_LOCK_TTL: Duration = Duration::from_secs(10);
/// How often a waiting manager looks for the lock holder's new token.
const STORE_POLL: Duration = Duration::from_millis(25);

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
    leeway: i64,
    clock: Arc<dyn Clock>,
    on_update: Option<UpdateCallback>,
    store: Arc<dyn TokenStore>,
    key: String,
    /// The token handed out, and whether a resource server rejected it. Readers load it
    /// without a lock.
    current: ArcSwapOption<Cached>,
    /// The refresh in progress, if any: callers that find the token invalid join it.
    flight: Mutex<Option<Flight>>,
}

struct Cached {
    token: Arc<OAuthToken>,
    /// When to replace it: expiry minus leeway, in the clock's Unix seconds; `None` never.
    refresh_at: Option<i64>,
    rejected: std::sync::atomic::AtomicBool,
}

/// Configures a [`TokenManager`]; made by [`TokenManager::builder`].
#[must_use]
pub struct TokenManagerBuilder {
    client: OAuthClient,
    source: Box<dyn TokenSource>,
    leeway: Duration,
    clock: Arc<dyn Clock>,
    on_update: Option<UpdateCallback>,
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
            store: None,
            initial: None,
        }
    }

    /// A valid access token: the cached one, or a new one if it is missing or expiring.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        // The hot path: no lock, no copy of the token's bytes; the one shared write is the
        // increment of the token's reference count (what a second thread contends on).
        if let Some(cached) = self.inner.current.load().as_deref()
            && self.inner.usable(cached)
        {
            return Ok(cached.token.access_token.clone());
        }
        Ok(Inner::join_flight(&self.inner, false).await?.access_token.clone())
    }

    /// The whole valid token (scope, refresh token, `extra` such as `id_token`).
    pub async fn token(&self) -> Result<Arc<OAuthToken>, Error> {
        match self.inner.valid_cached() {
            Some(token) => Ok(token),
            None => Inner::join_flight(&self.inner, false).await,
        }
    }

    /// Sets `Authorization: Bearer <access token>` on a request.
    pub async fn bearer(&self, request: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, Error> {
        Ok(request.bearer_auth(self.access_token().await?.secret()))
    }

    /// Marks `rejected` (a token a resource server refused with 401) as unusable: the next
    /// call gets a new token. A token other than the current one is ignored, so many tasks
    /// reporting the same rejection cause one refresh.
    pub fn invalidate(&self, rejected: &AccessToken) {
        if let Some(cached) = self.inner.cached()
            && cached.token.access_token == *rejected
        {
            cached.rejected.store(true, std::sync::atomic::Ordering::Release);
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
            .field("leeway_s", &self.inner.leeway)
            .field("key", &self.inner.key)
            .field("token", &self.inner.cached().map(|cached| Arc::clone(&cached.token)))
            .finish_non_exhaustive()
    }
}

impl TokenManagerBuilder {
    /// How long before its expiry a token is replaced. Default: 60 s.
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
    /// refresh token. The refresh waits for it.
    pub fn on_update<F, Fut>(mut self, callback: F) -> Self
    where
        F: Fn(OAuthToken) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.on_update = Some(Box::new(move |token| Box::pin(callback(token))));
        self
    }

    /// Shares tokens through `store` under `key` (e.g. one key per client and scope).
    pub fn store(mut self, store: Arc<dyn TokenStore>, key: impl Into<String>) -> Self {
        self.store = Some((store, key.into()));
        self
    }

    /// Starts from a token obtained elsewhere, e.g. by the authorization-code flow.
    pub fn initial_token(mut self, token: OAuthToken) -> Self {
        self.initial = Some(token);
        self
    }

    /// Builds the manager. Nothing is fetched until a token is asked for.
    pub fn build(self) -> TokenManager {
        let (store, key) =
            self.store.unwrap_or_else(|| (Arc::new(MemoryStore::new()), String::from("default")));
        let leeway = i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX);
        let current = self.initial.map(|token| Arc::new(Cached::new(token, leeway)));
        TokenManager {
            inner: Arc::new(Inner {
                client: self.client,
                source: self.source,
                leeway,
                clock: self.clock,
                on_update: self.on_update,
                store,
                key,
                current: ArcSwapOption::new(current),
                flight: Mutex::new(None),
            }),
        }
    }
}

impl Cached {
    fn new(token: OAuthToken, leeway: i64) -> Self {
        let refresh_at = refresh_at(&token, leeway);
        Cached { token: Arc::new(token), refresh_at, rejected: std::sync::atomic::AtomicBool::new(false) }
    }
}

/// When to replace `token`: its expiry minus `leeway`; `None` for a token that never expires.
fn refresh_at(token: &OAuthToken, leeway: i64) -> Option<i64> {
    token.expiry.map(|expiry| expiry.saturating_sub(leeway))
}

/// Clears the flight slot when the refresh task ends, even by a panic, so that the next
/// caller starts a new refresh instead of joining a dead one.
struct FlightGuard<'a>(&'a Inner);

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut flight) = self.0.flight.lock() {
            *flight = None;
        }
    }
}

impl Inner {
    fn cached(&self) -> Option<Arc<Cached>> {
        self.current.load_full()
    }

    fn fresh(&self, token: &OAuthToken) -> bool {
        refresh_at(token, self.leeway).is_none_or(|refresh_at| self.clock.now() < refresh_at)
    }

    fn usable(&self, cached: &Cached) -> bool {
        !cached.rejected.load(std::sync::atomic::Ordering::Acquire)
            && cached.refresh_at.is_none_or(|refresh_at| self.clock.now() < refresh_at)
    }

    fn valid_cached(&self) -> Option<Arc<OAuthToken>> {
        let cached = self.current.load();
        let cached = cached.as_deref()?;
        self.usable(cached).then(|| Arc::clone(&cached.token))
    }

    async fn join_flight(this: &Arc<Inner>, force: bool) -> Result<Arc<OAuthToken>, Error> {
        let mut flight = {
            let mut slot = this.flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if !force && let Some(token) = this.valid_cached() {
                return Ok(token);
            }
            match slot.as_ref() {
                Some(flight) => flight.clone(),
                None => {
                    let (sender, receiver) = watch::channel(None);
                    *slot = Some(receiver.clone());
                    let inner = Arc::clone(this);
                    // Its own task: the refresh completes even if every waiter is dropped.
                    tokio::spawn(async move {
                        let guard = FlightGuard(&inner);
                        let result = inner.obtain(force).await;
                        drop(guard);
                        let _ = sender.send(Some(result));
                    });
                    receiver
                }
            }
        };
        match flight.wait_for(Option::is_some).await {
            Ok(result) => result.clone().expect("waited for a result"),
            Err(_) => Err(Error::RefreshUnavailable(
                "the refresh task ended without a result (did on_update panic?)".into(),
            )),
        }
    }

    /// Gets a new token: from the store if another manager refreshed it, else from the
    /// provider under the store's lock.
    async fn obtain(&self, force: bool) -> Result<Arc<OAuthToken>, Error> {
        let cached = self.cached();
        let previous = cached.as_ref().map(|cached| Arc::clone(&cached.token));
        // After `invalidate`/`refresh_now`, the stored copy of the current token is no good either.
        let rejected =
            force || cached.is_some_and(|cached| cached.rejected.load(std::sync::atomic::Ordering::Acquire));
        let usable = |shared: &OAuthToken| {
            self.fresh(shared)
                && !(rejected && previous.as_ref().is_some_and(|p| p.access_token == shared.access_token))
        };

        match self.store.load(&self.key).await {
            Ok(Some(shared)) if usable(&shared) => return Ok(self.adopt(shared)),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "token store unavailable; calling the provider directly");
                return self.fetch(previous.as_deref()).await;
            }
        }
        match self.store.try_lock(&self.key, STORE_LOCK_TTL).await {
            Ok(Some(lock)) => {
                let result = match self.store.load(&self.key).await {
                    Ok(Some(shared)) if usable(&shared) => Ok(self.adopt(shared)),
                    _ => self.fetch(previous.as_deref()).await,
                };
                if let Err(error) = self.store.unlock(lock).await {
                    tracing::warn!(%error, "could not release the token store lock; it expires by itself");
                }
                result
            }
            Ok(None) => {
                // Another manager is refreshing: wait for its token rather than call the provider.
                let deadline = tokio::time::Instant::now() + STORE_LOCK_TTL;
                while tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(STORE_POLL).await;
                    match self.store.load(&self.key).await {
                        Ok(Some(shared)) if usable(&shared) => return Ok(self.adopt(shared)),
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                tracing::warn!("no new token in the store in time; calling the provider directly");
                self.fetch(previous.as_deref()).await
            }
            Err(error) => {
                tracing::warn!(%error, "token store lock unavailable; calling the provider directly");
                self.fetch(previous.as_deref()).await
            }
        }
    }

    /// Asks the source, keeps the refresh token if the response has none, tells `on_update`,
    /// saves to the store and caches.
    async fn fetch(&self, previous: Option<&OAuthToken>) -> Result<Arc<OAuthToken>, Error> {
        let mut token = self.source.fetch(&self.client, previous).await?;
        // The manager's clock decides expiry, so that it agrees with `fresh`.
        token.expiry = token
            .expires_in
            .map(|seconds| self.clock.now().saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX)));
        if token.refresh_token.is_none() {
            token.refresh_token = previous.and_then(|previous| previous.refresh_token.clone());
        }
        if let Some(on_update) = &self.on_update {
            on_update(token.clone()).await;
        }
        if let Err(error) = self.store.save(&self.key, &token).await {
            tracing::warn!(%error, "could not share the new token through the store");
        }
        Ok(self.adopt(token))
    }

    fn adopt(&self, token: OAuthToken) -> Arc<OAuthToken> {
        let cached = Arc::new(Cached::new(token, self.leeway));
        let token = Arc::clone(&cached.token);
        self.current.store(Some(cached));
        token
    }
}
