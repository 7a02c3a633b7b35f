//! Support for the examples: a small stand-in OAuth 2.0 provider on 127.0.0.1, so every
//! example runs without an account anywhere.
//!
//! The stand-in speaks just enough HTTP/1.1 (keep-alive, `Content-Length` bodies) and just
//! enough RFC 6749 for the five standard grants (and the SAML 2.0 bearer grant of RFC 7522, for
//! the custom-grant example): it checks the client's Basic credentials,
//! issues opaque tokens, rotates refresh tokens, accepts each authorization code once, and
//! answers RFC 6749 §5.2 errors otherwise. It is not a server to deploy.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The credentials the stand-in accepts.
pub const CLIENT_ID: &str = "quickstart-client";
/// The stand-in's client secret.
pub const CLIENT_SECRET: &str = "quickstart-secret";
/// The resource owner the password grant accepts.
pub const USERNAME: &str = "alice";
/// Alice's password.
pub const PASSWORD: &str = "wonderland";
/// The SAML 2.0 bearer assertion grant type (RFC 7522), which the stand-in also accepts.
pub const SAML2_BEARER: &str = "urn:ietf:params:oauth:grant-type:saml2-bearer";
/// Lifetime of the access tokens the stand-in issues, in seconds.
pub const EXPIRES_IN: u64 = 3600;

/// A running stand-in provider. Stops when dropped.
pub struct StandInProvider {
    address: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct State {
    token_requests: AtomicUsize,
    issued: AtomicUsize,
    codes: Mutex<HashSet<String>>,
    refresh_tokens: Mutex<HashSet<String>>,
}

impl StandInProvider {
    /// Starts the provider on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let state = Arc::new(State::default());
        let accept_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve_connection(socket, Arc::clone(&accept_state)));
            }
        });
        Ok(StandInProvider { address, state, task })
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> String {
        format!("http://{}/oauth2/token", self.address)
    }

    /// The authorization endpoint's URL. It consents at once and redirects with a code.
    pub fn authorize_url(&self) -> String {
        format!("http://{}/oauth2/authorize", self.address)
    }

    /// Issues an authorization code, as the authorize step would after the user consents.
    pub fn issue_code(&self) -> String {
        let code = format!("code-{}", self.state.issued.fetch_add(1, Ordering::Relaxed));
        self.state.codes.lock().expect("not poisoned").insert(code.clone());
        code
    }

    /// How many requests reached the token endpoint so far.
    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::Relaxed)
    }
}

impl Drop for StandInProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_connection(socket: TcpStream, state: Arc<State>) {
    let mut socket = BufReader::new(socket);
    while let Ok(Some(request)) = read_request(&mut socket).await {
        let response = if request.method == "POST" && request.path == "/oauth2/token" {
            state.token_requests.fetch_add(1, Ordering::Relaxed);
            let (status, body) = token_endpoint(&state, &request);
            json_response(status, &body)
        } else if request.method == "GET" && request.path.starts_with("/oauth2/authorize?") {
            authorize_endpoint(&state, &request.path)
        } else {
            json_response(404, &json!({"error": "not_found"}))
        };
        if socket.get_mut().write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn json_response(status: u16, body: &Value) -> String {
    let body = body.to_string();
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncache-control: no-store\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Consents at once (there is no user to ask) and redirects back with a code and the state.
fn authorize_endpoint(state: &State, path_and_query: &str) -> String {
    let query = path_and_query.split_once('?').map_or("", |(_, query)| query);
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let param = |name: &str| params.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    let Some(redirect_uri) = param("redirect_uri") else {
        return json_response(
            400,
            &json!({"error": "invalid_request", "error_description": "missing redirect_uri"}),
        );
    };
    let code = format!("code-{}", state.issued.fetch_add(1, Ordering::Relaxed));
    state.codes.lock().expect("not poisoned").insert(code.clone());
    let mut back = form_urlencoded::Serializer::new(String::new());
    back.append_pair("code", &code);
    if let Some(state) = param("state") {
        back.append_pair("state", &state);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    format!(
        "HTTP/1.1 302 Found\r\nlocation: {redirect_uri}{separator}{}\r\ncontent-length: 0\r\n\r\n",
        back.finish()
    )
}

struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Vec<u8>,
}

/// Reads one request; `None` when the peer closed the connection.
async fn read_request(socket: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if socket.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let (mut length, mut authorization) = (0usize, None);
    loop {
        line.clear();
        if socket.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length.min(64 * 1024)];
    socket.read_exact(&mut body).await?;
    Ok(Some(Request { method, path, authorization, body }))
}

fn error(status: u16, code: &str, description: &str) -> (u16, Value) {
    (status, json!({"error": code, "error_description": description}))
}

fn token_endpoint(state: &State, request: &Request) -> (u16, Value) {
    if !client_authenticated(request.authorization.as_deref()) {
        return error(401, "invalid_client", "unknown client or wrong secret");
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    let scope = field("scope").unwrap_or("read");
    match field("grant_type") {
        Some("client_credentials") => (200, issue(state, scope, false)),
        Some("password") => match (field("username"), field("password")) {
            (Some(USERNAME), Some(PASSWORD)) => (200, issue(state, scope, true)),
            _ => error(400, "invalid_grant", "wrong username or password"),
        },
        Some("authorization_code") => {
            let redeemed =
                field("code").is_some_and(|code| state.codes.lock().expect("not poisoned").remove(code));
            match (redeemed, field("redirect_uri")) {
                (true, Some(_)) => (200, issue(state, scope, true)),
                (true, None) => error(400, "invalid_request", "missing redirect_uri"),
                (false, _) => error(400, "invalid_grant", "unknown or already used code"),
            }
        }
        Some("refresh_token") => {
            let known = field("refresh_token")
                .is_some_and(|token| state.refresh_tokens.lock().expect("not poisoned").remove(token));
            if known {
                (200, issue(state, scope, true))
            } else {
                error(400, "invalid_grant", "unknown or rotated refresh token")
            }
        }
        Some(SAML2_BEARER) => match field("assertion") {
            Some(assertion) if !assertion.is_empty() => (200, issue(state, scope, false)),
            _ => error(400, "invalid_request", "missing assertion"),
        },
        Some(_) => error(
            400,
            "unsupported_grant_type",
            "this stand-in knows the RFC 6749 grants and SAML 2.0 bearer only",
        ),
        None => error(400, "invalid_request", "missing grant_type"),
    }
}

fn client_authenticated(authorization: Option<&str>) -> bool {
    let expected = format!("{CLIENT_ID}:{CLIENT_SECRET}");
    authorization
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .is_some_and(|decoded| decoded == expected.as_bytes())
}

fn issue(state: &State, scope: &str, with_refresh_token: bool) -> Value {
    let serial = state.issued.fetch_add(1, Ordering::Relaxed);
    let mut token = json!({
        "access_token": format!("at-{serial}"),
        "token_type": "Bearer",
        "expires_in": EXPIRES_IN,
        "scope": scope,
    });
    if with_refresh_token {
        let refresh = format!("rt-{serial}");
        state.refresh_tokens.lock().expect("not poisoned").insert(refresh.clone());
        token["refresh_token"] = Value::String(refresh);
    }
    token
}

/// A token as a person reads it, and Unix seconds as a UTC date: the `oauth` command line's
/// own rendering.
pub use oauth_cli::summary::{summary, utc};
