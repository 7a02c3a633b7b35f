//! The token manager as a `tower::Layer` over `http::Request` services.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use reqwest::Url;
use tower_layer::Layer;
use tower_service::Service;

use crate::manager::resource::{ResourceCall, Verdict};
use crate::{Error, TokenManager};

/// How a request body is copied to send a request again after its token was rejected.
///
/// [`CloneBody`] copies bodies that are `Clone` (`String`, `Vec<u8>`, `Bytes`,
/// `http_body_util::Full<Bytes>`, ...); [`NoReplay`] never sends a request twice, for streaming
/// bodies such as tonic's; a closure `Fn(&B) -> Option<B>` decides per request.
pub trait ReplayBody<B> {
    /// A copy of `body` to send again, or `None` if it cannot be sent again.
    fn replay(&self, body: &B) -> Option<B>;
}

/// Copies `Clone` bodies to send a request again (the default of [`TokenLayer`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct CloneBody;

impl<B: Clone> ReplayBody<B> for CloneBody {
    fn replay(&self, body: &B) -> Option<B> {
        Some(body.clone())
    }
}

/// Never sends a request twice: a rejected token is still invalidated, and the `401` is
/// returned; the caller's next request gets a new token.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoReplay;

impl<B> ReplayBody<B> for NoReplay {
    fn replay(&self, _: &B) -> Option<B> {
        None
    }
}

impl<B, F: Fn(&B) -> Option<B>> ReplayBody<B> for F {
    fn replay(&self, body: &B) -> Option<B> {
        self(body)
    }
}

/// A [`tower_layer::Layer`] that sends each request with the [`TokenManager`]'s token (Bearer
/// or DPoP), renews a rejected token once, and reports `insufficient_scope` as
/// [`Error::InsufficientScope`].
///
/// ```no_run
/// # async fn run(tokens: oauth_client::TokenManager) -> Result<(), Box<dyn std::error::Error>> {
/// use http_body_util::Full;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use oauth_client::middleware::TokenLayer;
/// use tower_service::Service;
///
/// let http = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
/// let mut api = tower_layer::Layer::layer(&TokenLayer::new(tokens), http);
/// let request = http::Request::get("http://127.0.0.1:8080/things").body(Full::default())?;
/// let response = api.call(request).await?;
/// # let _ = response;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TokenLayer<R = CloneBody> {
    tokens: TokenManager,
    replay: R,
}

impl TokenLayer {
    /// A layer that authorizes requests with `tokens` and copies `Clone` bodies to send a
    /// request again.
    pub fn new(tokens: TokenManager) -> Self {
        TokenLayer { tokens, replay: CloneBody }
    }
}

impl<R> TokenLayer<R> {
    /// Sets how bodies are copied to send a request again: [`NoReplay`] for bodies that
    /// cannot be copied (tonic's), or a closure.
    pub fn replay_with<R2>(self, replay: R2) -> TokenLayer<R2> {
        TokenLayer { tokens: self.tokens, replay }
    }
}

impl<S, R: Clone> Layer<S> for TokenLayer<R> {
    type Service = TokenService<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        TokenService { inner, tokens: self.tokens.clone(), replay: self.replay.clone() }
    }
}

/// The service [`TokenLayer`] makes.
#[derive(Clone, Debug)]
pub struct TokenService<S, R = CloneBody> {
    inner: S,
    tokens: TokenManager,
    replay: R,
}

/// The error of a [`TokenService`]: getting or using the token failed, or the inner service
/// did.
#[derive(Debug, thiserror::Error)]
pub enum LayerError<E> {
    /// No token, or the resource server refused it for lacking scope.
    #[error(transparent)]
    Token(#[from] Error),
    /// The inner service failed.
    #[error(transparent)]
    Service(E),
}

impl<S, R, B, RB> Service<Request<B>> for TokenService<S, R>
where
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    R: ReplayBody<B> + Clone + Send + Sync + 'static,
    B: Send + 'static,
    RB: Send + 'static,
{
    type Response = Response<RB>;
    type Error = LayerError<S::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<Response<RB>, LayerError<S::Error>>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(LayerError::Service)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The service that was polled ready serves this request; its clone stays for the next.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let tokens = self.tokens.clone();
        let replay = self.replay.clone();
        Box::pin(async move {
            let mut call = ResourceCall::new(&tokens);
            let mut request = request;
            let mut first = true;
            loop {
                let spare = if call.may_retry() { copy(&request, &replay) } else { None };
                let url = match call.needs_url() {
                    true => Some(absolute_url(request.uri())?),
                    false => None,
                };
                let method = request.method().clone();
                call.authorize(&method, url.as_ref(), request.headers_mut()).await?;
                if !first {
                    poll_fn(|cx| inner.poll_ready(cx)).await.map_err(LayerError::Service)?;
                }
                first = false;
                let response = inner.call(request).await.map_err(LayerError::Service)?;
                match (call.answer(url.as_ref(), response.status(), response.headers())?, spare) {
                    (Verdict::Retry(reason), Some(spare)) => {
                        crate::retry::trace_automatic_retry(reason, spare.uri().host(), spare.uri().path());
                        request = spare;
                    }
                    _ => return Ok(response),
                }
            }
        })
    }
}

/// A copy of `request` to send again, if its body can be copied.
fn copy<B>(request: &Request<B>, replay: &impl ReplayBody<B>) -> Option<Request<B>> {
    let body = replay.replay(request.body())?;
    let mut copy = Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

fn absolute_url(uri: &http::Uri) -> Result<Url, Error> {
    if uri.scheme().is_none() || uri.authority().is_none() {
        // The URI is not shown: its query may carry a credential.
        return Err(Error::InvalidResourceRequest(
            "a DPoP proof needs the request's absolute URL, and the request's URI is relative".into(),
        ));
    }
    Url::parse(&uri.to_string()).map_err(|error| {
        Error::InvalidResourceRequest(format!("the request's URI is not a valid URL: {error}"))
    })
}
