#[allow(unused_imports)]
use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};

pub trait Grants: TokenEndpoint {
    #[oauth_grant(endpoint = "userinfo", client_auth = false, client_auth = true)]
    async fn grant(&self, #[form] token: &str) -> Result<(), Error>;
}

fn main() {}
