use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{Received, excerpt, interpret};
use crate::{Error, OAuthToken};

fn received(status: u16, body: &[u8]) -> Received {
    Received { status, headers: HeaderMap::new(), body: body.to_vec(), received_at: 1_000 }
}

#[test]
fn token_expiry_is_receipt_time_plus_expires_in() {
    let body = br#"{"access_token":"a","token_type":"Bearer","expires_in":60}"#;
    let token: OAuthToken = interpret(received(200, body)).unwrap();
    assert_eq!(token.expiry, Some(1_060));
}

#[test]
fn a_provider_sent_expiry_is_replaced_by_the_client_computed_one() {
    let body = br#"{"access_token":"a","token_type":"Bearer","expiry":5}"#;
    let token: OAuthToken = interpret(received(201, body)).unwrap();
    assert_eq!(token.expiry, None, "no expires_in: no expiry, whatever the provider claims");
}

#[test]
fn other_models_are_left_as_decoded() {
    let body = br#"{"expires_in":60,"expiry":5}"#;
    let value: Value = interpret(received(200, body)).unwrap();
    assert_eq!(value, json!({"expires_in": 60, "expiry": 5}));
}

#[test]
fn a_huge_expires_in_saturates_instead_of_overflowing() {
    let body = format!(r#"{{"access_token":"a","token_type":"Bearer","expires_in":{}}}"#, u64::MAX);
    let token: OAuthToken = interpret(received(200, body.as_bytes())).unwrap();
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

#[test]
fn error_statuses_without_an_error_object_are_http_errors() {
    let error = interpret::<OAuthToken>(received(401, b"")).unwrap_err();
    assert!(matches!(error, Error::Http { status: 401, ref body, .. } if body.is_empty()), "{error:?}");
}
