//! The authorization server's metadata document (RFC 8414 §2, OpenID Connect Discovery
//! 1.0 §3) and typed accessors for what features read from it. Fetching it is
//! `discovery`'s job; the client keeps the document it was built from.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The metadata members this client uses; the rest is kept in `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    /// The issuer identifier; must equal the one asked for (RFC 8414 §3.3).
    pub issuer: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The authorization endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// The device authorization endpoint (RFC 8628).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
    /// The revocation endpoint (RFC 7009).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// The introspection endpoint (RFC 7662).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    /// Every other member (`grant_types_supported`, `jwks_uri`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ProviderMetadata {
    /// Every endpoint the metadata names, as `(name, URL)`: each `<name>_endpoint` member
    /// with a string value other than the token endpoint (`authorization`, `revocation`,
    /// `pushed_authorization_request`, `userinfo`, a vendor's own, ...).
    pub fn endpoints(&self) -> impl Iterator<Item = (&str, &str)> {
        let typed = [
            ("authorization", &self.authorization_endpoint),
            ("device_authorization", &self.device_authorization_endpoint),
            ("revocation", &self.revocation_endpoint),
            ("introspection", &self.introspection_endpoint),
        ];
        let typed = typed.into_iter().filter_map(|(name, url)| Some((name, url.as_deref()?)));
        let others = self
            .extra
            .iter()
            .filter_map(|(member, value)| Some((member.strip_suffix("_endpoint")?, value.as_str()?)));
        typed.chain(others)
    }

    /// The provider's JSON Web Key Set (`jwks_uri`), whose keys sign its ID tokens and signed
    /// responses.
    ///
    /// ```
    /// let metadata: oauth_client::ProviderMetadata = serde_json::from_value(serde_json::json!({
    ///     "issuer": "https://auth.example.com",
    ///     "token_endpoint": "https://auth.example.com/token",
    ///     "jwks_uri": "https://auth.example.com/jwks",
    ///     "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    ///     "require_pushed_authorization_requests": true,
    ///     "code_challenge_methods_supported": ["plain", "S256"],
    /// }))?;
    /// assert_eq!(metadata.jwks_uri(), Some("https://auth.example.com/jwks"));
    /// assert_eq!(metadata.id_token_signing_algorithms(), ["RS256", "ES256"]);
    /// assert!(metadata.requires_pushed_authorization_requests());
    /// assert!(!metadata.sends_issuer_in_authorization_response());
    /// assert_eq!(metadata.code_challenge_methods(), ["plain", "S256"]);
    /// assert!(metadata.supports_pkce_s256());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn jwks_uri(&self) -> Option<&str> {
        self.extra.get("jwks_uri").and_then(Value::as_str)
    }

    /// The algorithms the provider signs ID tokens with
    /// (`id_token_signing_alg_values_supported`, OpenID Connect Discovery §3).
    pub fn id_token_signing_algorithms(&self) -> Vec<String> {
        self.names("id_token_signing_alg_values_supported")
    }

    /// The algorithms the provider signs introspection responses with
    /// (`introspection_signing_alg_values_supported`, RFC 9701 §6).
    pub fn introspection_signing_algorithms(&self) -> Vec<String> {
        self.names("introspection_signing_alg_values_supported")
    }

    /// The PKCE methods the provider supports (`code_challenge_methods_supported`, RFC 8414 §2).
    pub fn code_challenge_methods(&self) -> Vec<String> {
        self.names("code_challenge_methods_supported")
    }

    /// Whether the provider says it supports PKCE with `S256` (RFC 7636). An absent list says
    /// nothing, so this is `false`: clients that must not proceed without PKCE (the MCP
    /// authorization specification) stop there.
    pub fn supports_pkce_s256(&self) -> bool {
        self.code_challenge_methods().iter().any(|method| method == "S256")
    }

    /// Whether authorization requests must be pushed (`require_pushed_authorization_requests`,
    /// RFC 9126 §5).
    pub fn requires_pushed_authorization_requests(&self) -> bool {
        self.flag("require_pushed_authorization_requests")
    }

    /// Whether the authorization response carries `iss`
    /// (`authorization_response_iss_parameter_supported`, RFC 9207 §3).
    pub fn sends_issuer_in_authorization_response(&self) -> bool {
        self.flag("authorization_response_iss_parameter_supported")
    }

    /// The scopes the provider names (`scopes_supported`, RFC 8414 §2).
    pub fn scopes_supported(&self) -> Vec<String> {
        self.names("scopes_supported")
    }

    /// The client authentication methods of its token endpoint
    /// (`token_endpoint_auth_methods_supported`, RFC 8414 §2); absent, RFC 8414 means
    /// `client_secret_basic`.
    pub fn token_endpoint_auth_methods(&self) -> Vec<String> {
        self.names("token_endpoint_auth_methods_supported")
    }

    /// The DPoP proof algorithms it accepts (`dpop_signing_alg_values_supported`, RFC 9449
    /// §5.1); empty when it does not support DPoP.
    pub fn dpop_signing_algorithms(&self) -> Vec<String> {
        self.names("dpop_signing_alg_values_supported")
    }

    /// Its dynamic registration endpoint (`registration_endpoint`, RFC 8414 §2, RFC 7591).
    pub fn registration_endpoint(&self) -> Option<&str> {
        self.extra.get("registration_endpoint").and_then(Value::as_str)
    }

    /// Whether it accepts a client metadata document's URL as `client_id`
    /// (`client_id_metadata_document_supported`, OAuth Client ID Metadata Document draft).
    pub fn supports_client_id_metadata_documents(&self) -> bool {
        self.flag("client_id_metadata_document_supported")
    }

    fn names(&self, member: &str) -> Vec<String> {
        let names = self.extra.get(member).and_then(Value::as_array);
        names.into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
    }

    fn flag(&self, member: &str) -> bool {
        self.extra.get(member).and_then(Value::as_bool).unwrap_or(false)
    }

    /// The provider's `mtls_endpoint_aliases` (RFC 8705 §5), as `(name, URL)`.
    pub fn mtls_endpoint_aliases(&self) -> impl Iterator<Item = (&str, &str)> {
        let aliases = self.extra.get("mtls_endpoint_aliases").and_then(Value::as_object);
        aliases
            .into_iter()
            .flatten()
            .filter_map(|(member, value)| Some((member.strip_suffix("_endpoint")?, value.as_str()?)))
    }
}
