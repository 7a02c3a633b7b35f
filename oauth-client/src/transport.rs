//! Sends a declared request: the one place where bytes go to and come from the provider.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::attempt::{Attempt, AttemptResponse, AttemptStep, AttemptTarget};
use crate::client::{ClientConfig, OAuthClient};
use crate::error::Error;
use crate::error::Setting;
use crate::request::GrantRequest;
use crate::response::{self, Received};
use crate::retry;
use crate::token::OAuthToken;

/// Sends `request` with `client` and interprets the response as the model `T`, retrying
/// transient failures when the client has a retry policy.
///
/// Every generated method ends here or in [`send_token`] or [`send_empty`], chosen by the
/// macro from the declared success type. `E` lets a user's trait return its own error type
/// that converts from [`Error`].
pub async fn send<T, E>(client: &OAuthClient, request: GrantRequest<'_>) -> Result<T, E>
where
    T: DeserializeOwned,
    E: From<Error>,
{
    send_interpreted(client, request, response::interpret::<T>).await.map_err(E::from)
}

/// [`send`] for a method that returns an [`OAuthToken`]: its expiry is set from its arrival.
pub async fn send_token<E: From<Error>>(
    client: &OAuthClient,
    request: GrantRequest<'_>,
) -> Result<OAuthToken, E> {
    send_interpreted(client, request, response::interpret_token).await.map_err(E::from)
}

/// [`send`] for a method that returns `()`: any success answer will do.
pub async fn send_empty<E: From<Error>>(client: &OAuthClient, request: GrantRequest<'_>) -> Result<(), E> {
    send_interpreted(client, request, response::interpret_empty).await.map_err(E::from)
}

/// [`send`] with another reading of the response than a JSON model (a signed JWT answer,
/// RFC 9701): the same attempts, authentication, retries and limits.
pub(crate) async fn send_interpreted<T>(
    client: &OAuthClient,
    request: GrantRequest<'_>,
    interpret: fn(Received, response::Leniency) -> Result<T, Error>,
) -> Result<T, Error> {
    let (endpoint, grant) = (request.endpoint.name(), request.label());
    let started = crate::telemetry::Stopwatch::start();
    let result = send_attempts(client, request, interpret).await;
    crate::telemetry::request_finished(endpoint, grant, &result, &started);
    result
}

/// [`send_interpreted`]'s attempts.
async fn send_attempts<T>(
    client: &OAuthClient,
    request: GrantRequest<'_>,
    interpret: fn(Received, response::Leniency) -> Result<T, Error>,
) -> Result<T, Error> {
    let config = client.config();
    let form = match &request.json {
        Some(Ok(json)) => String::from_utf8_lossy(json).into_owned(),
        Some(Err(error)) => {
            return Err(Error::config(
                Setting::Body,
                format!("the request's JSON body does not serialize: {error}"),
            ));
        }
        None => encode_form(&request),
    };
    // Resolved once: every attempt goes to the same URL.
    let url = config.endpoint_url(request.endpoint)?;
    let form = Bytes::from(form);
    // What is computed anew for each attempt (client authentication, a DPoP proof): with none,
    // every attempt sends the one encoded body as it is.
    let steps: Vec<&dyn AttemptStep> =
        config.attempt_steps().filter(|step| step.applies_to(&request)).collect();
    let target = AttemptTarget {
        endpoint: request.endpoint,
        method: request.method.as_str(),
        url,
        token_url: &config.token_url,
        issuer: config.issuer.as_deref(),
        dpop_bound_token: dpop_bound_token(&request),
    };
    // What a step must wait for (a platform token) is had once, before the first attempt.
    for step in &steps {
        if let Some(preparing) = step.prepare() {
            preparing.await?;
        }
    }
    let mut attempt = 0;
    // A challenge (a server nonce) is answered at once, and once per request.
    let mut challenge_answered = false;
    loop {
        let result = async {
            let (body, headers) = if steps.is_empty() {
                (form.clone(), None)
            } else {
                let mut attempt = Attempt::new(&target, config.clock.now(), &form);
                for step in &steps {
                    step.apply(&mut attempt)?;
                }
                let (body, headers) = attempt.finish();
                (body, Some(headers))
            };
            let received = attempt_once(config, &request, url, &body, headers).await?;
            let response = AttemptResponse {
                url,
                status: received.status_code(),
                headers: &received.headers,
                body: &received.body,
            };
            // Every step sees every response (DPoP remembers a nonce whatever it says); the first
            // challenge is answered, once per request.
            let mut challenge = None;
            for step in &steps {
                if let Some(reason) = step.challenge(&response) {
                    challenge.get_or_insert(reason);
                }
            }
            if let Some(reason) = challenge
                && !challenge_answered
            {
                return Ok(Step::Again(reason));
            }
            if let Some(capture) = &config.capture {
                capture.record(response.status, response.headers);
            }
            let leniency = response::Leniency {
                any_success_status: request.endpoint != crate::request::Endpoint::TOKEN,
                ..config.leniency
            };
            interpret(received, leniency).map(Step::Done)
        }
        .await;
        match result {
            Ok(Step::Again(reason)) => {
                challenge_answered = true;
                retry::trace_automatic_retry(reason, url.host_str(), url.path());
            }
            Ok(Step::Done(value)) => return Ok(value),
            Err(error) if should_retry(config, &request, &error, attempt) => {
                attempt += 1;
                let policy = config.retry.as_ref().expect("should_retry checked the policy");
                let wait = policy.backoff(attempt, retry::retry_after(&error));
                tracing::debug!(grant_type = request.label(), attempt, ?wait, error = %error, "retrying token request");
                tokio::time::sleep(wait).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// What an attempt ended in.
enum Step<T> {
    /// The interpreted response.
    Done(T),
    /// A challenge the next attempt answers at once, and why (for the trace).
    Again(&'static str),
}

/// Whether to send the request again. A request that carries a single-use credential (a code,
/// a refresh token the provider may rotate, an assertion's `jti`) is sent again only when the
/// failure shows the provider did not process it: replaying a consumed refresh token makes a
/// rotating provider revoke the whole grant (RFC 9700 §4.14.2).
fn should_retry(config: &ClientConfig, request: &GrantRequest<'_>, error: &Error, attempt: u32) -> bool {
    let Some(policy) = &config.retry else { return false };
    if attempt >= policy.max_retries() || !error.is_transient() {
        return false;
    }
    !request.carries_single_use_credential() || config.retry_single_use || error.certainly_not_processed()
}

/// The access token a request presents as `Authorization: DPoP <token>` (UserInfo with a
/// DPoP-bound token, for one), whose hash a DPoP proof carries.
fn dpop_bound_token<'r>(request: &'r GrantRequest<'_>) -> Option<&'r str> {
    let (scheme, token) = request.header("authorization")?.split_once(' ')?;
    scheme.eq_ignore_ascii_case("DPoP").then(|| token.trim())
}

/// One HTTP exchange, in its own tracing span. The non-generic part of [`send`]: compiled
/// once, whatever the response model.
async fn attempt_once(
    config: &ClientConfig,
    request: &GrantRequest<'_>,
    url: &Url,
    body: &Bytes,
    headers: Option<HeaderMap>,
) -> Result<Received, Error> {
    let span = tracing::debug_span!(
        "oauth_token_request",
        grant_type = request.label(),
        endpoint = request.endpoint.name(),
        host = url.host_str().unwrap_or_default(),
        path = url.path(),
        status = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty,
    );
    // Reading the clock costs as much as the rest of the bookkeeping: only when traced.
    let started = (!span.is_disabled()).then(Instant::now);
    async {
        if tracing::enabled!(tracing::Level::TRACE) {
            trace_request(request, url, body, headers.as_ref());
        }
        let result = exchange(config, url, request, body, headers).await;
        let span = tracing::Span::current();
        if let Some(started) = started {
            span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        }
        match &result {
            Ok(received) => {
                span.record("status", received.status);
                if tracing::enabled!(tracing::Level::TRACE) {
                    trace_response(received);
                }
                tracing::debug!(
                    status = received.status,
                    bytes = received.body.len(),
                    "token endpoint answered"
                );
            }
            Err(error) => tracing::debug!(error = %error, "token request failed"),
        }
        result
    }
    .instrument(span)
    .await
}

async fn exchange(
    config: &ClientConfig,
    url: &Url,
    request: &GrantRequest<'_>,
    body: &Bytes,
    auth_headers: Option<HeaderMap>,
) -> Result<Received, Error> {
    let mut builder = if request.fields_in_query() {
        let mut url = url.clone();
        if !body.is_empty() {
            let query = match url.query() {
                Some(existing) if !existing.is_empty() => {
                    format!("{existing}&{}", String::from_utf8_lossy(body))
                }
                _ => String::from_utf8_lossy(body).into_owned(),
            };
            url.set_query(Some(&query));
        }
        config.http.request(request.method.clone(), url)
    } else {
        let content_type =
            if request.json.is_some() { "application/json" } else { "application/x-www-form-urlencoded" };
        config
            .http
            .request(request.method.clone(), url.clone())
            .header(CONTENT_TYPE, content_type)
            .body(body.clone())
    };
    if !request.has_header("accept") {
        builder = builder.header(ACCEPT, "application/json");
    }
    builder = builder.timeout(config.timeout);
    for (name, value) in &request.headers {
        let invalid = |source: Arc<dyn std::error::Error + Send + Sync>| Error::InvalidHeader {
            name: (*name).to_owned(),
            source,
        };
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|error| invalid(Arc::new(error)))?;
        let mut value = HeaderValue::from_str(value).map_err(|error| invalid(Arc::new(error)))?;
        // Declared headers carry credentials; keep them out of HTTP/2 tables and debug output.
        value.set_sensitive(true);
        builder = builder.header(header, value);
    }
    if let Some(auth_headers) = auth_headers {
        builder = builder.headers(auth_headers);
    }
    let response = builder.send().await.map_err(Error::transport)?;
    // A user-supplied HTTP client may follow redirects: never accept an answer from elsewhere.
    if !same_origin(response.url(), url) {
        let status = response.status();
        return Err(Error::UnexpectedRedirect { status, location: Some(response.url().to_string()) });
    }
    read_capped(response, config.max_response_bytes, config.clock.now()).await
}

/// The request as sent, at TRACE level, without credentials: sensitive header values (the
/// ones declared, client authentication, DPoP proofs) and secret form fields read
/// `[redacted]`. For people debugging a provider (`oauth -v`).
fn trace_request(request: &GrantRequest<'_>, url: &Url, body: &Bytes, auth_headers: Option<&HeaderMap>) {
    let mut headers: Vec<String> =
        request.headers.iter().map(|(name, _)| format!("{name}: [redacted]")).collect();
    for (name, value) in auth_headers.into_iter().flatten() {
        let shown = if value.is_sensitive() { "[redacted]" } else { value.to_str().unwrap_or("[binary]") };
        headers.push(format!("{name}: {shown}"));
    }
    // The encoded fields: a form (or JSON) body, or, for GET and DELETE, the query.
    let fields = crate::response::redacted_body(body);
    let (query, body) =
        if request.fields_in_query() { (fields, String::new()) } else { (String::new(), fields) };
    tracing::trace!(
        method = %request.method,
        url = %url,
        query = %query,
        headers = %headers.join(", "),
        body = %body,
        "request"
    );
}

/// The response as received, at TRACE level, with the credentials in its body and headers
/// redacted (a session cookie is as good as a token).
pub(crate) fn trace_response(received: &Received) {
    let headers: Vec<String> = received
        .headers
        .iter()
        .map(|(name, value)| {
            let shown = if value.is_sensitive() || is_credential_header(name) {
                "[redacted]"
            } else {
                value.to_str().unwrap_or("[binary]")
            };
            format!("{name}: {shown}")
        })
        .collect();
    tracing::trace!(
        status = received.status,
        headers = %headers.join(", "),
        body = %crate::response::redacted_body(&received.body),
        "response"
    );
}

/// Response headers that carry credentials: cookies, and tokens some providers echo.
fn is_credential_header(name: &HeaderName) -> bool {
    name == reqwest::header::SET_COOKIE
        || name == reqwest::header::AUTHORIZATION
        || name == reqwest::header::PROXY_AUTHORIZATION
        || name.as_str() == "authentication-info"
}

/// Reads a response that arrived at `received_at` (Unix seconds), refusing more than `limit`
/// body bytes without holding them in memory.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    received_at: i64,
) -> Result<Received, Error> {
    let status = response.status();
    let url = Some(Box::from(crate::error::without_query(response.url())));
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(Error::ResponseTooLarge { status, limit });
    }
    let headers = std::mem::take(response.headers_mut());
    let mut body = Vec::with_capacity(response.content_length().map_or(0, |length| length as usize));
    while let Some(chunk) = response.chunk().await.map_err(Error::transport)? {
        if body.len() + chunk.len() > limit {
            return Err(Error::ResponseTooLarge { status, limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Received { status: status.as_u16(), headers, body, received_at, url })
}

/// `grant_type` first (token endpoint), then the declared fields, then the additional ones.
fn encode_form(request: &GrantRequest<'_>) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    if let Some(grant_type) = request.grant_type_override.or(request.grant_type) {
        form.append_pair("grant_type", grant_type);
    }
    for (name, value) in &request.form {
        form.append_pair(name, value);
    }
    form.finish()
}

/// Scheme, host and port are equal; unlike `Url::origin`, allocates nothing.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}
