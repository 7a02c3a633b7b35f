//! The `reqwest::Client` the builders make when the caller brings none.

/// A builder of the crate's own HTTP client: no redirects followed (credentials and codes
/// are never forwarded), on the TLS backend the cargo features chose.
pub(crate) fn builder() -> reqwest::ClientBuilder {
    #[cfg(all(feature = "rustls", not(feature = "rustls-aws-lc")))]
    install_ring_provider();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())
}

/// reqwest's `rustls-no-provider` takes the process's default rustls provider: make it ring,
/// unless the program installed one.
#[cfg(all(feature = "rustls", not(feature = "rustls-aws-lc")))]
fn install_ring_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race with another installer is fine: any provider serves.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    });
}
