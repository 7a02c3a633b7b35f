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
mod atproto;
mod browser;
mod code;
mod declared;
mod execute;
mod output;
mod parse;
mod profile;
mod saved;
mod setup;
mod spinner;
pub mod summary;
mod verbose;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use oauth_client::declared::GrantDescriptor;
use oauth_client::extensions::{JwtBearer, TokenExchange, TokenIntrospection, TokenRevocation};
use oauth_client::{Error, OAuthAuthorization, grants};

use crate::declared::{Builtin, DeclaredCommand};
use crate::parse::Stop;

/// Success.
pub const EXIT_OK: i32 = 0;
/// Something else went wrong (a configuration the provider's metadata cannot satisfy, ...).
pub const EXIT_OTHER: i32 = 1;
/// The command line is wrong, or names what cannot work (a bad URL, a missing endpoint).
pub const EXIT_USAGE: i32 = 2;
/// The provider refused: an RFC 6749 error (its code is printed), an error on the redirect,
/// or another 4xx answer.
pub const EXIT_PROVIDER: i32 = 3;
/// The provider could not be reached, was unavailable (5xx, 429), or answered something
/// unreadable.
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
    /// The built-in commands: the requests of one exchange are the library's own
    /// declarations, offered through the same descriptors as a team's (`client-credentials`,
    /// `password`, `refresh`, `revoke`, `introspect`, `token-exchange`, `jwt-bearer`); the
    /// flows (`code`, `device`) and `discover` are written here.
    pub fn new() -> Self {
        let [ccg, ropcg, refresh] = grants![
            OAuthAuthorization::request_token_ccg,
            OAuthAuthorization::request_token_ropcg,
            OAuthAuthorization::refresh_token_acg
        ];
        let [revoke, introspect] =
            grants![TokenRevocation::revoke_token, TokenIntrospection::introspect_token];
        let [exchange] = grants![TokenExchange::exchange_token];
        let [jwt_bearer] = grants![JwtBearer::request_token_jwt_bearer];
        let done = |examples| Builtin { done: "done", examples };
        // RFC 7009 §2.2: the provider answers 200 whether or not the token was valid.
        let revoked = Builtin {
            done: "revoked (RFC 7009: the provider answers the same for a token it did not know)",
            examples: "  oauth revoke --token @token.json --hint refresh_token\n  oauth revoke --token - < token.txt",
        };
        Oauth { declared: Vec::new(), terminal: false }
            .builtin("client-credentials", ccg, done("  oauth client-credentials --scope read\n  oauth client-credentials --print access-token > access-token.txt"))
            .builtin("password", ropcg, done("  OAUTH_PASSWORD=... oauth password --username alice --save token.json"))
            .builtin("refresh", refresh, done("  oauth refresh --refresh-token @token.json --save token.json"))
            .builtin("revoke", revoke, revoked)
            .builtin("introspect", introspect, done("  oauth introspect --token @token.json\n  oauth introspect --token @token.json --hint refresh_token --check"))
            .builtin("token-exchange", exchange, done("  oauth token-exchange --subject-token @token.json --subject-token-type urn:ietf:params:oauth:token-type:access_token --audience api"))
            .builtin("jwt-bearer", jwt_bearer, done("  oauth jwt-bearer --assertion \"$(cat assertion.jwt)\" --scope read"))
    }

    fn builtin(mut self, name: &str, descriptor: GrantDescriptor, builtin: Builtin) -> Self {
        self.declared.push(DeclaredCommand { name: name.to_owned(), descriptor, builtin: Some(builtin) });
        self
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
        self.declared.push(DeclaredCommand { name: name.into(), descriptor, builtin: None });
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
        let outcome = execute::execute(&invocation, self.terminal, out, err).await;
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

/// Why a command failed, and its exit code.
#[derive(Debug)]
struct Failure {
    code: i32,
    message: String,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let code = match &error {
            Error::Provider { .. } | Error::Redirect(oauth_client::RedirectError::Provider(_)) => {
                EXIT_PROVIDER
            }
            // Any other refusal the provider answered (a 404, a 403 without an error object).
            Error::Http { status, .. } if status.is_client_error() && status.as_u16() != 429 => EXIT_PROVIDER,
            Error::Timeout => EXIT_TIMEOUT,
            Error::Transport(_)
            | Error::Http { .. }
            | Error::Decode { .. }
            | Error::UnexpectedRedirect { .. }
            | Error::ResponseTooLarge { .. } => EXIT_TRANSPORT,
            // What the command line gave cannot work: a URL, a header, a missing endpoint.
            Error::InvalidUrl { .. } | Error::InvalidHeader { .. } => EXIT_USAGE,
            Error::Config(config) if config.setting() == oauth_client::Setting::Endpoint => EXIT_USAGE,
            _ => EXIT_OTHER,
        };
        // The error, then what caused it ("could not reach `URL`: ...: connection refused").
        let mut message = format!("error: {error}");
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        if let Some(provider) = error.provider_error() {
            message.push_str(&format!("\nerror code (RFC 6749 §5.2): {}", provider.error));
        }
        // The library's advice names builder calls; say it with this command line's flags.
        if let Error::Config(config) = &error
            && config.setting() == oauth_client::Setting::Endpoint
        {
            message.push_str(if config.message().contains("allow_insecure_http") {
                "\nhint: `oauth` speaks plain http to loopback addresses only (a local test provider); \
                 give the provider's https URL"
            } else {
                "\nhint: give the endpoint with `--endpoint NAME=URL` (or `--revocation-url`, \
                 `--introspection-url`, `--device-authorization-url`), or discover it with `--issuer URL`"
            });
        }
        Failure { code, message }
    }
}

impl Failure {
    /// An `invalid_client` refusal, with what to check: the credentials, and the methods the
    /// provider's metadata lists (chosen with `--auth`).
    fn with_client_auth_hint(mut self, client: &oauth_client::OAuthClient) -> Self {
        if !self.message.contains("error code (RFC 6749 §5.2): invalid_client") {
            return self;
        }
        self.message.push_str("\nhint: check `--client-id` and the secret or key");
        let methods = client
            .provider_metadata()
            .and_then(|metadata| metadata.extra.get("token_endpoint_auth_methods_supported"))
            .and_then(serde_json::Value::as_array)
            .map(|methods| {
                methods.iter().filter_map(serde_json::Value::as_str).collect::<Vec<_>>().join(", ")
            });
        if let Some(methods) = methods.filter(|methods| !methods.is_empty()) {
            self.message.push_str(&format!("; the provider accepts {methods} (choose with `--auth`)"));
        }
        self
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure { code: EXIT_USAGE, message: format!("error: {}", message.into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in command's help ends with examples to copy.
    #[test]
    fn every_builtin_command_shows_examples() {
        let mut command = Oauth::new().command().unwrap_or_else(|failure| panic!("{}", failure.message));
        for sub in command.get_subcommands_mut().filter(|sub| sub.get_name() != "help") {
            let name = sub.get_name().to_owned();
            let help = sub.render_long_help().to_string();
            assert!(help.contains("Example"), "`oauth {name} --help` has no example:\n{help}");
        }
    }
}
