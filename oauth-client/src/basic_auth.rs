//! HTTP Basic client authentication (RFC 6749 §2.3.1).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::secret::ClientSecret;

/// Everything but RFC 3986's unreserved characters is escaped.
///
/// RFC 6749 §2.3.1 asks for `application/x-www-form-urlencoded` before joining with `:`.
/// Escaping every reserved character, and the space as `%20` rather than `+`, yields a string
/// that a form decoder and a plain percent-decoder both read back to the original, so it
/// works with providers of either kind.
const CREDENTIAL: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Client credentials sent in the `Authorization: Basic ...` header.
///
/// ```
/// use oauth_client::BasicAuth;
///
/// let auth = BasicAuth::new("client id", "s3cr3t:+");
/// // base64("client%20id:s3cr3t%3A%2B")
/// assert_eq!(auth.header_value(), "Basic Y2xpZW50JTIwaWQ6czNjcjN0JTNBJTJC");
/// // The secret never shows in `Debug`.
/// assert!(!format!("{auth:?}").contains("s3cr3t"));
/// ```
#[derive(Clone)]
pub struct BasicAuth {
    client_id: String,
    client_secret: ClientSecret,
}

impl BasicAuth {
    /// Credentials of a client registered with the provider.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<ClientSecret>) -> Self {
        BasicAuth { client_id: client_id.into(), client_secret: client_secret.into() }
    }

    /// The client identifier.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret.
    pub fn client_secret(&self) -> &ClientSecret {
        &self.client_secret
    }

    /// The value of the `Authorization` header: `Basic ` and
    /// `base64(urlencode(client_id) ":" urlencode(client_secret))`.
    pub fn header_value(&self) -> String {
        let credentials = format!(
            "{}:{}",
            utf8_percent_encode(&self.client_id, CREDENTIAL),
            utf8_percent_encode(self.client_secret.secret(), CREDENTIAL),
        );
        format!("Basic {}", STANDARD.encode(credentials))
    }
}

impl core::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("client_id", &self.client_id)
            .field("client_secret", &crate::secret::Redacted)
            .finish()
    }
}
