//! Client authentication as a step of the one runtime path: configured once on the client,
//! applied to every attempt of every request that takes it, so that what must be fresh per
//! attempt (a JWT assertion's `jti` and `exp`) is.

use std::borrow::Cow;
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderValue};

use crate::attempt::{Attempt, AttemptResponse, AttemptStep, Preparing};
use crate::basic_auth::BasicAuth;
use crate::error::Error;
use crate::error::Setting;
use crate::request::{GrantRequest, HeaderField};
use crate::secret::ClientSecret;

/// How the client proves who it is to the provider (RFC 6749 §2.3, RFC 7523 §2.2, OpenID
/// Connect Core §9, RFC 8705), set with
/// [`OAuthClientBuilder::client_auth`](crate::OAuthClientBuilder::client_auth) or per call
/// with [`OAuthClient::with_client_auth`](crate::OAuthClient::with_client_auth).
///
/// | method | constructor | on the wire |
/// |---|---|---|
/// | `none` (public client) | [`none`](Self::none) | `client_id` in the form |
/// | `client_secret_basic` | [`client_secret_basic`](Self::client_secret_basic) | `Authorization: Basic` of the form-urlencoded id and secret |
/// | `client_secret_basic`, raw | [`client_secret_basic_unescaped`](Self::client_secret_basic_unescaped) | the same without form-urlencoding (for providers that skip it) |
/// | `client_secret_post` | [`client_secret_post`](Self::client_secret_post) | `client_id` and `client_secret` in the form |
/// | `client_secret_jwt` | `client_secret_jwt` (feature `jwt`) | a fresh HS256 assertion per attempt |
/// | `private_key_jwt` | `private_key_jwt` (feature `jwt`) | a fresh RS256/PS256/ES256/EdDSA assertion per attempt |
/// | `tls_client_auth`, `self_signed_tls_client_auth` | [`tls_client_auth`](Self::tls_client_auth), [`self_signed_tls_client_auth`](Self::self_signed_tls_client_auth) | the TLS client certificate, `client_id` in the form |
/// | your own | [`custom`](Self::custom) | whatever your [`AuthenticateClient`] adds |
///
/// The grants that authenticate the client take it as their `authorization` argument:
/// [`ClientAuthorization::Configured`]. A call that gives an `Authorization` header of its own
/// ([`ClientAuthorization::Header`]) is sent as given: the configured method does not apply.
///
/// ```
/// use oauth_client::{ClientAuth, OAuthClient};
///
/// let client = OAuthClient::builder("https://auth.example.com/token")
///     .client_auth(ClientAuth::client_secret_post("my-client", "my-secret"))
///     .build()?;
/// assert_eq!(format!("{:?}", ClientAuth::client_secret_post("my-client", "my-secret")),
///            r#"ClientAuth { method: "client_secret_post", client_id: Some("my-client") }"#);
/// # Ok::<(), oauth_client::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientAuth {
    method: &'static str,
    client_id: Option<String>,
    /// Whether the method puts `client_id` in the form itself (all built-ins but Basic).
    client_id_in_form: bool,
    mtls: bool,
    authenticator: Arc<dyn AuthenticateClient>,
}

/// A way of authenticating the client, applied to each attempt of a request: add headers
/// or form fields computed now (a signature over the request, a fresh assertion, ...).
///
/// ```
/// use oauth_client::{Attempt, AuthenticateClient, ClientAuth, ConfigError, Error, Setting};
/// use reqwest::header::{HeaderName, HeaderValue};
///
/// /// A vendor's header: the client id and a timestamp (a real one would sign them).
/// struct VendorHeader { client_id: String }
///
/// impl AuthenticateClient for VendorHeader {
///     fn authenticate(&self, attempt: &mut Attempt<'_>) -> Result<(), Error> {
///         let value = format!("{}:{}", self.client_id, attempt.now());
///         let value = HeaderValue::from_str(&value).map_err(|_| Error::from(ConfigError::new(Setting::Custom, "bad header")))?;
///         attempt.insert_header(HeaderName::from_static("x-vendor-auth"), value);
///         Ok(())
///     }
/// }
///
/// let auth = ClientAuth::custom("vendor_header", VendorHeader { client_id: "me".into() });
/// ```
pub trait AuthenticateClient: Send + Sync + 'static {
    /// Adds this client's credentials to `attempt`.
    fn authenticate(&self, attempt: &mut Attempt<'_>) -> Result<(), Error>;

    /// Gets, once per request and before its attempts, what [`authenticate`](Self::authenticate)
    /// needs and cannot get without waiting — a workload's platform token read from a file, a
    /// URL or a program. `None` (the default): nothing to wait for, and nothing is allocated.
    fn prepare(&self) -> Option<Preparing<'_>> {
        None
    }

    /// Sees the response to an attempt before it is interpreted; `true` sends the request
    /// again at once, authenticated anew — for a challenge the next attempt can answer (a
    /// server nonce to include, for instance). Asked at most once per request, so a server
    /// that keeps challenging cannot make a loop. Default: never.
    fn wants_retry(&self, response: &AttemptResponse<'_>) -> bool {
        let _ = response;
        false
    }
}

impl ClientAuth {
    /// A public client (RFC 6749 §2.1): no secret, `client_id` in the form.
    pub fn none(client_id: impl Into<String>) -> Self {
        let client_id = client_id.into();
        Self::builtin(
            "none",
            Some(client_id.clone()),
            false,
            FormFields(vec![("client_id", client_id.into())]),
        )
    }

    /// `client_secret_basic` (RFC 6749 §2.3.1): `Authorization: Basic` of the
    /// form-urlencoded id and secret.
    pub fn client_secret_basic(client_id: impl Into<String>, client_secret: impl Into<ClientSecret>) -> Self {
        let basic = BasicAuth::new(client_id, client_secret);
        Self::basic("client_secret_basic", &basic, basic.header_value())
    }

    /// `client_secret_basic` without form-urlencoding id and secret first, for providers that
    /// skip that step of RFC 6749 §2.3.1.
    pub fn client_secret_basic_unescaped(
        client_id: impl Into<String>,
        client_secret: impl Into<ClientSecret>,
    ) -> Self {
        let basic = BasicAuth::new(client_id, client_secret);
        Self::basic("client_secret_basic", &basic, basic.unescaped_header_value())
    }

    fn basic(method: &'static str, basic: &BasicAuth, header: String) -> Self {
        let mut value = HeaderValue::try_from(header).unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        let mut auth = Self::builtin(method, Some(basic.client_id().to_owned()), false, BasicHeader(value));
        // Basic carries the id in the header only.
        auth.client_id_in_form = false;
        auth
    }

    /// `client_secret_post` (RFC 6749 §2.3.1): `client_id` and `client_secret` in the form.
    pub fn client_secret_post(client_id: impl Into<String>, client_secret: impl Into<ClientSecret>) -> Self {
        let client_id = client_id.into();
        let secret: ClientSecret = client_secret.into();
        let fields = vec![("client_id", client_id.clone().into()), ("client_secret", secret)];
        Self::builtin("client_secret_post", Some(client_id), false, FormFields(fields))
    }

    /// `tls_client_auth` (RFC 8705 §2.1): the client proves itself with a certificate from a
    /// CA the provider trusts, given to the HTTP client (`OAuthClientBuilder::identity`, with
    /// a TLS feature); `client_id`
    /// goes in the form, and the provider's mTLS endpoint aliases are used.
    pub fn tls_client_auth(client_id: impl Into<String>) -> Self {
        let client_id = client_id.into();
        Self::builtin(
            "tls_client_auth",
            Some(client_id.clone()),
            true,
            FormFields(vec![("client_id", client_id.into())]),
        )
    }

    /// `self_signed_tls_client_auth` (RFC 8705 §2.2): as [`tls_client_auth`](Self::tls_client_auth),
    /// with a self-signed certificate registered with the provider.
    pub fn self_signed_tls_client_auth(client_id: impl Into<String>) -> Self {
        let client_id = client_id.into();
        let fields = FormFields(vec![("client_id", client_id.clone().into())]);
        Self::builtin("self_signed_tls_client_auth", Some(client_id), true, fields)
    }

    /// A method of your own, called `method` in `Debug` output.
    pub fn custom(method: &'static str, authenticator: impl AuthenticateClient) -> Self {
        ClientAuth {
            method,
            client_id: None,
            client_id_in_form: false,
            mtls: false,
            authenticator: Arc::new(authenticator),
        }
    }

    /// Whether this method authenticates with the TLS client certificate, so that the
    /// provider's mTLS endpoint aliases are used. Default: `false` for a custom method.
    #[must_use]
    pub fn over_mtls(mut self, mtls: bool) -> Self {
        self.mtls = mtls;
        self
    }

    pub(crate) fn builtin(
        method: &'static str,
        client_id: Option<String>,
        mtls: bool,
        authenticator: impl AuthenticateClient,
    ) -> Self {
        let client_id_in_form = client_id.is_some();
        ClientAuth { method, client_id, client_id_in_form, mtls, authenticator: Arc::new(authenticator) }
    }

    /// The method's name, as providers' metadata spell it (`client_secret_basic`, ...).
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The client identifier, for the built-in methods.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// Whether the method puts `client_id` in the form itself (every built-in method but
    /// Basic), so a request must not repeat it.
    pub(crate) fn sends_client_id(&self) -> bool {
        self.client_id_in_form
    }

    /// Whether the method uses the TLS client certificate (and so the mTLS aliases).
    pub fn uses_mtls(&self) -> bool {
        self.mtls
    }
}

/// The configured authentication is a step of every attempt of a request that takes it,
/// unless the call authenticated itself with an `Authorization` header.
impl AttemptStep for ClientAuth {
    fn applies_to(&self, request: &GrantRequest<'_>) -> bool {
        request.client_auth && !request.has_header("authorization")
    }

    fn prepare(&self) -> Option<Preparing<'_>> {
        self.authenticator.prepare()
    }

    fn apply(&self, attempt: &mut Attempt<'_>) -> Result<(), Error> {
        self.authenticator.authenticate(attempt)
    }

    fn challenge(&self, response: &AttemptResponse<'_>) -> Option<&'static str> {
        self.authenticator.wants_retry(response).then_some(crate::retry::CLIENT_AUTH_CHALLENGE)
    }
}

// Secrets live in the authenticator, which is never printed.
impl core::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("method", &self.method)
            .field("client_id", &self.client_id)
            .finish()
    }
}

/// Form fields sent as they are (`client_id`, `client_secret`).
struct FormFields(Vec<(&'static str, ClientSecret)>);

impl AuthenticateClient for FormFields {
    fn authenticate(&self, attempt: &mut Attempt<'_>) -> Result<(), Error> {
        for (name, value) in &self.0 {
            attempt.add_form(name, value.secret());
        }
        Ok(())
    }
}

/// A ready `Authorization` header value.
struct BasicHeader(HeaderValue);

impl AuthenticateClient for BasicHeader {
    fn authenticate(&self, attempt: &mut Attempt<'_>) -> Result<(), Error> {
        if self.0.is_empty() {
            return Err(Error::config(
                Setting::ClientAuth,
                "the client id or secret holds characters that cannot go in an Authorization header",
            ));
        }
        attempt.insert_header(AUTHORIZATION, self.0.clone());
        Ok(())
    }
}

/// The `authorization` argument of the grants that authenticate the client
/// ([`request_token_ccg`](crate::OAuthAuthorization::request_token_ccg) and the others):
/// the client's configured [`ClientAuth`] — what to pass — or, for code written against the
/// header-string signatures, an `Authorization` header value sent as given.
///
/// A `&str`, `&String` or `String` converts into a header value, so existing calls compile
/// unchanged; an empty string still means the configured authentication, as it did.
///
/// ```no_run
/// use oauth_client::{BasicAuth, ClientAuth, ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
///
/// # async fn run() -> Result<(), oauth_client::Error> {
/// let client = OAuthClient::builder("https://auth.example.com/token")
///     .client_auth(ClientAuth::client_secret_basic("my-client", "my-secret"))
///     .build()?;
/// // The configured authentication, fresh for every attempt:
/// let token = client.request_token_ccg(Configured, Some("read"), None).await?;
/// // A header of the caller's own, sent as it is (the configured method then does not apply):
/// let basic = BasicAuth::new("other-client", "other-secret");
/// let token = client.request_token_ccg(&basic, Some("read"), None).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub enum ClientAuthorization<'a> {
    /// The client's configured [`ClientAuth`] (set with
    /// [`OAuthClientBuilder::client_auth`](crate::OAuthClientBuilder::client_auth), or per
    /// call with [`OAuthClient::with_client_auth`](crate::OAuthClient::with_client_auth)).
    #[default]
    Configured,
    /// An `Authorization` header value of the caller's own, sent as given.
    Header(Cow<'a, str>),
}

impl<'a> ClientAuthorization<'a> {
    /// The header value to send, if the caller gave one.
    pub fn header_value(&self) -> Option<&str> {
        match self {
            ClientAuthorization::Configured => None,
            ClientAuthorization::Header(value) => Some(value),
        }
    }

    fn header(value: Cow<'a, str>) -> Self {
        // The header-string signatures said "the configured authentication" with "".
        if value.is_empty() { ClientAuthorization::Configured } else { ClientAuthorization::Header(value) }
    }
}

impl<'a> From<&'a str> for ClientAuthorization<'a> {
    fn from(value: &'a str) -> Self {
        Self::header(Cow::Borrowed(value))
    }
}

impl<'a> From<&'a String> for ClientAuthorization<'a> {
    fn from(value: &'a String) -> Self {
        Self::header(Cow::Borrowed(value))
    }
}

impl From<String> for ClientAuthorization<'_> {
    fn from(value: String) -> Self {
        Self::header(Cow::Owned(value))
    }
}

/// `Authorization: Basic` of these credentials ([`BasicAuth::header_value`]).
impl From<&BasicAuth> for ClientAuthorization<'_> {
    fn from(basic: &BasicAuth) -> Self {
        ClientAuthorization::Header(Cow::Owned(basic.header_value()))
    }
}

impl<'a> From<&ClientAuthorization<'a>> for ClientAuthorization<'a> {
    fn from(value: &ClientAuthorization<'a>) -> Self {
        value.clone()
    }
}

/// The configured authentication adds no header here (the client's [`ClientAuth`] is applied
/// to each attempt); a header value of the caller's is sent as given.
impl HeaderField for ClientAuthorization<'_> {
    fn add_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
        if let Some(value) = self.header_value() {
            value.add_to(name, request);
        }
    }
}

// A header value carries credentials (Basic is only base64): never shown.
impl core::fmt::Debug for ClientAuthorization<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ClientAuthorization::Configured => f.write_str("Configured"),
            ClientAuthorization::Header(_) => {
                f.debug_tuple("Header").field(&crate::secret::Redacted).finish()
            }
        }
    }
}
