#[allow(unused_imports)]
use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};

pub trait Grants: TokenEndpoint {
    #[oauth_grant(grant_type = "client_credentials")]
    async fn grant<S: AsRef<str>>(&self, #[form] scope: S) -> Result<OAuthToken, Error>;
}
fn main() {}
