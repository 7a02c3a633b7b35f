//! `grants!` names declared methods of this crate's trait and of the library's.
use oauth_client::declared::{FieldKind, GrantDescriptor, ResponseKind};
use oauth_client::{grants, oauth_grant, Error, OAuthAuthorization, TokenEndpoint};

pub trait Vendor: TokenEndpoint {
    /// Records a consent.
    #[oauth_grant(endpoint = "vendor_consent", client_auth = false)]
    async fn r#record(&self, #[form(rename = "who")] user: &str, #[form] tags: Option<&[&str]>) -> Result<(), Error>;
}

impl Vendor for oauth_client::OAuthClient {}

fn main() {
    let descriptors: [GrantDescriptor; 2] = grants![Vendor::r#record, OAuthAuthorization::request_token_ccg];
    let record = descriptors[0];
    assert_eq!((record.method(), record.summary(), record.endpoint().name()), ("record", "Records a consent.", "vendor_consent"));
    assert!(!record.client_auth() && record.response() == ResponseKind::Empty);
    assert_eq!(record.fields()[0].name(), "who");
    assert!(record.fields()[0].kind() == FieldKind::Form && record.fields()[0].is_required());
    assert!(!record.fields()[1].is_required() && record.fields()[1].is_repeated());
    assert_eq!(descriptors[1].grant_type(), Some("client_credentials"));
}
