//! A resource server on 127.0.0.1 (hyper) that checks each token by introspection (RFC 7662)
//! at a real provider, as a production API would, and answers as RFC 6750 §3 says; a
//! DPoP-bound token only with a valid proof of its key (RFC 9449 §7).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use oauth_client::OAuthClient;
use oauth_client::extensions::TokenIntrospection;
use tokio::net::TcpListener;

/// What the server saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Requests received.
    pub requests: AtomicUsize,
    /// Requests refused with `invalid_token`.
    pub invalid_token: AtomicUsize,
    /// Requests with a DPoP-bound token and a valid proof of its key.
    pub dpop_proofs: AtomicUsize,
}

/// The running server; it stops when dropped.
pub struct ResourceServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// What it saw so far.
    pub seen: Arc<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ResourceServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Checker {
    /// `http://127.0.0.1:<port>`, the URL DPoP proofs must name.
    url: String,
    introspector: OAuthClient,
    authorization: String,
    seen: Arc<Seen>,
    /// RFC 9728: the resource identifier and its authorization servers, when it publishes
    /// metadata; tokens must then be issued for it (`aud`).
    protected: Option<(String, Vec<String>)>,
}

impl ResourceServer {
    /// Serves `GET|POST /things` (any active token; a POST echoes its body) and `GET /admin`
    /// (a token with scope `admin`), checking tokens at `introspector` with the
    /// `authorization` header value of the resource server's own client.
    pub async fn start(introspector: OAuthClient, authorization: String) -> Self {
        Self::serve(introspector, authorization, None).await
    }

    /// The same server publishing its metadata (RFC 9728) at
    /// `/.well-known/oauth-protected-resource`: its resource identifier is `<url>/`, its
    /// tokens come from `authorization_servers`, its scopes are `api:read` and `admin`, and a
    /// `401` names the metadata in `WWW-Authenticate: Bearer resource_metadata="..."` (and,
    /// to a request without a token, `scope="api:read"`). Tokens must be for this resource.
    pub async fn start_protected(
        introspector: OAuthClient,
        authorization: String,
        authorization_servers: Vec<String>,
    ) -> Self {
        Self::serve(introspector, authorization, Some(authorization_servers)).await
    }

    async fn serve(introspector: OAuthClient, authorization: String, servers: Option<Vec<String>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a local port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Seen::default());
        let protected = servers.map(|servers| (format!("{url}/"), servers));
        let checker = Arc::new(Checker {
            url: url.clone(),
            introspector,
            authorization,
            seen: Arc::clone(&seen),
            protected,
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let checker = Arc::clone(&checker);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let checker = Arc::clone(&checker);
                        async move { Ok::<_, Infallible>(checker.answer(request).await) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        ResourceServer { url, seen, task }
    }
}

impl Checker {
    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        if let Some((resource, servers)) = &self.protected
            && request.uri().path() == "/.well-known/oauth-protected-resource"
        {
            let metadata = serde_json::json!({
                "resource": resource, "authorization_servers": servers, "scopes_supported": ["api:read", "admin"],
            });
            return respond(StatusCode::OK, metadata.to_string());
        }
        self.seen.requests.fetch_add(1, Ordering::SeqCst);
        let header = |name: &str| request.headers().get(name).and_then(|value| value.to_str().ok());
        let presented = header("authorization").and_then(|value| value.split_once(' '));
        let Some((scheme, token)) = presented.map(|(scheme, token)| (scheme.to_owned(), token.to_owned()))
        else {
            // The scope a first token needs (as MCP servers say it); /admin needs more.
            let first = if self.protected.is_some() { r#", scope="api:read""# } else { "" };
            return self.challenge(StatusCode::UNAUTHORIZED, first);
        };
        let info = match self.introspector.introspect_token(&self.authorization, &token, None, None).await {
            Ok(info) => info,
            Err(error) => return respond(StatusCode::BAD_GATEWAY, format!("introspection failed: {error}")),
        };
        let for_this_resource = self.protected.as_ref().is_none_or(|(resource, _)| match &info.aud {
            Some(serde_json::Value::String(aud)) => aud == resource,
            Some(serde_json::Value::Array(auds)) => auds.iter().any(|aud| aud == resource.as_str()),
            _ => false,
        });
        // RFC 9449 §7.1-7.2: a bound token only as `DPoP` with a proof of its key; an unbound
        // one only as `Bearer`.
        let bound_to = info.extra.get("cnf").and_then(|cnf| cnf["jkt"].as_str());
        let presentation = match (scheme.as_str(), bound_to) {
            ("Bearer", None) => Ok(()),
            ("DPoP", Some(jkt)) => {
                let url = format!("{}{}", self.url, request.uri().path());
                let proof = header("dpop").unwrap_or_default();
                verify_dpop_proof(proof, &token, jkt, request.method().as_str(), &url).map(|_| {
                    self.seen.dpop_proofs.fetch_add(1, Ordering::SeqCst);
                })
            }
            _ => Err("the token is presented with the wrong scheme"),
        };
        if !info.active || !for_this_resource || presentation.is_err() {
            self.seen.invalid_token.fetch_add(1, Ordering::SeqCst);
            return self.challenge(
                StatusCode::UNAUTHORIZED,
                r#", error="invalid_token", error_description="The access token is not active for this resource""#,
            );
        }
        let scopes = info.scope.unwrap_or_default();
        match request.uri().path() {
            "/admin" if !scopes.split(' ').any(|scope| scope == "admin") => {
                self.challenge(StatusCode::FORBIDDEN, r#", error="insufficient_scope", scope="admin""#)
            }
            "/admin" => respond(StatusCode::OK, "admin things".into()),
            "/things" => {
                let body =
                    request.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
                respond(StatusCode::OK, format!("things for {}", String::from_utf8_lossy(&body)))
            }
            _ => respond(StatusCode::NOT_FOUND, String::new()),
        }
    }
}

fn respond(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}

impl Checker {
    /// A `Bearer` challenge with `realm`, the metadata URL when published, then `rest`.
    fn challenge(&self, status: StatusCode, rest: &str) -> Response<Full<Bytes>> {
        let mut value = String::from(r#"Bearer realm="things""#);
        if let Some((resource, _)) = &self.protected {
            value.push_str(&format!(
                r#", resource_metadata="{resource}.well-known/oauth-protected-resource""#
            ));
        }
        value.push_str(rest);
        let mut response = respond(status, String::new());
        response
            .headers_mut()
            .insert("www-authenticate", hyper::header::HeaderValue::from_str(&value).unwrap());
        response
    }
}

/// Checks a DPoP proof (RFC 9449 §4.3) as a resource server must: a `dpop+jwt` signed by
/// the key in its header, that key's RFC 7638 thumbprint `jkt` (the token's `cnf.jkt`),
/// for `method` and `url`, with `ath` the hash of `token`. Returns its claims (for the
/// caller's `jti` and `nonce` checks) or why it is refused.
pub fn verify_dpop_proof(
    proof: &str,
    token: &str,
    jkt: &str,
    method: &str,
    url: &str,
) -> Result<serde_json::Value, &'static str> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let jose = jsonwebtoken::decode_header(proof).map_err(|_| "not a JWS")?;
    let jwk = jose.jwk.as_ref().ok_or("no jwk")?;
    if jose.typ.as_deref() != Some("dpop+jwt") {
        return Err("wrong typ");
    }
    if jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256).ok().as_deref() != Some(jkt) {
        return Err("the proof's key is not the token's cnf.jkt");
    }
    let mut validation = jsonwebtoken::Validation::new(jose.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|_| "an unusable jwk")?;
    let claims = jsonwebtoken::decode::<serde_json::Value>(proof, &key, &validation)
        .map(|data| data.claims)
        .map_err(|_| "bad signature")?;
    let expected_ath =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()));
    if claims["htm"] != method || claims["htu"] != url || claims["ath"] != expected_ath.as_str() {
        return Err("htm, htu or ath do not match");
    }
    Ok(claims)
}
