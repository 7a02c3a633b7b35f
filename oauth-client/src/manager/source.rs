//! Where a [`TokenManager`](super::TokenManager) gets new tokens from.

use std::future::Future;
use std::pin::Pin;

use crate::ClientAuthorization::Configured;
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

    /// What kind of source this is, for the manager's metrics (`source` label; feature
    /// `metrics`): a short constant such as `client_credentials`. Default: `custom`.
    fn kind(&self) -> &'static str {
        "custom"
    }
}

/// Tokens from the client credentials grant, fetched again when they expire. The client
/// authenticates with its [`ClientAuth`](crate::ClientAuth), computed for every request (a
/// `private_key_jwt` client signs a fresh assertion each time).
///
/// ```
/// use oauth_client::manager::ClientCredentials;
///
/// let source = ClientCredentials::new().scope("read").resource("https://api.example.com");
/// ```
#[derive(Clone, Debug, Default)]
pub struct ClientCredentials {
    scope: Option<String>,
    resources: Vec<String>,
    additional: Option<FormParams>,
}

impl ClientCredentials {
    /// Fetches with the client's [`ClientAuth`](crate::ClientAuth), no scope asked.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same as [`new`](Self::new), whose name it had while sources also took a header.
    #[deprecated(
        since = "0.1.0",
        note = "use `ClientCredentials::new()`: sources always use the client's `ClientAuth`"
    )]
    pub fn using_client_auth() -> Self {
        Self::new()
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

impl TokenSource for ClientCredentials {
    fn kind(&self) -> &'static str {
        "client_credentials"
    }

    fn fetch<'a>(
        &'a self,
        client: &'a OAuthClient,
        _: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>> {
        if self.resources.is_empty() {
            return Box::pin(client.request_token_ccg(
                Configured,
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
            client.request_token_ccg(Configured, self.scope.as_deref(), Some(&additional)).await
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
/// again with the password when there is none or the provider refuses it. The client
/// authenticates with its [`ClientAuth`](crate::ClientAuth).
#[derive(Clone, Debug)]
pub struct PasswordGrant {
    username: String,
    password: Password,
    scope: Option<String>,
}

impl PasswordGrant {
    /// Fetches for `username` with `password`.
    pub fn new(username: impl Into<String>, password: impl Into<Password>) -> Self {
        PasswordGrant { username: username.into(), password: password.into(), scope: None }
    }

    /// The same as [`new`](Self::new), whose name it had while sources also took a header.
    #[deprecated(
        since = "0.1.0",
        note = "use `PasswordGrant::new(username, password)`: sources always use the client's `ClientAuth`"
    )]
    pub fn using_client_auth(username: impl Into<String>, password: impl Into<Password>) -> Self {
        Self::new(username, password)
    }

    /// Requests this scope.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
}

impl TokenSource for PasswordGrant {
    fn kind(&self) -> &'static str {
        "password"
    }

    fn fetch<'a>(
        &'a self,
        client: &'a OAuthClient,
        previous: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>> {
        Box::pin(async move {
            if let Some(refresh) = previous.and_then(|token| token.refresh_token.as_ref()) {
                match client.refresh_token_ropcg(Configured, refresh.secret(), None, None).await {
                    Err(error) if is_invalid_grant(&error) => {} // expired or revoked: log in again
                    result => return result,
                }
            }
            client
                .request_token_ropcg(
                    Configured,
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
/// [`Error::RefreshUnavailable`]: the user must authorize again. The client authenticates
/// with its [`ClientAuth`](crate::ClientAuth).
#[derive(Clone, Debug, Default)]
pub struct AuthorizationCode {
    _private: (),
}

impl AuthorizationCode {
    /// Refreshes with the client's [`ClientAuth`](crate::ClientAuth).
    pub fn new() -> Self {
        Self::default()
    }

    /// The same as [`new`](Self::new), whose name it had while sources also took a header.
    #[deprecated(
        since = "0.1.0",
        note = "use `AuthorizationCode::new()`: sources always use the client's `ClientAuth`"
    )]
    pub fn using_client_auth() -> Self {
        Self::new()
    }
}

impl TokenSource for AuthorizationCode {
    fn kind(&self) -> &'static str {
        "authorization_code"
    }

    fn fetch<'a>(
        &'a self,
        client: &'a OAuthClient,
        previous: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>> {
        Box::pin(async move {
            let Some(refresh) = previous.and_then(|token| token.refresh_token.as_ref()) else {
                return Err(Error::refresh_unavailable("no refresh token; authorize again"));
            };
            user_needed_if_refused(client.refresh_token_acg(Configured, refresh.secret(), None, None).await)
        })
    }
}

/// A refresh the provider refused (`invalid_grant`: expired, revoked, or already used) as
/// [`Error::RefreshUnavailable`]: only the user can authorize again.
pub(crate) fn user_needed_if_refused(refreshed: Result<OAuthToken, Error>) -> Result<OAuthToken, Error> {
    match refreshed {
        Err(error) if is_invalid_grant(&error) => Err(Error::RefreshUnavailable {
            reason: "the provider refused the refresh token; authorize again".to_owned(),
            source: Some(Box::new(error)),
        }),
        result => result,
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
///         .map_err(|error| oauth_client::Error::from(oauth_client::ConfigError::new(oauth_client::Setting::Custom, error.to_string())))
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
