//! Runs the five standard grants and prints what each gave: token type, lifetime, expiry as
//! a UTC date, scope, and whether a refresh token came back (never the tokens themselves).
//!
//! By default it starts a stand-in provider on 127.0.0.1. To try a real provider instead,
//! set `OAUTH_TOKEN_URL`, `OAUTH_CLIENT_ID` and `OAUTH_CLIENT_SECRET`; the password grant
//! also needs `OAUTH_USERNAME` and `OAUTH_PASSWORD`, the authorization-code grant
//! `OAUTH_CODE` and `OAUTH_REDIRECT_URI` (grants without their inputs are skipped).
//!
//! ```text
//! cargo run -p oauth-examples --example quickstart
//! ```

use std::env;

use oauth_client::ClientAuthorization::Configured;
use oauth_client::{ClientAuth, Error, OAuthAuthorization, OAuthClient, OAuthToken};
use oauth_examples::StandInProvider;

struct Inputs {
    token_url: String,
    auth: ClientAuth,
    password: Option<(String, String)>,
    code: Option<(String, String)>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the stand-in alive for the whole run, when there is one.
    let (inputs, _provider) = match env::var("OAUTH_TOKEN_URL") {
        Ok(token_url) => {
            let id = env::var("OAUTH_CLIENT_ID").map_err(|_| "OAUTH_CLIENT_ID is not set")?;
            let secret = env::var("OAUTH_CLIENT_SECRET").map_err(|_| "OAUTH_CLIENT_SECRET is not set")?;
            let pair = |a: &str, b: &str| Some((env::var(a).ok()?, env::var(b).ok()?));
            let inputs = Inputs {
                token_url,
                auth: ClientAuth::client_secret_basic(id, secret),
                password: pair("OAUTH_USERNAME", "OAUTH_PASSWORD"),
                code: pair("OAUTH_CODE", "OAUTH_REDIRECT_URI"),
            };
            println!("provider: {}", inputs.token_url);
            (inputs, None)
        }
        Err(_) => {
            let provider = StandInProvider::start().await?;
            let inputs = Inputs {
                token_url: provider.token_url(),
                auth: ClientAuth::client_secret_basic(
                    oauth_examples::CLIENT_ID,
                    oauth_examples::CLIENT_SECRET,
                ),
                password: Some((oauth_examples::USERNAME.into(), oauth_examples::PASSWORD.into())),
                code: Some((provider.issue_code(), "http://127.0.0.1/callback".into())),
            };
            println!("provider: local stand-in at {}", inputs.token_url);
            (inputs, Some(provider))
        }
    };

    // The client authenticates every request with its `ClientAuth`; `Configured` says so.
    let client = OAuthClient::builder(&inputs.token_url).client_auth(inputs.auth.clone()).build()?;

    report("request_token_ccg", client.request_token_ccg(Configured, None, None).await);

    match &inputs.password {
        Some((username, password)) => {
            let token = client.request_token_ropcg(Configured, username, password, None, None).await;
            let refresh = refresh_token_of(&token);
            report("request_token_ropcg", token);
            match refresh {
                Some(refresh) => report(
                    "refresh_token_ropcg",
                    client.refresh_token_ropcg(Configured, &refresh, None, None).await,
                ),
                None => skip("refresh_token_ropcg", "the password grant issued no refresh token"),
            }
        }
        None => {
            skip("request_token_ropcg", "set OAUTH_USERNAME and OAUTH_PASSWORD");
            skip("refresh_token_ropcg", "needs the password grant");
        }
    }

    match &inputs.code {
        Some((code, redirect_uri)) => {
            let token = client.request_token_acg(Configured, code, redirect_uri, None).await;
            let refresh = refresh_token_of(&token);
            report("request_token_acg", token);
            match refresh {
                Some(refresh) => report(
                    "refresh_token_acg",
                    client.refresh_token_acg(Configured, &refresh, None, None).await,
                ),
                None => skip("refresh_token_acg", "the authorization-code grant issued no refresh token"),
            }
        }
        None => {
            skip("request_token_acg", "set OAUTH_CODE and OAUTH_REDIRECT_URI");
            skip("refresh_token_acg", "needs the authorization-code grant");
        }
    }
    Ok(())
}

fn refresh_token_of(result: &Result<OAuthToken, Error>) -> Option<String> {
    let token = result.as_ref().ok()?;
    Some(token.refresh_token.as_ref()?.secret().to_owned())
}

fn report(operation: &str, result: Result<OAuthToken, Error>) {
    match result {
        Ok(token) => println!("{operation:<20} ok    {}", oauth_examples::summary(&token)),
        Err(error) => println!("{operation:<20} error {error}"),
    }
}

fn skip(operation: &str, why: &str) {
    println!("{operation:<20} skip  ({why})");
}
