pub trait OAuthAuthorization: TokenEndpoint {
    #[doc(hidden)]
    const __OAUTH_GRANT_REQUEST_TOKEN_CCG: ::oauth_client::__private::GrantDescriptor = ::oauth_client::__private::GrantDescriptor::__new(
        "request_token_ccg",
        "Client credentials grant.",
        ::core::option::Option::Some("client_credentials"),
        ::oauth_client::__private::Endpoint::TOKEN,
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
                "scope",
                ::oauth_client::__private::FieldKind::Form,
                false,
                false,
            ),
        ],
        true,
        ::oauth_client::__private::ResponseKind::Token,
    );
    /// Client credentials grant.
    fn request_token_ccg<'a>(
        &self,
        authorization: impl Into<ClientAuthorization<'a>>,
        scope: Option<&str>,
        additional: Option<&FormParams>,
    ) -> impl ::core::future::Future<
        Output = Result<OAuthToken, Error>,
    > + ::core::marker::Send {
        let authorization: ClientAuthorization<'a> = ::core::convert::Into::into(
            authorization,
        );
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
            ::oauth_client::__private::send_token(__client, __request).await
        }
    }
}
