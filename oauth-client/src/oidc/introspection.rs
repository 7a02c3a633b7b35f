//! JWT responses from the introspection endpoint (RFC 9701): the answer signed by the
//! authorization server, checked with the same key handling as ID tokens.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde_json::Value;

use super::id_token::{asymmetric_or_hmac, verify_signature};
use super::{IdTokenError, JwksCache, OidcError};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::error::Setting;
use crate::extensions::Introspection;
use crate::request::{Endpoint, FormField, GrantRequest, HeaderField};
use crate::{OAuthClient, response, transport};

/// The media type of a signed introspection response (RFC 9701 §4).
const TOKEN_INTROSPECTION_JWT: &str = "application/token-introspection+jwt";

/// Introspects tokens with signed answers (RFC 9701): asks for
/// `application/token-introspection+jwt`, and accepts the answer only when it is a JWT of type
/// `token-introspection+jwt` signed by the provider (a key of its key set, an algorithm from
/// `introspection_signing_alg_values_supported`), issued by it, for this client.
///
/// ```no_run
/// # async fn run(client: oauth_client::OAuthClient, token: &str) -> Result<(), oauth_client::oidc::OidcError> {
/// use oauth_client::ClientAuthorization::Configured;
/// use oauth_client::oidc::SignedIntrospection;
///
/// let introspection = SignedIntrospection::for_client(&client, "resource-server")?;
/// let info = introspection.introspect(&client, Configured, token, None).await?;
/// println!("active: {}", info.active);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SignedIntrospection {
    issuer: String,
    client_id: String,
    keys: JwksCache,
    algorithms: Vec<Algorithm>,
    leeway: i64,
    clock: Arc<dyn Clock>,
}

impl core::fmt::Debug for SignedIntrospection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignedIntrospection")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("algorithms", &self.algorithms)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    #[serde(default)]
    aud: Value,
    iat: Option<i64>,
    token_introspection: Option<Introspection>,
}

impl SignedIntrospection {
    /// Signed introspection for `client_id`, by the provider `client` was discovered from: its
    /// issuer, its key set, the algorithms its metadata lists (RS256 without).
    pub fn for_client(client: &OAuthClient, client_id: impl Into<String>) -> Result<Self, Error> {
        let issuer = client.issuer().ok_or_else(|| {
            Error::config(
                Setting::Issuer,
                "the client has no issuer: discover the provider, or set `issuer(..)`",
            )
        })?;
        let listed = client
            .provider_metadata()
            .map(crate::ProviderMetadata::introspection_signing_algorithms)
            .unwrap_or_default();
        let mut algorithms: Vec<Algorithm> =
            listed.iter().filter_map(|name| asymmetric_or_hmac(name)).collect();
        // Never HMAC here: the verifier holds no client secret.
        algorithms
            .retain(|algorithm| !matches!(algorithm, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512));
        if algorithms.is_empty() {
            algorithms.push(Algorithm::RS256);
        }
        Ok(SignedIntrospection {
            issuer: issuer.to_owned(),
            client_id: client_id.into(),
            keys: JwksCache::for_client(client)?,
            algorithms,
            leeway: 60,
            clock: Arc::new(SystemClock),
        })
    }

    /// Reads the time from `clock`; `leeway` is the skew tolerated on `iat` (default 60 s).
    pub fn clock(mut self, clock: impl Clock, leeway: Duration) -> Self {
        self.clock = Arc::new(clock);
        self.leeway = i64::try_from(leeway.as_secs()).unwrap_or(i64::MAX);
        self
    }

    /// The key set this reads.
    pub fn keys(&self) -> &JwksCache {
        &self.keys
    }

    /// Introspects `token` at `client`'s introspection endpoint; `authorization` as for the
    /// other requests ([`Configured`](crate::ClientAuthorization::Configured) applies the
    /// client's [`ClientAuth`](crate::ClientAuth)).
    pub async fn introspect<'a>(
        &self,
        client: &OAuthClient,
        authorization: impl Into<crate::ClientAuthorization<'a>>,
        token: &str,
        token_type_hint: Option<&str>,
    ) -> Result<Introspection, OidcError> {
        let mut request = GrantRequest::to_endpoint(Endpoint::INTROSPECTION);
        let authorization = authorization.into();
        HeaderField::add_to(&authorization, "Authorization", &mut request);
        HeaderField::add_to(&TOKEN_INTROSPECTION_JWT, "Accept", &mut request);
        FormField::append_to(&token, "token", &mut request);
        FormField::append_to(&token_type_hint, "token_type_hint", &mut request);
        let jwt = transport::send_interpreted(client, request, response::interpret_jwt).await?;
        self.verify(&jwt).await.map_err(OidcError::IntrospectionResponse)
    }

    async fn verify(&self, jwt: &str) -> Result<Introspection, IdTokenError> {
        let signed = verify_signature::<Claims>(jwt, &self.algorithms, &self.keys, None).await?;
        if !signed.typ.as_deref().is_some_and(|typ| typ.eq_ignore_ascii_case("token-introspection+jwt")) {
            return Err(IdTokenError::WrongType { found: signed.typ });
        }
        let claims = signed.claims;
        if claims.iss != self.issuer {
            return Err(IdTokenError::WrongIssuer { expected: self.issuer.clone(), found: claims.iss });
        }
        let audiences: Vec<String> = match claims.aud {
            Value::String(one) => vec![one],
            Value::Array(many) => {
                many.into_iter().filter_map(|aud| aud.as_str().map(str::to_owned)).collect()
            }
            _ => Vec::new(),
        };
        if !audiences.contains(&self.client_id) {
            return Err(IdTokenError::WrongAudience { client_id: self.client_id.clone(), found: audiences });
        }
        let now = self.clock.now();
        match claims.iat {
            Some(iat) if iat > now.saturating_add(self.leeway) => {
                return Err(IdTokenError::IssuedInTheFuture { iat, now });
            }
            None => return Err(IdTokenError::Malformed("the answer has no `iat`".into())),
            Some(_) => {}
        }
        claims
            .token_introspection
            .ok_or_else(|| IdTokenError::Malformed("the answer has no `token_introspection`".into()))
    }
}
