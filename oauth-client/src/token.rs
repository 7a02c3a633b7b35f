//! The token response (RFC 6749 §5.1).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::secret::{AccessToken, RefreshToken};

/// A successful token response.
///
/// Members the RFC does not name (`id_token`, provider-specific ones) are kept in
/// [`extra`](OAuthToken::extra). [`expiry`](OAuthToken::expiry) is not sent by the provider:
/// the client sets it when the response arrives.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthToken {
    /// The access token.
    pub access_token: AccessToken,
    /// The token type, usually `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token in seconds, as the provider sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// The granted scope, if the provider sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When the access token expires, in Unix seconds: the time the response was received
    /// plus `expires_in`. `None` when the provider sent no `expires_in`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<i64>,
    /// The refresh token, if the provider issued one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    /// Every other member of the response object.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OAuthToken {
    /// `issued_token_type` of a token-exchange response (RFC 8693 §2.2.1), if present.
    pub fn issued_token_type(&self) -> Option<&str> {
        self.extra.get("issued_token_type").and_then(serde_json::Value::as_str)
    }

    /// `authorization_details` (RFC 9396 §7) as your own type, if the provider sent them:
    /// what was actually authorized, which may differ from what was asked.
    ///
    /// ```
    /// use oauth_client::OAuthToken;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Detail { r#type: String, actions: Vec<String> }
    ///
    /// let token: OAuthToken = serde_json::from_str(r#"{"access_token":"a","token_type":"Bearer",
    ///     "authorization_details":[{"type":"account_information","actions":["read"]}]}"#).unwrap();
    /// let details: Vec<Detail> = token.authorization_details().unwrap().unwrap();
    /// assert_eq!(details[0].actions, ["read"]);
    /// ```
    pub fn authorization_details<T: serde::de::DeserializeOwned>(
        &self,
    ) -> Option<Result<T, serde_json::Error>> {
        self.extra.get("authorization_details").map(|details| T::deserialize(details))
    }

    /// `id_token` (OpenID Connect), if present. A credential: keep it out of logs.
    pub fn id_token(&self) -> Option<&str> {
        self.extra.get("id_token").and_then(serde_json::Value::as_str)
    }

    /// Sets [`expiry`](OAuthToken::expiry) from `expires_in`, counted from `received_at`
    /// (Unix seconds).
    pub(crate) fn stamp_expiry(&mut self, received_at: i64) {
        self.expiry = self
            .expires_in
            .map(|seconds| received_at.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX)));
    }

    /// Completes a token that arrived at `now` with either its expiry or its lifetime, so that
    /// its issue time is fixed once (and the same for every manager that loads it from a store).
    /// Tokens from the client already carry both, stamped by the manager's clock; one a source
    /// made itself keeps the expiry it was given.
    pub(crate) fn complete_lifetime(&mut self, now: i64) {
        match (self.expiry, self.expires_in) {
            (None, Some(_)) => self.stamp_expiry(now),
            (Some(expiry), None) => {
                self.expires_in = Some(u64::try_from(expiry.saturating_sub(now)).unwrap_or(0))
            }
            _ => {}
        }
    }
}

/// Whether a JSON member or form field called `name` holds a credential, in any case and
/// spelling (`access_token`, `accessToken`, `Refresh-Token`, `device_code`, `client_secret`,
/// `code_verifier`, `assertion`, `password`, ...): the rule this crate redacts its errors,
/// traces and `Debug` output by, for tools that print providers' answers.
///
/// ```
/// assert!(oauth_client::is_credential_name("registration_access_token"));
/// assert!(oauth_client::is_credential_name("deviceCode"));
/// assert!(!oauth_client::is_credential_name("token_type"));
/// assert!(!oauth_client::is_credential_name("user_code"));
/// ```
pub fn is_credential_name(name: &str) -> bool {
    let name: String =
        name.chars().filter(|c| !matches!(c, '_' | '-' | '.')).map(|c| c.to_ascii_lowercase()).collect();
    name.ends_with("token")
        || ["secret", "password", "assertion", "verifier", "apikey"].iter().any(|word| name.contains(word))
        || matches!(name.as_str(), "code" | "devicecode" | "authorizationcode")
}

impl core::fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        struct Extra<'a>(&'a Map<String, Value>);
        impl core::fmt::Debug for Extra<'_> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                let mut map = f.debug_map();
                for (name, value) in self.0 {
                    if is_credential_name(name) {
                        map.entry(name, &crate::secret::Redacted);
                    } else {
                        map.entry(name, value);
                    }
                }
                map.finish()
            }
        }
        f.debug_struct("OAuthToken")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("expiry", &self.expiry)
            .field("refresh_token", &self.refresh_token)
            .field("extra", &Extra(&self.extra))
            .finish()
    }
}
