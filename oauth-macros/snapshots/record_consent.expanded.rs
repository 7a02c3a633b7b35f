pub trait OAuthAuthorization: TokenEndpoint {
    #[doc(hidden)]
    const __OAUTH_GRANT_RECORD_CONSENT: ::oauth_client::__private::GrantDescriptor = ::oauth_client::__private::GrantDescriptor::__new(
        "record_consent",
        "",
        ::core::option::Option::None,
        ::oauth_client::__private::Endpoint::named("vendor_consent"),
        "POST",
        false,
        &[
            ::oauth_client::__private::FieldDescriptor::__new(
                "Authorization",
                ::oauth_client::__private::FieldKind::Header,
                true,
                false,
            ),
            ::oauth_client::__private::FieldDescriptor::__new(
                "consent_id",
                ::oauth_client::__private::FieldKind::Form,
                true,
                false,
            ),
        ],
        false,
        ::oauth_client::__private::ResponseKind::Empty,
    );
    fn record_consent(
        &self,
        bearer: &str,
        consent_id: &str,
    ) -> impl ::core::future::Future<Output = Result<(), Error>> + ::core::marker::Send {
        let __client = <Self as ::oauth_client::TokenEndpoint>::oauth_client(self);
        async move {
            let mut __request = ::oauth_client::__private::GrantRequest::to_endpoint(
                    ::oauth_client::__private::Endpoint::named("vendor_consent"),
                )
                .without_client_auth();
            ::oauth_client::__private::HeaderField::add_to(
                &bearer,
                "Authorization",
                &mut __request,
            );
            ::oauth_client::__private::FormField::append_to(
                &consent_id,
                "consent_id",
                &mut __request,
            );
            ::oauth_client::__private::send_empty(__client, __request).await
        }
    }
}
