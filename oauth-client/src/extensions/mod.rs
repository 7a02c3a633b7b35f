//! Grants and endpoints beyond RFC 6749, each declared with
//! [`oauth_grant`](crate::oauth_grant) like the standard ones — no hand-written request code.
//!
//! | trait | RFC | endpoint |
//! |---|---|---|
//! | [`DeviceAuthorization`] (+ [`poll_device_token`]) | RFC 8628 device authorization grant | device authorization, token |
//! | [`TokenExchange`] | RFC 8693 token exchange | token |
//! | [`JwtBearer`] | RFC 7523 JWT bearer grant (an assertion from elsewhere) | token |
#![cfg_attr(
    feature = "jwt",
    doc = "| [`JwtAssertion`], [`ClientAssertion`] (feature `jwt`) | RFC 7523 assertions signed here, and client authentication | token |"
)]
#![cfg_attr(
    not(feature = "jwt"),
    doc = "| `JwtAssertion`, `ClientAssertion` (feature `jwt`, off in this build) | RFC 7523 assertions signed here, and client authentication | token |"
)]
//! | [`TokenRevocation`] | RFC 7009 token revocation | revocation |
//! | [`TokenIntrospection`] | RFC 7662 token introspection | introspection |
//!
//! Each is implemented for [`OAuthClient`](crate::OAuthClient); configure the endpoints other
//! than the token endpoint on the builder (`device_authorization_url`, `revocation_url`,
//! `introspection_url`) or read them from the provider's metadata with
//! [`OAuthClient::discover`](crate::OAuthClient::discover).
//!
//! A method names the endpoint it posts to with `#[oauth_grant(endpoint = "...")]`; such a
//! method sends no `grant_type`:
//!
//! ```
//! use oauth_client::{oauth_grant, Error, TokenEndpoint};
//!
//! pub trait Revoke: TokenEndpoint {
//!     #[oauth_grant(endpoint = "revocation")]
//!     async fn revoke(&self, #[form] token: &str) -> Result<(), Error>;
//! }
//! ```
//!
//! A method returning `Result<(), E>` accepts any success body (RFC 7009 answers an empty 200).

mod device;
mod introspection;
#[cfg(feature = "jwt")]
mod jwt;
mod jwt_bearer;
mod par;
mod revocation;
mod token_exchange;

pub use device::{DeviceAuthorization, DeviceAuthorizationResponse, poll_device_token};
pub use introspection::{Introspection, TokenIntrospection};
#[cfg(feature = "jwt")]
pub use jwt::{AssertionAudience, ClientAssertion, JwtAssertion, JwtClientAuth, SigningKey};
pub use jwt_bearer::{JWT_BEARER_GRANT_TYPE, JwtBearer};
pub use par::{PushedAuthorization, PushedAuthorizationResponse};
pub use revocation::TokenRevocation;
pub use token_exchange::{TokenExchange, token_types};
