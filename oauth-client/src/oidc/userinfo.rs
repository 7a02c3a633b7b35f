//! The UserInfo request (OIDC Core §5.3), declared like any other request.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{IdTokenClaims, IdTokenError};
use crate::{Error, OAuthClient, TokenEndpoint, oauth_grant};

/// The claims UserInfo returns: `sub`, and the others in `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfoClaims {
    /// The user, as the ID token names them.
    pub sub: String,
    /// Every other claim (`email`, `name`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UserInfoClaims {
    /// Refuses a response about another user than the ID token's (OIDC Core §5.3.2: the
    /// `sub` must match, or the response may be substituted).
    pub fn check_subject(&self, id_token: &IdTokenClaims) -> Result<(), IdTokenError> {
        if self.sub == id_token.sub { Ok(()) } else { Err(IdTokenError::SubjectMismatch) }
    }
}

/// The UserInfo endpoint (discovery's `userinfo_endpoint`).
pub trait UserInfo: TokenEndpoint {
    /// Asks for the claims about the user the access token is for (a GET); `authorization`
    /// is `<token type> <access token>`: `Bearer ...`, or `DPoP ...` for a DPoP-bound token,
    /// which a client with a DPoP key then proves it holds (a proof with the token's hash).
    ///
    /// ```no_run
    /// use oauth_client::oidc::UserInfo;
    ///
    /// # async fn run(client: oauth_client::OAuthClient, token: oauth_client::OAuthToken, id: oauth_client::oidc::IdTokenClaims) -> Result<(), oauth_client::oidc::OidcError> {
    /// let info = client.user_info(&format!("{} {}", token.token_type, token.access_token.secret())).await?;
    /// info.check_subject(&id)?;
    /// println!("{:?}", info.extra.get("email"));
    /// # Ok(()) }
    /// ```
    #[oauth_grant(endpoint = "userinfo", method = "GET", client_auth = false)]
    async fn user_info(
        &self,
        #[header("Authorization")] authorization: &str,
    ) -> Result<UserInfoClaims, Error>;
}

impl UserInfo for OAuthClient {}
