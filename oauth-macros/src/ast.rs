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

/// The type under references, parentheses and invisible groups.
fn peeled(ty: &Type) -> &Type {
    match ty {
        Type::Reference(reference) => peeled(&reference.elem),
        Type::Paren(paren) => peeled(&paren.elem),
        Type::Group(group) => peeled(&group.elem),
        other => other,
    }
}

/// The single type argument of `Name<T>` when the path's last segment is `name`.
fn type_argument<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(path) = peeled(ty) else { return None };
    let last = path.path.segments.last().filter(|segment| segment.ident == name)?;
    let PathArguments::AngleBracketed(arguments) = &last.arguments else { return None };
    match arguments.args.first() {
        Some(GenericArgument::Type(inner)) if arguments.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// `T` of a parameter declared `impl Into<T>`: the caller passes anything that converts.
fn into_target(ty: &Type) -> Option<&Type> {
    let Type::ImplTrait(impl_trait) = ty else { return None };
    let [syn::TypeParamBound::Trait(bound)] = impl_trait.bounds.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let last = bound.path.segments.last().filter(|segment| segment.ident == "Into")?;
    let PathArguments::AngleBracketed(arguments) = &last.arguments else { return None };
    match arguments.args.first() {
        Some(GenericArgument::Type(target)) if arguments.args.len() == 1 => Some(target),
        _ => None,
    }
}

impl<'a> Param<'a> {
    /// `T` when the parameter is declared `impl Into<T>`: the generated method converts the
    /// argument first, then sends `T` as any parameter of that type.
    pub(crate) fn converted_to(&self) -> Option<&'a Type> {
        into_target(self.ty)
    }

    /// The type whose value is sent: `T` of `impl Into<T>`, else the declared type.
    fn sent_type(&self) -> &'a Type {
        self.converted_to().unwrap_or(self.ty)
    }

    /// Whether the declared type is an `Option` (the value may be left out).
    pub(crate) fn is_optional(&self) -> bool {
        type_argument(self.sent_type(), "Option").is_some()
    }

    /// Whether the value is a list whose items are sent as fields of the same name (a slice
    /// or a `Vec`, possibly in an `Option`).
    pub(crate) fn is_repeated(&self) -> bool {
        let ty = type_argument(self.sent_type(), "Option").unwrap_or(self.sent_type());
        matches!(peeled(ty), Type::Slice(_) | Type::Array(_)) || type_argument(ty, "Vec").is_some()
    }
}

/// How the declared success type is read, as the runtime's `ResponseKind` names it.
pub(crate) enum ResponseKind {
    /// `OAuthToken`.
    Token,
    /// `()`.
    Empty,
    /// Any other model.
    Json,
}

impl Grant<'_> {
    /// What the success type is, by its syntax: `()`, a path ending in `OAuthToken`, or
    /// another model.
    pub(crate) fn response_kind(&self) -> ResponseKind {
        match self.response.map(peeled) {
            Some(Type::Tuple(tuple)) if tuple.elems.is_empty() => ResponseKind::Empty,
            Some(Type::Path(path))
                if path.path.segments.last().is_some_and(|last| last.ident == "OAuthToken") =>
            {
                ResponseKind::Token
            }
            _ => ResponseKind::Json,
        }
    }

    /// The first paragraph of the method's doc comment, on one line.
    pub(crate) fn summary(&self) -> String {
        let mut lines = Vec::new();
        for attr in &self.item.attrs {
            let syn::Meta::NameValue(meta) = &attr.meta else { continue };
            if !meta.path.is_ident("doc") {
                continue;
            }
            let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }) = &meta.value else { continue };
            let text = text.value();
            let line = text.trim();
            if line.is_empty() {
                if lines.is_empty() {
                    continue;
                }
                break;
            }
            lines.push(line.to_owned());
        }
        without_links(&lines.join(" "))
    }
}

/// Markdown links reduced to their text: "[`send`](Self::send)" and "[`send`]" read "`send`".
fn without_links(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|close| open + close) else { break };
        plain.push_str(&rest[..open]);
        plain.push_str(&rest[open + 1..close]);
        rest = &rest[close + 1..];
        if rest.starts_with('(')
            && let Some(end) = rest.find(')')
        {
            rest = &rest[end + 1..];
        }
    }
    plain.push_str(rest);
    plain
}

#[cfg(test)]
mod tests {
    #[test]
    fn summaries_read_links_as_their_text() {
        assert_eq!(
            super::without_links("Sends [`a`](Self::a) and [`b`], then [c] (d)."),
            "Sends `a` and `b`, then c (d)."
        );
        assert_eq!(super::without_links("an [unclosed bracket"), "an [unclosed bracket");
    }
}
