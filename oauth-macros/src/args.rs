//! The arguments of `#[oauth_grant(...)]`.

use proc_macro2::Span;
use proc_macro2::TokenStream;
use syn::LitStr;
use syn::meta::ParseNestedMeta;

use crate::ctxt::Ctxt;

/// What the macro arguments declare about the request.
pub(crate) struct GrantArgs {
    /// The `grant_type` form field: required for the token endpoint, refused elsewhere.
    pub(crate) grant_type: Option<LitStr>,
    /// The endpoint's name (`revocation`, `vendor_consent`, ...); `None` means the token
    /// endpoint.
    pub(crate) endpoint: Option<LitStr>,
    /// Whether the client's configured authentication applies (`client_auth = false`: no).
    pub(crate) client_auth: bool,
    /// The HTTP method when not POST: `GET` and `DELETE` send the fields in the query, `PUT`
    /// a body like POST's.
    pub(crate) method: Option<LitStr>,
}

const EXPECTED: &str =
    "expected `grant_type = \"...\"`, `endpoint = \"...\"`, `client_auth = false` or `method = \"GET\"`";

/// The methods a declared request may use.
const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];

/// An endpoint name as providers' metadata spell it before `_endpoint`: lowercase letters,
/// digits and underscores, starting with a letter.
fn is_endpoint_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

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
    let mut endpoint: Option<LitStr> = None;
    let mut client_auth: Option<syn::LitBool> = None;
    let mut method: Option<LitStr> = None;
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
            if !is_endpoint_name(&name) {
                return Err(syn::Error::new(
                    literal.span(),
                    format!(
                        "invalid endpoint name `{name}`; write it as the provider's metadata does before \
                         `_endpoint`, in lowercase snake case, e.g. `endpoint = \"pushed_authorization_request\"`"
                    ),
                ));
            }
            endpoint = Some(literal);
            Ok(())
        } else if meta.path.is_ident("client_auth") {
            let value = meta
                .value()
                .map_err(|_| meta.error("`client_auth` takes a bool, e.g. `client_auth = false`"))?;
            let literal = value.parse::<syn::LitBool>().map_err(|error| {
                syn::Error::new(
                    error.span(),
                    "`client_auth` takes `true` or `false`, e.g. `client_auth = false`",
                )
            })?;
            if client_auth.is_some() {
                return Err(meta.error("duplicate `client_auth`; give it once"));
            }
            client_auth = Some(literal);
            Ok(())
        } else if meta.path.is_ident("method") {
            let literal = string_value(&meta, "method", "GET")?;
            if method.is_some() {
                return Err(meta.error("duplicate `method`; give it once"));
            }
            if !METHODS.contains(&literal.value().as_str()) {
                return Err(syn::Error::new(
                    literal.span(),
                    format!(
                        "unsupported method `{}`; write `\"GET\"`, `\"PUT\"`, `\"DELETE\"` or `\"POST\"` (the default)",
                        literal.value()
                    ),
                ));
            }
            method = Some(literal);
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
            client_auth: true,
            method: None,
        };
    }
    let token_endpoint = endpoint.as_ref().is_none_or(|literal| literal.value() == "token");
    match (&endpoint, &grant_type) {
        (Some(literal), Some(grant)) if !token_endpoint => ctxt.error_spanned(
            grant,
            format!(
                "the `{}` endpoint takes no `grant_type`; remove `grant_type = ...` (it is only for the token endpoint)",
                literal.value()
            ),
        ),
        (_, None) if token_endpoint => ctxt.error_at(
            Span::call_site(),
            "missing `grant_type`; write e.g. `#[oauth_grant(grant_type = \"client_credentials\")]`, \
             or name another endpoint with `endpoint = \"...\"`",
        ),
        _ => {}
    }
    let client_auth = client_auth.is_none_or(|literal| literal.value);
    let method = method.filter(|literal| literal.value() != "POST");
    if let Some(literal) = &method {
        let name = literal.value();
        if token_endpoint {
            ctxt.error_spanned(
                literal,
                format!("the token endpoint takes POST (RFC 6749 §3.2); remove `method = \"{name}\"`"),
            );
        } else if client_auth {
            ctxt.error_spanned(
                literal,
                format!(
                    "a {name} carries no client authentication (its fields would go in the URL, or the body is \
                     not a form); add `client_auth = false` (authorize it with a header, e.g. a bearer token)"
                ),
            );
        }
    }
    GrantArgs { grant_type, endpoint: endpoint.filter(|_| !token_endpoint), client_auth, method }
}
