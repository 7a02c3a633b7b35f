//! The `reqwest::Client` the builders make when the caller brings none.

use std::borrow::Cow;
use std::time::Duration;

use crate::Error;

/// A builder of the crate's own HTTP client: no redirects followed (credentials and codes
/// are never forwarded), on the TLS backend the cargo features chose. With `rustls`, reqwest
/// uses the program's process-wide rustls provider if it installed one, else aws-lc-rs;
/// nothing process-wide is installed here.
pub(crate) fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())
}

/// The client that fetches metadata documents, key sets and platform tokens: the caller's,
/// else a new one of the crate's own, kept by whatever asked for it (a discovery, a key-set
/// cache, a resolver). Never one kept process-wide: a `reqwest::Client`'s pooled connections
/// are driven by the runtime that opened them, so a shared one fails ("runtime dropped the
/// dispatch task") or hangs in a host that runs more than one runtime — every
/// `#[tokio::test]` does.
pub(crate) fn for_documents(caller: Option<&reqwest::Client>) -> Result<Cow<'_, reqwest::Client>, Error> {
    match caller {
        Some(http) => Ok(Cow::Borrowed(http)),
        None => builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map(Cow::Owned)
            .map_err(|error| Error::HttpClient(std::sync::Arc::new(error))),
    }
}
