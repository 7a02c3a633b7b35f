use super::*;
use crate::OAuthProviderErrorKind;

fn query_of(url: &Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

#[test]
fn s256_challenge_matches_rfc7636_appendix_b() {
    let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_eq!(verifier.s256_challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

#[test]
fn generated_verifier_is_43_url_safe_characters_and_fresh_each_time() {
    let first = PkceVerifier::generate().unwrap();
    let second = PkceVerifier::generate().unwrap();
    assert_eq!(first.secret().len(), 43);
    assert!(first.secret().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_ne!(first, second);
    assert_eq!(format!("{first:?}"), "PkceVerifier([redacted])");
}

#[test]
fn url_carries_every_parameter_encoded_in_order() {
    let pending = AuthorizationRequest::new("https://auth.example/authorize?tenant=a%20b", "odd:client id")
        .redirect_uri("https://app.example/cb?a=1&b=2")
        .scope("read write")
        .state("s&t=ate-0123456789ab")
        .param("login_hint", "a+b@x.y")
        .build()
        .unwrap();
    let verifier = pending.pkce_verifier().unwrap();
    assert_eq!(
        query_of(pending.url()),
        vec![
            ("tenant".to_owned(), "a b".to_owned()),
            ("response_type".to_owned(), "code".to_owned()),
            ("client_id".to_owned(), "odd:client id".to_owned()),
            ("redirect_uri".to_owned(), "https://app.example/cb?a=1&b=2".to_owned()),
            ("scope".to_owned(), "read write".to_owned()),
            ("state".to_owned(), "s&t=ate-0123456789ab".to_owned()),
            ("code_challenge".to_owned(), verifier.s256_challenge()),
            ("code_challenge_method".to_owned(), "S256".to_owned()),
            ("login_hint".to_owned(), "a+b@x.y".to_owned()),
        ]
    );
    let raw = pending.url().query().unwrap();
    assert!(raw.contains("client_id=odd%3Aclient+id&"), "{raw}");
    assert!(raw.contains("redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fa%3D1%26b%3D2&"), "{raw}");
    assert!(raw.contains("state=s%26t%3Date-0123456789ab&"), "{raw}");
    assert!(raw.ends_with("login_hint=a%2Bb%40x.y"), "{raw}");
    assert_eq!(pending.token_params().iter().collect::<Vec<_>>(), vec![("code_verifier", verifier.secret())]);
}

#[test]
fn random_state_has_128_bits_and_differs_between_requests() {
    let first = AuthorizationRequest::new("https://a.example/authorize", "c").build().unwrap();
    let second = AuthorizationRequest::new("https://a.example/authorize", "c").build().unwrap();
    assert_eq!(first.state().len(), 22, "16 bytes, base64url without padding");
    assert_ne!(first.state(), second.state());
}

#[test]
fn without_pkce_sends_no_challenge_and_no_verifier() {
    let pending = AuthorizationRequest::new("https://a.example/authorize", "c").pkce(false).build().unwrap();
    assert!(query_of(pending.url()).iter().all(|(name, _)| !name.starts_with("code_challenge")));
    assert!(pending.pkce_verifier().is_none());
    assert!(pending.token_params().is_empty());
}

#[test]
fn redirect_with_matching_state_yields_the_code() {
    let pending = AuthorizationRequest::new("https://a.example/authorize", "c")
        .state("xyz-state-0123456789")
        .build()
        .unwrap();
    let code = pending
        .code_from_redirect("https://app.example/cb?code=Splx%2BlO&state=xyz-state-0123456789")
        .unwrap();
    assert_eq!(code, "Splx+lO");
}

#[test]
fn redirect_with_another_state_is_refused() {
    let pending = AuthorizationRequest::new("https://a.example/authorize", "c")
        .state("xyz-state-0123456789")
        .build()
        .unwrap();
    for url in [
        "https://app.example/cb?code=c&state=xyz-state-01234567891",
        "https://app.example/cb?code=c&state=xy",
        "https://app.example/cb?code=c&state=",
    ] {
        let error = pending.code_from_redirect(url).unwrap_err();
        assert!(matches!(error, RedirectError::StateMismatch), "{url}: {error:?}");
    }
    let error = pending.code_from_redirect("https://app.example/cb?code=c").unwrap_err();
    assert!(matches!(error, RedirectError::MissingState), "{error:?}");
}

#[test]
fn provider_error_on_the_redirect_is_typed() {
    let pending = AuthorizationRequest::new("https://a.example/authorize", "c")
        .state("xyz-state-0123456789")
        .build()
        .unwrap();
    let error = pending
        .code_from_redirect(
            "https://app.example/cb?error=access_denied&error_description=User+said+no&error_uri=https%3A%2F%2Fd&state=xyz-state-0123456789",
        )
        .unwrap_err();
    let expected = OAuthProviderError {
        error: OAuthProviderErrorKind::AccessDenied,
        error_description: Some("User said no".into()),
        error_uri: Some("https://d".into()),
    };
    assert_eq!(Error::from(error.clone()).provider_error(), Some(&expected));
    assert_eq!(error, RedirectError::Provider(Box::new(expected)));
    assert_eq!(error.to_string(), "the authorization server returned an error: access_denied: User said no");
    // A forged error redirect (wrong state) is reported as the forgery, not as the provider's word.
    let forged =
        pending.code_from_redirect("https://app.example/cb?error=invalid_scope&state=abc").unwrap_err();
    assert!(matches!(forged, RedirectError::StateMismatch), "{forged:?}");
}

#[test]
fn malformed_redirects_are_typed_errors() {
    let pending = AuthorizationRequest::new("https://a.example/authorize", "c")
        .state("xyz-state-0123456789")
        .build()
        .unwrap();
    let cases = [
        ("/cb?code=c&state=xyz-state-0123456789", RedirectError::InvalidUrl),
        ("https://app.example/cb?state=xyz-state-0123456789", RedirectError::MissingCode),
        ("https://app.example/cb?code=&state=xyz-state-0123456789", RedirectError::MissingCode),
        (
            "https://app.example/cb?code=a&code=b&state=xyz-state-0123456789",
            RedirectError::DuplicateParameter("code".into()),
        ),
    ];
    for (url, expected) in cases {
        match pending.code_from_redirect(url) {
            Err(error) => assert_eq!(error, expected, "{url}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[test]
fn invalid_authorize_url_is_an_invalid_url_error() {
    let error = AuthorizationRequest::new("not a url", "c").build().unwrap_err();
    assert!(
        matches!(&error, Error::InvalidUrl { what, url, source: url::ParseError::RelativeUrlWithoutBase }
            if &**what == "authorization URL" && &**url == "not a url"),
        "{error:?}"
    );
}

/// Found by reading the code: the URL policy of the token endpoint was not applied here, and
/// an empty `state` was accepted and then matched `state=` (both failed before the fix).
#[test]
fn the_authorization_url_follows_the_token_url_policy() {
    for url in ["http://auth.example/authorize", "ftp://auth.example/authorize", "javascript:alert(1)"] {
        let error = AuthorizationRequest::new(url, "c").build().unwrap_err();
        assert!(
            matches!(&error, Error::Config(config) if config.setting() == Setting::Endpoint && config.message().contains("authorization URL")),
            "{url}: {error:?}"
        );
    }
    AuthorizationRequest::new("http://127.0.0.1:8080/authorize", "c").build().unwrap();
    AuthorizationRequest::new("http://auth.example/authorize", "c")
        .allow_insecure_http(true)
        .build()
        .unwrap();
}

#[test]
fn a_short_or_empty_state_is_refused() {
    for state in ["", "s", "fifteen-chars-x"] {
        let error =
            AuthorizationRequest::new("https://a.example/authorize", "c").state(state).build().unwrap_err();
        assert!(
            matches!(&error, Error::Config(config) if config.setting() == Setting::AuthorizationRequest && config.message().contains("at least 16")),
            "{state:?}: {error:?}"
        );
    }
    let pending = AuthorizationRequest::new("https://a.example/authorize", "c")
        .state("sixteen-chars-xy")
        .build()
        .unwrap();
    assert_eq!(pending.state(), "sixteen-chars-xy");
}

#[test]
fn constant_time_eq_compares_whole_inputs() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
    assert!(constant_time_eq(b"", b""));
}

fn pending_for(issuer: Option<&str>, require: bool) -> PendingAuthorization {
    let mut request =
        AuthorizationRequest::new("https://a.example/authorize", "c").state("state-0123456789ab");
    if let Some(issuer) = issuer {
        request = request.issuer(issuer);
    }
    if require {
        request = request.require_issuer(true);
    }
    request.build().unwrap()
}

#[test]
fn a_redirect_from_another_issuer_is_refused_as_a_mix_up() {
    let pending = pending_for(Some("https://as.example"), false);
    let ok = "https://app.example/cb?code=c&state=state-0123456789ab&iss=https%3A%2F%2Fas.example";
    assert_eq!(pending.code_from_redirect(ok).unwrap(), "c");
    let error = pending
        .code_from_redirect(
            "https://app.example/cb?code=c&state=state-0123456789ab&iss=https%3A%2F%2Fevil.example",
        )
        .unwrap_err();
    assert!(
        matches!(&error, RedirectError::IssuerMismatch { expected, found }
            if expected == "https://as.example" && found == "https://evil.example"),
        "{error:?}"
    );
    // An error redirect from another issuer is refused too, not reported as the provider's.
    let error = pending
        .code_from_redirect("https://app.example/cb?error=access_denied&state=state-0123456789ab&iss=https%3A%2F%2Fevil.example")
        .unwrap_err();
    assert!(matches!(error, RedirectError::IssuerMismatch { .. }));
    // Without `iss`: accepted unless the provider always sends it.
    assert!(pending.code_from_redirect("https://app.example/cb?code=c&state=state-0123456789ab").is_ok());
    let strict = pending_for(Some("https://as.example"), true);
    let error =
        strict.code_from_redirect("https://app.example/cb?code=c&state=state-0123456789ab").unwrap_err();
    assert!(matches!(error, RedirectError::MissingIssuer), "{error:?}");
}

#[test]
fn resources_authorization_details_and_dpop_jkt_go_in_the_url_and_resources_in_the_token_request() {
    let details = serde_json::json!([{"type": "account_information", "actions": ["read"]}]);
    let pending = AuthorizationRequest::new("https://a.example/authorize", "c")
        .resource("https://api.example/a")
        .resource("https://api.example/b")
        .authorization_details(&details)
        .dpop_jkt("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
        .pkce(false)
        .build()
        .unwrap();
    let query = query_of(pending.url());
    let values = |name: &str| {
        query.iter().filter(|(key, _)| key == name).map(|(_, value)| value.clone()).collect::<Vec<_>>()
    };
    assert_eq!(values("resource"), ["https://api.example/a", "https://api.example/b"]);
    assert_eq!(values("authorization_details"), [details.to_string()]);
    assert_eq!(values("dpop_jkt"), ["0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"]);
    let token_params: Vec<_> =
        pending.token_params().iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
    assert_eq!(
        token_params,
        [
            ("resource".to_owned(), "https://api.example/a".to_owned()),
            ("resource".to_owned(), "https://api.example/b".to_owned())
        ]
    );
}

#[cfg(feature = "jwt")]
#[test]
fn a_signed_request_object_carries_every_parameter() {
    let secret = b"a shared secret of at least 32 bytes";
    let pending = AuthorizationRequest::new("https://a.example/authorize", "app")
        .issuer("https://as.example")
        .redirect_uri("https://app.example/cb")
        .scope("openid")
        .resource("https://api.example/a")
        .resource("https://api.example/b")
        .authorization_details(&serde_json::json!([{"type": "t"}]))
        .signed(crate::extensions::SigningKey::hs256(secret))
        .build()
        .unwrap();
    let query = query_of(pending.url());
    assert_eq!(query.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(), ["client_id", "request"]);
    let object = &query[1].1;
    let header = jsonwebtoken::decode_header(object).unwrap();
    assert_eq!(header.typ.as_deref(), Some("oauth-authz-req+jwt"));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["https://as.example"]);
    validation.set_issuer(&["app"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        object,
        &jsonwebtoken::DecodingKey::from_secret(secret),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["response_type"], "code");
    assert_eq!(claims["client_id"], "app");
    assert_eq!(claims["redirect_uri"], "https://app.example/cb");
    assert_eq!(claims["state"], pending.state());
    assert_eq!(claims["code_challenge_method"], "S256");
    assert_eq!(claims["resource"], serde_json::json!(["https://api.example/a", "https://api.example/b"]));
    assert_eq!(claims["authorization_details"], serde_json::json!([{"type": "t"}]));
    assert!(claims["jti"].is_string() && claims["exp"].as_i64() > claims["iat"].as_i64());
}

/// A client with a DPoP key binds the code to that key (RFC 9449 §10): its token request will
/// carry proofs of the same key. A client without one sends no `dpop_jkt`.
#[cfg(feature = "dpop")]
#[test]
fn a_dpop_client_binds_the_code_to_its_key() {
    let key = crate::dpop::DpopKey::generate().unwrap();
    let client = crate::OAuthClient::builder("https://as.example/token")
        .authorization_url("https://as.example/authorize")
        .dpop(key.clone())
        .build()
        .unwrap();
    let pending = AuthorizationRequest::for_client(&client, "c").unwrap().build().unwrap();
    let jkt =
        pending.url().query_pairs().find(|(name, _)| name == "dpop_jkt").map(|(_, value)| value.into_owned());
    assert_eq!(jkt.as_deref(), Some(key.thumbprint()));

    let plain = crate::OAuthClient::builder("https://as.example/token")
        .authorization_url("https://as.example/authorize")
        .build()
        .unwrap();
    let pending = AuthorizationRequest::for_client(&plain, "c").unwrap().build().unwrap();
    assert!(!pending.url().query_pairs().any(|(name, _)| name == "dpop_jkt"));
}
