//! A team declares the grant its provider needs — here the SAML 2.0 bearer assertion grant
//! (RFC 7522), which no standard client ships — in its own code, and calls it.
//!
//! ```text
//! cargo run -p oauth-examples --example custom_grant
//! ```

use base64::Engine as _;
use oauth_client::{ClientAuth, Error, OAuthClient, OAuthToken, TokenEndpoint, oauth_grant};
use oauth_examples::StandInProvider;

// The whole declaration (11 lines): the trait, one method, one impl.
/// Our provider's extra grant.
pub trait SamlBearer: TokenEndpoint {
    /// SAML 2.0 bearer assertion grant, RFC 7522 §2.1.
    #[oauth_grant(grant_type = "urn:ietf:params:oauth:grant-type:saml2-bearer")]
    async fn request_token_saml(
        &self,
        #[form] assertion: &str,
        #[form] scope: Option<&str>,
    ) -> Result<OAuthToken, Error>;
}
impl SamlBearer for OAuthClient {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = StandInProvider::start().await?;
    // The client's authentication applies to every grant, declared here or in the crate.
    let client = OAuthClient::builder(provider.token_url())
        .client_auth(ClientAuth::client_secret_basic(
            oauth_examples::CLIENT_ID,
            oauth_examples::CLIENT_SECRET,
        ))
        .build()?;
    // RFC 7522 §2.1: the assertion is sent base64url-encoded. A real one comes from your IdP.
    let saml = r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">...</saml:Assertion>"#;
    let assertion = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(saml);
    let token = client.request_token_saml(&assertion, Some("read")).await?;
    println!("request_token_saml   ok    {token:?}");
    Ok(())
}
