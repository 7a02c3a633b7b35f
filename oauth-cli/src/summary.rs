//! A token as a person reads it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth_client::OAuthToken;
use serde_json::Value;

/// Type, lifetime, expiry as a UTC date, scope, and whether a refresh token came back; the
/// token itself is never shown.
pub fn summary(token: &OAuthToken) -> String {
    let lifetime = match (token.expires_in, token.expiry) {
        (Some(seconds), Some(expiry)) => format!("valid {} (until {})", duration(seconds), utc(expiry)),
        (Some(seconds), None) => format!("valid {}", duration(seconds)),
        (None, _) => "no stated lifetime".to_owned(),
    };
    let scope = token
        .scope
        .as_deref()
        .map_or_else(|| "scope not stated".to_owned(), |scope| format!("scope \"{scope}\""));
    let refresh = if token.refresh_token.is_some() { "a refresh token" } else { "no refresh token" };
    format!("{} token, {lifetime}, {scope}, {refresh}", token.token_type)
}

/// The claims of a JWT, decoded and **not verified**; `None` for a token that is not a JWT.
pub fn unverified_claims(jwt: &str) -> Option<Value> {
    let mut parts = jwt.split('.');
    let (Some(_), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok().filter(Value::is_object)
}

/// `3600` → `1 h`, `90` → `1 min 30 s`.
pub fn duration(seconds: u64) -> String {
    let (hours, minutes, seconds) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let parts: Vec<String> = [(hours, "h"), (minutes, "min"), (seconds, "s")]
        .into_iter()
        .filter(|(value, _)| *value > 0)
        .map(|(value, unit)| format!("{value} {unit}"))
        .collect();
    if parts.is_empty() { "0 s".to_owned() } else { parts.join(" ") }
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC` (the proleptic Gregorian calendar; days to
/// civil date after Howard Hinnant's `civil_from_days`).
pub fn utc(unix: i64) -> String {
    let (days, time) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", time / 3600, time % 3600 / 60, time % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_durations_read_as_people_write_them() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_800_000_000), "2027-01-15 08:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
        assert_eq!(duration(3600), "1 h");
        assert_eq!(duration(90), "1 min 30 s");
        assert_eq!(duration(0), "0 s");
    }

    #[test]
    fn jwt_claims_are_decoded_and_anything_else_is_not() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"alice"}"#);
        assert_eq!(
            unverified_claims(&format!("e30.{payload}.sig")),
            Some(serde_json::json!({"sub": "alice"}))
        );
        assert_eq!(unverified_claims("opaque-token"), None);
        assert_eq!(unverified_claims("a.b.c"), None);
    }
}
