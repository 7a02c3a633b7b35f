//! The AT Protocol's OAuth scopes as typed values, rendered to the wire form
//! (atproto.com/specs/permission).

use std::fmt;

/// What a repository write may do (`repo:` scopes). None named: all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RepoAction {
    /// Create records.
    Create,
    /// Update records.
    Update,
    /// Delete records.
    Delete,
}

/// An account attribute (`account:` scopes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccountAttribute {
    /// The account's email address.
    Email,
    /// The repository as a whole (import, export).
    Repo,
    /// The account's status (activation, deactivation).
    Status,
}

/// An identity attribute (`identity:` scopes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdentityAttribute {
    /// The handle.
    Handle,
    /// Everything about the identity (`*`): handle and DID document.
    All,
}

/// One AT Protocol scope. `Display` gives the wire form; [`scope_string`] joins several.
///
/// ```
/// use oauth_client::atproto::{RepoAction, Scope, scope_string};
///
/// let scope = scope_string(&[
///     Scope::Atproto,
///     Scope::Repo { collection: "app.bsky.feed.post".into(), actions: vec![RepoAction::Create] },
///     Scope::Rpc { method: "app.bsky.feed.getTimeline".into(), audience: "did:web:api.bsky.app#bsky_appview".into() },
///     Scope::Blob { accept: vec!["image/*".into()] },
/// ]);
/// assert_eq!(
///     scope,
///     "atproto repo:app.bsky.feed.post?action=create \
///      rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23bsky_appview blob:image/*"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// `atproto`: required in every AT Protocol authorization; alone, it grants only the
    /// account's DID.
    Atproto,
    /// `transition:generic`: what an app password could do (the broad transitional scope).
    TransitionGeneric,
    /// `transition:email`: the account's email address.
    TransitionEmail,
    /// `transition:chat.bsky`: Bluesky direct messages.
    TransitionChatBsky,
    /// `repo:<collection>`: writes to records of a collection (an NSID, or `*` for all),
    /// limited to `actions` when not empty.
    Repo {
        /// The collection's NSID, or `*`.
        collection: String,
        /// The actions allowed; empty: all.
        actions: Vec<RepoAction>,
    },
    /// `rpc:<method>?aud=<service>`: calls of an XRPC method (an NSID, or `*`) proxied to a
    /// service (`did:web:api.example#service_id`, or `*`).
    Rpc {
        /// The method's NSID, or `*`.
        method: String,
        /// The service DID with its fragment, or `*`.
        audience: String,
    },
    /// `blob:<mime>`: uploads of the given media types (`image/*`, `*/*`).
    Blob {
        /// The media types accepted.
        accept: Vec<String>,
    },
    /// `account:<attribute>`: reading it, or managing it too.
    Account {
        /// Which attribute.
        attribute: AccountAttribute,
        /// Whether it may be changed, not only read.
        manage: bool,
    },
    /// `identity:<attribute>`: changing the handle or the whole identity.
    Identity(IdentityAttribute),
    /// `include:<nsid>`: a permission set published under an NSID, optionally for one
    /// service.
    Include {
        /// The permission set's NSID.
        set: String,
        /// The service the set's `rpc:` permissions are for, if it leaves it open.
        audience: Option<String>,
    },
    /// Any other scope, sent as written.
    Other(String),
}

/// `#` would end the URL-like scope's query: services are written `%23`.
fn query_value(value: &str) -> String {
    value.replace('%', "%25").replace('#', "%23").replace('&', "%26").replace(' ', "%20")
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Atproto => f.write_str("atproto"),
            Scope::TransitionGeneric => f.write_str("transition:generic"),
            Scope::TransitionEmail => f.write_str("transition:email"),
            Scope::TransitionChatBsky => f.write_str("transition:chat.bsky"),
            Scope::Repo { collection, actions } => {
                write!(f, "repo:{collection}")?;
                for (index, action) in actions.iter().enumerate() {
                    let name = match action {
                        RepoAction::Create => "create",
                        RepoAction::Update => "update",
                        RepoAction::Delete => "delete",
                    };
                    write!(f, "{}action={name}", if index == 0 { '?' } else { '&' })?;
                }
                Ok(())
            }
            Scope::Rpc { method, audience } => write!(f, "rpc:{method}?aud={}", query_value(audience)),
            Scope::Blob { accept } => match accept.as_slice() {
                [one] => write!(f, "blob:{one}"),
                many => {
                    f.write_str("blob")?;
                    for (index, media) in many.iter().enumerate() {
                        write!(f, "{}accept={}", if index == 0 { '?' } else { '&' }, query_value(media))?;
                    }
                    Ok(())
                }
            },
            Scope::Account { attribute, manage } => {
                let name = match attribute {
                    AccountAttribute::Email => "email",
                    AccountAttribute::Repo => "repo",
                    AccountAttribute::Status => "status",
                };
                write!(f, "account:{name}{}", if *manage { "?action=manage" } else { "" })
            }
            Scope::Identity(IdentityAttribute::Handle) => f.write_str("identity:handle"),
            Scope::Identity(IdentityAttribute::All) => f.write_str("identity:*"),
            Scope::Include { set, audience } => {
                write!(f, "include:{set}")?;
                match audience {
                    Some(audience) => write!(f, "?aud={}", query_value(audience)),
                    None => Ok(()),
                }
            }
            Scope::Other(scope) => f.write_str(scope),
        }
    }
}

/// A scope as written (from configuration, a command line): the fixed ones become their
/// variant, so `"atproto"` is [`Scope::Atproto`]; the rest is kept as written
/// ([`Scope::Other`]), which renders the same.
///
/// ```
/// use oauth_client::atproto::Scope;
///
/// let scopes: Vec<Scope> = "atproto transition:generic repo:app.bsky.feed.post".split(' ').map(Scope::from).collect();
/// assert_eq!(scopes[..2], [Scope::Atproto, Scope::TransitionGeneric]);
/// assert_eq!(scopes[2].to_string(), "repo:app.bsky.feed.post");
/// ```
impl From<&str> for Scope {
    fn from(scope: &str) -> Self {
        match scope {
            "atproto" => Scope::Atproto,
            "transition:generic" => Scope::TransitionGeneric,
            "transition:email" => Scope::TransitionEmail,
            "transition:chat.bsky" => Scope::TransitionChatBsky,
            other => Scope::Other(other.to_owned()),
        }
    }
}

/// The space-separated `scope` parameter of several scopes.
pub fn scope_string(scopes: &[Scope]) -> String {
    scopes.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_renders_to_its_wire_form() {
        let cases = [
            (Scope::TransitionGeneric, "transition:generic"),
            (Scope::TransitionChatBsky, "transition:chat.bsky"),
            (Scope::Repo { collection: "*".into(), actions: vec![] }, "repo:*"),
            (
                Scope::Repo {
                    collection: "app.bsky.feed.post".into(),
                    actions: vec![RepoAction::Create, RepoAction::Delete],
                },
                "repo:app.bsky.feed.post?action=create&action=delete",
            ),
            (
                Scope::Blob { accept: vec!["image/*".into(), "video/mp4".into()] },
                "blob?accept=image/*&accept=video/mp4",
            ),
            (Scope::Account { attribute: AccountAttribute::Email, manage: false }, "account:email"),
            (
                Scope::Account { attribute: AccountAttribute::Repo, manage: true },
                "account:repo?action=manage",
            ),
            (Scope::Identity(IdentityAttribute::All), "identity:*"),
            (
                Scope::Include {
                    set: "app.example.authFull".into(),
                    audience: Some("did:web:api.example#svc".into()),
                },
                "include:app.example.authFull?aud=did:web:api.example%23svc",
            ),
        ];
        for (scope, wire) in cases {
            assert_eq!(scope.to_string(), wire);
        }
    }
}
