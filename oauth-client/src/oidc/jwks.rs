//! The provider's signing keys (`jwks_uri`), cached across key rotation: fetched once, kept
//! as long as `Cache-Control` allows, fetched again when a token names a key the cache does
//! not hold — at most once per interval, so that tokens with made-up `kid`s cannot make the
//! client hammer the provider.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::Url;
use reqwest::header::{CACHE_CONTROL, HeaderMap};

use super::IdTokenError;
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::error::Setting;
use crate::manager::SharedKind;

/// The provider's JSON Web Key Set, cached; clones share the cache.
///
/// - Fetched on first use, then kept until its `Cache-Control: max-age` runs out (or for
///   [`DEFAULT_MAX_AGE`](Self::DEFAULT_MAX_AGE) without one).
/// - A token signed with a key the cache does not hold (by `kid`) makes it fetch the set
///   again — at most once per [`refetch_interval`](Self::refetch_interval) (default 60 s):
///   a rotated key is picked up at once, and a thousand tokens with unknown `kid`s cause one
///   fetch, not a thousand.
/// - Concurrent callers that need a fetch share one (single flight); a failed fetch keeps
///   the keys already held.
/// - Processes sharing a [`TokenStore`](crate::manager::TokenStore) (Redis) share the key
///   set too ([`shared_through`](Self::shared_through)): one fetches, the others read it.
///
/// ```no_run
/// # async fn run(client: oauth_client::OAuthClient) -> Result<(), oauth_client::Error> {
/// use oauth_client::oidc::JwksCache;
///
/// let keys = JwksCache::for_client(&client)?;    // the `jwks_uri` discovery found
/// # let _ = keys;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

struct Inner {
    url: Url,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    refetch_interval: i64,
    keys: ArcSwapOption<KeySet>,
    /// Held while fetching: callers that need a fetch wait for the one under way.
    flight: tokio::sync::Mutex<()>,
    /// Where processes of a fleet share the key set.
    store: Option<Arc<dyn crate::manager::TokenStore>>,
    fetches: AtomicU64,
}

struct KeySet {
    keys: Vec<Jwk>,
    /// Which fetch this is (1, 2, ...): a caller that waited for a fetch under way uses its
    /// result instead of fetching again.
    generation: u64,
    /// Clock seconds of the fetch.
    fetched_at: i64,
    /// Until when (clock seconds) the set may be used without fetching it again.
    fresh_until: i64,
}

impl JwksCache {
    /// How long a key set without `Cache-Control: max-age` is kept: 1 hour.
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);
    /// How long the longest `max-age` is honoured: 1 day, so a removed key does not stay
    /// trusted for longer.
    pub const MAX_MAX_AGE: Duration = Duration::from_secs(86_400);

    /// A cache of the key set at `jwks_uri`, fetched with `http` (configure it with no
    /// redirects and a timeout, as the crate's own client is).
    pub fn new(jwks_uri: &str, http: reqwest::Client) -> Result<Self, Error> {
        let url = crate::endpoint_url::parse("JWKS URL", jwks_uri, false)?;
        Ok(Self::with_url(url, http))
    }

    /// The cache of `client`'s provider: the `jwks_uri` from discovery (or
    /// [`OAuthClientBuilder::endpoint_url`](crate::OAuthClientBuilder::endpoint_url)`(Endpoint::JWKS, ..)`),
    /// fetched with `client`'s HTTP client.
    pub fn for_client(client: &crate::OAuthClient) -> Result<Self, Error> {
        let url = client.endpoint_url(crate::Endpoint::JWKS).map_err(|_| {
            Error::config(
                Setting::Endpoint,
                "the client has no JWKS URL: discover the provider, or set `endpoint_url(Endpoint::JWKS, ..)`",
            )
        })?;
        Ok(Self::with_url(url.clone(), client.http().clone()))
    }

    /// A cache holding `keys` and nothing else: never fetched (pinned keys, keys you
    /// distribute yourself, tests).
    pub fn fixed(keys: JwkSet) -> Result<Self, Error> {
        // Never used to send anything; a client is what the cache holds.
        let http = crate::http_client::for_documents(None)?.into_owned();
        let url = Url::parse("urn:oauth-client:fixed-jwks")
            .map_err(|error| Error::config(Setting::Endpoint, error.to_string()))?;
        let cache = Self::with_url(url, http);
        cache.inner.keys.store(Some(Arc::new(KeySet {
            keys: keys.keys,
            generation: 1,
            fetched_at: 0,
            fresh_until: i64::MAX,
        })));
        Ok(cache)
    }

    fn with_url(url: Url, http: reqwest::Client) -> Self {
        JwksCache {
            inner: Arc::new(Inner {
                url,
                http,
                clock: Arc::new(SystemClock),
                refetch_interval: 60,
                keys: ArcSwapOption::empty(),
                flight: tokio::sync::Mutex::new(()),
                store: None,
                fetches: AtomicU64::new(0),
            }),
        }
    }

    /// The shortest time between two fetches caused by unknown keys. Default: 60 s.
    ///
    /// Call before sharing the cache (it applies to this handle's cache only if unshared).
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.refetch_interval = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
        }
        self
    }

    /// Reads the time from `clock` (tests drive expiry and the refetch interval with it).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.clock = Arc::new(clock);
        }
        self
    }

    /// Shares the key set with the processes that use the same `store`: before fetching, a
    /// set another process stored (still fresh, holding the key asked for) is used; after
    /// fetching, the set is stored for as long as it is fresh. Call before sharing the cache.
    pub fn shared_through(mut self, store: Arc<dyn crate::manager::TokenStore>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.store = Some(store);
        }
        self
    }

    /// How many times the key set was fetched from the provider.
    pub fn fetches(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// The key to check a signature made with `algorithm` by the key `kid` (a token's header).
    pub(crate) async fn key(
        &self,
        kid: Option<&str>,
        algorithm: Algorithm,
    ) -> Result<DecodingKey, IdTokenError> {
        let now = self.inner.clock.now();
        let current = self.inner.keys.load_full();
        match current.as_deref() {
            Some(set) if now < set.fresh_until => {
                if let Some(key) = find(&set.keys, kid, algorithm)? {
                    return Ok(key);
                }
                if now - set.fetched_at < self.inner.refetch_interval {
                    return Err(unknown_key(kid));
                }
            }
            _ => {}
        }
        let set = self
            .fetch_after(current.as_ref().map_or(0, |set| set.generation), kid)
            .await
            .map_err(|error| IdTokenError::KeySetUnavailable(error.to_string()))?;
        find(&set.keys, kid, algorithm)?.ok_or_else(|| unknown_key(kid))
    }

    /// Fetches the set, unless another caller replaced generation `seen` (the set this
    /// caller found wanting) while this one waited.
    async fn fetch_after(&self, seen: u64, kid: Option<&str>) -> Result<Arc<KeySet>, Error> {
        let _flight = self.inner.flight.lock().await;
        if let Some(set) = self.inner.keys.load_full()
            && (set.generation != seen || set.fresh_until == i64::MAX)
        {
            // Replaced while this caller waited, or a fixed set.
            return Ok(set);
        }
        let generation = seen + 1;
        if let Some(shared) = self.load_shared(generation, kid).await {
            let shared = Arc::new(shared);
            self.inner.keys.store(Some(Arc::clone(&shared)));
            return Ok(shared);
        }
        match self.fetch(generation).await {
            Ok(set) => {
                self.save_shared(&set).await;
                let set = Arc::new(set);
                self.inner.keys.store(Some(Arc::clone(&set)));
                Ok(set)
            }
            Err(error) => match self.inner.keys.load_full() {
                // Keep serving the keys held; try again after the interval, not at once.
                Some(stale) => {
                    tracing::warn!(error = %error, "could not fetch the provider's keys; keeping the ones held");
                    let now = self.inner.clock.now();
                    let kept = Arc::new(KeySet {
                        keys: stale.keys.clone(),
                        generation,
                        fetched_at: now,
                        fresh_until: now.saturating_add(self.inner.refetch_interval),
                    });
                    self.inner.keys.store(Some(Arc::clone(&kept)));
                    Ok(kept)
                }
                None => Err(error),
            },
        }
    }

    /// A fresh set another process stored, if it holds `kid` (any set, for no `kid`).
    async fn load_shared(&self, generation: u64, kid: Option<&str>) -> Option<KeySet> {
        let store = self.inner.store.as_ref()?;
        let stored = match store.load_shared(SharedKind::KeySet, self.inner.url.as_str()).await {
            Ok(stored) => stored?,
            Err(error) => {
                tracing::warn!(error = %error, "could not read the shared key set; fetching it");
                return None;
            }
        };
        let stored: SharedKeySet = serde_json::from_str(&stored).ok()?;
        let now = self.inner.clock.now();
        let has_kid =
            kid.is_none_or(|kid| stored.keys.iter().any(|key| key.common.key_id.as_deref() == Some(kid)));
        (now < stored.fresh_until && has_kid).then_some(KeySet {
            keys: stored.keys,
            generation,
            fetched_at: stored.fetched_at,
            fresh_until: stored.fresh_until,
        })
    }

    async fn save_shared(&self, set: &KeySet) {
        let Some(store) = &self.inner.store else { return };
        let ttl = u64::try_from(set.fresh_until.saturating_sub(set.fetched_at)).unwrap_or(0);
        if ttl == 0 {
            return;
        }
        let shared =
            SharedKeySet { keys: set.keys.clone(), fetched_at: set.fetched_at, fresh_until: set.fresh_until };
        let Ok(json) = serde_json::to_string(&shared) else { return };
        let url = self.inner.url.as_str();
        if let Err(error) = store.save_shared(SharedKind::KeySet, url, &json, Duration::from_secs(ttl)).await
        {
            tracing::warn!(error = %error, "could not share the key set");
        }
    }

    async fn fetch(&self, generation: u64) -> Result<KeySet, Error> {
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = self.fetch_once(generation).await;
        crate::telemetry::jwks_fetch(fetched.is_ok());
        fetched
    }

    async fn fetch_once(&self, generation: u64) -> Result<KeySet, Error> {
        let accept = "application/jwk-set+json, application/json";
        let received =
            crate::discovery::get_document(&self.inner.http, self.inner.url.as_str(), accept).await?;
        let fresh_for = max_age(&received.headers);
        let set: JwkSet = crate::response::interpret(received, crate::response::Leniency::default())?;
        let now = self.inner.clock.now();
        Ok(KeySet { keys: set.keys, generation, fetched_at: now, fresh_until: now.saturating_add(fresh_for) })
    }
}

impl core::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &self.inner.url.as_str())
            .field("keys", &self.inner.keys.load().as_ref().map(|set| set.keys.len()))
            .field("fetches", &self.fetches())
            .finish_non_exhaustive()
    }
}

/// A key set as processes share it through a store.
#[derive(serde::Serialize, serde::Deserialize)]
struct SharedKeySet {
    keys: Vec<Jwk>,
    fetched_at: i64,
    fresh_until: i64,
}

/// Seconds to keep a set: `max-age` (capped), none for `no-store`/`no-cache`, else the default.
fn max_age(headers: &HeaderMap) -> i64 {
    let default = JwksCache::DEFAULT_MAX_AGE.as_secs() as i64;
    let cap = JwksCache::MAX_MAX_AGE.as_secs() as i64;
    let mut age = None;
    for value in headers.get_all(CACHE_CONTROL).iter().filter_map(|value| value.to_str().ok()) {
        for directive in value.split(',').map(str::trim) {
            let (name, argument) = directive.split_once('=').unwrap_or((directive, ""));
            match name.to_ascii_lowercase().as_str() {
                "no-store" | "no-cache" => return 0,
                "max-age" => age = argument.trim_matches('"').parse::<i64>().ok(),
                _ => {}
            }
        }
    }
    age.map_or(default, |age| age.clamp(0, cap))
}

/// The key for `kid` (or, for a token without `kid`, the only key that fits `algorithm`).
fn find(keys: &[Jwk], kid: Option<&str>, algorithm: Algorithm) -> Result<Option<DecodingKey>, IdTokenError> {
    let fits = |key: &&Jwk| {
        let for_signing = !matches!(
            key.common.public_key_use,
            Some(PublicKeyUse::Encryption) | Some(PublicKeyUse::Other(_))
        );
        let same_algorithm =
            key.common.key_algorithm.is_none_or(|declared| algorithm_of(declared) == Some(algorithm));
        let same_family = family_fits(key, algorithm);
        for_signing && same_algorithm && same_family
    };
    let candidates: Vec<&Jwk> = match kid {
        Some(kid) => {
            keys.iter().filter(|key| key.common.key_id.as_deref() == Some(kid)).filter(fits).collect()
        }
        None => keys.iter().filter(fits).collect(),
    };
    match candidates.as_slice() {
        [] => Ok(None),
        [key] => {
            DecodingKey::from_jwk(key).map(Some).map_err(|error| IdTokenError::UnusableKey(error.to_string()))
        }
        _ => Err(IdTokenError::AmbiguousKey),
    }
}

/// Whether `key`'s type and curve can make `algorithm`'s signatures.
fn family_fits(key: &Jwk, algorithm: Algorithm) -> bool {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve};
    match &key.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            algorithm,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(ec) => matches!(
            (&ec.curve, algorithm),
            (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
        ),
        AlgorithmParameters::OctetKeyPair(okp) => {
            okp.curve == EllipticCurve::Ed25519 && algorithm == Algorithm::EdDSA
        }
        // A symmetric key in a public key set is never used (HMAC takes the client secret),
        // nor a key type this crate does not know.
        _ => false,
    }
}

fn algorithm_of(declared: KeyAlgorithm) -> Option<Algorithm> {
    declared.to_string().parse().ok()
}

fn unknown_key(kid: Option<&str>) -> IdTokenError {
    IdTokenError::UnknownKey { kid: kid.map(str::to_owned) }
}
