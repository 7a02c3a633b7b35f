use oauth_client::oauth_grant;

#[oauth_grant(grant_type = "client_credentials")]
pub struct Grants;

fn main() {}
