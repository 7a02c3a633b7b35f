//! The arguments of `#[oauth_grant(...)]`.

use proc_macro2::Span;
use proc_macro2::TokenStream;
use syn::LitStr;
use syn::meta::ParseNestedMeta;

use crate::ctxt::Ctxt;

/// The provider endpoints a declared method can post to (RFC 6749, 8628, 7009, 7662).
pub(crate) const ENDPOINTS: &[(&str, &str)] = &[
    ("token", "Token"),
    ("device_authorization", "DeviceAuthorization"),
    ("revocation", "Revocation"),
    ("introspection", "Introspection"),
];

/// What the macro arguments declare about the request.
pub(crate) struct GrantArgs {
    /// The `grant_type` form field: required for the token endpoint, refused elsewhere.
    pub(crate) grant_type: Option<LitStr>,
    /// The endpoint's variant name in `__private::Endpoint`; `None` means the token endpoint.
    pub(crate) endpoint: Option<&'static str>,
}

const EXPECTED: &str = "expected `grant_type = \"...\"` or `endpoint = \"...\"`";

fn string_value(meta: &ParseNestedMeta, name: &str, example: &str) -> syn::Result<LitStr> {
    let value = meta
        .value()
        .map_err(|_| meta.error(format!("`{name}` takes a string, e.g. `{name} = \"{example}\"`")))?;
    value.parse::<LitStr>().map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("`{name}` takes a string literal, e.g. `{name} = \"{example}\"`"),
        )
    })
}

pub(crate) fn parse(tokens: TokenStream, ctxt: &mut Ctxt) -> GrantArgs {
    let mut grant_type: Option<LitStr> = None;
    let mut endpoint: Option<(LitStr, &'static str)> = None;
    let parser = syn::meta::parser(|meta: ParseNestedMeta| {
        if meta.path.is_ident("grant_type") {
            let literal = string_value(&meta, "grant_type", "client_credentials")?;
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
        } else if meta.path.is_ident("endpoint") {
            let literal = string_value(&meta, "endpoint", "revocation")?;
            if endpoint.is_some() {
                return Err(meta.error("duplicate `endpoint`; give it once"));
            }
            let name = literal.value();
            let Some((_, variant)) = ENDPOINTS.iter().find(|(known, _)| *known == name) else {
                let known: Vec<String> = ENDPOINTS.iter().map(|(known, _)| format!("`{known}`")).collect();
                return Err(syn::Error::new(
                    literal.span(),
                    format!("unknown endpoint `{name}`; expected one of {}", known.join(", ")),
                ));
            };
            endpoint = Some((literal, variant));
            Ok(())
        } else {
            let name = quote::ToTokens::to_token_stream(&meta.path).to_string().replace(' ', "");
            Err(meta.error(format!("unknown oauth_grant argument `{name}`; {EXPECTED}")))
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, tokens) {
        ctxt.push(error);
        // The argument list is unusable; report nothing more about it.
        return GrantArgs {
            grant_type: grant_type.or_else(|| Some(LitStr::new("", Span::call_site()))),
            endpoint: None,
        };
    }
    match (&endpoint, &grant_type) {
        (Some((literal, variant)), Some(grant)) if *variant != "Token" => ctxt.error_spanned(
            grant,
            format!(
                "the `{}` endpoint takes no `grant_type`; remove `grant_type = ...` (it is only for the token endpoint)",
                literal.value()
            ),
        ),
        (Some((_, "Token")) | None, None) => ctxt.error_at(
            Span::call_site(),
            "missing `grant_type`; write e.g. `#[oauth_grant(grant_type = \"client_credentials\")]`, \
             or name another endpoint with `endpoint = \"...\"`",
        ),
        _ => {}
    }
    GrantArgs {
        grant_type,
        endpoint: endpoint.map(|(_, variant)| variant).filter(|variant| *variant != "Token"),
    }
}
