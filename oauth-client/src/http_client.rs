//! The `reqwest::Client` the builders make when the caller brings none.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
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
        None => own_for_documents().map(Cow::Owned).map_err(Error::HttpClient),
    }
}

/// The crate's own client for documents: no redirects, 30 s per document.
fn own_for_documents() -> Result<reqwest::Client, Arc<reqwest::Error>> {
    builder().timeout(Duration::from_secs(30)).build().map_err(Arc::new)
}

/// The client of an owner that fetches documents now and then (a resolver, a platform-token
/// URL) and cannot fail at construction: the caller's, else the crate's own, made at the
/// first fetch and kept by the owner and its clones.
#[derive(Clone, Default)]
pub(crate) struct DocumentsClient {
    caller: Option<reqwest::Client>,
    own: Arc<OnceLock<Result<reqwest::Client, Arc<reqwest::Error>>>>,
}

impl DocumentsClient {
    /// Fetches with `http`.
    pub(crate) fn caller(http: reqwest::Client) -> Self {
        DocumentsClient { caller: Some(http), own: Arc::default() }
    }

    /// The client to fetch with.
    pub(crate) fn get(&self) -> Result<&reqwest::Client, Error> {
        if let Some(http) = &self.caller {
            return Ok(http);
        }
        let own = self.own.get_or_init(own_for_documents);
        own.as_ref().map_err(|error| Error::HttpClient(Arc::clone(error)))
    }
}
