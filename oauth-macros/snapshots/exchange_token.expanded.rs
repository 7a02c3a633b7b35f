pub trait OAuthAuthorization: TokenEndpoint {
    fn exchange_token(
        &self,
        subject_token: &str,
        aud: Option<&str>,
        r#type: u32,
    ) -> impl ::core::future::Future<
        Output = Result<Exchanged, MyError>,
    > + ::core::marker::Send {
        let __client = <Self as ::oauth_client::TokenEndpoint>::oauth_client(self);
        async move {
            let mut __request = ::oauth_client::__private::GrantRequest::new(
                "urn:ietf:params:oauth:grant-type:token-exchange",
            );
            ::oauth_client::__private::FormField::append_to(
                &subject_token,
                "subject_token",
                &mut __request,
            );
            ::oauth_client::__private::FormField::append_to(
                &aud,
                "audience",
                &mut __request,
            );
            ::oauth_client::__private::FormField::append_to(
                &r#type,
                "type",
                &mut __request,
            );
            ::oauth_client::__private::send::<Exchanged, _>(__client, __request).await
        }
    }
}
