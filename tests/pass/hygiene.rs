//! Generated code names only `::oauth_client::__private`, `::core` and `::std`: a crate that
//! shadows common names beside a grant still compiles, without a warning.
#![deny(warnings)]

use oauth_client::{oauth_grant, Error, FormParams, OAuthClient, OAuthToken, TokenEndpoint};

#[allow(dead_code)]
struct Result;
#[allow(dead_code)]
struct Option;
#[allow(dead_code)]
struct Send;
#[allow(dead_code)]
struct Future;
#[allow(dead_code)]
struct GrantRequest;
#[allow(dead_code)]
mod reqwest {}
#[allow(dead_code)]
mod serde {}
#[allow(dead_code)]
mod oauth_macros {}

pub trait Grants: TokenEndpoint {
    /// A documented grant whose parameters reuse the names generated code might use.
    #[oauth_grant(grant_type = "client_credentials")]
    async fn grant(
        &self,
        #[header("Authorization")] __request: &str,
        #[form] __client: ::core::option::Option<&str>,
        #[form(rename = "self")] request: &str,
        #[form_params] additional: ::core::option::Option<&FormParams>,
    ) -> ::core::result::Result<OAuthToken, Error>;
}

impl Grants for OAuthClient {}

fn main() {
    let client = OAuthClient::new("http://127.0.0.1:9/token").unwrap();
    let _future = client.grant("Basic eA==", ::core::option::Option::None, "x", ::core::option::Option::None);
}
