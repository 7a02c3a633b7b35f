//! Which URLs the client sends credentials and codes to: `https`, or plain `http` on a
//! loopback host only (a local test server, a desktop app's own listener), unless the user
//! explicitly allows plain `http` everywhere.

use std::net::IpAddr;

use reqwest::Url;

use crate::error::Error;
use crate::error::Setting;

/// Parses `url` as the URL of the provider's `what` (e.g. "token URL") and checks its scheme.
pub(crate) fn parse(what: &str, url: &str, allow_insecure_http: bool) -> Result<Url, Error> {
    let parsed =
        Url::parse(url).map_err(|source| Error::InvalidUrl { what: what.into(), url: url.into(), source })?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if allow_insecure_http || is_loopback(&parsed) => Ok(parsed),
        "http" => Err(Error::config(
            Setting::Endpoint,
            format!(
                "the {what} `{url}` uses plain `http`, which would send credentials unencrypted; \
             use `https`, or call `allow_insecure_http(true)` if this is deliberate"
            ),
        )),
        scheme => Err(Error::config(
            Setting::Endpoint,
            format!("the {what} `{url}` must use `https`, not `{scheme}`"),
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_on_loopback_are_accepted() {
        for url in [
            "https://auth.example/token",
            "http://127.0.0.1:8080/token",
            "http://127.8.9.10/token",
            "http://localhost/token",
            "http://[::1]:9/token",
        ] {
            assert!(parse("token URL", url, false).is_ok(), "{url}");
        }
    }

    #[test]
    fn plain_http_elsewhere_needs_an_explicit_opt_in() {
        for url in ["http://auth.example/token", "http://10.0.0.1/token", "http://localhost.example/token"] {
            let error = parse("token URL", url, false).unwrap_err();
            assert!(
                matches!(&error, Error::Config(config) if config.message().contains("allow_insecure_http(true)")),
                "{url}: {error:?}"
            );
            assert!(parse("token URL", url, true).is_ok(), "{url}");
        }
    }

    #[test]
    fn other_schemes_and_garbage_are_refused_even_when_insecure_is_allowed() {
        for url in ["ftp://auth.example/token", "file:///etc/passwd"] {
            assert!(
                matches!(parse("token URL", url, true), Err(Error::Config(config)) if config.setting() == Setting::Endpoint && config.message().contains("must use `https`")),
                "{url}"
            );
        }
        for url in ["not a url", ""] {
            assert!(
                matches!(
                    parse("token URL", url, true),
                    Err(Error::InvalidUrl { source: url::ParseError::RelativeUrlWithoutBase, .. })
                ),
                "{url}"
            );
        }
    }
}
