//! Sends a declared request: the one place where bytes go to and come from the provider.

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;

use crate::client::OAuthClient;
use crate::error::Error;
use crate::request::GrantRequest;
use crate::response::{self, Received};

/// Sends `request` with `client` and interprets the response as `T`.
///
/// Every generated grant method ends here. `E` lets a user's trait return its own error type
/// that converts from [`Error`].
pub async fn send<T, E>(client: &OAuthClient, request: GrantRequest<'_>) -> Result<T, E>
where
    T: DeserializeOwned + 'static,
    E: From<Error>,
{
    let received = execute(client, request).await?;
    Ok(response::interpret(received)?)
}

/// The non-generic part of [`send`]: compiled once, whatever the response model.
async fn execute(client: &OAuthClient, request: GrantRequest<'_>) -> Result<Received, Error> {
    let config = client.config();
    let body = encode_form(&request);
    let mut builder = config
        .http
        .post(config.token_url.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .timeout(config.timeout);
    for (name, value) in &request.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::Config(format!("`{name}` is not a valid HTTP header name")))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            Error::Config(format!(
                "the value given for header `{name}` is not a valid HTTP header value (control characters or line breaks)"
            ))
        })?;
        // Declared headers carry credentials; keep them out of HTTP/2 tables and debug output.
        value.set_sensitive(true);
        builder = builder.header(name, value);
    }
    let mut response = builder.body(body).send().await.map_err(Error::transport)?;
    let received_at = unix_now();
    let status = response.status().as_u16();
    let limit = config.max_response_bytes;
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(Error::ResponseTooLarge { status, limit });
    }
    let headers = std::mem::take(response.headers_mut());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Error::transport)? {
        if body.len() + chunk.len() > limit {
            return Err(Error::ResponseTooLarge { status, limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Received { status, headers, body, received_at })
}

/// `grant_type` first, then the declared fields, then the additional ones.
fn encode_form(request: &GrantRequest<'_>) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", request.grant_type);
    for (name, value) in &request.form {
        form.append_pair(name, value);
    }
    form.finish()
}

fn unix_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(elapsed) => i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX),
        Err(before_epoch) => -i64::try_from(before_epoch.duration().as_secs()).unwrap_or(i64::MAX),
    }
}
