//! A [`TokenStore`] on Redis: processes sharing a Redis and a key share one token.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, FromRedisValue};

use super::source::BoxFuture;
use super::store::{StoreError, StoreLock, TokenStore};
use crate::OAuthToken;

/// How long one Redis command may take before the store counts Redis as down, by default.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failure, how long the store answers "unavailable" at once instead of trying
/// again: a Redis outage costs managers one timeout, not one per call.
const OUTAGE_BACKOFF: Duration = Duration::from_secs(2);

/// Releases the lock only if it still holds this holder's value (no one else's lock is
/// deleted after ours expired).
const UNLOCK_SCRIPT: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// Tokens in Redis under `<prefix><key>`, as JSON, expiring with the token; the refresh lock
/// is `<prefix><key>:lock`, taken with `SET NX PX` and a random holder value, released by a
/// compare-and-delete script. Cargo feature `redis`.
///
/// ```no_run
/// use std::sync::Arc;
/// use oauth_client::manager::{ClientCredentials, RedisStore};
/// use oauth_client::{OAuthClient, TokenManager};
///
/// # fn run(client: OAuthClient, auth: String) -> Result<(), Box<dyn std::error::Error>> {
/// let store = Arc::new(RedisStore::new("redis://127.0.0.1:6379/")?);
/// let tokens = TokenManager::builder(client, ClientCredentials::new(auth))
///     .store(store, "billing-api:read")
///     .build();
/// # Ok(()) }
/// ```
pub struct RedisStore {
    client: redis::Client,
    prefix: String,
    command_timeout: Duration,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    down_until: Mutex<Option<Instant>>,
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://host:port/db`). Connects on first use.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|error| StoreError(Box::new(error)))?;
        Ok(RedisStore {
            client,
            prefix: "oauth-client:token:".to_owned(),
            command_timeout: COMMAND_TIMEOUT,
            connection: tokio::sync::Mutex::new(None),
            down_until: Mutex::new(None),
        })
    }

    /// Prefixes every key with `prefix` instead of `oauth-client:token:`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long connecting or one command may take before Redis counts as down (default
    /// 500 ms); the manager then calls the provider itself.
    #[must_use]
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    async fn connection(&self) -> Result<MultiplexedConnection, StoreError> {
        if self
            .down_until
            .lock()
            .map_err(|_| StoreError::msg("poisoned"))?
            .is_some_and(|until| Instant::now() < until)
        {
            return Err(StoreError::msg("Redis was unreachable moments ago; not retrying yet"));
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
                Err(StoreError(Box::new(error)))
            }
        }
    }

    fn mark_down(&self) {
        if let Ok(mut down_until) = self.down_until.lock() {
            *down_until = Some(Instant::now() + OUTAGE_BACKOFF);
        }
    }

    async fn run<T: FromRedisValue>(&self, command: redis::Cmd) -> Result<T, StoreError> {
        let mut connection = self.connection().await?;
        match command.query_async(&mut connection).await {
            Ok(value) => Ok(value),
            Err(error) => {
                // Drop the connection: the next attempt (after the backoff) reconnects.
                self.connection.lock().await.take();
                self.mark_down();
                Err(StoreError(Box::new(error)))
            }
        }
    }

    fn token_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn lock_key(&self, key: &str) -> String {
        format!("{}{key}:lock", self.prefix)
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
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<OAuthToken>, StoreError>> {
        Box::pin(async move {
            let json: Option<String> = self.run(redis::cmd("GET").arg(self.token_key(key)).clone()).await?;
            // A value that does not decode (another version wrote it) counts as no token.
            Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
        })
    }

    fn save<'a>(&'a self, key: &'a str, token: &'a OAuthToken) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let json = serde_json::to_string(token).map_err(|error| StoreError(Box::new(error)))?;
            let mut command = redis::cmd("SET");
            command.arg(self.token_key(key)).arg(json);
            if let Some(seconds) = token.expires_in {
                command.arg("PX").arg(milliseconds(Duration::from_secs(seconds)));
            }
            self.run::<()>(command).await
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
            let taken: Option<String> = self.run(command).await?;
            Ok(taken.map(|_| StoreLock { key: key.to_owned(), holder }))
        })
    }

    fn unlock(&self, lock: StoreLock) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let mut command = redis::cmd("EVAL");
            command.arg(UNLOCK_SCRIPT).arg(1).arg(self.lock_key(&lock.key)).arg(&lock.holder);
            self.run::<i64>(command).await.map(|_| ())
        })
    }
}
