//! The error response of an authorization server (RFC 6749 §5.2).

use serde::{Deserialize, Serialize};

/// An error object returned by the provider: `{"error": "...", "error_description": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthProviderError {
    /// The error code.
    pub error: OAuthProviderErrorKind,
    /// A human-readable explanation, if the provider gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// A page about the error, if the provider gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<String>,
}

impl core::fmt::Display for OAuthProviderError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.error)?;
        if let Some(description) = &self.error_description {
            write!(f, ": {description}")?;
        }
        Ok(())
    }
}

/// The `error` code of a provider error (RFC 6749 §5.2, with the codes RFC 8628 and RFC 7009
/// add). Codes outside these RFCs are kept
/// verbatim in [`Other`](OAuthProviderErrorKind::Other).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum OAuthProviderErrorKind {
    /// `invalid_request`: a parameter is missing, repeated, or malformed.
    InvalidRequest,
    /// `invalid_client`: client authentication failed.
    InvalidClient,
    /// `invalid_grant`: the code, refresh token or credentials are invalid, expired or revoked.
    InvalidGrant,
    /// `unauthorized_client`: this client may not use this grant type.
    UnauthorizedClient,
    /// `unsupported_grant_type`: the provider does not support this grant type.
    UnsupportedGrantType,
    /// `invalid_scope`: the requested scope is invalid, unknown or too broad.
    InvalidScope,
    /// `access_denied`: the resource owner or the server refused (RFC 6749 §4.1.2.1, RFC 8628 §3.5).
    AccessDenied,
    /// `authorization_pending`: the user has not finished the device flow yet (RFC 8628 §3.5).
    AuthorizationPending,
    /// `slow_down`: poll the device flow less often (RFC 8628 §3.5).
    SlowDown,
    /// `expired_token`: the device code expired (RFC 8628 §3.5).
    ExpiredToken,
    /// `unsupported_token_type`: the server cannot revoke this kind of token (RFC 7009 §2.2.1).
    UnsupportedTokenType,
    /// Any other code, as the provider sent it.
    Other(String),
}

impl OAuthProviderErrorKind {
    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::Other(code) => code,
        }
    }
}

impl From<String> for OAuthProviderErrorKind {
    fn from(code: String) -> Self {
        match code.as_str() {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "access_denied" => Self::AccessDenied,
            "authorization_pending" => Self::AuthorizationPending,
            "slow_down" => Self::SlowDown,
            "expired_token" => Self::ExpiredToken,
            "unsupported_token_type" => Self::UnsupportedTokenType,
            _ => Self::Other(code),
        }
    }
}

impl From<OAuthProviderErrorKind> for String {
    fn from(kind: OAuthProviderErrorKind) -> Self {
        match kind {
            OAuthProviderErrorKind::Other(code) => code,
            known => known.as_str().to_owned(),
        }
    }
}

impl core::fmt::Display for OAuthProviderErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
