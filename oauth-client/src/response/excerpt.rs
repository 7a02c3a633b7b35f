//! The start of a body for an error message, without the values of secret members.

use serde_json::Value;

use crate::token::is_secret_member;

/// The longest body excerpt an error carries, in characters.
const EXCERPT_CHARS: usize = 256;

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
