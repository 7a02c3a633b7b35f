//! Where managers keep tokens so that several of them — in one process or across a fleet —
//! share one token instead of each calling the provider.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::source::BoxFuture;
use crate::{Error, OAuthProviderError, OAuthToken};

/// A failure of the store itself (not of the provider).
///
/// Its [`kind`](StoreError::kind) tells the manager what to do: wait for a
/// [`Slow`](StoreErrorKind::Slow) store (a store that answers late still coordinates the
/// fleet), call the provider directly when the store is
/// [`Unreachable`](StoreErrorKind::Unreachable) (an outage never stops a manager from
/// handing out tokens).
#[derive(Debug, thiserror::Error)]
#[error("token store ({kind:?}): {source}")]
pub struct StoreError {
    kind: StoreErrorKind,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// What kind of store failure a [`StoreError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store did not answer in time, but is there: the manager tries it again.
    Slow,
    /// The store cannot be reached (connection refused or lost): the manager works without it.
    Unreachable,
    /// Anything else (a value that does not encode, a poisoned lock, ...): as `Unreachable`.
    Other,
}

impl StoreError {
    /// A store failure of `kind`, caused by `source`.
    pub fn new(kind: StoreErrorKind, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError { kind, source: source.into() }
    }

    /// An [`Other`](StoreErrorKind::Other) failure with this message.
    pub fn msg(message: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::Other, message.into())
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

/// What a store holds under one key: the newest token any manager saved, its version, and
/// a recent failed refresh, if any.
#[derive(Clone, Debug, Default)]
pub struct StoreSnapshot {
    /// The newest saved token.
    pub token: Option<OAuthToken>,
    /// Its version; `0` when nothing is stored. Pass it to [`TokenStore::save`].
    pub version: u64,
    /// A refresh that failed within its backoff, published by
    /// [`TokenStore::publish_failure`].
    pub failure: Option<RefreshFailure>,
}

/// Proof of holding a store's refresh lock for `key`, to renew and hand back.
#[derive(Clone, Debug)]
pub struct StoreLock {
    /// The key the lock guards.
    pub key: String,
    /// What identifies this holder, so that only it renews and releases the lock.
    pub holder: String,
}

/// A failed refresh as other managers sharing the store learn of it: enough to hand their
/// callers the same kind of error without calling the provider themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFailure {
    /// Tells one failure from the next, so a waiter sees when a new one is published.
    pub id: u64,
    /// The HTTP status of the provider's answer, if there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The provider's error object, if it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_error: Option<OAuthProviderError>,
    /// Whether the token cannot be refreshed without the user ([`Error::RefreshUnavailable`]).
    #[serde(default)]
    pub needs_user: bool,
    /// The error's message (it carries no secret: [`Error`]s never do).
    pub message: String,
}

/// The status a shared failure recorded (a number in the store), as a status again; an
/// invalid one reads as 400, the status of a refused grant.
fn provider_status(status: u16) -> reqwest::StatusCode {
    reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_REQUEST)
}

impl RefreshFailure {
    /// The failure as others will see it.
    pub(crate) fn of(error: &Error) -> Self {
        let mut id = [0u8; 8];
        // A failure to get randomness only risks a waiter missing this failure (it then waits
        // for the lock and tries itself).
        let _ = getrandom::fill(&mut id);
        RefreshFailure {
            id: u64::from_le_bytes(id),
            status: error.status().map(|status| status.as_u16()),
            provider_error: error.provider_error().cloned(),
            needs_user: matches!(error, Error::RefreshUnavailable { .. }),
            // Kept without the variant's own prefix, which `to_error` adds back.
            message: match error {
                Error::RefreshUnavailable { reason: message, .. }
                | Error::SharedRefreshFailed { message } => message.clone(),
                other => other.to_string(),
            },
        }
    }

    /// The error a caller of another manager gets for it.
    pub(crate) fn to_error(&self) -> Error {
        match (&self.provider_error, self.status) {
            // The provider's refusal travels with it, as the original's source.
            _ if self.needs_user => Error::RefreshUnavailable {
                reason: self.message.clone(),
                source: self.provider_error.clone().map(|error| {
                    let status = provider_status(self.status.unwrap_or(400));
                    Box::new(Error::Provider { status, error: Box::new(error), headers: Box::default() })
                }),
            },
            (Some(error), Some(status)) => Error::Provider {
                status: provider_status(status),
                error: Box::new(error.clone()),
                headers: Box::default(),
            },
            _ => Error::SharedRefreshFailed { message: self.message.clone() },
        }
    }
}

/// Shared token storage with a refresh lock.
///
/// The contract a store keeps, and why:
///
/// - **Versions, compared and set.** Every saved token gets a version greater than the one it
///   replaces; [`save`](TokenStore::save) lands only if the stored version is still the one
///   the saver read. A manager whose lock expired while its refresh hung cannot overwrite the
///   newer token another manager saved meanwhile.
/// - **A lock that is renewed while held.** The lock has a short time to live, so a crashed
///   holder blocks others only briefly, and the holder renews it for as long as its refresh
///   runs, so a slow provider does not let a second manager in to replay the refresh token.
/// - **Published failures.** A failed refresh is recorded for a short while, so managers
///   waiting for it stop waiting, and none calls the provider again right away.
/// - **Refresh tokens outlive access tokens.** A store keeps a token with a refresh token
///   for the refresh token's lifetime, not the access token's.
///
/// [`MemoryStore`] shares tokens between managers of one process; `RedisStore` (cargo
/// feature `redis`) across processes. A manager loads the snapshot before calling the
/// provider, takes the lock to refresh (others wait for the new value or a published
/// failure, and take the lock over if its holder disappears), and saves what it obtained
/// against the version it read.
pub trait TokenStore: Send + Sync + 'static {
    /// What is stored under `key`.
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<StoreSnapshot, StoreError>>;

    /// Stores `token` under `key` if the stored version is still `expected_version` (`0`:
    /// nothing stored), and returns its new, greater version; `None` when another manager
    /// saved since (nothing is written then).
    fn save<'a>(
        &'a self,
        key: &'a str,
        token: &'a OAuthToken,
        expected_version: u64,
    ) -> BoxFuture<'a, Result<Option<u64>, StoreError>>;

    /// Removes the token under `key` (a sign-out): the next [`load`](Self::load) finds none,
    /// under a new version, so that a save against the version read before fails. Default:
    /// an error saying this store cannot.
    fn remove<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = key;
        Box::pin(std::future::ready(Err(StoreError::msg(
            "this store cannot remove a token (TokenStore::remove)",
        ))))
    }

    /// Takes the refresh lock of `key` for `ttl`; `None` when another holder has it.
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<StoreLock>, StoreError>>;

    /// Extends a held lock to `ttl` from now; `false` when it is no longer this holder's.
    fn renew<'a>(&'a self, lock: &'a StoreLock, ttl: Duration) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Releases a lock, unless it expired and another holder took it since.
    fn unlock(&self, lock: StoreLock) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Records a failed refresh under `key` for `ttl`, for [`load`](Self::load) to report.
    fn publish_failure<'a>(
        &'a self,
        key: &'a str,
        failure: &'a RefreshFailure,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// A value of `kind` called `name` that a process sharing this store saved and that has
    /// not expired. Default: none kept.
    fn load_shared<'a>(
        &'a self,
        kind: SharedKind,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        let _ = (kind, name);
        Box::pin(std::future::ready(Ok(None)))
    }

    /// Keeps `value` as the value of `kind` called `name` for `ttl` (zero: not kept). Default:
    /// not kept.
    fn save_shared<'a>(
        &'a self,
        kind: SharedKind,
        name: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (kind, name, value, ttl);
        Box::pin(std::future::ready(Ok(())))
    }
}

/// What a fleet shares through its [`TokenStore`] besides tokens, so that one process's fetch
/// or challenge serves them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SharedKind {
    /// The last DPoP nonce (RFC 9449 §8) a server gave, by the server's origin: a manager's
    /// first proof then carries it.
    DpopNonce,
    /// A provider's key set (the JSON a key-set cache keeps), by its `jwks_uri`
    /// (`oidc::JwksCache::shared_through`): a fleet fetches it once.
    KeySet,
    /// A client registered dynamically (RFC 7591), by the authorization server's issuer
    /// (`resource_access::ResourceAccessBuilder::store`): the next run, or another process,
    /// is the same client there instead of registering again. It holds the client secret.
    ClientRegistration,
}

impl SharedKind {
    /// A short name for the kind, for stores that keep every kind in one namespace.
    ///
    /// ```
    /// assert_eq!(oauth_client::manager::SharedKind::KeySet.name(), "jwks");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            SharedKind::DpopNonce => "dpop-nonce",
            SharedKind::KeySet => "jwks",
            SharedKind::ClientRegistration => "client-registration",
        }
    }
}

/// A version for a token saved now that is greater than `current`: milliseconds since the
/// Unix epoch, so versions keep growing even after a stored entry expired and a new one
/// starts.
pub(crate) fn next_version(current: u64, now: SystemTime) -> u64 {
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX));
    now_ms.max(current.saturating_add(1))
}

/// An in-process [`TokenStore`]: managers that share one (behind an `Arc`) share tokens.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Entry>>,
    shared: Mutex<HashMap<(SharedKind, String), (String, Instant)>>,
    next_holder: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct Entry {
    token: Option<OAuthToken>,
    version: u64,
    failure: Option<(RefreshFailure, Instant)>,
    lock: Option<(String, Instant)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_entry<T>(&self, key: &str, change: impl FnOnce(&mut Entry) -> T) -> Result<T, StoreError> {
        // A panic while holding the map cannot leave an entry half-written: every change
        // below is a set of plain assignments.
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(change(entries.entry(key.to_owned()).or_default()))
    }
}

impl TokenStore for MemoryStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<StoreSnapshot, StoreError>> {
        let result = self.with_entry(key, |entry| StoreSnapshot {
            token: entry.token.clone(),
            version: entry.version,
            failure: entry
                .failure
                .as_ref()
                .filter(|(_, until)| Instant::now() < *until)
                .map(|(f, _)| f.clone()),
        });
        Box::pin(std::future::ready(result))
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        token: &'a OAuthToken,
        expected_version: u64,
    ) -> BoxFuture<'a, Result<Option<u64>, StoreError>> {
        let result = self.with_entry(key, |entry| {
            if entry.version != expected_version {
                return None;
            }
            entry.version = next_version(entry.version, SystemTime::now());
            entry.token = Some(token.clone());
            entry.failure = None;
            Some(entry.version)
        });
        Box::pin(std::future::ready(result))
    }

    fn remove<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let result = self.with_entry(key, |entry| {
            entry.version = next_version(entry.version, SystemTime::now());
            entry.token = None;
            entry.failure = None;
        });
        Box::pin(std::future::ready(result))
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<StoreLock>, StoreError>> {
        let result = self.with_entry(key, |entry| {
            let now = Instant::now();
            if entry.lock.as_ref().is_some_and(|(_, expires)| *expires > now) {
                return None;
            }
            let holder = self.next_holder.fetch_add(1, Ordering::Relaxed).to_string();
            entry.lock = Some((holder.clone(), now + ttl));
            Some(StoreLock { key: key.to_owned(), holder })
        });
        Box::pin(std::future::ready(result))
    }

    fn renew<'a>(&'a self, lock: &'a StoreLock, ttl: Duration) -> BoxFuture<'a, Result<bool, StoreError>> {
        let result = self.with_entry(&lock.key, |entry| match &mut entry.lock {
            Some((holder, expires)) if *holder == lock.holder && *expires > Instant::now() => {
                *expires = Instant::now() + ttl;
                true
            }
            _ => false,
        });
        Box::pin(std::future::ready(result))
    }

    fn unlock(&self, lock: StoreLock) -> BoxFuture<'_, Result<(), StoreError>> {
        let result = self.with_entry(&lock.key, |entry| {
            if entry.lock.as_ref().is_some_and(|(holder, _)| *holder == lock.holder) {
                entry.lock = None;
            }
        });
        Box::pin(std::future::ready(result))
    }

    fn publish_failure<'a>(
        &'a self,
        key: &'a str,
        failure: &'a RefreshFailure,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let result = self.with_entry(key, |entry| {
            entry.failure = Some((failure.clone(), Instant::now() + ttl));
        });
        Box::pin(std::future::ready(result))
    }

    fn load_shared<'a>(
        &'a self,
        kind: SharedKind,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        let shared = self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let live = shared
            .get(&(kind, name.to_owned()))
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(value, _)| value.clone());
        Box::pin(std::future::ready(Ok(live)))
    }

    fn save_shared<'a>(
        &'a self,
        kind: SharedKind,
        name: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut shared = self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        shared.insert((kind, name.to_owned()), (value.to_owned(), Instant::now() + ttl));
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::RefreshFailure;
    use crate::Error;

    /// A failure shared through the store reads as the original did: the variant's prefix
    /// once (it appeared twice, "cannot be refreshed: the token cannot be refreshed: ...").
    #[test]
    fn a_shared_failure_keeps_its_message_without_a_doubled_prefix() {
        let original = Error::refresh_unavailable("the provider refused the refresh token; authorize again");
        let shared = RefreshFailure::of(&original).to_error();
        assert!(matches!(shared, Error::RefreshUnavailable { source: None, .. }));
        assert_eq!(shared.to_string(), original.to_string());
        let timeout = RefreshFailure::of(&Error::Timeout).to_error();
        assert_eq!(
            timeout.to_string(),
            "the shared token could not be refreshed moments ago: the request to the provider timed out"
        );
    }

    /// Values of different kinds never collide, and each lives as long as it was saved for.
    #[test]
    fn the_memory_store_keeps_shared_values_by_kind_and_for_their_lifetime() {
        use std::time::Duration;

        use super::{MemoryStore, SharedKind, TokenStore as _};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let store = MemoryStore::default();
            let name = "https://as.example";
            store.save_shared(SharedKind::DpopNonce, name, "nonce-1", Duration::from_secs(60)).await.unwrap();
            assert_eq!(
                store.load_shared(SharedKind::DpopNonce, name).await.unwrap().as_deref(),
                Some("nonce-1")
            );
            assert_eq!(store.load_shared(SharedKind::KeySet, name).await.unwrap(), None, "another kind");
            store.save_shared(SharedKind::KeySet, name, "{}", Duration::ZERO).await.unwrap();
            assert_eq!(store.load_shared(SharedKind::KeySet, name).await.unwrap(), None, "expired at once");
        });
    }

    /// A removed token is gone under a new version: a save against the version read before
    /// the removal (a refresh that was under way) fails, and the next load finds nothing.
    async fn removes_a_token_under_a_new_version(store: &dyn super::TokenStore) {
        let token: crate::OAuthToken =
            serde_json::from_str(r#"{"access_token":"a","token_type":"Bearer","refresh_token":"r"}"#)
                .unwrap();
        let saved = store.save("session", &token, 0).await.unwrap().expect("saved");
        store.remove("session").await.unwrap();
        let after = store.load("session").await.unwrap();
        assert!(after.token.is_none());
        assert!(after.version > saved);
        assert_eq!(store.save("session", &token, saved).await.unwrap(), None, "a stale save fails");
        assert!(store.load("session").await.unwrap().token.is_none());
    }

    #[test]
    fn the_memory_and_file_stores_remove_a_token_under_a_new_version() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = std::env::temp_dir().join(format!("oauth-remove-{}", std::process::id()));
        runtime.block_on(async {
            removes_a_token_under_a_new_version(&super::MemoryStore::new()).await;
            removes_a_token_under_a_new_version(&crate::manager::FileStore::open(&dir).unwrap()).await;
        });
        std::fs::remove_dir_all(dir).unwrap();
    }
}
