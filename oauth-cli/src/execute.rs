//! Runs a parsed command: a declared request (built-in or a team's) through its descriptor,
//! the device flow, the code flow (`code`), or `discover`.

use std::io::Write;

use oauth_client::ClientAuthorization::Configured;
use oauth_client::declared::DeclaredResponse;
use oauth_client::extensions::{DeviceAuthorization, poll_device_token};
use oauth_client::{Endpoint, OAuthClient};
use serde_json::Value;

use crate::args::Command;
use crate::output::Output;
use crate::parse::{Invocation, Invoked};
use crate::{Failure, code, saved, setup, spinner, usage};

pub(crate) async fn execute(
    invocation: &Invocation<'_>,
    terminal: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Failure> {
    let args = &invocation.provider;
    let output = Output { json: args.json, show_secrets: args.show_secrets, print: args.print };
    let issued = |out: &mut dyn Write, token: &oauth_client::OAuthToken| -> Result<(), Failure> {
        if let Some(path) = &args.save {
            saved::save(path, token)?;
        }
        output.issued(out, token)
    };
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
                DeclaredResponse::Token(token) => issued(out, &token)?,
                DeclaredResponse::Json(value) => output.answer(out, value),
                _ => output.done(out, declared.builtin.map_or("done", |builtin| builtin.done)),
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
        Command::Code(code) => {
            let token = code::authorization_code(code, args, &client, &client_id, err).await?;
            issued(out, &token)?;
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
            issued(out, &token)?;
        }
        Command::Discover => {}
    }
    Ok(())
}
