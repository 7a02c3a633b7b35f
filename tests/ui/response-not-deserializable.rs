#[allow(unused_imports)]
use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};

pub struct Token;

pub trait Grants: TokenEndpoint {
    #[oauth_grant(grant_type = "client_credentials")]
    async fn grant(&self, #[form] scope: Option<&str>) -> Result<Token, Error>;
}
fn main() {}
