//! One authorized resource: its authorization server, the scope asked for, and the token
//! manager holding its token. Requests go through the manager's resource path (Bearer or
//! DPoP, nonces, one retry with a renewed token); what remains — a refusal that needs the
//! user or more scope — goes back to [`ResourceAccess`](super::ResourceAccess).

use std::sync::Arc;

use reqwest::{Request, Response, StatusCode, Url};

use crate::challenge::ResourceChallenge;
use crate::error::Error;
use crate::manager::TokenManager;
use crate::manager::resource::{ResourceCall, Verdict};
use crate::protected_resource::DiscoveredResource;

pub(super) struct Session {
    /// The resource indicator tokens are asked for (the metadata's `resource`).
    pub(super) resource: String,
    /// The resource's metadata and its authorization server's.
    pub(super) discovered: Arc<DiscoveredResource>,
    /// The scope the last authorization asked for.
    pub(super) scope: Option<String>,
    pub(super) manager: TokenManager,
}

/// What a request sent with a session's token came to.
pub(super) enum Outcome {
    /// The resource's answer, to hand to the caller.
    Done(Response),
    /// A 401 the token cannot fix (or no token was sent): authorize.
    Refused(Response, ResourceChallenge),
    /// The token was refused and cannot be renewed without the user: authorize.
    TokenGone(Error, ResourceChallenge),
    /// 403 `insufficient_scope`: authorize for more scope.
    MoreScope(Error, ResourceChallenge),
}

impl Outcome {
    /// Reads the answer to a request sent without a token.
    pub(super) fn from_unauthorized(response: Response) -> Outcome {
        if !super::is_refusal(response.status()) {
            return Outcome::Done(response);
        }
        let challenge = ResourceChallenge::from_headers(response.headers()).unwrap_or_default();
        let needs_scope = challenge.error.as_deref() == Some("insufficient_scope");
        if response.status() == StatusCode::UNAUTHORIZED || needs_scope {
            Outcome::Refused(response, challenge)
        } else {
            Outcome::Done(response)
        }
    }
}

impl Session {
    pub(super) fn resource(&self) -> &str {
        &self.resource
    }

    pub(super) fn covers(&self, url: &Url) -> bool {
        crate::protected_resource::belongs_to(url, &self.resource)
    }

    /// Sends `request` with this session's token, through the token manager's path.
    pub(super) async fn send(&self, http: &reqwest::Client, request: &Request) -> Result<Outcome, Error> {
        let mut call = ResourceCall::new(&self.manager);
        let mut last_challenge = ResourceChallenge::default();
        loop {
            let mut attempt = copy(request)?;
            let url = call.needs_url().then(|| attempt.url().clone());
            let method = attempt.method().clone();
            match call.authorize(&method, url.as_ref(), attempt.headers_mut()).await {
                Ok(()) => {}
                Err(error @ Error::RefreshUnavailable { .. }) => {
                    return Ok(Outcome::TokenGone(error, last_challenge));
                }
                Err(error) => return Err(error),
            }
            let response = http.execute(attempt).await.map_err(Error::transport)?;
            let status = response.status();
            let challenge = ResourceChallenge::from_headers(response.headers()).unwrap_or_default();
            match call.answer(url.as_ref(), status, response.headers()) {
                Ok(Verdict::Retry(reason)) => {
                    crate::retry::trace_automatic_retry(
                        reason,
                        request.url().host_str(),
                        request.url().path(),
                    );
                    last_challenge = challenge;
                }
                Ok(Verdict::Return) if status == StatusCode::UNAUTHORIZED => {
                    return Ok(Outcome::Refused(response, challenge));
                }
                Ok(Verdict::Return) => return Ok(Outcome::Done(response)),
                Err(error @ Error::InsufficientScope { .. }) => {
                    return Ok(Outcome::MoreScope(error, challenge));
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// A copy of `request` for one attempt.
pub(super) fn copy(request: &Request) -> Result<Request, Error> {
    request.try_clone().ok_or_else(|| {
        Error::InvalidResourceRequest(
            "the request's body is a stream, which cannot be sent again after authorizing; use a body held in memory"
                .into(),
        )
    })
}
