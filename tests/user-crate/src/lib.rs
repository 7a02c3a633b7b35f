//! A team's own crate that depends on nothing but `oauth-client` and declares what its
//! provider needs beyond RFC 6749: the SAML 2.0 bearer assertion grant (RFC 7522 §2.1), and a
//! request to the provider's own consent endpoint, authenticated like every other request.

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

/// The provider's own endpoint: records a user's consent (`vendor_consent_endpoint`).
pub trait VendorConsent: TokenEndpoint {
    /// Records that `user` consented to `purpose`; the provider answers with an empty 204.
    #[oauth_grant(endpoint = "vendor_consent")]
    async fn record_consent(&self, #[form] user: &str, #[form] purpose: &str) -> Result<(), Error>;
}

impl VendorConsent for OAuthClient {}
