//! The device authorization grant (RFC 8628): for devices without a browser or keyboard.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, FormParams, OAuthProviderErrorKind, OAuthToken, TokenEndpoint, oauth_grant};

/// The device authorization response (RFC 8628 §3.2): show `user_code` and
/// `verification_uri` to the user, then [`poll_device_token`].
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceAuthorizationResponse {
    /// The device verification code: a credential for polling; `Debug` hides it.
    pub device_code: String,
    /// The code the user enters at `verification_uri`.
    pub user_code: String,
    /// Where the user goes (Google's `verification_url` is accepted too).
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    /// A URI that includes the user code, e.g. for a QR code.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "verification_url_complete")]
    pub verification_uri_complete: Option<String>,
    /// Lifetime of the device code in seconds.
    pub expires_in: u64,
    /// Seconds to wait between polls; 5 when absent (RFC 8628 §3.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<u64>,
    /// Every other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl core::fmt::Debug for DeviceAuthorizationResponse {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeviceAuthorizationResponse")
            .field("device_code", &crate::secret::Redacted)
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("verification_uri_complete", &self.verification_uri_complete)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// The two requests of the device flow (RFC 8628 §3.1 and §3.4).
///
/// ```no_run
/// use oauth_client::extensions::{poll_device_token, DeviceAuthorization};
/// use oauth_client::{FormParams, OAuthClient};
///
/// # async fn run() -> Result<(), oauth_client::Error> {
/// let client = OAuthClient::builder("https://auth.example.com/token")
///     .device_authorization_url("https://auth.example.com/device")
///     .build()?;
/// // A public client identifies itself with `client_id` instead of authenticating.
/// let public = FormParams::new().with("client_id", "my-tv-app");
/// let device = client.request_device_authorization("", Some("read"), Some(&public)).await?;
/// println!("Go to {} and enter {}", device.verification_uri, device.user_code);
/// let token = poll_device_token(&client, "", &device, Some(&public)).await?;
/// # Ok(()) }
/// ```
pub trait DeviceAuthorization: TokenEndpoint {
    /// Starts the flow at the device authorization endpoint.
    #[oauth_grant(endpoint = "device_authorization")]
    async fn request_device_authorization(
        &self,
        #[header("Authorization")] authorization: &str,
        #[form] scope: Option<&str>,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<DeviceAuthorizationResponse, Error>;

    /// One poll of the token endpoint. Usually called through [`poll_device_token`].
    #[oauth_grant(grant_type = "urn:ietf:params:oauth:grant-type:device_code")]
    async fn request_token_device(
        &self,
        #[header("Authorization")] authorization: &str,
        #[form] device_code: &str,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<OAuthToken, Error>;
}

impl DeviceAuthorization for crate::OAuthClient {}

/// Extra wait after each `slow_down` (RFC 8628 §3.5).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// Polls the token endpoint until the user finishes: waits `interval` (default 5 s) before
/// each poll, keeps going on `authorization_pending`, waits 5 s longer after each
/// `slow_down`, and stops with the provider's error on `access_denied` or `expired_token`
/// (as [`Error::Provider`]) or with [`Error::DeviceCodeExpired`] once the device code's own
/// lifetime has passed. Drop the future to cancel.
pub async fn poll_device_token<C>(
    client: &C,
    authorization: &str,
    device: &DeviceAuthorizationResponse,
    additional: Option<&FormParams>,
) -> Result<OAuthToken, Error>
where
    C: DeviceAuthorization + ?Sized,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(device.expires_in);
    let mut interval = Duration::from_secs(device.interval.unwrap_or(5));
    loop {
        if tokio::time::Instant::now() + interval >= deadline {
            return Err(Error::DeviceCodeExpired { expires_in: device.expires_in });
        }
        tokio::time::sleep(interval).await;
        match client.request_token_device(authorization, &device.device_code, additional).await {
            Err(error) => match error.provider_error().map(|provider| &provider.error) {
                Some(OAuthProviderErrorKind::AuthorizationPending) => {}
                Some(OAuthProviderErrorKind::SlowDown) => interval += SLOW_DOWN_STEP,
                _ => return Err(error),
            },
            result => return result,
        }
    }
}
