//! Support for the benchmarks: a minimal HTTP/1.1 token endpoint on 127.0.0.1 (hyper) that
//! answers every request with one fixed token, so that the server is never the bottleneck;
//! the hand-written reqwest call the generated client is compared with; a protected resource
//! with its authorization server for the cold path of resource-first authorization; and
//! readers of the process's own resource use.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use oauth_client::OAuthToken;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use tokio::net::TcpListener;

mod protected;
pub use protected::ProtectedResourceServer;

/// The body every request gets: a client-credentials token of typical size.
pub const TOKEN_JSON: &str = r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600,"scope":"read"}"#;

/// A running token endpoint on its own single-threaded runtime and thread.
pub struct FixedTokenServer {
    address: SocketAddr,
    requests: Arc<AtomicUsize>,
}

impl FixedTokenServer {
    /// Starts the server on a free port of 127.0.0.1, on its own thread. It lives until the
    /// process ends.
    pub fn start() -> Self {
        let (listener, server) = Self::bind();
        let requests = Arc::clone(&server.requests);
        std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(serve(listener, requests));
        });
        server
    }

    /// Starts the server as a task of `runtime`. With a current-thread runtime that also runs
    /// the client, a round trip needs no wake-up of another thread, so what is measured is
    /// the CPU work of both sides, not the scheduler latency of the machine.
    pub fn start_on(runtime: &tokio::runtime::Handle) -> Self {
        let (listener, server) = Self::bind();
        runtime.spawn(serve(listener, Arc::clone(&server.requests)));
        server
    }

    fn bind() -> (std::net::TcpListener, Self) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.set_nonblocking(true).expect("a non-blocking socket");
        let address = listener.local_addr().expect("an address");
        (listener, FixedTokenServer { address, requests: Arc::new(AtomicUsize::new(0)) })
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> String {
        format!("http://{}/oauth2/token", self.address)
    }

    /// Requests served so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

async fn serve(listener: std::net::TcpListener, counter: Arc<AtomicUsize>) {
    let listener = TcpListener::from_std(listener).expect("inside a runtime");
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let counter = Arc::clone(&counter);
        tokio::spawn(async move {
            let service = service_fn(move |_request: Request<hyper::body::Incoming>| {
                counter.fetch_add(1, Ordering::Relaxed);
                async move {
                    let response = Response::builder()
                        .header("content-type", "application/json")
                        .header("cache-control", "no-store")
                        .body(Full::new(Bytes::from_static(TOKEN_JSON.as_bytes())))
                        .expect("a valid response");
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// An HTTP client with the same settings as `OAuthClient`'s default: no redirects, 10 s to
/// connect.
pub fn reqwest_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client")
}

/// What a careful hand-written client-credentials call does: the request `request_token_ccg`
/// sends (same headers, same form, same 30 s timeout), decoded into the same struct with the
/// same expiry. Panics where the generated call would return an error: the benchmark server
/// always answers with a token.
pub async fn hand_written(http: &reqwest::Client, url: &str, authorization: &str) -> OAuthToken {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("scope", "read")
        .finish();
    let response = http
        .post(url)
        .header(AUTHORIZATION, authorization)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .timeout(Duration::from_secs(30))
        .body(body)
        .send()
        .await
        .expect("the server answers");
    assert!(response.status().is_success());
    let bytes = response.bytes().await.expect("a body");
    let mut token: OAuthToken = serde_json::from_slice(&bytes).expect("a token");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs() as i64;
    token.expiry = token.expires_in.map(|seconds| now + seconds as i64);
    token
}

/// The process's peak resident set size in KiB (`VmHWM` of `/proc/self/status`), where the
/// system reports it.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
