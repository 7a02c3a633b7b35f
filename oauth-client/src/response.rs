//! Interprets a response: status to result, body to model or error. Pure, so it is tested
//! without a network.

use std::any::Any;

use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Error;
use crate::provider_error::OAuthProviderError;
use crate::token::{OAuthToken, is_secret_member};

/// A response as it came off the wire.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// When the response arrived, in Unix seconds.
    pub(crate) received_at: i64,
}

/// The longest body excerpt an error carries, in characters.
const EXCERPT_CHARS: usize = 256;

pub(crate) fn interpret<T: DeserializeOwned + 'static>(received: Received) -> Result<T, Error> {
    match received.status {
        200..=299 => decode(&received),
        400 | 401 => match serde_json::from_slice::<OAuthProviderError>(&received.body) {
            Ok(error) => Err(Error::Provider { status: received.status, error }),
            Err(_) => Err(unexpected_status(received)),
        },
        _ => Err(unexpected_status(received)),
    }
}

fn decode<T: DeserializeOwned + 'static>(received: &Received) -> Result<T, Error> {
    let mut model: T = serde_json::from_slice(&received.body).map_err(|error| Error::Decode {
        status: received.status,
        reason: error.to_string(),
        excerpt: excerpt(&received.body),
    })?;
    // The token model learns when it was received; any other model is left as decoded.
    if let Some(token) = (&mut model as &mut dyn Any).downcast_mut::<OAuthToken>() {
        token.stamp_expiry(received.received_at);
    }
    Ok(model)
}

fn unexpected_status(received: Received) -> Error {
    Error::Http {
        status: received.status,
        headers: received.headers,
        body: String::from_utf8_lossy(&received.body).into_owned(),
    }
}

/// The start of `body` for an error message, without the values of secret members: a
/// response that fails to decode may still carry a valid token.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut object)) => {
            for (name, value) in object.iter_mut() {
                if is_secret_member(name) {
                    *value = Value::String("[redacted]".to_owned());
                }
            }
            Value::Object(object).to_string()
        }
        Ok(_) => String::from_utf8_lossy(body).into_owned(),
        Err(_) if looks_like_form(body) => redact_form(body),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    truncate_chars(&text, EXCERPT_CHARS)
}

fn looks_like_form(body: &[u8]) -> bool {
    body.contains(&b'=') && !body.iter().any(|byte| byte.is_ascii_whitespace() || *byte == b'<')
}

fn redact_form(body: &[u8]) -> String {
    let mut redacted = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(body) {
        let value = if is_secret_member(&name) { "[redacted]".into() } else { value };
        redacted.append_pair(&name, &value);
    }
    redacted.finish()
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
