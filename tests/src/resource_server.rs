//! A resource server on 127.0.0.1 (hyper) that checks each Bearer token by introspection
//! (RFC 7662) at a real provider, as a production API would, and answers as RFC 6750 §3 says.

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
    /// tokens come from `authorization_servers`, and a `401` names the metadata in
    /// `WWW-Authenticate: Bearer resource_metadata="..."`. Tokens must be for this resource.
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
        let checker = Arc::new(Checker { introspector, authorization, seen: Arc::clone(&seen), protected });
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
            let metadata = serde_json::json!({"resource": resource, "authorization_servers": servers});
            return respond(StatusCode::OK, metadata.to_string());
        }
        self.seen.requests.fetch_add(1, Ordering::SeqCst);
        let token = request
            .headers()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::to_owned);
        let Some(token) = token else {
            return self.challenge(StatusCode::UNAUTHORIZED, "");
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
        if !info.active || !for_this_resource {
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
