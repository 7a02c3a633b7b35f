//! The `#[oauth_grant]` attribute macro.
//!
//! This crate is an implementation detail of [`oauth-client`](https://docs.rs/oauth-client):
//! depend on `oauth-client` and write `oauth_client::oauth_grant`. The generated code only
//! names `::oauth_client::__private`, `::core` and `::std`, so its output is stable only
//! together with the matching `oauth-client` version.
//!
//! The pipeline is one job per module: `args` parses the macro arguments, `attr` the
//! parameter attributes, `ast` builds the model of one grant method, `valid` cross-checks
//! it, and `expand` turns it into tokens.

mod args;
mod ast;
mod attr;
mod ctxt;
mod expand;
mod valid;

use proc_macro::TokenStream;

/// Turns an `async fn` declared in a trait (whose supertrait is `oauth_client::TokenEndpoint`)
/// into a default method that sends the declared token request and decodes the response.
///
/// See the `oauth-client` crate documentation for the accepted syntax.
#[proc_macro_attribute]
pub fn oauth_grant(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::oauth_grant(args.into(), item.into()).into()
}

/// The descriptors of methods declared with `#[oauth_grant]`, as an array.
///
/// Each item names a trait and one of its declared methods; the trait must be implemented by
/// `oauth_client::OAuthClient`. A method not declared with `#[oauth_grant]` has no
/// descriptor: naming it is an error on the method's name. See `oauth_client::declared`.
///
/// ```text
/// use oauth_client::{grants, OAuthAuthorization};
/// use my_provider::SamlBearer;
///
/// let [ccg, saml] = grants![OAuthAuthorization::request_token_ccg, SamlBearer::request_token_saml];
/// assert_eq!(saml.grant_type(), Some("urn:ietf:params:oauth:grant-type:saml2-bearer"));
/// ```
#[proc_macro]
pub fn grants(input: TokenStream) -> TokenStream {
    expand::grants(input.into()).into()
}
