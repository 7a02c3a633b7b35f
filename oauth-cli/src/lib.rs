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

mod loopback;
mod profile;
mod spinner;
pub mod summary;
mod verbose;

use std::ffi::OsString;
use std::io::Write;

use clap::{Args, Parser, Subcommand, ValueEnum};
use oauth_client::extensions::{DeviceAuthorization, TokenIntrospection, TokenRevocation, poll_device_token};
use oauth_client::{AuthorizationRequest, ClientAuth, Error, OAuthAuthorization, OAuthClient, OAuthToken};
use serde_json::{Value, json};

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

#[derive(Parser, Debug)]
#[command(
    name = "oauth",
    version,
    about = "Run OAuth 2.0 grants and endpoints against a provider, and see what it answers"
)]
struct Cli {
    #[command(flatten)]
    provider: ProviderArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct ProviderArgs {
    /// The provider's issuer: its endpoints are discovered (RFC 8414, then OpenID Connect).
    #[arg(long, env = "OAUTH_ISSUER", global = true, conflicts_with = "token_url")]
    issuer: Option<String>,
    /// The token endpoint, when the provider publishes no metadata.
    #[arg(long, env = "OAUTH_TOKEN_URL", global = true)]
    token_url: Option<String>,
    /// The introspection endpoint (RFC 7662), when not discovered.
    #[arg(long, env = "OAUTH_INTROSPECTION_URL", global = true)]
    introspection_url: Option<String>,
    /// The device authorization endpoint (RFC 8628), when not discovered.
    #[arg(long, env = "OAUTH_DEVICE_AUTHORIZATION_URL", global = true)]
    device_authorization_url: Option<String>,
    /// The revocation endpoint (RFC 7009), when not discovered.
    #[arg(long, env = "OAUTH_REVOCATION_URL", global = true)]
    revocation_url: Option<String>,
    /// The client identifier.
    #[arg(long, env = "OAUTH_CLIENT_ID", global = true)]
    client_id: Option<String>,
    /// The client secret (prefer the environment variable: a flag shows in the process list).
    #[arg(long, env = "OAUTH_CLIENT_SECRET", hide_env_values = true, global = true)]
    client_secret: Option<String>,
    /// How the client authenticates at the token endpoint [default: basic].
    #[arg(long, value_enum, env = "OAUTH_CLIENT_AUTH", global = true)]
    auth: Option<AuthMethod>,
    /// A profile of the configuration file: its settings apply where neither a flag nor an
    /// environment variable gives one.
    #[arg(long, env = "OAUTH_PROFILE", global = true)]
    profile: Option<String>,
    /// The configuration file [default: $XDG_CONFIG_HOME/oauth/config.toml, or
    /// ~/.config/oauth/config.toml].
    #[arg(long, env = "OAUTH_CONFIG", global = true)]
    config: Option<std::path::PathBuf>,
    /// Print the result as JSON (tokens redacted unless `--show-secrets`).
    #[arg(long, global = true)]
    json: bool,
    /// Print each exchange: the request (method, URL, headers and form with secrets redacted)
    /// and the response (status, headers, body with tokens redacted).
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Print tokens and secrets instead of `[redacted]`.
    #[arg(long, global = true)]
    show_secrets: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum AuthMethod {
    /// `client_secret_basic`: HTTP Basic with the id and secret.
    Basic,
    /// `client_secret_post`: the id and secret as form fields.
    Post,
    /// No client authentication; `client_id` as a form field (public clients).
    None,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Client credentials grant (RFC 6749 §4.4).
    ClientCredentials {
        /// The scope to ask for.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Resource owner password grant (RFC 6749 §4.3).
    Password {
        /// The user's name.
        #[arg(long, env = "OAUTH_USERNAME")]
        username: String,
        /// The user's password.
        #[arg(long, env = "OAUTH_PASSWORD", hide_env_values = true)]
        password: String,
        /// The scope to ask for.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Refresh a token (RFC 6749 §6).
    Refresh {
        /// The refresh token.
        #[arg(long, env = "OAUTH_REFRESH_TOKEN", hide_env_values = true)]
        refresh_token: String,
        /// A narrower scope.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636): prints the URL to open,
    /// then redeems the code of the redirect, which it receives itself with `--listen` or
    /// reads as a pasted URL.
    Code {
        /// The redirect URI registered for the client. With `--listen`, a loopback URI
        /// (`http://127.0.0.1:PORT/path`; port 0 picks a free one, RFC 8252 §7.3).
        #[arg(long)]
        redirect_uri: String,
        /// Receive the redirect on 127.0.0.1 instead of asking for it to be pasted.
        #[arg(long)]
        listen: bool,
        /// The scope to ask for.
        #[arg(long)]
        scope: Option<String>,
        /// The authorization endpoint, when not discovered.
        #[arg(long)]
        authorize_url: Option<String>,
    },
    /// Device authorization grant (RFC 8628): shows the user code and where to enter it,
    /// then polls until the user finishes (honouring `slow_down`).
    Device {
        /// The scope to ask for.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Revoke a token (RFC 7009).
    Revoke {
        /// The token.
        #[arg(long)]
        token: String,
        /// `access_token` or `refresh_token`.
        #[arg(long)]
        hint: Option<String>,
    },
    /// Introspect a token (RFC 7662).
    Introspect {
        /// The token.
        #[arg(long)]
        token: String,
        /// `access_token` or `refresh_token`.
        #[arg(long)]
        hint: Option<String>,
    },
    /// Show the provider's metadata (needs `--issuer`).
    Discover,
}

/// Runs the command line `args` (the program name first), writing results to `out` and
/// diagnostics to `err`; returns the exit code. For a program already in a Tokio runtime,
/// use [`run_async`].
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
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
    runtime.block_on(run_async(args, out, err))
}

/// [`run`], inside a Tokio runtime.
pub async fn run_async<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args).map_err(Err).and_then(|cli| profile::apply(cli).map_err(Ok)) {
        Ok(cli) => cli,
        Err(Ok(failure)) => {
            let _ = writeln!(err, "{}", failure.message);
            return failure.code;
        }
        Err(Err(error)) => {
            let code = if error.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let rendered = error.render().to_string();
            let _ = if error.use_stderr() { write!(err, "{rendered}") } else { write!(out, "{rendered}") };
            return code;
        }
    };
    let trace = cli.provider.verbose.then(verbose::Trace::start);
    let outcome = execute(&cli, out, err).await;
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
        let message = match error.provider_error() {
            Some(provider) => format!("error: {error}\nerror code (RFC 6749 §5.2): {}", provider.error),
            None => format!("error: {error}"),
        };
        Failure { code, message }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure { code: EXIT_USAGE, message: format!("error: {}", message.into()) }
}

async fn execute(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Failure> {
    let args = &cli.provider;
    if let Command::Discover = cli.command {
        let issuer = args.issuer.as_deref().ok_or_else(|| usage("`discover` needs `--issuer`"))?;
        let metadata = OAuthClient::metadata(issuer).await?;
        let value = serde_json::to_value(&metadata).unwrap_or(Value::Null);
        print_json(out, &value);
        return Ok(());
    }
    let mut builder = match (&args.issuer, &args.token_url) {
        (Some(issuer), _) => OAuthClient::discover(issuer).await?,
        (None, Some(token_url)) => OAuthClient::builder(token_url),
        (None, None) => return Err(usage("give the provider: `--issuer URL` or `--token-url URL`")),
    };
    if let Some(url) = &args.introspection_url {
        builder = builder.introspection_url(url);
    }
    if let Some(url) = &args.revocation_url {
        builder = builder.revocation_url(url);
    }
    if let Some(url) = &args.device_authorization_url {
        builder = builder.device_authorization_url(url);
    }
    let client_id =
        args.client_id.clone().ok_or_else(|| usage("give the client: `--client-id` (or OAUTH_CLIENT_ID)"))?;
    let secret = || {
        args.client_secret.clone().ok_or_else(|| {
            usage("this authentication method needs `--client-secret` (or OAUTH_CLIENT_SECRET)")
        })
    };
    let auth = match args.auth.unwrap_or(AuthMethod::Basic) {
        AuthMethod::Basic => ClientAuth::client_secret_basic(&client_id, secret()?),
        AuthMethod::Post => ClientAuth::client_secret_post(&client_id, secret()?),
        AuthMethod::None => ClientAuth::none(&client_id),
    };
    let client = builder.client_auth(auth).build()?;
    let result = match &cli.command {
        Command::ClientCredentials { scope } => client
            .request_token_ccg("", scope.as_deref(), None)
            .await
            .map(|token| print_token(cli, out, &token)),
        Command::Password { username, password, scope } => client
            .request_token_ropcg("", username, password, scope.as_deref(), None)
            .await
            .map(|token| print_token(cli, out, &token)),
        Command::Refresh { refresh_token, scope } => client
            .refresh_token_acg("", refresh_token, scope.as_deref(), None)
            .await
            .map(|token| print_token(cli, out, &token)),
        Command::Code { redirect_uri, listen, scope, authorize_url } => {
            let listener = if *listen { Some(loopback::Listener::bind(redirect_uri).await?) } else { None };
            let redirect_uri = listener
                .as_ref()
                .map_or_else(|| redirect_uri.clone(), |listener| listener.redirect_uri.clone());
            let redirect_uri = &redirect_uri;
            let request = match authorize_url {
                Some(url) => AuthorizationRequest::new(url, &client_id),
                None => AuthorizationRequest::for_client(&client, &client_id)?,
            };
            let mut request = request.redirect_uri(redirect_uri);
            if let Some(scope) = scope {
                request = request.scope(scope);
            }
            let pending = request.build()?;
            let redirect = match listener {
                Some(listener) => {
                    let _ = writeln!(
                        err,
                        "Open this URL and log in; the redirect comes back here:\n{}",
                        pending.url()
                    );
                    let _ = err.flush();
                    listener.receive().await?
                }
                None => {
                    let _ = writeln!(
                        err,
                        "Open this URL, log in, then paste the URL you are redirected to:\n{}",
                        pending.url()
                    );
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .map_err(|error| usage(format!("could not read the redirect: {error}")))?;
                    line.trim().to_owned()
                }
            };
            let code = pending.code_from_redirect(&redirect)?;
            client
                .request_token_acg("", &code, redirect_uri, Some(&pending.token_params()))
                .await
                .map(|token| print_token(cli, out, &token))
        }
        Command::Device { scope } => {
            let device = client.request_device_authorization("", scope.as_deref(), None).await?;
            let _ = writeln!(
                err,
                "To sign in, open {} and enter the code {}",
                device.verification_uri, device.user_code
            );
            if let Some(complete) = &device.verification_uri_complete {
                let _ = writeln!(err, "(or open {complete})");
            }
            let _ = err.flush();
            let polling = poll_device_token(&client, "", &device, None);
            let token = spinner::while_waiting(polling, err).await?;
            print_token(cli, out, &token);
            Ok(())
        }
        Command::Revoke { token, hint } => {
            client.revoke_token("", token, hint.as_deref(), None).await.map(|()| {
                if cli.provider.json {
                    print_json(out, &json!({"revoked": true}));
                } else {
                    let _ = writeln!(out, "revoked");
                }
            })
        }
        Command::Introspect { token, hint } => {
            client.introspect_token("", token, hint.as_deref(), None).await.map(|info| {
                print_json(out, &serde_json::to_value(&info).unwrap_or(Value::Null));
            })
        }
        Command::Discover => Ok(()),
    };
    result.map_err(Failure::from)
}

fn print_json(out: &mut dyn Write, value: &Value) {
    let _ = writeln!(out, "{}", serde_json::to_string_pretty(value).unwrap_or_default());
}

/// The token as JSON (secrets redacted unless asked for), or as a summary with the decoded,
/// unverified claims of JWT access and ID tokens.
fn print_token(cli: &Cli, out: &mut dyn Write, token: &OAuthToken) {
    let shown =
        |secret: &str| if cli.provider.show_secrets { secret.to_owned() } else { "[redacted]".to_owned() };
    let id_token = token.extra.get("id_token").and_then(Value::as_str);
    if cli.provider.json {
        let mut value = json!({
            "token_type": token.token_type,
            "access_token": shown(token.access_token.secret()),
            "expires_in": token.expires_in,
            "expiry": token.expiry,
            "scope": token.scope,
            "refresh_token": token.refresh_token.as_ref().map(|refresh| shown(refresh.secret())),
        });
        if let Some(id_token) = id_token {
            value["id_token"] = Value::String(shown(id_token));
            value["id_token_claims_unverified"] = summary::unverified_claims(id_token).unwrap_or(Value::Null);
        }
        if let Some(claims) = summary::unverified_claims(token.access_token.secret()) {
            value["access_token_claims_unverified"] = claims;
        }
        print_json(out, &value);
        return;
    }
    let _ = writeln!(out, "{}", summary::summary(token));
    for (label, jwt) in [("access token", Some(token.access_token.secret())), ("ID token", id_token)] {
        if let Some(claims) = jwt.and_then(summary::unverified_claims) {
            let pretty = serde_json::to_string_pretty(&claims).unwrap_or_default();
            let _ = writeln!(out, "{label} claims (decoded, NOT verified):\n{pretty}");
        }
    }
    if cli.provider.show_secrets {
        let _ = writeln!(out, "access_token: {}", token.access_token.secret());
        if let Some(refresh) = &token.refresh_token {
            let _ = writeln!(out, "refresh_token: {}", refresh.secret());
        }
    }
}
