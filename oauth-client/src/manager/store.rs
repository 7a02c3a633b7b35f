//! Where managers keep tokens so that several of them — in one process or across a fleet —
//! share one token instead of each calling the provider.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::source::BoxFuture;
use crate::OAuthToken;

/// A failure of the store itself (not of the provider). The manager then calls the
/// provider directly: a store outage never stops it from handing out tokens.
#[derive(Debug, thiserror::Error)]
#[error("token store: {0}")]
pub struct StoreError(pub Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// An error with this message.
    pub fn msg(message: impl Into<String>) -> Self {
        StoreError(message.into().into())
    }
}

/// Proof of holding a store's refresh lock for `key`, to hand back to [`TokenStore::unlock`].
#[derive(Debug)]
pub struct StoreLock {
    /// The key the lock guards.
    pub key: String,
    /// What identifies this holder, so that only it releases the lock.
    pub holder: String,
}

/// Shared token storage with a short refresh lock.
///
/// [`MemoryStore`] shares tokens between managers of one process; `RedisStore` (cargo
/// feature `redis`) across processes. A manager loads the shared token before calling the
/// provider, takes the lock to refresh (others wait for the new value), and saves what it
/// obtained.
pub trait TokenStore: Send + Sync + 'static {
    /// The token stored under `key`, if any.
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<OAuthToken>, StoreError>>;

    /// Stores `token` under `key`, replacing what was there.
    fn save<'a>(&'a self, key: &'a str, token: &'a OAuthToken) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Takes the refresh lock of `key` for at most `ttl`; `None` when another holder has it.
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<StoreLock>, StoreError>>;

    /// Releases a lock taken by [`try_lock`](Self::try_lock), unless it expired and another
    /// holder took it since.
    fn unlock(&self, lock: StoreLock) -> BoxFuture<'_, Result<(), StoreError>>;
}

/// An in-process [`TokenStore`]: managers that share one (behind an `Arc`) share tokens.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tokens: Mutex<HashMap<String, OAuthToken>>,
    locks: Mutex<HashMap<String, (String, Instant)>>,
    next_holder: std::sync::atomic::AtomicU64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::msg("a thread panicked while holding the memory store")
}

impl TokenStore for MemoryStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<OAuthToken>, StoreError>> {
        let result = self.tokens.lock().map_err(poisoned).map(|tokens| tokens.get(key).cloned());
        Box::pin(std::future::ready(result))
    }

    fn save<'a>(&'a self, key: &'a str, token: &'a OAuthToken) -> BoxFuture<'a, Result<(), StoreError>> {
        let result = self.tokens.lock().map_err(poisoned).map(|mut tokens| {
            tokens.insert(key.to_owned(), token.clone());
        });
        Box::pin(std::future::ready(result))
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<StoreLock>, StoreError>> {
        let result = self.locks.lock().map_err(poisoned).map(|mut locks| {
            let now = Instant::now();
            if locks.get(key).is_some_and(|(_, expires)| *expires > now) {
                return None;
            }
            let holder = self.next_holder.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string();
            locks.insert(key.to_owned(), (holder.clone(), now + ttl));
            Some(StoreLock { key: key.to_owned(), holder })
        });
        Box::pin(std::future::ready(result))
    }

    fn unlock(&self, lock: StoreLock) -> BoxFuture<'_, Result<(), StoreError>> {
        let result = self.locks.lock().map_err(poisoned).map(|mut locks| {
            if locks.get(&lock.key).is_some_and(|(holder, _)| *holder == lock.holder) {
                locks.remove(&lock.key);
            }
        });
        Box::pin(std::future::ready(result))
    }
}
