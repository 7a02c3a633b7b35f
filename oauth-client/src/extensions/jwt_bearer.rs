//! The JWT bearer grant (RFC 7523 §2.1). It sends an assertion signed elsewhere (a workload
//! identity token, an identity assertion grant, one of [`JwtAssertion`](super::JwtAssertion)'s
//! with feature `jwt`), so it needs no signing feature.

use crate::{ClientAuthorization, Error, FormParams, OAuthToken, TokenEndpoint, oauth_grant};

/// The assertion grant type of RFC 7523 §2.1.
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The JWT bearer grant (RFC 7523 §2.1): a signed assertion in exchange for a token.
pub trait JwtBearer: TokenEndpoint {
    /// Requests a token with a signed JWT assertion (RFC 7523 §2.1).
    ///
    /// Sends `assertion` (a workload identity token, or one signed with `JwtAssertion::sign`,
    /// feature `jwt`); the client may authenticate as well.
    #[oauth_grant(grant_type = "urn:ietf:params:oauth:grant-type:jwt-bearer")]
    async fn request_token_jwt_bearer<'a>(
        &self,
        #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
        #[form] assertion: &str,
        #[form] scope: Option<&str>,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<OAuthToken, Error>;
}

impl JwtBearer for crate::OAuthClient {}
