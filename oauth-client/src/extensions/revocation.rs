//! Token revocation (RFC 7009).

use crate::{ClientAuthorization, Error, FormParams, TokenEndpoint, oauth_grant};

/// Revokes access or refresh tokens at the provider's revocation endpoint (RFC 7009 §2.1).
pub trait TokenRevocation: TokenEndpoint {
    /// Revokes `token`. `token_type_hint` is `"access_token"` or `"refresh_token"`. The
    /// provider answers 200 also for a token it does not know (RFC 7009 §2.2), so success
    /// says only that the token is not valid any more.
    #[oauth_grant(endpoint = "revocation")]
    async fn revoke_token<'a>(
        &self,
        #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
        #[form] token: &str,
        #[form] token_type_hint: Option<&str>,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<(), Error>;
}

impl TokenRevocation for crate::OAuthClient {}
