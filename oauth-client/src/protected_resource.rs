//! Finding the authorization server from the protected resource (RFC 9728): its metadata, at
//! the URL a `401`'s `WWW-Authenticate: Bearer resource_metadata="..."` names or at its
//! well-known location, then the authorization server it lists, discovered (RFC 8414, then
//! OpenID Connect Discovery).

use reqwest::Url;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::challenge::ResourceChallenge;
use crate::client::{OAuthClient, OAuthClientBuilder};
use crate::error::Error;
use crate::error::ResourceMetadataError;
use crate::metadata::ProviderMetadata;

/// A protected resource's metadata (RFC 9728 §2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProtectedResourceMetadata {
    /// The resource identifier: the `resource` indicator (RFC 8707) of tokens for it.
    pub resource: String,
    /// Issuers of the authorization servers that issue tokens for it.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// The scopes it understands.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// Whether it accepts only DPoP-bound tokens (RFC 9449).
    #[serde(default)]
    pub dpop_bound_access_tokens_required: bool,
    /// Every other member (`bearer_methods_supported`, `resource_name`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A protected resource and the authorization server chosen for it. Its `Debug` says whether
/// the caller's HTTP client came along, not what that client holds (default headers may carry
/// credentials).
#[derive(Clone)]
pub struct DiscoveredResource {
    /// The resource's metadata.
    pub resource: ProtectedResourceMetadata,
    /// The metadata of the first authorization server it lists that could be discovered.
    pub authorization_server: ProviderMetadata,
    /// The caller's HTTP client, when discovery used one (the `_with` functions).
    http: Option<reqwest::Client>,
}

impl core::fmt::Debug for DiscoveredResource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DiscoveredResource")
            .field("resource", &self.resource)
            .field("authorization_server", &self.authorization_server)
            .field("callers_http_client", &self.http.is_some())
            .finish()
    }
}

impl DiscoveredResource {
    /// A resource and its authorization server found without the caller's HTTP client.
    pub(crate) fn new(resource: ProtectedResourceMetadata, authorization_server: ProviderMetadata) -> Self {
        DiscoveredResource { resource, authorization_server, http: None }
    }

    /// The resource identifier, to send as the `resource` indicator (RFC 8707) of token and
    /// authorization requests, so that tokens are issued for this resource only.
    pub fn resource_indicator(&self) -> &str {
        &self.resource.resource
    }

    /// A client of the authorization server, configured from its metadata (and with the
    /// HTTP client discovery used, if the caller gave one); add the client authentication (or
    /// register first) and build it.
    pub fn client_builder(&self) -> OAuthClientBuilder {
        let builder = OAuthClient::builder(&self.authorization_server.token_endpoint)
            .with_metadata(&self.authorization_server);
        match &self.http {
            Some(http) => builder.http_client(http.clone()),
            None => builder,
        }
    }
}

impl OAuthClient {
    /// From a resource server's `401` to `requested`: reads `resource_metadata` from the
    /// response's `WWW-Authenticate` ([`ResourceChallenge`]) — without one, tries the
    /// well-known location of `requested` with its path inserted, then the origin's — fetches
    /// the metadata, checks that it is about a
    /// resource `requested` belongs to (same origin, its path a prefix of the requested
    /// one; RFC 9728 §3.3 asks for the identical URL, and resources such as MCP servers name
    /// their base), and discovers the first authorization server it lists that answers (its
    /// metadata looked for in the order of RFC 8414 §5 and the MCP authorization
    /// specification: OAuth with the path inserted, OpenID with the path inserted, OpenID with
    /// the path appended).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use oauth_client::OAuthClient;
    /// use oauth_client::manager::ClientCredentials;
    ///
    /// let api = "https://mcp.example.com/mcp";
    /// let refused = reqwest::get(api).await?;
    /// if refused.status() == 401 {
    ///     let found = OAuthClient::discover_from_challenge(api, refused.headers()).await?;
    ///     let client = found.client_builder().build()?;      // add client_auth, or register
    ///     let source = ClientCredentials::new().resource(found.resource_indicator());
    ///     # let _ = (client, source);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn discover_from_challenge(
        requested: &str,
        headers: &HeaderMap,
    ) -> Result<DiscoveredResource, Error> {
        Self::discover_from_challenge_through(None, requested, headers).await
    }

    /// [`discover_from_challenge`](Self::discover_from_challenge) through `http` (a proxy,
    /// extra roots, a client certificate): both metadata documents are fetched with it, and
    /// [`DiscoveredResource::client_builder`] builds a client that sends every request with it.
    ///
    /// ```no_run
    /// # async fn run(http: reqwest::Client, refused: reqwest::Response) -> Result<(), oauth_client::Error> {
    /// use oauth_client::OAuthClient;
    ///
    /// let api = "https://mcp.example.com/mcp";
    /// let found = OAuthClient::discover_from_challenge_with(&http, api, refused.headers()).await?;
    /// let client = found.client_builder().build()?; // sends with `http` too
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub async fn discover_from_challenge_with(
        http: &reqwest::Client,
        requested: &str,
        headers: &HeaderMap,
    ) -> Result<DiscoveredResource, Error> {
        Self::discover_from_challenge_through(Some(http), requested, headers).await
    }

    async fn discover_from_challenge_through(
        caller_http: Option<&reqwest::Client>,
        requested: &str,
        headers: &HeaderMap,
    ) -> Result<DiscoveredResource, Error> {
        let requested = crate::endpoint_url::parse("resource URL", requested, false)?;
        let named =
            ResourceChallenge::from_headers(headers).and_then(|challenge| challenge.resource_metadata);
        Self::discover_through(caller_http, &requested, named.as_deref()).await
    }

    /// The protected resource's metadata — at `named` (a challenge's `resource_metadata`),
    /// else at the well-known locations of `requested` — checked to be `requested`'s, then
    /// its authorization server's.
    pub(crate) async fn discover_through(
        caller_http: Option<&reqwest::Client>,
        requested: &Url,
        named: Option<&str>,
    ) -> Result<DiscoveredResource, Error> {
        // The challenge's `resource_metadata`, then the well-known locations of the
        // requested URL: its path inserted, then the origin's (RFC 9728 §3.1; the order the
        // MCP authorization specification gives). Nothing anywhere (each location 404) is
        // "no metadata"; another failure is reported as it is.
        let mut candidates = Vec::new();
        if let Some(named) = named {
            candidates.push(crate::endpoint_url::parse("resource metadata URL", named, false)?);
        }
        candidates.extend(well_known_candidates(requested));
        let http = crate::http_client::for_documents(caller_http)?;
        let mut last_error = Error::ResourceMetadata(ResourceMetadataError::NoResourceMetadata);
        let mut found = None;
        for candidate in &candidates {
            match crate::discovery::fetch_json::<ProtectedResourceMetadata>(&http, candidate.as_str()).await {
                Ok(metadata) => {
                    found = Some(metadata);
                    break;
                }
                Err(error) if error.status() == Some(reqwest::StatusCode::NOT_FOUND) => {}
                Err(error) => last_error = error,
            }
        }
        let metadata = found.ok_or(last_error)?;
        if !belongs_to(requested, &metadata.resource) {
            return Err(Error::ResourceMetadata(ResourceMetadataError::ResourceMismatch {
                expected: requested.to_string(),
                found: metadata.resource,
            }));
        }
        Self::authorization_server_of(caller_http, &http, metadata).await
    }

    /// From the resource identifier: fetches its metadata at the well-known location
    /// (`/.well-known/oauth-protected-resource` inserted before the path, RFC 9728 §3.1),
    /// which must name the identical resource, then discovers its authorization server.
    pub async fn discover_resource(resource: &str) -> Result<DiscoveredResource, Error> {
        Self::discover_resource_through(None, resource).await
    }

    /// [`discover_resource`](Self::discover_resource) through `http`: both metadata documents
    /// are fetched with it, and [`DiscoveredResource::client_builder`] builds a client that
    /// sends every request with it.
    ///
    /// ```no_run
    /// # async fn run(http: reqwest::Client) -> Result<(), oauth_client::Error> {
    /// let found = oauth_client::OAuthClient::discover_resource_with(&http, "https://api.example.com").await?;
    /// # let _ = found;
    /// # Ok(()) }
    /// ```
    pub async fn discover_resource_with(
        http: &reqwest::Client,
        resource: &str,
    ) -> Result<DiscoveredResource, Error> {
        Self::discover_resource_through(Some(http), resource).await
    }

    async fn discover_resource_through(
        caller_http: Option<&reqwest::Client>,
        resource: &str,
    ) -> Result<DiscoveredResource, Error> {
        let identifier = crate::endpoint_url::parse("resource identifier", resource, false)?;
        let path = identifier.path().trim_end_matches('/');
        let mut well_known = identifier.clone();
        well_known.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
        let http = crate::http_client::for_documents(caller_http)?;
        let metadata =
            crate::discovery::fetch_json::<ProtectedResourceMetadata>(&http, well_known.as_str()).await?;
        if metadata.resource != resource {
            return Err(Error::ResourceMetadata(ResourceMetadataError::ResourceMismatch {
                expected: resource.to_owned(),
                found: metadata.resource,
            }));
        }
        Self::authorization_server_of(caller_http, &http, metadata).await
    }

    /// `resource`'s first authorization server whose metadata is found, fetched with `http`.
    async fn authorization_server_of(
        caller_http: Option<&reqwest::Client>,
        http: &reqwest::Client,
        resource: ProtectedResourceMetadata,
    ) -> Result<DiscoveredResource, Error> {
        let mut last_error = Error::ResourceMetadata(ResourceMetadataError::NoAuthorizationServer);
        for issuer in &resource.authorization_servers {
            match crate::discovery::metadata_from(http, issuer).await {
                Ok(authorization_server) => {
                    let http = caller_http.cloned();
                    return Ok(DiscoveredResource { resource, authorization_server, http });
                }
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    }
}

/// The well-known metadata URLs for `requested`: its path inserted after the well-known
/// name, then the origin's (no path), without repeating one.
fn well_known_candidates(requested: &Url) -> Vec<Url> {
    let path = requested.path().trim_end_matches('/');
    let mut candidates = Vec::new();
    for path in [path, ""] {
        let mut candidate = requested.clone();
        candidate.set_query(None);
        candidate.set_fragment(None);
        candidate.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
        if !candidates.contains(&candidate) {
            candidates.push(candidate);
        }
    }
    candidates
}

/// Whether `requested` is at or under the resource identifier `resource`.
pub(crate) fn belongs_to(requested: &Url, resource: &str) -> bool {
    let Ok(resource) = Url::parse(resource) else { return false };
    if resource.origin() != requested.origin() || resource.query().is_some() || resource.fragment().is_some()
    {
        return false;
    }
    let base = resource.path().trim_end_matches('/');
    let path = requested.path();
    path == base || path.strip_prefix(base).is_some_and(|rest| rest.starts_with('/')) || base.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_looked_for_with_the_path_then_at_the_root() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            well_known_candidates(&url("https://api.example/mcp/v1?session=x")),
            [
                url("https://api.example/.well-known/oauth-protected-resource/mcp/v1"),
                url("https://api.example/.well-known/oauth-protected-resource"),
            ]
        );
        assert_eq!(
            well_known_candidates(&url("https://api.example/")),
            [url("https://api.example/.well-known/oauth-protected-resource")]
        );
    }

    #[test]
    fn a_request_belongs_to_its_resource_or_one_above_it() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(belongs_to(&url("https://api.example/mcp"), "https://api.example/mcp"));
        assert!(belongs_to(&url("https://api.example/mcp/tools"), "https://api.example/mcp"));
        assert!(belongs_to(&url("https://api.example/things"), "https://api.example/"));
        assert!(belongs_to(&url("https://api.example/things"), "https://api.example"));
        assert!(!belongs_to(&url("https://api.example/mcpx"), "https://api.example/mcp"));
        assert!(!belongs_to(&url("https://api.example/other"), "https://api.example/mcp"));
        assert!(!belongs_to(&url("https://evil.example/mcp"), "https://api.example/mcp"));
        assert!(!belongs_to(&url("http://api.example/mcp"), "https://api.example/mcp"));
        assert!(!belongs_to(&url("https://api.example/mcp"), "https://api.example/mcp?x=1"));
        assert!(!belongs_to(&url("https://api.example/mcp"), "not a url"));
    }
}
