#[allow(unused_imports)]
use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};

pub trait Grants: TokenEndpoint {
    #[oauth_grant(endpoint = "vendor", method = "GET", client_auth = false)]
    async fn grant(&self, #[json] body: &serde_json::Value) -> Result<(), Error>;
}

fn main() {}
