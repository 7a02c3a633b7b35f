//! A service that already uses reqwest, then adds oauth-client: its own `Client::new()` runs
//! first and makes a request, then an `OAuthClient` (with a DPoP key, so that signing runs)
//! gets a token, then the host's client works as before. Exits non-zero on any difference.

use std::io;

use oauth_client::ClientAuthorization::Configured;
use oauth_client::dpop::DpopKey;
use oauth_client::{ClientAuth, OAuthAuthorization, OAuthClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TOKEN: &str = r#"{"access_token":"host-at","token_type":"DPoP","expires_in":60}"#;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    #[cfg(feature = "host-rustls-own-provider")]
    rustls::crypto::ring::default_provider()
        .install_default()
        .map_err(|_| "the host could not install its own provider")?;
    let provider_before = process_provider();

    let base = serve().await?;

    // The host's own client, built and used before oauth-client does anything.
    let own = reqwest::Client::new();
    let answer = own.get(format!("{base}/health")).send().await?;
    assert_eq!(answer.status(), 200, "the host's own request");

    let client = OAuthClient::builder(format!("{base}/token"))
        .client_auth(ClientAuth::client_secret_basic("host", "secret"))
        .dpop(DpopKey::generate()?)
        .build()?;
    let token = client.request_token_ccg(Configured, Some("read"), None).await?;
    assert_eq!(token.access_token.secret(), "host-at");

    // The host's client, and a new one, still behave as before.
    assert_eq!(own.get(format!("{base}/health")).send().await?.status(), 200);
    assert_eq!(reqwest::Client::new().get(format!("{base}/health")).send().await?.status(), 200);
    assert_eq!(process_provider(), provider_before, "oauth-client changed the process's rustls provider");
    println!("host ok");
    Ok(())
}

/// Which process-wide rustls provider is installed, by its cipher suites (none: `None`).
fn process_provider() -> Option<String> {
    rustls::crypto::CryptoProvider::get_default().map(|provider| format!("{:?}", provider.cipher_suites))
}

/// A loopback HTTP server answering every request with a token, on a port of its own.
async fn serve() -> io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0; 4096];
                // Headers, then the body its Content-Length announces.
                loop {
                    let Ok(read) = stream.read(&mut buffer).await else { return };
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..read]);
                    if let Some(end) = find(&request, b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                        let length = head
                            .lines()
                            .find_map(|line| line.strip_prefix("content-length:"))
                            .and_then(|value| value.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{TOKEN}",
                    TOKEN.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    Ok(format!("http://{address}"))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}
