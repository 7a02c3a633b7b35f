//! The five standard grants of RFC 6749, declared with [`oauth_grant`](crate::oauth_grant).

use crate::{ClientAuthorization, Error, FormParams, OAuthToken, TokenEndpoint, oauth_grant};

/// The token-endpoint grants of RFC 6749: client credentials, authorization code, password,
/// and refreshing the tokens of the latter two.
///
/// Every method sends `POST` to the token endpoint, `Content-Type:
/// application/x-www-form-urlencoded` and `Accept: application/json`; an `Option` field that
/// is `None` is not sent, and `additional` fields are sent after the named ones.
///
/// `authorization` says how the client authenticates:
/// [`ClientAuthorization::Configured`] applies the client's [`ClientAuth`](crate::ClientAuth)
/// to each attempt. The parameter keeps the header-string signatures of the generated SDKs
/// these methods are named after: a `&str` or `&String` (a [`BasicAuth`](crate::BasicAuth)
/// header value, say) is sent as the `Authorization` header, unchanged.
///
/// ```no_run
/// use oauth_client::{ClientAuth, ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
///
/// # async fn run() -> Result<(), oauth_client::Error> {
/// let client = OAuthClient::builder("https://auth.example.com/token")
///     .client_auth(ClientAuth::client_secret_basic("my-client", "my-secret"))
///     .build()?;
/// let token = client.request_token_ccg(Configured, Some("read"), None).await?;
/// # let _ = token; Ok(()) }
/// ```
///
/// Implemented for [`OAuthClient`](crate::OAuthClient); implement it for your own
/// [`TokenEndpoint`] type with an empty `impl`.
pub trait OAuthAuthorization: TokenEndpoint {
    /// Client credentials grant (RFC 6749 §4.4): a token for the client itself.
    #[doc(alias = "request_token_o_auth_ccg")]
    #[oauth_grant(grant_type = "client_credentials")]
    async fn request_token_ccg<'a>(
        &self,
        #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
        #[form] scope: Option<&str>,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<OAuthToken, Error>;

    /// Authorization code grant (RFC 6749 §4.1.3): exchanges the code the user's browser
    /// brought back for a token. `redirect_uri` is the one the authorization request used.
    #[doc(alias = "request_token_o_auth_acg")]
    #[doc(alias = "requestToken")]
    #[oauth_grant(grant_type = "authorization_code")]
    async fn request_token_acg<'a>(
        &self,
        #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
        #[form] code: &str,
        #[form] redirect_uri: &str,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<OAuthToken, Error>;

    /// Refreshes a token obtained with the authorization code grant (RFC 6749 §6).
    #[doc(alias = "refresh_token_o_auth_acg")]
    #[doc(alias = "refreshToken")]
    #[oauth_grant(grant_type = "refresh_token")]
    async fn refresh_token_acg<'a>(
        &self,
        #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
        #[form] refresh_token: &str,
        #[form] scope: Option<&str>,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<OAuthToken, Error>;

    /// Resource owner password credentials grant (RFC 6749 §4.3).
    #[doc(alias = "request_token_o_auth_ropcg")]
    #[oauth_grant(grant_type = "password")]
    async fn request_token_ropcg<'a>(
        &self,
        #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
        #[form] username: &str,
        #[form] password: &str,
        #[form] scope: Option<&str>,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<OAuthToken, Error>;

    /// Refreshes a token obtained with the password grant (RFC 6749 §6).
    #[doc(alias = "refresh_token_o_auth_ropcg")]
    #[oauth_grant(grant_type = "refresh_token")]
    async fn refresh_token_ropcg<'a>(
        &self,
        #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
        #[form] refresh_token: &str,
        #[form] scope: Option<&str>,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<OAuthToken, Error>;
}

impl OAuthAuthorization for crate::OAuthClient {}
