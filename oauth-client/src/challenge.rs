//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1), as resource servers send them to say why a
//! token was refused (RFC 6750 §3, RFC 9449 §7.1).

use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};

/// One challenge: a scheme and its parameters (a token68 is kept as a parameter without name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// The scheme, as sent (compare it case-insensitively).
    pub(crate) scheme: String,
    /// `name=value` pairs in order, names lower-cased, quoted values unescaped.
    pub(crate) params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of parameter `name` (lower case).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Whether the challenge carries `error="<code>"`.
    pub(crate) fn has_error(&self, code: &str) -> bool {
        self.param("error") == Some(code)
    }
}

/// What a protected resource's refusal says (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1): the
/// `Bearer` or `DPoP` challenge of its `WWW-Authenticate`, read once for the caller who must
/// find the authorization server, pick a scope, or step up.
///
/// ```
/// use oauth_client::ResourceChallenge;
/// use reqwest::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(
///     r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="files:read files:write", error="insufficient_scope""#));
/// let challenge = ResourceChallenge::from_headers(&headers).expect("a Bearer challenge");
/// assert_eq!(challenge.scheme, "Bearer");
/// assert_eq!(challenge.resource_metadata.as_deref(), Some("https://mcp.example.com/.well-known/oauth-protected-resource"));
/// assert_eq!(challenge.scope.as_deref(), Some("files:read files:write"));
/// assert_eq!(challenge.error.as_deref(), Some("insufficient_scope"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResourceChallenge {
    /// `Bearer` or `DPoP`, as sent.
    pub scheme: String,
    /// Where the resource's metadata is (RFC 9728 §5.1).
    pub resource_metadata: Option<String>,
    /// The scope the request needs (RFC 6750 §3).
    pub scope: Option<String>,
    /// The error code: `invalid_token`, `insufficient_scope`, `invalid_dpop_proof`, ...
    pub error: Option<String>,
    /// The server's `error_description`.
    pub error_description: Option<String>,
    /// The DPoP algorithms the server accepts (RFC 9449 §7.1), space-separated.
    pub algs: Option<String>,
}

impl ResourceChallenge {
    /// The first `Bearer` or `DPoP` challenge of `headers`' `WWW-Authenticate`, if any; with
    /// both, the one that names `resource_metadata` (else the first).
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let relevant: Vec<Challenge> = challenges(headers)
            .into_iter()
            .filter(|challenge| {
                challenge.scheme.eq_ignore_ascii_case("Bearer")
                    || challenge.scheme.eq_ignore_ascii_case("DPoP")
            })
            .collect();
        let chosen = relevant
            .iter()
            .find(|challenge| challenge.param("resource_metadata").is_some())
            .or_else(|| relevant.first())?;
        Some(chosen.into())
    }
}

impl From<&Challenge> for ResourceChallenge {
    fn from(challenge: &Challenge) -> Self {
        let param = |name: &str| challenge.param(name).map(str::to_owned);
        ResourceChallenge {
            scheme: challenge.scheme.clone(),
            resource_metadata: param("resource_metadata"),
            scope: param("scope"),
            error: param("error"),
            error_description: param("error_description"),
            algs: param("algs"),
        }
    }
}

/// Every challenge in every `WWW-Authenticate` header of `headers`; a header that is not
/// visible ASCII is skipped, and a malformed one yields what could be read of it.
pub(crate) fn challenges(headers: &HeaderMap) -> Vec<Challenge> {
    let mut all = Vec::new();
    for value in headers.get_all(WWW_AUTHENTICATE) {
        if let Ok(value) = value.to_str() {
            parse_into(value, &mut all);
        }
    }
    all
}

/// Parses one header value: `1#challenge`, where `challenge = scheme [ 1*SP ( token68 /
/// #auth-param ) ]`. Commas separate both challenges and parameters, so an element that
/// starts with a token followed by a space (or standing alone) begins a new challenge.
fn parse_into(value: &str, out: &mut Vec<Challenge>) {
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return;
        }
        let (token, after) = split_token(rest);
        if token.is_empty() {
            // Not a token where one must be: skip to the next element.
            rest = skip_element(rest);
            continue;
        }
        let after_ws = after.trim_start_matches([' ', '\t']);
        if after_ws.starts_with('=') && !out.is_empty() && !is_token68_tail(after_ws) {
            // `name=value` of the current challenge.
            let (value, remaining) = read_value(after_ws[1..].trim_start_matches([' ', '\t']));
            if let Some(current) = out.last_mut() {
                current.params.push((token.to_ascii_lowercase(), value));
            }
            rest = remaining;
            continue;
        }
        // A new challenge: `scheme`, then a token68 or a first parameter, if any.
        out.push(Challenge { scheme: token.to_owned(), params: Vec::new() });
        rest = after_ws;
        let (next, after_next) = split_token68(rest);
        if !next.is_empty() {
            let tail = after_next.trim_start_matches([' ', '\t']);
            if tail.is_empty() || tail.starts_with(',') {
                if let Some(current) = out.last_mut() {
                    current.params.push((String::new(), next.to_owned()));
                }
                rest = tail;
            }
        }
    }
}

/// Whether `s` (starting with `=`) is the padding of a token68 rather than `=value`:
/// `=` signs up to the end or a comma.
fn is_token68_tail(s: &str) -> bool {
    let trimmed = s.trim_start_matches('=');
    let trimmed = trimmed.trim_start_matches([' ', '\t']);
    trimmed.is_empty() || trimmed.starts_with(',')
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn split_token(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !is_tchar(c)).unwrap_or(s.len());
    s.split_at(end)
}

fn split_token68(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || "-._~+/".contains(c))).unwrap_or(s.len());
    let padded = s[end..].find(|c: char| c != '=').map_or(s.len(), |pad| end + pad);
    s.split_at(padded)
}

/// A quoted string (unescaped) or a token, and what follows it.
fn read_value(s: &str) -> (String, &str) {
    let Some(quoted) = s.strip_prefix('"') else {
        let (token, rest) = split_token(s);
        return (token.to_owned(), rest);
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return (value, &quoted[index + 1..]),
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            c => value.push(c),
        }
    }
    // An unterminated quote: take what there is.
    (value, "")
}

/// Skips to the comma that ends the current element, outside quotes.
fn skip_element(s: &str) -> &str {
    let mut in_quotes = false;
    let mut escaped = false;
    for (index, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => return &s[index + 1..],
            _ => {}
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Vec<Challenge> {
        let mut out = Vec::new();
        parse_into(value, &mut out);
        out
    }

    fn challenge(scheme: &str, params: &[(&str, &str)]) -> Challenge {
        Challenge {
            scheme: scheme.into(),
            params: params.iter().map(|(name, value)| ((*name).into(), (*value).into())).collect(),
        }
    }

    #[test]
    fn a_bearer_error_with_quoted_parameters() {
        assert_eq!(
            parse(
                r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#
            ),
            [challenge(
                "Bearer",
                &[
                    ("realm", "example"),
                    ("error", "invalid_token"),
                    ("error_description", "The access token expired")
                ]
            )]
        );
    }

    #[test]
    fn two_challenges_in_one_header_with_commas_inside_quotes() {
        assert_eq!(
            parse(
                r#"DPoP algs="ES256 PS256", error="use_dpop_nonce", Bearer scope="a, b",error=insufficient_scope"#
            ),
            [
                challenge("DPoP", &[("algs", "ES256 PS256"), ("error", "use_dpop_nonce")]),
                challenge("Bearer", &[("scope", "a, b"), ("error", "insufficient_scope")]),
            ]
        );
    }

    #[test]
    fn bare_schemes_token68_escapes_and_case() {
        assert_eq!(
            parse(r#"Basic, Negotiate abc+/d==, Bearer ERROR = "x\"y""#),
            [
                challenge("Basic", &[]),
                challenge("Negotiate", &[("", "abc+/d==")]),
                challenge("Bearer", &[("error", "x\"y")]),
            ]
        );
    }

    #[test]
    fn every_header_is_read() {
        let mut headers = HeaderMap::new();
        headers.append(WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"".parse().unwrap());
        headers.append(WWW_AUTHENTICATE, "DPoP error=\"use_dpop_nonce\"".parse().unwrap());
        let all = challenges(&headers);
        assert_eq!(all.len(), 2);
        assert!(all[0].has_error("invalid_token"));
        assert!(all[1].has_error("use_dpop_nonce"));
    }

    #[test]
    fn malformed_input_yields_what_can_be_read() {
        assert_eq!(
            parse(r#"Bearer error="unterminated"#),
            [challenge("Bearer", &[("error", "unterminated")])]
        );
        assert_eq!(parse(r#"=oops, Bearer error=x"#), [challenge("Bearer", &[("error", "x")])]);
        assert_eq!(parse(",,, ,"), []);
    }

    proptest::proptest! {
        #[test]
        fn any_header_parses_without_panic(value in "\\PC{0,64}") {
            let _ = parse(&value);
        }
    }
}
