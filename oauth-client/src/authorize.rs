//! The authorization request (RFC 6749 §4.1.1) with `state` and PKCE (RFC 7636), and the
//! reading of the redirect the browser comes back with (§4.1.2).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Url;
use sha2::{Digest, Sha256};

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
/// use oauth_client::{AuthorizationRequest, BasicAuth, OAuthAuthorization, OAuthClient};
///
/// # async fn run(client: OAuthClient, auth: String, redirect_from_browser: &str) -> Result<(), oauth_client::Error> {
/// let pending = AuthorizationRequest::new("https://auth.example.com/authorize", "my-client")
///     .redirect_uri("https://app.example/callback")
///     .scope("openid profile")
///     .build()?;
/// println!("open {}", pending.url());
///
/// // ... the browser comes back to https://app.example/callback?code=...&state=...
/// let code = pending.code_from_redirect(redirect_from_browser)?;
/// let token = client
///     .request_token_acg(&auth, &code, "https://app.example/callback", Some(&pending.token_params()))
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
        }
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

    /// Leaves out PKCE, for providers that reject `code_challenge`. PKCE is recommended for
    /// every client (RFC 9700 §2.1.1); turn it off only when the provider needs it.
    pub fn without_pkce(mut self) -> Self {
        self.pkce = false;
        self
    }

    /// Allows a plain `http` authorization URL on a host other than loopback (see
    /// [`OAuthClientBuilder::allow_insecure_http`](crate::OAuthClientBuilder::allow_insecure_http)).
    pub fn allow_insecure_http(mut self) -> Self {
        self.allow_insecure_http = true;
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
    /// or when a given `state` is shorter than [`MIN_STATE_CHARS`](Self::MIN_STATE_CHARS).
    pub fn build(self) -> Result<PendingAuthorization, Error> {
        let mut url =
            crate::endpoint_url::parse("authorization URL", &self.authorize_url, self.allow_insecure_http)?;
        let state = match self.state {
            Some(state) if state.chars().count() < Self::MIN_STATE_CHARS => {
                return Err(Error::Config(format!(
                    "the authorization request's `state` has {} characters; it protects the redirect \
                     from CSRF and must have at least {}: leave it out for a random one",
                    state.chars().count(),
                    Self::MIN_STATE_CHARS
                )));
            }
            Some(state) => state,
            None => URL_SAFE_NO_PAD.encode(random_bytes::<16>()?),
        };
        let verifier = if self.pkce { Some(PkceVerifier::generate()?) } else { None };
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("response_type", "code").append_pair("client_id", &self.client_id);
            if let Some(redirect_uri) = &self.redirect_uri {
                query.append_pair("redirect_uri", redirect_uri);
            }
            if let Some(scope) = &self.scope {
                query.append_pair("scope", scope);
            }
            query.append_pair("state", &state);
            if let Some(verifier) = &verifier {
                query
                    .append_pair("code_challenge", &verifier.s256_challenge())
                    .append_pair("code_challenge_method", "S256");
            }
            query.extend_pairs(self.extra.iter());
        }
        Ok(PendingAuthorization { url, state, verifier })
    }
}

/// An authorization request on its way: the URL to open, and what is needed to check and
/// use the redirect that comes back.
#[derive(Clone, Debug)]
pub struct PendingAuthorization {
    url: Url,
    state: String,
    verifier: Option<PkceVerifier>,
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

    /// The PKCE verifier, if PKCE is on.
    pub fn pkce_verifier(&self) -> Option<&PkceVerifier> {
        self.verifier.as_ref()
    }

    /// The fields to send with [`request_token_acg`](crate::OAuthAuthorization::request_token_acg)
    /// as `additional`: `code_verifier` when PKCE is on, else none.
    pub fn token_params(&self) -> FormParams {
        let mut params = FormParams::new();
        if let Some(verifier) = &self.verifier {
            params.push("code_verifier", verifier.secret());
        }
        params
    }

    /// Reads the URL the browser was redirected to: checks `state` (in constant time) and
    /// returns the authorization code, or the provider's error (RFC 6749 §4.1.2.1).
    pub fn code_from_redirect(&self, redirect_url: &str) -> Result<String, Error> {
        let url = Url::parse(redirect_url).map_err(|_| Error::Redirect(RedirectError::InvalidUrl))?;
        let mut code = None;
        let mut state = None;
        let mut error = None;
        let mut description = None;
        let mut uri = None;
        for (name, value) in url.query_pairs() {
            let slot = match name.as_ref() {
                "code" => &mut code,
                "state" => &mut state,
                "error" => &mut error,
                "error_description" => &mut description,
                "error_uri" => &mut uri,
                _ => continue,
            };
            if slot.is_some() {
                return Err(Error::Redirect(RedirectError::DuplicateParameter(name.into_owned())));
            }
            *slot = Some(value.into_owned());
        }
        // The state is checked first: an error redirect with a forged state is not ours.
        match state {
            Some(state) if constant_time_eq(state.as_bytes(), self.state.as_bytes()) => {}
            Some(_) => return Err(Error::Redirect(RedirectError::StateMismatch)),
            None => return Err(Error::Redirect(RedirectError::MissingState)),
        }
        if let Some(error) = error {
            return Err(Error::Redirect(RedirectError::Provider(OAuthProviderError {
                error: error.into(),
                error_description: description,
                error_uri: uri,
            })));
        }
        code.filter(|code| !code.is_empty()).ok_or(Error::Redirect(RedirectError::MissingCode))
    }
}

/// Compares without an early exit, so the time taken does not tell how much of a guessed
/// `state` was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|error| Error::Config(format!("the system's random number generator failed: {error}")))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests;
