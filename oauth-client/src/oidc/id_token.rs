//! ID token validation (OpenID Connect Core §3.1.3.7 and §3.1.3.8).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::{IdTokenError, JwksCache, OidcError};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::error::Setting;
use crate::secret::ClientSecret;
use crate::{OAuthToken, PendingAuthorization};

/// The claims of a validated ID token: the standard ones, and every other in `extra`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The user's identifier at the issuer: with `iss`, the key to your user record.
    pub sub: String,
    /// The audiences (a single string in the token is read as one).
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// When the user authenticated, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The nonce of the authorization request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Authentication context class reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// Authentication methods references.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The party the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// Access token hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// Code hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_hash: Option<String>,
    /// Every other claim (`email`, `name`, your provider's own, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// What the ID token must match besides its issuer, audience and lifetime.
///
/// [`from_authorization`](Self::from_authorization) takes the `nonce` and `max_age` the
/// request sent; [`access_token`](Self::access_token) and [`code`](Self::code) check
/// `at_hash` and `c_hash` when the token carries them.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct Expected<'a> {
    nonce: Option<&'a str>,
    max_age: Option<u64>,
    access_token: Option<&'a str>,
    code: Option<&'a str>,
}

impl<'a> Expected<'a> {
    /// Nothing beyond issuer, audience and lifetime (e.g. an ID token from a refresh).
    pub fn nothing() -> Self {
        Expected::default()
    }

    /// The `nonce` and `max_age` of the authorization request.
    pub fn from_authorization(pending: &'a PendingAuthorization) -> Self {
        Expected { nonce: pending.nonce(), max_age: pending.max_age(), ..Expected::default() }
    }

    /// The token must carry this `nonce`.
    pub fn nonce(mut self, nonce: &'a str) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// The user must have authenticated at most `seconds` ago (`auth_time` required).
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// The access token issued with the ID token: `at_hash`, when present, must match it.
    pub fn access_token(mut self, access_token: &'a str) -> Self {
        self.access_token = Some(access_token);
        self
    }

    /// The authorization code the ID token came with: `c_hash`, when present, must match it.
    pub fn code(mut self, code: &'a str) -> Self {
        self.code = Some(code);
        self
    }
}

/// Validates ID tokens of one provider for one client.
///
/// The signature is checked with a key from the provider's [`JwksCache`] (or, for `HS256`
/// and friends, the client secret — only when given), with an algorithm from the allow-list
/// (by default the metadata's `id_token_signing_alg_values_supported`, else `RS256`; never
/// `none`). Then `iss`, `aud`, `azp`, `exp` and `iat` (with leeway), `nonce`, `auth_time`
/// against `max_age`, and `at_hash`/`c_hash`.
///
/// ```no_run
/// use oauth_client::oidc::{Expected, IdTokenVerifier};
/// use oauth_client::{AuthorizationRequest, ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
///
/// # async fn run(redirect: &str) -> Result<(), oauth_client::oidc::OidcError> {
/// let client = OAuthClient::discover("https://login.example.com").await?.build()?;
/// let pending = AuthorizationRequest::for_client(&client, "my-app")?
///     .redirect_uri("https://app.example/callback")
///     .scope("openid email")                      // a nonce is generated
///     .build()?;
/// // ... the user logs in; the browser comes back to `redirect` ...
/// let code = pending.code_from_redirect(redirect)?;
/// let token = client.request_token_acg(Configured, &code, "https://app.example/callback", Some(&pending.token_params())).await?;
///
/// let verifier = IdTokenVerifier::for_client(&client, "my-app")?;
/// let claims = verifier.verify_token_response(&token, Expected::from_authorization(&pending)).await?;
/// println!("logged in: {} at {}", claims.sub, claims.iss);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IdTokenVerifier {
    issuer: String,
    client_id: String,
    keys: JwksCache,
    algorithms: Vec<Algorithm>,
    client_secret: Option<ClientSecret>,
    leeway: i64,
    clock: Arc<dyn Clock>,
}

impl IdTokenVerifier {
    /// A verifier for tokens `issuer` issues to `client_id`, with keys from `keys`, accepting
    /// `RS256` (OIDC's default; see [`algorithms`](Self::algorithms)).
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>, keys: JwksCache) -> Self {
        IdTokenVerifier {
            issuer: issuer.into(),
            client_id: client_id.into(),
            keys,
            algorithms: vec![Algorithm::RS256],
            client_secret: None,
            leeway: 60,
            clock: Arc::new(SystemClock),
        }
    }

    /// A verifier for `client`'s provider (found by discovery): its issuer, its key set and
    /// the algorithms its metadata lists (`id_token_signing_alg_values_supported`).
    pub fn for_client(client: &crate::OAuthClient, client_id: impl Into<String>) -> Result<Self, Error> {
        let issuer = client.issuer().ok_or_else(|| {
            Error::config(
                Setting::Issuer,
                "the client has no issuer: discover the provider, or set `issuer(..)`",
            )
        })?;
        let mut verifier = Self::new(issuer, client_id, JwksCache::for_client(client)?);
        let listed = client
            .provider_metadata()
            .map(crate::ProviderMetadata::id_token_signing_algorithms)
            .unwrap_or_default();
        if !listed.is_empty() {
            verifier.algorithms = listed.iter().filter_map(|name| asymmetric_or_hmac(name)).collect();
        }
        Ok(verifier)
    }

    /// The signature algorithms accepted (`none` never is; `HS*` only with
    /// [`client_secret`](Self::client_secret)).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// The client secret, the key of HMAC-signed ID tokens (`HS256`, ...). Without it those
    /// are refused: a key from the public key set must never verify an HMAC.
    pub fn client_secret(mut self, secret: impl Into<ClientSecret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// The clock skew tolerated on `exp`, `iat` and `auth_time`. Default: 60 s.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// Reads the time from `clock`.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The key set this verifier reads.
    pub fn keys(&self) -> &JwksCache {
        &self.keys
    }

    /// Validates the `id_token` of a token response; its access token checks `at_hash`.
    pub async fn verify_token_response(
        &self,
        token: &OAuthToken,
        expected: Expected<'_>,
    ) -> Result<IdTokenClaims, OidcError> {
        let id_token = token.extra.get("id_token").and_then(Value::as_str).ok_or(IdTokenError::Missing)?;
        self.verify(id_token, expected.access_token(token.access_token.secret())).await
    }

    /// Validates `id_token` (a compact JWS) and returns its claims.
    pub async fn verify(&self, id_token: &str, expected: Expected<'_>) -> Result<IdTokenClaims, OidcError> {
        let signed =
            verify_signature(id_token, &self.algorithms, &self.keys, self.client_secret.as_ref()).await?;
        self.check_claims(&signed.claims, signed.algorithm, &expected)?;
        Ok(signed.claims)
    }

    fn check_claims(
        &self,
        claims: &IdTokenClaims,
        algorithm: Algorithm,
        expected: &Expected<'_>,
    ) -> Result<(), IdTokenError> {
        let fail = Err;
        let now = self.clock.now();
        if claims.iss != self.issuer {
            return fail(IdTokenError::WrongIssuer {
                expected: self.issuer.clone(),
                found: claims.iss.clone(),
            });
        }
        if !claims.aud.contains(&self.client_id) {
            return fail(IdTokenError::WrongAudience {
                client_id: self.client_id.clone(),
                found: claims.aud.clone(),
            });
        }
        match &claims.azp {
            Some(azp) if *azp != self.client_id => {
                return fail(IdTokenError::WrongAuthorizedParty { found: azp.clone() });
            }
            None if claims.aud.len() > 1 => return fail(IdTokenError::MissingAuthorizedParty),
            _ => {}
        }
        if now > claims.exp.saturating_add(self.leeway) {
            return fail(IdTokenError::Expired { exp: claims.exp, now });
        }
        if claims.iat > now.saturating_add(self.leeway) {
            return fail(IdTokenError::IssuedInTheFuture { iat: claims.iat, now });
        }
        if let Some(nonce) = expected.nonce {
            match &claims.nonce {
                None => return fail(IdTokenError::MissingNonce),
                Some(found) if found != nonce => return fail(IdTokenError::NonceMismatch),
                Some(_) => {}
            }
        }
        if let Some(max_age) = expected.max_age {
            let Some(auth_time) = claims.auth_time else { return fail(IdTokenError::MissingAuthTime) };
            let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
            if now > auth_time.saturating_add(max_age).saturating_add(self.leeway) {
                return fail(IdTokenError::AuthenticationTooOld { auth_time, max_age });
            }
        }
        if let (Some(access_token), Some(at_hash)) = (expected.access_token, &claims.at_hash)
            && left_half_hash(algorithm, access_token) != *at_hash
        {
            return fail(IdTokenError::AccessTokenHashMismatch);
        }
        if let (Some(code), Some(c_hash)) = (expected.code, &claims.c_hash)
            && left_half_hash(algorithm, code) != *c_hash
        {
            return fail(IdTokenError::CodeHashMismatch);
        }
        Ok(())
    }
}

impl core::fmt::Debug for IdTokenVerifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IdTokenVerifier")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("algorithms", &self.algorithms)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[redacted]"))
            .field("leeway", &self.leeway)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// A JWS whose signature verified, with its claims.
pub(crate) struct Signed<C> {
    pub(crate) algorithm: Algorithm,
    /// The header's `typ`.
    pub(crate) typ: Option<String>,
    pub(crate) claims: C,
}

/// Checks `jws`'s algorithm against `algorithms` and its signature with a key of `keys` (or
/// `secret`, for HMAC), then decodes its claims. The claims are not checked.
pub(crate) async fn verify_signature<C: serde::de::DeserializeOwned>(
    jws: &str,
    algorithms: &[Algorithm],
    keys: &JwksCache,
    secret: Option<&ClientSecret>,
) -> Result<Signed<C>, IdTokenError> {
    let header = Header::read(jws)?;
    let algorithm = match asymmetric_or_hmac(&header.alg) {
        Some(algorithm) if algorithms.contains(&algorithm) => algorithm,
        _ => return Err(IdTokenError::UnsupportedAlgorithm(header.alg)),
    };
    let key = if is_hmac(algorithm) {
        match secret {
            Some(secret) => DecodingKey::from_secret(secret.secret().as_bytes()),
            None => return Err(IdTokenError::UnsupportedAlgorithm(header.alg)),
        }
    } else {
        keys.key(header.kid.as_deref(), algorithm).await?
    };
    // `Header::read` checked the three parts.
    let (message, signature) = jws.rsplit_once('.').unwrap_or_default();
    let signature =
        URL_SAFE_NO_PAD.decode(signature).map_err(|_| malformed("the signature is not base64url"))?;
    if !crate::signing::verify(algorithm, &key, message.as_bytes(), &signature) {
        return Err(IdTokenError::BadSignature);
    }
    let payload = message.split_once('.').map(|(_, payload)| payload).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| malformed("the payload is not base64url"))?;
    let claims = serde_json::from_slice(&payload)
        .map_err(|error| IdTokenError::Malformed(format!("the claims do not decode: {error}")))?;
    Ok(Signed { algorithm, typ: header.typ, claims })
}

fn malformed(why: &str) -> IdTokenError {
    IdTokenError::Malformed(why.to_owned())
}

/// The JOSE header, read without trusting it: `alg` kept as text so that `none` and unknown
/// names get a clear error.
struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
}

impl Header {
    fn read(jws: &str) -> Result<Self, IdTokenError> {
        let mut parts = jws.split('.');
        let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("not a compact JWS (three dot-separated parts)"));
        };
        let header = URL_SAFE_NO_PAD.decode(header).map_err(|_| malformed("the header is not base64url"))?;
        let header: Map<String, Value> =
            serde_json::from_slice(&header).map_err(|_| malformed("the header is not a JSON object"))?;
        let alg =
            header.get("alg").and_then(Value::as_str).ok_or_else(|| malformed("the header has no `alg`"))?;
        if header.contains_key("crit") {
            return Err(malformed("the header has critical extensions (`crit`), which are not understood"));
        }
        let text = |name: &str| header.get(name).and_then(Value::as_str).map(str::to_owned);
        Ok(Header { alg: alg.to_owned(), kid: text("kid"), typ: text("typ") })
    }
}

/// The algorithms an ID token may use here (`none` is not one).
pub(crate) fn asymmetric_or_hmac(name: &str) -> Option<Algorithm> {
    match name {
        "RS256" => Some(Algorithm::RS256),
        "RS384" => Some(Algorithm::RS384),
        "RS512" => Some(Algorithm::RS512),
        "PS256" => Some(Algorithm::PS256),
        "PS384" => Some(Algorithm::PS384),
        "PS512" => Some(Algorithm::PS512),
        "ES256" => Some(Algorithm::ES256),
        "ES384" => Some(Algorithm::ES384),
        "EdDSA" | "Ed25519" => Some(Algorithm::EdDSA),
        "HS256" => Some(Algorithm::HS256),
        "HS384" => Some(Algorithm::HS384),
        "HS512" => Some(Algorithm::HS512),
        _ => None,
    }
}

fn is_hmac(algorithm: Algorithm) -> bool {
    matches!(algorithm, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// `at_hash`/`c_hash`: the left half of the hash of `value` with the hash of `algorithm`,
/// base64url (OIDC Core §3.1.3.6; SHA-512 for Ed25519).
pub(crate) fn left_half_hash(algorithm: Algorithm, value: &str) -> String {
    let digest: Vec<u8> = match algorithm {
        Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 | Algorithm::HS384 => {
            Sha384::digest(value.as_bytes()).to_vec()
        }
        Algorithm::RS512 | Algorithm::PS512 | Algorithm::HS512 | Algorithm::EdDSA => {
            Sha512::digest(value.as_bytes()).to_vec()
        }
        _ => Sha256::digest(value.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}
