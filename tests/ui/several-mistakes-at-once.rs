#[allow(unused_imports)]
use oauth_client::{oauth_grant, Error, FormParams, OAuthToken, TokenEndpoint};

pub trait Grants: TokenEndpoint {
    #[oauth_grant(grant_type = "password", retries = 3)]
    fn grant(&self, username: &str, #[form] password: &str, #[form(rename = "password")] pw: &str) -> Result<OAuthToken, Error>;
}

pub struct Client(oauth_client::OAuthClient);

impl TokenEndpoint for Client {
    fn oauth_client(&self) -> &oauth_client::OAuthClient {
        &self.0
    }
}

// No follow-on error: the trait is still emitted, with the method in place.
impl Grants for Client {}
fn main() {}
