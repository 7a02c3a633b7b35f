//! Authorization server metadata (RFC 8414, and OpenID Connect Discovery 1.0 as fallback):
//! fills in every endpoint URL from the issuer alone.

use std::time::Duration;

use reqwest::header::ACCEPT;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{OAuthClient, OAuthClientBuilder};
use crate::error::Error;
use crate::response::{self, Leniency, Received};

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
    /// }))?;
    /// assert_eq!(metadata.jwks_uri(), Some("https://auth.example.com/jwks"));
    /// assert_eq!(metadata.id_token_signing_algorithms(), ["RS256", "ES256"]);
    /// assert!(metadata.requires_pushed_authorization_requests());
    /// assert!(!metadata.sends_issuer_in_authorization_response());
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

impl OAuthClient {
    /// Reads `issuer`'s metadata — `/.well-known/oauth-authorization-server` (RFC 8414),
    /// else `/.well-known/openid-configuration` — and returns a builder with every endpoint
    /// it names, to configure further and `build`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), oauth_client::Error> {
    /// let client = oauth_client::OAuthClient::discover("https://auth.example.com").await?.build()?;
    /// # Ok(()) }
    /// ```
    pub async fn discover(issuer: &str) -> Result<OAuthClientBuilder, Error> {
        let metadata = Self::metadata(issuer).await?;
        Ok(OAuthClient::builder(&metadata.token_endpoint).with_metadata(&metadata))
    }

    /// [`discover`](Self::discover) through `http` (a proxy, extra roots, a client
    /// certificate): the metadata is fetched with it, and the client built from the returned
    /// builder sends every request with it.
    ///
    /// ```no_run
    /// # async fn run(http: reqwest::Client) -> Result<(), oauth_client::Error> {
    /// let client = oauth_client::OAuthClient::discover_with(&http, "https://auth.example.com").await?.build()?;
    /// # Ok(()) }
    /// ```
    pub async fn discover_with(http: &reqwest::Client, issuer: &str) -> Result<OAuthClientBuilder, Error> {
        let metadata = metadata_from(http, issuer).await?;
        Ok(OAuthClient::builder(&metadata.token_endpoint).with_metadata(&metadata).http_client(http.clone()))
    }

    /// `issuer`'s metadata, checked to be about `issuer`.
    pub async fn metadata(issuer: &str) -> Result<ProviderMetadata, Error> {
        metadata_from(metadata_http()?, issuer).await
    }
}

/// `issuer`'s metadata fetched with `http`, checked to be about `issuer`.
pub(crate) async fn metadata_from(http: &reqwest::Client, issuer: &str) -> Result<ProviderMetadata, Error> {
    let base = crate::endpoint_url::parse("issuer URL", issuer, false)?;
    let path = base.path().trim_end_matches('/');
    let origin = base.origin().ascii_serialization();
    let candidates = [
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{origin}{path}/.well-known/openid-configuration"),
    ];
    let mut last_error = None;
    for url in candidates {
        match fetch_json::<ProviderMetadata>(http, &url).await {
            Ok(metadata) => {
                if metadata.issuer != issuer {
                    return Err(Error::Config(format!(
                        "the metadata at {url} is for issuer `{}`, not `{issuer}` (RFC 8414 §3.3)",
                        metadata.issuer
                    )));
                }
                return Ok(metadata);
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.expect("two candidates were tried"))
}

/// Metadata documents are small; anything bigger is not one.
const MAX_METADATA_BYTES: usize = 1024 * 1024;

/// The client that fetches metadata documents and key sets when the caller gave none: built
/// once, so that discoveries share its connections.
pub(crate) fn metadata_http() -> Result<&'static reqwest::Client, Error> {
    static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(http) = HTTP.get() {
        return Ok(http);
    }
    let http = crate::http_client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|error| Error::HttpClient(std::sync::Arc::new(error)))?;
    Ok(HTTP.get_or_init(|| http))
}

/// GETs a small document (metadata, a key set): at most [`MAX_METADATA_BYTES`], as received.
pub(crate) async fn get_document(http: &reqwest::Client, url: &str, accept: &str) -> Result<Received, Error> {
    let response = http.get(url).header(ACCEPT, accept).send().await.map_err(Error::transport)?;
    crate::transport::read_capped(response, MAX_METADATA_BYTES, crate::Clock::now(&crate::SystemClock)).await
}

/// GETs a JSON metadata document and reads it as responses are read.
pub(crate) async fn fetch_json<T: serde::de::DeserializeOwned + 'static>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, Error> {
    response::interpret(get_document(http, url, "application/json").await?, Leniency::default())
}
