//! Requests to resource servers with the manager's token: Bearer, or DPoP-bound with a proof.

#[cfg(feature = "dpop")]
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::header::{AUTHORIZATION, HeaderValue};

use super::TokenManager;
use crate::Error;

impl TokenManager {
    /// Sends `request` to a resource server with a valid token.
    ///
    /// A Bearer token goes in `Authorization: Bearer`. A DPoP-bound token (`token_type:
    /// DPoP`, from a client with a DPoP key, cargo feature `dpop`) goes in
    /// `Authorization: DPoP`, with a `DPoP` proof for this request's method and URL and the
    /// token's hash (`ath`, RFC 9449 §7); a `401` whose `WWW-Authenticate` says
    /// `use_dpop_nonce` is answered once with the server's `DPoP-Nonce`, which is remembered
    /// for its origin. A request whose body cannot be cloned (a stream) is not sent again.
    ///
    /// ```no_run
    /// # async fn run(tokens: oauth_client::TokenManager) -> Result<(), oauth_client::Error> {
    /// let api = reqwest::Client::new();
    /// let response = tokens.send(api.get("https://api.example.com/things")).await?;
    /// # let _ = response;
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
        let token = self.token().await?;
        let (http, request) = request.build_split();
        let request =
            request.map_err(|error| Error::Config(format!("the resource request is not valid: {error}")))?;
        let access_token = token.access_token.secret();
        #[cfg(feature = "dpop")]
        if token.token_type.eq_ignore_ascii_case("DPoP")
            && let Some(dpop) = self.inner.client.config().dpop.as_deref()
        {
            let mut answered = false;
            let mut attempt = request;
            loop {
                // A copy for one answer to a nonce challenge, when the body can be copied.
                let spare = if answered { None } else { attempt.try_clone() };
                attach_dpop(dpop, &mut attempt, access_token, self.inner.clock.now())?;
                let url = attempt.url().clone();
                let response = http.execute(attempt).await.map_err(Error::transport)?;
                dpop.remember_nonce(&url, response.headers());
                if let Some(spare) = spare
                    && is_nonce_challenge(&response)
                {
                    attempt = spare;
                    answered = true;
                    continue;
                }
                return Ok(response);
            }
        }
        let mut request = request;
        set_sensitive(&mut request, AUTHORIZATION, &format!("Bearer {access_token}"))?;
        http.execute(request).await.map_err(Error::transport)
    }
}

/// `Authorization: DPoP <token>` and a proof for `request`'s method and URL, with the token's
/// hash and the server's last nonce (RFC 9449 §7).
#[cfg(feature = "dpop")]
pub(super) fn attach_dpop(
    dpop: &crate::dpop::Dpop,
    request: &mut reqwest::Request,
    access_token: &str,
    now: i64,
) -> Result<(), Error> {
    let nonce = dpop.nonce_for(request.url());
    let proof = dpop.key.proof(
        request.method().as_str(),
        request.url(),
        now,
        nonce.as_deref(),
        Some(access_token),
    )?;
    set_sensitive(request, AUTHORIZATION, &format!("DPoP {access_token}"))?;
    set_sensitive(request, crate::dpop::DPOP, &proof)
}

/// A resource server's `use_dpop_nonce` challenge (RFC 9449 §9): 401, a `DPoP-Nonce`, and
/// `WWW-Authenticate: DPoP error="use_dpop_nonce"`.
#[cfg(feature = "dpop")]
fn is_nonce_challenge(response: &reqwest::Response) -> bool {
    response.status() == reqwest::StatusCode::UNAUTHORIZED
        && response.headers().contains_key(crate::dpop::DPOP_NONCE)
        && response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .any(|value| value.to_str().is_ok_and(|value| value.contains("use_dpop_nonce")))
}

fn set_sensitive(
    request: &mut reqwest::Request,
    name: reqwest::header::HeaderName,
    value: &str,
) -> Result<(), Error> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| Error::Config("a token is not a valid header value".into()))?;
    value.set_sensitive(true);
    request.headers_mut().insert(name, value);
    Ok(())
}
