//! Where a [`TokenManager`](super::TokenManager) gets new tokens from.

use std::future::Future;
use std::pin::Pin;

use crate::secret::Redacted;
use crate::{
    Error, FormParams, OAuthAuthorization, OAuthClient, OAuthProviderErrorKind, OAuthToken, Password,
};

/// A boxed, `Send` future, as trait objects return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Obtains a new token for a [`TokenManager`](super::TokenManager).
///
/// The built-in sources are [`ClientCredentials`], [`PasswordGrant`] and
/// [`AuthorizationCode`]; [`from_fn`] turns an async closure into one.
pub trait TokenSource: Send + Sync + 'static {
    /// A new token. `previous` is the token being replaced, if any (it may be expired), so a
    /// source can use its refresh token.
    fn fetch<'a>(
        &'a self,
        client: &'a OAuthClient,
        previous: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>>;

    /// Whether two managers fetching at once without coordination could replay a
    /// credential: `true` (the default) for a source that refreshes with the previous
    /// token's refresh token, which a rotating provider accepts once. A manager with a
    /// shared store does not fetch from such a source while the store is unreachable (see
    /// [`TokenManagerBuilder::refresh_when_store_unreachable`](super::TokenManagerBuilder::refresh_when_store_unreachable)).
    fn needs_coordination(&self) -> bool {
        true
    }

    /// The resources (RFC 8707) the tokens are for: part of the manager's store key, so
    /// tokens for different resources never mix. Default: none.
    fn resources(&self) -> &[String] {
        &[]
    }
}

/// Tokens from the client credentials grant, fetched again when they expire.
#[derive(Clone)]
pub struct ClientCredentials {
    authorization: String,
    scope: Option<String>,
    resources: Vec<String>,
    additional: Option<FormParams>,
}

impl ClientCredentials {
    /// Fetches with this `Authorization` header value (e.g. [`BasicAuth::header_value`](crate::BasicAuth::header_value)).
    pub fn new(authorization: impl Into<String>) -> Self {
        ClientCredentials {
            authorization: authorization.into(),
            scope: None,
            resources: Vec::new(),
            additional: None,
        }
    }

    /// Fetches with the client's own [`ClientAuth`](crate::ClientAuth), computed for every
    /// request (a `private_key_jwt` client signs a fresh assertion each time).
    pub fn using_client_auth() -> Self {
        // No header of its own: the client's authentication applies.
        Self::new(String::new())
    }

    /// Requests this scope.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Asks for a token for this resource (RFC 8707); repeat for several. The manager keeps
    /// tokens for different resources apart: the resources become part of its store key.
    #[must_use]
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }

    /// Sends these additional form fields.
    #[must_use]
    pub fn additional(mut self, additional: FormParams) -> Self {
        self.additional = Some(additional);
        self
    }
}

// The `Authorization` value carries the client secret (Basic is only base64): never shown.
impl core::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("authorization", &Redacted)
            .field("scope", &self.scope)
            .field("resources", &self.resources)
            .field("additional", &self.additional)
            .finish()
    }
}

impl TokenSource for ClientCredentials {
    fn fetch<'a>(
        &'a self,
        client: &'a OAuthClient,
        _: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>> {
        if self.resources.is_empty() {
            return Box::pin(client.request_token_ccg(
                &self.authorization,
                self.scope.as_deref(),
                self.additional.as_ref(),
            ));
        }
        Box::pin(async move {
            let mut additional: FormParams =
                self.resources.iter().map(|resource| ("resource", resource.as_str())).collect();
            for (name, value) in self.additional.iter().flat_map(FormParams::iter) {
                additional.push(name, value);
            }
            client.request_token_ccg(&self.authorization, self.scope.as_deref(), Some(&additional)).await
        })
    }

    fn resources(&self) -> &[String] {
        &self.resources
    }

    /// Client credentials carry no single-use credential: each manager may fetch on its own.
    fn needs_coordination(&self) -> bool {
        false
    }
}

/// Tokens from the password grant: refreshed with the refresh token while it works, fetched
/// again with the password when there is none or the provider refuses it.
#[derive(Clone)]
pub struct PasswordGrant {
    authorization: String,
    username: String,
    password: Password,
    scope: Option<String>,
}

impl PasswordGrant {
    /// Fetches for `username` with this `Authorization` header value.
    pub fn new(
        authorization: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<Password>,
    ) -> Self {
        PasswordGrant {
            authorization: authorization.into(),
            username: username.into(),
            password: password.into(),
            scope: None,
        }
    }

    /// Fetches for `username`, authenticating with the client's own
    /// [`ClientAuth`](crate::ClientAuth).
    pub fn using_client_auth(username: impl Into<String>, password: impl Into<Password>) -> Self {
        Self::new(String::new(), username, password)
    }

    /// Requests this scope.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
}

impl core::fmt::Debug for PasswordGrant {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PasswordGrant")
            .field("authorization", &Redacted)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("scope", &self.scope)
            .finish()
    }
}

impl TokenSource for PasswordGrant {
    fn fetch<'a>(
        &'a self,
        client: &'a OAuthClient,
        previous: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>> {
        Box::pin(async move {
            if let Some(refresh) = previous.and_then(|token| token.refresh_token.as_ref()) {
                match client.refresh_token_ropcg(&self.authorization, refresh.secret(), None, None).await {
                    Err(error) if is_invalid_grant(&error) => {} // expired or revoked: log in again
                    result => return result,
                }
            }
            client
                .request_token_ropcg(
                    &self.authorization,
                    &self.username,
                    self.password.secret(),
                    self.scope.as_deref(),
                    None,
                )
                .await
        })
    }
}

/// Refreshes a token obtained with the authorization code grant. Start the manager with
/// that token ([`TokenManagerBuilder::initial_token`](super::TokenManagerBuilder::initial_token));
/// when it has no refresh token left, or the provider refuses it, the manager answers
/// [`Error::RefreshUnavailable`]: the user must authorize again.
#[derive(Clone)]
pub struct AuthorizationCode {
    authorization: String,
}

impl core::fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuthorizationCode").field("authorization", &Redacted).finish()
    }
}

impl AuthorizationCode {
    /// Refreshes with this `Authorization` header value.
    pub fn new(authorization: impl Into<String>) -> Self {
        AuthorizationCode { authorization: authorization.into() }
    }

    /// Refreshes authenticating with the client's own [`ClientAuth`](crate::ClientAuth).
    pub fn using_client_auth() -> Self {
        Self::new(String::new())
    }
}

impl TokenSource for AuthorizationCode {
    fn fetch<'a>(
        &'a self,
        client: &'a OAuthClient,
        previous: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>> {
        Box::pin(async move {
            let Some(refresh) = previous.and_then(|token| token.refresh_token.as_ref()) else {
                return Err(Error::refresh_unavailable("no refresh token; authorize again"));
            };
            match client.refresh_token_acg(&self.authorization, refresh.secret(), None, None).await {
                Err(error) if is_invalid_grant(&error) => Err(Error::RefreshUnavailable {
                    reason: "the provider refused the refresh token; authorize again".to_owned(),
                    source: Some(Box::new(error)),
                }),
                result => result,
            }
        })
    }
}

fn is_invalid_grant(error: &Error) -> bool {
    error.provider_error().is_some_and(|error| error.error == OAuthProviderErrorKind::InvalidGrant)
}

/// A source from an async function of the previous token: bring your own way of getting
/// tokens (another library, a vault, a sidecar).
///
/// ```
/// use oauth_client::{OAuthToken, manager::from_fn};
///
/// let source = from_fn(|previous: Option<OAuthToken>| async move {
///     let _ = previous;
///     serde_json::from_str::<OAuthToken>(r#"{"access_token":"from-vault","token_type":"Bearer","expires_in":300}"#)
///         .map_err(|error| oauth_client::Error::Config(error.to_string()))
/// });
/// ```
pub fn from_fn<F, Fut>(provider: F) -> impl TokenSource
where
    F: Fn(Option<OAuthToken>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<OAuthToken, Error>> + Send + 'static,
{
    FnSource(provider)
}

struct FnSource<F>(F);

impl<F, Fut> TokenSource for FnSource<F>
where
    F: Fn(Option<OAuthToken>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<OAuthToken, Error>> + Send + 'static,
{
    fn fetch<'a>(
        &'a self,
        _: &'a OAuthClient,
        previous: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>> {
        Box::pin((self.0)(previous.cloned()))
    }
}
