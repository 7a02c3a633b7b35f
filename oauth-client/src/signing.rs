//! The one way this crate signs a JWT: jsonwebtoken, on the crypto backend the cargo features
//! chose (`rust-crypto` or `aws-lc`).

use std::sync::Once;

use jsonwebtoken::{EncodingKey, Header};

#[cfg(not(any(feature = "rust-crypto", feature = "aws-lc")))]
compile_error!(
    "oauth-client's `jwt` feature signs with a crypto backend: enable `rust-crypto` or `aws-lc` \
     (the TLS features `rustls`, `native-tls` and `rustls-aws-lc` enable one)"
);

/// Installs this crate's choice as jsonwebtoken's process-wide provider, unless one is
/// installed. Without it, jsonwebtoken panics when both of its backends are compiled in, as
/// they are when another crate of the build enables the other one.
pub(crate) fn ensure_provider() {
    static CHOSEN: Once = Once::new();
    CHOSEN.call_once(|| {
        #[cfg(feature = "aws-lc")]
        let provider = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
        #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc")))]
        let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
        // Another crate installed one first: it serves us as well.
        let _ = provider.install_default();
    });
}

/// A compact JWS of `claims` under `header`, signed with `key`.
pub(crate) fn encode<T: serde::Serialize>(
    header: &Header,
    claims: &T,
    key: &EncodingKey,
) -> Result<String, jsonwebtoken::errors::Error> {
    ensure_provider();
    jsonwebtoken::encode(header, claims, key)
}
