//! Google's `external_account` credential files (workload identity federation), read as
//! they are, without a Google SDK: the platform token from the file, URL or program the
//! file names, exchanged at the STS (RFC 8693) for an access token, optionally for a service
//! account's token through its impersonation URL.

use std::path::Path;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{WorkloadToken, workload_error};
use crate::ClientAuthorization::Configured;
use crate::client::OAuthClient;
use crate::client_auth::ClientAuth;
use crate::error::{Error, WorkloadTokenError};
use crate::extensions::{TokenExchange as _, token_types};
use crate::manager::{BoxFuture, TokenManager, TokenSource};
use crate::token::OAuthToken;
use crate::{TokenEndpoint, oauth_grant};

/// The scope asked for when the caller names none: Google's own default.
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The variable Google's rule requires before a credential file may run a program.
const ALLOW_EXECUTABLES: &str = "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES";

/// A Google `external_account` credential file: its platform token exchanged at the STS for
/// an access token (and, when the file names a service account, for that account's).
///
/// ```no_run
/// # async fn run() -> Result<(), oauth_client::Error> {
/// use oauth_client::workload::ExternalAccount;
///
/// let account = ExternalAccount::from_file("/etc/gcp/credentials.json")?;
/// let tokens = account.token_manager()?;
/// let http = reqwest::Client::new();
/// let buckets = tokens.send(http.get("https://storage.googleapis.com/storage/v1/b?project=p")).await?;
/// # let _ = buckets; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ExternalAccount {
    audience: String,
    subject_token_type: String,
    token_url: String,
    impersonation_url: Option<String>,
    lifetime_seconds: u64,
    scope: String,
    client: Option<(String, String)>,
    subject: WorkloadToken,
}

#[derive(Deserialize)]
struct CredentialFile {
    #[serde(rename = "type")]
    kind: String,
    audience: String,
    subject_token_type: String,
    token_url: String,
    #[serde(default)]
    service_account_impersonation_url: Option<String>,
    #[serde(default)]
    service_account_impersonation: Option<ImpersonationOptions>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    credential_source: CredentialSource,
}

#[derive(Deserialize)]
struct ImpersonationOptions {
    #[serde(default)]
    token_lifetime_seconds: Option<u64>,
}

#[derive(Deserialize)]
struct CredentialSource {
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    format: Option<Format>,
    #[serde(default)]
    executable: Option<Executable>,
    #[serde(default)]
    environment_id: Option<String>,
}

#[derive(Deserialize)]
struct Format {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    subject_token_field_name: Option<String>,
}

#[derive(Deserialize)]
struct Executable {
    command: String,
    #[serde(default)]
    timeout_millis: Option<u64>,
    #[serde(default)]
    output_file: Option<String>,
}

impl ExternalAccount {
    /// Reads the credential file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| {
            workload_error(WorkloadTokenError::Unavailable {
                from: format!("credential file {}", path.display()),
                reason: error.to_string(),
            })
        })?;
        Self::from_json(&text)
    }

    /// Reads a credential file's JSON. A file that runs a program is refused unless
    /// `GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1` ([`WorkloadTokenError::ExecutableNotAllowed`]),
    /// as Google's libraries refuse it.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let malformed = |reason: String| {
            workload_error(WorkloadTokenError::Malformed {
                from: "external_account credential".to_owned(),
                reason,
            })
        };
        let file: CredentialFile =
            serde_json::from_str(text).map_err(|error| malformed(error.to_string()))?;
        if file.kind != "external_account" {
            return Err(malformed(format!("its type is `{}`, not `external_account`", file.kind)));
        }
        let source = file.credential_source;
        let field = match &source.format {
            Some(format) if format.kind == "json" => {
                Some(format.subject_token_field_name.clone().ok_or_else(|| {
                    malformed("a `json` format without `subject_token_field_name`".to_owned())
                })?)
            }
            _ => None,
        };
        let subject = if let Some(path) = source.file {
            WorkloadToken::file(path)
        } else if let Some(url) = source.url {
            let mut headers = HeaderMap::new();
            for (name, value) in source.headers.unwrap_or_default() {
                let name = HeaderName::try_from(name.as_str())
                    .map_err(|_| malformed(format!("the header name `{name}` is not valid")))?;
                let value = value
                    .as_str()
                    .and_then(|value| HeaderValue::try_from(value).ok())
                    .ok_or_else(|| malformed(format!("the header `{name}` has no valid string value")))?;
                headers.insert(name, value);
            }
            WorkloadToken::url(url, headers)
        } else if let Some(executable) = source.executable {
            if std::env::var(ALLOW_EXECUTABLES).as_deref() != Ok("1") {
                return Err(workload_error(WorkloadTokenError::ExecutableNotAllowed {
                    command: executable.command,
                }));
            }
            let mut program = WorkloadToken::program(executable.command)
                .timeout(Duration::from_millis(executable.timeout_millis.unwrap_or(30_000)))
                .program_env("GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE", &file.audience)
                .program_env("GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE", &file.subject_token_type)
                .program_env("GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE", "0");
            if let Some(email) =
                file.service_account_impersonation_url.as_deref().and_then(impersonated_email)
            {
                program = program.program_env("GOOGLE_EXTERNAL_ACCOUNT_IMPERSONATED_EMAIL", email);
            }
            if let Some(output_file) = executable.output_file {
                program = program
                    .program_env("GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE", &output_file)
                    .program_output_file(output_file);
            }
            program
        } else if source.environment_id.is_some() {
            return Err(malformed(
                "AWS credential sources (`environment_id`) are not supported: use a file, URL or executable source"
                    .to_owned(),
            ));
        } else {
            return Err(malformed("the credential source names no file, URL or executable".to_owned()));
        };
        let subject = match field {
            Some(field) => subject.json_field(&field),
            None => subject,
        };
        Ok(ExternalAccount {
            audience: file.audience,
            subject_token_type: file.subject_token_type,
            token_url: file.token_url,
            impersonation_url: file.service_account_impersonation_url,
            lifetime_seconds: file
                .service_account_impersonation
                .and_then(|options| options.token_lifetime_seconds)
                .unwrap_or(3600),
            scope: CLOUD_PLATFORM.to_owned(),
            client: file.client_id.zip(file.client_secret),
            subject,
        })
    }

    /// The scope to ask for (default `https://www.googleapis.com/auth/cloud-platform`).
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// The platform token the file names.
    pub fn subject_token(&self) -> &WorkloadToken {
        &self.subject
    }

    /// The client for the STS (`token_url`), authenticated with the file's `client_id` and
    /// `client_secret` when it has them (Basic), with the impersonation URL as the endpoint
    /// `service_account_impersonation`.
    pub fn client(&self) -> Result<OAuthClient, Error> {
        let mut builder = OAuthClient::builder(&self.token_url);
        if let Some((id, secret)) = &self.client {
            builder = builder.client_auth(ClientAuth::client_secret_basic(id, secret.as_str()));
        }
        if let Some(url) = &self.impersonation_url {
            builder = builder.endpoint_url(crate::Endpoint::named(IMPERSONATION), url);
        }
        builder.build()
    }

    /// A token manager for this account: tokens fetched again before they expire, one
    /// exchange for all callers.
    pub fn token_manager(self) -> Result<TokenManager, Error> {
        Ok(TokenManager::builder(self.client()?, self).build())
    }
}

/// The endpoint name of the service-account impersonation URL.
const IMPERSONATION: &str = "service_account_impersonation";

/// The service account's email in an impersonation URL (`.../serviceAccounts/EMAIL:generateAccessToken`).
fn impersonated_email(url: &str) -> Option<&str> {
    url.rsplit_once("/serviceAccounts/")?.1.split_once(':').map(|(email, _)| email)
}

/// The IAM Credentials request for a service account's access token.
#[derive(Serialize)]
struct ImpersonationRequest<'a> {
    scope: [&'a str; 1],
    lifetime: String,
}

/// Its answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImpersonatedToken {
    access_token: crate::AccessToken,
    expire_time: String,
}

trait Impersonation: TokenEndpoint {
    #[oauth_grant(endpoint = "service_account_impersonation", client_auth = false)]
    async fn generate_access_token(
        &self,
        #[header("Authorization")] bearer: &str,
        #[json] request: &ImpersonationRequest<'_>,
    ) -> Result<ImpersonatedToken, Error>;
}

impl Impersonation for OAuthClient {}

impl TokenSource for ExternalAccount {
    fn kind(&self) -> &'static str {
        "external_account"
    }

    fn fetch<'a>(
        &'a self,
        client: &'a OAuthClient,
        _: Option<&'a OAuthToken>,
    ) -> BoxFuture<'a, Result<OAuthToken, Error>> {
        Box::pin(async move {
            let subject = self.subject.token().await?;
            // Google's STS: the federated token is for the scope when no service account is
            // impersonated, for IAM Credentials otherwise (its own scope, cloud-platform).
            let scope = if self.impersonation_url.is_some() { CLOUD_PLATFORM } else { self.scope.as_str() };
            let federated = client
                .exchange_token(
                    Configured,
                    subject.secret(),
                    &self.subject_token_type,
                    None,
                    None,
                    &[],
                    &[self.audience.as_str()],
                    Some(token_types::ACCESS_TOKEN),
                    Some(scope),
                    None,
                )
                .await?;
            if self.impersonation_url.is_none() {
                return Ok(federated);
            }
            let request = ImpersonationRequest {
                scope: [self.scope.as_str()],
                lifetime: format!("{}s", self.lifetime_seconds),
            };
            let bearer = format!("Bearer {}", federated.access_token.secret());
            let impersonated = client.generate_access_token(&bearer, &request).await?;
            let expires_at = rfc3339_seconds(&impersonated.expire_time).ok_or_else(|| Error::Decode {
                status: reqwest::StatusCode::OK,
                reason: format!("`expireTime` `{}` is not an RFC 3339 UTC time", impersonated.expire_time),
                excerpt: String::new(),
            })?;
            let now = crate::Clock::now(&crate::SystemClock);
            let token = serde_json::json!({
                "access_token": impersonated.access_token.secret(),
                "token_type": "Bearer",
                "expires_in": (expires_at - now).max(0),
            });
            serde_json::from_value(token).map_err(|error| Error::Decode {
                status: reqwest::StatusCode::OK,
                reason: error.to_string(),
                excerpt: String::new(),
            })
        })
    }

    fn needs_coordination(&self) -> bool {
        false
    }
}

/// Unix seconds of an RFC 3339 time in UTC (`2026-12-04T10:00:00Z`, fractions allowed), as
/// Google's APIs write them.
fn rfc3339_seconds(time: &str) -> Option<i64> {
    let time = time.strip_suffix('Z')?;
    let (date, clock) = time.split_once('T')?;
    let mut date = date.split('-').map(|part| part.parse::<i64>().ok());
    let (year, month, day) = (date.next()??, date.next()??, date.next()??);
    let clock = clock.split('.').next()?;
    let mut clock = clock.split(':').map(|part| part.parse::<i64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_times_are_read() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_seconds("2026-12-04T10:00:00.123456Z"), Some(1_796_378_400));
        assert_eq!(rfc3339_seconds("2000-02-29T23:59:59Z"), Some(951_868_799));
        assert_eq!(rfc3339_seconds("2026-12-04T10:00:00+01:00"), None);
        assert_eq!(rfc3339_seconds("2026-13-04T10:00:00Z"), None);
    }

    #[test]
    fn the_impersonated_account_is_read_from_its_url() {
        let url = "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken";
        assert_eq!(impersonated_email(url), Some("sa@p.iam.gserviceaccount.com"));
    }

    #[test]
    fn a_file_of_another_type_or_source_is_refused_with_what_is_wrong() {
        let error = ExternalAccount::from_json(r#"{"type":"service_account"}"#).unwrap_err();
        assert!(error.to_string().contains("missing field"), "{error}");
        let aws = r#"{"type":"external_account","audience":"a","subject_token_type":"t","token_url":"https://sts.example/v1/token",
            "credential_source":{"environment_id":"aws1"}}"#;
        let error = ExternalAccount::from_json(aws).unwrap_err();
        assert!(error.to_string().contains("AWS credential sources"), "{error}");
    }
}
