//! The client as the AT Protocol knows it: a metadata document published at the client's
//! `client_id` URL (or the `http://localhost` development form), DPoP-bound, public or
//! confidential with `private_key_jwt` (ES256).

use serde_json::{Map, Value};

use super::AtprotoError;
use super::scope::{Scope, scope_string};
use crate::client_auth::ClientAuth;
use crate::extensions::SigningKey;
use crate::registration::ClientMetadata;

/// An AT Protocol client's metadata: what [`document`](Self::document) publishes at the
/// `client_id` URL, and what sign-in sends.
///
/// ```
/// use oauth_client::atproto::{AtprotoClientMetadata, Scope};
///
/// let client = AtprotoClientMetadata::new(
///     "https://app.example/oauth-client-metadata.json",
///     "https://app.example/oauth/callback",
///     &[Scope::Atproto, Scope::TransitionGeneric],
/// )?
/// .client_name("Example");
/// let document: serde_json::Value = serde_json::from_str(&client.document()?).unwrap();
/// assert_eq!(document["dpop_bound_access_tokens"], true);
/// assert_eq!(document["scope"], "atproto transition:generic");
/// assert_eq!(document["application_type"], "web");
/// # Ok::<(), oauth_client::atproto::AtprotoError>(())
/// ```
#[derive(Clone, Debug)]
pub struct AtprotoClientMetadata {
    client_id: String,
    metadata: ClientMetadata,
    key: Option<SigningKey>,
}

impl AtprotoClientMetadata {
    /// A public client whose document is served at `client_id` (an `https` URL with a path),
    /// redirected back to `redirect_uri`, asking for `scopes` (which must include
    /// [`Scope::Atproto`]).
    pub fn new(
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        scopes: &[Scope],
    ) -> Result<Self, AtprotoError> {
        let client_id = client_id.into();
        crate::registration::check_metadata_document_url(&client_id)?;
        Self::with_id(client_id, vec![redirect_uri.into()], scopes)
    }

    /// The development client, for apps not yet published: its `client_id` is
    /// `http://localhost?redirect_uri=..&scope=..` and needs no document; `redirect_uri` must
    /// be a loopback IP literal (`http://127.0.0.1:<port>/..` or `http://[::1]:<port>/..`).
    /// Authorization servers treat it as a public native client with short-lived sessions.
    pub fn localhost(redirect_uri: impl Into<String>, scopes: &[Scope]) -> Result<Self, AtprotoError> {
        let redirect_uri = redirect_uri.into();
        let loopback = reqwest::Url::parse(&redirect_uri)
            .is_ok_and(|url| url.scheme() == "http" && matches!(url.host_str(), Some("127.0.0.1" | "[::1]")));
        if !loopback {
            return Err(AtprotoError::ClientMetadata(format!(
                "the development client redirects to a loopback IP literal (http://127.0.0.1:<port>/...), not `{redirect_uri}`"
            )));
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", &scope_string(scopes))
            .finish();
        Self::with_id(format!("http://localhost?{query}"), vec![redirect_uri], scopes)
    }

    fn with_id(
        client_id: String,
        redirect_uris: Vec<String>,
        scopes: &[Scope],
    ) -> Result<Self, AtprotoError> {
        if !scopes.contains(&Scope::Atproto) {
            return Err(AtprotoError::ClientMetadata("the scopes must include `atproto`".to_owned()));
        }
        let native = redirect_uris.iter().all(|uri| !uri.starts_with("https://"));
        let mut extra = Map::new();
        extra.insert("dpop_bound_access_tokens".into(), Value::Bool(true));
        extra.insert("application_type".into(), if native { "native" } else { "web" }.into());
        let metadata = ClientMetadata {
            redirect_uris: Some(redirect_uris),
            token_endpoint_auth_method: Some("none".to_owned()),
            grant_types: Some(vec!["authorization_code".to_owned(), "refresh_token".to_owned()]),
            response_types: Some(vec!["code".to_owned()]),
            scope: Some(scope_string(scopes)),
            extra,
            ..ClientMetadata::default()
        };
        Ok(AtprotoClientMetadata { client_id, metadata, key: None })
    }

    /// The name users see on the consent page.
    #[must_use]
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.metadata.client_name = Some(name.into());
        self
    }

    /// A confidential client (a web app's backend): it authenticates with `private_key_jwt`,
    /// signing with `key` (ES256, with a `kid`) at every token request, refreshes included.
    /// The document publishes the public key (`jwks`) unless `jwks_uri` says where it is.
    pub fn confidential(mut self, key: SigningKey, jwks_uri: Option<String>) -> Result<Self, AtprotoError> {
        let Some(jwk) = key.public_jwk() else {
            return Err(AtprotoError::ClientMetadata(
                "a confidential client signs with a private key (ES256), not a shared secret".to_owned(),
            ));
        };
        self.metadata.token_endpoint_auth_method = Some("private_key_jwt".to_owned());
        self.metadata.extra.insert("token_endpoint_auth_signing_alg".into(), jwk["alg"].clone());
        match jwks_uri {
            Some(uri) => self.metadata.jwks_uri = Some(uri),
            None => self.metadata.jwks = Some(serde_json::json!({ "keys": [jwk] })),
        }
        self.key = Some(key);
        Ok(self)
    }

    /// The `client_id`: the document's URL, or the development client's `http://localhost?..`.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Where the authorization server sends the user back (the first redirect URI).
    pub fn redirect_uri(&self) -> &str {
        self.metadata.redirect_uris.as_deref().and_then(<[String]>::first).map_or("", String::as_str)
    }

    /// The scope asked for, space-separated.
    pub fn scope(&self) -> &str {
        self.metadata.scope.as_deref().unwrap_or_default()
    }

    /// The metadata document, as JSON, to serve at [`client_id`](Self::client_id) (not for
    /// the development client, which has none).
    pub fn document(&self) -> Result<String, AtprotoError> {
        Ok(self.metadata.metadata_document(&self.client_id)?)
    }

    /// How the client authenticates at the token endpoint.
    pub(crate) fn client_auth(&self) -> ClientAuth {
        match &self.key {
            Some(key) => ClientAuth::private_key_jwt(&self.client_id, key.clone()),
            None => ClientAuth::none(&self.client_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_client_carries_its_metadata_in_its_id() {
        let client =
            AtprotoClientMetadata::localhost("http://127.0.0.1:8976/callback", &[Scope::Atproto]).unwrap();
        assert_eq!(
            client.client_id(),
            "http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%3A8976%2Fcallback&scope=atproto"
        );
        assert!(matches!(
            AtprotoClientMetadata::localhost("http://localhost:8976/callback", &[Scope::Atproto]),
            Err(AtprotoError::ClientMetadata(_))
        ));
        assert!(matches!(
            AtprotoClientMetadata::localhost("http://127.0.0.1/cb", &[Scope::TransitionGeneric]),
            Err(AtprotoError::ClientMetadata(_))
        ));
    }

    #[test]
    fn a_confidential_client_publishes_its_public_key() {
        let pem = crate::dpop::DpopKey::generate().unwrap().to_pkcs8_pem();
        let key = SigningKey::es256_pem(pem.as_bytes()).unwrap().key_id("k1");
        let client = AtprotoClientMetadata::new(
            "https://app.example/client.json",
            "https://app.example/cb",
            &[Scope::Atproto],
        )
        .unwrap()
        .confidential(key, None)
        .unwrap();
        let document: Value = serde_json::from_str(&client.document().unwrap()).unwrap();
        assert_eq!(document["token_endpoint_auth_method"], "private_key_jwt");
        assert_eq!(document["token_endpoint_auth_signing_alg"], "ES256");
        let jwk = &document["jwks"]["keys"][0];
        assert_eq!((&jwk["kty"], &jwk["crv"], &jwk["kid"]), (&"EC".into(), &"P-256".into(), &"k1".into()));
        assert!(jwk.get("d").is_none(), "no private part");
    }
}
