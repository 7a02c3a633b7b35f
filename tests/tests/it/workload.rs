//! Without a client secret: platform tokens (a file the platform rotates, a GitHub-style
//! token URL, a program) as client assertions, as the assertion of the JWT bearer grant and
//! as the subject of a token exchange — against oidc-provider, whose handlers verify the
//! assertions against the key the test signs "platform tokens" with — and Google
//! `external_account` files against an STS double that checks the RFC 8693 fields.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use oauth_client::extensions::{JwtAssertion, SigningKey, token_types};
use oauth_client::manager::MemoryStore;
use oauth_client::workload::{ExternalAccount, JwtBearerGrant, TokenExchangeGrant, WorkloadToken};
use oauth_client::{
    ClientAuth, ClientAuthorization::Configured, Error, OAuthAuthorization, OAuthClient,
    OAuthProviderErrorKind, TokenManager, WorkloadTokenError,
};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::interop::oidc_provider::{KEY_PHASES, fixture};

/// A directory of its own for a test's token files, removed at the end.
struct TokenDir(PathBuf);

impl TokenDir {
    fn new(test: &str) -> TokenDir {
        let dir = std::env::temp_dir().join(format!("oauth-workload-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TokenDir(dir)
    }

    /// Puts `token` in place as the kubelet does: a new file renamed over the old one.
    fn rotate(&self, token: &str) -> PathBuf {
        let path = self.0.join("token");
        let next = self.0.join("token.next");
        std::fs::write(&next, token).unwrap();
        std::fs::rename(&next, &path).unwrap();
        path
    }
}

impl Drop for TokenDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A platform token: a JWT for `subject` with audience `audience`, signed with the key the
/// oidc-provider peer trusts (standing in for the platform's issuer), a new `jti` each time.
fn platform_token(subject: &str, audience: &str) -> String {
    let key = SigningKey::rs256_pem(&fixture("rsa-private.pem")).unwrap();
    JwtAssertion::new(subject, subject, audience, key).sign().unwrap()
}

fn peer(variable: &str) -> String {
    std::env::var(variable).ok().filter(|value| !value.is_empty()).unwrap_or_else(|| {
        panic!("{variable} is not set: start the interop servers (tests/peers/start-all.sh)")
    })
}

fn provider_kind(error: &Error) -> Option<&OAuthProviderErrorKind> {
    error.provider_error().map(|provider| &provider.error)
}

/// Issue "Secretless workload identity": the platform's token file as the client's
/// credential (the Azure federated form, `client_assertion_type` `…:jwt-bearer`) at
/// oidc-provider, which verifies it as a `private_key_jwt` assertion and accepts each `jti`
/// once. The file is read before each request: the same token again is refused, and after
/// the platform rotates the file the next request carries the new one — no restart.
#[tokio::test]
#[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
async fn a_rotated_platform_token_file_authenticates_the_client() {
    let issuer = peer("OAUTH_PEER_OIDC_URL");
    let _phases = KEY_PHASES.read().await;
    let dir = TokenDir::new("rotation");
    let file = dir.rotate(&platform_token("private-key-client", &issuer));
    let platform = WorkloadToken::file(&file);
    let client = OAuthClient::discover(&issuer)
        .await
        .unwrap()
        .client_auth(platform.client_assertion("private-key-client"))
        .build()
        .unwrap();
    let token = client.request_token_ccg(Configured, None, None).await.unwrap();
    assert_eq!(token.token_type, "Bearer");

    let replayed = client.request_token_ccg(Configured, None, None).await.unwrap_err();
    assert_eq!(
        provider_kind(&replayed),
        Some(&OAuthProviderErrorKind::InvalidClient),
        "the same jti: {replayed}"
    );

    dir.rotate(&platform_token("private-key-client", &issuer));
    client
        .request_token_ccg(Configured, None, None)
        .await
        .expect("the rotated token, read without a restart");
}

/// Issue "Secretless workload identity": the JWT bearer grant (RFC 7523 §2.1) and a token
/// exchange (RFC 8693) behind a token manager, each presenting the platform token read at
/// that moment: a refresh after the platform rotated the file presents the new one.
#[tokio::test]
#[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
async fn the_jwt_bearer_grant_and_token_exchange_present_the_platform_token() {
    let issuer = peer("OAUTH_PEER_OIDC_URL");
    let _phases = KEY_PHASES.read().await;
    let dir = TokenDir::new("grants");
    let file = dir.rotate(&platform_token("exchange-client", &issuer));
    let client = OAuthClient::discover(&issuer)
        .await
        .unwrap()
        .client_auth(ClientAuth::client_secret_post("exchange-client", "exchange-client-secret"))
        .build()
        .unwrap();
    let tokens =
        TokenManager::builder(client.clone(), JwtBearerGrant::new(WorkloadToken::file(&file))).build();
    let first = tokens.access_token().await.unwrap();
    dir.rotate(&platform_token("exchange-client", &issuer));
    let second = tokens.refresh_now().await.expect("a new assertion for the new grant");
    assert_ne!(first, second);

    // The provider's own token stands in for a platform token it trusts as a subject.
    let subject = client.request_token_ccg(Configured, None, None).await.unwrap();
    let subject_file = dir.0.join("subject");
    std::fs::write(&subject_file, subject.access_token.secret()).unwrap();
    let exchange = TokenExchangeGrant::new(WorkloadToken::file(&subject_file), token_types::ACCESS_TOKEN)
        .audience("https://api.example/");
    let exchanged = TokenManager::builder(client, exchange).build();
    let token = exchanged.token().await.unwrap();
    assert_eq!(token.issued_token_type(), Some(token_types::ACCESS_TOKEN));
}

/// A token endpoint that accepts `assertion_type` with `assertion` from `client_id` only.
async fn token_endpoint_expecting(
    server: &MockServer,
    client_id: &str,
    assertion_type: &str,
    assertion: &str,
) {
    let expected = [
        ("client_id", client_id),
        ("client_assertion_type", assertion_type),
        ("client_assertion", assertion),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()));
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(move |request: &Request| {
            let form: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
            expected.iter().all(|field| form.contains(field))
        })
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "at", "token_type": "Bearer", "expires_in": 3600})),
        )
        .mount(server)
        .await;
}

/// A JWT with an `exp`, unsigned (the token endpoints here are doubles).
fn jwt_expiring_at(exp: i64) -> String {
    use base64::Engine as _;
    let payload =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"w","exp":{exp}}}"#));
    format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln")
}

fn now() -> i64 {
    oauth_client::Clock::now(&oauth_client::SystemClock)
}

/// Issue "Secretless workload identity": a GitHub Actions job's OIDC token (GitHub's request
/// URL with `&audience=`, its request token as bearer, the token in `value`), fetched once
/// for two requests while it is valid, sent as the client assertion; two managers sharing a
/// store make one grant between them.
#[tokio::test]
async fn a_ci_job_s_oidc_token_is_fetched_once_and_presented_as_the_client_assertion() {
    let github = MockServer::start().await;
    let id_token = jwt_expiring_at(now() + 600);
    Mock::given(method("GET"))
        .and(path("/_apis/distributedtask/token"))
        .and(query_param("api-version", "2.0"))
        .and(query_param("audience", "api://AzureADTokenExchange"))
        .and(header("authorization", "Bearer request-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"count": 1, "value": id_token})))
        .expect(1)
        .mount(&github)
        .await;
    let authorization_server = MockServer::start().await;
    token_endpoint_expecting(
        &authorization_server,
        "app-1",
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        &id_token,
    )
    .await;

    let url = format!("{}/_apis/distributedtask/token?api-version=2.0", github.uri());
    let platform =
        WorkloadToken::oidc_token_request(&url, "request-token", "api://AzureADTokenExchange").unwrap();
    let client = OAuthClient::builder(format!("{}/token", authorization_server.uri()))
        .client_auth(platform.client_assertion("app-1"))
        .build()
        .unwrap();
    client.request_token_ccg(Configured, None, None).await.unwrap();
    client.request_token_ccg(Configured, None, None).await.unwrap();

    let store = Arc::new(MemoryStore::new());
    let manager = || {
        TokenManager::builder(client.clone(), oauth_client::manager::ClientCredentials::new())
            .store(store.clone(), "ci")
            .build()
    };
    let (one, other) = (manager(), manager());
    let (a, b) = tokio::join!(one.access_token(), other.access_token());
    assert_eq!(a.unwrap(), b.unwrap());
    let grants = authorization_server.received_requests().await.unwrap().len();
    assert_eq!(grants, 3, "two direct requests and one grant for both managers");
}

/// Issue "Secretless workload identity": a JWT-SVID from a program (the SPIFFE form,
/// `…:jwt-spiffe`); an expired platform token is refused before anything is sent, with a
/// typed error naming its source.
#[tokio::test]
async fn a_program_s_svid_is_the_spiffe_assertion_and_an_expired_token_is_refused() {
    let dir = TokenDir::new("program");
    let svid = jwt_expiring_at(now() + 600);
    let script = dir.0.join("print-svid.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho '{{\"version\":1,\"success\":true,\"token_type\":\"urn:ietf:params:oauth:token-type:jwt\",\"id_token\":\"{svid}\",\"expiration_time\":{}}}'\n",
            now() + 600
        ),
    )
    .unwrap();
    make_executable(&script);
    let authorization_server = MockServer::start().await;
    token_endpoint_expecting(
        &authorization_server,
        "spiffe://example.org/ns/prod/sa/api",
        "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe",
        &svid,
    )
    .await;
    let platform = WorkloadToken::program(script.to_str().unwrap());
    let client = OAuthClient::builder(format!("{}/token", authorization_server.uri()))
        .client_auth(platform.spiffe_client_assertion("spiffe://example.org/ns/prod/sa/api"))
        .build()
        .unwrap();
    client.request_token_ccg(Configured, None, None).await.unwrap();

    let expired_at = now() - 30;
    let file = dir.rotate(&jwt_expiring_at(expired_at));
    let expired = client.with_client_auth(WorkloadToken::file(&file).client_assertion("app-1"));
    match expired.request_token_ccg(Configured, None, None).await {
        Err(Error::WorkloadToken(error)) => assert_eq!(
            *error,
            WorkloadTokenError::Expired { from: format!("file {}", file.display()), expired_at }
        ),
        other => panic!("expected an expired platform token, got {other:?}"),
    }
    assert_eq!(authorization_server.received_requests().await.unwrap().len(), 1, "nothing sent with it");
}

fn make_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}

/// An STS double: answers only a token exchange with every RFC 8693 field Google's STS
/// requires, for `subject`.
async fn sts_expecting(server: &MockServer, subject: &str, scope: &str) {
    let expected = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
        (
            "audience",
            "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k8s",
        ),
        ("subject_token", subject),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
        ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ("scope", scope),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()));
    Mock::given(method("POST"))
        .and(path("/v1/token"))
        .respond_with(move |request: &Request| {
            let form: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
            if expected.iter().all(|field| form.contains(field)) {
                ResponseTemplate::new(200).set_body_json(json!({
                    "access_token": "federated-token", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                    "token_type": "Bearer", "expires_in": 3600,
                }))
            } else {
                ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_request", "error_description": format!("{form:?}")}))
            }
        })
        .mount(server)
        .await;
}

fn credential_file(sts: &MockServer, source: Value, impersonation: Option<String>) -> String {
    let mut file = json!({
        "type": "external_account",
        "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k8s",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": format!("{}/v1/token", sts.uri()),
        "credential_source": source,
    });
    if let Some(url) = impersonation {
        file["service_account_impersonation_url"] = url.into();
        file["service_account_impersonation"] = json!({"token_lifetime_seconds": 600});
    }
    file.to_string()
}

/// Issue "Secretless workload identity": Google `external_account` files read as they are —
/// a file source (JSON format) with service-account impersonation (the federated token as
/// bearer, the scope and lifetime asked), and a URL source with its headers (text format)
/// without — each exchanged at an STS double that checks the RFC 8693 fields; a file that
/// runs a program is refused unless Google's switch allows it.
#[tokio::test]
async fn google_external_account_files_of_each_source() {
    let sts = MockServer::start().await;
    let dir = TokenDir::new("external-account");
    let platform = jwt_expiring_at(now() + 3600);
    let file = dir.0.join("token.json");
    std::fs::write(&file, json!({"access_token": platform}).to_string()).unwrap();
    sts_expecting(&sts, &platform, "https://www.googleapis.com/auth/cloud-platform").await;
    let expire_time = "2999-01-01T00:00:00Z";
    Mock::given(method("POST"))
        .and(path("/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken"))
        .and(header("authorization", "Bearer federated-token"))
        .and(wiremock::matchers::body_json(
            json!({"scope": ["https://www.googleapis.com/auth/devstorage.read_only"], "lifetime": "600s"}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"accessToken": "sa-token", "expireTime": expire_time})),
        )
        .mount(&sts)
        .await;
    let impersonation = format!(
        "{}/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken",
        sts.uri()
    );
    let source =
        json!({"file": file, "format": {"type": "json", "subject_token_field_name": "access_token"}});
    let account = ExternalAccount::from_json(&credential_file(&sts, source, Some(impersonation)))
        .unwrap()
        .scope("https://www.googleapis.com/auth/devstorage.read_only");
    let tokens = account.token_manager().unwrap();
    assert_eq!(tokens.access_token().await.unwrap().secret(), "sa-token");

    let metadata = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/token"))
        .and(header("metadata-flavor", "Google"))
        .respond_with(ResponseTemplate::new(200).set_body_string(platform.clone()))
        .mount(&metadata)
        .await;
    let source = json!({"url": format!("{}/token", metadata.uri()), "headers": {"Metadata-Flavor": "Google"}, "format": {"type": "text"}});
    let account = ExternalAccount::from_json(&credential_file(&sts, source, None)).unwrap();
    assert_eq!(account.token_manager().unwrap().access_token().await.unwrap().secret(), "federated-token");

    let source =
        json!({"executable": {"command": "/usr/local/bin/print-token --audience x", "timeout_millis": 5000}});
    match ExternalAccount::from_json(&credential_file(&sts, source, None)) {
        Err(Error::WorkloadToken(error)) => assert_eq!(
            *error,
            WorkloadTokenError::ExecutableNotAllowed {
                command: "/usr/local/bin/print-token --audience x".to_owned()
            }
        ),
        other => panic!("expected the program refused, got {other:?}"),
    }
}

/// Issue "Secretless workload identity": `oauth --assertion-file FILE` checks a federation
/// setup from a pod or a CI job — the platform token as the client assertion, with no
/// secret on the command line — and `--assertion-url` with its header and JSON field does
/// the same with a GitHub-style token request.
#[tokio::test]
#[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
async fn the_cli_authenticates_with_a_platform_token() {
    let issuer = peer("OAUTH_PEER_OIDC_URL");
    let _phases = KEY_PHASES.read().await;
    let dir = TokenDir::new("cli");
    let file = dir.rotate(&platform_token("private-key-client", &issuer));
    let run = |extra: Vec<String>| {
        let mut args: Vec<String> =
            ["oauth", "--issuer", &issuer, "--client-id", "private-key-client"].map(str::to_owned).to_vec();
        async move {
            args.extend(extra);
            args.extend(["client-credentials".to_owned(), "--json".to_owned()]);
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = oauth_cli::run_async(args, &mut out, &mut err).await;
            (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
        }
    };
    let (code, out, err) = run(vec!["--assertion-file".into(), file.display().to_string()]).await;
    assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["token_type"], "Bearer");

    let github = MockServer::start().await;
    let id_token = platform_token("private-key-client", &issuer);
    Mock::given(method("GET"))
        .and(path("/token"))
        .and(query_param("audience", "oidc-peer"))
        .and(header("authorization", "Bearer request-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": id_token})))
        .mount(&github)
        .await;
    let url = format!("{}/token?audience=oidc-peer", github.uri());
    let flags = [
        "--assertion-url",
        &url,
        "--assertion-header",
        "Authorization=Bearer request-token",
        "--assertion-field",
        "value",
    ];
    let (code, _, err) = run(flags.map(str::to_owned).to_vec()).await;
    assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
}

/// The Authlib peer's count of tokens issued to `client`.
async fn issued_by_authlib(base: &str, client: &str) -> u64 {
    let body = reqwest::get(format!("{base}/issued")).await.unwrap().bytes().await.unwrap();
    let counts: Value = serde_json::from_slice(&body).unwrap();
    counts[client].as_u64().unwrap_or(0)
}

/// Issue "Secretless workload identity", against a second implementation of RFC 7523
/// (Authlib): the platform token as the JWT bearer grant's assertion behind a token
/// manager — a refresh after the platform rotated the file presents the new token — and as
/// the client assertion of a client-credentials request, whose `jti` Authlib accepts once:
/// the same file again is refused, the rotated one accepted.
#[tokio::test]
#[ignore = "needs the interop servers (tests/peers/start-all.sh)"]
async fn authlib_accepts_the_platform_token_as_grant_and_as_client_assertion() {
    let issuer = peer("OAUTH_PEER_AUTHLIB_URL");
    let dir = TokenDir::new("authlib");
    let file = dir.rotate(&platform_token("authlib-workload", &issuer));
    let client = OAuthClient::discover(&issuer)
        .await
        .unwrap()
        .client_auth(WorkloadToken::file(&file).client_assertion("authlib-workload"))
        .build()
        .unwrap();
    let before = issued_by_authlib(&issuer, "authlib-workload").await;

    let grant =
        TokenManager::builder(client.clone(), JwtBearerGrant::new(WorkloadToken::file(&file))).build();
    let first = grant.access_token().await.unwrap();
    dir.rotate(&platform_token("authlib-workload", &issuer));
    let second = grant.refresh_now().await.expect("the rotated platform token");
    assert_ne!(first, second);

    client.request_token_ccg(Configured, None, None).await.expect("the rotated token as the assertion");
    let replayed = client.request_token_ccg(Configured, None, None).await.unwrap_err();
    assert_eq!(provider_kind(&replayed), Some(&OAuthProviderErrorKind::InvalidClient), "{replayed}");
    dir.rotate(&platform_token("authlib-workload", &issuer));
    client.request_token_ccg(Configured, None, None).await.expect("read again, without a restart");
    assert_eq!(issued_by_authlib(&issuer, "authlib-workload").await - before, 4);
}

/// Issue "Secretless workload identity": a fleet of processes, each reading the platform
/// token from its file, shares the JWT bearer grant's token through Redis. Authlib's tokens
/// live 4 s and the managers renew 1 s early, so 3 s windows: across the fleet Authlib
/// issues about one token per window, where each process alone would take its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the interop servers (tests/peers/start-all.sh) and redis-server"]
async fn a_fleet_shares_the_platform_grant_through_redis() {
    use oauth_client_tests::fleet::{Fleet, FleetPlan};
    let _serial = crate::redis_store::ONE_AT_A_TIME.lock().await;
    let issuer = peer("OAUTH_PEER_AUTHLIB_URL");
    let redis = crate::redis_store::RedisServer::start();
    let dir = TokenDir::new("fleet");
    let file = dir.rotate(&platform_token("authlib-fleet", &issuer));
    let plan = FleetPlan { assertion_file: Some(file), ..FleetPlan::steady(4, 10, "jwt-bearer", 9_000) };
    let before = issued_by_authlib(&issuer, "authlib-fleet").await;
    let reports = Fleet::start(
        crate::redis_store::WORKER,
        &plan,
        &format!("{issuer}/token"),
        &redis.url,
        "platform-fleet",
    )
    .reports();

    let samples: Vec<_> = reports.iter().flat_map(|report| report.error_samples.clone()).collect();
    assert_eq!(reports.iter().map(|report| report.errors).sum::<u64>(), 0, "{samples:?}");
    assert!(reports.iter().all(|report| report.calls > 100), "every process was busy");
    let issued = issued_by_authlib(&issuer, "authlib-fleet").await - before;
    // 9 s in 3 s windows: 3, or 4 when the first window started late; alone, 4 processes
    // would take at least 12.
    assert!((3..=4).contains(&issued), "{issued} tokens for the fleet over three windows");
    let handed_out: std::collections::BTreeSet<_> =
        reports.iter().flat_map(|report| report.tokens.clone()).collect();
    assert_eq!(handed_out.len() as u64, issued, "every process handed out the fleet's tokens");
}

/// Issue "Secretless workload identity": an `external_account` file whose source is a
/// program, with Google's switch on. The switch is the process's environment, as in Google's
/// libraries, so the test runs itself again in a child process that has it (setting a
/// variable in this multi-threaded process would race the other tests). The program gets
/// the contract's variables and writes its answer to the output file too; a second account
/// from the same file uses that answer without running the program, until it expires.
#[test]
fn an_external_account_program_runs_when_executables_are_allowed() {
    const SWITCH: &str = "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES";
    if std::env::var(SWITCH).as_deref() != Ok("1") {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "workload::an_external_account_program_runs_when_executables_are_allowed"])
            .args(["--nocapture", "--test-threads", "1"])
            .env(SWITCH, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
        assert!(stdout.contains("1 passed"), "the child ran the test: {stdout}");
        return;
    }
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
        let sts = MockServer::start().await;
        let dir = TokenDir::new("external-program");
        let platform = jwt_expiring_at(now() + 3600);
        sts_expecting(&sts, &platform, "https://www.googleapis.com/auth/cloud-platform").await;
        let (script, runs, cache) = (dir.0.join("print-token.sh"), dir.0.join("runs"), dir.0.join("cache.json"));
        let answer = json!({"version": 1, "success": true, "token_type": "urn:ietf:params:oauth:token-type:jwt",
            "id_token": platform, "expiration_time": now() + 3600});
        // Counts its runs, refuses to answer for another audience or interactively, and keeps
        // its answer where the contract's variable says.
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho run >> '{runs}'\n\
                 [ \"$GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE\" = '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k8s' ] || exit 3\n\
                 [ \"$GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE\" = 0 ] || exit 4\n\
                 echo '{answer}' > \"$GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE\"\necho '{answer}'\n",
                runs = runs.display()
            ),
        )
        .unwrap();
        make_executable(&script);
        let source = json!({"executable": {"command": format!("{} --audience x", script.display()),
            "timeout_millis": 5000, "output_file": cache}});
        let file = credential_file(&sts, source, None);
        let federated = || async {
            let tokens = ExternalAccount::from_json(&file).unwrap().token_manager().unwrap();
            tokens.access_token().await.unwrap().secret().to_owned()
        };
        let run_count = || std::fs::read_to_string(&runs).unwrap_or_default().lines().count();

        assert_eq!(federated().await, "federated-token");
        assert_eq!(run_count(), 1);
        assert_eq!(federated().await, "federated-token", "another process, say, reading the output file");
        assert_eq!(run_count(), 1, "the unexpired answer in the output file is used");
        let expired = json!({"version": 1, "success": true, "token_type": "urn:ietf:params:oauth:token-type:jwt",
            "id_token": jwt_expiring_at(now() - 10), "expiration_time": now() - 10});
        std::fs::write(&cache, expired.to_string()).unwrap();
        assert_eq!(federated().await, "federated-token");
        assert_eq!(run_count(), 2, "an expired answer there runs the program again");
    });
}
