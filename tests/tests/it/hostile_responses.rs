//! A table of hostile and non-standard token responses, each with its exact outcome in the
//! default (lenient) mode and in strict mode. Every case goes through a real HTTP exchange.

use oauth_client::{Error, OAuthAuthorization, OAuthClient, OAuthProviderErrorKind, OAuthToken};
use oauth_client_tests::{AUTH_XY, TOKEN_PATH, token_endpoint};
use wiremock::ResponseTemplate;

/// What a case must produce.
#[derive(Clone, Debug)]
enum Outcome {
    /// A token with this `token_type`, `expires_in` and `scope`.
    Token(&'static str, Option<u64>, Option<&'static str>),
    /// `Error::Provider` with this status and code.
    Provider(u16, &'static str),
    /// `Error::Http` with this status.
    Http(u16),
    /// `Error::Decode` whose reason contains this text.
    Decode(&'static str),
    /// `Error::UnexpectedRedirect` naming this location.
    Redirect(Option<&'static str>),
    /// `Error::ResponseTooLarge`.
    TooLarge,
}

use Outcome::*;

struct Case {
    name: &'static str,
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    headers: &'static [(&'static str, &'static str)],
    lenient: Outcome,
    strict: Outcome,
}

const JSON: &str = "application/json";

fn case(name: &'static str, status: u16, body: &str, lenient: Outcome, strict: Outcome) -> Case {
    Case { name, status, content_type: JSON, body: body.as_bytes().to_vec(), headers: &[], lenient, strict }
}

fn same(name: &'static str, status: u16, body: &str, both: Outcome) -> Case {
    case(name, status, body, both.clone(), both)
}

fn token_with(member: &str) -> String {
    format!(r#"{{"access_token":"at","token_type":"Bearer",{member}}}"#)
}

fn cases() -> Vec<Case> {
    let ok = Token("Bearer", Some(3600), None);
    let mut cases = vec![
        same("plain RFC token", 200, &token_with(r#""expires_in":3600"#), ok.clone()),
        same(
            "no expires_in",
            200,
            r#"{"access_token":"at","token_type":"Bearer"}"#,
            Token("Bearer", None, None),
        ),
        same("expires_in zero", 200, &token_with(r#""expires_in":0"#), Token("Bearer", Some(0), None)),
        case(
            "expires_in as string",
            200,
            &token_with(r#""expires_in":"3600""#),
            ok.clone(),
            Decode("is a string"),
        ),
        case(
            "expires_in as padded string",
            200,
            &token_with(r#""expires_in":" 60 ""#),
            Token("Bearer", Some(60), None),
            Decode("is a string"),
        ),
        case(
            "expires_in as 3600.0",
            200,
            &token_with(r#""expires_in":3600.0"#),
            ok.clone(),
            Decode("fractional"),
        ),
        case(
            "expires_in null",
            200,
            &token_with(r#""expires_in":null"#),
            Token("Bearer", None, None),
            Decode("is null"),
        ),
        same("expires_in negative", 200, &token_with(r#""expires_in":-5"#), Decode("not a non-negative")),
        case(
            "expires_in 1e308",
            200,
            &token_with(r#""expires_in":1e308"#),
            Decode("more than 100 years"),
            Decode("fractional"),
        ),
        same(
            "expires_in beyond f64",
            200,
            &token_with(r#""expires_in":1e400"#),
            Decode("number out of range"),
        ),
        case(
            "expires_in not numeric",
            200,
            &token_with(r#""expires_in":"soon""#),
            Decode("not a number"),
            Decode("is a string"),
        ),
        same("expires_in boolean", 200, &token_with(r#""expires_in":true"#), Decode("a boolean")),
        same("expires_in object", 200, &token_with(r#""expires_in":{"s":1}"#), Decode("an object")),
        case(
            "token_type lowercase",
            200,
            r#"{"access_token":"at","token_type":"bearer"}"#,
            Token("Bearer", None, None),
            Decode("`token_type` is `bearer`"),
        ),
        case(
            "token_type uppercase",
            200,
            r#"{"access_token":"at","token_type":"BEARER"}"#,
            Token("Bearer", None, None),
            Decode("strict mode accepts only `Bearer`"),
        ),
        same(
            "token_type DPoP kept",
            200,
            r#"{"access_token":"at","token_type":"DPoP"}"#,
            Token("DPoP", None, None),
        ),
        same(
            "token_type number",
            200,
            r#"{"access_token":"at","token_type":1}"#,
            Decode("invalid type: integer"),
        ),
        same("token_type missing", 200, r#"{"access_token":"at"}"#, Decode("missing field `token_type`")),
        same(
            "access_token missing",
            200,
            r#"{"token_type":"Bearer"}"#,
            Decode("missing field `access_token`"),
        ),
        same(
            "access_token number",
            200,
            r#"{"access_token":12,"token_type":"Bearer"}"#,
            Decode("invalid type: integer"),
        ),
        same(
            "access_token null",
            200,
            r#"{"access_token":null,"token_type":"Bearer"}"#,
            Decode("invalid type: null"),
        ),
        same(
            "refresh_token number",
            200,
            &token_with(r#""refresh_token":5"#),
            Decode("invalid type: integer"),
        ),
        case(
            "scope as array",
            200,
            &token_with(r#""scope":["read","write"]"#),
            Token("Bearer", None, Some("read write")),
            Decode("`scope` is a JSON array"),
        ),
        case(
            "scope as array of non-strings",
            200,
            &token_with(r#""scope":["read",1]"#),
            Decode("not a string"),
            Decode("`scope` is a JSON array"),
        ),
        same("scope as number", 200, &token_with(r#""scope":7"#), Decode("invalid type: integer")),
        same("empty body", 200, "", Decode("the body is empty")),
        same("whitespace body", 200, " \n ", Decode("the body is empty")),
        same("truncated JSON", 200, r#"{"access_token":"at","token_"#, Decode("EOF")),
        same("JSON array", 200, "[1,2]", Decode("expected a JSON object, found an array")),
        same("JSON string", 200, r#""token""#, Decode("found a string")),
        same("JSON null", 200, "null", Decode("found null")),
        same("deeply nested JSON", 200, &"[".repeat(10_000), Decode("recursion limit")),
        same("HTML login page with 200", 200, "<html><body>Sign in</body></html>", Decode("expected value")),
        case(
            "error object with 200",
            200,
            r#"{"error":"invalid_grant","error_description":"expired"}"#,
            Provider(200, "invalid_grant"),
            Decode("RFC 6749 error object"),
        ),
        case(
            "token and error object with 200",
            200,
            r#"{"access_token":"at","token_type":"Bearer","error":"invalid_grant"}"#,
            Provider(200, "invalid_grant"),
            Decode("RFC 6749 error object"),
        ),
        case(
            "unknown error code with 200",
            200,
            r#"{"error":"bad_verification_code"}"#,
            Provider(200, "bad_verification_code"),
            Decode("RFC 6749 error object"),
        ),
        case("201 Created with a token", 201, &token_with(r#""expires_in":3600"#), ok.clone(), Http(201)),
        case("203 with a token", 203, &token_with(r#""expires_in":3600"#), ok.clone(), Http(203)),
        case("204 No Content", 204, "", Decode("the body is empty"), Http(204)),
        same("400 with error object", 400, r#"{"error":"invalid_scope"}"#, Provider(400, "invalid_scope")),
        same("400 with HTML", 400, "<h1>Bad Request</h1>", Http(400)),
        same("400 without `error`", 400, r#"{"message":"bad"}"#, Http(400)),
        same("400 with numeric error", 400, r#"{"error":42}"#, Http(400)),
        same("401 without body", 401, "", Http(401)),
        same("403 with JSON", 403, r#"{"error":"access_denied"}"#, Http(403)),
        same("500 with error object", 500, r#"{"error":"server_error"}"#, Http(500)),
        same("HTML 502 page", 502, "<html><h1>502 Bad Gateway</h1></html>", Http(502)),
        same("503", 503, "", Http(503)),
    ];
    let mut with = |name, status, content_type, body: Vec<u8>, headers, lenient, strict| {
        cases.push(Case { name, status, content_type, body, headers, lenient, strict })
    };
    with(
        "invalid UTF-8",
        200,
        JSON,
        vec![0xff, 0xfe, b'{', 0x80],
        &[],
        Decode("expected value"),
        Decode("expected value"),
    );
    with(
        "UTF-8 BOM before JSON",
        200,
        JSON,
        [&[0xef, 0xbb, 0xbf][..], br#"{"access_token":"at","token_type":"Bearer"}"#].concat(),
        &[],
        Decode("expected value"),
        Decode("expected value"),
    );
    with(
        "form-urlencoded token",
        200,
        "application/x-www-form-urlencoded",
        b"access_token=at&token_type=bearer&expires_in=3600&scope=read+write".to_vec(),
        &[],
        Token("Bearer", Some(3600), Some("read write")),
        Decode("application/x-www-form-urlencoded"),
    );
    with(
        "form-urlencoded error with 200",
        200,
        "application/x-www-form-urlencoded; charset=utf-8",
        b"error=bad_verification_code&error_description=The+code+is+wrong".to_vec(),
        &[],
        Provider(200, "bad_verification_code"),
        Decode("application/x-www-form-urlencoded"),
    );
    with(
        "301 with Location",
        301,
        JSON,
        vec![],
        &[("location", "https://elsewhere.example/token")],
        Redirect(Some("https://elsewhere.example/token")),
        Redirect(Some("https://elsewhere.example/token")),
    );
    with(
        "302 with Location",
        302,
        "text/html",
        b"<a>moved</a>".to_vec(),
        &[("location", "/login")],
        Redirect(Some("/login")),
        Redirect(Some("/login")),
    );
    with("307 without Location", 307, JSON, vec![], &[], Redirect(None), Redirect(None));
    with(
        "401 with WWW-Authenticate only",
        401,
        "text/plain",
        vec![],
        &[("www-authenticate", "Basic realm=\"oauth\"")],
        Http(401),
        Http(401),
    );
    with(
        "429 with Retry-After",
        429,
        JSON,
        br#"{"error":"slow_down"}"#.to_vec(),
        &[("retry-after", "30")],
        Http(429),
        Http(429),
    );
    with("10 MiB body", 200, JSON, vec![b' '; 10 * 1024 * 1024], &[], TooLarge, TooLarge);
    cases
}

fn check(name: &str, mode: &str, result: Result<OAuthToken, Error>, expected: &Outcome) {
    let context = format!("{name} ({mode}): got {result:?}");
    match (expected, result) {
        (Token(token_type, expires_in, scope), Ok(token)) => {
            assert_eq!(token.access_token.secret(), "at", "{context}");
            assert_eq!(token.token_type, *token_type, "{context}");
            assert_eq!(token.expires_in, *expires_in, "{context}");
            assert_eq!(token.scope.as_deref(), *scope, "{context}");
        }
        (Provider(status, code), Err(Error::Provider { status: got, error, .. })) => {
            assert_eq!(got, *status, "{context}");
            assert_eq!(error.error, OAuthProviderErrorKind::from(code.to_string()), "{context}");
        }
        (Http(status), Err(Error::Http { status: got, .. })) => assert_eq!(got, *status, "{context}"),
        (Decode(reason), Err(Error::Decode { reason: got, .. })) => {
            assert!(got.contains(reason), "{context}: reason {got:?} lacks {reason:?}")
        }
        (Redirect(location), Err(Error::UnexpectedRedirect { location: got, .. })) => {
            assert_eq!(got.as_deref(), *location, "{context}")
        }
        (TooLarge, Err(Error::ResponseTooLarge { limit, .. })) => assert_eq!(limit, 1024 * 1024, "{context}"),
        _ => panic!("expected {expected:?}; {context}"),
    }
}

#[tokio::test]
async fn each_hostile_response_has_its_exact_outcome_in_both_modes() {
    let cases = cases();
    assert_eq!(cases.len(), 58, "the README quotes the size of this table");
    for case in cases {
        let mut response =
            ResponseTemplate::new(case.status).set_body_raw(case.body.clone(), case.content_type);
        for (name, value) in case.headers {
            response = response.insert_header(*name, *value);
        }
        let server = token_endpoint(response).await;
        let url = format!("{}{TOKEN_PATH}", server.uri());
        let lenient = OAuthClient::new(&url).unwrap();
        let strict = OAuthClient::builder(&url).strict(true).build().unwrap();
        check(case.name, "lenient", lenient.request_token_ccg(AUTH_XY, None, None).await, &case.lenient);
        check(case.name, "strict", strict.request_token_ccg(AUTH_XY, None, None).await, &case.strict);
    }
}
