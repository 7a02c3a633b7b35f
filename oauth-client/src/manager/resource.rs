//! Requests to resource servers with the manager's token: Bearer, or DPoP-bound with a proof.
//!
//! [`ResourceCall`] is the one path every way of sending such a request goes through
//! ([`TokenManager::send`], the reqwest-middleware and the tower layer): it sets the
//! authorization of each attempt and reads what the resource server's answer asks for.

use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use super::TokenManager;
use crate::challenge::{self, Challenge};
use crate::{Error, OAuthToken};

impl TokenManager {
    /// Sends `request` to a resource server with a valid token.
    ///
    /// A Bearer token goes in `Authorization: Bearer`. A DPoP-bound token (`token_type:
    /// DPoP`, from a client with a DPoP key, cargo feature `dpop`) goes in
    /// `Authorization: DPoP`, with a `DPoP` proof for this request's method and URL and the
    /// token's hash (`ath`, RFC 9449 §7).
    ///
    /// What the resource server answers in `WWW-Authenticate` is acted on:
    /// - `invalid_token` (RFC 6750 §3.1) with a 401: the token is invalidated and the request
    ///   sent once more with a new one;
    /// - `use_dpop_nonce` with a 401 and a `DPoP-Nonce`: sent once more with the nonce, which
    ///   is remembered for that origin (RFC 9449 §9);
    /// - `insufficient_scope`: [`Error::InsufficientScope`], naming the scope asked for.
    ///
    /// A request whose body cannot be copied (a stream) is not sent again; its response is
    /// returned as it is.
    ///
    /// ```no_run
    /// # async fn run(tokens: oauth_client::TokenManager) -> Result<(), oauth_client::Error> {
    /// let api = reqwest::Client::new();
    /// let response = tokens.send(api.get("https://api.example.com/things")).await?;
    /// # let _ = response;
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
        let (http, request) = request.build_split();
        let mut request = request.map_err(invalid_request)?;
        let mut call = ResourceCall::new(self);
        loop {
            let spare = if call.may_retry() { request.try_clone() } else { None };
            let url = call.needs_url().then(|| request.url().clone());
            let method = request.method().clone();
            call.authorize(&method, url.as_ref(), request.headers_mut()).await?;
            let response = http.execute(request).await.map_err(Error::transport)?;
            match (call.answer(url.as_ref(), response.status(), response.headers())?, spare) {
                (Verdict::Retry(reason), Some(spare)) => {
                    crate::retry::trace_automatic_retry(reason, spare.url().host_str(), spare.url().path());
                    request = spare;
                }
                _ => return Ok(response),
            }
        }
    }
}

/// What to do with a resource server's response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Hand it to the caller.
    Return,
    /// Send the request again (when it can be copied): the next authorization differs. Why,
    /// for the trace.
    Retry(&'static str),
}

/// One request to a resource server, over its attempts: at most one answer to a nonce
/// challenge and one retry with a new token.
pub(crate) struct ResourceCall<'m> {
    manager: &'m TokenManager,
    token: Option<Arc<OAuthToken>>,
    answered_nonce: bool,
    renewed_token: bool,
}

impl<'m> ResourceCall<'m> {
    pub(crate) fn new(manager: &'m TokenManager) -> Self {
        ResourceCall { manager, token: None, answered_nonce: false, renewed_token: false }
    }

    /// Whether an answer could still ask for another attempt (else no copy is worth making).
    pub(crate) fn may_retry(&self) -> bool {
        !(self.answered_nonce && self.renewed_token)
    }

    /// Whether the request's URL is needed (DPoP proofs and nonces are per URL and origin).
    pub(crate) fn needs_url(&self) -> bool {
        #[cfg(feature = "dpop")]
        return self.manager.inner.dpop.is_some();
        #[cfg(not(feature = "dpop"))]
        false
    }

    /// Sets `Authorization` (and `DPoP`) for the next attempt, with a valid token.
    pub(crate) async fn authorize(
        &mut self,
        method: &Method,
        url: Option<&Url>,
        headers: &mut HeaderMap,
    ) -> Result<(), Error> {
        let token = self.manager.token().await?;
        let access_token = token.access_token.secret();
        #[cfg(feature = "dpop")]
        if let Some(dpop) = self.dpop_for(&token) {
            let url = url.ok_or_else(|| {
                Error::InvalidResourceRequest("a DPoP proof needs the request's absolute URL".into())
            })?;
            let now = self.manager.inner.clock.now();
            let proof = dpop.proof_header(method.as_str(), url, now, Some(access_token))?;
            insert_sensitive(headers, AUTHORIZATION, &format!("DPoP {access_token}"))?;
            headers.insert(crate::dpop::DPOP, proof);
            self.token = Some(token);
            return Ok(());
        }
        let _ = (method, url);
        insert_sensitive(headers, AUTHORIZATION, &format!("Bearer {access_token}"))?;
        self.token = Some(token);
        Ok(())
    }

    /// Reads the response to the last attempt: remembers a DPoP nonce, invalidates a token
    /// the server called invalid, and says whether to send the request again.
    pub(crate) fn answer(
        &mut self,
        url: Option<&Url>,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Result<Verdict, Error> {
        #[cfg(feature = "dpop")]
        if let (Some(url), Some(dpop)) = (url, self.token.as_deref().and_then(|token| self.dpop_for(token))) {
            dpop.remember_nonce(url, headers);
        }
        let _ = url;
        if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
            return Ok(Verdict::Return);
        }
        let challenges = challenge::challenges(headers);
        if let Some(refused) = challenges.iter().find(|c| c.has_error("insufficient_scope")) {
            return Err(insufficient_scope(status, refused));
        }
        if status != StatusCode::UNAUTHORIZED {
            return Ok(Verdict::Return);
        }
        if !self.answered_nonce && is_nonce_challenge(&challenges, headers) {
            self.answered_nonce = true;
            return Ok(Verdict::Retry(crate::retry::USE_DPOP_NONCE));
        }
        if challenges.iter().any(|c| c.has_error("invalid_token"))
            && let Some(rejected) = &self.token
        {
            // Only this token: if another task's refresh already replaced it, nothing happens.
            self.manager.invalidate(&rejected.access_token);
            if !self.renewed_token {
                self.renewed_token = true;
                return Ok(Verdict::Retry(crate::retry::INVALID_TOKEN));
            }
        }
        Ok(Verdict::Return)
    }

    #[cfg(feature = "dpop")]
    fn dpop_for(&self, token: &OAuthToken) -> Option<&'m crate::dpop::Dpop> {
        let manager: &'m TokenManager = self.manager;
        let (dpop, _) = manager.inner.dpop.as_ref()?;
        token.token_type.eq_ignore_ascii_case("DPoP").then_some(&**dpop)
    }
}

/// A resource server's `use_dpop_nonce` challenge (RFC 9449 §9), with the nonce to use.
#[cfg(feature = "dpop")]
fn is_nonce_challenge(challenges: &[Challenge], headers: &HeaderMap) -> bool {
    headers.contains_key(crate::dpop::DPOP_NONCE) && challenges.iter().any(|c| c.has_error("use_dpop_nonce"))
}

#[cfg(not(feature = "dpop"))]
fn is_nonce_challenge(_: &[Challenge], _: &HeaderMap) -> bool {
    false
}

fn insufficient_scope(status: StatusCode, challenge: &Challenge) -> Error {
    let challenge = crate::challenge::ResourceChallenge::from(challenge);
    Error::InsufficientScope { status, scope: challenge.scope.clone(), challenge: Box::new(challenge) }
}

/// Sets a header the HTTP client must not log or compress (`Authorization`, `DPoP`).
pub(crate) fn insert_sensitive(headers: &mut HeaderMap, name: HeaderName, value: &str) -> Result<(), Error> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| Error::InvalidResourceRequest("the token is not a valid header value".into()))?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Ok(())
}

/// A request reqwest could not build, without its URL: a resource URL may carry a token or
/// another credential in its query, and errors are logged.
pub(crate) fn invalid_request(error: reqwest::Error) -> Error {
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    Error::InvalidResourceRequest(message)
}
