use oauth_client::{grants, TokenEndpoint};

pub trait Helpers: TokenEndpoint {
    /// Not declared with `#[oauth_grant]`: it has no descriptor.
    fn describe(&self) -> String {
        String::new()
    }
}

impl Helpers for oauth_client::OAuthClient {}

fn main() {
    let _ = grants![Helpers::describe];
}
