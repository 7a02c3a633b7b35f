//! A token manager in front of the stand-in provider: 1,000 tasks ask for a token at once,
//! and the provider sees one request.
//!
//! ```text
//! cargo run -p oauth-examples --example token_manager
//! ```

use oauth_client::manager::ClientCredentials;
use oauth_client::{ClientAuth, OAuthClient, TokenManager};
use oauth_examples::StandInProvider;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = StandInProvider::start().await?;
    let client = OAuthClient::builder(provider.token_url())
        .client_auth(ClientAuth::client_secret_basic(
            oauth_examples::CLIENT_ID,
            oauth_examples::CLIENT_SECRET,
        ))
        .build()?;
    let tokens = TokenManager::builder(client, ClientCredentials::new().scope("read"))
        .on_update(
            |token| async move { println!("new token, expires at {:?} (persist it here)", token.expiry) },
        )
        .build();

    let callers: Vec<_> = (0..1_000)
        .map(|_| {
            let tokens = tokens.clone();
            tokio::spawn(async move { tokens.access_token().await })
        })
        .collect();
    let mut served = 0;
    for caller in callers {
        caller.await??;
        served += 1;
    }
    println!(
        "{served} concurrent callers got a token; the provider saw {} token request(s)",
        provider.token_requests()
    );
    Ok(())
}
