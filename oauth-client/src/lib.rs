//! An async client for the OAuth 2.0 token endpoint (RFC 6749) whose grants are
//! **declared**, not hand-written.
//!
//! The five standard grants come ready in [`OAuthAuthorization`], implemented for
//! [`OAuthClient`]:
//!
//! ```no_run
//! use oauth_client::{ClientAuth, ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
//!
//! # async fn run() -> Result<(), oauth_client::Error> {
//! let client = OAuthClient::builder("https://auth.example.com/oauth2/token")
//!     .client_auth(ClientAuth::client_secret_basic("my-client", "my-secret"))
//!     .build()?;
//!
//! let token = client.request_token_ccg(Configured, Some("read write"), None).await?;
//! println!("{} expires at {:?}", token.token_type, token.expiry);
//! let bearer = token.access_token.secret(); // `Debug` would print `[redacted]`
//! # let _ = bearer;
//! # Ok(()) }
//! ```
//!
//! Coming from another OAuth client? [`migration`] maps its operations and options to these
//! methods.
//!
//! # Declaring a grant
//!
//! A grant your provider needs is a trait method marked [`oauth_grant`], in your own crate,
//! with nothing but this crate as a dependency:
//!
//! ```no_run
//! use oauth_client::{oauth_grant, Error, FormParams, OAuthClient, OAuthToken, TokenEndpoint};
//!
//! pub trait TokenExchange: TokenEndpoint {
//!     #[oauth_grant(grant_type = "urn:ietf:params:oauth:grant-type:token-exchange")]
//!     async fn exchange_token(
//!         &self,
//!         #[form] subject_token: &str,
//!         #[form] subject_token_type: &str,
//!         #[form(rename = "audience")] aud: Option<&str>,
//!         #[form_params] additional: Option<&FormParams>,
//!     ) -> Result<OAuthToken, Error>;
//! }
//!
//! impl TokenExchange for OAuthClient {}
//!
//! # async fn run(client: OAuthClient, jwt: String) -> Result<(), Error> {
//! // The client's `ClientAuth` authenticates the request, fresh for each attempt.
//! let token = client
//!     .exchange_token(&jwt, "urn:ietf:params:oauth:token-type:jwt", Some("api"), None)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! - `#[form]` sends the parameter as a form field named like it; `#[form(rename = "...")]`
//!   under another name. An `Option` that is `None` is not sent; a slice or `Vec` sends one
//!   field per item. Accepted types: `&str`, `String`, numbers, `bool`, the secret types
//!   ([`RefreshToken`], ...), and `Option`s, references and slices of these.
//! - `#[header("Name")]` sends the parameter as a request header (`&str`, `String`,
//!   [`ClientAuthorization`], or an `Option` of these). The client sets `Content-Type` and
//!   `Accept` itself; the client's [`ClientAuth`] adds its own credentials, so a grant needs
//!   no `Authorization` parameter.
//! - A parameter of any marker may be declared `impl Into<T>`: the method converts the
//!   argument to `T` first (the standard grants take `authorization: impl
//!   Into<ClientAuthorization<'a>>`, so a header string still works).
//! - `#[form_params]` takes the caller's additional fields (`Option<&FormParams>`): one named
//!   like a declared field (or `grant_type`) replaces it in its place, the others are sent last.
//! - `grant_type = "..."` is required for the token endpoint and sent first. A method that
//!   posts to another endpoint names it instead — `endpoint = "revocation"`, or any endpoint
//!   in lowercase snake case, this crate's ([`Endpoint`]) or your provider's own
//!   (`"vendor_consent"`) — and sends no `grant_type`; the URL comes from
//!   [`OAuthClientBuilder::endpoint_url`] or discovery (`vendor_consent_endpoint`).
//!   `client_auth = false` keeps the client's [`ClientAuth`] off that request.
//!   `method = "GET"` (or `"DELETE"`) sends the fields in the URL's query instead of a form
//!   body (UserInfo, reads), `method = "PUT"` a body like POST's; any method but POST
//!   requires `client_auth = false`, as credentials go neither in a URL nor in JSON.
//! - `#[json]` makes one parameter (any `serde::Serialize`) the whole body, as JSON
//!   (dynamic client registration, vendor APIs); the request then takes no `#[form]` fields
//!   and `client_auth = false`.
//! - The method returns `Result<T, E>`: `T` is any `serde::de::DeserializeOwned` model of
//!   the response body; `E` is [`Error`] or any type that implements `From<Error>`. The macro
//!   reads `T` as written: `OAuthToken` (under any path) is read as a token, its
//!   [`expiry`](OAuthToken::expiry) set on arrival; `()` accepts any success body; any other
//!   type (an alias of `OAuthToken` too) is decoded as a plain model.
//! - The generated method returns `impl Future + Send`, so it can be `tokio::spawn`ed; drop
//!   the future to cancel the request.
//!
//! Mistakes (a missing `grant_type`, an unmarked parameter, two fields with the same name,
//! a method that is not `async`, an unknown endpoint, a `grant_type` on an endpoint that
//! takes none, ...) are compile errors on the offending token that say how to fix them.
//!
//! How it fits together: the macro only describes the request (endpoint, `grant_type`,
//! fields and headers, in declaration order) and hands it to one runtime function, which
//! sends it, applies the client's limits, retries and tracing, and interprets the response
//! for every grant alike. The standard grants ([`OAuthAuthorization`]), the extensions
//! ([`extensions`]) and your own grants are all declared the same way.
//!
//! The macro also describes each method for tools: [`grants!`] gives the
//! [`declared::GrantDescriptor`]s of the methods it names (name, grant type or endpoint,
//! fields, response), and [`declared::DeclaredCall`] sends a described method with values
//! known only at run time — how the `oauth` command line offers your grants as subcommands.
//!
//! # Responses
//!
//! All grants share one path from response to result:
//!
//! - 2xx: the body is decoded as the declared model (see "Non-standard providers"); a body
//!   that does not decode is
//!   [`Error::Decode`] with the reason and an excerpt of the body (secret members removed).
//! - 400 and 401 with an RFC 6749 §5.2 error object: [`Error::Provider`], whose
//!   [`OAuthProviderError`] has the code mapped to [`OAuthProviderErrorKind`].
//! - any other status (or a 400/401 without an error object): [`Error::Http`] with the
//!   status, headers and body.
//! - a redirect: [`Error::UnexpectedRedirect`] naming its `Location`.
//! - a response larger than the limit (1 MiB by default): [`Error::ResponseTooLarge`];
//!   no response in time (30 s by default): [`Error::Timeout`].
//!
//! ```
//! use oauth_client::{Error, OAuthProviderErrorKind};
//!
//! fn explain(error: &Error) -> String {
//!     match error.provider_error() {
//!         Some(e) if e.error == OAuthProviderErrorKind::InvalidGrant => "log in again".into(),
//!         Some(e) => format!("provider said {e}"),
//!         None => format!("HTTP {:?}: {error}", error.status()),
//!     }
//! }
//! ```
//!
//! # Non-standard providers
//!
//! Real providers bend RFC 6749. By default the client repairs the common deviations, in
//! the one response path every grant shares; [`OAuthClientBuilder::strict`] turns each
//! repair into a precise [`Error::Decode`] (or [`Error::Http`] for a non-200 success):
//!
//! | deviation | default | `strict(true)` |
//! |---|---|---|
//! | `expires_in` as a string (`"3600"`, Azure AD) or `3600.0` | read as seconds | error |
//! | `expires_in: null` | treated as absent | error |
//! | `expires_in` negative or over 100 years | error | error |
//! | `token_type` in another case (`bearer`) | normalised to `Bearer` | error |
//! | `scope` as a JSON array of strings | joined with spaces | error |
//! | a 2xx other than 200 (`201 Created`) | accepted | [`Error::Http`] |
//! | an `application/x-www-form-urlencoded` body | read as the members | error |
//! | an error object with a 2xx status (GitHub) | [`Error::Provider`] with that status | error |
//!
//! Transport-level limits apply in both modes: responses over 1 MiB
//! ([`OAuthClientBuilder::max_response_bytes`]) end in [`Error::ResponseTooLarge`], a
//! request over 30 s ([`OAuthClientBuilder::timeout`], or per call
//! [`OAuthClient::with_timeout`]) in [`Error::Timeout`], and a 3xx in
//! [`Error::UnexpectedRedirect`]: redirects from the token endpoint are never followed.
//! Retries are opt-in ([`RetryPolicy`]) and never replay a single-use credential (an
//! authorization code, a refresh token, an assertion) after a failure the provider may have
//! acted on, unless asked per call ([`OAuthClient::retrying_single_use_credentials`]).
//!
//! For providers that do not form-urlencode Basic credentials there is
//! [`ClientAuth::client_secret_basic_unescaped`]; for those that want the credentials in the
//! form, [`ClientAuth::client_secret_post`].
//!
//! # Client authentication
//!
//! [`ClientAuth`], configured on the client, authenticates every attempt of every request
//! that takes client authentication: `none`, `client_secret_basic`, `client_secret_post`,
//! `client_secret_jwt` and `private_key_jwt` (a fresh assertion per attempt, feature `jwt`),
//! `tls_client_auth` (with the provider's mTLS endpoint aliases), or your own
//! [`AuthenticateClient`]. The standard grants take it as their `authorization` argument,
//! [`ClientAuthorization::Configured`]; a call that gives an `Authorization` header of its
//! own instead is sent as given.
//!
//! ```no_run
//! use oauth_client::{ClientAuth, ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
//!
//! # async fn run() -> Result<(), oauth_client::Error> {
//! let client = OAuthClient::builder("https://auth.example.com/oauth2/token")
//!     .client_auth(ClientAuth::client_secret_post("my-client", "my-secret"))
//!     .build()?;
//! let token = client.request_token_ccg(Configured, Some("read"), None).await?;
//! # Ok(()) }
//! ```
//!
//! # Tracing
//!
//! Each HTTP exchange runs in a `DEBUG` span `oauth_token_request` with `grant_type`,
//! `host`, `path`, `status` and `elapsed_ms`. Neither spans nor events carry form values,
//! headers or token values.
//!
//! # Token lifecycle
//!
//! [`TokenManager`] caches a token, refreshes it `leeway` before expiry with exactly one
//! request however many tasks ask, keeps or replaces rotated refresh tokens, reports each
//! new token to `on_update` (to persist it), and can share tokens across processes through
//! a [`manager::TokenStore`] (Redis with the `redis` feature) without ever presenting a
//! rotated refresh token twice: refreshes are fenced by a renewed lock and a versioned
//! compare-and-set, and start from the newest refresh token any process stored. See the
//! [`manager`] module.
//!
//! # The authorization-code flow
//!
//! [`AuthorizationRequest`] builds the URL to send the browser to, with a random `state` and
//! a PKCE challenge; [`PendingAuthorization::code_from_redirect`] checks the redirect that
//! comes back and returns the code (or the provider's error as [`RedirectError::Provider`]).
//!
//! # Secrets
//!
//! [`AccessToken`], [`RefreshToken`], [`ClientSecret`], [`Password`], [`PkceVerifier`], [`BasicAuth`] and
//! [`FormParams`] print `[redacted]` instead of their values in `Debug`; read a value with
//! `.secret()`. [`Error`] never carries a request body or an `Authorization` header.

#![deny(missing_docs)]

// Generated code names `::oauth_client::...`; this lets the crate use its own macro.
extern crate self as oauth_client;

#[cfg(feature = "atproto")]
pub mod atproto;
mod attempt;
mod authorize;
mod basic_auth;
mod challenge;
mod client;
mod client_auth;
mod clock;
pub mod declared;
mod discovery;
#[cfg(feature = "dpop")]
pub mod dpop;
mod endpoint_url;
mod error;
pub mod extensions;
#[doc = include_str!("../docs/migration.md")]
pub mod migration {}
mod form;
mod grants;
mod http_client;
pub mod manager;
mod metadata;
#[cfg(any(feature = "reqwest-middleware", feature = "tower"))]
pub mod middleware;
#[cfg(feature = "oidc")]
pub mod oidc;
mod protected_resource;
mod provider_error;
pub mod registration;
mod request;
pub mod resource_access;
mod response;
mod retry;
mod secret;
#[cfg(feature = "jwt")]
mod signing;
pub mod telemetry;
mod token;
mod transport;
pub mod workload;

#[doc(hidden)]
pub mod __private;

/// What most programs need, in one import: the client, its authentication, the token manager
/// and the authorization request, [`Configured`](crate::ClientAuthorization::Configured) for
/// the grants' `authorization` argument, and the traits whose methods are the requests (so
/// `client.request_token_ccg(..)` and the extensions' methods resolve).
///
/// ```no_run
/// use oauth_client::prelude::*;
///
/// # async fn run() -> Result<(), oauth_client::Error> {
/// let client = OAuthClient::builder("https://auth.example.com/oauth2/token")
///     .client_auth(ClientAuth::client_secret_basic("my-client", "my-secret"))
///     .build()?;
/// let token = client.request_token_ccg(Configured, Some("read"), None).await?;
/// # let _ = token; Ok(()) }
/// ```
pub mod prelude {
    pub use crate::ClientAuthorization::Configured;
    #[cfg(feature = "jwt")]
    pub use crate::extensions::JwtBearer;
    pub use crate::extensions::{
        DeviceAuthorization, PushedAuthorization, TokenExchange, TokenIntrospection, TokenRevocation,
    };
    pub use crate::{
        AuthorizationRequest, ClientAuth, Error, OAuthAuthorization, OAuthClient, OAuthToken, TokenEndpoint,
        TokenManager,
    };
}

pub use attempt::{Attempt, AttemptResponse, Preparing};
pub use authorize::{AuthorizationRequest, PendingAuthorization};
pub use basic_auth::{BasicAuth, ClientSecretPost};
pub use challenge::ResourceChallenge;
pub use client::{OAuthClient, OAuthClientBuilder, ResponseCapture, TokenEndpoint};
pub use client_auth::{AuthenticateClient, ClientAuth, ClientAuthorization};
pub use clock::{Clock, SystemClock};
pub use error::{ConfigError, Error, RedirectError, ResourceMetadataError, Setting, WorkloadTokenError};
pub use form::FormParams;
pub use grants::OAuthAuthorization;
pub use manager::TokenManager;
pub use metadata::ProviderMetadata;
pub use oauth_macros::{grants, oauth_grant};
pub use protected_resource::{DiscoveredResource, ProtectedResourceMetadata};
pub use provider_error::{OAuthProviderError, OAuthProviderErrorKind};
pub use request::Endpoint;
/// The HTTP status type of [`Error::status`] and the errors' `status` fields (`http`'s, as
/// reqwest re-exports it).
pub use reqwest::StatusCode;
pub use retry::RetryPolicy;
pub use secret::{AccessToken, ClientSecret, Password, PkceVerifier, RefreshToken};
pub use token::{OAuthToken, is_credential_name};
