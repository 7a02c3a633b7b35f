//! The helper attributes on the parameters of a grant method:
//! `#[form]`, `#[form(rename = "...")]`, `#[header("Name")]`, `#[form_params]` and `#[json]`.

use proc_macro2::Span;
use syn::{Attribute, Ident, LitStr, Meta};

use crate::ctxt::Ctxt;

/// What a parameter contributes to the request.
pub(crate) enum ParamKind {
    /// A form field sent under `wire_name`.
    Form { wire_name: String, span: Span },
    /// A request header.
    Header { name: LitStr },
    /// The caller's additional form fields, merged after the named ones.
    FormParams,
    /// The whole request body, as JSON.
    Json,
}

const MARKERS: &str =
    "`#[form]`, `#[form(rename = \"...\")]`, `#[header(\"Name\")]`, `#[form_params]` or `#[json]`";

/// Whether `attr` is one of the helper attributes this macro consumes (and strips).
pub(crate) fn is_helper(attr: &Attribute) -> bool {
    let path = attr.path();
    path.is_ident("form") || path.is_ident("header") || path.is_ident("form_params") || path.is_ident("json")
}

/// Reads the helper attributes of one parameter named `ident`. Reports a parameter with no
/// marker or with more than one; returns the first valid marker.
pub(crate) fn parse_param(attrs: &[Attribute], ident: &Ident, ctxt: &mut Ctxt) -> Option<ParamKind> {
    let mut kind: Option<ParamKind> = None;
    let mut seen_marker = false;
    for attr in attrs.iter().filter(|attr| is_helper(attr)) {
        if seen_marker {
            ctxt.error_spanned(
                attr,
                format!(
                    "parameter `{ident}` is marked twice; a parameter is one of {MARKERS}: keep one attribute"
                ),
            );
            continue;
        }
        seen_marker = true;
        kind = match parse_one(attr, ident) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                ctxt.push(error);
                None
            }
        };
    }
    if !seen_marker {
        ctxt.error_spanned(ident, format!("parameter `{ident}` is not marked; mark it with {MARKERS}"));
    }
    kind
}

fn parse_one(attr: &Attribute, ident: &Ident) -> syn::Result<ParamKind> {
    let path = attr.path();
    if path.is_ident("form") {
        parse_form(attr, ident)
    } else if path.is_ident("header") {
        parse_header(attr)
    } else if path.is_ident("json") {
        match &attr.meta {
            Meta::Path(_) => Ok(ParamKind::Json),
            _ => Err(syn::Error::new_spanned(&attr.meta, "`#[json]` takes no arguments; write `#[json]`")),
        }
    } else {
        match &attr.meta {
            Meta::Path(_) => Ok(ParamKind::FormParams),
            _ => Err(syn::Error::new_spanned(
                &attr.meta,
                "`#[form_params]` takes no arguments; write `#[form_params]`",
            )),
        }
    }
}

fn parse_form(attr: &Attribute, ident: &Ident) -> syn::Result<ParamKind> {
    let default_name = || {
        // A raw identifier (`r#type`) is sent without its `r#` prefix.
        let name = ident.to_string();
        name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
    };
    match &attr.meta {
        Meta::Path(_) => Ok(ParamKind::Form { wire_name: default_name(), span: ident.span() }),
        Meta::NameValue(meta) => Err(syn::Error::new_spanned(
            meta,
            "write `#[form(rename = \"...\")]` to send this field under another name",
        )),
        Meta::List(_) => {
            let mut rename: Option<LitStr> = None;
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let literal: LitStr = meta.value()?.parse().map_err(|error| {
                        syn::Error::new(
                            error.span(),
                            "`rename` takes a string literal, e.g. `rename = \"audience\"`",
                        )
                    })?;
                    if rename.is_some() {
                        return Err(meta.error("duplicate `rename`; give it once"));
                    }
                    if literal.value().is_empty() {
                        return Err(syn::Error::new(literal.span(), "`rename` must not be empty"));
                    }
                    rename = Some(literal);
                    Ok(())
                } else {
                    let name = quote::ToTokens::to_token_stream(&meta.path).to_string().replace(' ', "");
                    Err(meta.error(format!("unknown `form` option `{name}`; expected `rename = \"...\"`")))
                }
            })?;
            match rename {
                Some(literal) => Ok(ParamKind::Form { wire_name: literal.value(), span: literal.span() }),
                None => Ok(ParamKind::Form { wire_name: default_name(), span: ident.span() }),
            }
        }
    }
}

fn parse_header(attr: &Attribute) -> syn::Result<ParamKind> {
    const EXAMPLE: &str = "e.g. `#[header(\"Authorization\")]`";
    let Meta::List(list) = &attr.meta else {
        return Err(syn::Error::new_spanned(
            &attr.meta,
            format!("`#[header]` needs the header name, {EXAMPLE}"),
        ));
    };
    let name: LitStr = list.parse_args().map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("`#[header(...)]` takes the header name as one string, {EXAMPLE}"),
        )
    })?;
    Ok(ParamKind::Header { name })
}
