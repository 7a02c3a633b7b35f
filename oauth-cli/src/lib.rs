//! `oauth`, a command-line OAuth 2.0 client for people debugging a provider. Every exchange
//! goes through [`oauth_client`]'s public API: what works here works in your service.
//!
//! ```text
//! $ export OAUTH_ISSUER=https://login.example.com OAUTH_CLIENT_ID=my-app OAUTH_CLIENT_SECRET=...
//! $ oauth client-credentials --scope read
//! Bearer token, valid 1 h (until 2026-11-25 10:00:00 UTC), scope "read", no refresh token
//! $ oauth client-credentials --scope read --json | jq .token_type
//! ```
//!
//! Exit codes: [`EXIT_OK`], [`EXIT_USAGE`], [`EXIT_PROVIDER`], [`EXIT_TRANSPORT`],
//! [`EXIT_TIMEOUT`], [`EXIT_OTHER`].
//!
//! # Your own grants
//!
//! Every method declared with `#[oauth_grant]` can be a subcommand, without CLI code: the
//! macro describes each method (its name, grant type or endpoint, and fields), and [`Oauth`]
//! turns each description it is given into a subcommand with a flag per field. A team's
//! binary, with the grants of its own crate:
//!
//! ```no_run
//! use oauth_client::extensions::TokenExchange;
//! use oauth_client::grants;
//!
//! fn main() -> std::process::ExitCode {
//!     // `oauth exchange-token --subject-token ... --subject-token-type ...`
//!     oauth_cli::Oauth::new().grants(grants![TokenExchange::exchange_token]).main()
//! }
//! ```

mod args;
mod browser;
mod declared;
mod loopback;
mod output;
mod profile;
mod setup;
mod spinner;
pub mod summary;
mod verbose;

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _};
use oauth_client::ClientAuthorization::Configured;
use oauth_client::declared::{DeclaredResponse, GrantDescriptor};
use oauth_client::extensions::{
    DeviceAuthorization, JwtBearer, TokenExchange, TokenIntrospection, TokenRevocation, poll_device_token,
};
use oauth_client::{AuthorizationRequest, Endpoint, Error, OAuthAuthorization, OAuthClient, grants};
use serde_json::Value;

use crate::args::{Cli, Command, ProviderArgs};
use crate::declared::DeclaredCommand;
use crate::output::Output;

/// Success.
pub const EXIT_OK: i32 = 0;
/// Something else went wrong (a configuration the provider's metadata cannot satisfy, ...).
pub const EXIT_OTHER: i32 = 1;
/// The command line is wrong.
pub const EXIT_USAGE: i32 = 2;
/// The provider answered with an error (its RFC 6749 code is printed).
pub const EXIT_PROVIDER: i32 = 3;
/// The provider could not be reached, or answered something unreadable.
pub const EXIT_TRANSPORT: i32 = 4;
/// The request timed out.
pub const EXIT_TIMEOUT: i32 = 5;

/// The `oauth` command line, with the built-in commands and the declared methods given to it.
///
/// [`new`](Self::new) offers the library's token exchange (`token-exchange`) and JWT bearer
/// (`jwt-bearer`) grants from their declarations; [`grant`](Self::grant) and
/// [`grants`](Self::grants) add more, such as a team's own.
#[derive(Clone, Debug)]
pub struct Oauth {
    declared: Vec<DeclaredCommand>,
    /// Whether the diagnostics go to a terminal (for the device flow's spinner).
    terminal: bool,
}

impl Default for Oauth {
    fn default() -> Self {
        Self::new()
    }
}

impl Oauth {
    /// The built-in commands, and the library's declared grants that have no built-in one.
    pub fn new() -> Self {
        let [exchange] = grants![TokenExchange::exchange_token];
        let [jwt_bearer] = grants![JwtBearer::request_token_jwt_bearer];
        Oauth { declared: Vec::new(), terminal: false }
            .grant_as("token-exchange", exchange)
            .grant_as("jwt-bearer", jwt_bearer)
    }

    /// Offers the declared method as a subcommand named after it in kebab case
    /// (`request_token_saml` → `oauth request-token-saml`).
    #[must_use]
    pub fn grant(self, descriptor: GrantDescriptor) -> Self {
        let name = declared::command_name(&descriptor);
        self.grant_as(name, descriptor)
    }

    /// Offers each of the declared methods (see [`grant`](Self::grant)).
    #[must_use]
    pub fn grants(self, descriptors: impl IntoIterator<Item = GrantDescriptor>) -> Self {
        descriptors.into_iter().fold(self, Self::grant)
    }

    /// Offers the declared method as the subcommand `name`.
    #[must_use]
    pub fn grant_as(mut self, name: impl Into<String>, descriptor: GrantDescriptor) -> Self {
        self.declared.push(DeclaredCommand { name: name.into(), descriptor });
        self
    }

    /// Says that the `err` given to [`run`](Self::run) is a terminal: the device flow then
    /// shows a spinner while it polls. [`main`](Self::main) finds it out by itself.
    #[must_use]
    pub fn terminal(mut self, terminal: bool) -> Self {
        self.terminal = terminal;
        self
    }

    /// Runs the process's command line on its standard output and error, for `main`.
    pub fn main(&self) -> ExitCode {
        use std::io::IsTerminal as _;
        let stderr = std::io::stderr();
        let this = self.clone().terminal(stderr.is_terminal());
        let code = this.run(std::env::args_os(), &mut std::io::stdout(), &mut stderr.lock());
        ExitCode::from(u8::try_from(code).unwrap_or(1))
    }

    /// Runs the command line `args` (the program name first), writing results to `out` and
    /// diagnostics to `err`; returns the exit code. For a program already in a Tokio
    /// runtime, use [`run_async`](Self::run_async).
    pub fn run<I, T>(&self, args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(error) => {
                let _ = writeln!(err, "error: could not start the async runtime: {error}");
                return EXIT_OTHER;
            }
        };
        runtime.block_on(self.run_async(args, out, err))
    }

    /// [`run`](Self::run), inside a Tokio runtime.
    pub async fn run_async<I, T>(&self, args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let invocation = match self.parse(args) {
            Ok(invocation) => invocation,
            Err(Stop::Failed(failure)) => {
                let _ = writeln!(err, "{}", failure.message);
                return failure.code;
            }
            Err(Stop::Clap(error)) => {
                let code = if error.use_stderr() { EXIT_USAGE } else { EXIT_OK };
                let rendered = error.render().to_string();
                let _ =
                    if error.use_stderr() { write!(err, "{rendered}") } else { write!(out, "{rendered}") };
                return code;
            }
        };
        let trace = invocation.provider.verbose.then(verbose::Trace::start);
        let outcome = execute(&invocation, self.terminal, out, err).await;
        if let Some(trace) = trace {
            let _ = err.write_all(&trace.finish());
        }
        match outcome {
            Ok(()) => EXIT_OK,
            Err(failure) => {
                let _ = writeln!(err, "{}", failure.message);
                failure.code
            }
        }
    }

    /// The clap command: the built-in one with a subcommand per declared method.
    fn command(&self) -> Result<clap::Command, Failure> {
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

    fn parse<I, T>(&self, args: I) -> Result<Invocation<'_>, Stop>
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

/// Runs the command line `args` with [`Oauth::new`]: see [`Oauth::run`].
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    Oauth::new().run(args, out, err)
}

/// Runs the command line `args` with [`Oauth::new`], inside a Tokio runtime: see
/// [`Oauth::run_async`].
pub async fn run_async<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    Oauth::new().run_async(args, out, err).await
}

/// Why the command line did not lead to a command: clap's own answer (usage error, help,
/// version), or a failure of ours (a profile, two commands of one name).
enum Stop {
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
struct Invocation<'a> {
    provider: ProviderArgs,
    /// The endpoints of the declared commands, which `--endpoint` may name.
    endpoints: Vec<oauth_client::Endpoint>,
    command: Invoked<'a>,
}

/// The command to run.
enum Invoked<'a> {
    Builtin(Command),
    Declared(&'a DeclaredCommand, ArgMatches),
}

/// Why a command failed, and its exit code.
struct Failure {
    code: i32,
    message: String,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let code = match &error {
            Error::Provider { .. } => EXIT_PROVIDER,
            Error::Timeout => EXIT_TIMEOUT,
            Error::Transport(_)
            | Error::Http { .. }
            | Error::Decode { .. }
            | Error::UnexpectedRedirect { .. } => EXIT_TRANSPORT,
            _ => EXIT_OTHER,
        };
        // The error, then what caused it ("could not reach the provider: ...: connection refused").
        let mut message = format!("error: {error}");
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        if let Some(provider) = error.provider_error() {
            message.push_str(&format!("\nerror code (RFC 6749 §5.2): {}", provider.error));
        }
        Failure { code, message }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure { code: EXIT_USAGE, message: format!("error: {}", message.into()) }
}

async fn execute(
    invocation: &Invocation<'_>,
    terminal: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Failure> {
    let args = &invocation.provider;
    let output = Output { json: args.json, show_secrets: args.show_secrets };
    let command = match &invocation.command {
        Invoked::Builtin(Command::Discover) => {
            let issuer = args.issuer.as_deref().ok_or_else(|| usage("`discover` needs `--issuer`"))?;
            let metadata = OAuthClient::metadata(issuer).await?;
            output.json_value(out, &serde_json::to_value(&metadata).unwrap_or(Value::Null));
            return Ok(());
        }
        Invoked::Builtin(command) => command,
        Invoked::Declared(declared, matches) => {
            let setup::Client { client, .. } = setup::client(args, &invocation.endpoints, &[]).await?;
            let additional = setup::additional_fields(args);
            match declared.run(matches, additional.as_ref(), &client).await? {
                DeclaredResponse::Token(token) => output.token(out, &token),
                DeclaredResponse::Json(value) => output.answer(out, value),
                _ => output.done(out, "done"),
            }
            return Ok(());
        }
    };
    // `code`'s own endpoint flags configure the client like `--endpoint` does.
    let mut command_endpoints = Vec::new();
    if let Command::Code(code) = command {
        let flags = [
            (Endpoint::AUTHORIZATION, &code.authorize_url),
            (Endpoint::PUSHED_AUTHORIZATION_REQUEST, &code.par_url),
        ];
        command_endpoints
            .extend(flags.into_iter().filter_map(|(endpoint, url)| Some((endpoint, url.as_deref()?))));
    }
    let setup::Client { client, client_id } =
        setup::client(args, &invocation.endpoints, &command_endpoints).await?;
    let additional = setup::additional_fields(args);
    let additional = additional.as_ref();
    match command {
        Command::ClientCredentials { scope } => {
            let token = client.request_token_ccg(Configured, scope.as_deref(), additional).await?;
            output.token(out, &token);
        }
        Command::Password { username, password, scope } => {
            let token = client
                .request_token_ropcg(Configured, username, password, scope.as_deref(), additional)
                .await?;
            output.token(out, &token);
        }
        Command::Refresh { refresh_token, scope } => {
            let token =
                client.refresh_token_acg(Configured, refresh_token, scope.as_deref(), additional).await?;
            output.token(out, &token);
        }
        Command::Code(code) => {
            let token = authorization_code(code, args, &client, &client_id, err).await?;
            output.token(out, &token);
        }
        Command::Device { scope } => {
            let device =
                client.request_device_authorization(Configured, scope.as_deref(), additional).await?;
            let _ = writeln!(
                err,
                "To sign in, open {} and enter the code {}",
                device.verification_uri, device.user_code
            );
            if let Some(complete) = &device.verification_uri_complete {
                let _ = writeln!(err, "(or open {complete})");
            }
            let _ = err.flush();
            let polling = poll_device_token(&client, Configured, &device, additional);
            let token = spinner::while_waiting(polling, err, terminal).await?;
            output.token(out, &token);
        }
        Command::Revoke { token, hint } => {
            client.revoke_token(Configured, token, hint.as_deref(), additional).await?;
            output.done(out, "revoked");
        }
        Command::Introspect { token, hint } => {
            let info = client.introspect_token(Configured, token, hint.as_deref(), additional).await?;
            output.answer(out, serde_json::to_value(&info).unwrap_or(Value::Null));
        }
        Command::Discover => {}
    }
    Ok(())
}

/// The authorization code grant: the URL (printed, opened, or pushed first), the redirect
/// (received or pasted), then the code redeemed with the PKCE verifier.
async fn authorization_code(
    code: &args::CodeArgs,
    args: &ProviderArgs,
    client: &OAuthClient,
    client_id: &str,
    err: &mut dyn Write,
) -> Result<oauth_client::OAuthToken, Failure> {
    let listener = if code.listen { Some(loopback::Listener::bind(&code.redirect_uri).await?) } else { None };
    let redirect_uri =
        listener.as_ref().map_or_else(|| code.redirect_uri.clone(), |listener| listener.redirect_uri.clone());
    // Issuer check, PAR policy and the DPoP key binding come from the client.
    let mut request = AuthorizationRequest::for_client(client, client_id)?.redirect_uri(&redirect_uri);
    if let Some(scope) = &code.scope {
        request = request.scope(scope);
    }
    for resource in &args.resource {
        request = request.resource(resource);
    }
    if let Some(details) = &code.authorization_details {
        let details: Value = serde_json::from_str(details)
            .map_err(|error| usage(format!("`--authorization-details` is not JSON: {error}")))?;
        request = request.authorization_details(&details);
    }
    let pending = if code.par { request.push(client).await? } else { request.build()? };
    let url = pending.url().to_string();
    if code.open {
        browser::open(&url, err);
    }
    let redirect = match listener {
        Some(listener) => {
            let _ =
                writeln!(err, "Open this URL and log in; the redirect comes back to {redirect_uri}:\n{url}");
            let _ = err.flush();
            listener.receive().await?
        }
        None => {
            let _ = writeln!(err, "Open this URL, log in, then paste the URL you are redirected to:\n{url}");
            let _ = err.flush();
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|error| usage(format!("could not read the redirect: {error}")))?;
            line.trim().to_owned()
        }
    };
    let code = pending.code_from_redirect(&redirect).map_err(Error::from)?;
    // The token request carries the PKCE verifier and the authorization request's resources
    // (`token_params`), then the `--param` fields.
    let mut fields = pending.token_params();
    for (name, value) in &args.param {
        fields.push(name, value);
    }
    Ok(client.request_token_acg(Configured, &code, &redirect_uri, Some(&fields)).await?)
}
