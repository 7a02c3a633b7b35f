//! JWT assertions (RFC 7523): the JWT bearer grant (§2.1) and client authentication with a
//! signed JWT instead of a secret (§2.2: `private_key_jwt`, `client_secret_jwt`).
//! Cargo feature `jwt`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

use crate::{Error, FormParams, OAuthToken, TokenEndpoint, oauth_grant};

/// A key that signs assertions: RS256 or ES256 with a private key (`private_key_jwt`), or
/// HS256 with the client secret (`client_secret_jwt`). `Debug` hides the key.
#[derive(Clone)]
pub struct SigningKey {
    algorithm: Algorithm,
    key: EncodingKey,
}

impl SigningKey {
    /// An RSA private key in PEM (PKCS#1 or PKCS#8), signing with RS256.
    pub fn rs256_pem(pem: &[u8]) -> Result<Self, Error> {
        let key = EncodingKey::from_rsa_pem(pem).map_err(|error| bad_key("RSA", &error))?;
        Ok(SigningKey { algorithm: Algorithm::RS256, key })
    }

    /// A P-256 private key in PEM (PKCS#8), signing with ES256.
    pub fn es256_pem(pem: &[u8]) -> Result<Self, Error> {
        let key = EncodingKey::from_ec_pem(pem).map_err(|error| bad_key("EC", &error))?;
        Ok(SigningKey { algorithm: Algorithm::ES256, key })
    }

    /// A shared secret (the client secret, for `client_secret_jwt`), signing with HS256.
    pub fn hs256(secret: &[u8]) -> Self {
        SigningKey { algorithm: Algorithm::HS256, key: EncodingKey::from_secret(secret) }
    }
}

fn bad_key(kind: &str, error: &jsonwebtoken::errors::Error) -> Error {
    Error::Config(format!("the {kind} private key is not usable: {error}"))
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("key", &crate::secret::Redacted)
            .finish()
    }
}

/// A signed JWT assertion with the claims RFC 7523 §3 requires: `iss`, `sub`, `aud`, `exp`,
/// `iat`, and a random `jti` so that each assertion is used once.
///
/// ```
/// use std::time::Duration;
/// use oauth_client::extensions::{JwtAssertion, SigningKey};
///
/// let assertion = JwtAssertion::new("my-service", "user-42", "https://auth.example.com/token", SigningKey::hs256(b"secret"))
///     .lifetime(Duration::from_secs(120))
///     .claim("scope", "read");
/// let jwt = assertion.sign()?;
/// assert_eq!(jwt.split('.').count(), 3);
/// # Ok::<(), oauth_client::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct JwtAssertion {
    issuer: String,
    subject: String,
    audience: String,
    lifetime: Duration,
    key: SigningKey,
    key_id: Option<String>,
    claims: Map<String, Value>,
}

impl JwtAssertion {
    /// An assertion by `issuer` about `subject` for `audience` (the authorization server,
    /// usually its token endpoint URL), signed with `key`; valid 5 minutes.
    pub fn new(
        issuer: impl Into<String>,
        subject: impl Into<String>,
        audience: impl Into<String>,
        key: SigningKey,
    ) -> Self {
        JwtAssertion {
            issuer: issuer.into(),
            subject: subject.into(),
            audience: audience.into(),
            lifetime: Duration::from_secs(300),
            key,
            key_id: None,
            claims: Map::new(),
        }
    }

    /// How long the assertion is valid (`exp` − `iat`).
    #[must_use]
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The `kid` header, for providers that hold several of your keys.
    #[must_use]
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// An additional claim. It cannot replace the required ones.
    #[must_use]
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.claims.insert(name.into(), value.into());
        self
    }

    /// A freshly signed JWT (new `iat`, `exp` and `jti` each time).
    pub fn sign(&self) -> Result<String, Error> {
        let now =
            SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or_default();
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti)
            .map_err(|error| Error::Config(format!("the random number generator failed: {error}")))?;
        let mut claims = self.claims.clone();
        claims.insert("iss".into(), self.issuer.clone().into());
        claims.insert("sub".into(), self.subject.clone().into());
        claims.insert("aud".into(), self.audience.clone().into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), now.saturating_add(self.lifetime.as_secs()).into());
        claims.insert("jti".into(), URL_SAFE_NO_PAD.encode(jti).into());
        let mut header = Header::new(self.key.algorithm);
        header.kid = self.key_id.clone();
        jsonwebtoken::encode(&header, &claims, &self.key.key)
            .map_err(|error| Error::Config(format!("could not sign the assertion: {error}")))
    }
}

/// The JWT bearer grant (RFC 7523 §2.1): a signed assertion in exchange for a token.
pub trait JwtBearer: TokenEndpoint {
    /// Sends `assertion` (e.g. [`JwtAssertion::sign`]); the client may authenticate as well.
    #[oauth_grant(grant_type = "urn:ietf:params:oauth:grant-type:jwt-bearer")]
    async fn request_token_jwt_bearer(
        &self,
        #[header("Authorization")] authorization: &str,
        #[form] assertion: &str,
        #[form] scope: Option<&str>,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<OAuthToken, Error>;
}

impl JwtBearer for crate::OAuthClient {}

/// Client authentication with a signed JWT (RFC 7523 §2.2, `private_key_jwt` or with an
/// HS256 key `client_secret_jwt`), usable with every grant instead of Basic: pass an empty
/// `authorization` and [`form_params`](Self::form_params) as `additional`.
///
/// ```no_run
/// use oauth_client::extensions::{ClientAssertion, SigningKey};
/// use oauth_client::{OAuthAuthorization, OAuthClient};
///
/// # async fn run(client: OAuthClient, pem: &[u8]) -> Result<(), oauth_client::Error> {
/// let assertion = ClientAssertion::new("my-client", client.token_url().as_str(), SigningKey::rs256_pem(pem)?);
/// let token = client.request_token_ccg("", Some("read"), Some(&assertion.form_params()?)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ClientAssertion {
    assertion: JwtAssertion,
}

impl ClientAssertion {
    /// The `client_assertion_type` of RFC 7523 §2.2.
    pub const TYPE: &'static str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// Authenticates `client_id` to the server whose token endpoint is `audience`.
    pub fn new(client_id: impl Into<String>, audience: impl Into<String>, key: SigningKey) -> Self {
        let client_id = client_id.into();
        ClientAssertion { assertion: JwtAssertion::new(client_id.clone(), client_id, audience, key) }
    }

    /// Adjusts the underlying assertion (lifetime, `kid`, claims).
    #[must_use]
    pub fn with(mut self, adjust: impl FnOnce(JwtAssertion) -> JwtAssertion) -> Self {
        self.assertion = adjust(self.assertion);
        self
    }

    /// `client_assertion_type` and a freshly signed `client_assertion`, as form fields.
    pub fn form_params(&self) -> Result<FormParams, Error> {
        Ok(FormParams::new()
            .with("client_assertion_type", Self::TYPE)
            .with("client_assertion", self.assertion.sign()?))
    }
}
