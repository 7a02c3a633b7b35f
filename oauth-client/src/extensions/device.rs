//! The device authorization grant (RFC 8628): for devices without a browser or keyboard.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    ClientAuthorization, Error, FormParams, OAuthProviderErrorKind, OAuthToken, TokenEndpoint, oauth_grant,
};

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
/// use oauth_client::{ClientAuth, ClientAuthorization::Configured, OAuthClient};
///
/// # async fn run() -> Result<(), oauth_client::Error> {
/// let client = OAuthClient::builder("https://auth.example.com/token")
///     .device_authorization_url("https://auth.example.com/device")
///     // A public client: `client_id` in the form, no secret.
///     .client_auth(ClientAuth::none("my-tv-app"))
///     .build()?;
/// let device = client.request_device_authorization(Configured, Some("read"), None).await?;
/// println!("Go to {} and enter {}", device.verification_uri, device.user_code);
/// let token = poll_device_token(&client, Configured, &device, None).await?;
/// # Ok(()) }
/// ```
pub trait DeviceAuthorization: TokenEndpoint {
    /// Starts the flow at the device authorization endpoint.
    #[oauth_grant(endpoint = "device_authorization")]
    async fn request_device_authorization<'a>(
        &self,
        #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
        #[form] scope: Option<&str>,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<DeviceAuthorizationResponse, Error>;

    /// One poll of the token endpoint. Usually called through [`poll_device_token`].
    #[oauth_grant(grant_type = "urn:ietf:params:oauth:grant-type:device_code")]
    async fn request_token_device<'a>(
        &self,
        #[header("Authorization")] authorization: impl Into<ClientAuthorization<'a>>,
        #[form] device_code: &str,
        #[form_params] additional: Option<&FormParams>,
    ) -> Result<OAuthToken, Error>;
}

impl DeviceAuthorization for crate::OAuthClient {}

/// Extra wait after each `slow_down` (RFC 8628 §3.5).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The wait between polls when the provider gives no usable `interval` (RFC 8628 §3.5).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// The longest wait between two polls, whatever the provider asks: a user who finished
/// should not wait longer than this for the device to notice.
const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// Polls the token endpoint until the user finishes: waits `interval` before each poll (5 s
/// when the provider sends none or `0`, at most 60 s), keeps going on
/// `authorization_pending`, waits 5 s longer after each `slow_down`, rides out transient
/// failures (a timeout, a 5xx, a 429: the wait doubles, as RFC 8628 §3.5 recommends), and
/// stops with the provider's error on `access_denied` or `expired_token` (as
/// [`Error::Provider`]) or with [`Error::DeviceCodeExpired`] once the device code's own
/// lifetime has passed. Drop the future to cancel.
pub async fn poll_device_token<'a, C>(
    client: &C,
    authorization: impl Into<ClientAuthorization<'a>>,
    device: &DeviceAuthorizationResponse,
    additional: Option<&FormParams>,
) -> Result<OAuthToken, Error>
where
    C: DeviceAuthorization + ?Sized,
{
    let authorization = authorization.into();
    let mut schedule = PollSchedule::new(device, tokio::time::Instant::now().into_std());
    loop {
        let Some(wait) = schedule.next_wait(tokio::time::Instant::now().into_std()) else {
            return Err(Error::DeviceCodeExpired { expires_in: device.expires_in });
        };
        tokio::time::sleep(wait).await;
        match client.request_token_device(&authorization, &device.device_code, additional).await {
            Ok(token) => return Ok(token),
            Err(error) => match error.provider_error().map(|provider| &provider.error) {
                Some(OAuthProviderErrorKind::AuthorizationPending) => {}
                Some(OAuthProviderErrorKind::SlowDown) => schedule.slow_down(),
                _ if error.is_transient() => {
                    tracing::debug!(error = %error, "device token poll failed transiently; polling on");
                    schedule.back_off();
                }
                _ => return Err(error),
            },
        }
    }
}

/// When to poll next: the interval, as the provider set and adjusted it, within the device
/// code's lifetime. Pure, so its arithmetic is tested without waiting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PollSchedule {
    interval: Duration,
    /// When the device code expires; `None` when its lifetime is beyond what the clock can
    /// represent (it never expires during this process).
    deadline: Option<std::time::Instant>,
}

impl PollSchedule {
    pub(crate) fn new(device: &DeviceAuthorizationResponse, now: std::time::Instant) -> Self {
        let interval = match device.interval {
            None | Some(0) => DEFAULT_INTERVAL,
            Some(seconds) => Duration::from_secs(seconds).min(MAX_INTERVAL),
        };
        PollSchedule { interval, deadline: now.checked_add(Duration::from_secs(device.expires_in)) }
    }

    /// How long to wait before the next poll, or `None` when the device code will have
    /// expired by then.
    pub(crate) fn next_wait(&self, now: std::time::Instant) -> Option<Duration> {
        match (self.deadline, now.checked_add(self.interval)) {
            (Some(deadline), Some(next)) if next >= deadline => None,
            (Some(_), None) => None,
            _ => Some(self.interval),
        }
    }

    /// `slow_down`: 5 s more from now on (RFC 8628 §3.5).
    pub(crate) fn slow_down(&mut self) {
        self.interval = self.interval.saturating_add(SLOW_DOWN_STEP).min(MAX_INTERVAL.max(self.interval));
    }

    /// A transient failure: twice the wait, up to the longest.
    pub(crate) fn back_off(&mut self) {
        self.interval = self.interval.saturating_mul(2).min(MAX_INTERVAL.max(self.interval));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{DeviceAuthorizationResponse, PollSchedule};

    fn device(interval: Option<u64>, expires_in: u64) -> DeviceAuthorizationResponse {
        serde_json::from_value(serde_json::json!({
            "device_code": "d", "user_code": "u", "verification_uri": "https://v",
            "expires_in": expires_in, "interval": interval,
        }))
        .unwrap()
    }

    /// Found by reading the code: `interval: 0` polled as fast as round trips allow (failed
    /// before the fix: a wait of 0).
    #[test]
    fn a_zero_or_missing_interval_waits_the_rfc_default() {
        let now = Instant::now();
        for interval in [None, Some(0)] {
            assert_eq!(
                PollSchedule::new(&device(interval, 600), now).next_wait(now),
                Some(Duration::from_secs(5))
            );
        }
        assert_eq!(
            PollSchedule::new(&device(Some(2), 600), now).next_wait(now),
            Some(Duration::from_secs(2))
        );
    }

    /// Found by reading the code: a huge `interval` or `expires_in` panicked adding to an
    /// `Instant` (failed before the fix: overflow panic).
    #[test]
    fn huge_intervals_and_lifetimes_do_not_overflow() {
        let now = Instant::now();
        let schedule = PollSchedule::new(&device(Some(u64::MAX), u64::MAX), now);
        assert_eq!(schedule.next_wait(now), Some(Duration::from_secs(60)));
        let schedule = PollSchedule::new(&device(Some(5), 3), now);
        assert_eq!(schedule.next_wait(now), None, "the code expires before the first poll");
    }

    #[test]
    fn slow_down_adds_five_seconds_and_failures_double_up_to_a_minute() {
        let now = Instant::now();
        let mut schedule = PollSchedule::new(&device(Some(5), 600), now);
        schedule.slow_down();
        assert_eq!(schedule.next_wait(now), Some(Duration::from_secs(10)));
        schedule.back_off();
        assert_eq!(schedule.next_wait(now), Some(Duration::from_secs(20)));
        for _ in 0..5 {
            schedule.back_off();
        }
        assert_eq!(schedule.next_wait(now), Some(Duration::from_secs(60)));
    }
}
