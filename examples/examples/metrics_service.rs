//! A service that exposes oauth-client's metrics for Prometheus to scrape: the program
//! installs a recorder (`metrics-exporter-prometheus`), builds its token manager after it,
//! and serves the rendered text at `/metrics`. Its "work" is tasks asking for a token every
//! 10 ms, as request handlers would.
//!
//! ```text
//! cargo run -p oauth-examples --example metrics_service
//! ```
//!
//! Alone, it starts the stand-in provider, works for 3 seconds and prints its metrics. In a
//! fleet (the metrics test in `tests/tests/it/metrics.rs` runs it so), environment variables
//! point it elsewhere: `TOKEN_URL`, `REDIS_URL` (share tokens through Redis), `METRICS_ADDR`
//! (default `127.0.0.1:0`), `RUN_MS` (default 3000), `SERVE_AFTER=1` (keep serving `/metrics`
//! after the work until standard input closes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use oauth_client::manager::{ClientCredentials, RedisStore};
use oauth_client::{ClientAuth, OAuthClient, TokenManager};
use oauth_examples::StandInProvider;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // First the recorder: the manager registers its counters when it is built.
    let prometheus = PrometheusBuilder::new().install_recorder()?;

    let stand_in = match std::env::var("TOKEN_URL") {
        Ok(_) => None,
        Err(_) => Some(StandInProvider::start().await?),
    };
    let token_url = match &stand_in {
        Some(provider) => provider.token_url(),
        None => std::env::var("TOKEN_URL")?,
    };
    let client = OAuthClient::builder(token_url)
        .client_auth(ClientAuth::client_secret_basic(
            oauth_examples::CLIENT_ID,
            oauth_examples::CLIENT_SECRET,
        ))
        .build()?;
    let mut tokens =
        TokenManager::builder(client, ClientCredentials::new().scope("read")).leeway(Duration::from_secs(1));
    if let Ok(redis) = std::env::var("REDIS_URL") {
        tokens = tokens.store(Arc::new(RedisStore::new(&redis)?), "metrics-service");
    }
    let tokens = tokens.build();

    let listener =
        TcpListener::bind(std::env::var("METRICS_ADDR").as_deref().unwrap_or("127.0.0.1:0")).await?;
    println!("metrics: http://{}/metrics", listener.local_addr()?);
    tokio::spawn(serve_metrics(listener, prometheus.clone()));

    let run_for =
        Duration::from_millis(std::env::var("RUN_MS").ok().and_then(|ms| ms.parse().ok()).unwrap_or(3000));
    let until = Instant::now() + run_for;
    let workers: Vec<_> = (0..10)
        .map(|_| {
            let tokens = tokens.clone();
            tokio::spawn(async move {
                while Instant::now() < until {
                    if let Err(error) = tokens.access_token().await {
                        eprintln!("no token: {error}");
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await?;
    }
    println!("done");

    if std::env::var("SERVE_AFTER").as_deref() == Ok("1") {
        // Until whoever started us closes our standard input.
        let _ =
            tokio::task::spawn_blocking(|| std::io::Read::read(&mut std::io::stdin(), &mut [0u8; 1])).await;
    } else {
        print!("{}", prometheus.render());
    }
    Ok(())
}

/// Answers every request on `listener` with the current metrics, in Prometheus' text format.
async fn serve_metrics(listener: TcpListener, prometheus: PrometheusHandle) {
    while let Ok((mut socket, _)) = listener.accept().await {
        let prometheus = prometheus.clone();
        tokio::spawn(async move {
            // The request's head, up to its blank line (a scraper may send it in pieces).
            let mut head = Vec::new();
            let mut chunk = [0u8; 1024];
            while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 16 * 1024 {
                match socket.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(read) => head.extend_from_slice(&chunk[..read]),
                }
            }
            let body = prometheus.render();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}
