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
