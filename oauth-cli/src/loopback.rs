//! The loopback redirect listener of the `code` command (RFC 8252 §7.3): one request on
//! 127.0.0.1, answered with a page that says to go back to the terminal.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::{Failure, usage};

pub(crate) struct Listener {
    listener: TcpListener,
    /// The redirect URI with the port actually bound.
    pub(crate) redirect_uri: String,
}

impl Listener {
    /// Binds the port of `redirect_uri`, which must be `http://127.0.0.1[:port]/...` (port 0
    /// or none picks a free one).
    pub(crate) async fn bind(redirect_uri: &str) -> Result<Self, Failure> {
        let url = reqwest_url(redirect_uri)?;
        if url.scheme() != "http" || url.host_str() != Some("127.0.0.1") {
            return Err(usage("`--listen` needs a loopback redirect URI: `http://127.0.0.1:PORT/path`"));
        }
        let port = url.port().unwrap_or(0);
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|error| usage(format!("could not listen on 127.0.0.1:{port}: {error}")))?;
        let bound = listener.local_addr().map_err(|error| usage(error.to_string()))?.port();
        let mut redirect = url.clone();
        let _ = redirect.set_port(Some(bound));
        Ok(Listener { listener, redirect_uri: redirect.to_string() })
    }

    /// Waits for the browser's request and returns the full redirect URL it carried.
    pub(crate) async fn receive(self, wait: Duration) -> Result<String, Failure> {
        let accept = async {
            let (mut stream, _) = self.listener.accept().await?;
            let mut buffer = vec![0; 16 * 1024];
            let mut read = 0;
            // The request line and headers; the redirect carries no body.
            while read < buffer.len() && !buffer[..read].windows(4).any(|window| window == b"\r\n\r\n") {
                let n = stream.read(&mut buffer[read..]).await?;
                if n == 0 {
                    break;
                }
                read += n;
            }
            let head = String::from_utf8_lossy(&buffer[..read]).into_owned();
            let page = "<!doctype html><title>oauth</title><p>Done: go back to the terminal.</p>";
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            stream.write_all(response.as_bytes()).await?;
            stream.shutdown().await?;
            Ok::<String, std::io::Error>(head)
        };
        let head = tokio::time::timeout(wait, accept)
            .await
            .map_err(|_| Failure {
                code: crate::EXIT_TIMEOUT,
                message: format!(
                    "error: no redirect came back within {} s; give more time with `--listen-timeout SECONDS`",
                    wait.as_secs()
                ),
            })?
            .map_err(|error| Failure {
                code: crate::EXIT_TRANSPORT,
                message: format!("error: the redirect listener failed: {error}"),
            })?;
        let target = head
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("GET "))
            .and_then(|rest| rest.split(' ').next())
            .ok_or_else(|| usage("the browser's request to the listener is not a GET"))?;
        let base = reqwest_url(&self.redirect_uri)?;
        Ok(format!("{}://{}{target}", base.scheme(), base.authority()))
    }
}

fn reqwest_url(url: &str) -> Result<reqwest::Url, Failure> {
    reqwest::Url::parse(url).map_err(|error| usage(format!("`{url}` is not a URL: {error}")))
}
