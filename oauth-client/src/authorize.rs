//! The authorization request (RFC 6749 §4.1.1) with `state` and PKCE (RFC 7636), and the
//! reading of the redirect the browser comes back with (§4.1.2).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Url;
use sha2::{Digest, Sha256};

use crate::client_auth::ClientAuth;
use crate::error::Setting;
use crate::error::{Error, RedirectError};
use crate::form::FormParams;
use crate::provider_error::OAuthProviderError;
use crate::secret::PkceVerifier;

impl PkceVerifier {
    /// A fresh verifier: 32 random bytes, base64url-encoded (43 characters, 256 bits).
    pub fn generate() -> Result<Self, Error> {
        Ok(PkceVerifier::new(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
    }

    /// The `S256` challenge: `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2).
    pub fn s256_challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.secret().as_bytes()))
    }
}

/// Builds the URL that sends the user's browser to the provider's authorization endpoint.
///
/// By default it adds a random `state` (128 bits) and a PKCE `S256` challenge; keep the
/// returned [`PendingAuthorization`] until the browser comes back.
///
/// ```
/// use oauth_client::{AuthorizationRequest, ClientAuthorization::Configured, OAuthAuthorization, OAuthClient};
///
/// # async fn run(client: OAuthClient, redirect_from_browser: &str) -> Result<(), oauth_client::Error> {
/// let pending = AuthorizationRequest::new("https://auth.example.com/authorize", "my-client")
///     .redirect_uri("https://app.example/callback")
///     .scope("openid profile")
///     .build()?;
/// println!("open {}", pending.url());
///
/// // ... the browser comes back to https://app.example/callback?code=...&state=...
/// let code = pending.code_from_redirect(redirect_from_browser)?;
/// let token = client
///     .request_token_acg(Configured, &code, "https://app.example/callback", Some(&pending.token_params()))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct AuthorizationRequest {
    authorize_url: String,
    client_id: String,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    pkce: bool,
    allow_insecure_http: bool,
    extra: FormParams,
    resources: Vec<String>,
    authorization_details: Option<Result<serde_json::Value, String>>,
    dpop_jkt: Option<String>,
    nonce: Option<String>,
    max_age: Option<u64>,
    issuer: Option<String>,
    require_issuer: bool,
    require_pushed: bool,
    #[cfg(feature = "jwt")]
    request_object_key: Option<crate::extensions::SigningKey>,
}

impl AuthorizationRequest {
    /// A request to the authorization endpoint at `authorize_url` for `client_id`.
    pub fn new(authorize_url: impl Into<String>, client_id: impl Into<String>) -> Self {
        AuthorizationRequest {
            authorize_url: authorize_url.into(),
            client_id: client_id.into(),
            redirect_uri: None,
            scope: None,
            state: None,
            pkce: true,
            allow_insecure_http: false,
            extra: FormParams::new(),
            resources: Vec::new(),
            authorization_details: None,
            dpop_jkt: None,
            nonce: None,
            max_age: None,
            issuer: None,
            require_issuer: false,
            require_pushed: false,
            #[cfg(feature = "jwt")]
            request_object_key: None,
        }
    }

    /// A request to `client`'s authorization endpoint for `client_id`, following what the
    /// provider's metadata says (from [`OAuthClient::discover`](crate::OAuthClient::discover)):
    /// the redirect's `iss` is checked against the client's issuer (RFC 9207) and required
    /// when the metadata says `authorization_response_iss_parameter_supported`, and
    /// [`build`](Self::build) refuses to skip PAR when it says
    /// `require_pushed_authorization_requests`. A client with a DPoP key binds the code to it
    /// (`dpop_jkt`, RFC 9449 §10), as its token request will be bound.
    pub fn for_client(client: &crate::OAuthClient, client_id: impl Into<String>) -> Result<Self, Error> {
        let authorize_url = client.authorization_url().ok_or_else(|| {
            Error::config(
                Setting::Endpoint,
                "the client has no authorization endpoint; set it with `OAuthClient::builder(..).authorization_url(..)` or discover it",
            )
        })?;
        let mut request = Self::new(authorize_url.as_str(), client_id);
        request.issuer = client.issuer().map(str::to_owned);
        if let Some(metadata) = client.provider_metadata() {
            request.require_issuer = metadata.sends_issuer_in_authorization_response();
            request.require_pushed = metadata.requires_pushed_authorization_requests();
        }
        // The client's own policy already vetted this URL.
        request.allow_insecure_http = authorize_url.scheme() == "http";
        #[cfg(feature = "dpop")]
        if let Some(key) = client.dpop_key() {
            request.dpop_jkt = Some(key.thumbprint().to_owned());
        }
        Ok(request)
    }

    /// Asks for a token for this resource (RFC 8707 `resource`, an absolute URI); repeat for
    /// several. The token request of [`PendingAuthorization::token_params`] names them too.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }

    /// Rich authorization request (RFC 9396): `authorization_details`, a JSON array of typed
    /// objects, from any serializable value of yours.
    ///
    /// ```
    /// use oauth_client::AuthorizationRequest;
    ///
    /// #[derive(serde::Serialize)]
    /// struct Payment { r#type: &'static str, instructed_amount: Amount }
    /// #[derive(serde::Serialize)]
    /// struct Amount { currency: &'static str, amount: &'static str }
    ///
    /// let details = [Payment { r#type: "payment_initiation", instructed_amount: Amount { currency: "EUR", amount: "123.50" } }];
    /// let pending = AuthorizationRequest::new("https://auth.example.com/authorize", "app")
    ///     .authorization_details(&details)
    ///     .build()?;
    /// let sent: Vec<_> = pending.url().query_pairs().filter(|(name, _)| name == "authorization_details").collect();
    /// let sent: serde_json::Value = serde_json::from_str(&sent[0].1).unwrap();
    /// assert_eq!(sent[0]["type"], "payment_initiation");
    /// # Ok::<(), oauth_client::Error>(())
    /// ```
    pub fn authorization_details(mut self, details: &impl serde::Serialize) -> Self {
        self.authorization_details = Some(serde_json::to_value(details).map_err(|error| error.to_string()));
        self
    }

    /// Binds the authorization code to a DPoP key (RFC 9449 §10): `dpop_jkt`, the key's
    /// thumbprint (`DpopKey::thumbprint`). The code can then only be redeemed with proofs of
    /// that key.
    pub fn dpop_jkt(mut self, thumbprint: impl Into<String>) -> Self {
        self.dpop_jkt = Some(thumbprint.into());
        self
    }

    /// The authorization server's issuer identifier: a redirect whose `iss` differs is
    /// refused (RFC 9207, mix-up defence). [`for_client`](Self::for_client) sets it.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Whether a redirect without `iss` is refused (for a provider that always sends it,
    /// RFC 9207 §2.4). Default: `false`.
    pub fn require_issuer(mut self, require: bool) -> Self {
        self.require_issuer = require;
        self
    }

    /// Sends the request as a signed request object (JAR, RFC 9101): the parameters go in a
    /// JWT (`typ: oauth-authz-req+jwt`, `iss` the client, `aud` the issuer) signed with `key`,
    /// and the URL (or the pushed request) carries only `client_id` and `request`. Feature
    /// `jwt`.
    #[cfg(feature = "jwt")]
    pub fn signed(mut self, key: crate::extensions::SigningKey) -> Self {
        self.request_object_key = Some(key);
        self
    }

    /// Where the provider sends the browser back (`redirect_uri`).
    pub fn redirect_uri(mut self, redirect_uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(redirect_uri.into());
        self
    }

    /// The requested scope, space-delimited (`scope`).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Uses this `state` instead of a random one (e.g. one that also encodes where the user
    /// was going). It must be unguessable: it is what protects the redirect from CSRF.
    /// [`build`](Self::build) refuses one shorter than
    /// [`MIN_STATE_CHARS`](Self::MIN_STATE_CHARS).
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Whether the request carries PKCE (RFC 7636). Default: `true`. PKCE is recommended for
    /// every client (RFC 9700 §2.1.1); turn it off only for a provider that rejects
    /// `code_challenge`.
    pub fn pkce(mut self, enabled: bool) -> Self {
        self.pkce = enabled;
        self
    }

    /// Whether a plain `http` authorization URL on a host other than loopback is allowed (see
    /// [`OAuthClientBuilder::allow_insecure_http`](crate::OAuthClientBuilder::allow_insecure_http)).
    /// Default: `false`.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The OpenID Connect `nonce` the ID token must carry back (OIDC Core §3.1.2.1). Without
    /// it, a request whose scope holds `openid` gets a random one (128 bits); read it from
    /// [`PendingAuthorization::nonce`], which the ID token check uses.
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// `max_age` (OIDC Core §3.1.2.1): the user must have logged in at most this many seconds
    /// ago; the ID token check then requires `auth_time` and enforces it.
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// Adds a query parameter (e.g. `prompt`, `login_hint`, `audience`), after the standard ones.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push(name, value);
        self
    }

    /// The shortest `state` accepted from [`state`](Self::state): 16 characters. A shorter
    /// one is guessable, and an empty one matches a redirect that carries `state=`.
    pub const MIN_STATE_CHARS: usize = 16;

    /// Generates `state` and the PKCE verifier and builds the URL.
    ///
    /// Fails with [`Error::Config`] when the authorization URL is not valid, uses plain
    /// `http` on a host other than loopback without
    /// [`allow_insecure_http`](Self::allow_insecure_http), or another scheme than `https`,
    /// when a given `state` is shorter than [`MIN_STATE_CHARS`](Self::MIN_STATE_CHARS), or
    /// when the provider requires pushed requests ([`push`](Self::push) then).
    pub fn build(self) -> Result<PendingAuthorization, Error> {
        if self.require_pushed {
            return Err(Error::config(
                Setting::AuthorizationRequest,
                "the provider requires pushed authorization requests (require_pushed_authorization_requests): \
                 use `AuthorizationRequest::push(&client)`",
            ));
        }
        let prepared = self.prepare()?;
        let mut url = prepared.url.clone();
        url.query_pairs_mut().extend_pairs(prepared.outgoing_parameters()?);
        Ok(prepared.pending(url))
    }

    /// Pushes the request to the provider's PAR endpoint (RFC 9126) with `client`'s
    /// authentication (and DPoP proof, if it has a key), and returns the URL that carries only
    /// `client_id` and the `request_uri` the provider gave. The parameters never pass through
    /// the browser.
    pub async fn push(self, client: &crate::OAuthClient) -> Result<PendingAuthorization, Error> {
        use crate::extensions::PushedAuthorization as _;
        let prepared = self.prepare()?;
        let client_id_in_auth = client.client_auth().is_some_and(ClientAuth::sends_client_id);
        let mut form = FormParams::new();
        for (name, value) in prepared.outgoing_parameters()? {
            // The client authentication sends `client_id` itself: a repeated one is refused.
            if !(name == "client_id" && client_id_in_auth) {
                form.push(name, value);
            }
        }
        let pushed = client.push_authorization_request(&form).await?;
        let mut url = prepared.url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &prepared.client_id)
            .append_pair("request_uri", &pushed.request_uri);
        Ok(prepared.pending(url))
    }

    /// Checks the request and generates what it needs: `state`, the PKCE verifier.
    fn prepare(self) -> Result<Prepared, Error> {
        let url =
            crate::endpoint_url::parse("authorization URL", &self.authorize_url, self.allow_insecure_http)?;
        let state = match self.state {
            Some(state) if state.chars().count() < Self::MIN_STATE_CHARS => {
                return Err(Error::config(
                    Setting::AuthorizationRequest,
                    format!(
                        "the authorization request's `state` has {} characters; it protects the redirect \
                     from CSRF and must have at least {}: leave it out for a random one",
                        state.chars().count(),
                        Self::MIN_STATE_CHARS
                    ),
                ));
            }
            Some(state) => state,
            None => URL_SAFE_NO_PAD.encode(random_bytes::<16>()?),
        };
        let authorization_details = self.authorization_details.transpose().map_err(|error| {
            Error::config(
                Setting::AuthorizationRequest,
                format!("the authorization_details do not serialize: {error}"),
            )
        })?;
        let verifier = if self.pkce { Some(PkceVerifier::generate()?) } else { None };
        let openid =
            self.scope.as_deref().is_some_and(|scope| scope.split(' ').any(|scope| scope == "openid"));
        let nonce = match (self.nonce, self.extra.iter().find(|(name, _)| *name == "nonce")) {
            (Some(nonce), _) => Some(nonce),
            // Given as a plain parameter: it is sent from there, and checked all the same.
            (None, Some((_, given))) => Some(given.to_owned()),
            (None, None) if openid => Some(URL_SAFE_NO_PAD.encode(random_bytes::<16>()?)),
            (None, None) => None,
        };
        let nonce_in_extra = self.extra.iter().any(|(name, _)| name == "nonce");
        let mut parameters = vec![
            ("response_type".to_owned(), "code".to_owned()),
            ("client_id".to_owned(), self.client_id.clone()),
        ];
        let mut add = |name: &str, value: &str| parameters.push((name.to_owned(), value.to_owned()));
        if let Some(redirect_uri) = &self.redirect_uri {
            add("redirect_uri", redirect_uri);
        }
        if let Some(scope) = &self.scope {
            add("scope", scope);
        }
        add("state", &state);
        if let Some(verifier) = &verifier {
            add("code_challenge", &verifier.s256_challenge());
            add("code_challenge_method", "S256");
        }
        for resource in &self.resources {
            add("resource", resource);
        }
        if let Some(details) = &authorization_details {
            add("authorization_details", &details.to_string());
        }
        if let Some(jkt) = &self.dpop_jkt {
            add("dpop_jkt", jkt);
        }
        if let Some(nonce) = nonce.as_deref().filter(|_| !nonce_in_extra) {
            add("nonce", nonce);
        }
        if let Some(max_age) = self.max_age {
            add("max_age", &max_age.to_string());
        }
        for (name, value) in self.extra.iter() {
            add(name, value);
        }
        Ok(Prepared {
            url,
            client_id: self.client_id,
            state,
            verifier,
            nonce,
            max_age: self.max_age,
            parameters,
            resources: self.resources,
            issuer: self.issuer,
            require_issuer: self.require_issuer,
            #[cfg(feature = "jwt")]
            request_object_key: self.request_object_key,
        })
    }
}

/// An authorization request with everything generated, before it goes out.
struct Prepared {
    url: Url,
    client_id: String,
    state: String,
    verifier: Option<PkceVerifier>,
    nonce: Option<String>,
    max_age: Option<u64>,
    /// The authorization parameters, in order.
    parameters: Vec<(String, String)>,
    resources: Vec<String>,
    issuer: Option<String>,
    require_issuer: bool,
    #[cfg(feature = "jwt")]
    request_object_key: Option<crate::extensions::SigningKey>,
}

impl Prepared {
    /// What the request carries, in the URL or pushed: the parameters, or `client_id` and
    /// the signed request object (JAR).
    fn outgoing_parameters(&self) -> Result<Vec<(String, String)>, Error> {
        #[cfg(feature = "jwt")]
        if let Some(key) = &self.request_object_key {
            let object = self.request_object(key)?;
            return Ok(vec![
                ("client_id".to_owned(), self.client_id.clone()),
                ("request".to_owned(), object),
            ]);
        }
        Ok(self.parameters.clone())
    }

    /// The parameters as a signed request object (RFC 9101 §4): each one a claim
    /// (`resource` an array when repeated, `authorization_details` as JSON), plus `iss`,
    /// `aud`, `iat`, `nbf`, `exp` and `jti`.
    #[cfg(feature = "jwt")]
    fn request_object(&self, key: &crate::extensions::SigningKey) -> Result<String, Error> {
        use serde_json::{Map, Value};
        let mut claims = Map::new();
        for (name, value) in &self.parameters {
            let value = match name.as_str() {
                "authorization_details" => {
                    serde_json::from_str(value).unwrap_or(Value::String(value.clone()))
                }
                _ => Value::String(value.clone()),
            };
            match claims.get_mut(name) {
                Some(Value::Array(values)) => values.push(value),
                Some(first) => *first = Value::Array(vec![first.take(), value]),
                None => {
                    claims.insert(name.clone(), value);
                }
            }
        }
        let now = crate::Clock::now(&crate::SystemClock);
        let audience = self.issuer.clone().unwrap_or_else(|| self.url.origin().ascii_serialization());
        claims.insert("iss".into(), Value::String(self.client_id.clone()));
        claims.insert("aud".into(), Value::String(audience));
        claims.insert("iat".into(), now.into());
        claims.insert("nbf".into(), now.into());
        claims.insert("exp".into(), now.saturating_add(300).into());
        claims.insert("jti".into(), Value::String(URL_SAFE_NO_PAD.encode(random_bytes::<16>()?)));
        key.sign_object("oauth-authz-req+jwt", &claims)
    }

    fn pending(self, url: Url) -> PendingAuthorization {
        PendingAuthorization {
            url,
            state: self.state,
            verifier: self.verifier,
            nonce: self.nonce,
            max_age: self.max_age,
            resources: self.resources,
            issuer: self.issuer,
            require_issuer: self.require_issuer,
        }
    }
}

/// An authorization request on its way: the URL to open, and what is needed to check and
/// use the redirect that comes back.
#[derive(Clone, Debug)]
pub struct PendingAuthorization {
    url: Url,
    state: String,
    verifier: Option<PkceVerifier>,
    nonce: Option<String>,
    max_age: Option<u64>,
    resources: Vec<String>,
    issuer: Option<String>,
    require_issuer: bool,
}

impl PendingAuthorization {
    /// The URL to send the user's browser to.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `state` sent with the request.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The OpenID Connect `nonce` sent (generated for an `openid` scope), which the ID token
    /// must carry back.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// The `max_age` sent, if any.
    pub fn max_age(&self) -> Option<u64> {
        self.max_age
    }

    /// The PKCE verifier, if PKCE is on.
    pub fn pkce_verifier(&self) -> Option<&PkceVerifier> {
        self.verifier.as_ref()
    }

    /// The fields to send with [`request_token_acg`](crate::OAuthAuthorization::request_token_acg)
    /// as `additional`: `code_verifier` when PKCE is on, and the requested `resource`s.
    pub fn token_params(&self) -> FormParams {
        let mut params = FormParams::new();
        if let Some(verifier) = &self.verifier {
            params.push("code_verifier", verifier.secret());
        }
        for resource in &self.resources {
            params.push("resource", resource.as_str());
        }
        params
    }

    /// Reads the URL the browser was redirected to: checks `state` (in constant time) and
    /// the issuer (RFC 9207: an `iss` other than the expected issuer, or none when the
    /// provider always sends one, is a mix-up and refused), and returns the authorization
    /// code, or the provider's error (RFC 6749 §4.1.2.1).
    pub fn code_from_redirect(&self, redirect_url: &str) -> Result<String, RedirectError> {
        let url = Url::parse(redirect_url).map_err(|_| RedirectError::InvalidUrl)?;
        let mut code = None;
        let mut state = None;
        let mut error = None;
        let mut description = None;
        let mut uri = None;
        let mut issuer = None;
        for (name, value) in url.query_pairs() {
            let slot = match name.as_ref() {
                "code" => &mut code,
                "state" => &mut state,
                "iss" => &mut issuer,
                "error" => &mut error,
                "error_description" => &mut description,
                "error_uri" => &mut uri,
                _ => continue,
            };
            if slot.is_some() {
                return Err(RedirectError::DuplicateParameter(name.into_owned()));
            }
            *slot = Some(value.into_owned());
        }
        // The state is checked first: an error redirect with a forged state is not ours.
        match state {
            Some(state) if constant_time_eq(state.as_bytes(), self.state.as_bytes()) => {}
            Some(_) => return Err(RedirectError::StateMismatch),
            None => return Err(RedirectError::MissingState),
        }
        match (issuer, &self.issuer) {
            (Some(found), Some(expected)) if found != *expected => {
                return Err(RedirectError::IssuerMismatch { expected: expected.clone(), found });
            }
            (None, _) if self.require_issuer => return Err(RedirectError::MissingIssuer),
            _ => {}
        }
        if let Some(error) = error {
            return Err(RedirectError::Provider(Box::new(OAuthProviderError {
                error: error.into(),
                error_description: description,
                error_uri: uri,
            })));
        }
        code.filter(|code| !code.is_empty()).ok_or(RedirectError::MissingCode)
    }
}

/// Compares without an early exit, so the time taken does not tell how much of a guessed
/// `state` was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(Error::Random)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests;
