//! TLS to Redis (`rediss://`) with a rustls configuration of our own: the program's
//! process-wide provider if it installed one, else aws-lc-rs, certificates checked by the
//! platform's verifier (plus roots the caller adds) — as reqwest does for HTTPS. The redis
//! crate's own TLS would install a process-wide provider when the program has none, which a
//! library must not do to its host. Sentinel over TLS is asked here too, for the same reason:
//! the redis crate's Sentinel client connects with its own TLS.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, FromRedisValue, RedisConnectionInfo, RedisError, RedisResult, Value};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig};

use super::store::{StoreError, StoreErrorKind};

/// A `rediss://` server: where it is, how to log in, which roots to trust beyond the
/// platform's.
pub(super) struct TlsServer {
    host: String,
    port: u16,
    login: RedisConnectionInfo,
    extra_roots: Vec<CertificateDer<'static>>,
}

impl TlsServer {
    /// Reads `rediss://[user:password@]host[:port][/db]`.
    pub(super) fn parse(url: &str) -> Result<Self, StoreError> {
        let invalid =
            |reason: &str| StoreError::new(StoreErrorKind::Other, format!("the Redis URL {reason}"));
        let parsed = url::Url::parse(url).map_err(|_| invalid("does not parse"))?;
        let host = parsed.host_str().ok_or_else(|| invalid("names no host"))?;
        // An IPv6 host comes bracketed; a server name is the address without them.
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let decode = |text: &str| percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned();
        let mut login = RedisConnectionInfo::default();
        if !parsed.username().is_empty() {
            login = login.set_username(decode(parsed.username()));
        }
        if let Some(password) = parsed.password() {
            login = login.set_password(decode(password));
        }
        let db = parsed.path().trim_start_matches('/');
        if !db.is_empty() {
            login = login.set_db(db.parse().map_err(|_| invalid("has a database that is not a number"))?);
        }
        Ok(TlsServer { host, port: parsed.port().unwrap_or(6379), login, extra_roots: Vec::new() })
    }

    /// Trusts the certificates in `pem` too.
    pub(super) fn add_roots(&mut self, pem: &[u8]) -> Result<(), StoreError> {
        let roots = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().map_err(|error| {
            StoreError::new(StoreErrorKind::Other, format!("the root certificate PEM: {error}"))
        })?;
        if roots.is_empty() {
            return Err(StoreError::new(
                StoreErrorKind::Other,
                "the root certificate PEM holds no certificate",
            ));
        }
        self.extra_roots.extend(roots);
        Ok(())
    }

    /// The server at `host:port` that this one names (a sentinel its primary), logged in as
    /// `login`, trusting the same roots.
    pub(super) fn named(&self, host: String, port: u16, login: RedisConnectionInfo) -> TlsServer {
        TlsServer { host, port, login, extra_roots: self.extra_roots.clone() }
    }

    /// Connects, shakes hands within `timeout`, and logs in; the connection's driver runs in
    /// its own task.
    pub(super) async fn connect(&self, timeout: Duration) -> RedisResult<MultiplexedConnection> {
        let config = self.client_config().map_err(|error| io_error(error.to_string()))?;
        let name = ServerName::try_from(self.host.clone()).map_err(|error| io_error(error.to_string()))?;
        let handshake = async {
            let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await?;
            tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await
        };
        let stream = tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut)))??;
        let options = AsyncConnectionConfig::new().set_response_timeout(Some(timeout));
        let (connection, driver) =
            MultiplexedConnection::new_with_config(&self.login, stream, options).await?;
        tokio::spawn(driver);
        Ok(connection)
    }

    fn client_config(&self) -> Result<ClientConfig, rustls::Error> {
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            self.extra_roots.clone(),
            provider.clone(),
        )?;
        Ok(ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth())
    }
}

/// Sentinels reached over TLS, and the primary they name for a service.
pub(super) struct TlsSentinel {
    pub(super) sentinels: Vec<TlsServer>,
    pub(super) primary: String,
    /// The primary's own login (`RedisStore::primary_credentials`).
    pub(super) login: RedisConnectionInfo,
}

impl TlsSentinel {
    /// Asks each sentinel in turn for the primary and connects to it; a server that does not
    /// say it is a primary (a failover under way) is passed over for the next sentinel's
    /// answer. The last error when none answers.
    pub(super) async fn connect(&self, timeout: Duration) -> RedisResult<MultiplexedConnection> {
        let mut last_error = io_error(String::from("no sentinel was asked"));
        for sentinel in &self.sentinels {
            match self.primary_through(sentinel, timeout).await {
                Ok(primary) => return Ok(primary),
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    }

    async fn primary_through(
        &self,
        sentinel: &TlsServer,
        timeout: Duration,
    ) -> RedisResult<MultiplexedConnection> {
        let mut asked = sentinel.connect(timeout).await?;
        let address: Option<(String, u16)> = redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(&self.primary)
            .query_async(&mut asked)
            .await?;
        let (host, port) = address.ok_or_else(|| {
            io_error(format!(
                "the sentinel at {}:{} knows no primary named {}",
                sentinel.host, sentinel.port, self.primary
            ))
        })?;
        let mut primary = sentinel.named(host, port, self.login.clone()).connect(timeout).await?;
        let role: Vec<Value> = redis::cmd("ROLE").query_async(&mut primary).await?;
        match role.first().map(String::from_redis_value_ref) {
            Some(Ok(role)) if role == "master" => Ok(primary),
            _ => Err(io_error(String::from("the server the sentinel named is not a primary (yet)"))),
        }
    }
}

fn io_error(message: String) -> RedisError {
    RedisError::from(std::io::Error::other(message))
}
