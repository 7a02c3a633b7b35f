//! The client the settings describe: endpoints, client authentication, keys and certificates.

use std::path::Path;
use std::time::Duration;

use oauth_client::dpop::DpopKey;
use oauth_client::extensions::SigningKey;
use oauth_client::workload::WorkloadToken;
use oauth_client::{ClientAuth, Endpoint, FormParams, OAuthClient};

use crate::args::{AuthMethod, KeyAlgorithm, ProviderArgs};
use crate::{Failure, usage};

/// The configured client, and the identifier it authenticates as.
pub(crate) struct Client {
    pub(crate) client: OAuthClient,
    pub(crate) client_id: String,
}

/// Builds the client: discovery or the given endpoints, then authentication, DPoP and TLS.
/// `declared` are the endpoints of the declared commands, which `--endpoint` may also name;
/// `command_endpoints` are URLs a command's own flags give (`code --authorize-url`).
pub(crate) async fn client(
    args: &ProviderArgs,
    declared: &[Endpoint],
    command_endpoints: &[(Endpoint, &str)],
) -> Result<Client, Failure> {
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
    for (name, url) in &args.endpoint {
        let endpoint = Endpoint::KNOWN.iter().chain(declared).find(|endpoint| endpoint.name() == name);
        let endpoint = endpoint.ok_or_else(|| {
            let mut known: Vec<&str> =
                Endpoint::KNOWN.iter().chain(declared).map(|endpoint| endpoint.name()).collect();
            known.sort_unstable();
            known.dedup();
            usage(format!("`--endpoint`: no endpoint is called `{name}`; known: {}", known.join(", ")))
        })?;
        builder = builder.endpoint_url(*endpoint, url);
    }
    for (endpoint, url) in command_endpoints {
        builder = builder.endpoint_url(*endpoint, *url);
    }
    if let Some(seconds) = args.timeout {
        builder = builder.timeout(Duration::from_secs(seconds));
    }
    let client_id =
        args.client_id.clone().ok_or_else(|| usage("give the client: `--client-id` (or OAUTH_CLIENT_ID)"))?;
    let platform = platform_token(args)?;
    let default = if platform.is_some() { AuthMethod::ClientAssertion } else { AuthMethod::Basic };
    let method = args.auth.unwrap_or(default);
    if matches!(method, AuthMethod::Tls | AuthMethod::SelfSignedTls) && args.cert.is_none() {
        return Err(usage("mTLS client authentication needs `--cert FILE --cert-key FILE`"));
    }
    builder = builder.client_auth(client_auth(args, method, &client_id, platform)?);
    if let (Some(cert), Some(key)) = (&args.cert, &args.cert_key) {
        let mut pem = read(cert, "--cert")?;
        pem.push(b'\n');
        pem.extend(read(key, "--cert-key")?);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|error| {
            usage(format!("`--cert`/`--cert-key` are not a PEM certificate and key: {error}"))
        })?;
        builder = builder.identity(identity);
    }
    if let Some(path) = &args.ca_cert {
        let certificate = reqwest::Certificate::from_pem(&read(path, "--ca-cert")?)
            .map_err(|error| usage(format!("`--ca-cert` is not a PEM certificate: {error}")))?;
        builder = builder.add_root_certificate(certificate);
    }
    if let Some(path) = &args.dpop_key {
        let pem = String::from_utf8(read(path, "--dpop-key")?)
            .map_err(|_| usage("`--dpop-key` is not a PEM file"))?;
        builder = builder.dpop(DpopKey::from_pkcs8_pem(&pem)?);
    } else if args.dpop {
        builder = builder.dpop(DpopKey::generate()?);
    }
    Ok(Client { client: builder.build()?, client_id })
}

/// The platform token the `--assertion-*` flags name, if any.
fn platform_token(args: &ProviderArgs) -> Result<Option<WorkloadToken>, Failure> {
    let token = if let Some(path) = &args.assertion_file {
        WorkloadToken::file(path)
    } else if let Some(url) = &args.assertion_url {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &args.assertion_header {
            let name = reqwest::header::HeaderName::try_from(name.as_str())
                .map_err(|_| usage(format!("`--assertion-header`: `{name}` is not a header name")))?;
            let value = reqwest::header::HeaderValue::try_from(value.as_str()).map_err(|_| {
                usage(format!("`--assertion-header`: the value of `{name}` is not a header value"))
            })?;
            headers.insert(name, value);
        }
        WorkloadToken::url(url, headers)
    } else if let Some(command) = &args.assertion_exec {
        WorkloadToken::program(command)
    } else {
        return Ok(None);
    };
    Ok(Some(match &args.assertion_field {
        Some(field) => token.json_field(field),
        None => token,
    }))
}

fn client_auth(
    args: &ProviderArgs,
    method: AuthMethod,
    client_id: &str,
    platform: Option<WorkloadToken>,
) -> Result<ClientAuth, Failure> {
    let platform = || {
        platform.clone().ok_or_else(|| {
            usage("this authentication method needs the platform token: `--assertion-file`, `--assertion-url` or `--assertion-exec`")
        })
    };
    let secret = || {
        args.client_secret.clone().ok_or_else(|| {
            usage("this authentication method needs `--client-secret` (or OAUTH_CLIENT_SECRET)")
        })
    };
    Ok(match method {
        AuthMethod::Basic => ClientAuth::client_secret_basic(client_id, secret()?),
        AuthMethod::Post => ClientAuth::client_secret_post(client_id, secret()?),
        AuthMethod::None => ClientAuth::none(client_id),
        AuthMethod::SecretJwt => ClientAuth::client_secret_jwt(client_id, secret()?),
        AuthMethod::PrivateKeyJwt => ClientAuth::private_key_jwt(client_id, signing_key(args)?),
        AuthMethod::Tls => ClientAuth::tls_client_auth(client_id),
        AuthMethod::SelfSignedTls => ClientAuth::self_signed_tls_client_auth(client_id),
        AuthMethod::ClientAssertion => platform()?.client_assertion(client_id),
        AuthMethod::SpiffeJwt => platform()?.spiffe_client_assertion(client_id),
    })
}

fn signing_key(args: &ProviderArgs) -> Result<SigningKey, Failure> {
    let path = args
        .private_key
        .as_ref()
        .ok_or_else(|| usage("`--auth private-key-jwt` needs `--private-key FILE`"))?;
    let pem = read(path, "--private-key")?;
    let key = match args.key_alg.unwrap_or(KeyAlgorithm::Rs256) {
        KeyAlgorithm::Rs256 => SigningKey::rs256_pem(&pem),
        KeyAlgorithm::Ps256 => SigningKey::ps256_pem(&pem),
        KeyAlgorithm::Es256 => SigningKey::es256_pem(&pem),
        KeyAlgorithm::EdDsa => SigningKey::eddsa_pem(&pem),
    }
    .map_err(|error| usage(format!("`--private-key`: {error}")))?;
    Ok(match &args.key_id {
        Some(key_id) => key.key_id(key_id),
        None => key,
    })
}

/// The additional form fields every token request carries: `--resource` and `--param`.
pub(crate) fn additional_fields(args: &ProviderArgs) -> Option<FormParams> {
    let mut fields = FormParams::new();
    for resource in &args.resource {
        fields.push("resource", resource);
    }
    for (name, value) in &args.param {
        fields.push(name, value);
    }
    (!fields.is_empty()).then_some(fields)
}

fn read(path: &Path, flag: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|error| usage(format!("`{flag}`: could not read {}: {error}", path.display())))
}
