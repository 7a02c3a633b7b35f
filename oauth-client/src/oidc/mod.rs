//! OpenID Connect for clients that log people in: ID tokens validated with the provider's
//! rotating keys, and UserInfo. Cargo feature `oidc`.
//!
//! - [`IdTokenVerifier`] checks an ID token's signature with a key from a [`JwksCache`],
//!   its algorithm against an allow-list, and its claims (OIDC Core §3.1.3.7): issuer,
//!   audience, authorized party, lifetime, `nonce` (which
//!   [`AuthorizationRequest`](crate::AuthorizationRequest) generates for an `openid` scope),
//!   `auth_time` against `max_age`, `at_hash` and `c_hash`.
//! - [`JwksCache`] survives key rotation: a token signed with a new key makes it fetch the
//!   key set again, at most once per interval.
//! - [`UserInfo`] is the UserInfo request (OIDC Core §5.3), declared with
//!   [`oauth_grant`](crate::oauth_grant) like any other; [`UserInfoClaims::check_subject`]
//!   ties its answer to the ID token's user.

mod id_token;
mod introspection;
mod jwks;
mod userinfo;

pub use id_token::{Expected, IdTokenClaims, IdTokenVerifier};
pub use introspection::SignedIntrospection;
pub use jwks::JwksCache;
pub use userinfo::{UserInfo, UserInfoClaims};

/// What can go wrong in this module: the request (reading the provider's keys is a check's
/// reason, not this), or a check the answer failed. A layer above the protocol core's
/// [`Error`](crate::Error), which it wraps: `?` turns a core error into it.
///
/// ```
/// use oauth_client::oidc::{IdTokenError, OidcError};
///
/// let error = OidcError::IdToken(IdTokenError::Missing);
/// assert_eq!(error.to_string(), "the token response has no `id_token`");
/// assert!(error.request_error().is_none());
/// ```
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// The request failed (a transport error, the provider's refusal, a configuration error).
    #[error(transparent)]
    Request(#[from] crate::Error),
    /// The ID token was refused.
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
    /// A signed introspection response (RFC 9701) was refused; the reason is one of the checks
    /// a signed JWT from the provider gets, as for ID tokens.
    #[error("the signed introspection response was refused: {0}")]
    IntrospectionResponse(IdTokenError),
}

/// A refused redirect ends a login as it ends any authorization-code flow.
impl From<crate::RedirectError> for OidcError {
    fn from(error: crate::RedirectError) -> Self {
        OidcError::Request(error.into())
    }
}

impl OidcError {
    /// The protocol core's error, when the request itself failed.
    pub fn request_error(&self) -> Option<&crate::Error> {
        match self {
            OidcError::Request(error) => Some(error),
            _ => None,
        }
    }
}

/// Why an ID token (or another JWT the provider signed: a signed introspection response) was
/// refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// The token response has no `id_token`.
    #[error("the token response has no `id_token`")]
    Missing,
    /// Not a well-formed signed JWT.
    #[error("the ID token is malformed: {0}")]
    Malformed(String),
    /// The header's `alg` is not on the allow-list (`none` never is; `HS*` only with the
    /// client secret).
    #[error("the ID token is signed with `{0}`, which this client does not accept")]
    UnsupportedAlgorithm(String),
    /// No key of the provider's key set has this `kid` (after fetching it again, if the
    /// refetch interval allowed).
    #[error("no key of the provider has the ID token's key id {}", kid.as_deref().map(|kid| format!("`{kid}`")).unwrap_or_else(|| "(none given)".into()))]
    UnknownKey {
        /// The header's `kid`.
        kid: Option<String>,
    },
    /// The token names no `kid` and several keys fit its algorithm.
    #[error("the ID token names no key id and several of the provider's keys fit")]
    AmbiguousKey,
    /// The JWT's `typ` is not the one its use requires (RFC 9701: `token-introspection+jwt`).
    #[error("the JWT has type {found:?}, not the one expected")]
    WrongType {
        /// The header's `typ`.
        found: Option<String>,
    },
    /// The provider's key set could not be fetched, and no key was held.
    #[error("the provider's keys could not be fetched: {0}")]
    KeySetUnavailable(String),
    /// The provider's key cannot be used.
    #[error("the provider's key cannot be used: {0}")]
    UnusableKey(String),
    /// The signature does not verify.
    #[error("the ID token's signature does not verify")]
    BadSignature,
    /// `iss` is not the provider's issuer.
    #[error("the ID token comes from issuer `{found}`, not `{expected}`")]
    WrongIssuer {
        /// The provider's issuer.
        expected: String,
        /// The token's `iss`.
        found: String,
    },
    /// `aud` does not name this client.
    #[error("the ID token is for {found:?}, not for client `{client_id}`")]
    WrongAudience {
        /// This client.
        client_id: String,
        /// The token's `aud`.
        found: Vec<String>,
    },
    /// `azp` names another client.
    #[error("the ID token was issued to `{found}` (azp), not to this client")]
    WrongAuthorizedParty {
        /// The token's `azp`.
        found: String,
    },
    /// Several audiences and no `azp`.
    #[error("the ID token has several audiences and no `azp`")]
    MissingAuthorizedParty,
    /// `exp` has passed (beyond the leeway).
    #[error("the ID token expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp`.
        exp: i64,
        /// The clock's time.
        now: i64,
    },
    /// `iat` is in the future (beyond the leeway).
    #[error("the ID token was issued in the future: iat {iat}, now {now}")]
    IssuedInTheFuture {
        /// The token's `iat`.
        iat: i64,
        /// The clock's time.
        now: i64,
    },
    /// The request sent a `nonce` and the token has none.
    #[error("the ID token has no `nonce`, and the authorization request sent one")]
    MissingNonce,
    /// The token's `nonce` is not the request's: a replayed or injected token.
    #[error("the ID token's `nonce` is not the authorization request's")]
    NonceMismatch,
    /// `max_age` was requested and the token has no `auth_time`.
    #[error("the ID token has no `auth_time`, and the request asked for `max_age`")]
    MissingAuthTime,
    /// The user authenticated longer ago than `max_age`.
    #[error("the user authenticated at {auth_time}, longer ago than max_age {max_age} s")]
    AuthenticationTooOld {
        /// The token's `auth_time`.
        auth_time: i64,
        /// The requested `max_age`.
        max_age: i64,
    },
    /// `at_hash` does not match the access token.
    #[error("the ID token's `at_hash` does not match the access token")]
    AccessTokenHashMismatch,
    /// `c_hash` does not match the code.
    #[error("the ID token's `c_hash` does not match the authorization code")]
    CodeHashMismatch,
    /// The UserInfo response is about another user than the ID token (OIDC Core §5.3.2).
    #[error("the UserInfo response's `sub` is not the ID token's")]
    SubjectMismatch,
}
