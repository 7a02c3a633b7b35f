//! What a command prints: tokens as a summary or as JSON, other answers as JSON, secrets
//! redacted unless `--show-secrets`.

use std::io::Write;

use oauth_client::OAuthToken;
use serde_json::{Value, json};

use crate::args::PrintPart;
use crate::summary;

/// How results are printed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    pub(crate) json: bool,
    pub(crate) show_secrets: bool,
    pub(crate) print: Option<PrintPart>,
}

impl Output {
    /// A token as the command line asked: the part `--print` names, as it is, or else the
    /// summary or JSON of [`token`](Self::token).
    pub(crate) fn issued(self, out: &mut dyn Write, token: &OAuthToken) -> Result<(), crate::Failure> {
        let part = match self.print {
            None => {
                self.token(out, token);
                return Ok(());
            }
            Some(PrintPart::Json) => {
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(token).unwrap_or_default());
                return Ok(());
            }
            Some(PrintPart::AccessToken) => Some(token.access_token.secret()),
            Some(PrintPart::RefreshToken) => token.refresh_token.as_ref().map(|refresh| refresh.secret()),
            Some(PrintPart::IdToken) => token.extra.get("id_token").and_then(Value::as_str),
        };
        match part {
            Some(part) => {
                let _ = writeln!(out, "{part}");
                Ok(())
            }
            None => Err(crate::Failure {
                code: crate::EXIT_OTHER,
                message: "error: the token response has no such token (`--print`)".to_owned(),
            }),
        }
    }

    pub(crate) fn json_value(self, out: &mut dyn Write, value: &Value) {
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(value).unwrap_or_default());
    }

    /// A JSON answer, its credential members (at any depth, by the library's rule) redacted
    /// unless asked for.
    pub(crate) fn answer(self, out: &mut dyn Write, mut value: Value) {
        if !self.show_secrets {
            redact(&mut value);
        }
        self.json_value(out, &value);
    }

    /// A success without content.
    pub(crate) fn done(self, out: &mut dyn Write, what: &str) {
        if self.json {
            self.json_value(out, &json!({ what: true }));
        } else {
            let _ = writeln!(out, "{what}");
        }
    }

    /// The token as JSON (secrets redacted unless asked for), or as a summary with the
    /// decoded, unverified claims of JWT access and ID tokens.
    pub(crate) fn token(self, out: &mut dyn Write, token: &OAuthToken) {
        let shown =
            |secret: &str| if self.show_secrets { secret.to_owned() } else { "[redacted]".to_owned() };
        let id_token = token.extra.get("id_token").and_then(Value::as_str);
        if self.json {
            let mut value = json!({
                "token_type": token.token_type,
                "access_token": shown(token.access_token.secret()),
                "expires_in": token.expires_in,
                "expiry": token.expiry,
                "scope": token.scope,
                "refresh_token": token.refresh_token.as_ref().map(|refresh| shown(refresh.secret())),
            });
            if let Some(issued) = token.issued_token_type() {
                value["issued_token_type"] = Value::String(issued.to_owned());
            }
            if let Some(id_token) = id_token {
                value["id_token"] = Value::String(shown(id_token));
                value["id_token_claims_unverified"] =
                    summary::unverified_claims(id_token).unwrap_or(Value::Null);
            }
            if let Some(claims) = summary::unverified_claims(token.access_token.secret()) {
                value["access_token_claims_unverified"] = claims;
            }
            self.json_value(out, &value);
            return;
        }
        let _ = writeln!(out, "{}", summary::summary(token));
        for (label, jwt) in [("access token", Some(token.access_token.secret())), ("ID token", id_token)] {
            if let Some(claims) = jwt.and_then(summary::unverified_claims) {
                let pretty = serde_json::to_string_pretty(&claims).unwrap_or_default();
                let _ = writeln!(out, "{label} claims (decoded, NOT verified):\n{pretty}");
            }
        }
        if self.show_secrets {
            let _ = writeln!(out, "access_token: {}", token.access_token.secret());
            if let Some(refresh) = &token.refresh_token {
                let _ = writeln!(out, "refresh_token: {}", refresh.secret());
            }
        }
    }
}

fn redact(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                if oauth_client::is_credential_name(name) && member.is_string() {
                    *member = Value::String("[redacted]".to_owned());
                } else {
                    redact(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_at_any_depth_and_nothing_else() {
        let mut value = json!({
            "device_code": "dc", "user_code": "WDJB", "nested": [{"refresh_token": "rt", "n": 1}],
            "code": 7
        });
        redact(&mut value);
        assert_eq!(
            value,
            json!({
                "device_code": "[redacted]", "user_code": "WDJB",
                "nested": [{"refresh_token": "[redacted]", "n": 1}], "code": 7
            })
        );
    }
}
