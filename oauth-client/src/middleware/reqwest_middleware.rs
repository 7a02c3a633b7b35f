//! The token manager as a `reqwest_middleware::Middleware`.

use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

use crate::TokenManager;
use crate::manager::resource::{ResourceCall, Verdict};

/// A [`reqwest_middleware::Middleware`] that sends each request with the [`TokenManager`]'s
/// token (Bearer or DPoP), renews a rejected token once, and reports `insufficient_scope`
/// as [`Error::InsufficientScope`](crate::Error::InsufficientScope).
///
/// The errors of this middleware are [`crate::Error`]s inside
/// [`reqwest_middleware::Error::Middleware`]; `downcast_ref::<oauth_client::Error>()` reads
/// them.
///
/// ```no_run
/// # async fn run(tokens: oauth_client::TokenManager) -> Result<(), Box<dyn std::error::Error>> {
/// use oauth_client::middleware::TokenMiddleware;
///
/// let api = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(TokenMiddleware::new(tokens))
///     .build();
/// match api.get("https://api.example.com/admin").send().await {
///     Ok(response) => println!("{}", response.status()),
///     Err(reqwest_middleware::Error::Middleware(error)) => {
///         if let Some(oauth_client::Error::InsufficientScope { scope, .. }) = error.downcast_ref() {
///             println!("needs scope {scope:?}");
///         }
///     }
///     Err(error) => return Err(error.into()),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TokenMiddleware {
    tokens: TokenManager,
}

impl TokenMiddleware {
    /// A middleware that authorizes requests with `tokens`.
    pub fn new(tokens: TokenManager) -> Self {
        TokenMiddleware { tokens }
    }
}

#[async_trait::async_trait]
impl Middleware for TokenMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let mut call = ResourceCall::new(&self.tokens);
        loop {
            let spare = if call.may_retry() { request.try_clone() } else { None };
            let url = call.needs_url().then(|| request.url().clone());
            let method = request.method().clone();
            call.authorize(&method, url.as_ref(), request.headers_mut())
                .await
                .map_err(reqwest_middleware::Error::middleware)?;
            let response = next.clone().run(request, extensions).await?;
            let verdict = call
                .answer(url.as_ref(), response.status(), response.headers())
                .map_err(reqwest_middleware::Error::middleware)?;
            match (verdict, spare) {
                (Verdict::Retry(reason), Some(spare)) => {
                    crate::retry::trace_automatic_retry(reason, spare.url().host_str(), spare.url().path());
                    request = spare;
                }
                _ => return Ok(response),
            }
        }
    }
}
