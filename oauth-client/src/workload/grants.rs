//! Token-manager sources whose grant presents a platform token: the JWT bearer grant
//! (RFC 7523 §2.1) and token exchange (RFC 8693), for `TokenManager::send`, the middleware
//! and the fleet's store, with their single-flight refresh.

use std::sync::Arc;

use crate::ClientAuthorization::Configured;
use crate::client::OAuthClient;
use crate::error::Error;
use crate::extensions::{JwtBearer as _, TokenExchange as _};
use crate::manager::{BoxFuture, TokenSource};
use crate::resource_access::AssertionSource;
use crate::token::OAuthToken;

/// Tokens from the JWT bearer grant (RFC 7523 §2.1) with an assertion read anew for each
/// grant — a [`WorkloadToken`](super::WorkloadToken), or any [`AssertionSource`].
///
/// ```
/// use oauth_client::TokenManager;
/// use oauth_client::workload::{JwtBearerGrant, WorkloadToken};
///
/// # fn run(client: oauth_client::OAuthClient) {
/// let platform = WorkloadToken::file("/var/run/secrets/tokens/oauth-token");
/// let tokens = TokenManager::builder(client, JwtBearerGrant::new(platform).scope("api.read")).build();
/// # let _ = tokens; }
/// ```
#[derive(Clone)]
pub struct JwtBearerGrant {
    assertion: Arc<dyn AssertionSource>,
    scope: Option<String>,
}

impl JwtBearerGrant {
    /// The grant with assertions from `assertion`.
    pub fn new(assertion: impl AssertionSource) -> Self {
        JwtBearerGrant { assertion: Arc::new(assertion), scope: None }
    }

    /// The scope to ask for.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
}

impl TokenSource for JwtBearerGrant {
    fn kind(&self) -> &'static str {
        "jwt_bearer"
    }

    fn fetch<'a>(
        &'a self,
        client: &'a OAuthClient,
        _: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>> {
        Box::pin(async move {
            let assertion = self.assertion.assertion().await?;
            client.request_token_jwt_bearer(Configured, assertion.secret(), self.scope.as_deref(), None).await
        })
    }

    /// A new assertion each time: nothing is spent that another process could replay.
    fn needs_coordination(&self) -> bool {
        false
    }
}

/// Tokens from a token exchange (RFC 8693 §2.1) of a subject token read anew for each
/// exchange — a platform's token for one of the authorization server's.
///
/// ```
/// use oauth_client::TokenManager;
/// use oauth_client::extensions::token_types;
/// use oauth_client::workload::{TokenExchangeGrant, WorkloadToken};
///
/// # fn run(client: oauth_client::OAuthClient) {
/// let platform = WorkloadToken::file("/var/run/secrets/tokens/oauth-token");
/// let exchange = TokenExchangeGrant::new(platform, token_types::JWT).audience("https://api.example.com");
/// let tokens = TokenManager::builder(client, exchange).build();
/// # let _ = tokens; }
/// ```
#[derive(Clone)]
pub struct TokenExchangeGrant {
    subject: Arc<dyn AssertionSource>,
    subject_token_type: String,
    audience: Vec<String>,
    resource: Vec<String>,
    scope: Option<String>,
    requested_token_type: Option<String>,
}

impl TokenExchangeGrant {
    /// Exchanges tokens from `subject`, of `subject_token_type` (a
    /// [`token_types`](crate::extensions::token_types) URI).
    pub fn new(subject: impl AssertionSource, subject_token_type: impl Into<String>) -> Self {
        TokenExchangeGrant {
            subject: Arc::new(subject),
            subject_token_type: subject_token_type.into(),
            audience: Vec::new(),
            resource: Vec::new(),
            scope: None,
            requested_token_type: None,
        }
    }

    /// An audience to ask the token for (repeatable).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience.push(audience.into());
        self
    }

    /// A resource to ask the token for (RFC 8707, repeatable).
    #[must_use]
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource.push(resource.into());
        self
    }

    /// The scope to ask for.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The token type to ask for (`requested_token_type`).
    #[must_use]
    pub fn requested_token_type(mut self, token_type: impl Into<String>) -> Self {
        self.requested_token_type = Some(token_type.into());
        self
    }
}

impl TokenSource for TokenExchangeGrant {
    fn kind(&self) -> &'static str {
        "token_exchange"
    }

    fn fetch<'a>(
        &'a self,
        client: &'a OAuthClient,
        _: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>> {
        Box::pin(async move {
            let subject = self.subject.assertion().await?;
            let audience: Vec<&str> = self.audience.iter().map(String::as_str).collect();
            let resource: Vec<&str> = self.resource.iter().map(String::as_str).collect();
            client
                .exchange_token(
                    Configured,
                    subject.secret(),
                    &self.subject_token_type,
                    None,
                    None,
                    &resource,
                    &audience,
                    self.requested_token_type.as_deref(),
                    self.scope.as_deref(),
                    None,
                )
                .await
        })
    }

    fn needs_coordination(&self) -> bool {
        false
    }

    fn resources(&self) -> &[String] {
        &self.resource
    }
}
