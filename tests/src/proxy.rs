//! A forward HTTP proxy on 127.0.0.1 that records every request it relays: a client built
//! with [`CountingProxy::client`] sends its `http://` requests through it, so a test can
//! count what a whole flow asked of which server, whatever the server.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// The proxy; it stops when dropped.
pub struct CountingProxy {
    url: String,
    relayed: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    /// Starts the proxy on a free 127.0.0.1 port.
    pub async fn start() -> CountingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let relayed = Arc::new(Mutex::new(Vec::new()));
        let upstream = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        let log = Arc::clone(&relayed);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (upstream, log) = (upstream.clone(), Arc::clone(&log));
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request| relay(upstream.clone(), Arc::clone(&log), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        CountingProxy { url, relayed, task }
    }

    /// An HTTP client whose every request goes through the proxy.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(&self.url).expect("the proxy's URL"))
            .build()
            .expect("an HTTP client")
    }

    /// `METHOD url` of each request relayed so far, in order; clears the record.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.relayed.lock().unwrap())
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(
    upstream: reqwest::Client,
    log: Arc<Mutex<Vec<String>>>,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    log.lock().unwrap().push(format!("{} {}", parts.method, parts.uri));
    let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    let mut forwarded = upstream.request(parts.method, parts.uri.to_string()).body(body);
    for (name, value) in &parts.headers {
        if name != http::header::HOST && name.as_str() != "proxy-connection" {
            forwarded = forwarded.header(name, value);
        }
    }
    let response = match forwarded.send().await {
        Ok(response) => response,
        Err(error) => {
            let mut refused = hyper::Response::new(Full::new(Bytes::from(error.to_string())));
            *refused.status_mut() = http::StatusCode::BAD_GATEWAY;
            return Ok(refused);
        }
    };
    let mut answer = hyper::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        // The body is relayed whole: its framing is hyper's to write.
        if name != http::header::TRANSFER_ENCODING && name != http::header::CONNECTION {
            answer = answer.header(name, value);
        }
    }
    let body = response.bytes().await.unwrap_or_default();
    Ok(answer.body(Full::new(body)).expect("a response"))
}
