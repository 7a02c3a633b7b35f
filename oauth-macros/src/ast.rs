//! The model of one grant method, borrowed from the parsed trait item.

use syn::{
    FnArg, GenericArgument, Ident, Pat, PatType, PathArguments, ReturnType, Signature, TraitItemFn, Type,
};

use crate::args::GrantArgs;
use crate::attr::{self, ParamKind};
use crate::ctxt::Ctxt;

/// One `#[oauth_grant]` method.
pub(crate) struct Grant<'a> {
    pub(crate) item: &'a TraitItemFn,
    pub(crate) args: GrantArgs,
    pub(crate) params: Vec<Param<'a>>,
    /// `T` of the declared `Result<T, E>`: the model the response body decodes into.
    pub(crate) response: Option<&'a Type>,
}

/// One marked parameter of a grant method.
pub(crate) struct Param<'a> {
    pub(crate) kind: ParamKind,
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
}

impl<'a> Grant<'a> {
    /// Builds the model, reporting what cannot be modelled; the rest is checked by `valid`.
    pub(crate) fn from_syn(args: GrantArgs, item: &'a TraitItemFn, ctxt: &mut Ctxt) -> Self {
        let params = item
            .sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                FnArg::Receiver(_) => None,
                FnArg::Typed(pat_type) => Param::from_syn(pat_type, ctxt),
            })
            .collect();
        let response = match response_type(&item.sig) {
            Ok(ty) => Some(ty),
            Err(error) => {
                ctxt.push(error);
                None
            }
        };
        Grant { item, args, params, response }
    }
}

impl<'a> Param<'a> {
    fn from_syn(pat_type: &'a PatType, ctxt: &mut Ctxt) -> Option<Self> {
        let ident = match &*pat_type.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => &pat.ident,
            other => {
                ctxt.error_spanned(
                    other,
                    "use a plain parameter name here, e.g. `scope: Option<&str>`; patterns are not supported",
                );
                return None;
            }
        };
        let kind = attr::parse_param(&pat_type.attrs, ident, ctxt)?;
        Some(Param { kind, ident, ty: &pat_type.ty })
    }
}

const RETURN_HINT: &str = "an #[oauth_grant] method returns `Result<T, Error>` where `T` is the \
    response model, e.g. `-> Result<OAuthToken, Error>`";

/// Extracts `T` from `-> Result<T, E>` (or an alias `-> path::Result<T>`).
fn response_type(sig: &Signature) -> syn::Result<&Type> {
    let ty = match &sig.output {
        ReturnType::Type(_, ty) => &**ty,
        ReturnType::Default => {
            return Err(syn::Error::new(
                sig.paren_token.span.close(),
                format!("missing return type; {RETURN_HINT}"),
            ));
        }
    };
    let Type::Path(path) = ty else {
        return Err(syn::Error::new_spanned(ty, RETURN_HINT));
    };
    let last = path.path.segments.last().filter(|segment| segment.ident == "Result");
    let Some(PathArguments::AngleBracketed(arguments)) = last.map(|segment| &segment.arguments) else {
        return Err(syn::Error::new_spanned(ty, RETURN_HINT));
    };
    let types: Vec<&Type> = arguments
        .args
        .iter()
        .filter_map(|argument| match argument {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .collect();
    match types.as_slice() {
        [ok] | [ok, _] if types.len() == arguments.args.len() => Ok(*ok),
        _ => Err(syn::Error::new_spanned(ty, RETURN_HINT)),
    }
}
