pub trait OAuthAuthorization: TokenEndpoint {
    #[doc(hidden)]
    const __OAUTH_GRANT_REVOKE_TOKEN: ::oauth_client::__private::GrantDescriptor = ::oauth_client::__private::GrantDescriptor::__new(
        "revoke_token",
        "",
        ::core::option::Option::None,
        ::oauth_client::__private::Endpoint::named("revocation"),
        "POST",
        true,
        &[
            ::oauth_client::__private::FieldDescriptor::__new(
                "Authorization",
                ::oauth_client::__private::FieldKind::Header,
                true,
                false,
            ),
            ::oauth_client::__private::FieldDescriptor::__new(
                "token",
                ::oauth_client::__private::FieldKind::Form,
                true,
                false,
            ),
        ],
        false,
        ::oauth_client::__private::ResponseKind::Empty,
    );
    fn revoke_token(
        &self,
        authorization: &str,
        token: &str,
    ) -> impl ::core::future::Future<Output = Result<(), Error>> + ::core::marker::Send {
        let __client = <Self as ::oauth_client::TokenEndpoint>::oauth_client(self);
        async move {
            let mut __request = ::oauth_client::__private::GrantRequest::to_endpoint(
                ::oauth_client::__private::Endpoint::named("revocation"),
            );
            ::oauth_client::__private::HeaderField::add_to(
                &authorization,
                "Authorization",
                &mut __request,
            );
            ::oauth_client::__private::FormField::append_to(
                &token,
                "token",
                &mut __request,
            );
            ::oauth_client::__private::send_empty(__client, __request).await
        }
    }
}
