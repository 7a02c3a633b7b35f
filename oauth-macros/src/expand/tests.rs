//! The expansion of one grant, compared with a checked-in, readable snapshot.
//!
//! Run with `UPDATE_SNAPSHOTS=1` to rewrite the snapshots after a deliberate change, then
//! read the diff.

use std::path::PathBuf;

use quote::quote;

/// Pretty-prints the macro output inside a trait, as the compiler sees it.
fn expand_in_trait(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let method = super::oauth_grant(args, item);
    let file: syn::File = syn::parse2(quote! {
        pub trait OAuthAuthorization: TokenEndpoint {
            #method
        }
    })
    .expect("the expansion is valid Rust");
    prettyplease::unparse(&file)
}

fn assert_snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}; run with UPDATE_SNAPSHOTS=1", path.display()));
    assert_eq!(expected, actual, "the expansion changed; run with UPDATE_SNAPSHOTS=1 and review the diff");
}

#[test]
fn client_credentials_grant() {
    let expanded = expand_in_trait(
        quote!(grant_type = "client_credentials"),
        quote! {
            /// Client credentials grant.
            async fn request_token_ccg<'a>(
                &self,
                #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
                #[form] scope: Option<&str>,
                #[form_params] additional: Option<&FormParams>,
            ) -> Result<OAuthToken, Error>;
        },
    );
    assert_snapshot("request_token_ccg.expanded.rs", &expanded);
}

#[test]
fn renamed_field_and_custom_model() {
    let expanded = expand_in_trait(
        quote!(grant_type = "urn:ietf:params:oauth:grant-type:token-exchange"),
        quote! {
            async fn exchange_token(
                &self,
                #[form] subject_token: &str,
                #[form(rename = "audience")] aud: Option<&str>,
                #[form] r#type: u32,
            ) -> Result<Exchanged, MyError>;
        },
    );
    assert_snapshot("exchange_token.expanded.rs", &expanded);
}

#[test]
fn errors_keep_the_method_and_strip_helper_attributes() {
    let expanded = expand_in_trait(
        quote!(),
        quote! {
            async fn grant(&self, #[form] scope: Option<&str>) -> Result<OAuthToken, Error>;
        },
    );
    assert_snapshot("missing_grant_type.expanded.rs", &expanded);
}

#[test]
fn another_endpoint_sends_no_grant_type() {
    let expanded = expand_in_trait(
        quote!(endpoint = "revocation"),
        quote! {
            async fn revoke_token(
                &self,
                #[header("Authorization")] authorization: &str,
                #[form] token: &str,
            ) -> Result<(), Error>;
        },
    );
    assert_snapshot("revoke_token.expanded.rs", &expanded);
}

#[test]
fn a_teams_own_endpoint_without_client_authentication() {
    let expanded = expand_in_trait(
        quote!(endpoint = "vendor_consent", client_auth = false),
        quote! {
            async fn record_consent(
                &self,
                #[header("Authorization")] bearer: &str,
                #[form] consent_id: &str,
            ) -> Result<(), Error>;
        },
    );
    assert_snapshot("record_consent.expanded.rs", &expanded);
}
