//! DPoP, sender-constrained tokens (RFC 9449): a key of the client's, a fresh proof for each
//! request to the token and PAR endpoints and to resource servers, server nonces remembered
//! per origin, and the one retry a nonce challenge asks for. Cargo feature `dpop`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::client_auth::{Attempt, AttemptResponse};
use crate::error::Error;

/// The `DPoP` request header (RFC 9449 §4.1).
pub(crate) const DPOP: HeaderName = HeaderName::from_static("dpop");
/// The `DPoP-Nonce` response header (RFC 9449 §8).
pub(crate) const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The client's DPoP key: a private key whose public half goes into every proof, and whose
/// thumbprint (RFC 7638) the provider binds tokens to (`cnf.jkt`).
///
/// Generate one per client instance, or load one so that a restart or a fleet keeps the
/// tokens bound to it ([`to_pkcs8_pem`](Self::to_pkcs8_pem) to persist a generated key).
/// `Debug` shows the algorithm and the thumbprint, never the private key.
///
/// ```
/// use oauth_client::dpop::DpopKey;
///
/// let key = DpopKey::generate()?;            // ES256
/// assert_eq!(key.thumbprint().len(), 43);    // base64url of a SHA-256
/// let again = DpopKey::from_pkcs8_pem(&key.to_pkcs8_pem())?;
/// assert_eq!(again.thumbprint(), key.thumbprint());
/// # Ok::<(), oauth_client::Error>(())
/// ```
#[derive(Clone)]
pub struct DpopKey {
    algorithm: Algorithm,
    key: EncodingKey,
    /// The private key as PKCS#8 DER, to export.
    pkcs8: Arc<[u8]>,
    public: Jwk,
    thumbprint: Arc<str>,
}

impl DpopKey {
    /// A new P-256 key, signing with ES256 (what providers support first).
    pub fn generate() -> Result<Self, Error> {
        use p256::pkcs8::EncodePrivateKey as _;
        // A uniformly random scalar: 32 random bytes, drawn again in the rare case (about
        // 2^-32) that they are not below the curve's order.
        let secret = loop {
            if let Ok(secret) = p256::SecretKey::from_slice(&random_bytes::<32>()?) {
                break secret;
            }
        };
        let pkcs8 = secret.to_pkcs8_der().map_err(|_| Error::Config("could not encode a DPoP key".into()))?;
        Self::from_der(Algorithm::ES256, pkcs8.as_bytes())
    }

    /// A new Ed25519 key, signing with EdDSA.
    pub fn generate_ed25519() -> Result<Self, Error> {
        use ed25519_dalek::pkcs8::{EncodePrivateKey as _, KeypairBytes};
        // PKCS#8 v1 (RFC 5208), without the public key: the form both signing backends read.
        let pkcs8 = KeypairBytes { secret_key: random_bytes()?, public_key: None }
            .to_pkcs8_der()
            .map_err(|_| Error::Config("could not encode a DPoP key".into()))?;
        Self::from_der(Algorithm::EdDSA, pkcs8.as_bytes())
    }

    /// A key from PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`): P-256 (ES256), Ed25519 (EdDSA)
    /// or RSA (PS256; see [`with_algorithm`](Self::with_algorithm) for RS256).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, Error> {
        let der = pem_body(pem, "PRIVATE KEY")?;
        [Algorithm::ES256, Algorithm::EdDSA, Algorithm::PS256]
            .into_iter()
            .find_map(|algorithm| Self::from_der(algorithm, &der).ok())
            .ok_or_else(|| {
                Error::Config("the DPoP key is not a P-256, Ed25519 or RSA private key in PKCS#8".into())
            })
    }

    /// The same key, signing with `algorithm` (e.g. `RS256` for an RSA key).
    pub fn with_algorithm(self, algorithm: Algorithm) -> Result<Self, Error> {
        Self::from_der(algorithm, &self.pkcs8)
    }

    fn from_der(algorithm: Algorithm, der: &[u8]) -> Result<Self, Error> {
        let key = match algorithm {
            Algorithm::ES256 => EncodingKey::from_ec_der(der),
            Algorithm::EdDSA => EncodingKey::from_ed_der(der),
            Algorithm::RS256 | Algorithm::PS256 => EncodingKey::from_rsa_der(der),
            other => return Err(Error::Config(format!("DPoP does not support {other:?} keys here"))),
        };
        crate::signing::ensure_provider();
        let public = Jwk::from_encoding_key(&key, algorithm).map_err(|error| {
            Error::Config(format!("the DPoP key is not usable for {algorithm:?}: {error}"))
        })?;
        // Signing once proves the key and the algorithm fit together.
        crate::signing::encode(&Header::new(algorithm), &Map::new(), &key).map_err(|error| {
            Error::Config(format!("the DPoP key is not usable for {algorithm:?}: {error}"))
        })?;
        let thumbprint = public
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|error| Error::Config(format!("the DPoP key has no RFC 7638 thumbprint: {error}")))?;
        Ok(DpopKey { algorithm, key, pkcs8: der.into(), public, thumbprint: thumbprint.into() })
    }

    /// The private key as PKCS#8 PEM, to store it (it is a secret: keep it like one).
    pub fn to_pkcs8_pem(&self) -> String {
        let body = STANDARD.encode(&self.pkcs8);
        let lines: Vec<&str> =
            body.as_bytes().chunks(64).map(|line| std::str::from_utf8(line).unwrap_or_default()).collect();
        format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"))
    }

    /// The JWK thumbprint (RFC 7638, SHA-256, base64url): `cnf.jkt` of bound tokens, and
    /// `dpop_jkt` of an authorization request.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// A proof (RFC 9449 §4.2) for a `method` request to `url`, issued at `now` (Unix
    /// seconds), with the server's `nonce` and, for a resource request, the access token it
    /// accompanies (`ath`).
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        now: i64,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<String, Error> {
        let mut header = Header::new(self.algorithm);
        header.typ = Some("dpop+jwt".to_owned());
        header.jwk = Some(self.public.clone());
        let mut claims = Map::new();
        claims.insert("jti".into(), Value::String(random_id()?));
        claims.insert("htm".into(), Value::String(method.to_owned()));
        claims.insert("htu".into(), Value::String(htu(url)));
        claims.insert("iat".into(), Value::from(now));
        if let Some(nonce) = nonce {
            claims.insert("nonce".into(), Value::String(nonce.to_owned()));
        }
        if let Some(token) = access_token {
            claims.insert(
                "ath".into(),
                Value::String(URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))),
            );
        }
        crate::signing::encode(&header, &claims, &self.key)
            .map_err(|error| Error::Signing { what: "sign the DPoP proof".into(), source: Arc::new(error) })
    }
}

impl core::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DpopKey")
            .field("algorithm", &self.algorithm)
            .field("thumbprint", &self.thumbprint)
            .field("private_key", &crate::secret::Redacted)
            .finish()
    }
}

/// `htu`: the URL without query and fragment (RFC 9449 §4.2).
fn htu(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

fn random_id() -> Result<String, Error> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<16>()?))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).map_err(Error::Random)?;
    Ok(bytes)
}

fn pem_body(pem: &str, label: &str) -> Result<Vec<u8>, Error> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = pem
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body.split_whitespace().collect::<String>())
        .ok_or_else(|| Error::Config(format!("the DPoP key is not PEM with a `{begin}` block")))?;
    STANDARD.decode(body).map_err(|_| Error::Config("the DPoP key's PEM is not valid base64".into()))
}

/// A client's DPoP state: its key and the nonces servers gave it, by origin.
#[derive(Debug)]
pub(crate) struct Dpop {
    pub(crate) key: DpopKey,
    nonces: Mutex<HashMap<String, String>>,
}

impl Dpop {
    pub(crate) fn new(key: DpopKey) -> Self {
        Dpop { key, nonces: Mutex::new(HashMap::new()) }
    }

    /// The last nonce `url`'s server gave.
    pub(crate) fn nonce_for(&self, url: &Url) -> Option<String> {
        let nonces = self.nonces.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        nonces.get(&url.origin().ascii_serialization()).cloned()
    }

    /// Remembers `nonce` for `origin` (the ASCII serialization of a URL's origin).
    pub(crate) fn set_nonce(&self, origin: &str, nonce: &str) {
        let mut nonces = self.nonces.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        nonces.insert(origin.to_owned(), nonce.to_owned());
    }

    /// Remembers the `DPoP-Nonce` of a response from `url`, if it has one.
    pub(crate) fn remember_nonce(&self, url: &Url, headers: &reqwest::header::HeaderMap) {
        if let Some(nonce) = headers.get(DPOP_NONCE).and_then(|value| value.to_str().ok()) {
            let mut nonces = self.nonces.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            nonces.insert(url.origin().ascii_serialization(), nonce.to_owned());
        }
    }

    /// Adds a proof for this attempt, with the server's nonce if it gave one.
    pub(crate) fn decorate(&self, attempt: &mut Attempt<'_>) -> Result<(), Error> {
        let nonce = self.nonce_for(attempt.url());
        let proof = self.key.proof(attempt.method(), attempt.url(), attempt.now(), nonce.as_deref(), None)?;
        let value = HeaderValue::try_from(proof)
            .map_err(|_| Error::Config("the DPoP proof is not a header value".into()))?;
        attempt.insert_header(DPOP, value);
        Ok(())
    }

    /// Remembers the response's nonce; `true` for a `use_dpop_nonce` challenge (RFC 9449 §8),
    /// which the next attempt answers with the nonce.
    pub(crate) fn observe(&self, url: &Url, response: &AttemptResponse<'_>) -> bool {
        self.remember_nonce(url, response.headers());
        response.status() == reqwest::StatusCode::BAD_REQUEST
            && response.headers().contains_key(DPOP_NONCE)
            && response.error_code().as_deref() == Some("use_dpop_nonce")
    }
}
