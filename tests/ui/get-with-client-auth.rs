#[allow(unused_imports)]
use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};

pub trait Grants: TokenEndpoint {
    #[oauth_grant(endpoint = "userinfo", method = "GET")]
    async fn grant(&self, #[header("Authorization")] authorization: &str) -> Result<(), Error>;
}

fn main() {}
