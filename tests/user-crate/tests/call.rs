//! Calls the crate's own grant against a one-shot HTTP server written with tokio alone.

use oauth_client::{ClientAuth, Endpoint};
use oauth_client::{OAuthClient, OAuthProviderErrorKind, grants};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use user_grant_crate::{SamlBearer, VendorConsent};

/// Answers one request with `status` and the JSON `body`; yields the raw request.
async fn one_shot(status: &'static str, body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let status_line = status;
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let read = socket.read(&mut buffer).await.unwrap();
            request.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some(head_end) = text.find("\r\n\r\n") {
                let length = text[..head_end]
                    .lines()
                    .find_map(|line| {
                        line.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned)
                    })
                    .map_or(0, |value| value.trim().parse::<usize>().unwrap());
                if request.len() >= head_end + 4 + length {
                    break;
                }
            }
        }
        let response = format!(
            "HTTP/1.1 {status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(response.as_bytes()).await.unwrap();
        String::from_utf8(request).unwrap()
    });
    (url, server)
}

#[tokio::test]
async fn the_declared_grant_sends_its_fields_and_decodes_the_token() {
    let (url, server) =
        one_shot("200 OK", r#"{"access_token":"t-1","token_type":"Bearer","expires_in":600}"#).await;
    let client = OAuthClient::new(url).unwrap();
    let token = client.request_token_saml("Basic eDp5", "PHNhbWw-", Some("read")).await.unwrap();
    assert_eq!(token.access_token.secret(), "t-1");
    assert_eq!(token.expires_in, Some(600));

    let request = server.await.unwrap();
    assert!(request.starts_with("POST /token HTTP/1.1\r\n"), "{request}");
    let lower = request.to_ascii_lowercase();
    assert!(lower.contains("\r\nauthorization: basic eDp5\r\n".to_ascii_lowercase().as_str()), "{request}");
    assert!(lower.contains("\r\ncontent-type: application/x-www-form-urlencoded\r\n"), "{request}");
    assert!(request.ends_with(
        "\r\n\r\ngrant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Asaml2-bearer&assertion=PHNhbWw-&scope=read"
    ));
}

#[tokio::test]
async fn the_declared_grant_reports_provider_errors() {
    let (url, server) =
        one_shot("400 Bad Request", r#"{"error":"invalid_grant","error_description":"expired"}"#).await;
    let error =
        OAuthClient::new(url).unwrap().request_token_saml("Basic eDp5", "old", None).await.unwrap_err();
    assert_eq!(error.provider_error().map(|e| &e.error), Some(&OAuthProviderErrorKind::InvalidGrant));
    assert!(!server.await.unwrap().contains("scope="), "a None scope is not sent");
}

#[tokio::test]
async fn the_declared_request_to_the_providers_own_endpoint_is_authenticated_like_the_rest() {
    let (url, server) = one_shot("204 No Content", "").await;
    let consent_url = url.replace("/token", "/consent");
    let client = OAuthClient::builder(&url)
        .endpoint_url(Endpoint::named("vendor_consent"), consent_url)
        .client_auth(ClientAuth::client_secret_post("app", "s3cret"))
        .build()
        .unwrap();
    client.record_consent("alice", "marketing").await.unwrap();
    let request = server.await.unwrap();
    assert!(request.starts_with("POST /consent HTTP/1.1\r\n"), "{request}");
    assert!(
        request.ends_with("\r\n\r\nuser=alice&purpose=marketing&client_id=app&client_secret=s3cret"),
        "{request}"
    );
}

#[tokio::test]
async fn a_request_to_an_endpoint_without_a_url_names_it_and_how_to_set_it() {
    let client = OAuthClient::new("http://127.0.0.1:9/token").unwrap();
    let error = client.record_consent("alice", "marketing").await.unwrap_err().to_string();
    assert!(error.contains("no vendor_consent endpoint is configured"), "{error}");
    assert!(
        error.contains(r#".endpoint_url("vendor_consent", ..)"#)
            && error.contains("`vendor_consent_endpoint`"),
        "{error}"
    );
}

/// The `oauth` command line with the crate's declared methods, as a team's own binary has it:
/// `oauth_cli::Oauth::new().grants(grants![...]).main()`.
async fn team_cli(args: &[&str]) -> (i32, String, String) {
    let cli = oauth_cli::Oauth::new()
        .grants(grants![SamlBearer::request_token_saml, VendorConsent::record_consent]);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli.run_async(std::iter::once("oauth").chain(args.iter().copied()), &mut out, &mut err).await;
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

#[tokio::test]
async fn the_teams_declared_grant_runs_from_the_cli_with_a_flag_per_field() {
    let (url, server) =
        one_shot("200 OK", r#"{"access_token":"t-1","token_type":"Bearer","expires_in":600}"#).await;
    let args = [
        "request-token-saml",
        "--token-url",
        &url,
        "--client-id",
        "app",
        "--client-secret",
        "s3cret",
        "--assertion",
        "PHNhbWw-",
        "--scope",
        "read",
        "--json",
    ];
    let (code, out, err) = team_cli(&args).await;
    assert_eq!(code, oauth_cli::EXIT_OK, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["expires_in"], 600);
    assert_eq!(json["access_token"], "[redacted]");
    let request = server.await.unwrap();
    assert!(request.contains("\r\nauthorization: Basic YXBwOnMzY3JldA==\r\n"), "{request}");
    assert!(
        request.ends_with(
            "\r\n\r\ngrant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Asaml2-bearer&assertion=PHNhbWw-&scope=read"
        ),
        "{request}"
    );
}

#[tokio::test]
async fn the_teams_own_endpoint_runs_from_the_cli_and_its_help_lists_the_fields() {
    let (url, server) = one_shot("204 No Content", "").await;
    let consent_url = url.replace("/token", "/consent");
    let endpoint = format!("vendor_consent={consent_url}");
    let args = [
        "record-consent",
        "--token-url",
        &url,
        "--endpoint",
        &endpoint,
        "--client-id",
        "app",
        "--client-secret",
        "s3cret",
        "--auth",
        "post",
        "--user",
        "alice",
        "--purpose",
        "marketing",
    ];
    let (code, out, err) = team_cli(&args).await;
    assert_eq!((code, out.as_str()), (oauth_cli::EXIT_OK, "done\n"), "{err}");
    let request = server.await.unwrap();
    assert!(request.starts_with("POST /consent HTTP/1.1\r\n"), "{request}");
    assert!(
        request.ends_with("\r\n\r\nuser=alice&purpose=marketing&client_id=app&client_secret=s3cret"),
        "{request}"
    );

    let (code, help, _) = team_cli(&["--help"]).await;
    assert_eq!(code, oauth_cli::EXIT_OK);
    assert!(
        help.contains(
            "request-token-saml  Exchanges a base64url-encoded SAML 2.0 assertion for an access token"
        ),
        "{help}"
    );
    assert!(help.contains("record-consent      Records that `user` consented to `purpose`"), "{help}");
    let (code, _, err) =
        team_cli(&["record-consent", "--token-url", &url, "--client-id", "app", "--user", "alice"]).await;
    assert_eq!(code, oauth_cli::EXIT_USAGE);
    assert!(err.contains("--purpose <PURPOSE>"), "a declared field that is not an Option is required: {err}");
}
