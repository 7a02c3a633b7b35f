//! Repairs for token-response members that providers commonly send in a non-RFC shape, or
//! (strict mode) precise errors for them. Applied to every success response, whatever the
//! model, so a grant declared anywhere gets the same treatment.
//!
//! | member | RFC 6749 | lenient (default) | strict |
//! |---|---|---|---|
//! | `expires_in` | non-negative integer | also `"3600"`, `3600.0`; `null` as absent | integer only |
//! | `token_type` | case-insensitive | `bearer`, `BEARER` → `Bearer` | `Bearer` only |
//! | `scope` | space-delimited string | also a JSON array of strings | string only |
//!
//! In both modes `expires_in` must lie between 0 and [`MAX_EXPIRES_IN`]: a negative or
//! absurd lifetime is a provider bug that would otherwise end in a token that never expires
//! or an overflow.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

use super::Leniency;

/// The longest token lifetime accepted: 100 years, in seconds.
pub(crate) const MAX_EXPIRES_IN: u64 = 100 * 365 * 24 * 60 * 60;

pub(crate) fn members(object: &mut Map<String, Value>, leniency: Leniency) -> Result<(), String> {
    match object.get_mut("expires_in") {
        Some(Value::Null) if leniency.strict => {
            return Err(
                "`expires_in` is null; RFC 6749 §5.1 (strict mode) requires a number or no member".into()
            );
        }
        Some(Value::Null) => {
            object.remove("expires_in");
        }
        Some(value) => *value = Value::Number(Number::from(expires_in(value, leniency)?)),
        None => {}
    }
    if let Some(Value::String(token_type)) = object.get_mut("token_type")
        && token_type != "Bearer"
        && token_type.eq_ignore_ascii_case("bearer")
    {
        if leniency.strict {
            return Err(format!("`token_type` is `{token_type}`; strict mode accepts only `Bearer`"));
        }
        *token_type = "Bearer".to_owned();
    }
    if let Some(value) = object.get_mut("scope")
        && let Value::Array(items) = value
    {
        if leniency.strict {
            return Err(
                "`scope` is a JSON array; RFC 6749 §3.3 (strict mode) requires a space-delimited string"
                    .into(),
            );
        }
        let scopes: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
        let joined = scopes.ok_or("`scope` is an array with a member that is not a string")?.join(" ");
        *value = Value::String(joined);
    }
    Ok(())
}

fn expires_in(value: &Value, leniency: Leniency) -> Result<u64, String> {
    let strict_only = |shape: &str| {
        if leniency.strict {
            Err(format!(
                "`expires_in` is {shape}; RFC 6749 §5.1 (strict mode) requires an integer number of seconds"
            ))
        } else {
            Ok(())
        }
    };
    let seconds: f64 = match value {
        Value::Number(number) => {
            if let Some(seconds) = number.as_u64() {
                return checked(seconds as f64, value);
            }
            if number.is_f64() {
                strict_only("a fractional number")?;
            }
            number.as_f64().unwrap_or(f64::NAN)
        }
        Value::String(text) => {
            strict_only("a string")?;
            text.trim()
                .parse::<f64>()
                .map_err(|_| format!("`expires_in` is the string {value}, which is not a number"))?
        }
        other => {
            return Err(format!("`expires_in` is {}, expected a number of seconds", super::json_kind(other)));
        }
    };
    checked(seconds, value)
}

fn checked(seconds: f64, original: &Value) -> Result<u64, String> {
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("`expires_in` is {original}, which is not a non-negative number of seconds"));
    }
    if seconds > MAX_EXPIRES_IN as f64 {
        return Err(format!("`expires_in` is {original}, more than 100 years; refusing an absurd lifetime"));
    }
    Ok(seconds.trunc() as u64)
}

/// The members the rules look at, borrowed from the body without decoding them. A member
/// that is present is `Some`, even when it is `null`.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    error: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    expires_in: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    token_type: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    scope: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// Whether `body` is a JSON object that no rule would change and that carries no error
/// object: then the model is decoded straight from the bytes, skipping the intermediate
/// `Value` the repairs need. This is the common case, and the fast path of every grant.
/// Anything unusual (escapes included) answers `false` and takes the full path.
pub(crate) fn is_canonical(body: &[u8]) -> bool {
    let Ok(probe) = serde_json::from_slice::<Probe<'_>>(body) else { return false };
    let expires_in_ok = probe.expires_in.is_none_or(|raw| {
        let text = raw.get();
        text.bytes().all(|byte| byte.is_ascii_digit())
            && text.parse::<u64>().is_ok_and(|seconds| seconds <= MAX_EXPIRES_IN)
    });
    let token_type_ok = probe.token_type.is_none_or(|raw| {
        let text = raw.get();
        text == "\"Bearer\""
            || (text.starts_with('"')
                && !text.contains('\\')
                && !text.trim_matches('"').eq_ignore_ascii_case("bearer"))
    });
    let scope_ok = probe.scope.is_none_or(|raw| raw.get().starts_with('"'));
    probe.error.is_none() && expires_in_ok && token_type_ok && scope_ok
}
