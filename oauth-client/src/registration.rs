//! Dynamic client registration (RFC 7591) and the management of a registered client
//! (RFC 7592), declared with [`oauth_grant`] like any other request.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::error::Setting;
use crate::request::Endpoint;
use crate::secret::{AccessToken, ClientSecret};
use crate::{OAuthClient, TokenEndpoint, oauth_grant};

/// A client's metadata (RFC 7591 §2): what it asks to be registered with, and what the
/// provider answers it was registered with. Members not named here are in `extra`. A `None`
/// is not sent (the provider's default applies); `Some(vec![])` is sent as `[]` (a
/// client-credentials client says it has no `redirect_uris` and no `response_types` so).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientMetadata {
    /// Where the authorization server may redirect the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    /// How the client authenticates at the token endpoint (`client_secret_basic`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// The grants it uses (`authorization_code`, `client_credentials`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    /// The response types it uses (`code`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<String>>,
    /// A name to show users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// The scopes it may ask for, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Its public keys by reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Its public keys by value (a JWK Set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    /// Every other member (`contacts`, `logo_uri`, `software_statement`, a provider's own).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Like a derived `Debug`, but the values of secret members in `extra` (a `client_secret`
/// sent back in an update, a software statement) read `[redacted]`.
impl core::fmt::Debug for ClientMetadata {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let extra: Map<String, Value> = self
            .extra
            .iter()
            .map(|(name, value)| {
                let shown = if crate::token::is_credential_name(name) || name == "software_statement" {
                    Value::String("[redacted]".into())
                } else {
                    value.clone()
                };
                (name.clone(), shown)
            })
            .collect();
        f.debug_struct("ClientMetadata")
            .field("redirect_uris", &self.redirect_uris)
            .field("token_endpoint_auth_method", &self.token_endpoint_auth_method)
            .field("grant_types", &self.grant_types)
            .field("response_types", &self.response_types)
            .field("client_name", &self.client_name)
            .field("scope", &self.scope)
            .field("jwks_uri", &self.jwks_uri)
            .field("jwks", &self.jwks)
            .field("extra", &extra)
            .finish()
    }
}

impl ClientMetadata {
    /// Metadata for a client that uses `grant_types`, nothing else set.
    pub fn for_grants<I: IntoIterator<Item = S>, S: Into<String>>(grant_types: I) -> Self {
        ClientMetadata {
            grant_types: Some(grant_types.into_iter().map(Into::into).collect()),
            ..ClientMetadata::default()
        }
    }

    /// Metadata with a `client_name` only; the rest is filled in where it is used (or set
    /// the fields).
    ///
    /// ```
    /// let metadata = oauth_client::registration::ClientMetadata::named("My agent");
    /// assert_eq!(metadata.client_name.as_deref(), Some("My agent"));
    /// ```
    pub fn named(client_name: impl Into<String>) -> Self {
        ClientMetadata { client_name: Some(client_name.into()), ..ClientMetadata::default() }
    }

    /// This metadata as a Client ID Metadata Document (the OAuth draft MCP uses): JSON whose
    /// `client_id` is `client_id`, the `https` URL it is served at. Serve it there with
    /// `content-type: application/json`. Refused: a URL that is not `https` with a path, or
    /// one with a fragment, credentials or dot segments; and metadata that carries a client
    /// secret (a document is public).
    ///
    /// ```
    /// use oauth_client::registration::ClientMetadata;
    ///
    /// let mut metadata = ClientMetadata::named("My agent");
    /// metadata.redirect_uris = Some(vec!["http://127.0.0.1/callback".into()]);
    /// let document = metadata.metadata_document("https://agent.example/oauth/client.json")?;
    /// let json: serde_json::Value = serde_json::from_str(&document).unwrap();
    /// assert_eq!(json["client_id"], "https://agent.example/oauth/client.json");
    /// assert_eq!(json["client_name"], "My agent");
    /// assert_eq!(json["token_endpoint_auth_method"], "none");
    /// # Ok::<(), oauth_client::Error>(())
    /// ```
    pub fn metadata_document(&self, client_id: &str) -> Result<String, Error> {
        check_metadata_document_url(client_id)?;
        if self.extra.keys().any(|name| name == "client_secret" || name == "client_secret_expires_at") {
            return Err(Error::config(
                Setting::Registration,
                "a client ID metadata document is public: remove `client_secret` from the metadata",
            ));
        }
        let mut document = serde_json::to_value(self).map_err(|error| {
            Error::config(Setting::Registration, format!("the metadata is not JSON: {error}"))
        })?;
        if let Value::Object(members) = &mut document {
            members.insert("client_id".into(), client_id.into());
            members.entry("token_endpoint_auth_method").or_insert_with(|| "none".into());
        }
        Ok(document.to_string())
    }
}

/// Checks a Client ID Metadata Document URL: `https`, a path, no fragment, credentials or
/// dot segments (the draft's §3).
pub(crate) fn check_metadata_document_url(url: &str) -> Result<(), Error> {
    let parsed = reqwest::Url::parse(url).map_err(|source| Error::InvalidUrl {
        what: "client ID metadata document URL".into(),
        url: url.into(),
        source,
    })?;
    let dot_segment =
        url.split(['?', '#']).next().unwrap_or_default().split('/').any(|s| s == "." || s == "..");
    let fine = parsed.scheme() == "https"
        && parsed.path() != "/"
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && !dot_segment;
    if fine {
        Ok(())
    } else {
        Err(Error::config(
            Setting::Registration,
            format!(
                "the client ID metadata document URL `{url}` must be `https` with a path, without a fragment, \
                 credentials or `.`/`..` segments"
            ),
        ))
    }
}

/// The provider's answer to a registration (RFC 7591 §3.2.1, RFC 7592 §3): the client's
/// credentials and the metadata it was registered with. `Debug` shows no secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientRegistration {
    /// The client identifier issued.
    pub client_id: String,
    /// The client secret issued, if any (`Debug` prints `[redacted]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<ClientSecret>,
    /// When `client_id` was issued, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_issued_at: Option<i64>,
    /// When the secret expires, Unix seconds; `0` never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    /// The token that authorizes reading, updating and deleting this registration
    /// (RFC 7592), if the provider supports that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_access_token: Option<AccessToken>,
    /// Where this registration is managed (RFC 7592).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_client_uri: Option<String>,
    /// The metadata the client was registered with.
    #[serde(flatten)]
    pub metadata: ClientMetadata,
}

impl ClientRegistration {
    /// `client` with this registration's configuration endpoint (`registration_client_uri`),
    /// for [`read_client_registration`](ClientRegistrationManagement::read_client_registration)
    /// and friends.
    pub fn configuration_client(&self, client: &OAuthClient) -> Result<OAuthClient, Error> {
        let uri = self.registration_client_uri.as_deref().ok_or_else(|| {
            Error::config(
                Setting::Registration,
                "the provider gave no `registration_client_uri`: this registration cannot be managed",
            )
        })?;
        client.with_endpoint_url(Endpoint::CLIENT_CONFIGURATION, uri)
    }

    /// `Authorization: Bearer <registration access token>`, for the management requests.
    pub fn management_authorization(&self) -> Result<String, Error> {
        let token = self.registration_access_token.as_ref().ok_or_else(|| {
            Error::config(
                Setting::Registration,
                "the provider gave no `registration_access_token`: this registration cannot be managed",
            )
        })?;
        Ok(format!("Bearer {}", token.secret()))
    }
}

/// Registers a client at the provider's registration endpoint (RFC 7591; discovery's
/// `registration_endpoint`).
///
/// ```no_run
/// use oauth_client::registration::{ClientMetadata, DynamicRegistration};
/// use oauth_client::{ClientAuth, ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
///
/// # async fn run() -> Result<(), oauth_client::Error> {
/// let provider = OAuthClient::discover("https://login.example.com").await?.build()?;
/// let mut metadata = ClientMetadata::for_grants(["client_credentials"]);
/// metadata.client_name = Some("nightly-report".into());
/// let registered = provider.register_client(Some("Bearer initial-access-token"), &metadata).await?;
/// let secret = registered.client_secret.clone().expect("a confidential client");
/// let client = provider.with_client_auth(ClientAuth::client_secret_basic(&registered.client_id, secret));
/// let token = client.request_token_ccg(Configured, None, None).await?;
/// # let _ = token;
/// # Ok(()) }
/// ```
pub trait DynamicRegistration: TokenEndpoint {
    /// Registers a client with `metadata`; `initial_access_token` is the provider's
    /// `Authorization` for open registration, if it asks for one (`Bearer ...`).
    #[oauth_grant(endpoint = "registration", client_auth = false)]
    async fn register_client(
        &self,
        #[header("Authorization")] initial_access_token: Option<&str>,
        #[json] metadata: &ClientMetadata,
    ) -> Result<ClientRegistration, Error>;
}

impl DynamicRegistration for OAuthClient {}

/// Reads, updates and deletes a registered client (RFC 7592) at its configuration endpoint
/// ([`ClientRegistration::configuration_client`]), authorized with its registration access
/// token ([`ClientRegistration::management_authorization`]).
pub trait ClientRegistrationManagement: TokenEndpoint {
    /// The client's current registration.
    #[oauth_grant(endpoint = "client_configuration", method = "GET", client_auth = false)]
    async fn read_client_registration(
        &self,
        #[header("Authorization")] registration_access_token: &str,
    ) -> Result<ClientRegistration, Error>;

    /// Replaces the client's metadata with `metadata` (which carries the `client_id`, and the
    /// secret if one was issued, in `extra`, as RFC 7592 §2.2 asks).
    #[oauth_grant(endpoint = "client_configuration", method = "PUT", client_auth = false)]
    async fn update_client_registration(
        &self,
        #[header("Authorization")] registration_access_token: &str,
        #[json] metadata: &ClientMetadata,
    ) -> Result<ClientRegistration, Error>;

    /// Deletes the registration: the client's credentials stop working.
    #[oauth_grant(endpoint = "client_configuration", method = "DELETE", client_auth = false)]
    async fn delete_client_registration(
        &self,
        #[header("Authorization")] registration_access_token: &str,
    ) -> Result<(), Error>;
}

impl ClientRegistrationManagement for OAuthClient {}
