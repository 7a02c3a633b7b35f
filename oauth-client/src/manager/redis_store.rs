//! A [`TokenStore`] on Redis: processes sharing a Redis and a key share one token.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{AsyncConnectionConfig, Cmd, FromRedisValue, IntoConnectionInfo, Pipeline, RedisFuture, Value};

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
/// The same behind Sentinel: asking the sentinels is cheap, and after a failover the new
/// primary should be found as soon as they name it.
const SENTINEL_OUTAGE_BACKOFF: Duration = Duration::from_millis(250);

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

/// Tokens in Redis, one hash per key (`<prefix>{<key>}`, fields `version` and `token` as
/// JSON); the refresh lock is `<prefix>{<key>}:lock` (`SET NX PX` with a random holder value,
/// renewed and released by compare scripts), a published failure `<prefix>{<key>}:failure`.
/// The braces are a hash tag: a key's three entries live in one hash slot, so the scripts
/// that touch two of them run on a Redis Cluster too. Cargo feature `redis`.
///
/// Three deployments: one server or a managed primary ([`new`](Self::new): `redis://`,
/// `rediss://` with the `rustls` feature, `redis://user:password@host` for an ACL user), a
/// Redis Cluster ([`cluster`](Self::cluster); not over TLS), a primary found through
/// Sentinel ([`sentinel`](Self::sentinel), `redis://` or `rediss://` sentinels; after a
/// failover the store asks the sentinels again). Valkey speaks the same protocol; the
/// store's tests run on Redis 7 and Valkey 8.
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
    deployment: Deployment,
    prefix: String,
    command_timeout: Duration,
    retention: Option<Duration>,
    /// Replicas that must have a lock or a saved token before the store goes on (`WAIT`).
    replicas_to_confirm: u32,
    connection: tokio::sync::Mutex<Option<Connection>>,
    down_until: Mutex<Option<Instant>>,
}

/// Where the store's Redis is.
enum Deployment {
    Server(redis::Client),
    /// A `rediss://` server, on our own rustls configuration.
    #[cfg(feature = "rustls")]
    TlsServer(super::redis_tls::TlsServer),
    Cluster(ClusterClient),
    /// Sentinels over TLS (`rediss://`), asked the same way, on our own rustls configuration.
    #[cfg(feature = "rustls")]
    TlsSentinel(super::redis_tls::TlsSentinel),
    /// The sentinels are asked for the primary at each (re)connection.
    Sentinel {
        sentinels: Vec<redis::ConnectionInfo>,
        primary: String,
        node: SentinelNodeConnectionInfo,
        /// Made at the first connection; asking takes `&mut`, hence the lock.
        client: tokio::sync::Mutex<Option<SentinelClient>>,
    },
}

/// A connection to one server (a primary Sentinel named) or to a cluster, which routes each
/// command to its slot's node and follows the cluster's changes by itself.
#[derive(Clone)]
enum Connection {
    Server(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Server(connection) => connection.req_packed_command(cmd),
            Connection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Server(connection) => connection.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Server(connection) => connection.get_db(),
            Connection::Cluster(connection) => connection.get_db(),
        }
    }
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://[user:password@]host:port/db`; `rediss://`
    /// with a TLS feature). Connects on first use.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("rediss://") {
            return Self::tls(url);
        }
        let client = redis::Client::open(url).map_err(invalid_setting)?;
        Ok(Self::on(Deployment::Server(client)))
    }

    #[cfg(feature = "rustls")]
    fn tls(url: &str) -> Result<Self, StoreError> {
        Ok(Self::on(Deployment::TlsServer(super::redis_tls::TlsServer::parse(url)?)))
    }

    #[cfg(not(feature = "rustls"))]
    fn tls(_: &str) -> Result<Self, StoreError> {
        Err(tls_needs_rustls())
    }

    /// With a `rediss://` URL (a server, or sentinels and the primary they name): trusts the
    /// certificates in `pem` (a private CA) besides the platform's roots.
    ///
    /// ```no_run
    /// # fn run(ca_pem: &[u8]) -> Result<(), oauth_client::manager::StoreError> {
    /// let store = oauth_client::manager::RedisStore::new("rediss://tokens:password@redis.internal:6380/")?
    ///     .tls_root_certificates(ca_pem)?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "rustls")]
    pub fn tls_root_certificates(mut self, pem: &[u8]) -> Result<Self, StoreError> {
        match &mut self.deployment {
            Deployment::TlsServer(server) => server.add_roots(pem)?,
            Deployment::TlsSentinel(sentinel) => {
                for server in &mut sentinel.sentinels {
                    server.add_roots(pem)?;
                }
            }
            _ => {
                return Err(StoreError::new(
                    StoreErrorKind::Other,
                    "root certificates are for a rediss:// URL; this store has none",
                ));
            }
        }
        Ok(self)
    }

    /// A store on the Redis Cluster that `nodes` belong to (any of its nodes; the store
    /// learns the others). A key's token, lock and failure share a hash slot, so the
    /// compare-and-set and lock scripts run there as on one server.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), oauth_client::manager::StoreError> {
    /// let store = oauth_client::manager::RedisStore::cluster(["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"])?;
    /// # Ok(()) }
    /// ```
    pub fn cluster(nodes: impl IntoIterator<Item = impl AsRef<str>>) -> Result<Self, StoreError> {
        let nodes: Vec<String> = nodes.into_iter().map(|node| node.as_ref().to_owned()).collect();
        if nodes.is_empty() {
            return Err(StoreError::new(StoreErrorKind::Other, "name at least one node of the cluster"));
        }
        if nodes.iter().any(|node| node.starts_with("rediss://")) {
            // The redis crate connects to a cluster's nodes itself, and its TLS installs a
            // process-wide crypto provider when the program has none.
            return Err(StoreError::new(
                StoreErrorKind::Other,
                "a Redis Cluster over TLS (rediss://) is not supported; TLS is supported for one server and for Sentinel",
            ));
        }
        let client = ClusterClientBuilder::new(nodes).build().map_err(invalid_setting)?;
        Ok(Self::on(Deployment::Cluster(client)))
    }

    /// A store on the primary that the sentinels at `sentinels` (`redis://host:26379`, with
    /// the sentinels' own credentials if they have some; `rediss://` for sentinels and
    /// servers that speak TLS, with the `rustls` feature) name for `primary`. After a
    /// failover the old primary's connection fails or refuses writes; the store drops it and
    /// asks the sentinels again. Locks and saved tokens are confirmed by one replica
    /// (`WAIT`) before the store goes on, so a failover does not lose a rotated refresh
    /// token ([`replicas_to_confirm`](Self::replicas_to_confirm)). The primary's own
    /// credentials: [`primary_credentials`](Self::primary_credentials).
    ///
    /// ```no_run
    /// # fn run() -> Result<(), oauth_client::manager::StoreError> {
    /// let store = oauth_client::manager::RedisStore::sentinel("tokens", ["redis://10.0.0.1:26379", "redis://10.0.0.2:26379"])?
    ///     .primary_credentials(None, "primary-password");
    /// # Ok(()) }
    /// ```
    pub fn sentinel(
        primary: &str,
        sentinels: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Result<Self, StoreError> {
        let urls: Vec<String> = sentinels.into_iter().map(|url| url.as_ref().to_owned()).collect();
        if urls.is_empty() {
            return Err(StoreError::new(StoreErrorKind::Other, "name at least one sentinel"));
        }
        let tls = urls.iter().filter(|url| url.starts_with("rediss://")).count();
        let deployment = if tls == 0 {
            let sentinels = urls
                .iter()
                .map(|url| url.as_str().into_connection_info())
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid_setting)?;
            Deployment::Sentinel {
                sentinels,
                primary: primary.to_owned(),
                node: SentinelNodeConnectionInfo::default(),
                client: tokio::sync::Mutex::new(None),
            }
        } else if tls == urls.len() {
            Self::tls_sentinel(primary, &urls)?
        } else {
            return Err(StoreError::new(
                StoreErrorKind::Other,
                "the sentinels are all rediss:// (TLS) or all redis://, not some of each",
            ));
        };
        let mut store = Self::on(deployment);
        store.replicas_to_confirm = 1;
        Ok(store)
    }

    #[cfg(feature = "rustls")]
    fn tls_sentinel(primary: &str, urls: &[String]) -> Result<Deployment, StoreError> {
        Ok(Deployment::TlsSentinel(super::redis_tls::TlsSentinel {
            sentinels: urls
                .iter()
                .map(|url| super::redis_tls::TlsServer::parse(url))
                .collect::<Result<_, _>>()?,
            primary: primary.to_owned(),
            login: redis::RedisConnectionInfo::default(),
        }))
    }

    #[cfg(not(feature = "rustls"))]
    fn tls_sentinel(_: &str, _: &[String]) -> Result<Deployment, StoreError> {
        Err(tls_needs_rustls())
    }

    fn on(deployment: Deployment) -> Self {
        RedisStore {
            deployment,
            prefix: "oauth-client:v3:".to_owned(),
            command_timeout: COMMAND_TIMEOUT,
            retention: None,
            replicas_to_confirm: 0,
            connection: tokio::sync::Mutex::new(None),
            down_until: Mutex::new(None),
        }
    }

    /// With [`sentinel`](Self::sentinel): the user (an ACL user; `None` for the default
    /// user) and password of the primary and its replicas.
    #[must_use]
    pub fn primary_credentials(mut self, username: Option<&str>, password: &str) -> Self {
        let mut login = redis::RedisConnectionInfo::default().set_password(password);
        if let Some(username) = username {
            login = login.set_username(username);
        }
        match &mut self.deployment {
            Deployment::Sentinel { node, .. } => {
                *node = SentinelNodeConnectionInfo::default().set_redis_connection_info(login);
            }
            #[cfg(feature = "rustls")]
            Deployment::TlsSentinel(sentinel) => sentinel.login = login,
            _ => {}
        }
        self
    }

    /// How many replicas must confirm (`WAIT`) a taken lock and a saved token before the
    /// store goes on: 1 with [`sentinel`](Self::sentinel), else 0 — at most as many as the
    /// primary has connected. A lock not confirmed within half the command timeout is
    /// given back and counts as slow (taken again shortly); a saved token not confirmed is
    /// kept, with a warning.
    #[must_use]
    pub fn replicas_to_confirm(mut self, replicas: u32) -> Self {
        self.replicas_to_confirm = replicas;
        self
    }

    /// Prefixes every key with `prefix` instead of `oauth-client:v3:`.
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

    async fn connection(&self) -> Result<Connection, StoreError> {
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
        match self.connect().await {
            Ok(fresh) => Ok(connection.insert(fresh).clone()),
            Err(error) => {
                self.mark_down();
                Err(StoreError::new(StoreErrorKind::Unreachable, error))
            }
        }
    }

    async fn connect(&self) -> redis::RedisResult<Connection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.command_timeout))
            .set_response_timeout(Some(self.command_timeout));
        match &self.deployment {
            Deployment::Server(client) => {
                client.get_multiplexed_async_connection_with_config(&config).await.map(Connection::Server)
            }
            #[cfg(feature = "rustls")]
            Deployment::TlsServer(server) => {
                server.connect(self.command_timeout).await.map(Connection::Server)
            }
            #[cfg(feature = "rustls")]
            Deployment::TlsSentinel(sentinel) => {
                sentinel.connect(self.command_timeout).await.map(Connection::Server)
            }
            Deployment::Cluster(client) => {
                let config = redis::cluster::ClusterConfig::new()
                    .set_connection_timeout(self.command_timeout)
                    .set_response_timeout(self.command_timeout);
                client.get_async_connection_with_config(config).await.map(Connection::Cluster)
            }
            Deployment::Sentinel { sentinels, primary, node, client } => {
                let mut client = client.lock().await;
                let sentinel = match &mut *client {
                    Some(sentinel) => sentinel,
                    empty @ None => empty.insert(SentinelClient::build(
                        sentinels.clone(),
                        primary.clone(),
                        Some(node.clone()),
                        SentinelServerType::Master,
                    )?),
                };
                let asked = tokio::time::timeout(self.command_timeout, sentinel.async_get_client()).await;
                let primary = asked.map_err(|_| {
                    redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
                })??;
                primary.get_multiplexed_async_connection_with_config(&config).await.map(Connection::Server)
            }
        }
    }

    fn mark_down(&self) {
        if let Ok(mut down_until) = self.down_until.lock() {
            let backoff = match self.deployment {
                Deployment::Sentinel { .. } => SENTINEL_OUTAGE_BACKOFF,
                #[cfg(feature = "rustls")]
                Deployment::TlsSentinel(_) => SENTINEL_OUTAGE_BACKOFF,
                _ => OUTAGE_BACKOFF,
            };
            *down_until = Some(Instant::now() + backoff);
        }
    }

    async fn run<T: FromRedisValue>(&self, command: &Cmd) -> Result<T, StoreError> {
        let mut connection = self.connection().await?;
        let result = command.query_async(&mut connection).await;
        result.map_err(|error| self.classify(error))
    }

    async fn run_pipeline<T: FromRedisValue>(&self, pipeline: &Pipeline) -> Result<T, StoreError> {
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
        // A primary that became a replica refuses writes: ask where the primary is now.
        let demoted = error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly);
        if error.is_io_error() || error.is_connection_dropped() || error.is_connection_refusal() || demoted {
            if let Ok(mut connection) = self.connection.try_lock() {
                connection.take();
            }
            self.mark_down();
            return StoreError::new(StoreErrorKind::Unreachable, error);
        }
        StoreError::new(StoreErrorKind::Other, error)
    }

    fn token_key(&self, key: &str) -> String {
        format!("{}{{{key}}}", self.prefix)
    }

    fn lock_key(&self, key: &str) -> String {
        format!("{}{{{key}}}:lock", self.prefix)
    }

    /// `pipeline`, then — when replicas must confirm — `WAIT` for as many as asked, at most
    /// as many as the primary has connected (`ROLE`, in the same pipeline): the command's
    /// value, and whether they confirmed it in time. A primary left alone after a failover
    /// needs no confirmation: a failover has nothing to promote, and a replica that joins
    /// later copies everything.
    async fn run_confirmed<T: FromRedisValue>(
        &self,
        mut pipeline: Pipeline,
    ) -> Result<(T, bool), StoreError> {
        if self.replicas_to_confirm == 0 {
            let (value,): (T,) = self.run_pipeline(&pipeline).await?;
            return Ok((value, true));
        }
        pipeline.cmd("ROLE");
        let (value, role): (T, Vec<Value>) = self.run_pipeline(&pipeline).await?;
        // ROLE on a primary: ["master", offset, [[host, port, offset], ...]].
        let connected = match role.get(2) {
            Some(Value::Array(replicas)) => u32::try_from(replicas.len()).unwrap_or(u32::MAX),
            _ => 0,
        };
        let wanted = self.replicas_to_confirm.min(connected);
        if wanted == 0 {
            return Ok((value, true));
        }
        let mut wait = redis::cmd("WAIT");
        wait.arg(wanted).arg(milliseconds(self.command_timeout / 2));
        let confirmed: u32 = self.run(&wait).await?;
        Ok((value, confirmed >= wanted))
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
        format!("{}{{{key}}}:failure", self.prefix)
    }
}

impl core::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedisStore").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// A store that cannot be set up as asked (a URL that does not parse, no node named).
#[cfg(not(feature = "rustls"))]
fn tls_needs_rustls() -> StoreError {
    StoreError::new(
        StoreErrorKind::Other,
        "rediss:// needs oauth-client's `rustls` feature (TLS to Redis is on rustls)",
    )
}

fn invalid_setting(error: redis::RedisError) -> StoreError {
    StoreError::new(StoreErrorKind::Other, error)
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
            let mut pipeline = redis::pipe();
            pipeline
                .cmd("EVAL")
                .arg(SAVE_SCRIPT)
                .arg(2)
                .arg(self.token_key(key))
                .arg(self.failure_key(key))
                .arg(expected_version)
                .arg(json)
                .arg(self.keep_for(token));
            let (version, confirmed): (i64, _) = self.run_confirmed(pipeline).await?;
            if !confirmed {
                tracing::warn!(
                    wanted = self.replicas_to_confirm,
                    "a saved token is not on the replicas yet; a failover now could lose it"
                );
            }
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
            let mut pipeline = redis::pipe();
            pipeline
                .cmd("SET")
                .arg(self.lock_key(key))
                .arg(&holder)
                .arg("NX")
                .arg("PX")
                .arg(milliseconds(ttl));
            let (taken, confirmed): (Option<String>, _) = self.run_confirmed(pipeline).await?;
            let lock = taken.map(|_| StoreLock { key: key.to_owned(), holder });
            // A lock only the primary has would vanish in a failover, and another process
            // would refresh with the same refresh token: give it back, and take it again.
            if let Some(lock) = &lock
                && !confirmed
            {
                let _ = self.unlock(lock.clone()).await;
                return Err(StoreError::new(StoreErrorKind::Slow, "the lock is not on enough replicas yet"));
            }
            Ok(lock)
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
