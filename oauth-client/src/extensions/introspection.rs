//! Token introspection (RFC 7662).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{ClientAuthorization, Error, FormParams, TokenEndpoint, oauth_grant};

/// The introspection response (RFC 7662 §2.2). Only `active` is required; members the RFC
/// does not name are kept in `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Introspection {
    /// Whether the token is currently active.
    pub active: bool,
    /// Its scope, space-delimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The resource owner who authorized it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Its type, e.g. `Bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// When it expires, in Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// When it was issued, in Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not to be used before, in Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Its subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Its audience: a string or an array of strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Value>,
    /// Its issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Its identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Every other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Asks the provider's introspection endpoint about a token (RFC 7662 §2.1).
pub trait TokenIntrospection: TokenEndpoint {
    /// Introspects `token`; `token_type_hint` is `"access_token"` or `"refresh_token"`.
    #[oauth_grant(endpoint = "introspection")]
    async fn introspect_token<'a>(
        &self,
        #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
        #[form] token: &str,
        #[form] token_type_hint: Option<&str>,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<Introspection, Error>;
}

impl TokenIntrospection for crate::OAuthClient {}
