//! The authorization code flow (RFC 6749 §4.1 with PKCE, PAR, RAR): the URL printed, opened
//! or pushed, the redirect received on the loopback listener or pasted, the code redeemed.

use std::io::Write;

use oauth_client::ClientAuthorization::Configured;
use oauth_client::resource_access::LoopbackListener;
use oauth_client::{AuthorizationRequest, Error, OAuthAuthorization, OAuthClient, RedirectError};
use serde_json::Value;

use crate::args::{self, ProviderArgs};
use crate::{Failure, browser, usage};

/// The authorization code grant: the URL (printed, opened, or pushed first), the redirect
/// (received or pasted), then the code redeemed with the PKCE verifier.
pub(crate) async fn authorization_code(
    code: &args::CodeArgs,
    args: &ProviderArgs,
    client: &OAuthClient,
    client_id: &str,
    err: &mut dyn Write,
) -> Result<oauth_client::OAuthToken, Failure> {
    let listener = match code.listen {
        true => Some(
            LoopbackListener::bind(&code.redirect_uri)
                .await
                .map_err(|error| usage(format!("`--listen`: {error}")))?
                .timeout(std::time::Duration::from_secs(code.listen_timeout)),
        ),
        false => None,
    };
    let redirect_uri = listener
        .as_ref()
        .map_or_else(|| code.redirect_uri.clone(), |listener| listener.redirect_uri().to_owned());
    // Issuer check, PAR policy and the DPoP key binding come from the client.
    let mut request = AuthorizationRequest::for_client(client, client_id)?.redirect_uri(&redirect_uri);
    if let Some(scope) = code.scope.as_ref().or(args.profile_scope.as_ref()) {
        request = request.scope(scope);
    }
    for resource in &args.resource {
        request = request.resource(resource);
    }
    let named = [
        ("prompt", &code.prompt),
        ("login_hint", &code.login_hint),
        ("acr_values", &code.acr_values),
        ("response_mode", &code.response_mode),
    ];
    for (name, value) in named {
        if let Some(value) = value {
            request = request.param(name, value);
        }
    }
    if let Some(max_age) = code.max_age {
        request = request.max_age(max_age);
    }
    for (name, value) in &code.auth_param {
        request = request.param(name, value);
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
            listener.receive().await.map_err(|error| match error {
                Error::Redirect(RedirectError::NotReceived { waited }) => Failure {
                    code: crate::EXIT_TIMEOUT,
                    message: format!(
                        "error: no redirect came back within {} s; give more time with `--listen-timeout SECONDS`",
                        waited.as_secs()
                    ),
                },
                error => Failure { code: crate::EXIT_TRANSPORT, message: format!("error: {error}") },
            })?
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
