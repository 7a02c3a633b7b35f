//! The client: where requests go and how they are sent.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::request::Endpoint;
use crate::response::Leniency;
use crate::retry::RetryPolicy;

/// Gives generated grant methods the [`OAuthClient`] that sends their requests.
///
/// Every trait that declares grants with [`oauth_grant`](crate::oauth_grant) has this as its
/// supertrait. [`OAuthClient`] implements it; so can a type of yours that holds a client:
///
/// ```
/// use oauth_client::{OAuthAuthorization, OAuthClient, TokenEndpoint};
///
/// struct Provider {
///     client: OAuthClient,
///     tenant: String,
/// }
///
/// impl TokenEndpoint for Provider {
///     fn oauth_client(&self) -> &OAuthClient {
///         &self.client
///     }
/// }
///
/// impl OAuthAuthorization for Provider {}
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `TokenEndpoint`",
    note = "a trait with #[oauth_grant] methods needs `TokenEndpoint` as its supertrait: `trait MyGrants: oauth_client::TokenEndpoint {{ ... }}`"
)]
pub trait TokenEndpoint: Send + Sync {
    /// The client that sends this type's requests.
    fn oauth_client(&self) -> &OAuthClient;
}

/// An OAuth 2.0 client for one token endpoint.
///
/// Cheap to clone: clones share the connection pool and configuration.
///
/// ```no_run
/// use std::time::Duration;
/// use oauth_client::{BasicAuth, OAuthAuthorization, OAuthClient};
///
/// # async fn run() -> Result<(), oauth_client::Error> {
/// let client = OAuthClient::builder("https://auth.example.com/oauth2/token")
///     .timeout(Duration::from_secs(10))
///     .build()?;
/// let auth = BasicAuth::new("my-client", "my-secret").header_value();
/// let token = client.request_token_ccg(&auth, Some("read"), None).await?;
/// println!("{token:?}"); // the token itself prints as [redacted]
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OAuthClient {
    config: Arc<ClientConfig>,
}

#[derive(Clone)]
pub(crate) struct ClientConfig {
    pub(crate) http: reqwest::Client,
    pub(crate) token_url: Url,
    pub(crate) endpoints: Endpoints,
    pub(crate) timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) leniency: Leniency,
    pub(crate) retry: Option<RetryPolicy>,
    /// Whether the retry policy also covers requests with a single-use credential (off: a
    /// retry after a lost response replays a code or a rotated refresh token).
    pub(crate) retry_single_use: bool,
    /// What "now" is when a response arrives: tokens' expiry is counted from it.
    pub(crate) clock: Arc<dyn Clock>,
}

/// The provider's endpoints other than the token endpoint: as given to the builder
/// (`String`), then as checked by `build` (`Url`).
#[derive(Clone, Debug)]
pub(crate) struct Endpoints<U = Url> {
    pub(crate) authorization: Option<U>,
    pub(crate) device_authorization: Option<U>,
    pub(crate) revocation: Option<U>,
    pub(crate) introspection: Option<U>,
}

impl<U> Default for Endpoints<U> {
    fn default() -> Self {
        Endpoints { authorization: None, device_authorization: None, revocation: None, introspection: None }
    }
}

impl ClientConfig {
    /// Where requests for `endpoint` go; an error naming the builder method when unset.
    pub(crate) fn endpoint_url(&self, endpoint: Endpoint) -> Result<&Url, Error> {
        let url = match endpoint {
            Endpoint::Token => Some(&self.token_url),
            Endpoint::DeviceAuthorization => self.endpoints.device_authorization.as_ref(),
            Endpoint::Revocation => self.endpoints.revocation.as_ref(),
            Endpoint::Introspection => self.endpoints.introspection.as_ref(),
        };
        url.ok_or_else(|| {
            Error::Config(format!(
                "no {name} endpoint is configured; set it with `OAuthClient::builder(..).{name}_url(..)`",
                name = endpoint.name()
            ))
        })
    }
}

impl OAuthClient {
    /// A client for the token endpoint at `token_url`, with default settings.
    pub fn new(token_url: impl AsRef<str>) -> Result<Self, Error> {
        Self::builder(token_url).build()
    }

    /// A builder for a client of the token endpoint at `token_url`.
    pub fn builder(token_url: impl AsRef<str>) -> OAuthClientBuilder {
        OAuthClientBuilder {
            token_url: token_url.as_ref().to_owned(),
            http_client: None,
            timeout: OAuthClientBuilder::DEFAULT_TIMEOUT,
            connect_timeout: OAuthClientBuilder::DEFAULT_CONNECT_TIMEOUT,
            max_response_bytes: OAuthClientBuilder::DEFAULT_MAX_RESPONSE_BYTES,
            allow_insecure_http: false,
            strict: false,
            retry: None,
            endpoints: Endpoints::default(),
        }
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> &Url {
        &self.config.token_url
    }

    /// The authorization endpoint's URL, if configured (for
    /// [`AuthorizationRequest`](crate::AuthorizationRequest)).
    pub fn authorization_url(&self) -> Option<&Url> {
        self.config.endpoints.authorization.as_ref()
    }

    /// The device authorization endpoint's URL, if configured.
    pub fn device_authorization_url(&self) -> Option<&Url> {
        self.config.endpoints.device_authorization.as_ref()
    }

    /// The revocation endpoint's URL, if configured.
    pub fn revocation_url(&self) -> Option<&Url> {
        self.config.endpoints.revocation.as_ref()
    }

    /// The introspection endpoint's URL, if configured.
    pub fn introspection_url(&self) -> Option<&Url> {
        self.config.endpoints.introspection.as_ref()
    }

    pub(crate) fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// A client that shares this one's connections but gives each request `timeout`: the
    /// per-call deadline of the TypeScript SDK's request options.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # use oauth_client::{OAuthAuthorization, OAuthClient};
    /// # async fn run(client: OAuthClient, auth: String) -> Result<(), oauth_client::Error> {
    /// let token = client.with_timeout(Duration::from_secs(2)).request_token_ccg(&auth, None, None).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// To cancel a call without a deadline, drop its future.
    #[must_use]
    pub fn with_timeout(&self, timeout: Duration) -> OAuthClient {
        self.with_config(|config| config.timeout = timeout)
    }

    /// A client that applies its retry policy to every failure of requests that carry a
    /// single-use credential — an authorization code, a refresh token, a JWT assertion —
    /// too. Without it such a request is retried only when the provider certainly did not
    /// process it (no connection, 429, or 503 with `Retry-After`): after a timeout the
    /// provider may already have consumed the code or rotated the refresh token, and a
    /// rotating provider revokes the whole grant when the old one comes back (RFC 9700
    /// §4.14.2). Use it only with a provider known to answer a replay idempotently.
    #[must_use]
    pub fn retrying_single_use_credentials(&self) -> OAuthClient {
        self.with_config(|config| config.retry_single_use = true)
    }

    /// The former name of [`retrying_single_use_credentials`](Self::retrying_single_use_credentials),
    /// which now covers refresh tokens and assertions as well as codes.
    #[deprecated(since = "0.1.0", note = "use `retrying_single_use_credentials`")]
    #[must_use]
    pub fn retrying_authorization_code(&self) -> OAuthClient {
        self.retrying_single_use_credentials()
    }

    /// A client that shares this one's connections but stamps tokens' expiry with `clock`:
    /// the token manager's, so that expiry and its checks agree.
    pub(crate) fn with_clock(&self, clock: Arc<dyn Clock>) -> OAuthClient {
        self.with_config(|config| config.clock = clock)
    }

    /// The longest a request through this client can take: every attempt the retry policy
    /// allows at the full timeout, plus the longest waits between them.
    pub(crate) fn request_budget(&self) -> Duration {
        let config = &self.config;
        let Some(policy) = &config.retry else { return config.timeout };
        let attempts = policy.max_retries().saturating_add(1);
        config
            .timeout
            .saturating_mul(attempts)
            .saturating_add(policy.longest_backoff().saturating_mul(policy.max_retries()))
    }

    fn with_config(&self, change: impl FnOnce(&mut ClientConfig)) -> OAuthClient {
        let mut config = ClientConfig::clone(&self.config);
        change(&mut config);
        OAuthClient { config: Arc::new(config) }
    }
}

impl TokenEndpoint for OAuthClient {
    fn oauth_client(&self) -> &OAuthClient {
        self
    }
}

impl core::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("token_url", &self.config.token_url.as_str())
            .field("timeout", &self.config.timeout)
            .field("max_response_bytes", &self.config.max_response_bytes)
            .field("strict", &self.config.leniency.strict)
            .field("retry", &self.config.retry)
            .finish_non_exhaustive()
    }
}

/// Configures an [`OAuthClient`]; made by [`OAuthClient::builder`].
#[derive(Debug)]
#[must_use]
pub struct OAuthClientBuilder {
    token_url: String,
    http_client: Option<reqwest::Client>,
    timeout: Duration,
    connect_timeout: Duration,
    max_response_bytes: usize,
    allow_insecure_http: bool,
    strict: bool,
    retry: Option<RetryPolicy>,
    pub(crate) endpoints: Endpoints<String>,
}

impl OAuthClientBuilder {
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

    /// Sends requests with your own `reqwest::Client` (proxy, mTLS, custom roots, ...).
    ///
    /// The client's redirect policy is yours: the default client never follows redirects,
    /// so that credentials and codes are not forwarded to another URL. Configure yours with
    /// `reqwest::redirect::Policy::none()` to keep that guarantee.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// The time a whole request may take, from sending to the last byte of the response.
    /// Default: 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time to establish a connection, when the client builds its own HTTP client.
    /// Default: 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest response body the client reads; a larger one ends in
    /// [`Error::ResponseTooLarge`]. Default: 1 MiB.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Allows a plain `http` token URL on a host other than loopback. Without it, `build`
    /// refuses such a URL: credentials and codes would cross the network unencrypted.
    /// `http://localhost`, `http://127.0.0.1` and `http://[::1]` are always allowed.
    pub fn allow_insecure_http(mut self) -> Self {
        self.allow_insecure_http = true;
        self
    }

    /// Rejects every deviation from RFC 6749 in responses that the client repairs by default
    /// (see "Non-standard providers" in the crate docs), each with a precise error.
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Retries requests that fail transiently (transport error, timeout, 429, 5xx) with
    /// exponential backoff, honouring `Retry-After`. Off by default. A request that carries a
    /// single-use credential (code, refresh token, assertion) is retried only when the
    /// provider certainly did not process it, unless
    /// [`OAuthClient::retrying_single_use_credentials`] says otherwise.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The authorization endpoint (RFC 6749 §3.1), for building authorization URLs.
    pub fn authorization_url(mut self, url: impl Into<String>) -> Self {
        self.endpoints.authorization = Some(url.into());
        self
    }

    /// The device authorization endpoint (RFC 8628 §3.1).
    pub fn device_authorization_url(mut self, url: impl Into<String>) -> Self {
        self.endpoints.device_authorization = Some(url.into());
        self
    }

    /// The revocation endpoint (RFC 7009).
    pub fn revocation_url(mut self, url: impl Into<String>) -> Self {
        self.endpoints.revocation = Some(url.into());
        self
    }

    /// The introspection endpoint (RFC 7662).
    pub fn introspection_url(mut self, url: impl Into<String>) -> Self {
        self.endpoints.introspection = Some(url.into());
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<OAuthClient, Error> {
        let insecure = self.allow_insecure_http;
        let token_url = crate::endpoint_url::parse("token URL", &self.token_url, insecure)?;
        let optional = |what: &str, url: Option<String>| {
            url.map(|url| crate::endpoint_url::parse(what, &url, insecure)).transpose()
        };
        let endpoints = Endpoints {
            authorization: optional("authorization URL", self.endpoints.authorization)?,
            device_authorization: optional("device authorization URL", self.endpoints.device_authorization)?,
            revocation: optional("revocation URL", self.endpoints.revocation)?,
            introspection: optional("introspection URL", self.endpoints.introspection)?,
        };
        let http = match self.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|error| Error::Config(format!("could not build the HTTP client: {error}")))?,
        };
        Ok(OAuthClient {
            config: Arc::new(ClientConfig {
                http,
                token_url,
                endpoints,
                timeout: self.timeout,
                max_response_bytes: self.max_response_bytes,
                leniency: Leniency { strict: self.strict },
                retry: self.retry,
                retry_single_use: false,
                clock: Arc::new(SystemClock),
            }),
        })
    }
}
