//! The `reqwest::Client` the builders make when the caller brings none.

/// A builder of the crate's own HTTP client: no redirects followed (credentials and codes
/// are never forwarded), on the TLS backend the cargo features chose. With `rustls`, reqwest
/// uses the program's process-wide rustls provider if it installed one, else aws-lc-rs;
/// nothing process-wide is installed here.
pub(crate) fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())
}
