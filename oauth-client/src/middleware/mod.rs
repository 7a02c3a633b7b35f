//! The token manager in your HTTP stack: every request through it carries a valid token.
//!
//! - [`TokenMiddleware`] (cargo feature `reqwest-middleware`) for a
//!   `reqwest_middleware::ClientWithMiddleware`;
//! - [`TokenLayer`] (cargo feature `tower`) for any `tower` service over `http::Request`:
//!   hyper-util's client, tonic channels, your own stack.
//!
//! Both go through the same path as [`TokenManager::send`](crate::TokenManager::send): a
//! Bearer token, or a DPoP-bound token with a proof for each attempt; refreshes are
//! single-flight, so a thousand requests meeting an expired token cause one refresh. A
//! `401` whose `WWW-Authenticate` says `invalid_token` invalidates exactly the rejected token
//! and sends the request once more with a new one — when the request can be sent again (its
//! body can be copied) — and `insufficient_scope` becomes [`Error::InsufficientScope`](crate::Error::InsufficientScope).
//!
//! ```no_run
//! # #[cfg(feature = "reqwest-middleware")]
//! # async fn run(tokens: oauth_client::TokenManager) -> Result<(), Box<dyn std::error::Error>> {
//! use oauth_client::middleware::TokenMiddleware;
//!
//! let api = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(TokenMiddleware::new(tokens))
//!     .build();
//! let things = api.get("https://api.example.com/things").send().await?;
//! # let _ = things;
//! # Ok(()) }
//! ```

#[cfg(feature = "reqwest-middleware")]
mod reqwest_middleware;
#[cfg(feature = "tower")]
mod tower;

#[cfg(feature = "reqwest-middleware")]
pub use self::reqwest_middleware::TokenMiddleware;
#[cfg(feature = "tower")]
pub use self::tower::{CloneBody, LayerError, NoReplay, ReplayBody, TokenLayer, TokenService};
