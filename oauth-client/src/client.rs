//! The client: where requests go and how they are sent.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use crate::client_auth::ClientAuth;
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::error::Setting;
use crate::metadata::ProviderMetadata;
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
/// use oauth_client::{ClientAuth, ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
///
/// # async fn run() -> Result<(), oauth_client::Error> {
/// let client = OAuthClient::builder("https://auth.example.com/oauth2/token")
///     .client_auth(ClientAuth::client_secret_basic("my-client", "my-secret"))
///     .timeout(Duration::from_secs(10))
///     .build()?;
/// let token = client.request_token_ccg(Configured, Some("read"), None).await?;
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
    /// Every other endpoint's URL, by name.
    pub(crate) endpoints: BTreeMap<String, Url>,
    /// The provider's `mtls_endpoint_aliases` (RFC 8705 §5), used with mTLS authentication.
    pub(crate) mtls_aliases: BTreeMap<String, Url>,
    /// The provider's issuer identifier, when known (discovery or the builder).
    pub(crate) issuer: Option<String>,
    /// The provider's metadata, when the client was built from discovery: what features ask
    /// about the provider, they ask of it.
    pub(crate) metadata: Option<Arc<ProviderMetadata>>,
    /// How the client authenticates, applied to every attempt of every request that takes
    /// client authentication and carries no `Authorization` header of the caller's.
    pub(crate) client_auth: Option<ClientAuth>,
    /// The DPoP key and the nonces servers gave it (RFC 9449).
    #[cfg(feature = "dpop")]
    pub(crate) dpop: Option<Arc<crate::dpop::Dpop>>,
    pub(crate) timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) leniency: Leniency,
    pub(crate) retry: Option<RetryPolicy>,
    /// Whether the retry policy also covers requests with a single-use credential (off: a
    /// retry after a lost response replays a code or a rotated refresh token).
    pub(crate) retry_single_use: bool,
    /// What "now" is when a response arrives: tokens' expiry is counted from it.
    pub(crate) clock: Arc<dyn Clock>,
    /// Where the status and headers of each call's final response go, when asked for.
    pub(crate) capture: Option<ResponseCapture>,
}

impl ClientConfig {
    /// What is done to every attempt of a request, in order: the configured client
    /// authentication, then a DPoP proof. Each step says which requests it applies to.
    pub(crate) fn attempt_steps(&self) -> impl Iterator<Item = &dyn crate::attempt::AttemptStep> {
        let client_auth = self.client_auth.as_ref().map(|auth| auth as &dyn crate::attempt::AttemptStep);
        #[cfg(feature = "dpop")]
        let dpop = self.dpop.as_deref().map(|dpop| dpop as &dyn crate::attempt::AttemptStep);
        #[cfg(not(feature = "dpop"))]
        let dpop = None;
        client_auth.into_iter().chain(dpop)
    }

    /// Where requests for `endpoint` go: with mTLS authentication the provider's alias
    /// first; an error naming the endpoint and how to set it when unset.
    pub(crate) fn endpoint_url(&self, endpoint: Endpoint) -> Result<&Url, Error> {
        let name = endpoint.name();
        if self.client_auth.as_ref().is_some_and(ClientAuth::uses_mtls)
            && let Some(alias) = self.mtls_aliases.get(name)
        {
            return Ok(alias);
        }
        if endpoint == Endpoint::TOKEN {
            return Ok(&self.token_url);
        }
        self.endpoints.get(name).ok_or_else(|| {
            Error::config(Setting::Endpoint, format!(
                "no {name} endpoint is configured; set it with `OAuthClient::builder(..).endpoint_url(\"{name}\", ..)`, \
                 or discover it from the provider's metadata (`{}`)",
                endpoint.metadata_member()
            ))
        })
    }
}

impl OAuthClient {
    /// A client for the token endpoint at `token_url`, with default settings. URLs are taken
    /// as `impl Into<String>` throughout, and checked when the client is built.
    pub fn new(token_url: impl Into<String>) -> Result<Self, Error> {
        Self::builder(token_url).build()
    }

    /// A builder for a client of the token endpoint at `token_url`.
    pub fn builder(token_url: impl Into<String>) -> OAuthClientBuilder {
        OAuthClientBuilder {
            token_url: token_url.into(),
            http_client: None,
            timeout: OAuthClientBuilder::DEFAULT_TIMEOUT,
            connect_timeout: OAuthClientBuilder::DEFAULT_CONNECT_TIMEOUT,
            max_response_bytes: OAuthClientBuilder::DEFAULT_MAX_RESPONSE_BYTES,
            allow_insecure_http: false,
            strict: false,
            retry: None,
            endpoints: BTreeMap::new(),
            mtls_aliases: BTreeMap::new(),
            issuer: None,
            metadata: None,
            client_auth: None,
            #[cfg(feature = "__tls")]
            identity: None,
            #[cfg(feature = "__tls")]
            root_certificates: Vec::new(),
            #[cfg(feature = "dpop")]
            dpop: None,
        }
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> &Url {
        &self.config.token_url
    }

    /// The authorization endpoint's URL, if configured (for
    /// [`AuthorizationRequest`](crate::AuthorizationRequest)).
    pub fn authorization_url(&self) -> Option<&Url> {
        self.endpoint(Endpoint::AUTHORIZATION)
    }

    /// The device authorization endpoint's URL, if configured.
    pub fn device_authorization_url(&self) -> Option<&Url> {
        self.endpoint(Endpoint::DEVICE_AUTHORIZATION)
    }

    /// The revocation endpoint's URL, if configured.
    pub fn revocation_url(&self) -> Option<&Url> {
        self.endpoint(Endpoint::REVOCATION)
    }

    /// The introspection endpoint's URL, if configured.
    pub fn introspection_url(&self) -> Option<&Url> {
        self.endpoint(Endpoint::INTROSPECTION)
    }

    /// The URL requests to `endpoint` go to, if configured (an mTLS alias when the client
    /// authenticates with mTLS and the provider has one).
    pub fn endpoint(&self, endpoint: Endpoint) -> Option<&Url> {
        self.config.endpoint_url(endpoint).ok()
    }

    /// The provider's metadata, when the client was built from discovery
    /// ([`discover`](Self::discover) and its neighbours): what the provider supports and
    /// requires, with typed accessors.
    pub fn provider_metadata(&self) -> Option<&ProviderMetadata> {
        self.config.metadata.as_deref()
    }

    /// The provider's issuer identifier, if known (from discovery or the builder).
    pub fn issuer(&self) -> Option<&str> {
        self.config.issuer.as_deref()
    }

    /// The client's DPoP state (key and servers' nonces), shared with what is built on the
    /// client (a token manager captures it once, at build).
    #[cfg(feature = "dpop")]
    pub(crate) fn dpop_state(&self) -> Option<Arc<crate::dpop::Dpop>> {
        self.config.dpop.clone()
    }

    /// The client's DPoP key, if it has one. Feature `dpop`.
    #[cfg(feature = "dpop")]
    pub fn dpop_key(&self) -> Option<&crate::dpop::DpopKey> {
        self.config.dpop.as_ref().map(|dpop| &dpop.key)
    }

    /// A client that shares this one's connections and records the status and headers of the
    /// final response of each call it makes (success or error), for a caller that needs them
    /// (rate-limit headers, a request id to quote to the provider).
    ///
    /// ```no_run
    /// # use oauth_client::{ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
    /// # async fn run(client: OAuthClient) -> Result<(), oauth_client::Error> {
    /// let (capturing, response) = client.capturing_response();
    /// let token = capturing.request_token_ccg(Configured, None, None).await?;
    /// println!("{:?} {:?}", response.status(), response.headers().and_then(|h| h.get("x-request-id").cloned()));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn capturing_response(&self) -> (OAuthClient, ResponseCapture) {
        let capture = ResponseCapture::default();
        (self.with_config(|config| config.capture = Some(capture.clone())), capture)
    }

    /// A client that shares this one's connections but authenticates with `auth` (for
    /// one call, or a set of calls). An mTLS certificate belongs to the HTTP client and
    /// cannot be changed this way.
    #[must_use]
    pub fn with_client_auth(&self, auth: ClientAuth) -> OAuthClient {
        self.with_config(|config| config.client_auth = Some(auth))
    }

    /// A client that shares this one's connections and settings, with `endpoint` at `url`
    /// (e.g. a registered client's configuration endpoint, RFC 7592).
    pub fn with_endpoint_url(&self, endpoint: Endpoint, url: &str) -> Result<OAuthClient, Error> {
        let described = format!("{} URL", endpoint.name().replace('_', " "));
        let url = crate::endpoint_url::parse(&described, url, false)?;
        Ok(self.with_config(|config| {
            config.endpoints.insert(endpoint.name().to_owned(), url);
        }))
    }

    pub(crate) fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The client's authentication, if one is configured.
    pub fn client_auth(&self) -> Option<&ClientAuth> {
        self.config.client_auth.as_ref()
    }

    /// The HTTP client every request goes through (features that fetch documents use it).
    #[cfg(feature = "oidc")]
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.config.http
    }

    /// The URL of `endpoint`, or an error naming both ways to set it.
    #[cfg(feature = "oidc")]
    pub(crate) fn endpoint_url(&self, endpoint: Endpoint) -> Result<&Url, Error> {
        self.config.endpoint_url(endpoint)
    }

    /// A client that shares this one's connections but gives each request `timeout`: a
    /// deadline for one call, or a few.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # use oauth_client::{ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
    /// # async fn run(client: OAuthClient) -> Result<(), oauth_client::Error> {
    /// let token = client.with_timeout(Duration::from_secs(2)).request_token_ccg(Configured, None, None).await?;
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
            .field("client_auth", &self.config.client_auth)
            .finish_non_exhaustive()
    }
}

/// The status and headers of the last response a [`capturing_response`](OAuthClient::capturing_response)
/// client received. Cheap to clone: clones share the record.
#[derive(Clone, Debug, Default)]
pub struct ResponseCapture(Arc<std::sync::Mutex<Option<(reqwest::StatusCode, reqwest::header::HeaderMap)>>>);

impl ResponseCapture {
    pub(crate) fn record(&self, status: reqwest::StatusCode, headers: &reqwest::header::HeaderMap) {
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *slot = Some((status, headers.clone()));
    }

    /// The status of the last response, if one arrived.
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref().map(|(status, _)| *status)
    }

    /// The headers of the last response, if one arrived.
    pub fn headers(&self) -> Option<reqwest::header::HeaderMap> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|(_, headers)| headers.clone())
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
    endpoints: BTreeMap<String, String>,
    mtls_aliases: BTreeMap<String, String>,
    issuer: Option<String>,
    metadata: Option<Arc<ProviderMetadata>>,
    client_auth: Option<ClientAuth>,
    #[cfg(feature = "__tls")]
    identity: Option<reqwest::Identity>,
    #[cfg(feature = "__tls")]
    root_certificates: Vec<reqwest::Certificate>,
    #[cfg(feature = "dpop")]
    dpop: Option<crate::dpop::DpopKey>,
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

    /// Whether a plain `http` token URL on a host other than loopback is allowed. Default:
    /// `false`, and `build` refuses such a URL: credentials and codes would cross the network
    /// unencrypted. `http://localhost`, `http://127.0.0.1` and `http://[::1]` are always
    /// allowed.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Whether every deviation from RFC 6749 that the client repairs by default (see
    /// "Non-standard providers" in the crate docs) is refused instead, each with a precise
    /// error. Default: `false`.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
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
    pub fn authorization_url(self, url: impl Into<String>) -> Self {
        self.endpoint_url(Endpoint::AUTHORIZATION, url)
    }

    /// The device authorization endpoint (RFC 8628 §3.1).
    pub fn device_authorization_url(self, url: impl Into<String>) -> Self {
        self.endpoint_url(Endpoint::DEVICE_AUTHORIZATION, url)
    }

    /// The revocation endpoint (RFC 7009).
    pub fn revocation_url(self, url: impl Into<String>) -> Self {
        self.endpoint_url(Endpoint::REVOCATION, url)
    }

    /// The introspection endpoint (RFC 7662).
    pub fn introspection_url(self, url: impl Into<String>) -> Self {
        self.endpoint_url(Endpoint::INTROSPECTION, url)
    }

    /// The URL of `endpoint`: one of this crate's ([`Endpoint::PUSHED_AUTHORIZATION_REQUEST`],
    /// ...) or one a declared method names (`Endpoint::named("vendor_consent")`).
    ///
    /// ```
    /// use oauth_client::{Endpoint, OAuthClient};
    ///
    /// let client = OAuthClient::builder("https://auth.example.com/token")
    ///     .endpoint_url(Endpoint::named("vendor_consent"), "https://auth.example.com/consent")
    ///     .build()?;
    /// assert_eq!(client.endpoint(Endpoint::named("vendor_consent")).unwrap().path(), "/consent");
    /// # Ok::<(), oauth_client::Error>(())
    /// ```
    pub fn endpoint_url(mut self, endpoint: Endpoint, url: impl Into<String>) -> Self {
        self.endpoints.insert(endpoint.name().to_owned(), url.into());
        self
    }

    /// The provider's mTLS alias for `endpoint` (RFC 8705 §5), used instead of its URL when
    /// the client authenticates with mTLS. Discovery fills these from
    /// `mtls_endpoint_aliases`.
    pub fn mtls_endpoint_alias(mut self, endpoint: Endpoint, url: impl Into<String>) -> Self {
        self.mtls_aliases.insert(endpoint.name().to_owned(), url.into());
        self
    }

    /// The provider's issuer identifier (discovery sets it): the audience of JWT client
    /// assertions by default.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// How the client authenticates to the provider: applied to every attempt of every
    /// request that takes client authentication, unless the call itself gives an
    /// `Authorization` header (the standard grants' `authorization` argument). See
    /// [`ClientAuth`].
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = Some(auth);
        self
    }

    /// The client certificate and key for mutual TLS (RFC 8705), installed in the HTTP client
    /// the builder makes (with [`http_client`](Self::http_client), configure yours instead).
    /// Needs a TLS feature (`rustls` or `native-tls`).
    #[cfg(feature = "__tls")]
    pub fn identity(mut self, identity: reqwest::Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Trusts `certificate` as a root for the provider's TLS certificate (a private CA),
    /// in the HTTP client the builder makes. Needs a TLS feature.
    #[cfg(feature = "__tls")]
    pub fn add_root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.root_certificates.push(certificate);
        self
    }

    /// Sender-constrains tokens with DPoP (RFC 9449): every request to the provider's
    /// endpoints (token, PAR, revocation, introspection, registration, UserInfo, and any a
    /// team declares) carries a fresh proof signed with `key`, with the server's nonce once it
    /// gave one (a `use_dpop_nonce` challenge is answered once), and with the hash of the
    /// access token a request presents as `Authorization: DPoP ...`; the provider binds the
    /// tokens it issues to the key (`token_type: DPoP`). Feature `dpop`.
    #[cfg(feature = "dpop")]
    pub fn dpop(mut self, key: crate::dpop::DpopKey) -> Self {
        self.dpop = Some(key);
        self
    }

    /// Fills every endpoint the metadata names (`<name>_endpoint`), the mTLS aliases and the
    /// issuer.
    pub(crate) fn with_metadata(mut self, metadata: &ProviderMetadata) -> Self {
        for (endpoint, url) in metadata.endpoints() {
            self.endpoints.insert(endpoint.to_owned(), url.to_owned());
        }
        for (endpoint, url) in metadata.mtls_endpoint_aliases() {
            self.mtls_aliases.insert(endpoint.to_owned(), url.to_owned());
        }
        self.issuer = Some(metadata.issuer.clone());
        if let Some(jwks_uri) = metadata.jwks_uri() {
            self.endpoints.insert(crate::Endpoint::JWKS.name().to_owned(), jwks_uri.to_owned());
        }
        self.metadata = Some(Arc::new(metadata.clone()));
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<OAuthClient, Error> {
        let insecure = self.allow_insecure_http;
        let token_url = crate::endpoint_url::parse("token URL", &self.token_url, insecure)?;
        let parse_all = |urls: BTreeMap<String, String>, what: &str| {
            urls.into_iter()
                .map(|(name, url)| {
                    let described = format!("{} {what}", name.replace('_', " "));
                    Ok((name, crate::endpoint_url::parse(&described, &url, insecure)?))
                })
                .collect::<Result<BTreeMap<_, _>, Error>>()
        };
        let endpoints = parse_all(self.endpoints, "URL")?;
        let mtls_aliases = parse_all(self.mtls_aliases, "mTLS alias")?;
        let http = match self.http_client {
            Some(client) => client,
            None => {
                #[cfg(not(feature = "__tls"))]
                if token_url.scheme() == "https" {
                    return Err(Error::config(
                        Setting::HttpClient,
                        "this build has no TLS: enable oauth-client's `rustls` or \
                         `native-tls` feature, or give the builder your own client (`http_client`)",
                    ));
                }
                let builder = crate::http_client::builder().connect_timeout(self.connect_timeout);
                #[cfg(feature = "__tls")]
                let builder = {
                    let mut builder = builder;
                    if let Some(identity) = self.identity {
                        builder = builder.identity(identity);
                    }
                    for certificate in self.root_certificates {
                        builder = builder.add_root_certificate(certificate);
                    }
                    builder
                };
                builder.build().map_err(|error| Error::HttpClient(Arc::new(error)))?
            }
        };
        Ok(OAuthClient {
            config: Arc::new(ClientConfig {
                http,
                token_url,
                endpoints,
                mtls_aliases,
                issuer: self.issuer,
                metadata: self.metadata,
                client_auth: self.client_auth,
                #[cfg(feature = "dpop")]
                dpop: self.dpop.map(|key| Arc::new(crate::dpop::Dpop::new(key))),
                timeout: self.timeout,
                max_response_bytes: self.max_response_bytes,
                leniency: Leniency { strict: self.strict, any_success_status: false },
                retry: self.retry,
                retry_single_use: false,
                clock: Arc::new(SystemClock),
                capture: None,
            }),
        })
    }
}
