//! Tokens kept between commands without passing through the process list: `--save FILE`
//! writes the token response (owner-only, replaced atomically), and a token flag reads
//! `@FILE` (a saved response, or a file holding just the token) or `-` (standard input).

use std::io::{Read as _, Write as _};
use std::path::Path;

use oauth_client::OAuthToken;
use serde_json::Value;

use crate::{Failure, usage};

/// Writes `token` as JSON (secrets included: the file is the point) to `path`, readable by
/// its owner only, through a temporary file renamed over it, so a reader never sees half a
/// token and a crash leaves the old one.
pub(crate) fn save(path: &Path, token: &OAuthToken) -> Result<(), Failure> {
    let json = serde_json::to_vec_pretty(token).map_err(|error| other(path, &error))?;
    let directory = path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| usage(format!("`--save {}` names no file", path.display())))?;
    let temporary = directory.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        file.write_all(&json)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    written.map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        other(path, &error)
    })
}

/// The value of a token flag: `-` reads standard input, `@FILE` reads the file — from a
/// saved token response, its `member` (`access_token`, `refresh_token`, ...); from any other
/// file, its content — and anything else is the token itself.
pub(crate) fn token_argument(value: &str, member: &str) -> Result<String, Failure> {
    let text = if value == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| usage(format!("could not read the token from standard input: {error}")))?;
        text
    } else if let Some(file) = value.strip_prefix('@') {
        std::fs::read_to_string(file).map_err(|error| usage(format!("could not read `{file}`: {error}")))?
    } else {
        return Ok(value.to_owned());
    };
    let text = text.trim();
    if let Ok(Value::Object(response)) = serde_json::from_str::<Value>(text) {
        return match response.get(member).and_then(Value::as_str) {
            Some(token) => Ok(token.to_owned()),
            None => Err(usage(format!("the saved token response has no `{member}`"))),
        };
    }
    if text.is_empty() {
        return Err(usage(format!("`{value}` holds no token")));
    }
    Ok(text.to_owned())
}

fn other(path: &Path, error: &dyn std::fmt::Display) -> Failure {
    Failure {
        code: crate::EXIT_OTHER,
        message: format!("error: could not save to `{}`: {error}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> OAuthToken {
        serde_json::from_value(serde_json::json!({
            "access_token": "at-1", "token_type": "Bearer", "refresh_token": "rt-1", "expires_in": 60
        }))
        .unwrap()
    }

    #[test]
    fn a_saved_response_is_owner_only_and_gives_back_each_token() {
        let directory = std::env::temp_dir().join(format!("oauth-cli-saved-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join("token.json");
        save(&path, &token()).unwrap();
        save(&path, &token()).unwrap(); // replaced, not refused
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let at = format!("@{}", path.display());
        assert_eq!(token_argument(&at, "access_token").unwrap(), "at-1");
        assert_eq!(token_argument(&at, "refresh_token").unwrap(), "rt-1");
        assert!(token_argument(&at, "id_token").unwrap_err().message.contains("has no `id_token`"));
        let plain = directory.join("plain.txt");
        std::fs::write(&plain, "raw-token\n").unwrap();
        assert_eq!(token_argument(&format!("@{}", plain.display()), "access_token").unwrap(), "raw-token");
        assert_eq!(token_argument("literal", "access_token").unwrap(), "literal");
        assert_eq!(std::fs::read_dir(&directory).unwrap().count(), 2, "no temporary file left");
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
