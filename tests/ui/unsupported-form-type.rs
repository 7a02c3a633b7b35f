#[allow(unused_imports)]
use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};

pub struct Scope;

pub trait Grants: TokenEndpoint {
    #[oauth_grant(grant_type = "client_credentials")]
    async fn grant(&self, #[form] scope: Scope) -> Result<OAuthToken, Error>;
}
fn main() {}
