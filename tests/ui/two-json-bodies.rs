#[allow(unused_imports)]
use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};

pub trait Grants: TokenEndpoint {
    #[oauth_grant(endpoint = "vendor", client_auth = false)]
    async fn grant(&self, #[json] first: &serde_json::Value, #[json] second: &serde_json::Value) -> Result<(), Error>;
}

fn main() {}
