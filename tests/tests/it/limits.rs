//! Servers that misbehave at the transport level: never answer, trickle bytes, never end.
//! Each ends in a typed error within the configured limits.

use reqwest::StatusCode;
use std::time::Duration;

use oauth_client::{Error, OAuthAuthorization, OAuthClient};
use oauth_client_tests::AUTH_XY;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A raw server on 127.0.0.1 that runs `behave` on each connection after reading the request
/// head.
async fn raw_server<F, Fut>(behave: F) -> String
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let behave = std::sync::Arc::new(behave);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let behave = behave.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                behave(socket).await;
            });
        }
    });
    url
}

fn client(url: &str, timeout: Duration) -> OAuthClient {
    OAuthClient::builder(url).timeout(timeout).build().unwrap()
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let url = raw_server(|socket| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    })
    .await;
    let error =
        client(&url, Duration::from_millis(300)).request_token_ccg(AUTH_XY, None, None).await.unwrap_err();
    assert!(matches!(error, Error::Timeout), "{error:?}");
}

#[tokio::test]
async fn a_server_that_trickles_its_body_times_out() {
    let url = raw_server(|mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for _ in 0..1000 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if socket.write_all(b" ").await.is_err() {
                return;
            }
        }
    })
    .await;
    let error =
        client(&url, Duration::from_millis(400)).request_token_ccg(AUTH_XY, None, None).await.unwrap_err();
    assert!(matches!(error, Error::Timeout), "{error:?}");
}

#[tokio::test]
async fn a_body_that_never_ends_stops_at_the_size_limit() {
    let url = raw_server(|mut socket| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("{:x}\r\n{}\r\n", 8192, " ".repeat(8192));
        // Endless unless the client hangs up; bounded so the task ends if it does not.
        for _ in 0..100_000 {
            if socket.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
    })
    .await;
    let client = OAuthClient::builder(&url).max_response_bytes(64 * 1024).build().unwrap();
    let error = client.request_token_ccg(AUTH_XY, None, None).await.unwrap_err();
    assert!(matches!(error, Error::ResponseTooLarge { status: StatusCode::OK, limit: 65536 }), "{error:?}");
}

#[tokio::test]
async fn a_per_call_timeout_overrides_the_client_default() {
    let url = raw_server(|socket| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    })
    .await;
    let client = client(&url, Duration::from_secs(60));
    let started = std::time::Instant::now();
    let error = client
        .with_timeout(Duration::from_millis(200))
        .request_token_ccg(AUTH_XY, None, None)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(30), "the per-call deadline applied");
}

#[tokio::test]
async fn dropping_the_future_cancels_the_request() {
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    let closed_tx = std::sync::Mutex::new(Some(closed_tx));
    let url = raw_server(move |mut socket| {
        let closed_tx = closed_tx.lock().unwrap().take();
        async move {
            // Wait until the client hangs up, then report it.
            let mut buffer = [0u8; 16];
            while matches!(socket.read(&mut buffer).await, Ok(n) if n > 0) {}
            if let Some(tx) = closed_tx {
                let _ = tx.send(());
            }
        }
    })
    .await;
    let client = client(&url, Duration::from_secs(60));
    let call = client.request_token_ccg(AUTH_XY, None, None);
    assert!(tokio::time::timeout(Duration::from_millis(200), call).await.is_err(), "still waiting");
    // The future was dropped by `timeout`: the connection closes.
    tokio::time::timeout(Duration::from_secs(10), closed_rx).await.expect("connection closed").unwrap();
}

#[test]
fn plain_http_outside_loopback_needs_an_explicit_opt_in() {
    let error = OAuthClient::new("http://auth.example/token").unwrap_err();
    assert!(
        matches!(&error, Error::Config(config) if config.message().contains("allow_insecure_http(true)")),
        "{error:?}"
    );
    assert!(OAuthClient::builder("http://auth.example/token").allow_insecure_http(true).build().is_ok());
    assert!(OAuthClient::new("http://localhost:8080/token").is_ok());
    assert!(OAuthClient::new("https://auth.example/token").is_ok());
}
