//! Runs a parsed command: a declared request (built-in or a team's) through its descriptor,
//! the device flow, the code flow (`code`), AT Protocol sign-in (`atproto`), or `discover`.

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
        Invoked::Builtin(Command::Atproto(atproto)) => {
            // The AT Protocol finds its own server and is its own client: no provider flags.
            let answer = crate::atproto::sign_in_and_call(atproto, err).await?;
            output.answer(out, answer);
            return Ok(());
        }
        Invoked::Builtin(command) => command,
        Invoked::Declared(declared, matches) => {
            let setup::Client { client, .. } = setup::client(args, &invocation.endpoints, &[]).await?;
            let additional = setup::additional_fields(args);
            let answer = declared
                .run(matches, additional.as_ref(), args.profile_scope.as_deref(), &client)
                .await
                .map_err(|failure| failure.with_client_auth_hint(&client))?;
            match answer {
                DeclaredResponse::Token(token) => {
                    let asked = declared.scope_asked(matches).or(args.profile_scope.as_deref());
                    note_narrower_scope(asked, &token, err);
                    issued(out, &token)?
                }
                DeclaredResponse::Json(value) if declared.is_introspection() => {
                    let active = value.get("active").and_then(Value::as_bool) == Some(true);
                    output.answer(out, with_dates(value));
                    if !active && declared.check_requested(matches) {
                        return Err(Failure {
                            code: crate::EXIT_OTHER,
                            message: "error: the token is not active (`--check`)".to_owned(),
                        });
                    }
                }
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
            let device = client
                .request_device_authorization(
                    Configured,
                    scope.as_deref().or(args.profile_scope.as_deref()),
                    additional,
                )
                .await?;
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
        Command::Discover | Command::Atproto(_) => {}
    }
    Ok(())
}

/// Says so when the provider granted less than the scope asked (RFC 6749 §3.3 lets it).
fn note_narrower_scope(asked: Option<&str>, token: &oauth_client::OAuthToken, err: &mut dyn Write) {
    let (Some(asked), Some(granted)) = (asked, token.scope.as_deref()) else { return };
    let granted_set: Vec<&str> = granted.split_whitespace().collect();
    let missing: Vec<&str> = asked.split_whitespace().filter(|scope| !granted_set.contains(scope)).collect();
    if !missing.is_empty() {
        let _ = writeln!(
            err,
            "note: the provider granted scope \"{granted}\", without {} of the \"{asked}\" asked",
            missing.iter().map(|scope| format!("`{scope}`")).collect::<Vec<_>>().join(", ")
        );
    }
}

/// An introspection answer with its times (RFC 7662 §2.2: `exp`, `iat`, `nbf`, Unix seconds)
/// also as UTC dates, next to them.
fn with_dates(mut value: Value) -> Value {
    if let Value::Object(members) = &mut value {
        for name in ["exp", "iat", "nbf"] {
            if let Some(seconds) = members.get(name).and_then(Value::as_i64) {
                members.insert(format!("{name}_utc"), Value::String(crate::summary::utc(seconds)));
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scope: Option<&str>) -> oauth_client::OAuthToken {
        serde_json::from_value(
            serde_json::json!({"access_token": "at", "token_type": "Bearer", "scope": scope}),
        )
        .unwrap()
    }

    #[test]
    fn a_narrower_grant_is_noted_and_an_equal_or_unstated_one_is_not() {
        let mut err = Vec::new();
        note_narrower_scope(Some("read write admin"), &token(Some("read")), &mut err);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "note: the provider granted scope \"read\", without `write`, `admin` of the \"read write admin\" asked\n"
        );
        let mut err = Vec::new();
        note_narrower_scope(Some("write read"), &token(Some("read write")), &mut err);
        note_narrower_scope(Some("read"), &token(None), &mut err);
        note_narrower_scope(None, &token(Some("read")), &mut err);
        assert!(err.is_empty());
    }

    #[test]
    fn introspection_times_get_dates_beside_them() {
        let value = with_dates(serde_json::json!({"active": true, "exp": 1_800_000_000, "iat": "x"}));
        assert_eq!(value["exp_utc"], crate::summary::utc(1_800_000_000));
        assert_eq!(value.get("iat_utc"), None);
        assert_eq!(value["exp"], 1_800_000_000);
    }
}
