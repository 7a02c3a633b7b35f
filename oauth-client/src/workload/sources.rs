//! Where platform tokens come from — a file, an environment variable, a URL, a program, a
//! function — and how each is read. Caching is `WorkloadToken`'s; this reads once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::error::{Error, WorkloadTokenError};
use crate::manager::BoxFuture;

/// A source of platform tokens.
pub(super) enum Source {
    File {
        path: PathBuf,
        json_field: Option<String>,
    },
    Env {
        variable: String,
    },
    Url {
        url: String,
        headers: HeaderMap,
        json_field: Option<String>,
        http: crate::http_client::DocumentsClient,
    },
    Program(Program),
    Function(Arc<dyn Fn() -> BoxFuture<'static, Result<String, Error>> + Send + Sync>),
}

/// A program printing a token: Google's executable-sourced credential contract (JSON with
/// `success`, the token and its `expiration_time`), or the token alone as plain text.
pub(super) struct Program {
    pub(super) command: String,
    pub(super) env: Vec<(String, String)>,
    pub(super) timeout: Duration,
    /// Where the program keeps its last answer (Google's `output_file`).
    pub(super) output_file: Option<PathBuf>,
}

/// What one read gave.
pub(super) struct Fetched {
    pub(super) token: String,
    /// The expiry the source stated (a program's `expiration_time`), in Unix seconds.
    pub(super) expires_at: Option<i64>,
    /// For a file: what it was when read, to notice the platform replacing it.
    pub(super) stamp: Option<FileStamp>,
}

/// A file's modification time and length: changed when the platform writes a new token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    /// The file's identity: the kubelet replaces a projected token by swapping a symlink to
    /// a new file, which may have the old one's length and, within a tick, its time.
    #[cfg(unix)]
    inode: u64,
}

/// A token of at most this size: platform tokens are a few kilobytes.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

impl Source {
    /// Where the tokens come from, for errors and `Debug` (never a credential).
    pub(super) fn describe(&self) -> String {
        match self {
            Source::File { path, .. } => format!("file {}", path.display()),
            Source::Env { variable } => format!("environment variable {variable}"),
            Source::Url { url, .. } => {
                let shown = reqwest::Url::parse(url)
                    .map_or_else(|_| url.clone(), |url| crate::error::without_query(&url).to_owned());
                format!("URL {shown}")
            }
            Source::Program(program) => format!("program `{}`", program.command),
            Source::Function(_) => "function".to_owned(),
        }
    }

    /// The file's stamp now (a file source only).
    pub(super) fn stamp(&self) -> Option<FileStamp> {
        match self {
            Source::File { path, .. } => std::fs::metadata(path).ok().map(|metadata| FileStamp {
                modified: metadata.modified().ok(),
                len: metadata.len(),
                #[cfg(unix)]
                inode: std::os::unix::fs::MetadataExt::ino(&metadata),
            }),
            _ => None,
        }
    }

    /// The variable's value now (an environment source only).
    pub(super) fn env_value(&self) -> Option<String> {
        match self {
            Source::Env { variable } => std::env::var(variable).ok(),
            _ => None,
        }
    }

    /// Reads a token from the source.
    pub(super) async fn fetch(&self) -> Result<Fetched, Error> {
        let from = self.describe();
        let unavailable =
            |reason: String| workload_error(WorkloadTokenError::Unavailable { from: from.clone(), reason });
        let malformed =
            |reason: String| workload_error(WorkloadTokenError::Malformed { from: from.clone(), reason });
        let (token, expires_at, stamp) = match self {
            Source::File { path, json_field } => {
                let stamp = self.stamp();
                let text = std::fs::read_to_string(path)
                    .map_err(|error| unavailable(format!("{error}; is the token mounted at this path?")))?;
                (field_or_text(&text, json_field.as_deref()).map_err(malformed)?, None, stamp)
            }
            Source::Env { variable } => {
                let text = std::env::var(variable).map_err(|_| unavailable("not set".to_owned()))?;
                (text, None, None)
            }
            Source::Url { url, headers, json_field, http } => {
                let http = http.get()?;
                let response =
                    http.get(url).headers(headers.clone()).send().await.map_err(Error::transport)?;
                let received = crate::transport::read_capped(
                    response,
                    MAX_TOKEN_BYTES,
                    crate::Clock::now(&crate::SystemClock),
                )
                .await?;
                if !(200..300).contains(&received.status) {
                    return Err(unavailable(format!(
                        "it answered HTTP {}: {}",
                        received.status,
                        String::from_utf8_lossy(&received.body).chars().take(200).collect::<String>()
                    )));
                }
                let text = String::from_utf8_lossy(&received.body);
                (field_or_text(&text, json_field.as_deref()).map_err(malformed)?, None, None)
            }
            Source::Program(program) => {
                if let Some(cached) = program.cached_answer() {
                    return Ok(Fetched { token: cached.0, expires_at: Some(cached.1), stamp: None });
                }
                let output = program.run().await.map_err(unavailable)?;
                let (token, expires_at) = program_answer(&output).map_err(|(code, reason)| match code {
                    Some(_) => unavailable(reason),
                    None => malformed(reason),
                })?;
                (token, expires_at, None)
            }
            Source::Function(function) => (function().await?, None, None),
        };
        let token = token.trim().to_owned();
        if token.is_empty() {
            return Err(malformed("the token is empty".to_owned()));
        }
        Ok(Fetched { token, expires_at, stamp })
    }
}

pub(super) fn workload_error(error: WorkloadTokenError) -> Error {
    Error::WorkloadToken(Box::new(error))
}

/// The token: the document's `field` when one is named (a JSON document), else the text.
fn field_or_text(text: &str, field: Option<&str>) -> Result<String, String> {
    let Some(field) = field else { return Ok(text.to_owned()) };
    let document: Value = serde_json::from_str(text).map_err(|error| format!("not JSON ({error})"))?;
    document
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no string field `{field}`"))
}

/// A program's answer: Google's executable-sourced credential response (version 1:
/// `success`, `token_type`, `id_token` or `saml_response`, `expiration_time`), or a token
/// alone as plain text. `Err((Some(code), ..))` when the program reported a failure.
fn program_answer(output: &str) -> Result<(String, Option<i64>), (Option<String>, String)> {
    let Ok(Value::Object(answer)) = serde_json::from_str::<Value>(output) else {
        return Ok((output.to_owned(), None));
    };
    if answer.get("success").and_then(Value::as_bool) != Some(true) {
        let code = answer.get("code").and_then(Value::as_str).unwrap_or("no code").to_owned();
        let message = answer.get("message").and_then(Value::as_str).unwrap_or("no message");
        return Err((Some(code.clone()), format!("it reported failure {code}: {message}")));
    }
    let field = match answer.get("token_type").and_then(Value::as_str) {
        Some("urn:ietf:params:oauth:token-type:saml2") => "saml_response",
        _ => "id_token",
    };
    let token = answer
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| (None, format!("a successful answer without `{field}`")))?;
    Ok((token.to_owned(), answer.get("expiration_time").and_then(Value::as_i64)))
}

impl Program {
    /// The answer in the program's output file, if it holds a successful one with an
    /// `expiration_time` still ahead (Google's contract: then the program is not run).
    fn cached_answer(&self) -> Option<(String, i64)> {
        let text = std::fs::read_to_string(self.output_file.as_ref()?).ok()?;
        match program_answer(text.trim()) {
            Ok((token, Some(expires_at)))
                if expires_at > crate::Clock::now(&crate::SystemClock) && !token.trim().is_empty() =>
            {
                Some((token.trim().to_owned(), expires_at))
            }
            _ => None,
        }
    }

    /// Runs the program (its command split at spaces, as Google's contract does) with its
    /// environment, for at most its timeout; its standard output.
    async fn run(&self) -> Result<String, String> {
        let mut words = self.command.split_whitespace();
        let program = words.next().ok_or_else(|| "the command is empty".to_owned())?.to_owned();
        let args: Vec<String> = words.map(str::to_owned).collect();
        let env = self.env.clone();
        let timeout = self.timeout;
        tokio::task::spawn_blocking(move || run_with_timeout(&program, &args, &env, timeout))
            .await
            .map_err(|error| format!("the program's task failed: {error}"))?
    }
}

fn run_with_timeout(
    program: &str,
    args: &[String],
    env: &[(String, String)],
    timeout: Duration,
) -> Result<String, String> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("it could not start: {error}"))?;
    // Read while it runs: a full pipe would stop it.
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = (&mut stdout).take(MAX_TOKEN_BYTES as u64).read_to_end(&mut text);
        text
    });
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("it did not finish within {} ms", timeout.as_millis()));
            }
            Err(error) => return Err(format!("waiting for it failed: {error}")),
        }
    };
    let output = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    if !status.success() {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = (&mut pipe).take(2048).read_to_string(&mut stderr);
        }
        return Err(format!("it exited with {status}: {}", stderr.trim()));
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_answers_in_google_s_form_or_as_plain_text() {
        let success = r#"{"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:id_token","id_token":"eyJ.a.b","expiration_time":1900000000}"#;
        assert_eq!(program_answer(success), Ok(("eyJ.a.b".to_owned(), Some(1_900_000_000))));
        let saml = r#"{"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:saml2","saml_response":"PHNhbWw"}"#;
        assert_eq!(program_answer(saml), Ok(("PHNhbWw".to_owned(), None)));
        let failed = r#"{"version":1,"success":false,"code":"401","message":"Caller not authorized."}"#;
        assert_eq!(
            program_answer(failed),
            Err((Some("401".to_owned()), "it reported failure 401: Caller not authorized.".to_owned()))
        );
        assert!(matches!(program_answer(r#"{"success":true}"#), Err((None, _))));
        assert_eq!(program_answer("eyJ.plain.token\n"), Ok(("eyJ.plain.token\n".to_owned(), None)));
    }

    #[test]
    fn a_json_document_gives_its_field() {
        assert_eq!(field_or_text(r#"{"value":"t"}"#, Some("value")), Ok("t".to_owned()));
        assert_eq!(field_or_text("raw", None), Ok("raw".to_owned()));
        assert_eq!(field_or_text(r#"{"other":1}"#, Some("value")), Err("no string field `value`".to_owned()));
    }
}
