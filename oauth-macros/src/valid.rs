//! Checks of a grant method that span more than one token: its signature and the
//! relations between its parameters.

use std::collections::HashSet;

use syn::{FnArg, GenericParam, ReceiverKind, Safety};

use crate::ast::Grant;
use crate::attr::ParamKind;
use crate::ctxt::Ctxt;

/// Headers the runtime sets itself; declaring them would send them twice.
const RESERVED_HEADERS: &[&str] = &["content-type", "content-length", "host", "transfer-encoding"];

pub(crate) fn check(grant: &Grant<'_>, ctxt: &mut Ctxt) {
    check_signature(grant, ctxt);
    check_params(grant, ctxt);
}

fn check_signature(grant: &Grant<'_>, ctxt: &mut Ctxt) {
    let item = grant.item;
    let sig = &item.sig;
    if sig.asyncness.is_none() {
        ctxt.error_spanned(
            sig.fn_token,
            format!("an #[oauth_grant] method is an `async fn`; write `async fn {}(...)`", sig.ident),
        );
    }
    if let Some(constness) = &sig.constness {
        ctxt.error_spanned(constness, "an #[oauth_grant] method cannot be `const`; remove `const`");
    }
    if let Safety::Unsafe(unsafety) = &sig.safety {
        ctxt.error_spanned(unsafety, "an #[oauth_grant] method cannot be `unsafe`; remove `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        ctxt.error_spanned(abi, "an #[oauth_grant] method cannot have an ABI; remove it");
    }
    if let Some(variadic) = &sig.variadic {
        ctxt.error_spanned(variadic, "an #[oauth_grant] method cannot be variadic");
    }
    if let Some(body) = &item.default {
        ctxt.error_spanned(
            body,
            "remove this body and end the declaration with `;`: #[oauth_grant] writes the body",
        );
    }
    for param in &sig.generics.params {
        if !matches!(param, GenericParam::Lifetime(_)) {
            ctxt.error_spanned(
                param,
                "an #[oauth_grant] method cannot have type or const parameters; use concrete types such as `&str`",
            );
        }
    }
    let receiver_ok = matches!(
        sig.inputs.first(),
        Some(FnArg::Receiver(receiver))
            if matches!(receiver.kind, ReceiverKind::Reference(_, _, None))
    );
    if !receiver_ok {
        let message = "an #[oauth_grant] method takes `&self` as its first parameter";
        match sig.inputs.first() {
            Some(FnArg::Receiver(receiver)) => ctxt.error_spanned(receiver, message),
            _ => ctxt.error_spanned(&sig.ident, message),
        }
    }
}

fn check_params(grant: &Grant<'_>, ctxt: &mut Ctxt) {
    let mut form_names: HashSet<&str> = HashSet::new();
    let mut header_names: HashSet<String> = HashSet::new();
    let mut form_params_seen = false;
    let mut json_seen = false;
    let form_seen =
        grant.params.iter().any(|param| matches!(param.kind, ParamKind::Form { .. } | ParamKind::FormParams));
    for param in &grant.params {
        match &param.kind {
            ParamKind::Form { wire_name, span } => {
                if wire_name == "grant_type" {
                    ctxt.error_at(
                        *span,
                        "`grant_type` is sent from `#[oauth_grant(grant_type = \"...\")]`; remove this parameter",
                    );
                } else if !form_names.insert(wire_name) {
                    ctxt.error_at(
                        *span,
                        format!("duplicate form field `{wire_name}`; give each field its own name (`#[form(rename = \"...\")]`)"),
                    );
                }
            }
            ParamKind::Header { name } => {
                let value = name.value();
                let lower = value.to_ascii_lowercase();
                if !is_token(&value) {
                    ctxt.error_spanned(
                        name,
                        format!("`{value}` is not a valid HTTP header name; use letters, digits and `-`, e.g. `\"X-Request-Id\"`"),
                    );
                } else if RESERVED_HEADERS.contains(&lower.as_str()) {
                    ctxt.error_spanned(
                        name,
                        format!("the client sets `{value}` itself; remove this parameter"),
                    );
                } else if !header_names.insert(lower) {
                    ctxt.error_spanned(name, format!("duplicate header `{value}`; declare each header once"));
                }
            }
            ParamKind::FormParams => {
                if form_params_seen {
                    ctxt.error_spanned(
                        param.ident,
                        "only one `#[form_params]` parameter is allowed; merge the additional fields into one `FormParams`",
                    );
                }
                form_params_seen = true;
            }
            ParamKind::Json => {
                let method = grant.args.method.as_ref().map(syn::LitStr::value);
                if json_seen {
                    ctxt.error_spanned(
                        param.ident,
                        "only one `#[json]` parameter is allowed: it is the whole body",
                    );
                } else if form_seen {
                    ctxt.error_spanned(
                        param.ident,
                        "`#[json]` is the whole body, so the request takes no `#[form]` or `#[form_params]`; \
                         put those fields in the JSON value",
                    );
                } else if matches!(method.as_deref(), Some("GET" | "DELETE")) {
                    ctxt.error_spanned(
                        param.ident,
                        format!(
                            "a {} has no body; send a `#[json]` body with POST or `method = \"PUT\"`",
                            method.unwrap_or_default()
                        ),
                    );
                } else if grant.args.client_auth {
                    ctxt.error_spanned(
                        param.ident,
                        "client authentication goes in a form body, not JSON; add `client_auth = false` \
                         (authorize the request with a header, e.g. `#[header(\"Authorization\")]`)",
                    );
                }
                json_seen = true;
            }
        }
    }
}

/// RFC 9110 §5.6.2 `token`: the characters allowed in a header name.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}
