//! Interprets a response: status to result, body to model or error. Pure, so it is tested
//! without a network.
//!
//! The rules for providers that bend RFC 6749 live in [`normalize`]; [`excerpt`] makes the
//! body excerpt of a decode error safe to log.

pub(crate) mod excerpt;
mod normalize;

use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::provider_error::OAuthProviderError;
use crate::token::OAuthToken;

pub(crate) use excerpt::{excerpt, redacted_body};

/// A response as it came off the wire.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// When the response arrived, in Unix seconds.
    pub(crate) received_at: i64,
    /// The URL that answered, without its query, for error messages.
    pub(crate) url: Option<Box<str>>,
}

/// How forgiving the interpretation is; see the crate docs, "Non-standard providers".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Leniency {
    /// Reject every deviation from RFC 6749 instead of repairing it.
    pub(crate) strict: bool,
    /// Any 2xx is success even in strict mode: endpoints other than the token endpoint
    /// answer 201 (PAR, RFC 9126 §2.2) or 204 by their own specifications.
    pub(crate) any_success_status: bool,
}

/// The answer as the model `T`: a success body decoded (with the lenient repairs), an
/// RFC 6749 error object as [`Error::Provider`], anything else as its own error.
pub(crate) fn interpret<T: DeserializeOwned>(received: Received, leniency: Leniency) -> Result<T, Error> {
    read(received, leniency, decode)
}

/// [`interpret`] for a token response: the fast path for the common body, and the token's
/// [`expiry`](OAuthToken::expiry) set from its arrival.
pub(crate) fn interpret_token(received: Received, leniency: Leniency) -> Result<OAuthToken, Error> {
    read(received, leniency, decode_token)
}

/// [`interpret`] for an answer the caller does not read (revocation, RFC 7009 §2.2): any
/// success body will do.
pub(crate) fn interpret_empty(received: Received, leniency: Leniency) -> Result<(), Error> {
    read(received, leniency, |_, _| Ok(()))
}

/// Status to result; a success body goes to `decode`.
fn read<T>(
    received: Received,
    leniency: Leniency,
    decode: fn(&Received, Leniency) -> Result<T, Error>,
) -> Result<T, Error> {
    let status = received.status_code();
    match received.status {
        200 => decode(&received, leniency),
        201..=299 if !leniency.strict || leniency.any_success_status => decode(&received, leniency),
        300..=399 => Err(Error::UnexpectedRedirect {
            status,
            location: received
                .headers
                .get(LOCATION)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
        }),
        400 | 401 => match serde_json::from_slice::<OAuthProviderError>(&received.body) {
            Ok(error) => {
                Err(Error::Provider { status, error: Box::new(error), headers: Box::new(received.headers) })
            }
            Err(_) => Err(unexpected_status(received)),
        },
        _ => Err(unexpected_status(received)),
    }
}

/// A success response whose body is a JWT (`application/<type>+jwt`, e.g. RFC 9701's
/// `token-introspection+jwt`), as text; any other answer is read as [`interpret`] reads it.
/// A JSON success is refused: a server that ignored the request for a signed answer must not
/// pass for one that signed it.
#[cfg(feature = "oidc")]
pub(crate) fn interpret_jwt(received: Received, leniency: Leniency) -> Result<String, Error> {
    if !(200..300).contains(&received.status) {
        let status = received.status_code();
        return match interpret::<Value>(received, leniency) {
            Err(error) => Err(error),
            // `interpret` fails every status but 2xx; should that change, still no JWT here.
            Ok(_) => {
                Err(Error::Decode { status, reason: "no JWT in the answer".into(), excerpt: String::new() })
            }
        };
    }
    let declares_jwt =
        received.headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| {
            value.split(';').next().is_some_and(|media| media.trim().to_ascii_lowercase().ends_with("+jwt"))
        });
    if !declares_jwt {
        return Err(received.decode_error(
            "expected a signed JWT answer (`application/...+jwt`); the server sent another type".into(),
        ));
    }
    String::from_utf8(received.body.clone())
        .map(|text| text.trim().to_owned())
        .map_err(|_| received.decode_error("the JWT is not UTF-8".into()))
}

impl Received {
    /// The status as a typed value (the field stays a number for the match in `interpret`).
    pub(crate) fn status_code(&self) -> reqwest::StatusCode {
        reqwest::StatusCode::from_u16(self.status).unwrap_or(reqwest::StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// A body that did not decode, with its status and a bounded excerpt.
    fn decode_error(&self, reason: String) -> Error {
        Error::Decode { status: self.status_code(), reason, excerpt: excerpt(&self.body) }
    }

    /// Whether `Content-Type` declares a form body. Runs on every success response, so it
    /// compares in place instead of lowercasing a copy.
    fn declares_form(&self) -> bool {
        const FORM: &[u8] = b"application/x-www-form-urlencoded";
        self.headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| {
            value.as_bytes().windows(FORM.len()).any(|part| part.eq_ignore_ascii_case(FORM))
        })
    }
}

/// A token: straight from the bytes when the body is the common case, else the full path.
fn decode_token(received: &Received, leniency: Leniency) -> Result<OAuthToken, Error> {
    if !leniency.strict
        && !received.declares_form()
        && let Some(token) = token_fast_path(received)
    {
        return Ok(token);
    }
    let mut token: OAuthToken = decode(received, leniency)?;
    token.stamp_expiry(received.received_at);
    Ok(token)
}

/// A model: straight from the bytes when the body is canonical JSON, else the full path.
fn decode<T: DeserializeOwned>(received: &Received, leniency: Leniency) -> Result<T, Error> {
    if !received.declares_form() && normalize::is_canonical(&received.body) {
        return serde_json::from_slice(&received.body)
            .map_err(|error| received.decode_error(error.to_string()));
    }
    decode_repaired(received, leniency)
}

/// The full path: the body as a JSON object (or form), error-in-success detection, the
/// lenient repairs or strict refusals, then the model.
fn decode_repaired<T: DeserializeOwned>(received: &Received, leniency: Leniency) -> Result<T, Error> {
    let decode_error = |reason: String| received.decode_error(reason);
    let mut object = parse_object(received, leniency).map_err(decode_error)?;
    // An RFC 6749 §5.2 error object sent with a success status (GitHub does this).
    if object.get("error").is_some_and(Value::is_string) {
        if leniency.strict {
            return Err(decode_error(
                "a success status with an RFC 6749 error object in the body".to_owned(),
            ));
        }
        if let Ok(error) = serde_json::from_value::<OAuthProviderError>(Value::Object(object.clone())) {
            return Err(Error::Provider {
                status: received.status_code(),
                error: Box::new(error),
                headers: Box::new(received.headers.clone()),
            });
        }
    }
    normalize::members(&mut object, leniency).map_err(decode_error)?;
    serde_json::from_value(Value::Object(object)).map_err(|error| decode_error(error.to_string()))
}

/// The common case of the common model, without the probe's extra pass over the body: the
/// token is decoded straight from the bytes and then checked for what the lenient rules
/// would have changed or refused. `None` sends the body down the full path, which decides.
///
/// - a body that does not decode as a token (a string `expires_in`, a `scope` array, an
///   error object without `access_token`, ...) goes the full way;
/// - an `error` member next to a token goes the full way (it may be an error in a 200);
/// - an `expires_in` over the limit goes the full way (to be refused there);
/// - `token_type` in another case is normalised here, as the lenient rule does;
/// - `expires_in: null` decodes as absent, as the lenient rule says (strict mode never
///   comes here).
fn token_fast_path(received: &Received) -> Option<OAuthToken> {
    let mut token: OAuthToken = serde_json::from_slice(&received.body).ok()?;
    if token.extra.contains_key("error")
        || token.expires_in.is_some_and(|seconds| seconds > normalize::MAX_EXPIRES_IN)
    {
        return None;
    }
    if token.token_type != "Bearer" && token.token_type.eq_ignore_ascii_case("bearer") {
        token.token_type = "Bearer".to_owned();
    }
    token.stamp_expiry(received.received_at);
    Some(token)
}

/// The body as a JSON object: JSON, or (lenient only) `application/x-www-form-urlencoded`.
fn parse_object(received: &Received, leniency: Leniency) -> Result<Map<String, Value>, String> {
    if received.body.iter().all(u8::is_ascii_whitespace) {
        return Err("the body is empty".to_owned());
    }
    if !received.declares_form() {
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
        status: received.status_code(),
        url: received.url,
        headers: Box::new(received.headers),
        body: redacted_body(&received.body),
    }
}

#[cfg(test)]
mod tests;
