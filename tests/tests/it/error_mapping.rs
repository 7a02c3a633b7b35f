//! How each kind of response that is not a token becomes an `Error`.

use oauth_client::{Error, OAuthAuthorization, OAuthClient, OAuthProviderError, OAuthProviderErrorKind};
use oauth_client_tests::{AUTH, AUTH_XY, TOKEN_PATH, client_for, json_endpoint, token_endpoint};
use serde_json::json;
use wiremock::ResponseTemplate;

async fn ccg_error(response: ResponseTemplate) -> Error {
    let server = token_endpoint(response).await;
    client_for(&server).request_token_ccg(AUTH, None, None).await.expect_err("not a token")
}

#[tokio::test]
async fn rfc6749_error_codes_on_400_and_401_become_provider_errors() {
    let cases = [
        ("invalid_request", OAuthProviderErrorKind::InvalidRequest),
        ("invalid_client", OAuthProviderErrorKind::InvalidClient),
        ("invalid_grant", OAuthProviderErrorKind::InvalidGrant),
        ("unauthorized_client", OAuthProviderErrorKind::UnauthorizedClient),
        ("unsupported_grant_type", OAuthProviderErrorKind::UnsupportedGrantType),
        ("invalid_scope", OAuthProviderErrorKind::InvalidScope),
        ("bad_verification_code", OAuthProviderErrorKind::Other("bad_verification_code".into())),
    ];
    for status in [400, 401] {
        for (code, kind) in &cases {
            let body = json!({"error": code, "error_description": "why", "error_uri": "https://docs/e"});
            let server = json_endpoint(status, body).await;
            let error = client_for(&server).request_token_ccg(AUTH, None, None).await.unwrap_err();
            let expected = OAuthProviderError {
                error: kind.clone(),
                error_description: Some("why".into()),
                error_uri: Some("https://docs/e".into()),
            };
            assert_eq!(error.status().map(|code| code.as_u16()), Some(status));
            assert_eq!(error.provider_error(), Some(&expected), "{code} on {status}");
            assert!(matches!(error, Error::Provider { status: s, .. } if s.as_u16() == status));
            // "Client authentication failed" only when the provider said so.
            let prefix = match (*code, status) {
                ("invalid_client", _) => "OAuth 2 provider says client authentication failed",
                (_, 401) => "OAuth 2 provider refused the request",
                _ => "OAuth 2 provider returned an error",
            };
            assert_eq!(error.to_string(), format!("{prefix}: {code}: why"));
        }
    }
}

#[tokio::test]
async fn a_401_that_is_not_about_client_authentication_is_not_called_so() {
    for code in ["invalid_token", "invalid_dpop_proof", "use_dpop_nonce"] {
        let error = ccg_error(ResponseTemplate::new(401).set_body_json(json!({"error": code}))).await;
        assert_eq!(error.to_string(), format!("OAuth 2 provider refused the request: {code}"));
    }
}

#[tokio::test]
async fn provider_error_without_description_keeps_only_the_code() {
    let error = ccg_error(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"}))).await;
    let provider = error.provider_error().unwrap();
    assert_eq!(provider.error, OAuthProviderErrorKind::InvalidGrant);
    assert_eq!(provider.error_description, None);
    assert_eq!(provider.error_uri, None);
    assert_eq!(error.to_string(), "OAuth 2 provider returned an error: invalid_grant");
}

#[tokio::test]
async fn other_statuses_carry_status_headers_and_body() {
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let json_body = json!({"message": "forbidden", "error": "access_denied"});
    for status in [403, 500, 503] {
        let error = ccg_error(ResponseTemplate::new(status).set_body_json(json_body.clone())).await;
        let Error::Http { status: got, url, headers, body } = &error else { panic!("{error:?}") };
        assert_eq!(got.as_u16(), status);
        let url = url.as_deref().expect("the URL that answered");
        assert!(url.starts_with("http://127.0.0.1:") && url.ends_with(TOKEN_PATH), "{url}");
        assert_eq!(headers.get("content-type").unwrap(), "application/json");
        assert_eq!(serde_json::from_str::<serde_json::Value>(body).unwrap(), json_body);
        assert_eq!(error.provider_error(), None);
        assert_eq!(error.status().map(|code| code.as_u16()), Some(status));

        let error = ccg_error(
            ResponseTemplate::new(status).set_body_raw(html, "text/html").insert_header("retry-after", "120"),
        )
        .await;
        let Error::Http { status: got, url, headers, body } = &error else { panic!("{error:?}") };
        assert_eq!(got.as_u16(), status);
        assert_eq!(body, html);
        assert_eq!(headers.get("retry-after").unwrap(), "120");
        assert_eq!(
            error.to_string(),
            format!(
                "`{}` answered HTTP {status}, which is neither success nor an OAuth 2 error",
                url.as_deref().unwrap()
            )
        );
    }
}

/// Issue "The `oauth` command line as people debug with it": an HTTP or transport error
/// names the URL it came from, without the query (which may carry a code or a token).
#[tokio::test]
async fn http_and_transport_errors_name_the_url_without_its_query() {
    let server = token_endpoint(ResponseTemplate::new(404)).await;
    let client = OAuthClient::new(format!("{}{TOKEN_PATH}?tenant=t-secret", server.uri())).unwrap();
    let error = client.request_token_ccg(AUTH, None, None).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "`{}{TOKEN_PATH}` answered HTTP 404, which is neither success nor an OAuth 2 error",
            server.uri()
        )
    );
    // Nothing listens on port 9 of the loopback interface.
    let client = OAuthClient::new("http://127.0.0.1:9/token?code=c-secret").unwrap();
    let error = client.request_token_ccg(AUTH, None, None).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(error.to_string(), "could not reach `http://127.0.0.1:9/token`");
}

#[tokio::test]
async fn a_400_or_401_without_an_error_object_is_an_http_error() {
    for status in [400, 401] {
        let error = ccg_error(ResponseTemplate::new(status).set_body_raw("Unauthorized", "text/plain")).await;
        assert!(
            matches!(&error, Error::Http { status: s, body, .. } if *s == status && body == "Unauthorized"),
            "{error:?}"
        );
        let error = ccg_error(ResponseTemplate::new(status)).await;
        assert!(
            matches!(&error, Error::Http { status: s, body, .. } if *s == status && body.is_empty()),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn a_200_that_is_not_a_token_is_a_decode_error_with_an_excerpt() {
    let error = ccg_error(ResponseTemplate::new(200).set_body_json(json!({"hello": "world"}))).await;
    let Error::Decode { status, reason, excerpt } = &error else { panic!("{error:?}") };
    assert_eq!(*status, 200);
    assert!(reason.starts_with("missing field `access_token`"), "{reason}");
    assert_eq!(excerpt, r#"{"hello":"world"}"#);

    let error = ccg_error(ResponseTemplate::new(200).set_body_raw("<html>login</html>", "text/html")).await;
    let Error::Decode { status, excerpt, .. } = &error else { panic!("{error:?}") };
    assert_eq!(*status, 200);
    assert_eq!(excerpt, "<html>login</html>");
    assert_eq!(error.status(), Some(reqwest::StatusCode::OK));
}

#[tokio::test]
async fn decode_error_excerpt_is_bounded_and_hides_token_values() {
    // A token with a wrong-typed member: it does not decode, but the token must not leak.
    let body = json!({"access_token": "SENTINEL-AT", "refresh_token": "SENTINEL-RT", "token_type": 7});
    let error = ccg_error(ResponseTemplate::new(200).set_body_json(body)).await;
    let Error::Decode { excerpt, .. } = &error else { panic!("{error:?}") };
    assert!(!format!("{error} {error:?}").contains("SENTINEL"), "{error:?}");
    assert!(excerpt.contains(r#""access_token":"[redacted]""#), "{excerpt}");

    let long = "lorem ipsum ".repeat(10_000);
    let error = ccg_error(ResponseTemplate::new(200).set_body_raw(long, "text/plain")).await;
    let Error::Decode { excerpt, .. } = &error else { panic!("{error:?}") };
    assert_eq!(excerpt.chars().count(), 257, "256 characters and an ellipsis");
}

#[tokio::test]
async fn invalid_utf8_and_empty_bodies_are_decode_errors() {
    for body in [vec![], vec![0xff, 0xfe, 0x00, 0x7b]] {
        let error = ccg_error(ResponseTemplate::new(200).set_body_raw(body, "application/json")).await;
        assert!(matches!(error, Error::Decode { status: reqwest::StatusCode::OK, .. }), "{error:?}");
    }
}

#[tokio::test]
async fn an_unreachable_provider_is_a_transport_error() {
    // Bind a port, then free it: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = oauth_client::OAuthClient::new(format!("http://127.0.0.1:{port}/token")).unwrap();
    let error = client.request_token_ccg(AUTH, None, None).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!(error.status(), None);
    assert!(!error.to_string().contains(AUTH));
}

#[tokio::test]
async fn a_slow_provider_is_a_timeout() {
    let server = token_endpoint(
        ResponseTemplate::new(200)
            .set_body_json(json!({"access_token": "a", "token_type": "Bearer"}))
            .set_delay(std::time::Duration::from_secs(5)),
    )
    .await;
    let client =
        oauth_client::OAuthClient::builder(format!("{}{}", server.uri(), oauth_client_tests::TOKEN_PATH))
            .timeout(std::time::Duration::from_millis(200))
            .build()
            .unwrap();
    let error = client.request_token_ccg(AUTH, None, None).await.unwrap_err();
    assert!(matches!(error, Error::Timeout), "{error:?}");
}

#[test]
fn invalid_token_urls_are_refused_with_their_reason() {
    for url in ["not a url", ""] {
        let error = oauth_client::OAuthClient::new(url).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidUrl { what, .. } if &**what == "token URL"),
            "{url}: {error:?}"
        );
        assert!(std::error::Error::source(&error).is_some(), "the parser's reason is the source");
    }
    let error = oauth_client::OAuthClient::new("ftp://auth.example/token").unwrap_err();
    assert!(
        matches!(&error, Error::Config(config) if config.message().contains("must use `https`")),
        "{error:?}"
    );
}

/// Issue "Fit the ecosystem": a provider error keeps its response headers
/// (`WWW-Authenticate`, `DPoP-Nonce`, `Retry-After`), and a capturing client records the
/// status and headers of a successful response, as the generated SDKs' `ApiResponse` does.
#[tokio::test]
async fn response_metadata_is_kept_on_errors_and_captured_on_success() {
    let server = oauth_client_tests::token_endpoint(
        ResponseTemplate::new(401)
            .insert_header("WWW-Authenticate", r#"Basic realm="as", error="invalid_client""#)
            .set_body_json(json!({"error": "invalid_client"})),
    )
    .await;
    let error =
        oauth_client_tests::client_for(&server).request_token_ccg(AUTH_XY, None, None).await.unwrap_err();
    let Error::Provider { headers, .. } = &error else { panic!("{error:?}") };
    assert_eq!(headers.get("www-authenticate").unwrap(), r#"Basic realm="as", error="invalid_client""#);

    let server = oauth_client_tests::token_endpoint(
        ResponseTemplate::new(200)
            .insert_header("X-Request-Id", "req-42")
            .set_body_json(json!({"access_token": "at", "token_type": "Bearer"})),
    )
    .await;
    let (client, response) = oauth_client_tests::client_for(&server).capturing_response();
    assert_eq!(response.status(), None, "nothing yet");
    client.request_token_ccg(AUTH_XY, None, None).await.unwrap();
    assert_eq!(response.status(), Some(reqwest::StatusCode::OK));
    assert_eq!(response.headers().unwrap().get("x-request-id").unwrap(), "req-42");
}
