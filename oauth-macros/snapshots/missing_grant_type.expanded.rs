pub trait OAuthAuthorization: TokenEndpoint {
    ::core::compile_error! {
        "missing `grant_type`; write e.g. `#[oauth_grant(grant_type = \"client_credentials\")]`, or name another endpoint with `endpoint = \"...\"`"
    }
    #[allow(unused_variables)]
    async fn grant(&self, scope: Option<&str>) -> Result<OAuthToken, Error> {
        ::core::unimplemented!()
    }
}
