//! A grant may return its own response model and its own error type, and take typed fields.

use oauth_client::{oauth_grant, OAuthClient, RefreshToken, TokenEndpoint};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct DeviceCode {
    pub device_code: String,
    pub interval: Option<u64>,
}

#[derive(Debug)]
pub enum MyError {
    OAuth(oauth_client::Error),
}

impl From<oauth_client::Error> for MyError {
    fn from(error: oauth_client::Error) -> Self {
        MyError::OAuth(error)
    }
}

pub trait Device: TokenEndpoint {
    #[oauth_grant(grant_type = "urn:example:device")]
    async fn device<'a>(
        &'a self,
        #[form] client_id: &'a str,
        #[form(rename = "audience")] audiences: &[&str],
        #[form] max_age: Option<u32>,
        #[form] offline: bool,
        #[form] r#type: String,
        #[form] refresh_token: Option<&RefreshToken>,
        #[header("X-Request-Id")] request_id: Option<&str>,
    ) -> Result<DeviceCode, MyError>;
}

impl Device for OAuthClient {}

fn main() {
    let client = OAuthClient::new("http://127.0.0.1:9/token").unwrap();
    let _future = client.device("id", &["a", "b"], Some(60), true, "t".into(), None, Some("r-1"));
}
