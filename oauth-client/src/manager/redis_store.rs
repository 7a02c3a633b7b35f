//! A [`TokenStore`] on Redis: processes sharing a Redis and a key share one token.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, FromRedisValue};

use super::source::BoxFuture;
use super::store::{
    RefreshFailure, SharedKind, StoreError, StoreErrorKind, StoreLock, StoreSnapshot, TokenStore,
};
use crate::OAuthToken;

/// How long one Redis command may take before the store counts Redis as slow, by default.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// After Redis could not be reached, how long the store answers "unreachable" at once
/// instead of trying again: an outage costs managers one failed connection, not one per call.
const OUTAGE_BACKOFF: Duration = Duration::from_secs(2);

/// Releases the lock only if it still holds this holder's value (no one else's lock is
/// deleted after ours expired).
const UNLOCK_SCRIPT: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// Extends the lock only while it still holds this holder's value.
const RENEW_SCRIPT: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/// Compare-and-set: saves the token (ARGV[2]) only if the stored version is still ARGV[1]
/// (0: none), under a version from Redis's own clock in milliseconds, greater than the one
/// it replaces; keeps the entry for ARGV[3] ms (0: until replaced); clears a published
/// failure (KEYS[2]). Returns the new version, or -1 when another manager saved since.
const SAVE_SCRIPT: &str = r"
local current = tonumber(redis.call('hget', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
local time = redis.call('time')
local version = math.max(tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000), current + 1)
redis.call('hset', KEYS[1], 'version', string.format('%d', version), 'token', ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('pexpire', KEYS[1], ARGV[3]) else redis.call('persist', KEYS[1]) end
redis.call('del', KEYS[2])
return version
";

/// Removes the token (KEYS[1]'s `token`) under a new version, as SAVE_SCRIPT versions, and
/// a published failure (KEYS[2]).
const REMOVE_SCRIPT: &str = r"
local current = tonumber(redis.call('hget', KEYS[1], 'version') or '0')
local time = redis.call('time')
local version = math.max(tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000), current + 1)
redis.call('hdel', KEYS[1], 'token')
redis.call('hset', KEYS[1], 'version', string.format('%d', version))
redis.call('del', KEYS[2])
return version
";

/// Tokens in Redis, one hash per key (`<prefix><key>`, fields `version` and `token` as JSON);
/// the refresh lock is `<prefix><key>:lock` (`SET NX PX` with a random holder value, renewed
/// and released by compare scripts), a published failure `<prefix><key>:failure`. Cargo
/// feature `redis`.
///
/// A token with a refresh token is kept for the refresh token's lifetime
/// (`refresh_token_expires_in` when the provider sends it), otherwise until it is replaced
/// or for [`retention`](Self::retention); one without a refresh token for the access
/// token's lifetime. A Redis that answers late counts as slow (managers wait for it), one
/// that refuses or drops connections as unreachable (managers call the provider directly).
///
/// ```no_run
/// use std::sync::Arc;
/// use oauth_client::manager::{ClientCredentials, RedisStore};
/// use oauth_client::{OAuthClient, TokenManager};
///
/// # fn run(client: OAuthClient) -> Result<(), Box<dyn std::error::Error>> {
/// let store = Arc::new(RedisStore::new("redis://127.0.0.1:6379/")?);
/// let tokens = TokenManager::builder(client, ClientCredentials::new())
///     .store(store, "billing-api:read")
///     .build();
/// # Ok(()) }
/// ```
pub struct RedisStore {
    client: redis::Client,
    prefix: String,
    command_timeout: Duration,
    retention: Option<Duration>,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    down_until: Mutex<Option<Instant>>,
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://host:port/db`). Connects on first use.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let client =
            redis::Client::open(url).map_err(|error| StoreError::new(StoreErrorKind::Other, error))?;
        Ok(RedisStore {
            client,
            prefix: "oauth-client:v2:".to_owned(),
            command_timeout: COMMAND_TIMEOUT,
            retention: None,
            connection: tokio::sync::Mutex::new(None),
            down_until: Mutex::new(None),
        })
    }

    /// Prefixes every key with `prefix` instead of `oauth-client:v2:`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long connecting or one command may take (default 500 ms). A command that takes
    /// longer counts as slow: the manager asks again rather than call the provider. A
    /// connection that cannot be made in this time counts as unreachable.
    #[must_use]
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Keeps a token whose refresh token has no stated lifetime for at most `retention`
    /// after it was saved, instead of until it is replaced.
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = Some(retention);
        self
    }

    /// How long to keep `token`, in milliseconds; 0 for "until replaced".
    fn keep_for(&self, token: &OAuthToken) -> u64 {
        let refresh_lifetime =
            token.extra.get("refresh_token_expires_in").and_then(serde_json::Value::as_u64);
        let keep = match (&token.refresh_token, refresh_lifetime) {
            (Some(_), Some(seconds)) => Some(Duration::from_secs(seconds)),
            (Some(_), None) => self.retention,
            (None, _) => token.expires_in.map(Duration::from_secs),
        };
        keep.map_or(0, milliseconds)
    }

    async fn connection(&self) -> Result<MultiplexedConnection, StoreError> {
        if self
            .down_until
            .lock()
            .map_err(|_| StoreError::msg("poisoned"))?
            .is_some_and(|until| Instant::now() < until)
        {
            return Err(StoreError::new(
                StoreErrorKind::Unreachable,
                "Redis was unreachable moments ago; not retrying yet",
            ));
        }
        let mut connection = self.connection.lock().await;
        if let Some(connection) = connection.as_ref() {
            return Ok(connection.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.command_timeout))
            .set_response_timeout(Some(self.command_timeout));
        match self.client.get_multiplexed_async_connection_with_config(&config).await {
            Ok(fresh) => Ok(connection.insert(fresh).clone()),
            Err(error) => {
                self.mark_down();
                Err(StoreError::new(StoreErrorKind::Unreachable, error))
            }
        }
    }

    fn mark_down(&self) {
        if let Ok(mut down_until) = self.down_until.lock() {
            *down_until = Some(Instant::now() + OUTAGE_BACKOFF);
        }
    }

    async fn run<T: FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, StoreError> {
        let mut connection = self.connection().await?;
        let result = command.query_async(&mut connection).await;
        result.map_err(|error| self.classify(error))
    }

    async fn run_pipeline<T: FromRedisValue>(&self, pipeline: &redis::Pipeline) -> Result<T, StoreError> {
        let mut connection = self.connection().await?;
        let result = pipeline.query_async(&mut connection).await;
        result.map_err(|error| self.classify(error))
    }

    /// A late answer is slowness, and the connection stays; a broken connection is an
    /// outage: drop it, and reconnect after the backoff.
    fn classify(&self, error: redis::RedisError) -> StoreError {
        if error.is_timeout() {
            return StoreError::new(StoreErrorKind::Slow, error);
        }
        if error.is_io_error() || error.is_connection_dropped() || error.is_connection_refusal() {
            if let Ok(mut connection) = self.connection.try_lock() {
                connection.take();
            }
            self.mark_down();
            return StoreError::new(StoreErrorKind::Unreachable, error);
        }
        StoreError::new(StoreErrorKind::Other, error)
    }

    fn token_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn lock_key(&self, key: &str) -> String {
        format!("{}{key}:lock", self.prefix)
    }

    /// `SET key value PX ttl`: a value that expires on its own.
    async fn set_expiring(&self, key: String, value: &str, ttl: Duration) -> Result<(), StoreError> {
        let mut command = redis::cmd("SET");
        command.arg(key).arg(value).arg("PX").arg(milliseconds(ttl));
        self.run::<()>(&command).await
    }

    /// `PREFIXjwks:URI`, `PREFIXdpop-nonce:ORIGIN`.
    fn shared_key(&self, kind: SharedKind, name: &str) -> String {
        format!("{}{}:{name}", self.prefix, kind.name())
    }

    fn failure_key(&self, key: &str) -> String {
        format!("{}{key}:failure", self.prefix)
    }
}

impl core::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedisStore").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn milliseconds(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl TokenStore for RedisStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<StoreSnapshot, StoreError>> {
        Box::pin(async move {
            let mut pipeline = redis::pipe();
            pipeline.cmd("HMGET").arg(self.token_key(key)).arg("version").arg("token");
            pipeline.cmd("GET").arg(self.failure_key(key));
            let ((version, token), failure): ((Option<u64>, Option<String>), Option<String>) =
                self.run_pipeline(&pipeline).await?;
            // A value that does not decode (another version wrote it) counts as none.
            Ok(StoreSnapshot {
                token: token.and_then(|json| serde_json::from_str(&json).ok()),
                version: version.unwrap_or(0),
                failure: failure.and_then(|json| serde_json::from_str(&json).ok()),
            })
        })
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        token: &'a OAuthToken,
        expected_version: u64,
    ) -> BoxFuture<'a, Result<Option<u64>, StoreError>> {
        Box::pin(async move {
            let json = serde_json::to_string(token)
                .map_err(|error| StoreError::new(StoreErrorKind::Other, error))?;
            let mut command = redis::cmd("EVAL");
            command
                .arg(SAVE_SCRIPT)
                .arg(2)
                .arg(self.token_key(key))
                .arg(self.failure_key(key))
                .arg(expected_version)
                .arg(json)
                .arg(self.keep_for(token));
            let version: i64 = self.run(&command).await?;
            Ok(u64::try_from(version).ok())
        })
    }

    fn remove<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut command = redis::cmd("EVAL");
            command.arg(REMOVE_SCRIPT).arg(2).arg(self.token_key(key)).arg(self.failure_key(key));
            self.run::<i64>(&command).await.map(|_| ())
        })
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<StoreLock>, StoreError>> {
        Box::pin(async move {
            let mut random = [0u8; 16];
            getrandom::fill(&mut random).map_err(|error| StoreError::msg(error.to_string()))?;
            let holder: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
            let mut command = redis::cmd("SET");
            command.arg(self.lock_key(key)).arg(&holder).arg("NX").arg("PX").arg(milliseconds(ttl));
            let taken: Option<String> = self.run(&command).await?;
            Ok(taken.map(|_| StoreLock { key: key.to_owned(), holder }))
        })
    }

    fn renew<'a>(&'a self, lock: &'a StoreLock, ttl: Duration) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut command = redis::cmd("EVAL");
            command
                .arg(RENEW_SCRIPT)
                .arg(1)
                .arg(self.lock_key(&lock.key))
                .arg(&lock.holder)
                .arg(milliseconds(ttl));
            Ok(self.run::<i64>(&command).await? == 1)
        })
    }

    fn unlock(&self, lock: StoreLock) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut command = redis::cmd("EVAL");
            command.arg(UNLOCK_SCRIPT).arg(1).arg(self.lock_key(&lock.key)).arg(&lock.holder);
            self.run::<i64>(&command).await.map(|_| ())
        })
    }

    fn publish_failure<'a>(
        &'a self,
        key: &'a str,
        failure: &'a RefreshFailure,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if ttl.is_zero() {
                return Ok(());
            }
            let json = serde_json::to_string(failure)
                .map_err(|error| StoreError::new(StoreErrorKind::Other, error))?;
            self.set_expiring(self.failure_key(key), &json, ttl).await
        })
    }

    fn load_shared<'a>(
        &'a self,
        kind: SharedKind,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move { self.run(redis::cmd("GET").arg(self.shared_key(kind, name))).await })
    }

    fn save_shared<'a>(
        &'a self,
        kind: SharedKind,
        name: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            // Redis refuses an expiry of zero; such a value would be gone at once anyway.
            if ttl.is_zero() {
                return Ok(());
            }
            self.set_expiring(self.shared_key(kind, name), value, ttl).await
        })
    }
}
