//! A protected resource and its authorization server on one local port, as an MCP server
//! with a bundled authorization server answers: `POST /mcp` (401 with `resource_metadata` and
//! `scope` without a token), its RFC 9728 metadata, the authorization server's RFC 8414
//! metadata, registration (RFC 7591), an authorization endpoint that approves at once (302
//! back with `code`, `state` and `iss`), and a token endpoint. Every answer is fixed or
//! computed from the request alone, so that the server is never the bottleneck.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::TOKEN_JSON;

/// The running server; it lives until the process ends.
pub struct ProtectedResourceServer {
    origin: String,
    requests: Arc<AtomicUsize>,
}

impl ProtectedResourceServer {
    /// Starts the server on a free port of 127.0.0.1, as a task of `runtime`.
    pub fn start_on(runtime: &tokio::runtime::Handle) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.set_nonblocking(true).expect("a non-blocking socket");
        let origin = format!("http://{}", listener.local_addr().expect("an address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let answers = Arc::new(Answers::new(&origin));
        let counter = Arc::clone(&requests);
        runtime.spawn(async move {
            let listener = TcpListener::from_std(listener).expect("inside a runtime");
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let _ = stream.set_nodelay(true);
                let (answers, counter) = (Arc::clone(&answers), Arc::clone(&counter));
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        counter.fetch_add(1, Ordering::Relaxed);
                        let response = answers.answer(&request);
                        async move { Ok::<_, Infallible>(response) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        ProtectedResourceServer { origin, requests }
    }

    /// The protected resource's URL.
    pub fn resource_url(&self) -> String {
        format!("{}/mcp", self.origin)
    }

    /// Requests served so far, the user's authorization request included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

/// The fixed bodies, computed once.
struct Answers {
    issuer: String,
    challenge: String,
    resource_metadata: String,
    server_metadata: String,
}

impl Answers {
    fn new(origin: &str) -> Self {
        Answers {
            issuer: origin.to_owned(),
            challenge: format!(
                r#"Bearer resource_metadata="{origin}/.well-known/oauth-protected-resource/mcp", scope="mcp""#
            ),
            resource_metadata: serde_json::json!({
                "resource": format!("{origin}/mcp"),
                "authorization_servers": [origin],
                "scopes_supported": ["mcp"],
            })
            .to_string(),
            server_metadata: serde_json::json!({
                "issuer": origin,
                "authorization_endpoint": format!("{origin}/authorize"),
                "token_endpoint": format!("{origin}/token"),
                "registration_endpoint": format!("{origin}/register"),
                "code_challenge_methods_supported": ["S256"],
                "authorization_response_iss_parameter_supported": true,
                "scopes_supported": ["mcp"],
            })
            .to_string(),
        }
    }

    fn answer(&self, request: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let json = |status: StatusCode, body: &str| respond(status, "content-type", "application/json", body);
        match (request.method(), request.uri().path()) {
            (&Method::POST, "/mcp") if request.headers().contains_key("authorization") => {
                json(StatusCode::OK, r#"{"jsonrpc":"2.0","id":1,"result":{}}"#)
            }
            (&Method::POST, "/mcp") => {
                respond(StatusCode::UNAUTHORIZED, "www-authenticate", &self.challenge, "")
            }
            (&Method::GET, "/.well-known/oauth-protected-resource/mcp") => {
                json(StatusCode::OK, &self.resource_metadata)
            }
            (&Method::GET, "/.well-known/oauth-authorization-server") => {
                json(StatusCode::OK, &self.server_metadata)
            }
            (&Method::POST, "/register") => json(StatusCode::CREATED, r#"{"client_id":"bench-client"}"#),
            (&Method::GET, "/authorize") => {
                let query = request.uri().query().unwrap_or_default();
                let named = |wanted: &str| {
                    form_urlencoded::parse(query.as_bytes())
                        .find(|(name, _)| name == wanted)
                        .map(|(_, value)| value.into_owned())
                        .unwrap_or_default()
                };
                let back = form_urlencoded::Serializer::new(String::new())
                    .append_pair("code", "bench-code")
                    .append_pair("state", &named("state"))
                    .append_pair("iss", &self.issuer)
                    .finish();
                respond(StatusCode::FOUND, "location", &format!("{}?{back}", named("redirect_uri")), "")
            }
            (&Method::POST, "/token") => json(StatusCode::OK, TOKEN_JSON),
            _ => respond(StatusCode::NOT_FOUND, "content-type", "text/plain", ""),
        }
    }
}

fn respond(status: StatusCode, header: &str, value: &str, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header, value)
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("a valid response")
}
