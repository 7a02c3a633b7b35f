//! `-v`: each exchange the library traced (requests and responses, credentials redacted by
//! the library), written in curl's style while a command runs:
//!
//! ```text
//! > POST http://127.0.0.1:8000/o/token/
//! > authorization: [redacted]
//! >
//! > grant_type=client_credentials
//! > scope=read
//! < 200
//! < content-type: application/json
//! <
//! {
//!   "access_token": "[redacted]",
//!   ...
//! }
//! ```
//!
//! Other events of the library (a retry, a failure) are lines starting with `*`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::subscriber::{DefaultGuard, NoSubscriber};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt as _};

/// The transcript of a command, collected on this thread until [`finish`](Self::finish).
pub(crate) struct Trace {
    buffer: Arc<Mutex<String>>,
    _guard: DefaultGuard,
    /// Registered for as long as the trace runs; see `start`.
    _companion: Dispatch,
}

impl Trace {
    pub(crate) fn start() -> Self {
        // tracing-core decides a callsite's interest from the calling thread's subscriber
        // alone while a single subscriber is registered: another thread (another command in
        // the same process, a test) hitting the library's callsites first would turn them
        // off for good. With a second subscriber registered it asks every live one.
        let companion = Dispatch::new(NoSubscriber::default());
        let buffer = Arc::new(Mutex::new(String::new()));
        let transcript = Transcript { buffer: Arc::clone(&buffer) };
        let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(transcript));
        Trace { buffer, _guard: guard, _companion: companion }
    }

    /// What was traced.
    pub(crate) fn finish(self) -> Vec<u8> {
        std::mem::take(&mut *self.buffer.lock().unwrap_or_else(PoisonError::into_inner)).into_bytes()
    }
}

/// Writes the library's events as a transcript.
struct Transcript {
    buffer: Arc<Mutex<String>>,
}

impl<S: Subscriber> Layer<S> for Transcript {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.target().starts_with("oauth_client")
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let text = match fields.0.get("message").map(String::as_str) {
            Some("request") => request(&fields),
            Some("response") => response(&fields),
            _ => other(&fields),
        };
        self.buffer.lock().unwrap_or_else(PoisonError::into_inner).push_str(&text);
    }
}

/// An event's fields, as text.
#[derive(Default)]
struct Fields(BTreeMap<&'static str, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
}

impl Fields {
    fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
}

fn request(fields: &Fields) -> String {
    let query = fields.get("query");
    let separator = if query.is_empty() { "" } else { "?" };
    let line = format!("{} {}{separator}{query}", fields.get("method"), fields.get("url"));
    exchange('>', &line, fields, "> ")
}

fn response(fields: &Fields) -> String {
    exchange('<', fields.get("status"), fields, "")
}

/// One side of an exchange: `side` and the first line, a line per header, then the body, each
/// of its lines after `body_prefix`.
fn exchange(side: char, first: &str, fields: &Fields, body_prefix: &str) -> String {
    let mut text = format!("{side} {first}\n");
    for header in headers(fields.get("headers")) {
        let _ = writeln!(text, "{side} {header}");
    }
    let body = fields.get("body");
    if !body.is_empty() {
        let _ = writeln!(text, "{side}");
        for line in body_lines(body) {
            let _ = writeln!(text, "{body_prefix}{line}");
        }
    }
    text
}

fn other(fields: &Fields) -> String {
    let mut text = format!("* {}", fields.get("message"));
    for (name, value) in fields.0.iter().filter(|(name, _)| **name != "message") {
        let _ = write!(text, " {name}={value}");
    }
    text.push('\n');
    text
}

/// The library joins headers with `, `; a value may hold `, ` too (`no-store, no-cache`), so
/// a new header starts only where a name and `: ` follow.
fn headers(joined: &str) -> Vec<&str> {
    let mut headers = Vec::new();
    let mut start = 0;
    let mut from = 0;
    while let Some(found) = joined[from..].find(", ") {
        let at = from + found;
        let rest = &joined[at + 2..];
        let name_length = rest.find(": ").unwrap_or(usize::MAX);
        let is_name = name_length != usize::MAX
            && name_length > 0
            && rest[..name_length].bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
        if is_name {
            headers.push(&joined[start..at]);
            start = at + 2;
        }
        from = at + 2;
    }
    if !joined[start..].is_empty() {
        headers.push(&joined[start..]);
    }
    headers
}

/// A JSON body pretty-printed; a form one field per line, decoded; anything else as it is.
fn body_lines(body: &str) -> Vec<String> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(body)
        && (json.is_object() || json.is_array())
    {
        return serde_json::to_string_pretty(&json).unwrap_or_default().lines().map(str::to_owned).collect();
    }
    let looks_like_form = !body.contains(char::is_whitespace) && body.contains('=');
    if looks_like_form && let Ok(parsed) = reqwest::Url::parse(&format!("http://form.invalid/?{body}")) {
        return parsed.query_pairs().map(|(name, value)| format!("{name}={value}")).collect();
    }
    body.lines().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_split_where_a_name_follows_and_nowhere_else() {
        assert_eq!(
            headers("cache-control: no-store, no-cache, www-authenticate: Bearer realm=\"a\", error=\"b\""),
            ["cache-control: no-store, no-cache", "www-authenticate: Bearer realm=\"a\", error=\"b\""]
        );
        assert!(headers("").is_empty());
    }

    #[test]
    fn bodies_read_one_field_per_line_or_as_pretty_json() {
        assert_eq!(
            body_lines("grant_type=client_credentials&scope=read+write"),
            ["grant_type=client_credentials", "scope=read write"]
        );
        assert_eq!(body_lines(r#"{"a":1}"#), ["{", "  \"a\": 1", "}"]);
        assert_eq!(body_lines("<html>x</html>"), ["<html>x</html>"]);
    }
}
