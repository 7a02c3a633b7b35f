//! Profiles of the configuration file, the last source of settings: a flag wins over an
//! environment variable, which wins over the profile.
//!
//! ```toml
//! [profiles.staging]
//! issuer = "https://login.staging.example.com"
//! client_id = "my-app"
//! client_secret = "..."     # or leave it to OAUTH_CLIENT_SECRET
//! auth = "post"            # or the RFC name, "client_secret_post"
//! scope = "read write"      # for the commands that ask for a scope
//! # private_key, key_alg, key_id, cert, cert_key, ca_cert, dpop_key, timeout, resource
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::args::{AuthMethod, KeyAlgorithm, ProviderArgs};
use crate::{Failure, usage};

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// The settings a profile may give.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    issuer: Option<String>,
    token_url: Option<String>,
    introspection_url: Option<String>,
    revocation_url: Option<String>,
    device_authorization_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    auth: Option<AuthMethod>,
    scope: Option<String>,
    private_key: Option<PathBuf>,
    key_alg: Option<KeyAlgorithm>,
    key_id: Option<String>,
    cert: Option<PathBuf>,
    cert_key: Option<PathBuf>,
    ca_cert: Option<PathBuf>,
    dpop_key: Option<PathBuf>,
    timeout: Option<u64>,
    #[serde(default)]
    resource: Vec<String>,
}

/// Fills what flags and environment left unset from `--profile`'s settings.
pub(crate) fn apply(args: &mut ProviderArgs) -> Result<(), Failure> {
    let Some(name) = args.profile.clone() else { return Ok(()) };
    let path = match &args.config {
        Some(path) => path.clone(),
        None => default_path().ok_or_else(|| usage("no configuration file: give `--config FILE`"))?,
    };
    let text = std::fs::read_to_string(&path).map_err(|error| {
        usage(format!("could not read the configuration file {}: {error}", path.display()))
    })?;
    let mut file: File = toml::from_str(&text)
        .map_err(|error| usage(format!("the configuration file {} is not valid: {error}", path.display())))?;
    let names = file.profiles.keys().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
    let profile = file.profiles.remove(&name).ok_or_else(|| {
        let listed = if names.is_empty() { "none".to_owned() } else { names };
        usage(format!(
            "the configuration file {} has no profile `{name}`; its profiles: {listed}",
            path.display()
        ))
    })?;
    fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
        if slot.is_none() {
            *slot = value;
        }
    }
    // A profile naming the token URL must not collide with an issuer from the command line.
    if args.token_url.is_none() {
        fill(&mut args.issuer, profile.issuer);
    }
    if args.issuer.is_none() {
        fill(&mut args.token_url, profile.token_url);
    }
    fill(&mut args.introspection_url, profile.introspection_url);
    fill(&mut args.revocation_url, profile.revocation_url);
    fill(&mut args.device_authorization_url, profile.device_authorization_url);
    fill(&mut args.client_id, profile.client_id);
    fill(&mut args.client_secret, profile.client_secret);
    fill(&mut args.auth, profile.auth);
    fill(&mut args.profile_scope, profile.scope);
    fill(&mut args.private_key, profile.private_key);
    fill(&mut args.key_alg, profile.key_alg);
    fill(&mut args.key_id, profile.key_id);
    fill(&mut args.cert, profile.cert);
    fill(&mut args.cert_key, profile.cert_key);
    fill(&mut args.ca_cert, profile.ca_cert);
    fill(&mut args.dpop_key, profile.dpop_key);
    fill(&mut args.timeout, profile.timeout);
    if args.resource.is_empty() {
        args.resource = profile.resource;
    }
    Ok(())
}

fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("oauth").join("config.toml"))
}
