#[allow(unused_imports)]
use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};

pub trait Grants: TokenEndpoint {
    #[oauth_grant(grant_type = "client_credentials", scope = "read")]
    async fn grant(&self, #[form] scope: Option<&str>) -> Result<OAuthToken, Error>;
}
fn main() {}
