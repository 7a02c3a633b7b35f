//! Without a client secret: the platform's token for the workload (a Kubernetes projected
//! service-account token, a GitHub Actions OIDC token, a SPIFFE JWT-SVID, Azure's federated
//! token file, Google's `external_account` credentials) as the client's credential.
//!
//! A [`WorkloadToken`] reads the platform token from where the platform puts it, keeps it
//! until shortly before its `exp`, reads it again when the platform replaces it, and makes
//! concurrent callers wait for one read. It serves as:
//!
//! - **client authentication** — [`WorkloadToken::client_assertion`] (RFC 7523 §2.2, the
//!   Azure federated-credential form) or [`WorkloadToken::spiffe_client_assertion`]
//!   (draft-ietf-oauth-spiffe-client-auth), for any grant;
//! - **the assertion of the JWT bearer grant** (RFC 7523 §2.1) — [`JwtBearerGrant`], a token
//!   manager source;
//! - **the subject token of a token exchange** (RFC 8693) — [`TokenExchangeGrant`];
//! - an [`AssertionSource`](crate::resource_access::AssertionSource) for [`ResourceAccessBuilder::jwt_bearer`](crate::resource_access::ResourceAccessBuilder::jwt_bearer).
//!
//! ```no_run
//! # async fn run() -> Result<(), oauth_client::Error> {
//! use oauth_client::workload::WorkloadToken;
//! use oauth_client::{OAuthAuthorization, OAuthClient, ClientAuthorization::Configured};
//!
//! // Kubernetes: the projected service-account token, rotated by the kubelet.
//! let platform = WorkloadToken::file("/var/run/secrets/tokens/oauth-token");
//! let client = OAuthClient::discover("https://login.example.com")
//!     .await?
//!     .client_auth(platform.client_assertion("my-service"))
//!     .build()?;
//! let token = client.request_token_ccg(Configured, Some("api.read"), None).await?;
//! # let _ = token; Ok(()) }
//! ```

mod external_account;
mod grants;
mod sources;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

pub use external_account::ExternalAccount;
pub use grants::{JwtBearerGrant, TokenExchangeGrant};
use sources::{FileStamp, Program, Source, workload_error};

use crate::attempt::Attempt;
use crate::attempt::Preparing;
use crate::client_auth::{AuthenticateClient, ClientAuth};
use crate::error::{Error, WorkloadTokenError};
use crate::manager::BoxFuture;
use crate::secret::AccessToken;

/// `client_assertion_type` of a JWT used as client credentials (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// `client_assertion_type` of a JWT-SVID used as client credentials
/// (draft-ietf-oauth-spiffe-client-auth).
pub const JWT_SPIFFE_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";

/// Read a token again this long before it expires.
const EXPIRY_MARGIN: i64 = 60;
/// Read a file (or a token whose expiry is unknown) again at least this often, as the Azure
/// and Google SDKs do with Kubernetes' projected tokens.
const RECHECK: Duration = Duration::from_secs(5 * 60);

/// A workload's platform token, read where the platform puts it and kept until shortly
/// before it expires. Cheap to clone: clones share the token and its single read.
///
/// ```
/// use oauth_client::workload::WorkloadToken;
///
/// let kubernetes = WorkloadToken::file("/var/run/secrets/tokens/oauth-token");
/// let azure = WorkloadToken::env_file("AZURE_FEDERATED_TOKEN_FILE");
/// let spiffe = WorkloadToken::file("/run/spire/svid/jwt-svid.token");
/// let from_ci = WorkloadToken::env("CI_OIDC_TOKEN");
/// let program = WorkloadToken::program("/usr/local/bin/print-token --audience api");
/// # let _ = (kubernetes, azure, spiffe, from_ci, program);
/// ```
#[derive(Clone)]
pub struct WorkloadToken {
    inner: Arc<Inner>,
}

struct Inner {
    source: Source,
    current: tokio::sync::Mutex<Option<Current>>,
}

/// The token read last.
struct Current {
    token: AccessToken,
    expires_at: Option<i64>,
    read_at: Instant,
    stamp: Option<FileStamp>,
    env_value: Option<String>,
}

impl fmt::Debug for WorkloadToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkloadToken").field("from", &self.inner.source.describe()).finish_non_exhaustive()
    }
}

impl WorkloadToken {
    fn new(source: Source) -> Self {
        WorkloadToken { inner: Arc::new(Inner { source, current: tokio::sync::Mutex::new(None) }) }
    }

    /// The token in a file (Kubernetes' projected service-account token, a JWT-SVID written
    /// by the SPIFFE helper): read again when the file changes, and at least every five
    /// minutes.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::new(Source::File { path: path.into(), json_field: None })
    }

    /// The token in the file an environment variable names (`AZURE_FEDERATED_TOKEN_FILE`,
    /// `AWS_WEB_IDENTITY_TOKEN_FILE`), the variable read now; an unset variable gives a
    /// source whose reads fail saying so.
    pub fn env_file(variable: &str) -> Self {
        match std::env::var_os(variable) {
            Some(path) => Self::file(path),
            None => Self::new(Source::Env { variable: variable.to_owned() }),
        }
    }

    /// The token in an environment variable, read again whenever the variable changes.
    pub fn env(variable: impl Into<String>) -> Self {
        Self::new(Source::Env { variable: variable.into() })
    }

    /// The token a URL answers, fetched with `headers` (a bearer token of the platform's, a
    /// metadata header); the body is the token, or a JSON document with the token in
    /// [`json_field`](Self::json_field).
    pub fn url(url: impl Into<String>, headers: HeaderMap) -> Self {
        Self::new(Source::Url {
            url: url.into(),
            headers,
            json_field: None,
            http: crate::http_client::DocumentsClient::default(),
        })
    }

    /// The OIDC token of a GitHub Actions job for `audience`: GitHub's contract
    /// (`ACTIONS_ID_TOKEN_REQUEST_URL` with `&audience=`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN` as
    /// bearer, the token in `value`). The job needs `permissions: id-token: write`; without
    /// it the variables are missing, and this says so.
    pub fn github_actions(audience: &str) -> Result<Self, Error> {
        let missing = |variable: &str| {
            workload_error(WorkloadTokenError::Unavailable {
                from: "GitHub Actions".to_owned(),
                reason: format!("{variable} is not set: give the job `permissions: id-token: write`"),
            })
        };
        let url = std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL")
            .map_err(|_| missing("ACTIONS_ID_TOKEN_REQUEST_URL"))?;
        let bearer = std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
            .map_err(|_| missing("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))?;
        Self::oidc_token_request(&url, &bearer, audience)
    }

    /// GitHub's OIDC token request (see [`github_actions`](Self::github_actions)) at `url`
    /// with `bearer`, for a runner of your own or a test.
    pub fn oidc_token_request(url: &str, bearer: &str, audience: &str) -> Result<Self, Error> {
        let mut url = crate::endpoint_url::parse("OIDC token request URL", url, false)?;
        url.query_pairs_mut().append_pair("audience", audience);
        let mut headers = HeaderMap::new();
        let mut value = HeaderValue::try_from(format!("Bearer {bearer}")).map_err(|error| {
            Error::InvalidHeader { name: "authorization".into(), source: Arc::new(error) }
        })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
        Ok(Self::url(url.as_str(), headers).json_field("value"))
    }

    /// The token a program prints: Google's executable-sourced credential answer (JSON with
    /// `success`, `id_token` or `saml_response`, `expiration_time`), or the token alone. The
    /// command is split at spaces; it may run for 30 seconds.
    pub fn program(command: impl Into<String>) -> Self {
        Self::new(Source::Program(Program {
            command: command.into(),
            env: Vec::new(),
            timeout: Duration::from_secs(30),
            output_file: None,
        }))
    }

    /// The token an async function returns, for a platform of your own.
    pub fn from_fn<F, Fut>(function: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, Error>> + Send + 'static,
    {
        Self::new(Source::Function(Arc::new(move || -> BoxFuture<'static, Result<String, Error>> {
            Box::pin(function())
        })))
    }

    /// For a file or URL source: the document is JSON, the token its string `field`.
    #[must_use]
    pub fn json_field(self, field: &str) -> Self {
        self.map_source(|source| match source {
            Source::File { path, .. } => Source::File { path, json_field: Some(field.to_owned()) },
            Source::Url { url, headers, http, .. } => {
                Source::Url { url, headers, http, json_field: Some(field.to_owned()) }
            }
            other => other,
        })
    }

    /// For a URL source: the HTTP client to fetch with (a proxy, extra roots).
    #[must_use]
    pub fn http_client(self, client: reqwest::Client) -> Self {
        self.map_source(|source| match source {
            Source::Url { url, headers, json_field, .. } => Source::Url {
                url,
                headers,
                json_field,
                http: crate::http_client::DocumentsClient::caller(client),
            },
            other => other,
        })
    }

    /// For a program source: how long it may run (default 30 s).
    #[must_use]
    pub fn timeout(self, timeout: Duration) -> Self {
        self.map_source(|source| match source {
            Source::Program(program) => Source::Program(Program { timeout, ..program }),
            other => other,
        })
    }

    /// For a program source: a variable set in its environment.
    #[must_use]
    pub fn program_env(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        self.map_source(|source| match source {
            Source::Program(mut program) => {
                program.env.push((name, value));
                Source::Program(program)
            }
            other => other,
        })
    }

    /// For a program source: the file the program also writes its answer to (Google's
    /// `output_file`). An answer there that has not expired is used without running the
    /// program; the program runs when the file is missing, unreadable, a failure or expired.
    ///
    /// ```
    /// use oauth_client::workload::WorkloadToken;
    ///
    /// let svid = WorkloadToken::program("/usr/local/bin/fetch-token --audience api")
    ///     .program_output_file("/run/app/token-cache.json");
    /// # let _ = svid;
    /// ```
    #[must_use]
    pub fn program_output_file(self, path: impl Into<std::path::PathBuf>) -> Self {
        let path = path.into();
        self.map_source(|source| match source {
            Source::Program(program) => Source::Program(Program { output_file: Some(path), ..program }),
            other => other,
        })
    }

    /// A builder step: the source changed, nothing read yet (clones made before keep theirs).
    fn map_source(self, change: impl FnOnce(Source) -> Source) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => Self::new(change(inner.source)),
            Err(shared) => WorkloadToken { inner: shared },
        }
    }

    /// The platform token now: the one kept while it has more than a minute left (and, for
    /// a file, while the file is unchanged and was read less than five minutes ago), else a
    /// new read — one for all the callers waiting. An expired token is refused
    /// ([`WorkloadTokenError::Expired`]).
    pub async fn token(&self) -> Result<AccessToken, Error> {
        let source = &self.inner.source;
        let mut current = self.inner.current.lock().await;
        let now = crate::Clock::now(&crate::SystemClock);
        if let Some(kept) = current.as_ref()
            && self.still_current(kept, now)
        {
            return Ok(kept.token.clone());
        }
        let env_value = source.env_value();
        let fetched = source.fetch().await?;
        let expires_at = fetched.expires_at.or_else(|| jwt_expiry(&fetched.token));
        if let Some(expired_at) = expires_at
            && expired_at <= now
        {
            return Err(workload_error(WorkloadTokenError::Expired { from: source.describe(), expired_at }));
        }
        let token = AccessToken::from(fetched.token);
        *current = Some(Current {
            token: token.clone(),
            expires_at,
            read_at: Instant::now(),
            stamp: fetched.stamp,
            env_value,
        });
        Ok(token)
    }

    fn still_current(&self, kept: &Current, now: i64) -> bool {
        if kept.expires_at.is_some_and(|expires_at| expires_at - EXPIRY_MARGIN <= now) {
            return false;
        }
        match &self.inner.source {
            Source::File { .. } => {
                kept.read_at.elapsed() < RECHECK && self.inner.source.stamp() == kept.stamp
            }
            Source::Env { .. } => self.inner.source.env_value() == kept.env_value,
            _ => kept.expires_at.is_some() || kept.read_at.elapsed() < RECHECK,
        }
    }

    /// Client authentication with the platform token as the client assertion
    /// (`client_assertion_type` `…:jwt-bearer`, RFC 7523 §2.2): the form Azure's federated
    /// credentials and other workload-identity federations take. The token is read before
    /// each request, so a rotated one is used at once.
    pub fn client_assertion(&self, client_id: impl Into<String>) -> ClientAuth {
        let client_id = client_id.into();
        ClientAuth::builtin(
            "private_key_jwt",
            Some(client_id.clone()),
            false,
            PlatformAssertion::new(client_id, self.clone(), JWT_BEARER_ASSERTION),
        )
    }

    /// Client authentication with a SPIFFE JWT-SVID (`client_assertion_type` `…:jwt-spiffe`,
    /// draft-ietf-oauth-spiffe-client-auth); `client_id` is the one the server knows the
    /// workload by.
    pub fn spiffe_client_assertion(&self, client_id: impl Into<String>) -> ClientAuth {
        let client_id = client_id.into();
        ClientAuth::builtin(
            "spiffe_jwt",
            Some(client_id.clone()),
            false,
            PlatformAssertion::new(client_id, self.clone(), JWT_SPIFFE_ASSERTION),
        )
    }
}

/// The `exp` of a JWT, read without checking the signature: when to read the token again,
/// not whether to trust it (the server that receives it checks it).
fn jwt_expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes).ok()?.get("exp")?.as_i64()
}

/// The platform token as a client assertion: read before each request, sent in each attempt.
struct PlatformAssertion {
    client_id: String,
    token: WorkloadToken,
    assertion_type: &'static str,
    /// The token read for the request being sent.
    read: std::sync::Mutex<Option<AccessToken>>,
}

impl PlatformAssertion {
    fn new(client_id: String, token: WorkloadToken, assertion_type: &'static str) -> Self {
        PlatformAssertion { client_id, token, assertion_type, read: std::sync::Mutex::new(None) }
    }
}

impl AuthenticateClient for PlatformAssertion {
    fn prepare(&self) -> Option<Preparing<'_>> {
        Some(Box::pin(async move {
            let token = self.token.token().await?;
            *self.read.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(token);
            Ok(())
        }))
    }

    fn authenticate(&self, attempt: &mut Attempt<'_>) -> Result<(), Error> {
        let read = self.read.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let token = read.ok_or_else(|| {
            Error::config(crate::Setting::ClientAuth, "the platform token was not read before the request")
        })?;
        // RFC 7521 §4.2 lets the assertion alone identify the client; Azure and others
        // require `client_id` with it.
        attempt.add_form("client_id", &self.client_id);
        attempt.add_form("client_assertion_type", self.assertion_type);
        attempt.add_form("client_assertion", token.secret());
        Ok(())
    }
}

impl crate::resource_access::AssertionSource for WorkloadToken {
    fn assertion(&self) -> BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(self.token())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: i64) -> String {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp}}}"#));
        format!("eyJhbGciOiJub25lIn0.{payload}.sig")
    }

    #[tokio::test]
    async fn a_file_token_is_read_again_when_the_platform_replaces_it() {
        let dir = std::env::temp_dir().join(format!("oauth-workload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        let now = crate::Clock::now(&crate::SystemClock);
        std::fs::write(&path, jwt(now + 3600)).unwrap();
        let source = WorkloadToken::file(&path);
        assert_eq!(source.token().await.unwrap().secret(), jwt(now + 3600));
        std::fs::write(&path, format!("{}\n", jwt(now + 7200))).unwrap();
        assert_eq!(source.token().await.unwrap().secret(), jwt(now + 7200), "the new length is a new stamp");
        std::fs::write(&path, jwt(now - 10)).unwrap();
        match source.token().await {
            Err(Error::WorkloadToken(error)) => assert_eq!(
                *error,
                WorkloadTokenError::Expired {
                    from: format!("file {}", path.display()),
                    expired_at: now - 10
                }
            ),
            other => panic!("expected an expired token, got {other:?}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_missing_file_names_the_path() {
        let source = WorkloadToken::file("/nonexistent/oauth-token");
        let error = source.token().await.unwrap_err();
        assert!(
            error.to_string().starts_with("no platform token from the file /nonexistent/oauth-token: "),
            "{error}"
        );
        assert!(format!("{source:?}").contains("file /nonexistent/oauth-token"));
    }
}
