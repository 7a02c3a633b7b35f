#[allow(unused_imports)]
use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};

pub trait Grants: TokenEndpoint {
    #[oauth_grant(endpoint = "UserInfo Endpoint")]
    async fn grant(&self, #[form] token: &str) -> Result<(), Error>;
}
fn main() {}
