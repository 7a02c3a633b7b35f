//! One attempt of a request to the provider, and the steps applied to every attempt.
//!
//! A request may be sent more than once (a nonce challenge, a retry after a transient
//! failure); what must be fresh each time — a client assertion's `jti`, a DPoP proof — is
//! computed by an [`AttemptStep`] on the [`Attempt`]: client authentication
//! ([`ClientAuth`](crate::ClientAuth), with a team's own
//! [`AuthenticateClient`](crate::AuthenticateClient)) and DPoP. The loop that drives the
//! attempts (`transport.rs`) knows none of them by name.

use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::Error;
use crate::request::{Endpoint, GrantRequest};

/// What [`AuthenticateClient::prepare`](crate::AuthenticateClient::prepare) waits for.
pub type Preparing<'a> = core::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// Something done to every attempt of a request, and the one answer it may give to the
/// response (in the style of tower's one piece per concern).
pub(crate) trait AttemptStep: Send + Sync {
    /// Whether the step applies to `request` at all.
    fn applies_to(&self, request: &GrantRequest<'_>) -> bool {
        let _ = request;
        true
    }

    /// Waits, once per request before its attempts, for what [`apply`](Self::apply) needs
    /// and cannot compute at once (a platform token read from a file, a URL, a program).
    fn prepare(&self) -> Option<Preparing<'_>> {
        None
    }

    /// Adds what this step adds to `attempt` (headers, form fields), computed now.
    fn apply(&self, attempt: &mut Attempt<'_>) -> Result<(), Error>;

    /// Sees the response to an attempt before it is interpreted: a challenge the next attempt
    /// answers at once, named by its reason (for the trace), or `None`.
    fn challenge(&self, response: &AttemptResponse<'_>) -> Option<&'static str> {
        let _ = response;
        None
    }
}

/// One attempt of a request, as client authentication sees it: where it goes, and what it
/// may add. Made by the runtime for every attempt (retries included).
pub struct Attempt<'a> {
    endpoint: Endpoint,
    method: &'a str,
    url: &'a Url,
    token_url: &'a Url,
    issuer: Option<&'a str>,
    now: i64,
    /// The request's own encoded form (or JSON body), shared by every attempt.
    form: &'a Bytes,
    /// Fields the steps added, encoded; appended to `form` when there are any.
    added: Option<form_urlencoded::Serializer<'static, String>>,
    headers: HeaderMap,
    /// The access token the request presents as `Authorization: DPoP <token>`, if any: the
    /// DPoP step hashes it into its proof (read only with the `dpop` feature).
    #[cfg_attr(not(feature = "dpop"), allow(dead_code))]
    pub(crate) dpop_bound_token: Option<&'a str>,
}

/// Where an attempt goes and what it carries, for [`Attempt::new`].
pub(crate) struct AttemptTarget<'a> {
    pub(crate) endpoint: Endpoint,
    pub(crate) method: &'a str,
    pub(crate) url: &'a Url,
    pub(crate) token_url: &'a Url,
    pub(crate) issuer: Option<&'a str>,
    pub(crate) dpop_bound_token: Option<&'a str>,
}

impl<'a> Attempt<'a> {
    pub(crate) fn new(target: &AttemptTarget<'a>, now: i64, form: &'a Bytes) -> Self {
        Attempt {
            endpoint: target.endpoint,
            method: target.method,
            url: target.url,
            token_url: target.token_url,
            issuer: target.issuer,
            now,
            form,
            added: None,
            headers: HeaderMap::new(),
            dpop_bound_token: target.dpop_bound_token,
        }
    }

    /// The HTTP method (`POST` unless the request was declared with another `method`).
    pub fn method(&self) -> &str {
        self.method
    }

    /// The request's own form fields, decoded, in order (`grant_type` first at the token
    /// endpoint); not what earlier steps of authentication added.
    pub fn form(&self) -> impl Iterator<Item = (std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)> {
        form_urlencoded::parse(self.form)
    }

    /// The endpoint the request goes to.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// The URL the request goes to (an mTLS alias when mTLS is on).
    pub fn url(&self) -> &Url {
        self.url
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> &Url {
        self.token_url
    }

    /// The provider's issuer identifier, if the client knows it.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer
    }

    /// Now, in Unix seconds, by the client's clock (for `iat` and `exp`).
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Adds a form field after the request's own.
    pub fn add_form(&mut self, name: &str, value: &str) {
        self.added
            .get_or_insert_with(|| form_urlencoded::Serializer::new(String::new()))
            .append_pair(name, value);
    }

    /// Sets a header; its value is marked sensitive (kept out of HTTP/2 tables and debug
    /// output).
    pub fn insert_header(&mut self, name: HeaderName, mut value: HeaderValue) {
        value.set_sensitive(true);
        self.headers.insert(name, value);
    }

    /// The body and headers to send: the shared form as it is when no step added a field.
    pub(crate) fn finish(self) -> (Bytes, HeaderMap) {
        let body = match self.added {
            None => self.form.clone(),
            Some(mut added) => {
                let added = added.finish();
                let mut body = Vec::with_capacity(self.form.len() + 1 + added.len());
                body.extend_from_slice(self.form);
                if !self.form.is_empty() {
                    body.push(b'&');
                }
                body.extend_from_slice(added.as_bytes());
                Bytes::from(body)
            }
        };
        (body, self.headers)
    }
}

/// The response to one attempt, as [`AuthenticateClient::wants_retry`](crate::AuthenticateClient::wants_retry) sees it. Its `Debug`
/// shows the status and the header names only: the body may hold tokens.
pub struct AttemptResponse<'a> {
    /// Where the attempt went.
    pub(crate) url: &'a Url,
    pub(crate) status: reqwest::StatusCode,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

impl core::fmt::Debug for AttemptResponse<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AttemptResponse")
            .field("status", &self.status)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl AttemptResponse<'_> {
    /// The URL the attempt went to.
    pub fn url(&self) -> &Url {
        self.url
    }

    /// The HTTP status.
    pub fn status(&self) -> reqwest::StatusCode {
        self.status
    }

    /// The response headers (`WWW-Authenticate`, a nonce header, ...).
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }

    /// The `error` member of an RFC 6749 §5.2 error object in the body, if there is one.
    pub fn error_code(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct ErrorObject {
            error: String,
        }
        serde_json::from_slice::<ErrorObject>(self.body).ok().map(|object| object.error)
    }
}
