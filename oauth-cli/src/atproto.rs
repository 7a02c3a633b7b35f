//! `oauth atproto`: sign in with an AT Protocol handle as the development client
//! (`http://localhost`, no document to publish), the redirect received on a loopback listener,
//! then one XRPC call on the account's PDS — a developer's check of a PDS from the terminal.

use std::io::Write;

use oauth_client::Error;
use oauth_client::atproto::{AtprotoClient, AtprotoClientMetadata, AtprotoError, IdentityResolver, Scope};
use oauth_client::resource_access::LoopbackListener;
use serde_json::Value;

use crate::args::AtprotoArgs;
use crate::{EXIT_OTHER, EXIT_PROVIDER, EXIT_TIMEOUT, EXIT_TRANSPORT, Failure, browser, usage};

/// Signs in with `args.identifier`, calls `args.method`, and returns its JSON answer.
pub(crate) async fn sign_in_and_call(args: &AtprotoArgs, err: &mut dyn Write) -> Result<Value, Failure> {
    let listener = LoopbackListener::bind(&args.redirect_uri)
        .await
        .map_err(|error| usage(format!("`--redirect-uri`: {error}")))?
        .timeout(std::time::Duration::from_secs(args.listen_timeout));
    let redirect_uri = listener.redirect_uri().to_owned();
    let scopes: Vec<Scope> = args.scope.split_whitespace().map(Scope::from).collect();
    let app = AtprotoClientMetadata::localhost(&redirect_uri, &scopes).map_err(failure)?;
    let client = AtprotoClient::builder(app)
        .identity(IdentityResolver::new().plc_directory(&args.plc_directory))
        .build()
        .map_err(failure)?;
    let pending = client.start(&args.identifier).await.map_err(failure)?;
    let url = pending.url().to_string();
    if args.open {
        browser::open(&url, err);
    }
    let _ = writeln!(err, "Open this URL and sign in; the redirect comes back to {redirect_uri}:\n{url}");
    let _ = err.flush();
    let redirect = listener.receive().await.map_err(|error| match error {
        Error::Redirect(oauth_client::RedirectError::NotReceived { waited }) => Failure {
            code: EXIT_TIMEOUT,
            message: format!(
                "error: no redirect came back within {} s; give more time with `--listen-timeout SECONDS`",
                waited.as_secs()
            ),
        },
        error => Failure::from(error),
    })?;
    let session = client.finish(pending, &redirect).await.map_err(failure)?;
    // The handle only when it resolves back to the DID both ways.
    let who = match session.handle() {
        Some(handle) => format!("{handle} ({})", session.did()),
        None => session.did().to_string(),
    };
    let _ = writeln!(err, "Signed in as {who} at {}", session.pds());

    let mut url = reqwest::Url::parse(&session.xrpc(&args.method))
        .map_err(|error| usage(format!("`{}` is not an XRPC method: {error}", args.method)))?;
    url.query_pairs_mut().extend_pairs(&args.query);
    if args.query.is_empty() {
        url.set_query(None);
    }
    let http = reqwest::Client::new();
    let request = match &args.input {
        Some(input) => {
            serde_json::from_str::<Value>(input)
                .map_err(|error| usage(format!("`--input` is not JSON: {error}")))?;
            http.post(url).header("content-type", "application/json").body(input.clone())
        }
        None => http.get(url),
    };
    let response = session.send(request).await?;
    let status = response.status();
    let body = response.bytes().await.map_err(|error| Failure {
        code: EXIT_TRANSPORT,
        message: format!("error: reading the answer of `{}`: {error}", args.method),
    })?;
    let answer = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    if !status.is_success() {
        return Err(Failure {
            code: if status.is_client_error() { EXIT_PROVIDER } else { EXIT_TRANSPORT },
            message: format!("error: `{}` answered {status}: {answer}", args.method),
        });
    }
    Ok(answer)
}

/// An AT Protocol failure: the core's errors keep their exit codes; what the command line
/// named wrongly is a usage error; a refused identity or server is the rest.
fn failure(error: AtprotoError) -> Failure {
    match error {
        AtprotoError::Request(error) => Failure::from(error),
        AtprotoError::InvalidHandle { .. }
        | AtprotoError::InvalidDid { .. }
        | AtprotoError::ClientMetadata(_) => usage(format!("{error}")),
        error => Failure { code: EXIT_OTHER, message: format!("error: {error}") },
    }
}
