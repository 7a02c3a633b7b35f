//! The grants [`ResourceAccess`](super::ResourceAccess) gets tokens with, and the token
//! source that renews a session's token: the refresh token when there is one, else the
//! same grant again when it needs no user.

use std::future::Future;
use std::sync::Arc;

use crate::ClientAuthorization::Configured;
use crate::client::OAuthClient;
use crate::client_auth::ClientAuth;
use crate::error::Error;
use crate::extensions::{JwtBearer as _, TokenExchange as _, token_types};
use crate::form::FormParams;
use crate::grants::OAuthAuthorization as _;
use crate::manager::source::user_needed_if_refused;
use crate::manager::{BoxFuture, TokenSource};
use crate::secret::AccessToken;
use crate::token::OAuthToken;

use super::UserAuthorization;

#[derive(Clone)]
pub(super) enum Grant {
    AuthorizationCode(Arc<dyn UserAuthorization>),
    ClientCredentials,
    JwtBearer(Arc<dyn AssertionSource>),
    IdentityAssertion(Arc<IdentityAssertion>),
}

impl core::fmt::Debug for Grant {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Grant::AuthorizationCode(_) => "AuthorizationCode",
            Grant::ClientCredentials => "ClientCredentials",
            Grant::JwtBearer(_) => "JwtBearer",
            Grant::IdentityAssertion(_) => "IdentityAssertion",
        })
    }
}

impl Grant {
    /// The grant types a client registered for this grant needs.
    pub(super) fn grant_types(&self) -> Vec<String> {
        let types: &[&str] = match self {
            Grant::AuthorizationCode(_) => &["authorization_code", "refresh_token"],
            Grant::ClientCredentials => &["client_credentials"],
            Grant::JwtBearer(_) | Grant::IdentityAssertion(_) => &[crate::extensions::JWT_BEARER_GRANT_TYPE],
        };
        types.iter().map(|grant| (*grant).to_owned()).collect()
    }

    /// Gets a token with a grant that needs no user; the authorization code grant needs one
    /// ([`Error::RefreshUnavailable`]).
    pub(super) async fn without_user(
        &self,
        client: &OAuthClient,
        target: &Target,
    ) -> Result<OAuthToken, Error> {
        let scope = target.scope.as_deref();
        let resource = FormParams::new().with("resource", target.resource.as_str());
        match self {
            Grant::AuthorizationCode(_) => {
                Err(Error::refresh_unavailable("no refresh token; authorize again"))
            }
            Grant::ClientCredentials => client.request_token_ccg(Configured, scope, Some(&resource)).await,
            Grant::JwtBearer(assertions) => match assertions.assertion().await {
                Ok(assertion) => {
                    client
                        .request_token_jwt_bearer(Configured, assertion.secret(), scope, Some(&resource))
                        .await
                }
                Err(error) => Err(error),
            },
            Grant::IdentityAssertion(identity) => match identity.grant_for(target).await {
                Ok(grant) => {
                    client.request_token_jwt_bearer(Configured, grant.secret(), scope, Some(&resource)).await
                }
                Err(error) => Err(error),
            },
        }
    }
}

/// What a token is for: the resource, its authorization server, the scope.
#[derive(Clone, Debug)]
pub(super) struct Target {
    pub(super) resource: String,
    pub(super) issuer: String,
    pub(super) scope: Option<String>,
    /// The HTTP client of the flow, for the identity provider too.
    pub(super) http: reqwest::Client,
}

/// Where the JWT bearer grant's assertion comes from: read anew for every token request
/// (workload identity tokens are short-lived). Implemented for async functions.
///
/// ```
/// use oauth_client::resource_access::AssertionSource;
/// use oauth_client::{AccessToken, ConfigError, Setting};
///
/// fn platform_token() -> impl AssertionSource {
///     || async {
///         let token = std::fs::read_to_string("/var/run/secrets/tokens/mcp-token")
///             .map_err(|error| ConfigError::new(Setting::Custom, format!("no workload token: {error}")))?;
///         Ok(AccessToken::from(token.trim()))
///     }
/// }
/// ```
pub trait AssertionSource: Send + Sync + 'static {
    /// The assertion to send now.
    fn assertion(&self) -> BoxFuture<'_, Result<AccessToken, Error>>;
}

impl<F, Fut> AssertionSource for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<AccessToken, Error>> + Send + 'static,
{
    fn assertion(&self) -> BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(self())
    }
}

/// Enterprise-managed authorization: the user's ID token from the enterprise identity
/// provider, exchanged there (RFC 8693) for an identity assertion grant naming the
/// authorization server and the resource, which the authorization server redeems with the
/// JWT bearer grant.
///
/// ```
/// use oauth_client::ClientAuth;
/// use oauth_client::resource_access::IdentityAssertion;
///
/// let idp = IdentityAssertion::new(
///     "https://idp.example.com/oauth2/token",
///     ClientAuth::none("my-agent-at-the-idp"),
///     "eyJ...the user's ID token",
/// );
/// ```
#[derive(Clone)]
pub struct IdentityAssertion {
    token_endpoint: String,
    client: ClientAuth,
    id_token: AccessToken,
}

impl core::fmt::Debug for IdentityAssertion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IdentityAssertion")
            .field("token_endpoint", &self.token_endpoint)
            .field("client", &self.client)
            .field("id_token", &self.id_token)
            .finish()
    }
}

impl IdentityAssertion {
    /// The identity provider's token endpoint, the client it knows this app as, and the
    /// user's ID token from it.
    pub fn new(
        token_endpoint: impl Into<String>,
        client: ClientAuth,
        id_token: impl Into<AccessToken>,
    ) -> Self {
        IdentityAssertion { token_endpoint: token_endpoint.into(), client, id_token: id_token.into() }
    }

    /// Exchanges the ID token for a grant for `target`'s authorization server and resource.
    async fn grant_for(&self, target: &Target) -> Result<AccessToken, Error> {
        let idp = OAuthClient::builder(&self.token_endpoint)
            .client_auth(self.client.clone())
            .http_client(target.http.clone())
            .build()?;
        let exchanged = idp
            .exchange_token(
                Configured,
                self.id_token.secret(),
                token_types::ID_TOKEN,
                None,
                None,
                &[target.resource.as_str()],
                &[target.issuer.as_str()],
                Some(token_types::ID_JAG),
                target.scope.as_deref(),
                None,
            )
            .await?;
        Ok(exchanged.access_token)
    }
}

/// Renews a session's token: with its refresh token (naming the resource, RFC 8707 §2.2),
/// else with the grant again when it needs no user; otherwise the user must authorize again.
#[derive(Clone)]
pub(super) struct Renewal {
    pub(super) grant: Grant,
    pub(super) target: Target,
}

impl TokenSource for Renewal {
    fn kind(&self) -> &'static str {
        "resource_access"
    }

    fn fetch<'a>(
        &'a self,
        client: &'a OAuthClient,
        previous: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>> {
        Box::pin(async move {
            if let Some(refresh) = previous.and_then(|token| token.refresh_token.as_ref()) {
                let resource = FormParams::new().with("resource", self.target.resource.as_str());
                let refreshed =
                    client.refresh_token_acg(Configured, refresh.secret(), None, Some(&resource)).await;
                return user_needed_if_refused(refreshed);
            }
            self.grant.without_user(client, &self.target).await
        })
    }
}
