//! Authorization server metadata (RFC 8414, and OpenID Connect Discovery 1.0 as fallback):
//! fills in every endpoint URL from the issuer alone.

use crate::client::{OAuthClient, OAuthClientBuilder};
use crate::error::Error;
use crate::error::Setting;
use crate::metadata::ProviderMetadata;
use crate::response::{self, Leniency, Received};
use reqwest::header::ACCEPT;

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
        let http = crate::http_client::for_documents(None)?;
        metadata_from(&http, issuer).await
    }
}

/// `issuer`'s metadata fetched with `http`, checked to be about `issuer`.
pub(crate) async fn metadata_from(http: &reqwest::Client, issuer: &str) -> Result<ProviderMetadata, Error> {
    let base = crate::endpoint_url::parse("issuer URL", issuer, false)?;
    let mut last_error = None;
    for url in metadata_candidates(&base) {
        match fetch_json::<ProviderMetadata>(http, &url).await {
            Ok(metadata) => {
                if metadata.issuer != issuer {
                    return Err(Error::config(
                        Setting::Issuer,
                        format!(
                            "the metadata at {url} is for issuer `{}`, not `{issuer}` (RFC 8414 §3.3)",
                            metadata.issuer
                        ),
                    ));
                }
                return Ok(metadata);
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.expect("at least two candidates were tried"))
}

/// Where an issuer's metadata may be, in the order tried (RFC 8414 §3.1 and §5, OpenID
/// Connect Discovery §4, and the order the MCP authorization specification asks for): for an
/// issuer with a path, the OAuth document with the path inserted after the well-known name,
/// the OpenID one inserted likewise, then the OpenID one appended to the path; for one
/// without, the OAuth document, then the OpenID one.
fn metadata_candidates(base: &reqwest::Url) -> Vec<String> {
    let path = base.path().trim_end_matches('/');
    let origin = base.origin().ascii_serialization();
    if path.is_empty() {
        return vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ];
    }
    vec![
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{origin}/.well-known/openid-configuration{path}"),
        format!("{origin}{path}/.well-known/openid-configuration"),
    ]
}

/// Metadata documents are small; anything bigger is not one.
const MAX_METADATA_BYTES: usize = 1024 * 1024;

/// GETs a small document (metadata, a key set): at most [`MAX_METADATA_BYTES`], as received.
pub(crate) async fn get_document(http: &reqwest::Client, url: &str, accept: &str) -> Result<Received, Error> {
    // Traced like the token requests, for people debugging a provider (`oauth -v`); these
    // documents carry no credentials.
    tracing::trace!(method = "GET", url = %url, query = "", headers = %format!("accept: {accept}"), body = "", "request");
    let response = http.get(url).header(ACCEPT, accept).send().await.map_err(Error::transport)?;
    let received =
        crate::transport::read_capped(response, MAX_METADATA_BYTES, crate::Clock::now(&crate::SystemClock))
            .await?;
    crate::transport::trace_response(&received);
    Ok(received)
}

/// GETs a JSON metadata document and reads it as responses are read.
pub(crate) async fn fetch_json<T: serde::de::DeserializeOwned + 'static>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, Error> {
    response::interpret(get_document(http, url, "application/json").await?, Leniency::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_looked_for_in_the_mcp_order() {
        let url = |text: &str| reqwest::Url::parse(text).unwrap();
        assert_eq!(
            metadata_candidates(&url("https://auth.example/tenant1/")),
            [
                "https://auth.example/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example/.well-known/openid-configuration/tenant1",
                "https://auth.example/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            metadata_candidates(&url("https://auth.example")),
            [
                "https://auth.example/.well-known/oauth-authorization-server",
                "https://auth.example/.well-known/openid-configuration",
            ]
        );
    }
}
