//! The one error type of the crate.

use std::sync::Arc;

use reqwest::header::HeaderMap;

use crate::provider_error::OAuthProviderError;

/// Everything that can go wrong when talking to the provider.
///
/// No variant carries a request body or an `Authorization` header, so an `Error` can be
/// logged as it is. It is `Clone`, so one failed refresh can be handed to every caller that
/// waited for it ([`TokenManager`](crate::TokenManager)).
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The provider answered with an RFC 6749 §5.2 error object (HTTP 400 or 401).
    #[error("{}: {error}", provider_message(*status))]
    Provider {
        /// The HTTP status (400 or 401).
        status: u16,
        /// The decoded error object.
        error: OAuthProviderError,
        /// The response headers (`WWW-Authenticate`, `DPoP-Nonce`, `Retry-After`, ...),
        /// boxed to keep `Error` small.
        headers: Box<HeaderMap>,
    },

    /// The provider answered with a status this operation does not expect (e.g. 403, 500,
    /// 503, or a 400/401 without an RFC 6749 error object).
    #[error("the provider answered HTTP {status}, which is neither success nor an OAuth 2 error")]
    Http {
        /// The HTTP status.
        status: u16,
        /// The response headers.
        headers: HeaderMap,
        /// The response body, decoded as UTF-8 (invalid sequences replaced), with every
        /// credential in it replaced by `[redacted]`: secret members of JSON (at any depth,
        /// in any case) and forms, and token-like runs of other text.
        body: String,
    },

    /// A success response whose body is not the expected model.
    #[error(
        "the provider's response (HTTP {status}) could not be decoded: {reason}; body starts with: {excerpt}"
    )]
    Decode {
        /// The HTTP status.
        status: u16,
        /// Why decoding failed.
        reason: String,
        /// The first bytes of the body, with the values of secret-bearing members removed.
        excerpt: String,
    },

    /// The token endpoint answered with a redirect (3xx), or the HTTP client followed one to
    /// another origin. Credentials and codes are never re-sent to where it points.
    #[error("the provider answered HTTP {status} redirecting to {}; redirects from the token endpoint are not followed", location.as_deref().unwrap_or("nowhere"))]
    UnexpectedRedirect {
        /// The HTTP status.
        status: u16,
        /// Where the redirect pointed (`Location`), if it said.
        location: Option<String>,
    },

    /// The response body is larger than the client's limit.
    #[error("the provider's response (HTTP {status}) is larger than the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The HTTP status.
        status: u16,
        /// The limit in bytes.
        limit: usize,
    },

    /// The request did not complete in time.
    #[error("the request to the provider timed out")]
    Timeout,

    /// The request could not be sent or the response could not be read.
    #[error("could not reach the provider: {0}")]
    Transport(#[source] Arc<reqwest::Error>),

    /// The token manager needs a new token but has no way to get one without the user: the
    /// token has no refresh token, or the provider refused it. Authorize again.
    #[error("the token cannot be refreshed: {0}")]
    RefreshUnavailable(String),

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
    #[error("{0}")]
    Redirect(RedirectError),

    /// The device code of a device flow expired before the user finished (RFC 8628 §3.5).
    #[error("the device code expired after {expires_in} s before the user finished")]
    DeviceCodeExpired {
        /// The device code's lifetime in seconds.
        expires_in: u64,
    },

    /// A resource server refused the token for lacking scope (`error="insufficient_scope"`
    /// in `WWW-Authenticate`, RFC 6750 §3.1): a new token with the same scope would not do.
    /// Ask for `scope` (a step-up authorization, or a client allowed more).
    #[error("the resource server answered HTTP {status}: the token lacks scope{}", scope.as_deref().map(|scope| format!(" (it asks for `{scope}`)")).unwrap_or_default())]
    InsufficientScope {
        /// The HTTP status (403, sometimes 401).
        status: u16,
        /// The scope the resource server says the request needs, if it said.
        scope: Option<String>,
        /// The server's `error_description`, if any.
        description: Option<String>,
    },

    /// A request to a resource server could not be built or authorized (an invalid URL or
    /// header, a token that is not a header value); nothing was sent.
    #[error("the resource request is not valid: {0}")]
    InvalidResourceRequest(String),

    /// A protected resource's metadata (RFC 9728) could not be used.
    #[error(transparent)]
    ResourceMetadata(crate::ResourceMetadataError),

    /// An ID token was refused (cargo feature `oidc`).
    #[cfg(feature = "oidc")]
    #[error(transparent)]
    IdToken(crate::oidc::IdTokenError),

    /// A signed introspection response (RFC 9701) was refused (cargo feature `oidc`).
    #[cfg(feature = "oidc")]
    #[error("the signed introspection response was refused: {0}")]
    IntrospectionResponse(crate::oidc::IdTokenError),

    /// The client or the request is misconfigured; nothing was sent.
    #[error("invalid configuration: {0}")]
    Config(String),

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

fn provider_message(status: u16) -> &'static str {
    if status == 401 {
        "OAuth 2 provider says client authentication failed"
    } else {
        "OAuth 2 provider returned an error"
    }
}

impl Error {
    /// Whether sending the same request again may succeed: a transport error, a timeout,
    /// HTTP 429, or a 5xx status.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport(_) | Error::Timeout => true,
            Error::Http { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// Whether the failure shows that the provider did not act on the request, so that even
    /// a single-use credential may be sent again: the connection was never made, or the
    /// provider refused to start (429, or 503 with `Retry-After`).
    pub(crate) fn certainly_not_processed(&self) -> bool {
        match self {
            Error::Transport(error) => error.is_connect(),
            Error::Http { status: 429, .. } => true,
            Error::Http { status: 503, headers, .. } => headers.contains_key(reqwest::header::RETRY_AFTER),
            _ => false,
        }
    }

    /// The HTTP status of the response this error came from, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Provider { status, .. }
            | Error::Http { status, .. }
            | Error::Decode { status, .. }
            | Error::UnexpectedRedirect { status, .. }
            | Error::ResponseTooLarge { status, .. }
            | Error::InsufficientScope { status, .. } => Some(*status),
            Error::Transport(error) => error.status().map(|status| status.as_u16()),
            Error::Timeout
            | Error::Config(_)
            | Error::InvalidCall { .. }
            | Error::InvalidResourceRequest(_)
            | Error::ResourceMetadata(_)
            | Error::Redirect(_)
            | Error::RefreshUnavailable(_)
            | Error::SharedRefreshFailed { .. }
            | Error::StoreUnavailable { .. }
            | Error::NoRuntime
            | Error::DeviceCodeExpired { .. } => None,
            #[cfg(feature = "oidc")]
            Error::IdToken(_) | Error::IntrospectionResponse(_) => None,
        }
    }

    /// The provider's error object, if the provider sent one.
    pub fn provider_error(&self) -> Option<&OAuthProviderError> {
        match self {
            Error::Provider { error, .. } | Error::Redirect(RedirectError::Provider(error)) => Some(error),
            _ => None,
        }
    }
}

impl Error {
    /// Classifies an error of the HTTP client: a timeout gets its own variant.
    pub(crate) fn transport(error: reqwest::Error) -> Self {
        if error.is_timeout() { Error::Timeout } else { Error::Transport(Arc::new(error)) }
    }
}

/// Why the redirect from the authorization endpoint (RFC 6749 §4.1.2) was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectError {
    /// The provider refused or failed the request (`error=...` on the redirect).
    #[error("the authorization server returned an error: {0}")]
    Provider(OAuthProviderError),
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
}
