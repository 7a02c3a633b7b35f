//! Client authentication (RFC 6749 §2.3.1): HTTP Basic, its unescaped variant, and
//! credentials in the form body (`client_secret_post`).

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

    /// `Basic base64(client_id ":" client_secret)` *without* form-urlencoding: what many
    /// providers actually expect (those that decode Basic per RFC 7617, not RFC 6749).
    ///
    /// Use it when a provider rejects [`header_value`](Self::header_value) for credentials
    /// that contain reserved characters; for ids and secrets made of letters, digits and
    /// `-._~` both forms are identical. An id containing `:` cannot be sent this way.
    ///
    /// ```
    /// use oauth_client::BasicAuth;
    ///
    /// let auth = BasicAuth::new("client id", "s3cr3t:+");
    /// assert_eq!(auth.unescaped_header_value(), "Basic Y2xpZW50IGlkOnMzY3IzdDor"); // base64("client id:s3cr3t:+")
    /// ```
    pub fn unescaped_header_value(&self) -> String {
        format!("Basic {}", STANDARD.encode(format!("{}:{}", self.client_id, self.client_secret.secret())))
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

/// Client credentials sent as form fields (`client_id`, `client_secret`), the
/// `client_secret_post` method of RFC 6749 §2.3.1.
///
/// Superseded by [`ClientAuth::client_secret_post`](crate::ClientAuth::client_secret_post),
/// configured once on the client and applied to every request that authenticates the client
/// (this type's fields had to be passed as each call's `additional`). Migrating:
///
/// ```no_run
/// use oauth_client::{ClientAuth, ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
///
/// # async fn run() -> Result<(), oauth_client::Error> {
/// // Before: request_token_ccg("", Some("read"), Some(&ClientSecretPost::new(id, secret).form_params()))
/// let client = OAuthClient::builder("https://auth.example.com/token")
///     .client_auth(ClientAuth::client_secret_post("my-client", "my-secret"))
///     .build()?;
/// let token = client.request_token_ccg(Configured, Some("read"), None).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientSecretPost {
    client_id: String,
    client_secret: ClientSecret,
}

impl ClientSecretPost {
    /// Credentials of a client registered with the provider.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<ClientSecret>) -> Self {
        ClientSecretPost { client_id: client_id.into(), client_secret: client_secret.into() }
    }

    /// `client_id` and `client_secret` as form fields, to send as a grant's `additional`
    /// (extend the result with any other fields the call needs).
    #[deprecated(since = "0.1.0", note = "use `ClientAuth::client_secret_post` on the client")]
    pub fn form_params(&self) -> crate::FormParams {
        crate::FormParams::new()
            .with("client_id", &self.client_id)
            .with("client_secret", self.client_secret.secret())
    }
}

impl core::fmt::Debug for ClientSecretPost {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientSecretPost")
            .field("client_id", &self.client_id)
            .field("client_secret", &crate::secret::Redacted)
            .finish()
    }
}
