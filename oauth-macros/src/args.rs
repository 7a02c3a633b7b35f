//! The arguments of `#[oauth_grant(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::LitStr;
use syn::meta::ParseNestedMeta;

use crate::ctxt::Ctxt;

/// What the macro arguments declare about the request.
pub(crate) struct GrantArgs {
    /// The `grant_type` form field; `None` only when it was missing (already reported).
    pub(crate) grant_type: Option<LitStr>,
}

const EXPECTED: &str = "expected `grant_type = \"...\"`";

pub(crate) fn parse(tokens: TokenStream, ctxt: &mut Ctxt) -> GrantArgs {
    let mut grant_type: Option<LitStr> = None;
    let parser = syn::meta::parser(|meta: ParseNestedMeta| {
        if meta.path.is_ident("grant_type") {
            let value = meta.value().map_err(|_| {
                meta.error("`grant_type` takes a string, e.g. `grant_type = \"client_credentials\"`")
            })?;
            let literal: LitStr = value.parse().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "`grant_type` takes a string literal, e.g. `grant_type = \"client_credentials\"`",
                )
            })?;
            if grant_type.is_some() {
                return Err(meta.error("duplicate `grant_type`; give it once"));
            }
            if literal.value().trim().is_empty() {
                return Err(syn::Error::new(
                    literal.span(),
                    "`grant_type` must not be empty, e.g. `grant_type = \"client_credentials\"`",
                ));
            }
            grant_type = Some(literal);
            Ok(())
        } else {
            let name = quote::ToTokens::to_token_stream(&meta.path).to_string().replace(' ', "");
            Err(meta.error(format!("unknown oauth_grant argument `{name}`; {EXPECTED}")))
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, tokens) {
        ctxt.push(error);
        // The argument list is unusable; do not also report it as missing.
        return GrantArgs { grant_type: grant_type.or_else(|| Some(LitStr::new("", Span::call_site()))) };
    }
    if grant_type.is_none() {
        ctxt.error_at(
            Span::call_site(),
            "missing `grant_type`; write e.g. `#[oauth_grant(grant_type = \"client_credentials\")]`",
        );
    }
    GrantArgs { grant_type }
}
