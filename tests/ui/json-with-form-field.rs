#[allow(unused_imports)]
use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};

pub trait Grants: TokenEndpoint {
    #[oauth_grant(endpoint = "vendor", client_auth = false)]
    async fn grant(&self, #[header("Authorization")] authorization: &str, #[form] scope: &str, #[json] body: &serde_json::Value) -> Result<(), Error>;
}

fn main() {}
