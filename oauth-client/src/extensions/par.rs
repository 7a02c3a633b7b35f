//! Pushed authorization requests (RFC 9126): the authorization parameters go straight to the
//! provider, authenticated, and the browser carries only a reference to them. Used through
//! [`AuthorizationRequest::push`](crate::AuthorizationRequest::push).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, FormParams, TokenEndpoint, oauth_grant};

/// The PAR endpoint's answer (RFC 9126 §2.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushedAuthorizationResponse {
    /// The reference the authorization URL carries instead of the parameters.
    pub request_uri: String,
    /// How long the reference is valid, in seconds.
    pub expires_in: u64,
    /// Every other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The PAR request, declared like every other: client authentication and DPoP apply.
pub trait PushedAuthorization: TokenEndpoint {
    /// Pushes authorization `parameters` (RFC 9126 §2.1).
    #[oauth_grant(endpoint = "pushed_authorization_request")]
    async fn push_authorization_request(
        &self,
        #[form_params] parameters: &FormParams,
    ) -> Result<PushedAuthorizationResponse, Error>;
}

impl PushedAuthorization for crate::OAuthClient {}
