//! From the command line to the command to run: the clap command (the built-in one with a
//! subcommand per declared method), the parse, and the profile applied.

use std::collections::HashSet;
use std::ffi::OsString;

use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _};

use crate::args::{Cli, Command, ProviderArgs};
use crate::declared::DeclaredCommand;
use crate::{EXIT_OTHER, Failure, Oauth, profile};

impl Oauth {
    /// The clap command: the built-in one with a subcommand per declared method.
    pub(crate) fn command(&self) -> Result<clap::Command, Failure> {
        let mut command = Cli::command();
        let taken: HashSet<String> = command
            .get_arguments()
            .filter_map(|arg| arg.get_long().map(str::to_owned))
            .chain(["help", "version"].map(str::to_owned))
            .collect();
        let mut names: HashSet<String> =
            command.get_subcommands().map(|sub| sub.get_name().to_owned()).collect();
        names.insert("help".to_owned());
        for declared in &self.declared {
            if !names.insert(declared.name.clone()) {
                return Err(Failure {
                    code: EXIT_OTHER,
                    message: format!(
                        "error: two commands are called `{}`: offer one with `Oauth::grant_as` under another name",
                        declared.name
                    ),
                });
            }
            command = command.subcommand(declared.command(&taken));
        }
        Ok(command)
    }

    pub(crate) fn parse<I, T>(&self, args: I) -> Result<Invocation<'_>, Stop>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let matches = self.command()?.try_get_matches_from(args)?;
        let declared = matches.subcommand().and_then(|(name, sub_matches)| {
            self.declared
                .iter()
                .find(|declared| declared.name == name)
                .map(|declared| (declared, sub_matches))
        });
        let (mut provider, command) = match declared {
            Some((declared, sub_matches)) => {
                // Shared flags given after the subcommand are in its matches.
                let provider = ProviderArgs::from_arg_matches(sub_matches)?;
                (provider, Invoked::Declared(declared, sub_matches.clone()))
            }
            None => {
                let cli = Cli::from_arg_matches(&matches)?;
                (cli.provider, Invoked::Builtin(cli.command))
            }
        };
        profile::apply(&mut provider)?;
        let endpoints = self.declared.iter().map(|declared| declared.descriptor.endpoint()).collect();
        Ok(Invocation { provider, endpoints, command })
    }
}

/// Why the command line did not lead to a command: clap's own answer (usage error, help,
/// version), or a failure of ours (a profile, two commands of one name).
pub(crate) enum Stop {
    Clap(clap::Error),
    Failed(Failure),
}

impl From<clap::Error> for Stop {
    fn from(error: clap::Error) -> Self {
        Stop::Clap(error)
    }
}

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Self {
        Stop::Failed(failure)
    }
}

/// A parsed command line.
pub(crate) struct Invocation<'a> {
    pub(crate) provider: ProviderArgs,
    /// The endpoints of the declared commands, which `--endpoint` may name.
    pub(crate) endpoints: Vec<oauth_client::Endpoint>,
    pub(crate) command: Invoked<'a>,
}

/// The command to run.
pub(crate) enum Invoked<'a> {
    Builtin(Command),
    Declared(&'a DeclaredCommand, ArgMatches),
}
