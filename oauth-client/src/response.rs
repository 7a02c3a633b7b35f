//! Interprets a response: status to result, body to model or error. Pure, so it is tested
//! without a network.
//!
//! The rules for providers that bend RFC 6749 live in [`normalize`]; [`excerpt`] makes the
//! body excerpt of a decode error safe to log.

mod excerpt;
mod normalize;

use std::any::{Any, TypeId};

use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::provider_error::OAuthProviderError;
use crate::token::OAuthToken;

pub(crate) use excerpt::excerpt;

/// A response as it came off the wire.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// When the response arrived, in Unix seconds.
    pub(crate) received_at: i64,
}

/// How forgiving the interpretation is; see the crate docs, "Non-standard providers".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Leniency {
    /// Reject every deviation from RFC 6749 instead of repairing it.
    pub(crate) strict: bool,
}

pub(crate) fn interpret<T: DeserializeOwned + 'static>(
    received: Received,
    leniency: Leniency,
) -> Result<T, Error> {
    let status = received.status;
    match status {
        200 => decode(&received, leniency),
        201..=299 if !leniency.strict => decode(&received, leniency),
        300..=399 => Err(Error::UnexpectedRedirect {
            status,
            location: received
                .headers
                .get(LOCATION)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
        }),
        400 | 401 => match serde_json::from_slice::<OAuthProviderError>(&received.body) {
            Ok(error) => Err(Error::Provider { status, error }),
            Err(_) => Err(unexpected_status(received)),
        },
        _ => Err(unexpected_status(received)),
    }
}

fn decode<T: DeserializeOwned + 'static>(received: &Received, leniency: Leniency) -> Result<T, Error> {
    let decode_error =
        |reason: String| Error::Decode { status: received.status, reason, excerpt: excerpt(&received.body) };
    if TypeId::of::<T>() == TypeId::of::<()>() {
        // A response the caller ignores (revocation, RFC 7009 §2.2): any success body will do.
        return serde_json::from_value(Value::Null).map_err(|error| decode_error(error.to_string()));
    }
    if !declared_form(received) && normalize::is_canonical(&received.body) {
        let mut model: T =
            serde_json::from_slice(&received.body).map_err(|error| decode_error(error.to_string()))?;
        stamp_if_token(&mut model, received.received_at);
        return Ok(model);
    }
    let mut object = parse_object(received, leniency).map_err(decode_error)?;
    // An RFC 6749 §5.2 error object sent with a success status (GitHub does this).
    if object.get("error").is_some_and(Value::is_string) {
        if leniency.strict {
            return Err(decode_error(
                "a success status with an RFC 6749 error object in the body".to_owned(),
            ));
        }
        if let Ok(error) = serde_json::from_value::<OAuthProviderError>(Value::Object(object.clone())) {
            return Err(Error::Provider { status: received.status, error });
        }
    }
    normalize::members(&mut object, leniency).map_err(decode_error)?;
    let mut model: T =
        serde_json::from_value(Value::Object(object)).map_err(|error| decode_error(error.to_string()))?;
    stamp_if_token(&mut model, received.received_at);
    Ok(model)
}

/// The token model learns when it was received; any other model is left as decoded.
fn stamp_if_token<T: 'static>(model: &mut T, received_at: i64) {
    if let Some(token) = (model as &mut dyn Any).downcast_mut::<OAuthToken>() {
        token.stamp_expiry(received_at);
    }
}

fn declared_form(received: &Received) -> bool {
    received
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("application/x-www-form-urlencoded"))
}

/// The body as a JSON object: JSON, or (lenient only) `application/x-www-form-urlencoded`.
fn parse_object(received: &Received, leniency: Leniency) -> Result<Map<String, Value>, String> {
    if received.body.iter().all(u8::is_ascii_whitespace) {
        return Err("the body is empty".to_owned());
    }
    if !declared_form(received) {
        return match serde_json::from_slice::<Value>(&received.body) {
            Ok(Value::Object(object)) => Ok(object),
            Ok(other) => Err(format!("expected a JSON object, found {}", json_kind(&other))),
            Err(error) => Err(error.to_string()),
        };
    }
    if leniency.strict {
        return Err(
            "the body is application/x-www-form-urlencoded; RFC 6749 §5.1 (strict mode) requires JSON"
                .to_owned(),
        );
    }
    let text = std::str::from_utf8(&received.body).map_err(|_| "the form body is not UTF-8".to_owned())?;
    Ok(form_urlencoded::parse(text.as_bytes())
        .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
        .collect())
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn unexpected_status(received: Received) -> Error {
    Error::Http {
        status: received.status,
        headers: received.headers,
        body: String::from_utf8_lossy(&received.body).into_owned(),
    }
}

#[cfg(test)]
mod tests;
