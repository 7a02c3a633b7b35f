//! Turns a validated grant into tokens (`quote!` only), or, on error, re-emits the method so
//! the trait still exists and no follow-on errors cascade.
//!
//! What one grant expands to — the method, which builds the request and hands it to
//! `send_token`, `send_empty` or `send` as its success type says, and the hidden
//! `GrantDescriptor` constant `grants!` reads — is in the reviewed snapshots,
//! `oauth-macros/snapshots/*.expanded.rs` (`request_token_ccg.expanded.rs` first).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, TraitItemFn};

use crate::args;
use crate::ast::{Grant, ResponseKind};
use crate::attr::{self, ParamKind};
use crate::ctxt::Ctxt;
use crate::valid;

/// The whole macro on `proc_macro2` tokens, so it can be unit-tested.
pub(crate) fn oauth_grant(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: TraitItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "#[oauth_grant] goes on an `async fn` declared in a trait, \
                 e.g. `#[oauth_grant(grant_type = \"client_credentials\")] async fn request_token(&self, ...) -> Result<OAuthToken, Error>;`",
            );
            let mut tokens = error.to_compile_error();
            tokens.extend(item);
            return tokens;
        }
    };
    let mut ctxt = Ctxt::default();
    let args = args::parse(args, &mut ctxt);
    let grant = Grant::from_syn(args, &item, &mut ctxt);
    valid::check(&grant, &mut ctxt);
    match ctxt.finish() {
        Ok(()) => expand(&grant),
        Err(errors) => fallback(&item, &errors),
    }
}

/// The declared method with the helper attributes stripped from its parameters.
fn stripped(item: &TraitItemFn) -> TraitItemFn {
    let mut item = item.clone();
    for input in &mut item.sig.inputs {
        if let FnArg::Typed(pat_type) = input {
            pat_type.attrs.retain(|attr| !attr::is_helper(attr));
        }
    }
    item
}

fn expand(grant: &Grant<'_>) -> TokenStream {
    let item = stripped(grant.item);
    let attrs = &item.attrs;
    let sig = &item.sig;
    let ident = &sig.ident;
    let generics = &sig.generics;
    let where_clause = &generics.where_clause;
    let inputs = &sig.inputs;
    let output = match &sig.output {
        syn::ReturnType::Type(_, ty) => ty,
        syn::ReturnType::Default => unreachable!("validated: a grant method declares its return type"),
    };
    let response = grant.response.expect("validated: the return type is `Result<T, E>`");
    let new_request = match (&grant.args.endpoint, &grant.args.grant_type) {
        (Some(endpoint), _) => quote! {
            ::oauth_client::__private::GrantRequest::to_endpoint(::oauth_client::__private::Endpoint::named(#endpoint))
        },
        (None, Some(grant_type)) => quote!(::oauth_client::__private::GrantRequest::new(#grant_type)),
        (None, None) => unreachable!("validated: the token endpoint has a `grant_type`"),
    };
    let new_request =
        if grant.args.client_auth { new_request } else { quote!(#new_request.without_client_auth()) };
    let new_request = match &grant.args.method {
        Some(method) => quote!(#new_request.with_method(#method)),
        None => new_request,
    };

    // Mixed-site hygiene: these locals can never clash with a user's parameter names.
    let client = Ident::new("__client", Span::mixed_site());
    let request = Ident::new("__request", Span::mixed_site());

    let steps = grant.params.iter().map(|param| {
        let name = param.ident;
        // Spanned at the parameter's type: an unsupported type is reported on the user's line.
        let span = param.ty.span();
        match &param.kind {
            ParamKind::Form { wire_name, .. } => quote_spanned! {span=>
                ::oauth_client::__private::FormField::append_to(&#name, #wire_name, &mut #request);
            },
            ParamKind::Header { name: header } => quote_spanned! {span=>
                ::oauth_client::__private::HeaderField::add_to(&#name, #header, &mut #request);
            },
            ParamKind::FormParams => quote_spanned! {span=>
                ::oauth_client::__private::AdditionalForm::extend(&#name, &mut #request);
            },
            ParamKind::Json => quote_spanned! {span=>
                ::oauth_client::__private::json_body(&#name, &mut #request);
            },
        }
    });
    // `impl Into<T>` parameters become `T` before the future is built, so the future holds
    // only the converted value.
    let conversions = grant.params.iter().filter_map(|param| {
        let name = param.ident;
        let target = param.converted_to()?;
        Some(quote_spanned! {param.ty.span()=>
            let #name: #target = ::core::convert::Into::into(#name);
        })
    });
    let resolve_client = quote_spanned! {ident.span()=>
        let #client = <Self as ::oauth_client::TokenEndpoint>::oauth_client(self);
    };
    // The declared success type picks the reading at expansion time: a token (its expiry
    // set), nothing, or any other model.
    let send = match grant.response_kind() {
        ResponseKind::Token => quote_spanned! {response.span()=>
            ::oauth_client::__private::send_token(#client, #request).await
        },
        ResponseKind::Empty => quote_spanned! {response.span()=>
            ::oauth_client::__private::send_empty(#client, #request).await
        },
        ResponseKind::Json => quote_spanned! {response.span()=>
            ::oauth_client::__private::send::<#response, _>(#client, #request).await
        },
    };

    let descriptor = descriptor(grant);

    quote! {
        #descriptor

        #(#attrs)*
        fn #ident #generics (#inputs)
            -> impl ::core::future::Future<Output = #output> + ::core::marker::Send
            #where_clause
        {
            #(#conversions)*
            #resolve_client
            async move {
                let mut #request = #new_request;
                #(#steps)*
                #send
            }
        }
    }
}

/// The name of the hidden associated constant that describes the method `method`.
pub(crate) fn descriptor_ident(method: &Ident) -> Ident {
    let name = method.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name).to_uppercase();
    Ident::new(&format!("__OAUTH_GRANT_{name}"), method.span())
}

/// The method's `GrantDescriptor`, as a hidden associated constant of the trait, for
/// `grants!` to name.
fn descriptor(grant: &Grant<'_>) -> TokenStream {
    let private = quote!(::oauth_client::__private);
    let method = &grant.item.sig.ident;
    let name = method.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    let summary = grant.summary();
    let grant_type = match (&grant.args.endpoint, &grant.args.grant_type) {
        (None, Some(grant_type)) => quote!(::core::option::Option::Some(#grant_type)),
        _ => quote!(::core::option::Option::None),
    };
    let endpoint = match &grant.args.endpoint {
        Some(endpoint) => quote!(#private::Endpoint::named(#endpoint)),
        None => quote!(#private::Endpoint::TOKEN),
    };
    let http_method = grant.args.method.as_ref().map_or_else(|| "POST".to_owned(), |method| method.value());
    let client_auth = grant.args.client_auth && grant.args.method.is_none();
    let fields = grant.params.iter().filter_map(|param| {
        let (wire_name, kind) = match &param.kind {
            ParamKind::Form { wire_name, .. } => (wire_name.clone(), quote!(Form)),
            ParamKind::Header { name } => (name.value(), quote!(Header)),
            ParamKind::Json => (param.ident.to_string(), quote!(Json)),
            ParamKind::FormParams => return None,
        };
        let required = !param.is_optional();
        let repeated = param.is_repeated();
        Some(quote! {
            #private::FieldDescriptor::__new(#wire_name, #private::FieldKind::#kind, #required, #repeated)
        })
    });
    let additional_fields = grant.params.iter().any(|param| matches!(param.kind, ParamKind::FormParams));
    let response = match grant.response_kind() {
        ResponseKind::Token => quote!(Token),
        ResponseKind::Empty => quote!(Empty),
        ResponseKind::Json => quote!(Json),
    };
    let ident = descriptor_ident(method);
    quote! {
        #[doc(hidden)]
        const #ident: #private::GrantDescriptor = #private::GrantDescriptor::__new(
            #name,
            #summary,
            #grant_type,
            #endpoint,
            #http_method,
            #client_auth,
            &[#(#fields),*],
            #additional_fields,
            #private::ResponseKind::#response,
        );
    }
}

/// `grants![Trait::method, ...]`: an array of the named methods' descriptors.
pub(crate) fn grants(input: TokenStream) -> TokenStream {
    let parser = syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated;
    let paths = match syn::parse::Parser::parse2(parser, input) {
        Ok(paths) => paths,
        Err(error) => return error.to_compile_error(),
    };
    let mut descriptors = Vec::new();
    for path in &paths {
        let segments: Vec<_> = path.segments.iter().collect();
        let Some((method, trait_path)) = segments.split_last().filter(|(_, rest)| !rest.is_empty()) else {
            return syn::Error::new_spanned(
                path,
                "name the trait and the method, e.g. `grants![OAuthAuthorization::request_token_ccg]`",
            )
            .to_compile_error();
        };
        let leading = path.leading_colon;
        let trait_path = trait_path.iter();
        let ident = descriptor_ident(&method.ident);
        descriptors.push(quote! {
            <::oauth_client::OAuthClient as #leading #(#trait_path)::*>::#ident
        });
    }
    quote!([#(#descriptors),*])
}

/// On error: the errors, plus the method as declared (helper attributes stripped) with a
/// placeholder body, so the trait and its impls still type-check.
fn fallback(item: &TraitItemFn, errors: &syn::Error) -> TokenStream {
    let mut item = stripped(item);
    item.default = Some(syn::parse_quote!({ ::core::unimplemented!() }));
    item.semi_token = None;
    item.attrs.push(syn::parse_quote!(#[allow(unused_variables)]));
    let errors = errors.to_compile_error();
    quote! {
        #errors
        #item
    }
}

#[cfg(test)]
mod tests;
