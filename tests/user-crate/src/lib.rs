//! A team's own crate that depends on nothing but `oauth-client` and declares the extra
//! grant its provider needs: the SAML 2.0 bearer assertion grant (RFC 7522 §2.1).

use oauth_client::{Error, OAuthClient, OAuthToken, TokenEndpoint, oauth_grant};

/// Grants of our provider beyond RFC 6749.
pub trait SamlBearer: TokenEndpoint {
    /// Exchanges a base64url-encoded SAML 2.0 assertion for an access token.
    #[oauth_grant(grant_type = "urn:ietf:params:oauth:grant-type:saml2-bearer")]
    async fn request_token_saml(
        &self,
        #[header("Authorization")] authorization: &str,
        #[form] assertion: &str,
        #[form] scope: Option<&str>,
    ) -> Result<OAuthToken, Error>;
}

impl SamlBearer for OAuthClient {}
