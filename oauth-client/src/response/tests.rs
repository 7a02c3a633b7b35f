use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{Leniency, Received, excerpt, interpret, interpret_token, redacted_body};
use crate::{Error, OAuthToken};

fn received(status: u16, body: &[u8]) -> Received {
    Received { status, headers: HeaderMap::new(), body: body.to_vec(), received_at: 1_000, url: None }
}

#[test]
fn token_expiry_is_receipt_time_plus_expires_in() {
    let body = br#"{"access_token":"a","token_type":"Bearer","expires_in":60}"#;
    let token: OAuthToken = interpret_token(received(200, body), Leniency::default()).unwrap();
    assert_eq!(token.expiry, Some(1_060));
}

#[test]
fn a_provider_sent_expiry_is_replaced_by_the_client_computed_one() {
    let body = br#"{"access_token":"a","token_type":"Bearer","expiry":5}"#;
    let token: OAuthToken = interpret_token(received(201, body), Leniency::default()).unwrap();
    assert_eq!(token.expiry, None, "no expires_in: no expiry, whatever the provider claims");
}

#[test]
fn other_models_are_left_as_decoded() {
    let body = br#"{"expires_in":60,"expiry":5}"#;
    let value: Value = interpret(received(200, body), Leniency::default()).unwrap();
    assert_eq!(value, json!({"expires_in": 60, "expiry": 5}));
}

#[test]
fn an_absurd_expires_in_is_refused_rather_than_overflowing() {
    let body = format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":{}}}"#, u64::MAX);
    let error = interpret_token(received(200, body.as_bytes()), Leniency::default()).unwrap_err();
    assert!(
        matches!(&error, Error::Decode { reason, .. } if reason.contains("more than 100 years")),
        "{error:?}"
    );
}

#[test]
fn stamp_expiry_saturates() {
    let mut token: OAuthToken =
        serde_json::from_value(json!({"access_token": "a", "token_type": "Bearer", "expires_in": u64::MAX}))
            .unwrap();
    token.stamp_expiry(1_000);
    assert_eq!(token.expiry, Some(i64::MAX));
}

#[test]
fn excerpt_redacts_secret_members_of_form_bodies() {
    let text = excerpt(b"access_token=SECRET&token_type=bearer&id_token=JWT");
    assert_eq!(text, "access_token=%5Bredacted%5D&token_type=bearer&id_token=%5Bredacted%5D");
}

#[test]
fn excerpt_keeps_plain_text_and_cuts_on_a_character_boundary() {
    assert_eq!(excerpt(b"Service Unavailable"), "Service Unavailable");
    let long = "é".repeat(300);
    let text = excerpt(long.as_bytes());
    assert_eq!(text.chars().count(), 257);
    assert!(text.ends_with('…'));
}

/// Found by reading the code: nested members, other cases, `device_code` and friends, and
/// bodies that are not a bare JSON object showed tokens in clear (each failed before the fix).
#[test]
fn excerpts_redact_credentials_at_any_depth_in_any_case_and_behind_prefixes() {
    let cases: [(&[u8], &str); 6] = [
        (br#"{"accessToken":"AT1","Refresh-Token":"RT1"}"#, r#"{"Refresh-Token":"[redacted]","accessToken":"[redacted]"}"#),
        (br#"{"data":{"access_token":"AT2","list":[{"id_token":"ID2"}]}}"#, r#"{"data":{"access_token":"[redacted]","list":[{"id_token":"[redacted]"}]}}"#),
        (
            br#"{"device_code":"DC3","assertion":"AS3","code_verifier":"CV3","client_secret":"CS3","user_code":"WDJB-MJHT"}"#,
            r#"{"assertion":"[redacted]","client_secret":"[redacted]","code_verifier":"[redacted]","device_code":"[redacted]","user_code":"WDJB-MJHT"}"#,
        ),
        ("\u{feff}{\"access_token\":\"AT4\"}".as_bytes(), r#"{"access_token":"[redacted]"}"#),
        (b")]}'\n{\"access_token\":\"AT5\",\"n\":1}", r#"{"access_token":"[redacted]","n":1}"#),
        (br#"["eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"]"#, r#"["[redacted]"]"#),
    ];
    for (body, expected) in cases {
        assert_eq!(excerpt(body), expected, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn text_that_is_not_json_keeps_its_words_and_loses_its_tokens() {
    assert_eq!(
        excerpt(b"upstream said: token 2YotnFZFEjr1zCsicMWpAA is revoked, see https://docs.example.com/errors/oauth"),
        "upstream said: token [redacted] is revoked, see https://docs.example.com/errors/oauth"
    );
    assert_eq!(excerpt(b"<html>login</html>"), "<html>login</html>");
}

#[test]
fn credential_members_echoed_in_text_lose_their_values_whatever_the_content_type() {
    // Short values: no rule about token-like runs would catch them.
    let cases: [(&[u8], &str); 7] = [
        (
            br#"<html>upstream said {"access_token":"at-1","token_type":"Bearer"}</html>"#,
            r#"<html>upstream said {"access_token":"[redacted]","token_type":"Bearer"}</html>"#,
        ),
        (
            b"upstream said refreshToken=rt-2&scope=read and Password: hunter2, retry later",
            "upstream said refreshToken=[redacted]&scope=read and Password: [redacted], retry later",
        ),
        (
            b"<error><id_token>it-3</id_token><client_secret>cs-4</client_secret><code>e</code></error>",
            "<error><id_token>[redacted]</id_token><client_secret>[redacted]</client_secret><code>[redacted]</code></error>",
        ),
        (b"DEVICE_CODE = 'dc-5' (expired)", "DEVICE_CODE = '[redacted]' (expired)"),
        (b"assertion:\n  jwt-6\nend", "assertion:\n  [redacted]\nend"),
        (br#"<p>{"ClientSecret" : "cs 7 with spaces"}</p>"#, r#"<p>{"ClientSecret" : "[redacted]"}</p>"#),
        // Prose that only names a credential keeps its words.
        (b"<p>the access token was revoked</p>", "<p>the access token was revoked</p>"),
    ];
    for (body, expected) in cases {
        assert_eq!(redacted_body(body), expected, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn an_http_error_never_holds_the_unredacted_body() {
    let body = br#"{"message":"rate limited","session":{"accessToken":"SENTINEL-AT-0123456789"}}"#;
    let error = interpret_token(received(429, body), Leniency { strict: true, any_success_status: false })
        .unwrap_err();
    let Error::Http { body, .. } = &error else { panic!("{error:?}") };
    assert_eq!(body, r#"{"message":"rate limited","session":{"accessToken":"[redacted]"}}"#);
}

#[test]
fn error_statuses_without_an_error_object_are_http_errors() {
    let error = interpret_token(received(401, b""), Leniency::default()).unwrap_err();
    assert!(
        matches!(error, Error::Http { status: reqwest::StatusCode::UNAUTHORIZED, ref body, .. } if body.is_empty()),
        "{error:?}"
    );
}

mod never_panics {
    //! The interpreter returns for any status, headers and body. 10,000 cases per property by
    //! default; `PROPTEST_CASES=1000000 cargo test -p oauth-client --lib never_panics` runs a
    //! million.

    use proptest::prelude::*;
    use reqwest::header::{CONTENT_TYPE, HeaderValue};

    use super::*;

    fn config() -> ProptestConfig {
        let cases =
            std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(10_000);
        ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::String),
            prop_oneof![Just("3600"), Just("-1"), Just("1e999"), Just("bearer"), Just("read write")]
                .prop_map(|text| Value::String(text.to_owned())),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("access_token".to_owned()),
                        Just("token_type".to_owned()),
                        Just("expires_in".to_owned()),
                        Just("scope".to_owned()),
                        Just("refresh_token".to_owned()),
                        Just("error".to_owned()),
                        Just("error_description".to_owned()),
                        ".{0,8}",
                    ],
                    inner,
                    0..8,
                )
                .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    fn check(status: u16, form: bool, strict: bool, body: Vec<u8>) {
        let mut headers = HeaderMap::new();
        if form {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        }
        let make = || Received {
            status,
            headers: headers.clone(),
            body: body.clone(),
            received_at: 1_000,
            url: None,
        };
        let leniency = Leniency { strict, any_success_status: false };
        let _ = interpret_token(make(), leniency);
        let _ = interpret::<Value>(make(), leniency);
        // The empty reading accepts any success and still reads every failure.
        let empty = crate::response::interpret_empty(make(), leniency);
        assert_eq!(empty.is_ok(), status == 200 || (201..300).contains(&status) && !strict);
        let _ = excerpt(&body);
    }

    proptest! {
        #![proptest_config(config())]

        /// Whenever the token fast path answers, the full path answers the same.
        #[test]
        fn the_token_fast_path_agrees_with_the_full_path(value in json_value()) {
            let body = serde_json::to_vec(&value).unwrap();
            let received = Received { status: 200, headers: HeaderMap::new(), body, received_at: 1_000, url: None };
            if let Some(fast) = super::super::token_fast_path(&received) {
                let full = super::super::decode_repaired::<OAuthToken>(&received, Leniency::default());
                prop_assert_eq!(Some(fast), full.ok());
            }
        }

        #[test]
        fn on_arbitrary_bytes(status in 100u16..600, form: bool, strict: bool, body in prop::collection::vec(any::<u8>(), 0..256)) {
            check(status, form, strict, body);
        }

        #[test]
        fn on_arbitrary_json(status in prop_oneof![Just(200u16), Just(201), Just(400), Just(401), 100u16..600], strict: bool, value in json_value()) {
            check(status, false, strict, serde_json::to_vec(&value).unwrap());
        }
    }
}

#[test]
fn only_bodies_no_rule_would_change_take_the_fast_path() {
    use super::normalize::is_canonical;
    let canonical = [
        r#"{"access_token":"a","token_type":"Bearer","expires_in":3600,"scope":"read","x":[1,{"y":null}]}"#,
        r#"{"access_token":"a","token_type":"DPoP"}"#,
        r#"{"active":true}"#,
    ];
    for body in canonical {
        assert!(is_canonical(body.as_bytes()), "{body}");
    }
    let repaired = [
        r#"{"access_token":"a","token_type":"bearer"}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":"3600"}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":3600.0}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":null}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":-1}"#,
        r#"{"access_token":"a","token_type":"Bearer","expires_in":99999999999999}"#,
        r#"{"access_token":"a","token_type":"Bearer","scope":["read"]}"#,
        r#"{"access_token":"a","token_type":"\u0042earer"}"#,
        r#"{"error":"invalid_grant"}"#,
        r#"[1]"#,
        "",
    ];
    for body in repaired {
        assert!(!is_canonical(body.as_bytes()), "{body}");
    }
}

#[test]
fn a_form_body_is_recognised_whatever_the_case_of_its_content_type() {
    use reqwest::header::{CONTENT_TYPE, HeaderValue};
    let body = b"access_token=a&token_type=bearer&expires_in=60";
    let with_type = |content_type: &'static str| {
        let mut response = received(200, body);
        response.headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    for content_type in
        ["application/x-www-form-urlencoded", "Application/X-WWW-Form-URLEncoded; charset=UTF-8"]
    {
        let token: OAuthToken = interpret_token(with_type(content_type), Leniency::default()).unwrap();
        assert_eq!((token.access_token.secret(), token.expiry), ("a", Some(1_060)), "{content_type}");
    }
    assert!(!with_type("application/json").declares_form());
    assert!(!received(200, body).declares_form());
}

/// Every `Result<_, Error>` carries an `Error`'s size: large payloads are boxed (as reqwest
/// does), so it stays within what clippy's `result_large_err` allows.
#[test]
fn the_error_type_stays_small() {
    assert!(std::mem::size_of::<Error>() <= 128, "{} bytes", std::mem::size_of::<Error>());
}
