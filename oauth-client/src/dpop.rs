//! DPoP, sender-constrained tokens (RFC 9449): a key of the client's, a fresh proof for each
//! request to the provider's endpoints and to resource servers (with the access token's hash
//! when one is presented), server nonces remembered per origin, and the one retry a nonce
//! challenge asks for. Cargo feature `dpop`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::attempt::{Attempt, AttemptResponse, AttemptStep};
use crate::error::Error;
use crate::error::Setting;
use crate::signing::{JwsKey, SigningError};

/// The `DPoP` request header (RFC 9449 §4.1).
pub(crate) const DPOP: HeaderName = HeaderName::from_static("dpop");
/// The `DPoP-Nonce` response header (RFC 9449 §8).
pub(crate) const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The client's DPoP key: a private key whose public half goes into every proof, and whose
/// thumbprint (RFC 7638) the provider binds tokens to (`cnf.jkt`).
///
/// Generate one per client instance, or load one so that a restart or a fleet keeps the
/// tokens bound to it ([`to_pkcs8_pem`](Self::to_pkcs8_pem) to persist a generated key).
/// The key is parsed once, and the proof's header (algorithm, type, public key) encoded once:
/// a proof costs one signature and a few small allocations.
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
    key: Arc<JwsKey>,
    /// The private key as PKCS#8 DER, to export.
    pkcs8: Arc<[u8]>,
    /// The base64url of every proof's protected header.
    header_b64: Arc<str>,
    thumbprint: Arc<str>,
}

impl DpopKey {
    /// A new P-256 key, signing with ES256 (what providers support first).
    pub fn generate() -> Result<Self, Error> {
        let pkcs8 = crate::signing::generate_pkcs8(Algorithm::ES256).map_err(unusable(Algorithm::ES256))?;
        Self::from_der(Algorithm::ES256, &pkcs8)
    }

    /// A new Ed25519 key, signing with EdDSA.
    pub fn generate_ed25519() -> Result<Self, Error> {
        let pkcs8 = crate::signing::generate_pkcs8(Algorithm::EdDSA).map_err(unusable(Algorithm::EdDSA))?;
        Self::from_der(Algorithm::EdDSA, &pkcs8)
    }

    /// A key from PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`): P-256 (ES256), Ed25519 (EdDSA)
    /// or RSA (PS256; see [`with_algorithm`](Self::with_algorithm) for RS256).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, Error> {
        let der = pem_body(pem, "PRIVATE KEY")?;
        [Algorithm::ES256, Algorithm::EdDSA, Algorithm::PS256]
            .into_iter()
            .find_map(|algorithm| Self::from_der(algorithm, &der).ok())
            .ok_or_else(|| {
                Error::config(
                    Setting::Dpop,
                    "the DPoP key is not a P-256, Ed25519 or RSA private key in PKCS#8",
                )
            })
    }

    /// The same key, signing with `algorithm` (e.g. `RS256` for an RSA key).
    pub fn with_algorithm(self, algorithm: Algorithm) -> Result<Self, Error> {
        Self::from_der(algorithm, &self.pkcs8)
    }

    fn from_der(algorithm: Algorithm, der: &[u8]) -> Result<Self, Error> {
        let encoding = match algorithm {
            Algorithm::ES256 => EncodingKey::from_ec_der(der),
            Algorithm::EdDSA => EncodingKey::from_ed_der(der),
            Algorithm::RS256 | Algorithm::PS256 => EncodingKey::from_rsa_der(der),
            other => {
                return Err(Error::config(
                    Setting::Dpop,
                    format!("DPoP does not support {other:?} keys here"),
                ));
            }
        };
        let key = JwsKey::new(algorithm, &encoding).map_err(unusable(algorithm))?;
        let public =
            key.public_jwk().cloned().ok_or_else(|| unusable(algorithm)(SigningError::NOT_ASYMMETRIC))?;
        let thumbprint = crate::signing::thumbprint(&public);
        let mut header = Map::new();
        header.insert("alg".into(), Value::String(algorithm_name(algorithm).into()));
        header.insert("typ".into(), Value::String("dpop+jwt".into()));
        header.insert("jwk".into(), Value::Object(public));
        let header_b64 = crate::signing::encode_header(&header);
        // Signing once proves the key and the algorithm fit together.
        key.sign_compact(&header_b64, &Map::new()).map_err(unusable(algorithm))?;
        Ok(DpopKey {
            key: Arc::new(key),
            pkcs8: der.into(),
            header_b64: header_b64.into(),
            thumbprint: thumbprint.into(),
        })
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
        self.key.algorithm()
    }

    /// A proof (RFC 9449 §4.2) for a `method` request to `url`, issued at `now` (Unix
    /// seconds), with the server's `nonce` and, for a request that presents an access token,
    /// that token (its hash goes in `ath`).
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        now: i64,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<String, Error> {
        #[derive(serde::Serialize)]
        struct Claims<'a> {
            jti: &'a str,
            htm: &'a str,
            htu: &'a str,
            iat: i64,
            #[serde(skip_serializing_if = "Option::is_none")]
            nonce: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            ath: Option<String>,
        }
        let jti = random_id()?;
        let claims = Claims {
            jti: &jti,
            htm: method,
            htu: htu(url),
            iat: now,
            nonce,
            ath: access_token.map(|token| URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))),
        };
        self.key
            .sign_compact(&self.header_b64, &claims)
            .map_err(|error| Error::Signing { what: "sign the DPoP proof".into(), source: Arc::new(error) })
    }
}

fn unusable(algorithm: Algorithm) -> impl Fn(SigningError) -> Error {
    move |error| Error::Signing {
        what: format!("use the DPoP key for {algorithm:?}"),
        source: Arc::new(error),
    }
}

/// The JOSE name of an algorithm this crate signs DPoP proofs with.
fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        Algorithm::RS256 => "RS256",
        _ => "PS256",
    }
}

impl core::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DpopKey")
            .field("algorithm", &self.key.algorithm())
            .field("thumbprint", &self.thumbprint)
            .field("private_key", &crate::secret::Redacted)
            .finish()
    }
}

/// `htu`: the URL without query and fragment (RFC 9449 §4.2).
fn htu(url: &Url) -> &str {
    crate::error::without_query(url)
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
        .ok_or_else(|| {
            Error::config(Setting::Dpop, format!("the DPoP key is not PEM with a `{begin}` block"))
        })?;
    STANDARD.decode(body).map_err(|_| Error::config(Setting::Dpop, "the DPoP key's PEM is not valid base64"))
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

    /// The `DPoP` header of a `method` request to `url` at `now`: a fresh proof with the
    /// nonce `url`'s server last gave and, for a request that presents a DPoP-bound access
    /// token, that token's hash. The one way a proof is made, for the provider's endpoints and
    /// for resource servers alike.
    pub(crate) fn proof_header(
        &self,
        method: &str,
        url: &Url,
        now: i64,
        bound_token: Option<&str>,
    ) -> Result<HeaderValue, Error> {
        let nonce = self.nonce_for(url);
        let proof = self.key.proof(method, url, now, nonce.as_deref(), bound_token)?;
        let mut value = HeaderValue::try_from(proof)
            .map_err(|_| Error::config(Setting::Dpop, "the DPoP proof is not a header value"))?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// Remembers the response's nonce; `true` for a nonce challenge (RFC 9449 §8 and §9),
    /// which the next attempt answers with the nonce: an authorization server's `400` with
    /// `error: use_dpop_nonce`, or a resource's `401` with that error in `WWW-Authenticate`
    /// (an authorization server's UserInfo endpoint is a resource).
    pub(crate) fn observe(&self, url: &Url, response: &AttemptResponse<'_>) -> bool {
        self.remember_nonce(url, response.headers());
        if !response.headers().contains_key(DPOP_NONCE) {
            return false;
        }
        match response.status() {
            reqwest::StatusCode::BAD_REQUEST => response.error_code().as_deref() == Some("use_dpop_nonce"),
            reqwest::StatusCode::UNAUTHORIZED => crate::challenge::challenges(response.headers())
                .iter()
                .any(|challenge| challenge.has_error("use_dpop_nonce")),
            _ => false,
        }
    }
}

/// A DPoP client proves possession on every attempt of every request to its provider.
impl AttemptStep for Dpop {
    fn apply(&self, attempt: &mut Attempt<'_>) -> Result<(), Error> {
        let proof =
            self.proof_header(attempt.method(), attempt.url(), attempt.now(), attempt.dpop_bound_token)?;
        attempt.insert_header(DPOP, proof);
        Ok(())
    }

    fn challenge(&self, response: &AttemptResponse<'_>) -> Option<&'static str> {
        self.observe(response.url, response).then_some(crate::retry::USE_DPOP_NONCE)
    }
}
