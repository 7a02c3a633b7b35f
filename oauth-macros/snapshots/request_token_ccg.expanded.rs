pub trait OAuthAuthorization: TokenEndpoint {
    /// Client credentials grant.
    fn request_token_ccg(
        &self,
        authorization: &str,
        scope: Option<&str>,
        additional: Option<&FormParams>,
    ) -> impl ::core::future::Future<
        Output = Result<OAuthToken, Error>,
    > + ::core::marker::Send {
        let __client = <Self as ::oauth_client::TokenEndpoint>::oauth_client(self);
        async move {
            let mut __request = ::oauth_client::__private::GrantRequest::new(
                "client_credentials",
            );
            ::oauth_client::__private::HeaderField::add_to(
                &authorization,
                "Authorization",
                &mut __request,
            );
            ::oauth_client::__private::FormField::append_to(
                &scope,
                "scope",
                &mut __request,
            );
            ::oauth_client::__private::AdditionalForm::extend(
                &additional,
                &mut __request,
            );
            ::oauth_client::__private::send::<OAuthToken, _>(__client, __request).await
        }
    }
}
