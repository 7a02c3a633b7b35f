//! Property: for any unicode client id and secret, the Basic header decodes back to the
//! originals, whether the provider reads it with a form decoder (`+` is a space) or with a
//! plain percent-decoder.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use oauth_client::BasicAuth;
use proptest::prelude::*;

fn decode(header: &str) -> (String, String) {
    let encoded = header.strip_prefix("Basic ").expect("the Basic scheme");
    let joined = String::from_utf8(STANDARD.decode(encoded).expect("base64")).expect("ASCII");
    let (id, secret) = joined.split_once(':').expect("one separator survives encoding");
    (id.to_owned(), secret.to_owned())
}

fn form_decode(text: &str) -> String {
    form_urlencoded::parse(format!("v={text}").as_bytes()).next().expect("one pair").1.into_owned()
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8().expect("UTF-8").into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn both_decoders_read_back_the_originals(
        id in "[a-z:% +/&=@\u{e9}\u{4e2d}\u{1f600}]{0,16}|\\PC{0,24}",
        secret in "[a-z:% +/&=@\u{e9}\u{4e2d}\u{1f600}]{0,16}|\\PC{0,24}",
    ) {
        let (sent_id, sent_secret) = decode(&BasicAuth::new(id.clone(), secret.clone()).header_value());
        prop_assert_eq!(form_decode(&sent_id), id.clone());
        prop_assert_eq!(form_decode(&sent_secret), secret.clone());
        prop_assert_eq!(percent_decode(&sent_id), id);
        prop_assert_eq!(percent_decode(&sent_secret), secret);
    }
}
