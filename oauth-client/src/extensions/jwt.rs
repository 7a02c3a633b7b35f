//! JWT assertions (RFC 7523): the JWT bearer grant (§2.1) and client authentication with a
//! signed JWT instead of a secret (§2.2: `private_key_jwt`, `client_secret_jwt`).
//! Cargo feature `jwt`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value};

use crate::signing::JwsKey;
use crate::{Error, FormParams};

/// A key that signs assertions: RS256 or ES256 with a private key (`private_key_jwt`), or
/// HS256 with the client secret (`client_secret_jwt`). The key is parsed once, here; each
/// assertion costs one signature. `Debug` hides the key.
#[derive(Clone)]
pub struct SigningKey {
    key: Arc<JwsKey>,
    key_id: Option<String>,
}

impl SigningKey {
    /// An RSA private key in PEM (PKCS#1 or PKCS#8), signing with RS256.
    pub fn rs256_pem(pem: &[u8]) -> Result<Self, Error> {
        let key = EncodingKey::from_rsa_pem(pem).map_err(|error| bad_key("RSA", error))?;
        Self::parsed(Algorithm::RS256, &key, "RSA")
    }

    /// A P-256 private key in PEM (PKCS#8), signing with ES256.
    pub fn es256_pem(pem: &[u8]) -> Result<Self, Error> {
        let key = EncodingKey::from_ec_pem(pem).map_err(|error| bad_key("EC", error))?;
        Self::parsed(Algorithm::ES256, &key, "EC")
    }

    /// A shared secret (the client secret, for `client_secret_jwt`), signing with HS256.
    pub fn hs256(secret: &[u8]) -> Self {
        let key = JwsKey::hmac(Algorithm::HS256, secret);
        SigningKey { key: Arc::new(key), key_id: None }
    }

    /// An RSA private key in PEM (PKCS#1 or PKCS#8), signing with PS256 (RSASSA-PSS).
    pub fn ps256_pem(pem: &[u8]) -> Result<Self, Error> {
        let key = EncodingKey::from_rsa_pem(pem).map_err(|error| bad_key("RSA", error))?;
        Self::parsed(Algorithm::PS256, &key, "RSA")
    }

    /// An Ed25519 private key in PEM (PKCS#8), signing with EdDSA.
    pub fn eddsa_pem(pem: &[u8]) -> Result<Self, Error> {
        let key = EncodingKey::from_ed_pem(pem).map_err(|error| bad_key("Ed25519", error))?;
        Self::parsed(Algorithm::EdDSA, &key, "Ed25519")
    }

    fn parsed(algorithm: Algorithm, key: &EncodingKey, kind: &str) -> Result<Self, Error> {
        let key = JwsKey::new(algorithm, key).map_err(|error| Error::Signing {
            what: format!("use the {kind} private key"),
            source: Arc::new(error),
        })?;
        Ok(SigningKey { key: Arc::new(key), key_id: None })
    }

    /// Names the key in each JWT's `kid` header, so the provider picks it from the client's
    /// registered key set.
    #[must_use]
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// The public key as a JWK for a key set (`kty` and its members, `alg`, `use: sig`, and
    /// the `kid` if set), to publish where the provider reads the client's keys; `None` for a
    /// shared secret.
    pub fn public_jwk(&self) -> Option<Value> {
        let mut jwk = self.key.public_jwk()?.clone();
        jwk.insert("alg".into(), algorithm_name(self.key.algorithm()).into());
        jwk.insert("use".into(), "sig".into());
        if let Some(kid) = &self.key_id {
            jwk.insert("kid".into(), kid.clone().into());
        }
        Some(Value::Object(jwk))
    }

    /// Signs `claims` as a JWT of type `typ` (none when `None`) with this key and `kid`
    /// (this key's own when `None`).
    pub(crate) fn sign_jwt(
        &self,
        typ: Option<&str>,
        key_id: Option<&str>,
        claims: &Map<String, Value>,
        what: &str,
    ) -> Result<String, Error> {
        let mut header = Map::new();
        header.insert("alg".into(), Value::String(algorithm_name(self.key.algorithm()).into()));
        if let Some(typ) = typ {
            header.insert("typ".into(), Value::String(typ.into()));
        }
        if let Some(kid) = key_id.or(self.key_id.as_deref()) {
            header.insert("kid".into(), Value::String(kid.into()));
        }
        self.key
            .sign_compact(&crate::signing::encode_header(&header), claims)
            .map_err(|error| Error::Signing { what: format!("sign the {what}"), source: Arc::new(error) })
    }

    /// Signs `claims` as a JWT of type `typ` with this key (and its `kid`).
    pub(crate) fn sign_object(&self, typ: &str, claims: &Map<String, Value>) -> Result<String, Error> {
        self.sign_jwt(Some(typ), None, claims, typ)
    }

    /// Whether this is a shared secret (HS256) rather than a private key.
    fn is_shared_secret(&self) -> bool {
        self.key.algorithm() == Algorithm::HS256
    }
}

/// The JOSE name of an algorithm a [`SigningKey`] signs with.
fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        Algorithm::PS256 => "PS256",
        Algorithm::EdDSA => "EdDSA",
        _ => "HS256",
    }
}

fn bad_key(kind: &str, error: jsonwebtoken::errors::Error) -> Error {
    Error::Signing { what: format!("use the {kind} private key"), source: Arc::new(error) }
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.key.algorithm())
            .field("key_id", &self.key_id)
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
        self.sign_at(&self.audience, now)
    }

    /// Signs the assertion for `audience`, issued at `now` (Unix seconds).
    fn sign_at(&self, audience: &str, now: u64) -> Result<String, Error> {
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).map_err(Error::Random)?;
        let mut claims = self.claims.clone();
        claims.insert("iss".into(), self.issuer.clone().into());
        claims.insert("sub".into(), self.subject.clone().into());
        claims.insert("aud".into(), audience.into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), now.saturating_add(self.lifetime.as_secs()).into());
        claims.insert("jti".into(), URL_SAFE_NO_PAD.encode(jti).into());
        self.key.sign_jwt(Some("JWT"), self.key_id.as_deref(), &claims, "assertion")
    }
}

/// A client assertion (RFC 7523 §2.2) signed by the caller and passed as a grant's
/// `additional` fields — superseded by [`ClientAuth::private_key_jwt`](crate::ClientAuth::private_key_jwt)
/// and [`ClientAuth::client_secret_jwt`](crate::ClientAuth::client_secret_jwt), which sign a
/// fresh assertion for every attempt: one signed here is sent again, `jti` and all, when a
/// request is retried (and a replay-checking provider refuses it).
///
/// Migrating:
///
/// ```no_run
/// use oauth_client::extensions::SigningKey;
/// use oauth_client::{ClientAuth, ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
///
/// # async fn run(pem: &[u8]) -> Result<(), oauth_client::Error> {
/// // Before: ClientAssertion::new("my-client", token_url, key).form_params()? as `additional`.
/// let client = OAuthClient::builder("https://auth.example.com/token")
///     .client_auth(ClientAuth::private_key_jwt("my-client", SigningKey::rs256_pem(pem)?))
///     .build()?;
/// let token = client.request_token_ccg(Configured, Some("read"), None).await?;
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
    #[deprecated(
        since = "0.1.0",
        note = "use `ClientAuth::private_key_jwt` (or `client_secret_jwt`) on the client: a fresh assertion per attempt"
    )]
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
    #[deprecated(
        since = "0.1.0",
        note = "use `ClientAuth::private_key_jwt` (or `client_secret_jwt`) on the client: a fresh assertion per attempt"
    )]
    pub fn form_params(&self) -> Result<FormParams, Error> {
        Ok(FormParams::new()
            .with("client_assertion_type", Self::TYPE)
            .with("client_assertion", self.assertion.sign()?))
    }
}

/// Which audience (`aud`) a client assertion names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssertionAudience {
    /// The provider's issuer identifier, as current guidance asks (the update of RFC 7523 in
    /// progress at the IETF, and FAPI 2.0); the token endpoint's URL when the client does not
    /// know the issuer. The default.
    #[default]
    Issuer,
    /// The token endpoint's URL, whatever endpoint the request goes to (RFC 7523 §3's
    /// original reading; some providers require it).
    TokenEndpoint,
    /// The URL of the endpoint the request goes to (PAR, introspection, ...).
    RequestedEndpoint,
    /// This value.
    Exactly(String),
}

/// `private_key_jwt` and `client_secret_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): a
/// fresh assertion — new `jti`, `iat` and `exp` by the client's clock — for every attempt of
/// every request, so retries never resend a `jti` and a long-lived client never sends an
/// expired assertion. Made by [`ClientAuth::private_key_jwt`](crate::ClientAuth::private_key_jwt) and
/// [`ClientAuth::client_secret_jwt`](crate::ClientAuth::client_secret_jwt); adjust it and turn it into a [`ClientAuth`](crate::ClientAuth) with `into()`.
///
/// ```
/// use std::time::Duration;
/// use oauth_client::ClientAuth;
/// use oauth_client::extensions::{AssertionAudience, JwtClientAuth, SigningKey};
///
/// let auth: ClientAuth = JwtClientAuth::new("my-client", SigningKey::hs256(b"a shared secret of 32+ bytes!!!!"))
///     .audience(AssertionAudience::TokenEndpoint)
///     .lifetime(Duration::from_secs(30))
///     .into();
/// assert_eq!(auth.method(), "client_secret_jwt");
/// ```
#[derive(Clone, Debug)]
pub struct JwtClientAuth {
    assertion: JwtAssertion,
    audience: AssertionAudience,
}

impl JwtClientAuth {
    /// Assertions for `client_id` (its `iss` and `sub`) signed with `key`; 60 s lifetime.
    pub fn new(client_id: impl Into<String>, key: SigningKey) -> Self {
        let client_id = client_id.into();
        let assertion =
            JwtAssertion::new(client_id.clone(), client_id, "", key).lifetime(Duration::from_secs(60));
        JwtClientAuth { assertion, audience: AssertionAudience::default() }
    }

    /// Which audience the assertions name.
    #[must_use]
    pub fn audience(mut self, audience: AssertionAudience) -> Self {
        self.audience = audience;
        self
    }

    /// How long each assertion is valid (`exp - iat`). Default: 60 s.
    #[must_use]
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.assertion = self.assertion.lifetime(lifetime);
        self
    }

    /// Adds a claim to every assertion.
    #[must_use]
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.assertion = self.assertion.claim(name, value);
        self
    }
}

impl crate::AuthenticateClient for JwtClientAuth {
    fn authenticate(&self, attempt: &mut crate::Attempt<'_>) -> Result<(), Error> {
        let audience = match &self.audience {
            AssertionAudience::Issuer => attempt.issuer().unwrap_or(attempt.token_url().as_str()),
            AssertionAudience::TokenEndpoint => attempt.token_url().as_str(),
            AssertionAudience::RequestedEndpoint => attempt.url().as_str(),
            AssertionAudience::Exactly(audience) => audience,
        };
        let now = u64::try_from(attempt.now()).unwrap_or_default();
        let assertion = self.assertion.sign_at(audience, now)?;
        attempt.add_form("client_id", &self.assertion.subject);
        attempt.add_form("client_assertion_type", ClientAssertion::TYPE);
        attempt.add_form("client_assertion", &assertion);
        Ok(())
    }
}

impl From<JwtClientAuth> for crate::ClientAuth {
    fn from(auth: JwtClientAuth) -> Self {
        let method =
            if auth.assertion.key.is_shared_secret() { "client_secret_jwt" } else { "private_key_jwt" };
        let client_id = auth.assertion.subject.clone();
        crate::ClientAuth::builtin(method, Some(client_id), false, auth)
    }
}

impl crate::ClientAuth {
    /// `private_key_jwt` (RFC 7523 §2.2): a fresh assertion signed with `key` (RS256, PS256,
    /// ES256 or EdDSA) per attempt, its audience the issuer. Feature `jwt`. See
    /// [`JwtClientAuth`] to adjust audience and lifetime.
    pub fn private_key_jwt(client_id: impl Into<String>, key: SigningKey) -> Self {
        JwtClientAuth::new(client_id, key).into()
    }

    /// `client_secret_jwt` (OpenID Connect Core §9): a fresh HS256 assertion keyed with the
    /// client secret per attempt. Feature `jwt`.
    pub fn client_secret_jwt(client_id: impl Into<String>, client_secret: impl AsRef<[u8]>) -> Self {
        JwtClientAuth::new(client_id, SigningKey::hs256(client_secret.as_ref())).into()
    }
}
