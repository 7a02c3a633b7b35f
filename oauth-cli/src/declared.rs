//! Subcommands made from declared methods' descriptors: one flag per declared field, run
//! through [`DeclaredCall`](oauth_client::declared::DeclaredCall), so a grant declared with
//! `#[oauth_grant]` — in this library or in a team's crate — needs no CLI code.

use std::collections::HashSet;

use clap::{Arg, ArgAction, ArgMatches};
use oauth_client::declared::{DeclaredResponse, FieldDescriptor, FieldKind, GrantDescriptor};

/// A declared method offered as the subcommand `name`.
#[derive(Clone, Debug)]
pub(crate) struct DeclaredCommand {
    pub(crate) name: String,
    pub(crate) descriptor: GrantDescriptor,
    /// How a built-in command differs from a team's: its `Authorization` field is hidden
    /// (`--auth` and the client's flags authenticate it), credentials also come from the
    /// environment, and a success without content says what it means.
    pub(crate) builtin: Option<Builtin>,
}

/// `introspect`'s own flag.
const CHECK: &str = "check";

/// What a built-in command says when the provider answers without content.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Builtin {
    pub(crate) done: &'static str,
    /// Example command lines, shown after the flags in the command's help.
    pub(crate) examples: &'static str,
}

/// Fields whose values the built-in commands also read from the environment, so they stay
/// out of the process list: (field, variable, whether the value is a secret).
const FROM_ENVIRONMENT: [(&str, &str, bool); 3] = [
    ("username", "OAUTH_USERNAME", false),
    ("password", "OAUTH_PASSWORD", true),
    ("refresh_token", "OAUTH_REFRESH_TOKEN", true),
];

impl DeclaredCommand {
    /// The subcommand: its help from the method's documentation, a flag per field. Flags
    /// that would clash with `taken` (the shared flags) are prefixed with the field's kind.
    pub(crate) fn command(&self, taken: &HashSet<String>) -> clap::Command {
        let descriptor = &self.descriptor;
        let target = match descriptor.grant_type() {
            Some(grant_type) => format!("grant_type={grant_type} at the token endpoint"),
            None => format!("{} to the {} endpoint", descriptor.http_method(), descriptor.endpoint().name()),
        };
        let about = match descriptor.summary() {
            "" => format!("Declared `{}`: {target}", descriptor.method()),
            summary => summary.trim_end_matches('.').to_owned(),
        };
        let mut command = clap::Command::new(self.name.clone()).about(about).long_about(format!(
            "{}\n\nDeclared method `{}`: {target}.",
            descriptor.summary(),
            descriptor.method()
        ));
        let mut used = taken.clone();
        for (index, field) in descriptor.fields().iter().enumerate() {
            let builtin_header = self.builtin.is_some() && field.kind() == FieldKind::Header;
            let flag = flag_for(field, &mut used);
            let mut arg = Arg::new(arg_id(index))
                .long(flag)
                .value_name(field.name().to_uppercase())
                .help(help_for(field))
                .help_heading("Declared fields")
                // Tokens, codes and assertions may start with `-` (base64url).
                .allow_hyphen_values(true)
                .display_order(index)
                .required(field.is_required() && !field.is_repeated() && field.kind() != FieldKind::Header)
                .action(if field.is_repeated() { ArgAction::Append } else { ArgAction::Set })
                .hide(builtin_header);
            if self.builtin.is_some() {
                if let Some((_, variable, secret)) =
                    FROM_ENVIRONMENT.iter().find(|(name, _, _)| *name == field.name())
                {
                    arg = arg.env(variable).hide_env_values(*secret);
                }
                if field.name() == "token_type_hint" {
                    arg = arg.visible_alias("hint");
                }
                if matches!(field.name(), "token" | "refresh_token") {
                    arg = arg.help(format!(
                        "{}; `@FILE` reads it from a file `--save` wrote (or a file holding only the token), `-` from standard input",
                        help_for(field)
                    ));
                }
            }
            command = command.arg(arg);
        }
        if self.is_introspection() {
            command = command.arg(
                Arg::new(CHECK)
                    .long(CHECK)
                    .action(ArgAction::SetTrue)
                    .help("Exit with code 1 when the token is not active"),
            );
        }
        if let Some(builtin) = &self.builtin {
            command = command.after_help(format!("Examples:\n{}", builtin.examples));
        }
        command
    }

    /// The scope given to the command, if it takes one.
    pub(crate) fn scope_asked<'m>(&self, matches: &'m ArgMatches) -> Option<&'m str> {
        let index = self.descriptor.fields().iter().position(|field| field.name() == "scope")?;
        matches.get_one::<String>(&arg_id(index)).map(String::as_str)
    }

    /// Whether this is the built-in `introspect`, whose answer shows dates and may be checked.
    pub(crate) fn is_introspection(&self) -> bool {
        self.builtin.is_some() && self.descriptor.endpoint() == oauth_client::Endpoint::INTROSPECTION
    }

    /// Whether `introspect --check` was given.
    pub(crate) fn check_requested(&self, matches: &ArgMatches) -> bool {
        self.is_introspection() && matches.get_flag(CHECK)
    }

    /// Sends the call with the values of `matches` and the shared `--resource`/`--param`
    /// fields.
    pub(crate) async fn run(
        &self,
        matches: &ArgMatches,
        additional: Option<&oauth_client::FormParams>,
        profile_scope: Option<&str>,
        client: &oauth_client::OAuthClient,
    ) -> Result<DeclaredResponse, crate::Failure> {
        let mut call = self.descriptor.call();
        // A built-in command given no scope asks for the profile's.
        if let Some(scope) = profile_scope.filter(|_| self.builtin.is_some()) {
            let takes_scope = self.descriptor.fields().iter().any(|field| field.name() == "scope");
            if takes_scope && self.scope_asked(matches).is_none() {
                call = call.value("scope", scope);
            }
        }
        let hint = self
            .descriptor
            .fields()
            .iter()
            .position(|field| field.name() == "token_type_hint")
            .and_then(|index| matches.get_one::<String>(&arg_id(index)).map(String::as_str));
        for (index, field) in self.descriptor.fields().iter().enumerate() {
            for value in matches.get_many::<String>(&arg_id(index)).into_iter().flatten() {
                // A token flag of a built-in command also takes `@FILE` and `-`.
                let member = match field.name() {
                    "refresh_token" => Some("refresh_token"),
                    "token" => Some(hint.unwrap_or("access_token")),
                    _ => None,
                };
                match member.filter(|_| self.builtin.is_some()) {
                    Some(member) => {
                        call = call.value(field.name(), crate::saved::token_argument(value, member)?)
                    }
                    None => call = call.value(field.name(), value),
                }
            }
        }
        if let Some(fields) = additional {
            if !self.descriptor.takes_additional_fields() {
                return Err(crate::usage(format!(
                    "`{}` takes no additional fields: leave out `--resource` and `--param`",
                    self.name
                )));
            }
            for (name, value) in fields.iter() {
                call = call.additional(name, value);
            }
        }
        Ok(call.send(client).await?)
    }
}

/// The subcommand name of a method: its name in kebab case (`request_token_saml` →
/// `request-token-saml`).
pub(crate) fn command_name(descriptor: &GrantDescriptor) -> String {
    descriptor.method().replace('_', "-")
}

fn arg_id(index: usize) -> String {
    format!("declared-field-{index}")
}

/// `--subject-token` for form field `subject_token`, `--authorization` for the header,
/// `--body` for a JSON body; `--form-...`/`--header-...` when the plain one is taken.
fn flag_for(field: &FieldDescriptor, used: &mut HashSet<String>) -> String {
    let plain = match field.kind() {
        FieldKind::Json => "body".to_owned(),
        _ => field.name().to_ascii_lowercase().replace('_', "-"),
    };
    let prefix = match field.kind() {
        FieldKind::Header => "header",
        FieldKind::Json => "json",
        _ => "form",
    };
    let mut flag = plain.clone();
    let mut attempt = 0;
    while used.contains(&flag) {
        attempt += 1;
        flag = if attempt == 1 { format!("{prefix}-{plain}") } else { format!("{prefix}-{plain}-{attempt}") };
    }
    used.insert(flag.clone());
    flag
}

fn help_for(field: &FieldDescriptor) -> String {
    let what = match field.kind() {
        FieldKind::Form => format!("Form field `{}`", field.name()),
        FieldKind::Header => {
            format!("Header `{}` (the client's authentication applies when absent)", field.name())
        }
        FieldKind::Json => "The JSON body".to_owned(),
        _ => format!("`{}`", field.name()),
    };
    if field.is_repeated() { format!("{what}; repeatable, each value its own field") } else { what }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_never_clash_with_shared_ones_or_each_other() {
        let mut used: HashSet<String> = ["client-id".to_owned(), "help".to_owned()].into();
        let field = FieldDescriptor::__new("client_id", FieldKind::Form, true, false);
        assert_eq!(flag_for(&field, &mut used), "form-client-id");
        let same = FieldDescriptor::__new("Client-Id", FieldKind::Header, true, false);
        assert_eq!(flag_for(&same, &mut used), "header-client-id");
        let again = FieldDescriptor::__new("client-id", FieldKind::Header, true, false);
        assert_eq!(flag_for(&again, &mut used), "header-client-id-2");
        let body = FieldDescriptor::__new("metadata", FieldKind::Json, true, false);
        assert_eq!(flag_for(&body, &mut used), "body");
    }
}
