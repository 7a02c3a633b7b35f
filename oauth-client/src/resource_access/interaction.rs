//! The user's part of the authorization code grant: showing the authorization URL and
//! receiving the redirect. [`UserAuthorization`] is the callback; [`LoopbackListener`] is the
//! ready implementation for desktop apps and CLIs (RFC 8252 §7.3).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use crate::error::{Error, RedirectError, Setting};
use crate::manager::BoxFuture;

/// Shows the user an authorization URL and returns the URL the browser was redirected to.
///
/// [`ResourceAccess`](super::ResourceAccess) calls it when it needs the user: the first time
/// a resource asks for a token, and when a resource asks for more scope. Implement it to
/// open a browser, a webview or a device's screen; [`LoopbackListener`] does it for a
/// desktop app or a CLI.
///
/// ```
/// use oauth_client::Error;
/// use oauth_client::manager::BoxFuture;
/// use oauth_client::resource_access::UserAuthorization;
///
/// /// Prints the URL and reads the redirect the user pastes.
/// struct Paste;
///
/// impl UserAuthorization for Paste {
///     fn redirect_uri(&self) -> &str {
///         "https://app.example/callback"
///     }
///
///     fn authorize<'a>(&'a self, url: &'a reqwest::Url) -> BoxFuture<'a, Result<String, Error>> {
///         Box::pin(async move {
///             eprintln!("Open {url}, then paste the URL you land on:");
///             let mut line = String::new();
///             std::io::stdin().read_line(&mut line).map_err(|error| {
///                 oauth_client::RedirectError::Listener(error.to_string())
///             })?;
///             Ok(line.trim().to_owned())
///         })
///     }
/// }
/// ```
pub trait UserAuthorization: Send + Sync + 'static {
    /// The redirect URI the authorization requests name (registered with the client).
    fn redirect_uri(&self) -> &str;

    /// Has the user visit `url` and returns the full URL the authorization server redirected
    /// the browser to (with its `code`, `state` and `iss`).
    fn authorize<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<String, Error>>;
}

/// A shared one (kept by the caller too, to look at afterwards).
impl<T: UserAuthorization> UserAuthorization for Arc<T> {
    fn redirect_uri(&self) -> &str {
        (**self).redirect_uri()
    }

    fn authorize<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<String, Error>> {
        (**self).authorize(url)
    }
}

/// Receives the redirect on `http://127.0.0.1:PORT/...` (RFC 8252 §7.3, the loopback
/// interface redirection for native apps): binds the port, lets a function of yours show
/// the URL (open a browser, print it), and answers the browser's request with a page that
/// says to go back to the app.
///
/// ```no_run
/// # async fn run() -> Result<(), oauth_client::Error> {
/// use oauth_client::resource_access::LoopbackListener;
///
/// // Port 0: any free port; authorization servers accept any port on loopback (RFC 8252 §7.3).
/// let listener = LoopbackListener::bind("http://127.0.0.1:0/callback")
///     .await?
///     .on_authorize(|url| eprintln!("Open this URL to sign in:\n{url}"));
/// println!("register {}", listener.redirect_uri());
/// # Ok(()) }
/// ```
pub struct LoopbackListener {
    listener: TcpListener,
    redirect_uri: String,
    path: String,
    show: Arc<dyn Fn(&Url) + Send + Sync>,
    wait: Duration,
}

impl core::fmt::Debug for LoopbackListener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoopbackListener")
            .field("redirect_uri", &self.redirect_uri)
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl LoopbackListener {
    /// Binds the port of `redirect_uri`, which must be `http://127.0.0.1[:PORT]/path` (port
    /// 0, or none, picks a free one; [`redirect_uri`](Self::redirect_uri) says which). The
    /// URL is printed to standard error until [`on_authorize`](Self::on_authorize) says
    /// otherwise; the listener waits five minutes for the user.
    pub async fn bind(redirect_uri: &str) -> Result<Self, Error> {
        let url = Url::parse(redirect_uri).map_err(|source| Error::InvalidUrl {
            what: "loopback redirect URI".into(),
            url: redirect_uri.into(),
            source,
        })?;
        if url.scheme() != "http" || url.host_str() != Some("127.0.0.1") {
            return Err(Error::config(
                Setting::AuthorizationRequest,
                format!(
                    "the loopback redirect URI `{redirect_uri}` must be `http://127.0.0.1:PORT/path` (RFC 8252 §7.3: \
                     the IP literal, not `localhost`)"
                ),
            ));
        }
        let port = url.port().unwrap_or(0);
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|error| {
            RedirectError::Listener(format!("could not listen on 127.0.0.1:{port}: {error}"))
        })?;
        let bound = listener.local_addr().map_err(|error| RedirectError::Listener(error.to_string()))?.port();
        let mut redirect = url.clone();
        let _ = redirect.set_port(Some(bound));
        Ok(LoopbackListener {
            listener,
            redirect_uri: redirect.to_string(),
            path: redirect.path().to_owned(),
            show: Arc::new(|url| eprintln!("Open this URL to authorize:\n{url}")),
            wait: Duration::from_secs(300),
        })
    }

    /// What to do with the authorization URL: open a browser, print it, show a QR code.
    pub fn on_authorize(mut self, show: impl Fn(&Url) + Send + Sync + 'static) -> Self {
        self.show = Arc::new(show);
        self
    }

    /// How long to wait for the redirect before [`RedirectError::NotReceived`]. Default: five
    /// minutes.
    pub fn timeout(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// The redirect URI, with the port actually bound: register this one.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the browser's request to the redirect path and returns the full redirect
    /// URL it carried. Requests to other paths (a browser's `/favicon.ico`) get a 404 and
    /// are not counted.
    pub async fn receive(&self) -> Result<String, Error> {
        let wait = self.wait;
        let target = tokio::time::timeout(wait, self.next_redirect())
            .await
            .map_err(|_| RedirectError::NotReceived { waited: wait })?
            .map_err(|error| RedirectError::Listener(error.to_string()))?;
        let base = Url::parse(&self.redirect_uri).map_err(|_| RedirectError::InvalidUrl)?;
        Ok(format!("{}://{}{target}", base.scheme(), base.authority()))
    }

    async fn next_redirect(&self) -> std::io::Result<String> {
        loop {
            let (mut stream, _) = self.listener.accept().await?;
            let head = read_head(&mut stream).await?;
            let target = head
                .lines()
                .next()
                .and_then(|line| line.strip_prefix("GET "))
                .and_then(|rest| rest.split(' ').next())
                .unwrap_or_default()
                .to_owned();
            let ours = target.split('?').next() == Some(self.path.as_str());
            let (status, page) = if ours {
                ("200 OK", "<!doctype html><title>Signed in</title><p>Done: you can close this window.</p>")
            } else {
                ("404 Not Found", "<!doctype html><title>Not found</title>")
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
                 cache-control: no-store\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            stream.write_all(response.as_bytes()).await?;
            let _ = stream.shutdown().await;
            if ours {
                return Ok(target);
            }
        }
    }
}

/// The request line and headers; the redirect carries no body.
async fn read_head(stream: &mut tokio::net::TcpStream) -> std::io::Result<String> {
    let mut buffer = vec![0; 16 * 1024];
    let mut read = 0;
    while read < buffer.len() && !buffer[..read].windows(4).any(|window| window == b"\r\n\r\n") {
        let n = stream.read(&mut buffer[read..]).await?;
        if n == 0 {
            break;
        }
        read += n;
    }
    Ok(String::from_utf8_lossy(&buffer[..read]).into_owned())
}

impl UserAuthorization for LoopbackListener {
    fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    fn authorize<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            (self.show)(url);
            self.receive().await
        })
    }
}
