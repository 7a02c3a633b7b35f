//! What of a response body an error may carry: the body with every credential in it removed,
//! and a bounded excerpt of that.
//!
//! Bodies that fail to decode, or come with an unexpected status, may still carry tokens —
//! nested (`data.access_token`), in another case (`accessToken`), behind a byte-order mark or
//! an anti-XSSI prefix, or in text that is not JSON at all. Errors end up in logs, so the
//! redaction errs on the side of removing too much.

use serde_json::Value;

use crate::token::is_credential_name;

/// The longest body excerpt an error carries, in characters.
const EXCERPT_CHARS: usize = 256;
/// What replaces a removed value.
const REDACTED: &str = "[redacted]";
/// In text that is not JSON or a form, a run of token characters at least this long that
/// holds a digit is taken for a credential (opaque tokens, JWTs, codes); at twice this length
/// it is removed whatever it holds. Words of prose and paths are shorter.
const TOKEN_RUN: usize = 20;

/// The start of `body` for an error message, without credentials.
pub(crate) fn excerpt(body: &[u8]) -> String {
    truncate_chars(&redacted_body(body), EXCERPT_CHARS)
}

/// All of `body` as text, without credentials: JSON with the values of secret members
/// replaced at any depth, a form with its secret fields replaced, other text with every
/// token-like run replaced.
pub(crate) fn redacted_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Some(mut json) = embedded_json(&text) {
        redact_json(&mut json);
        return json.to_string();
    }
    if looks_like_form(body) {
        return redact_form(body);
    }
    redact_token_runs(&redact_credential_members(&text))
}

/// `text` (HTML, XML, plain text, JSON inside any of these) with the value after each
/// credential name removed: `"access_token": "..."`, `refreshToken=...`, `password: ...`,
/// `<id_token>...</id_token>`. A name counts when a `:`, `=` or `>` follows it (after an
/// optional closing quote and spaces); the value ends at its closing quote, at the next `<`
/// after a `>`, or else at a space or a delimiter.
fn redact_credential_members(text: &str) -> String {
    let bytes = text.as_bytes();
    let is_name_byte = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-';
    let skip_spaces = |mut at: usize| {
        while bytes.get(at).is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\r' | b'\n')) {
            at += 1;
        }
        at
    };
    let find_from = |from: usize, stop: &dyn Fn(u8) -> bool| {
        bytes[from..].iter().position(|&byte| stop(byte)).map_or(bytes.len(), |offset| from + offset)
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        if !is_name_byte(bytes[at]) {
            at += 1;
            continue;
        }
        let start = at;
        at = find_from(at, &|byte| !is_name_byte(byte));
        // A closing tag ends a value; it does not start one.
        if !crate::token::is_credential_name(&text[start..at]) || text[..start].ends_with("</") {
            continue;
        }
        let mut next = at;
        if matches!(bytes.get(next), Some(b'"' | b'\'')) {
            next += 1;
        }
        next = skip_spaces(next);
        let Some(&separator @ (b':' | b'=' | b'>')) = bytes.get(next) else { continue };
        next += 1;
        let (value_start, value_end) = if separator == b'>' {
            (next, find_from(next, &|byte| byte == b'<'))
        } else {
            next = skip_spaces(next);
            match bytes.get(next) {
                Some(&quote @ (b'"' | b'\'')) => (next + 1, find_from(next + 1, &|byte| byte == quote)),
                _ => (
                    next,
                    find_from(next, &|byte| byte.is_ascii_whitespace() || b",;&<>\"'}]".contains(&byte)),
                ),
            }
        };
        if value_end > value_start {
            out.push_str(&text[copied..value_start]);
            out.push_str(REDACTED);
            copied = value_end;
            at = value_end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The JSON value of a body, also after a byte-order mark or an anti-XSSI prefix such as
/// `)]}'` (Google) or `while(1);`: the text from the first `{` or `[` on.
fn embedded_json(text: &str) -> Option<Value> {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Some(value);
    }
    let start = text.find(['{', '['])?;
    serde_json::from_str(&text[start..]).ok()
}

fn redact_json(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (name, member) in object.iter_mut() {
                if is_credential_name(name) {
                    *member = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        // A bare string may be a token in itself (`"eyJ..."` as the whole body, or in an array).
        Value::String(text) => {
            let redacted = redact_token_runs(text);
            if redacted != *text {
                *text = redacted;
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn looks_like_form(body: &[u8]) -> bool {
    body.contains(&b'=') && !body.iter().any(|byte| byte.is_ascii_whitespace() || *byte == b'<')
}

fn redact_form(body: &[u8]) -> String {
    let mut redacted = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(body) {
        let value = if is_credential_name(&name) { REDACTED.to_owned() } else { redact_token_runs(&value) };
        redacted.append_pair(&name, &value);
    }
    redacted.finish()
}

/// `text` with each run of token characters that looks like a credential replaced.
fn redact_token_runs(text: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "-._~+=".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        out.push_str(&rest[..start]);
        let run_and_after = &rest[start..];
        let end = run_and_after.find(|c: char| !is_token_char(c)).unwrap_or(run_and_after.len());
        let run = &run_and_after[..end];
        let credential_like = run.len() >= 2 * TOKEN_RUN
            || (run.len() >= TOKEN_RUN && run.bytes().any(|byte| byte.is_ascii_digit()));
        out.push_str(if credential_like { REDACTED } else { run });
        rest = &run_and_after[end..];
    }
    out.push_str(rest);
    out
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
