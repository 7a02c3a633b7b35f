//! The one error type of the crate.

use std::borrow::Cow;
use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::provider_error::{OAuthProviderError, OAuthProviderErrorKind};

/// Everything that can go wrong when talking to the provider.
///
/// No variant carries a request body or an `Authorization` header, so an `Error` can be
/// logged as it is. It is `Clone`, so one failed refresh can be handed to every caller that
/// waited for it ([`TokenManager`](crate::TokenManager)).
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The provider answered with an RFC 6749 §5.2 error object (HTTP 400 or 401).
    #[error("{}: {error}", provider_message(*status, &error.error))]
    Provider {
        /// The HTTP status (400 or 401).
        status: StatusCode,
        /// The decoded error object, boxed to keep `Error` small.
        error: Box<OAuthProviderError>,
        /// The response headers (`WWW-Authenticate`, `DPoP-Nonce`, `Retry-After`, ...),
        /// boxed to keep `Error` small.
        headers: Box<HeaderMap>,
    },

    /// The provider answered with a status this operation does not expect (e.g. 403, 500,
    /// 503, or a 400/401 without an RFC 6749 error object).
    #[error("{} answered HTTP {}, which is neither success nor an OAuth 2 error", answered_by(url.as_deref()), status.as_u16())]
    Http {
        /// The HTTP status.
        status: StatusCode,
        /// The URL that answered, without its query (which may carry codes or tokens), when
        /// known.
        url: Option<Box<str>>,
        /// The response headers, boxed to keep `Error` small.
        headers: Box<HeaderMap>,
        /// The response body, decoded as UTF-8 (invalid sequences replaced), with every
        /// credential in it replaced by `[redacted]`: secret members of JSON (at any depth,
        /// in any case) and forms, and token-like runs of other text.
        body: String,
    },

    /// A success response whose body is not the expected model.
    #[error(
        "the provider's response (HTTP {}) could not be decoded: {reason}; body starts with: {excerpt}",
        status.as_u16()
    )]
    Decode {
        /// The HTTP status.
        status: StatusCode,
        /// Why decoding failed.
        reason: String,
        /// The first bytes of the body, with the values of secret-bearing members removed.
        excerpt: String,
    },

    /// The token endpoint answered with a redirect (3xx), or the HTTP client followed one to
    /// another origin. Credentials and codes are never re-sent to where it points.
    #[error("the provider answered HTTP {} redirecting to {}; redirects from the token endpoint are not followed", status.as_u16(), location.as_deref().unwrap_or("nowhere"))]
    UnexpectedRedirect {
        /// The HTTP status.
        status: StatusCode,
        /// Where the redirect pointed (`Location`), if it said.
        location: Option<String>,
    },

    /// The response body is larger than the client's limit.
    #[error("the provider's response (HTTP {}) is larger than the limit of {limit} bytes", status.as_u16())]
    ResponseTooLarge {
        /// The HTTP status.
        status: StatusCode,
        /// The limit in bytes.
        limit: usize,
    },

    /// The request did not complete in time.
    #[error("the request to the provider timed out")]
    Timeout,

    /// The request could not be sent or the response could not be read; the HTTP client's
    /// error is the [`source`](std::error::Error::source). The message names the URL,
    /// without its query.
    #[error("could not reach {}", reached(_0))]
    Transport(#[source] Arc<reqwest::Error>),

    /// The token manager needs a new token but has no way to get one without the user: the
    /// token has no refresh token, or the provider refused it. Authorize again.
    #[error("the token cannot be refreshed: {reason}")]
    RefreshUnavailable {
        /// Why, in a sentence.
        reason: String,
        /// The provider's refusal (`invalid_grant`), when there was one.
        #[source]
        source: Option<Box<Error>>,
    },

    /// Another token manager sharing the store failed to refresh the token moments ago (a
    /// transport error, a 5xx, ...); this one does not call the provider again until the
    /// failure backoff has passed ([`TokenManagerBuilder::failure_backoff`](crate::manager::TokenManagerBuilder::failure_backoff)).
    #[error("the shared token could not be refreshed moments ago: {message}")]
    SharedRefreshFailed {
        /// What went wrong, as the manager that tried reported it.
        message: String,
    },

    /// The token manager's shared store cannot be reached, its token has expired, and
    /// refreshing without the store could replay the refresh token (another process may be
    /// refreshing with the same one; a rotating provider then revokes the grant, RFC 9700
    /// §4.14.2). The manager tries again on the next call; the grant stays intact.
    #[error(
        "the shared token store is unreachable and refreshing without it could replay the refresh token: {message}"
    )]
    StoreUnavailable {
        /// Why the store could not be used.
        message: String,
    },

    /// The token manager needed to refresh outside a Tokio runtime: refreshes run in their
    /// own task. Call it from within a runtime.
    #[error("the token manager must refresh in a Tokio runtime, and this call is outside one")]
    NoRuntime,

    /// The redirect back from the authorization endpoint does not carry a code for this
    /// request.
    #[error(transparent)]
    Redirect(#[from] RedirectError),

    /// The device code of a device flow expired before the user finished (RFC 8628 §3.5).
    #[error("the device code expired after {expires_in} s before the user finished")]
    DeviceCodeExpired {
        /// The device code's lifetime in seconds.
        expires_in: u64,
    },

    /// A resource server refused the token for lacking scope (`error="insufficient_scope"`
    /// in `WWW-Authenticate`, RFC 6750 §3.1): a new token with the same scope would not do.
    /// Ask for `scope` (a step-up authorization, or a client allowed more).
    #[error("the resource server answered HTTP {}: the token lacks scope{}", status.as_u16(), scope.as_deref().map(|scope| format!(" (it asks for `{scope}`)")).unwrap_or_default())]
    InsufficientScope {
        /// The HTTP status (403, sometimes 401).
        status: StatusCode,
        /// The scope the resource server says the request needs, if it said.
        scope: Option<String>,
        /// The whole challenge: its `error_description`, and its `resource_metadata` (RFC 9728
        /// §5.1), where to find the authorization servers that can grant that scope. Boxed:
        /// every `Result<_, Error>` carries the largest variant.
        challenge: Box<crate::challenge::ResourceChallenge>,
    },

    /// A request to a resource server could not be built or authorized (an invalid URL or
    /// header, a token that is not a header value); nothing was sent.
    #[error("the resource request is not valid: {0}")]
    InvalidResourceRequest(String),

    /// A protected resource's metadata (RFC 9728) could not be used.
    #[error(transparent)]
    ResourceMetadata(ResourceMetadataError),

    /// A workload's platform token (a Kubernetes service-account token, a CI job's OIDC
    /// token, a JWT-SVID) could not be had, or has expired; nothing was sent with it.
    #[error(transparent)]
    WorkloadToken(Box<WorkloadTokenError>),

    /// The client or the request is misconfigured; nothing was sent. The error names the
    /// [`Setting`] to fix.
    #[error("invalid configuration: {0}")]
    Config(ConfigError),

    /// A URL given to the client does not parse; nothing was sent.
    #[error("the {what} `{url}` is not a valid URL")]
    InvalidUrl {
        /// Which URL (`token URL`, `authorization URL`, ...).
        what: Box<str>,
        /// The URL as given.
        url: Box<str>,
        /// Why it does not parse.
        #[source]
        source: url::ParseError,
    },

    /// A header given to a request has an invalid name or value (a control character or a
    /// line break); nothing was sent. The value is not shown: it may be a credential.
    #[error("the header `{name}` is not a valid HTTP header")]
    InvalidHeader {
        /// The header's name as given.
        name: String,
        /// What is wrong with it.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },

    /// The system's random number generator failed (for `state`, a PKCE verifier, a `jti`,
    /// a DPoP key); nothing was sent.
    #[error("the system's random number generator failed")]
    Random(#[source] getrandom::Error),

    /// A JWT could not be signed (a client assertion, a DPoP proof, a request object), or a
    /// key is not usable for its algorithm; nothing was sent.
    #[error("could not {what}")]
    Signing {
        /// What failed: "sign the DPoP proof", "use the RSA private key", ...
        what: String,
        /// The signing library's error.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },

    /// The HTTP client could not be built (a TLS backend that failed to start, an invalid
    /// client certificate).
    #[error("could not build the HTTP client")]
    HttpClient(#[source] Arc<reqwest::Error>),

    /// A [`DeclaredCall`](crate::declared::DeclaredCall) does not match its method's
    /// declaration; nothing was sent.
    #[error("invalid call of `{method}`: {reason}")]
    InvalidCall {
        /// The declared method.
        method: &'static str,
        /// What does not match.
        reason: String,
    },
}

/// Who answered: the URL without its query, or "the provider" when it is not known.
fn answered_by(url: Option<&str>) -> String {
    url.map_or_else(|| "the provider".to_owned(), |url| format!("`{url}`"))
}

/// Where the HTTP client could not get to: the request's URL without its query.
fn reached(error: &reqwest::Error) -> String {
    match error.url() {
        Some(url) => format!("`{}`", without_query(url)),
        None => "the server".to_owned(),
    }
}

/// `url` without its query and fragment: what errors and traces may show (a query may carry
/// a code or a token), and DPoP's `htu` (RFC 9449 §4.2).
pub(crate) fn without_query(url: &reqwest::Url) -> &str {
    &url[..url::Position::AfterPath]
}

/// The lead of a provider error's message: "client authentication failed" only when the
/// provider said so (`invalid_client`); any other 401 (`invalid_token`, `invalid_dpop_proof`,
/// ...) is named by its code, which the message goes on to give.
fn provider_message(status: StatusCode, kind: &OAuthProviderErrorKind) -> &'static str {
    match (status, kind) {
        (_, OAuthProviderErrorKind::InvalidClient) => "OAuth 2 provider says client authentication failed",
        (StatusCode::UNAUTHORIZED, _) => "OAuth 2 provider refused the request",
        _ => "OAuth 2 provider returned an error",
    }
}

impl Error {
    /// Whether sending the same request again may succeed: a transport error, a timeout,
    /// HTTP 429, or a 5xx status.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport(_) | Error::Timeout => true,
            Error::Http { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            _ => false,
        }
    }

    /// Whether the failure shows that the provider did not act on the request, so that even
    /// a single-use credential may be sent again: the connection was never made, or the
    /// provider refused to start (429, or 503 with `Retry-After`).
    pub(crate) fn certainly_not_processed(&self) -> bool {
        match self {
            Error::Transport(error) => error.is_connect(),
            Error::Http { status: StatusCode::TOO_MANY_REQUESTS, .. } => true,
            Error::Http { status: StatusCode::SERVICE_UNAVAILABLE, headers, .. } => {
                headers.contains_key(reqwest::header::RETRY_AFTER)
            }
            _ => false,
        }
    }

    /// The HTTP status of the response this error came from, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Provider { status, .. }
            | Error::Http { status, .. }
            | Error::Decode { status, .. }
            | Error::UnexpectedRedirect { status, .. }
            | Error::ResponseTooLarge { status, .. }
            | Error::InsufficientScope { status, .. } => Some(*status),
            Error::Transport(error) => error.status(),
            Error::Timeout
            | Error::Config(_)
            | Error::InvalidCall { .. }
            | Error::InvalidUrl { .. }
            | Error::InvalidHeader { .. }
            | Error::Random(_)
            | Error::Signing { .. }
            | Error::HttpClient(_)
            | Error::InvalidResourceRequest(_)
            | Error::ResourceMetadata(_)
            | Error::WorkloadToken(_)
            | Error::Redirect(_)
            | Error::RefreshUnavailable { .. }
            | Error::SharedRefreshFailed { .. }
            | Error::StoreUnavailable { .. }
            | Error::NoRuntime
            | Error::DeviceCodeExpired { .. } => None,
        }
    }

    /// The provider's error object, if the provider sent one (also when it is why a token
    /// cannot be refreshed).
    pub fn provider_error(&self) -> Option<&OAuthProviderError> {
        match self {
            Error::Provider { error, .. } => Some(error),
            Error::Redirect(RedirectError::Provider(error)) => Some(error),
            Error::RefreshUnavailable { source: Some(source), .. } => source.provider_error(),
            _ => None,
        }
    }

    /// A token that cannot be refreshed, for `reason`, without an error behind it.
    pub(crate) fn refresh_unavailable(reason: impl Into<String>) -> Self {
        Error::RefreshUnavailable { reason: reason.into(), source: None }
    }
}

impl Error {
    /// A configuration error about `setting`.
    pub(crate) fn config(setting: Setting, message: impl Into<Cow<'static, str>>) -> Self {
        Error::Config(ConfigError::new(setting, message))
    }

    /// Classifies an error of the HTTP client: a timeout gets its own variant.
    pub(crate) fn transport(error: reqwest::Error) -> Self {
        if error.is_timeout() { Error::Timeout } else { Error::Transport(Arc::new(error)) }
    }
}

/// Why a workload's platform token could not be used. `from` names where it comes from
/// (`file /var/run/secrets/...`, `environment variable ...`, `URL ...`, `program ...`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadTokenError {
    /// The source gave no token: the file is missing, the URL refused, the program failed.
    #[error("no platform token from the {from}: {reason}")]
    Unavailable {
        /// Where the token was looked for.
        from: String,
        /// What went wrong, with what to check.
        reason: String,
    },
    /// The source answered something its contract does not allow (no `value` field, an
    /// executable's answer without `success`, an empty token).
    #[error("the {from} answered no usable token: {reason}")]
    Malformed {
        /// Where the token came from.
        from: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The platform token has expired (its `exp`, or the expiry its source gave): the
    /// platform stopped rotating it, or the clock is wrong.
    #[error(
        "the platform token from the {from} expired at {expired_at} (Unix time); the platform no longer renews it"
    )]
    Expired {
        /// Where the token came from.
        from: String,
        /// When it expired, in Unix seconds.
        expired_at: i64,
    },
    /// A credential file names a program to run for its token, and running programs was not
    /// allowed (Google's rule: `GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1`).
    #[error(
        "the credential runs the program `{command}`; set GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1 to allow it"
    )]
    ExecutableNotAllowed {
        /// The program the credential names.
        command: String,
    },
}

/// Why a protected resource's metadata could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceMetadataError {
    /// The response has no `WWW-Authenticate` challenge with `resource_metadata`, and no
    /// well-known location of the URL asked holds the metadata (each answered 404).
    #[error(
        "the resource server's answer names no `resource_metadata` (RFC 9728 §5.1), and its well-known locations have none"
    )]
    NoResourceMetadata,
    /// The metadata is about another resource than the one asked (RFC 9728 §3.3): it may
    /// come from an attacker impersonating the resource.
    #[error("the metadata is for resource `{found}`, not `{expected}` (RFC 9728 §3.3)")]
    ResourceMismatch {
        /// The resource the client addressed.
        expected: String,
        /// The metadata's `resource`.
        found: String,
    },
    /// The metadata lists no authorization server.
    #[error("the resource's metadata lists no `authorization_servers`")]
    NoAuthorizationServer,
    /// The authorization server does not say it supports PKCE with `S256`
    /// (`code_challenge_methods_supported`, RFC 8414 §2): the authorization code it issues
    /// could be redeemed by whoever intercepts it, so the flow stops before the user is sent
    /// there (the MCP authorization specification requires this refusal).
    #[error(
        "the authorization server `{issuer}` does not list `S256` in `code_challenge_methods_supported`; \
         refusing to authorize without PKCE"
    )]
    PkceNotSupported {
        /// The authorization server's issuer.
        issuer: String,
    },
    /// No client is registered with the authorization server, and it offers no way to
    /// become one: no Client ID Metadata Document support (or no document URL configured),
    /// and no `registration_endpoint`.
    #[error(
        "no client is registered with the authorization server `{issuer}`, which offers neither client ID metadata \
         documents nor dynamic registration: pre-register a client and pass it with `ResourceAccessBuilder::pre_registered_for`"
    )]
    NoClientRegistration {
        /// The authorization server's issuer.
        issuer: String,
    },
}

/// Which part of the setup an [`Error::Config`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// An endpoint's URL: missing, not `https`, or not the provider's.
    Endpoint,
    /// The provider's issuer identifier, or its metadata.
    Issuer,
    /// The client's authentication ([`ClientAuth`](crate::ClientAuth)).
    ClientAuth,
    /// The DPoP key.
    Dpop,
    /// An authorization request (`state`, PAR, `authorization_details`).
    AuthorizationRequest,
    /// The HTTP client or its TLS backend.
    HttpClient,
    /// A request's body or a key set given as JSON.
    Body,
    /// A dynamic client registration (RFC 7591/7592).
    Registration,
    /// A setting of the caller's own (an [`AuthenticateClient`](crate::AuthenticateClient),
    /// a token source).
    Custom,
}

/// What is misconfigured, and which [`Setting`] to fix; nothing was sent.
///
/// ```
/// use oauth_client::{ConfigError, Error, Setting};
///
/// let error = Error::from(ConfigError::new(Setting::Custom, "the vendor key is missing"));
/// assert_eq!(error.to_string(), "invalid configuration: the vendor key is missing");
/// assert!(matches!(&error, Error::Config(config) if config.setting() == Setting::Custom));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    setting: Setting,
    message: Cow<'static, str>,
}

impl ConfigError {
    /// `message` about `setting`: what is wrong and how to fix it, in a sentence.
    pub fn new(setting: Setting, message: impl Into<Cow<'static, str>>) -> Self {
        ConfigError { setting, message: message.into() }
    }

    /// The setting to fix.
    pub fn setting(&self) -> Setting {
        self.setting
    }

    /// What is wrong, and the fix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Error::Config(error)
    }
}

/// Why the redirect from the authorization endpoint (RFC 6749 §4.1.2) was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectError {
    /// The provider refused or failed the request (`error=...` on the redirect).
    #[error("the authorization server returned an error: {0}")]
    Provider(Box<OAuthProviderError>),
    /// `state` differs from the one sent: the redirect may be forged (CSRF) or stale.
    #[error("the redirect's `state` does not match the authorization request's; refusing the code")]
    StateMismatch,
    /// The redirect has no `state`.
    #[error("the redirect has no `state` parameter")]
    MissingState,
    /// The redirect's `iss` names another authorization server than the one the request went
    /// to (RFC 9207): a mix-up attack, or a misconfigured client.
    #[error("the redirect comes from issuer `{found}`, not `{expected}` (RFC 9207); refusing the code")]
    IssuerMismatch {
        /// The issuer the request went to.
        expected: String,
        /// The `iss` the redirect carries.
        found: String,
    },
    /// The redirect has no `iss`, though the provider says it always sends one (RFC 9207).
    #[error("the redirect has no `iss` parameter, which this provider always sends (RFC 9207)")]
    MissingIssuer,
    /// The redirect has neither `code` nor `error`.
    #[error("the redirect has no `code` parameter")]
    MissingCode,
    /// A parameter appears more than once.
    #[error("the redirect repeats the `{0}` parameter")]
    DuplicateParameter(String),
    /// The redirect is not an absolute URL.
    #[error("the redirect is not a valid absolute URL")]
    InvalidUrl,
    /// No redirect reached the loopback listener in time: the user did not finish, or the
    /// browser went elsewhere.
    #[error("no redirect came back to the loopback listener within {} s", waited.as_secs())]
    NotReceived {
        /// How long the listener waited.
        waited: std::time::Duration,
    },
    /// The loopback listener could not bind or read the browser's request.
    #[error("the loopback redirect listener failed: {0}")]
    Listener(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `Result<_, Error>` carries this much: it stays small (the large parts are boxed),
    /// as reqwest keeps its own error to one pointer.
    #[test]
    fn error_is_small() {
        // Seven words: the variants with two strings (`Decode`, `InsufficientScope`); eight
        // with `oidc`, whose `IdTokenError` has two-string variants of its own (boxing it would
        // take pattern matching through the box from every caller). A larger payload goes in
        // a box.
        let limit = if cfg!(feature = "oidc") { 64 } else { 56 };
        let size = std::mem::size_of::<Error>();
        assert!(size <= limit, "Error grew to {size} bytes: box the new payload");
    }

    /// A report prints the transport failure once: the message, then its source.
    #[test]
    fn transport_detail_is_the_source_not_the_message() {
        use crate::OAuthAuthorization as _;
        // Nothing listens on port 9.
        let client = crate::OAuthClient::new("http://127.0.0.1:9/token").unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let error = runtime
            .block_on(client.request_token_ccg(crate::ClientAuthorization::Configured, None, None))
            .unwrap_err();
        assert!(matches!(error, Error::Transport(_)), "{error:?}");
        assert_eq!(error.to_string(), "could not reach `http://127.0.0.1:9/token`");
        let source = std::error::Error::source(&error).expect("the HTTP client's error").to_string();
        assert!(source.contains("127.0.0.1:9"), "{source}");
    }
}
