//! The authorization-code flow as a CLI or desktop app runs it: print the authorize URL,
//! read the URL the browser was redirected to from stdin, exchange the code (with PKCE).
//!
//! Against a real provider, set `OAUTH_AUTHORIZE_URL`, `OAUTH_TOKEN_URL`, `OAUTH_CLIENT_ID`,
//! `OAUTH_CLIENT_SECRET` and `OAUTH_REDIRECT_URI` (and optionally `OAUTH_SCOPE`). Without
//! them it starts the stand-in provider, whose authorize endpoint consents at once:
//!
//! ```text
//! cargo run -p oauth-examples --example authorization_code
//! # open the printed URL (or `curl -si URL | grep -i ^location`) and paste where it redirects
//! ```

use std::env;
use std::io::BufRead;

use oauth_client::ClientAuthorization::Configured;
use oauth_client::{AuthorizationRequest, ClientAuth, OAuthAuthorization, OAuthClient};
use oauth_examples::StandInProvider;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut _provider = None;
    let (authorize_url, token_url, client_id, client_secret, redirect_uri) =
        match env::var("OAUTH_AUTHORIZE_URL") {
            Ok(authorize_url) => (
                authorize_url,
                env::var("OAUTH_TOKEN_URL")?,
                env::var("OAUTH_CLIENT_ID")?,
                env::var("OAUTH_CLIENT_SECRET")?,
                env::var("OAUTH_REDIRECT_URI")?,
            ),
            Err(_) => {
                let provider = StandInProvider::start().await?;
                let urls = (provider.authorize_url(), provider.token_url());
                _provider = Some(provider);
                (
                    urls.0,
                    urls.1,
                    oauth_examples::CLIENT_ID.to_owned(),
                    oauth_examples::CLIENT_SECRET.to_owned(),
                    "http://127.0.0.1:8400/callback".to_owned(),
                )
            }
        };

    let pending = AuthorizationRequest::new(authorize_url, &client_id)
        .redirect_uri(&redirect_uri)
        .scope(env::var("OAUTH_SCOPE").unwrap_or_else(|_| "read".to_owned()))
        .build()?;
    println!("Open this URL in a browser and log in:\n\n  {}\n", pending.url());
    println!("Then paste the URL the browser was redirected to (it starts with {redirect_uri}):");

    let mut redirected = String::new();
    std::io::stdin().lock().read_line(&mut redirected)?;
    let code = pending.code_from_redirect(redirected.trim())?;

    let client = OAuthClient::builder(token_url)
        .client_auth(ClientAuth::client_secret_basic(client_id, client_secret))
        .build()?;
    let token =
        client.request_token_acg(Configured, &code, &redirect_uri, Some(&pending.token_params())).await?;
    println!("token: {token:?}");
    Ok(())
}
