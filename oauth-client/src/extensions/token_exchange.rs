//! Token exchange (RFC 8693).

use crate::{ClientAuthorization, Error, FormParams, OAuthToken, TokenEndpoint, oauth_grant};

/// The token type identifiers of RFC 8693 §3.
pub mod token_types {
    /// An OAuth 2.0 access token.
    pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
    /// An OAuth 2.0 refresh token.
    pub const REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
    /// An OpenID Connect ID token.
    pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
    /// A JWT.
    pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
    /// A base64url-encoded SAML 1.1 assertion.
    pub const SAML1: &str = "urn:ietf:params:oauth:token-type:saml1";
    /// A base64url-encoded SAML 2.0 assertion.
    pub const SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
    /// An identity assertion JWT authorization grant (ID-JAG, the OAuth identity chaining
    /// draft): what an enterprise identity provider issues for another authorization server.
    pub const ID_JAG: &str = "urn:ietf:params:oauth:token-type:id-jag";
}

/// Exchanges one token for another (RFC 8693 §2.1): delegation, impersonation, or a token
/// for another audience. The response's `issued_token_type` is in
/// [`OAuthToken::issued_token_type`].
pub trait TokenExchange: TokenEndpoint {
    /// Exchanges a token for another (RFC 8693 §2.1).
    ///
    /// `audience` and `resource` may name several targets: each item is its own field.
    #[oauth_grant(grant_type = "urn:ietf:params:oauth:grant-type:token-exchange")]
    #[allow(clippy::too_many_arguments)] // RFC 8693 §2.1 has this many parameters
    async fn exchange_token<'a>(
        &self,
        #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
        #[form] subject_token: &str,
        #[form] subject_token_type: &str,
        #[form] actor_token: Option<&str>,
        #[form] actor_token_type: Option<&str>,
        #[form] resource: &[&str],
        #[form] audience: &[&str],
        #[form] requested_token_type: Option<&str>,
        #[form] scope: Option<&str>,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<OAuthToken, Error>;
}

impl TokenExchange for crate::OAuthClient {}
