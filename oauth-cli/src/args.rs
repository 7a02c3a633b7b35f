//! The command line: the provider and client settings every command shares, and the built-in
//! commands. Declared grants are added as subcommands at run time (`declared`).
//!
//! Flags whose values are credentials take `allow_hyphen_values`: tokens and secrets are
//! base64url, and one in 64 starts with `-`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    after_help = "Exit codes: 0 success, 1 other failure, 2 usage error (also a bad URL or a missing endpoint), 3 the provider refused (an RFC 6749 error, printed, or another 4xx), 4 transport error (also 5xx, 429, an unreadable answer), 5 timeout.",
    name = "oauth",
    version,
    about = "Run OAuth 2.0 grants and endpoints against a provider, and see what it answers"
)]
pub(crate) struct Cli {
    #[command(flatten, next_help_heading = "Provider, client and output (every command)")]
    pub(crate) provider: ProviderArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Args, Debug)]
pub(crate) struct ProviderArgs {
    /// The provider's issuer: its endpoints are discovered (RFC 8414, then OpenID Connect).
    #[arg(long, env = "OAUTH_ISSUER", global = true, conflicts_with = "token_url")]
    pub(crate) issuer: Option<String>,
    /// The token endpoint, when the provider publishes no metadata.
    #[arg(long, env = "OAUTH_TOKEN_URL", global = true)]
    pub(crate) token_url: Option<String>,
    /// The introspection endpoint (RFC 7662), when not discovered.
    #[arg(long, env = "OAUTH_INTROSPECTION_URL", global = true)]
    pub(crate) introspection_url: Option<String>,
    /// The device authorization endpoint (RFC 8628), when not discovered.
    #[arg(long, env = "OAUTH_DEVICE_AUTHORIZATION_URL", global = true)]
    pub(crate) device_authorization_url: Option<String>,
    /// The revocation endpoint (RFC 7009), when not discovered.
    #[arg(long, env = "OAUTH_REVOCATION_URL", global = true)]
    pub(crate) revocation_url: Option<String>,
    /// Another endpoint's URL, repeatable: `--endpoint pushed_authorization_request=URL`, or
    /// the endpoint a declared command posts to (`vendor_consent=URL`).
    #[arg(long, value_name = "NAME=URL", value_parser = name_value, global = true)]
    pub(crate) endpoint: Vec<(String, String)>,
    /// The client identifier.
    #[arg(long, env = "OAUTH_CLIENT_ID", global = true, allow_hyphen_values = true)]
    pub(crate) client_id: Option<String>,
    /// The client secret (prefer the environment variable: a flag shows in the process list).
    #[arg(
        long,
        env = "OAUTH_CLIENT_SECRET",
        hide_env_values = true,
        global = true,
        allow_hyphen_values = true
    )]
    pub(crate) client_secret: Option<String>,
    /// How the client authenticates [default: basic].
    #[arg(long, value_enum, env = "OAUTH_CLIENT_AUTH", global = true)]
    pub(crate) auth: Option<AuthMethod>,
    /// The private key (PEM) that signs `private_key_jwt` assertions.
    #[arg(long, env = "OAUTH_PRIVATE_KEY", value_name = "FILE", global = true)]
    pub(crate) private_key: Option<PathBuf>,
    /// The algorithm of `--private-key` [default: RS256].
    #[arg(long, value_enum, global = true)]
    pub(crate) key_alg: Option<KeyAlgorithm>,
    /// The `kid` named in each assertion, as registered with the provider.
    #[arg(long, global = true)]
    pub(crate) key_id: Option<String>,
    /// The platform token is in this file (a Kubernetes projected token, a JWT-SVID), read
    /// again when it changes: client authentication without a secret.
    #[arg(long, value_name = "FILE", global = true, conflicts_with_all = ["assertion_url", "assertion_exec"])]
    pub(crate) assertion_file: Option<PathBuf>,
    /// The platform token is what this URL answers (with `--assertion-header`,
    /// `--assertion-field`): a CI job's OIDC token request, a metadata server.
    #[arg(long, value_name = "URL", global = true, conflicts_with = "assertion_exec")]
    pub(crate) assertion_url: Option<String>,
    /// A header of the `--assertion-url` request, repeatable.
    #[arg(long, value_name = "NAME=VALUE", value_parser = name_value, global = true, requires = "assertion_url")]
    pub(crate) assertion_header: Vec<(String, String)>,
    /// The platform token is this string field of the JSON document `--assertion-file` or
    /// `--assertion-url` gives (`value` for GitHub Actions).
    #[arg(long, value_name = "NAME", global = true)]
    pub(crate) assertion_field: Option<String>,
    /// The platform token is what this program prints (the token, or Google's executable
    /// answer as JSON).
    #[arg(long, value_name = "COMMAND", global = true)]
    pub(crate) assertion_exec: Option<String>,
    /// The client certificate (PEM) for mTLS (RFC 8705): `--auth tls` or `self-signed-tls`,
    /// or certificate-bound tokens with another method.
    #[arg(long, env = "OAUTH_CERT", value_name = "FILE", global = true, requires = "cert_key")]
    pub(crate) cert: Option<PathBuf>,
    /// The private key (PEM) of `--cert`.
    #[arg(long, env = "OAUTH_CERT_KEY", value_name = "FILE", global = true, requires = "cert")]
    pub(crate) cert_key: Option<PathBuf>,
    /// A CA certificate (PEM) to trust besides the system's, e.g. a test provider's.
    #[arg(long, env = "OAUTH_CA_CERT", value_name = "FILE", global = true)]
    pub(crate) ca_cert: Option<PathBuf>,
    /// DPoP (RFC 9449): the private key (PKCS#8 PEM: P-256, Ed25519 or RSA) that signs the
    /// proofs, so the tokens are bound to it.
    #[arg(long, env = "OAUTH_DPOP_KEY", value_name = "FILE", global = true, conflicts_with = "dpop")]
    pub(crate) dpop_key: Option<PathBuf>,
    /// DPoP with a new P-256 key for this run.
    #[arg(long, global = true)]
    pub(crate) dpop: bool,
    /// A resource indicator (RFC 8707), repeatable: sent with the token request (and the
    /// authorization request of `code`).
    #[arg(long, value_name = "URI", global = true)]
    pub(crate) resource: Vec<String>,
    /// An additional form field, repeatable: `--param audience=api` (one with a declared
    /// field's name replaces it).
    #[arg(long, value_name = "NAME=VALUE", value_parser = name_value, global = true)]
    pub(crate) param: Vec<(String, String)>,
    /// Stop waiting for the provider after this many seconds [default: 30].
    #[arg(long, value_name = "SECONDS", global = true)]
    pub(crate) timeout: Option<u64>,
    /// A profile of the configuration file: its settings apply where neither a flag nor an
    /// environment variable gives one.
    #[arg(long, env = "OAUTH_PROFILE", global = true)]
    pub(crate) profile: Option<String>,
    /// The configuration file [default: $XDG_CONFIG_HOME/oauth/config.toml, or
    /// ~/.config/oauth/config.toml].
    #[arg(long, env = "OAUTH_CONFIG", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// Print the result as JSON (tokens redacted unless `--show-secrets`).
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Print each exchange in curl's style on standard error: `>` the request (line, headers,
    /// form fields), `<` the response (status, headers, JSON body); credentials redacted.
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
    /// Print tokens and secrets instead of `[redacted]`.
    #[arg(long, global = true)]
    pub(crate) show_secrets: bool,
    /// Print only this part of the token response, as it is, for a pipe: `access-token`,
    /// `refresh-token`, `id-token`, or `json` (the whole response).
    #[arg(long, value_enum, value_name = "PART", global = true)]
    pub(crate) print: Option<PrintPart>,
    /// Save the token response (JSON, tokens included) to FILE, readable by its owner only;
    /// read a token back with `--token @FILE` or `--refresh-token @FILE`.
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) save: Option<PathBuf>,
    /// The `scope` of `--profile`, for a command given none.
    #[arg(skip)]
    pub(crate) profile_scope: Option<String>,
}

/// The part of a token response `--print` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum PrintPart {
    /// The access token.
    AccessToken,
    /// The refresh token.
    RefreshToken,
    /// The ID token.
    IdToken,
    /// The whole response as JSON.
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AuthMethod {
    /// `client_secret_basic`: HTTP Basic with the id and secret.
    #[value(alias = "client_secret_basic")]
    #[serde(alias = "client_secret_basic")]
    Basic,
    /// `client_secret_post`: the id and secret as form fields.
    #[value(alias = "client_secret_post")]
    #[serde(alias = "client_secret_post")]
    Post,
    /// No client authentication; `client_id` as a form field (public clients).
    None,
    /// `client_secret_jwt`: an HS256 assertion keyed with the secret, fresh per request.
    #[value(alias = "client_secret_jwt")]
    #[serde(alias = "client_secret_jwt")]
    SecretJwt,
    /// `private_key_jwt`: an assertion signed with `--private-key`, fresh per request.
    #[value(alias = "private_key_jwt")]
    #[serde(alias = "private_key_jwt")]
    PrivateKeyJwt,
    /// `tls_client_auth`: the client certificate of `--cert` (RFC 8705 §2.1).
    #[value(alias = "tls_client_auth")]
    #[serde(alias = "tls_client_auth")]
    Tls,
    /// `self_signed_tls_client_auth`: a self-signed `--cert` (RFC 8705 §2.2).
    #[value(alias = "self_signed_tls_client_auth")]
    #[serde(alias = "self_signed_tls_client_auth")]
    SelfSignedTls,
    /// The platform's token (`--assertion-file`, `--assertion-url`, `--assertion-exec`) as
    /// the client assertion (RFC 7523 §2.2; Azure's federated credentials); the default when
    /// one of those flags is given.
    ClientAssertion,
    /// A SPIFFE JWT-SVID (`--assertion-*`) as the client assertion (`…:jwt-spiffe`).
    #[value(alias = "spiffe_jwt")]
    #[serde(alias = "spiffe_jwt")]
    SpiffeJwt,
}

/// The algorithms a `private_key_jwt` key signs with.
#[derive(Clone, Copy, Debug, ValueEnum, serde::Deserialize)]
pub(crate) enum KeyAlgorithm {
    /// RSA PKCS#1 v1.5 with SHA-256.
    #[value(name = "RS256")]
    #[serde(rename = "RS256")]
    Rs256,
    /// RSA-PSS with SHA-256.
    #[value(name = "PS256")]
    #[serde(rename = "PS256")]
    Ps256,
    /// ECDSA on P-256 with SHA-256.
    #[value(name = "ES256")]
    #[serde(rename = "ES256")]
    Es256,
    /// Ed25519.
    #[value(name = "EdDSA")]
    #[serde(rename = "EdDSA")]
    EdDsa,
}

/// Parses `NAME=VALUE`.
fn name_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got `{text}`")),
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636): prints the URL to open,
    /// then redeems the code of the redirect, which it receives itself with `--listen` or
    /// reads as a pasted URL.
    #[command(
        after_help = "Examples:\n  oauth code --listen --redirect-uri http://127.0.0.1:0/callback --scope \"openid offline_access\" --prompt consent --save token.json\n  oauth code --par --dpop --open --redirect-uri http://127.0.0.1:8400/callback --listen"
    )]
    Code(Box<CodeArgs>),
    /// Device authorization grant (RFC 8628): shows the user code and where to enter it,
    /// then polls until the user finishes (honouring `slow_down`).
    #[command(after_help = "Example:\n  oauth device --scope \"openid offline_access\" --save token.json")]
    Device {
        /// The scope to ask for.
        #[arg(long)]
        scope: Option<String>,
    },
    /// Sign in with an AT Protocol handle (Bluesky and other AT Protocol services) and call
    /// an XRPC method on the account's PDS: resolves the handle, signs in through the browser
    /// as the development client (PAR, PKCE, DPoP), prints the method's answer.
    #[command(
        after_help = "Examples:\n  oauth atproto alice.bsky.social\n  oauth atproto alice.bsky.social app.bsky.actor.getProfile --query actor=alice.bsky.social\n  oauth atproto https://bsky.social --open"
    )]
    Atproto(Box<AtprotoArgs>),
    /// Show the provider's metadata (needs `--issuer`).
    #[command(after_help = "Example:\n  oauth --issuer https://login.example.com discover")]
    Discover,
}

/// The options of `code`.
#[derive(Args, Debug)]
pub(crate) struct CodeArgs {
    /// The redirect URI registered for the client. With `--listen`, a loopback URI
    /// (`http://127.0.0.1:PORT/path`; port 0 picks a free one, RFC 8252 §7.3).
    #[arg(long)]
    pub(crate) redirect_uri: String,
    /// Receive the redirect on 127.0.0.1 instead of asking for it to be pasted.
    #[arg(long)]
    pub(crate) listen: bool,
    /// How long `--listen` waits for the browser to come back.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, requires = "listen")]
    pub(crate) listen_timeout: u64,
    /// `prompt` (OpenID Connect Core §3.1.2.1): `none`, `login`, `consent`,
    /// `select_account` (some providers issue a refresh token only after `consent`).
    #[arg(long)]
    pub(crate) prompt: Option<String>,
    /// `login_hint`: the user to log in, as the provider knows them.
    #[arg(long)]
    pub(crate) login_hint: Option<String>,
    /// `max_age` in seconds: the provider re-authenticates a user who logged in longer ago;
    /// the ID token's `auth_time` is checked against it.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) max_age: Option<u64>,
    /// `acr_values`: the authentication context classes asked for, space-separated.
    #[arg(long)]
    pub(crate) acr_values: Option<String>,
    /// `response_mode` (OAuth 2.0 Multiple Response Types): `query`, `fragment`, `form_post`.
    #[arg(long)]
    pub(crate) response_mode: Option<String>,
    /// Any other authorization request parameter, repeatable (`--param` goes to the token
    /// request).
    #[arg(long, value_name = "NAME=VALUE", value_parser = name_value)]
    pub(crate) auth_param: Vec<(String, String)>,
    /// The scope to ask for.
    #[arg(long)]
    pub(crate) scope: Option<String>,
    /// The authorization endpoint, when not discovered.
    #[arg(long)]
    pub(crate) authorize_url: Option<String>,
    /// Push the request to the provider first (PAR, RFC 9126); the URL then carries only
    /// a `request_uri`.
    #[arg(long)]
    pub(crate) par: bool,
    /// The pushed authorization request endpoint, when not discovered.
    #[arg(long, requires = "par")]
    pub(crate) par_url: Option<String>,
    /// Rich authorization requests (RFC 9396): the `authorization_details` JSON array.
    #[arg(long, value_name = "JSON")]
    pub(crate) authorization_details: Option<String>,
    /// Open the URL in the system's browser instead of only printing it.
    #[arg(long)]
    pub(crate) open: bool,
}

/// The options of `atproto`.
#[derive(Args, Debug)]
pub(crate) struct AtprotoArgs {
    /// Who signs in: a handle (`alice.bsky.social`), a DID, or a PDS or entryway URL.
    pub(crate) identifier: String,
    /// The XRPC method to call once signed in (GET, or POST with `--input`).
    #[arg(default_value = "com.atproto.server.getSession")]
    pub(crate) method: String,
    /// A query parameter of the method, repeatable.
    #[arg(long, value_name = "NAME=VALUE", value_parser = name_value)]
    pub(crate) query: Vec<(String, String)>,
    /// Call a procedure: POST this JSON body.
    #[arg(long, value_name = "JSON")]
    pub(crate) input: Option<String>,
    /// The scopes to ask for, space-separated; `atproto` is required.
    #[arg(long, default_value = "atproto transition:generic")]
    pub(crate) scope: String,
    /// The loopback redirect URI to receive the browser on (port 0 picks a free one).
    #[arg(long, default_value = "http://127.0.0.1:0/callback")]
    pub(crate) redirect_uri: String,
    /// How long to wait for the browser to come back.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub(crate) listen_timeout: u64,
    /// The PLC directory `did:plc` documents are read from.
    #[arg(long, env = "OAUTH_PLC_DIRECTORY", default_value = oauth_client::atproto::PLC_DIRECTORY)]
    pub(crate) plc_directory: String,
    /// Open the URL in the system's browser instead of only printing it.
    #[arg(long)]
    pub(crate) open: bool,
}
