pub trait OAuthAuthorization: TokenEndpoint {
    #[doc(hidden)]
    const __OAUTH_GRANT_EXCHANGE_TOKEN: ::oauth_client::__private::GrantDescriptor = ::oauth_client::__private::GrantDescriptor::__new(
        "exchange_token",
        "",
        ::core::option::Option::Some("urn:ietf:params:oauth:grant-type:token-exchange"),
        ::oauth_client::__private::Endpoint::TOKEN,
        "POST",
        true,
        &[
            ::oauth_client::__private::FieldDescriptor::__new(
                "subject_token",
                ::oauth_client::__private::FieldKind::Form,
                true,
                false,
            ),
            ::oauth_client::__private::FieldDescriptor::__new(
                "audience",
                ::oauth_client::__private::FieldKind::Form,
                false,
                false,
            ),
            ::oauth_client::__private::FieldDescriptor::__new(
                "type",
                ::oauth_client::__private::FieldKind::Form,
                true,
                false,
            ),
        ],
        false,
        ::oauth_client::__private::ResponseKind::Json,
    );
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
