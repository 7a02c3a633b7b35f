//! One refresh: from the store if another manager already has a new token, else from the
//! source under the store's lock, then to the callback, the store and the cache.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[cfg(feature = "dpop")]
use super::store::SharedKind;
use super::store::{RefreshFailure, StoreError, StoreErrorKind, StoreLock, StoreSnapshot};
use super::{Inner, lock};
use crate::{Error, OAuthToken};

/// How often a waiting manager looks for the lock holder's new token or failure.
const STORE_POLL: Duration = Duration::from_millis(50);

/// What the refresh starts from: the token being replaced, as the cache or the store has it.
struct Base {
    /// The newest token known, whose refresh token the source uses.
    token: Option<OAuthToken>,
    /// Whether the current token was rejected (or a refresh forced): a stored copy of it is
    /// no good either.
    rejected: Option<crate::AccessToken>,
    /// The cached token's store version (`None`: the store never saw it).
    version: Option<u64>,
}

impl Inner {
    /// Gets a new token, through the store when it is reachable.
    pub(super) async fn obtain(&self, force: bool) -> Result<Arc<OAuthToken>, Error> {
        let cached = self.cached();
        let rejected = cached
            .as_ref()
            .filter(|cached| force || cached.rejected.load(Ordering::Acquire))
            .map(|cached| cached.token.access_token.clone());
        let mut base = Base {
            token: cached.as_ref().map(|cached| OAuthToken::clone(&cached.token)),
            rejected,
            version: cached.as_ref().and_then(|cached| cached.version),
        };
        let seed = lock(&self.seed).take();
        if let Some(seed) = seed {
            let (seed, version) = self.publish_seed(seed).await;
            if self.fresh(&seed) && !force {
                return Ok(self.adopt(seed, version));
            }
            // An expired seed is where the refresh starts.
            base = Base { token: Some(seed), rejected: None, version };
        }

        let snapshot = match self.patiently(|| self.store.load(&self.key)).await {
            Ok(snapshot) => snapshot,
            Err(error) => return self.without_store(&base, &error).await,
        };
        if let Some(token) = self.usable_stored(&snapshot, &base) {
            return Ok(self.adopt_stored(token, snapshot.version));
        }
        if let Some(failure) = &snapshot.failure {
            return Err(failure.to_error());
        }
        let waiting_since = snapshot.failure.as_ref().map(|failure| failure.id);
        loop {
            match self.patiently(|| self.store.try_lock(&self.key, self.settings.lock_ttl)).await {
                Ok(Some(lock)) => return self.refresh_holding(lock, base).await,
                Ok(None) => {}
                Err(error) => return self.without_store(&base, &error).await,
            }
            // Another manager is refreshing: wait for its token or its failure, and try the
            // lock again (it lapses if the holder died).
            tokio::time::sleep(STORE_POLL).await;
            match self.patiently(|| self.store.load(&self.key)).await {
                Ok(snapshot) => {
                    if let Some(token) = self.usable_stored(&snapshot, &base) {
                        return Ok(self.adopt_stored(token, snapshot.version));
                    }
                    if let Some(failure) =
                        snapshot.failure.filter(|failure| Some(failure.id) != waiting_since)
                    {
                        return Err(failure.to_error());
                    }
                }
                Err(error) => return self.without_store(&base, &error).await,
            }
        }
    }

    /// The stored token, if it is fresh and not the one just rejected.
    fn usable_stored(&self, snapshot: &StoreSnapshot, base: &Base) -> Option<OAuthToken> {
        let token = snapshot.token.as_ref()?;
        let rejected = base.rejected.as_ref().is_some_and(|rejected| token.access_token == *rejected);
        (!rejected && self.fresh(token)).then(|| token.clone())
    }

    /// Takes the token another manager stored instead of refreshing.
    fn adopt_stored(&self, token: OAuthToken, version: u64) -> Arc<OAuthToken> {
        crate::telemetry::refresh(self.source.kind(), "from_store");
        self.adopt(token, Some(version))
    }

    /// Holding the lock: look again (the previous holder may have just saved), refresh from
    /// the newest token, save against the version read, release.
    async fn refresh_holding(&self, held: StoreLock, base: Base) -> Result<Arc<OAuthToken>, Error> {
        let renewal = self.keep_renewing(held.clone());
        let result = async {
            let snapshot = match self.patiently(|| self.store.load(&self.key)).await {
                Ok(snapshot) => snapshot,
                Err(error) => return self.without_store(&base, &error).await,
            };
            if let Some(token) = self.usable_stored(&snapshot, &base) {
                return Ok(self.adopt_stored(token, snapshot.version));
            }
            let newest = newest(base, snapshot.token, snapshot.version);
            #[cfg(feature = "dpop")]
            self.adopt_shared_dpop_nonce().await;
            let fetched = self.fetch(newest.as_ref()).await;
            #[cfg(feature = "dpop")]
            self.share_dpop_nonce().await;
            match fetched {
                Ok(token) => Ok(self.save_and_adopt(token, snapshot.version).await),
                Err(error) if self.shared => {
                    let failure = RefreshFailure::of(&error);
                    let published =
                        self.store.publish_failure(&self.key, &failure, self.settings.failure_backoff).await;
                    if let Err(store_error) = published {
                        tracing::warn!(%store_error, "could not publish the failed refresh through the store");
                    }
                    Err(error)
                }
                Err(error) => Err(error),
            }
        }
        .await;
        renewal.abort();
        if let Err(error) = self.store.unlock(held).await {
            tracing::warn!(%error, "could not release the token store lock; it expires by itself");
        }
        result
    }

    /// The token endpoint's origin and the client's DPoP state, for a manager whose store
    /// is shared and whose client has a DPoP key.
    #[cfg(feature = "dpop")]
    fn dpop_origin(&self) -> Option<(&crate::dpop::Dpop, String)> {
        let (dpop, origin) = self.dpop.as_ref().filter(|_| self.shared)?;
        Some((&**dpop, origin.clone()))
    }

    /// How long a shared DPoP nonce is kept: servers rotate them within minutes (RFC 9449
    /// §8.2).
    #[cfg(feature = "dpop")]
    const SHARED_DPOP_NONCE_TTL: Duration = Duration::from_secs(300);

    /// Starts from the nonce another manager last saw, so the first proof needs no challenge.
    #[cfg(feature = "dpop")]
    async fn adopt_shared_dpop_nonce(&self) {
        if let Some((dpop, origin)) = self.dpop_origin()
            && let Ok(Some(nonce)) = self.store.load_shared(SharedKind::DpopNonce, &origin).await
        {
            dpop.set_nonce(&origin, &nonce);
        }
    }

    /// Leaves the server's latest nonce for the other managers.
    #[cfg(feature = "dpop")]
    async fn share_dpop_nonce(&self) {
        if let Some((dpop, origin)) = self.dpop_origin()
            && let Ok(url) = reqwest::Url::parse(&origin)
            && let Some(nonce) = dpop.nonce_for(&url)
            && let Err(error) = self
                .store
                .save_shared(SharedKind::DpopNonce, &origin, &nonce, Self::SHARED_DPOP_NONCE_TTL)
                .await
        {
            tracing::warn!(%error, "could not share the DPoP nonce through the store");
        }
    }

    /// Renews the lock every third of its lifetime until aborted.
    fn keep_renewing(&self, held: StoreLock) -> tokio::task::JoinHandle<()> {
        let store = Arc::clone(&self.store);
        let ttl = self.settings.lock_ttl;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(ttl / 3).await;
                match store.renew(&held, ttl).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!("lost the token store lock during a refresh; its save will be fenced");
                        return;
                    }
                    Err(error) => tracing::warn!(%error, "could not renew the token store lock"),
                }
            }
        })
    }

    /// Saves against `expected_version`; when another manager saved since, its token stays in
    /// the store and this one is used here alone.
    async fn save_and_adopt(&self, token: OAuthToken, expected_version: u64) -> Arc<OAuthToken> {
        match self.patiently(|| self.store.save(&self.key, &token, expected_version)).await {
            Ok(Some(version)) => self.adopt(token, Some(version)),
            Ok(None) => {
                tracing::warn!("another manager saved a token during this refresh; keeping the stored one");
                self.adopt(token, None)
            }
            Err(error) => {
                tracing::warn!(%error, "could not share the new token through the store");
                self.adopt(token, None)
            }
        }
    }

    /// The store cannot coordinate this refresh: call the source directly, unless that could
    /// replay a refresh token another process is using; then keep the current token until it
    /// actually expires.
    async fn without_store(&self, base: &Base, error: &StoreError) -> Result<Arc<OAuthToken>, Error> {
        let risky =
            self.shared && self.source.needs_coordination() && !self.settings.refresh_when_store_unreachable;
        if !risky {
            tracing::warn!(%error, "token store unavailable; calling the provider directly");
            crate::telemetry::store_fallback("direct_fetch");
            let token = self.fetch(base.token.as_ref()).await?;
            return Ok(self.adopt(token, None));
        }
        let now = self.clock.now();
        if let Some(cached) = self.cached()
            && base.rejected.is_none()
            && let Some(expiry) = cached.token.expiry.filter(|expiry| now < *expiry)
        {
            tracing::warn!(%error, "token store unavailable; keeping the current token until it expires");
            crate::telemetry::store_fallback("kept_token");
            // Looked at again in a second, so the store is used as soon as it is back.
            let kept = Arc::new(cached.until(expiry.min(now.saturating_add(1))));
            let token = Arc::clone(&kept.token);
            self.current.store(kept);
            return Ok(token);
        }
        tracing::warn!(%error, "token store unavailable; not refreshing without it");
        crate::telemetry::store_fallback("refused");
        Err(Error::StoreUnavailable { message: error.to_string() })
    }

    /// Publishes the builder's initial token, replacing what the store holds; returns it with
    /// its store version (`None` when the store could not take it).
    async fn publish_seed(&self, mut seed: OAuthToken) -> (OAuthToken, Option<u64>) {
        seed.complete_lifetime(self.clock.now());
        for _ in 0..3 {
            let snapshot = match self.patiently(|| self.store.load(&self.key)).await {
                Ok(snapshot) => snapshot,
                Err(_) => break,
            };
            match self.patiently(|| self.store.save(&self.key, &seed, snapshot.version)).await {
                Ok(Some(version)) => return (seed, Some(version)),
                Ok(None) => continue, // saved meanwhile: read the new version and replace it
                Err(_) => break,
            }
        }
        tracing::warn!("could not publish the initial token through the store; using it here alone");
        (seed, None)
    }

    /// A store call, tried again while the store is merely slow, for up to a lock's lifetime.
    async fn patiently<T, F, Fut>(&self, call: F) -> Result<T, StoreError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let deadline = tokio::time::Instant::now() + self.settings.lock_ttl;
        loop {
            match call().await {
                Err(error)
                    if error.kind() == StoreErrorKind::Slow && tokio::time::Instant::now() < deadline =>
                {
                    tracing::debug!(%error, "token store slow; asking again");
                    tokio::time::sleep(STORE_POLL).await;
                }
                result => return result,
            }
        }
    }

    /// Asks the source (within the refresh deadline), keeps the refresh token if the
    /// response has none, stamps an expiry the source left out, and tells `on_update`.
    async fn fetch(&self, previous: Option<&OAuthToken>) -> Result<OAuthToken, Error> {
        let timeout = self.settings.refresh_timeout.saturating_sub(self.settings.on_update_timeout);
        let fetched = tokio::time::timeout(timeout, self.source.fetch(&self.client, previous))
            .await
            .unwrap_or(Err(Error::Timeout));
        crate::telemetry::refresh(self.source.kind(), if fetched.is_ok() { "fetched" } else { "failed" });
        let mut token = fetched?;
        token.complete_lifetime(self.clock.now());
        if token.refresh_token.is_none() {
            token.refresh_token = previous.and_then(|previous| previous.refresh_token.clone());
        }
        self.run_on_update(&token).await;
        Ok(token)
    }

    /// Runs the callback in its own task, within its deadline: a panic or a hang there must
    /// not cost the new token (and its rotated refresh token).
    async fn run_on_update(&self, token: &OAuthToken) {
        let Some(on_update) = &self.on_update else { return };
        let Ok(future) = std::panic::catch_unwind(AssertUnwindSafe(|| on_update(token.clone()))) else {
            tracing::error!("on_update panicked; the new token is used and stored all the same");
            return;
        };
        let mut task = tokio::spawn(future);
        match tokio::time::timeout(self.settings.on_update_timeout, &mut task).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                tracing::error!("on_update panicked; the new token is used and stored all the same")
            }
            Err(_) => {
                task.abort();
                tracing::error!(
                    timeout = ?self.settings.on_update_timeout,
                    "on_update did not finish in time; the new token is used and stored all the same"
                );
            }
        }
    }
}

/// The token to refresh from: the stored one unless the cached one is newer (obtained while
/// the store could not be reached, or saved with a later version).
fn newest(base: Base, stored: Option<OAuthToken>, stored_version: u64) -> Option<OAuthToken> {
    match (base.token, stored) {
        (Some(cached), Some(stored)) => match base.version {
            Some(version) if version > stored_version => Some(cached),
            Some(_) => Some(stored),
            None => Some(cached),
        },
        (cached, stored) => stored.or(cached),
    }
}
