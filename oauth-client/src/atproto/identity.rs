//! From a handle to the server that holds the account: handle → DID (DNS TXT
//! `_atproto.<handle>`, then `https://<handle>/.well-known/atproto-did`), DID → document
//! (`did:plc` at a PLC directory, `did:web` at its host), the document claiming the handle
//! back, and its `#atproto_pds` service.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;

use super::AtprotoError;
use crate::discovery::get_document;
use crate::manager::BoxFuture;

/// An AT Protocol handle (`alice.example.com`): a domain name, kept in lower case, without a
/// leading `@`.
///
/// ```
/// use oauth_client::atproto::Handle;
///
/// assert_eq!(Handle::parse("@Alice.Example.com").unwrap().as_str(), "alice.example.com");
/// assert!(Handle::parse("alice").is_err(), "a handle has at least two labels");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Handle(String);

impl Handle {
    /// Checks the handle syntax (atproto.com/specs/handle): at most 253 characters, two or
    /// more labels of 1-63 ASCII letters, digits and hyphens, none starting or ending with a
    /// hyphen, the last not starting with a digit.
    pub fn parse(input: &str) -> Result<Self, AtprotoError> {
        let invalid = |reason: &'static str| AtprotoError::InvalidHandle { input: input.to_owned(), reason };
        let handle = input.strip_prefix('@').unwrap_or(input).to_ascii_lowercase();
        if handle.len() > 253 {
            return Err(invalid("longer than 253 characters"));
        }
        let labels: Vec<&str> = handle.split('.').collect();
        if labels.len() < 2 {
            return Err(invalid("a handle is a domain name with at least two labels"));
        }
        for label in &labels {
            if label.is_empty() || label.len() > 63 {
                return Err(invalid("each label has 1 to 63 characters"));
            }
            if !label.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-') {
                return Err(invalid("only ASCII letters, digits, hyphens and dots"));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(invalid("a label neither starts nor ends with a hyphen"));
            }
        }
        if labels.last().is_some_and(|tld| tld.starts_with(|c: char| c.is_ascii_digit())) {
            return Err(invalid("the last label does not start with a digit"));
        }
        Ok(Handle(handle))
    }

    /// The handle, in lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A decentralized identifier (`did:plc:...`, `did:web:...`): the account's permanent name.
///
/// ```
/// use oauth_client::atproto::Did;
///
/// let did = Did::parse("did:plc:ewvi7nxzyoun6zhxrhs64oiz").unwrap();
/// assert_eq!(did.method(), "plc");
/// assert!(Did::parse("alice.example.com").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Did(String);

impl Did {
    /// Checks the DID syntax as the AT Protocol restricts it: `did:<method>:<identifier>`, a
    /// lower-case method, an identifier of `A-Za-z0-9._:%-` not ending in `:` or `%`, at most
    /// 2048 characters.
    pub fn parse(input: &str) -> Result<Self, AtprotoError> {
        let invalid = |reason: &'static str| AtprotoError::InvalidDid { input: input.to_owned(), reason };
        if input.len() > 2048 {
            return Err(invalid("longer than 2048 characters"));
        }
        let Some((method, identifier)) = input.strip_prefix("did:").and_then(|rest| rest.split_once(':'))
        else {
            return Err(invalid("a DID is did:<method>:<identifier>"));
        };
        if method.is_empty() || !method.bytes().all(|byte| byte.is_ascii_lowercase()) {
            return Err(invalid("the method is lower-case letters"));
        }
        let allowed = |byte: u8| byte.is_ascii_alphanumeric() || b"._:%-".contains(&byte);
        if identifier.is_empty() || !identifier.bytes().all(allowed) {
            return Err(invalid("the identifier is letters, digits and ._:%-"));
        }
        if identifier.ends_with(':') || identifier.ends_with('%') {
            return Err(invalid("the identifier does not end with `:` or `%`"));
        }
        Ok(Did(input.to_owned()))
    }

    /// The method: `plc`, `web`, ...
    pub fn method(&self) -> &str {
        self.0["did:".len()..].split(':').next().unwrap_or_default()
    }

    /// The DID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Did {
    type Error = AtprotoError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Did::parse(&value)
    }
}

impl From<Did> for String {
    fn from(did: Did) -> Self {
        did.0
    }
}

/// A DID document, as far as the AT Protocol reads it.
#[derive(Clone, Debug, Deserialize)]
pub struct DidDocument {
    /// The DID it describes.
    pub id: String,
    /// Other names of the subject; `at://<handle>` claims a handle.
    #[serde(rename = "alsoKnownAs", default)]
    pub also_known_as: Vec<String>,
    /// The services; `#atproto_pds` is the account's PDS.
    #[serde(default)]
    pub service: Vec<DidService>,
}

/// One service of a DID document.
#[derive(Clone, Debug, Deserialize)]
pub struct DidService {
    /// `#atproto_pds`, or the DID followed by it.
    pub id: String,
    /// `AtprotoPersonalDataServer` for a PDS.
    #[serde(rename = "type")]
    pub kind: String,
    /// The service's URL (or, for other services, any JSON value).
    #[serde(rename = "serviceEndpoint")]
    pub endpoint: serde_json::Value,
}

impl DidDocument {
    /// The account's PDS: the `AtprotoPersonalDataServer` service with the id `#atproto_pds`.
    pub fn pds(&self) -> Option<&str> {
        let full_id = format!("{}#atproto_pds", self.id);
        self.service
            .iter()
            .find(|service| {
                (service.id == "#atproto_pds" || service.id == full_id)
                    && service.kind == "AtprotoPersonalDataServer"
            })
            .and_then(|service| service.endpoint.as_str())
    }

    /// The handle the document claims (its first valid `at://` name), if any.
    pub fn handle(&self) -> Option<Handle> {
        self.also_known_as
            .iter()
            .filter_map(|name| name.strip_prefix("at://"))
            .find_map(|h| Handle::parse(h).ok())
    }

    /// Whether the document claims `handle` (compared in lower case).
    pub fn claims(&self, handle: &Handle) -> bool {
        self.also_known_as
            .iter()
            .filter_map(|name| name.strip_prefix("at://"))
            .any(|claimed| claimed.eq_ignore_ascii_case(handle.as_str()))
    }
}

/// The TXT records of a DNS name. The system's resolvers answer by default
/// ([`IdentityResolver::new`]); give another (a test's, a DNS-over-HTTPS one) with
/// [`IdentityResolver::dns`]. A closure `Fn(String) -> impl Future<Output = Result<Vec<String>,
/// AtprotoError>>` is one.
pub trait DnsTxtResolver: Send + Sync + 'static {
    /// The TXT records of `name`, each as one string; none when the name has none.
    fn txt(&self, name: String) -> BoxFuture<'_, Result<Vec<String>, AtprotoError>>;
}

impl<F, Fut> DnsTxtResolver for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<String>, AtprotoError>> + Send + 'static,
{
    fn txt(&self, name: String) -> BoxFuture<'_, Result<Vec<String>, AtprotoError>> {
        Box::pin(self(name))
    }
}

/// The system's DNS resolvers (`/etc/resolv.conf` on Unix), through hickory-resolver; built
/// when first asked.
struct SystemDns(OnceLock<Result<hickory_resolver::TokioResolver, String>>);

impl DnsTxtResolver for SystemDns {
    fn txt(&self, name: String) -> BoxFuture<'_, Result<Vec<String>, AtprotoError>> {
        Box::pin(async move {
            let resolver = self
                .0
                .get_or_init(|| {
                    hickory_resolver::TokioResolver::builder_tokio()
                        .map(|builder| builder.build())
                        .map_err(|error| error.to_string())
                })
                .as_ref()
                .map_err(|error| AtprotoError::Dns(format!("no system resolver: {error}")))?;
            match resolver.txt_lookup(name).await {
                Ok(records) => Ok(records
                    .iter()
                    .map(|record| {
                        record.txt_data().iter().map(|part| String::from_utf8_lossy(part)).collect::<String>()
                    })
                    .collect()),
                Err(error) if error.is_no_records_found() => Ok(Vec::new()),
                Err(error) => Err(AtprotoError::Dns(error.to_string())),
            }
        })
    }
}

/// Who an identifier is and where their account lives.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The account's DID.
    pub did: Did,
    /// Its handle, when the DID document claims it and the handle resolves back to the DID.
    pub handle: Option<Handle>,
    /// The DID document.
    pub document: DidDocument,
    /// The URL of the account's PDS.
    pub pds: String,
}

/// Resolves handles and DIDs as the AT Protocol requires, every check included.
///
/// ```no_run
/// # async fn run() -> Result<(), oauth_client::atproto::AtprotoError> {
/// use oauth_client::atproto::IdentityResolver;
///
/// let identity = IdentityResolver::new().resolve("alice.bsky.social").await?;
/// println!("{} lives at {}", identity.did, identity.pds);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IdentityResolver {
    /// The caller's client for documents, else this resolver's own (and its clones').
    http: crate::http_client::DocumentsClient,
    plc_directory: String,
    dns: Arc<dyn DnsTxtResolver>,
}

impl fmt::Debug for IdentityResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityResolver").field("plc_directory", &self.plc_directory).finish_non_exhaustive()
    }
}

impl Default for IdentityResolver {
    fn default() -> Self {
        Self::new()
    }
}

/// The public PLC directory, where `did:plc` documents live.
pub const PLC_DIRECTORY: &str = "https://plc.directory";

impl IdentityResolver {
    /// A resolver with the system's DNS, the public PLC directory and oauth-client's HTTP
    /// client defaults.
    pub fn new() -> Self {
        IdentityResolver {
            http: crate::http_client::DocumentsClient::default(),
            plc_directory: PLC_DIRECTORY.to_owned(),
            dns: Arc::new(SystemDns(OnceLock::new())),
        }
    }

    /// The PLC directory to read `did:plc` documents from (a private one, a test's).
    pub fn plc_directory(mut self, url: impl Into<String>) -> Self {
        self.plc_directory = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Where DNS TXT records come from.
    pub fn dns(mut self, resolver: impl DnsTxtResolver) -> Self {
        self.dns = Arc::new(resolver);
        self
    }

    /// The HTTP client for the HTTPS handle method and DID documents.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = crate::http_client::DocumentsClient::caller(http);
        self
    }

    /// GETs a small document (at most 1 MiB), `None` with the reason when it is not there.
    async fn get(&self, url: &str, accept: &str) -> Result<Vec<u8>, String> {
        let http = self.http.get().map_err(|error| error.to_string())?;
        match get_document(http, url, accept).await {
            Ok(received) if (200..300).contains(&received.status) => Ok(received.body),
            Ok(received) => Err(format!("{url} answered {}", received.status)),
            Err(error) => Err(format!("{url}: {error}")),
        }
    }

    /// From a handle or a DID to the account's DID, verified handle, document and PDS. A
    /// handle must resolve to a DID whose document claims it back
    /// ([`AtprotoError::HandleNotClaimed`]); a DID's claimed handle is kept only when it
    /// resolves back to the DID.
    pub async fn resolve(&self, identifier: &str) -> Result<Identity, AtprotoError> {
        let (did, handle) = if identifier.starts_with("did:") {
            (Did::parse(identifier)?, None)
        } else {
            let handle = Handle::parse(identifier)?;
            (self.resolve_handle(&handle).await?, Some(handle))
        };
        let document = self.resolve_did(&did).await?;
        let handle = match handle {
            Some(handle) if document.claims(&handle) => Some(handle),
            Some(handle) => return Err(AtprotoError::HandleNotClaimed { handle: handle.0, did: did.0 }),
            None => match document.handle() {
                Some(claimed) if self.resolve_handle(&claimed).await.ok().as_ref() == Some(&did) => {
                    Some(claimed)
                }
                _ => None,
            },
        };
        let pds = document.pds().ok_or_else(|| AtprotoError::NoPds { did: did.0.clone() })?.to_owned();
        Ok(Identity { did, handle, document, pds })
    }

    /// The DID a handle names: its DNS TXT record `_atproto.<handle>` (`did=<DID>`), else the
    /// text at `https://<handle>/.well-known/atproto-did`.
    pub async fn resolve_handle(&self, handle: &Handle) -> Result<Did, AtprotoError> {
        let not_found =
            |reason: String| AtprotoError::HandleNotFound { handle: handle.as_str().to_owned(), reason };
        let records = self.dns.txt(format!("_atproto.{handle}")).await;
        let dns_reason = match &records {
            Ok(records) => {
                let dids: Vec<&str> =
                    records.iter().filter_map(|record| record.strip_prefix("did=")).collect();
                match dids.as_slice() {
                    [did] => return Did::parse(did.trim()),
                    [] => "no DNS TXT record `did=...`".to_owned(),
                    _ => "several DNS TXT records `did=...`".to_owned(),
                }
            }
            Err(error) => error.to_string(),
        };
        let url = format!("https://{handle}/.well-known/atproto-did");
        let text = self
            .get(&url, "text/plain")
            .await
            .map_err(|reason| not_found(format!("{dns_reason}; {reason}")))?;
        let text = String::from_utf8_lossy(&text);
        Did::parse(text.trim()).map_err(|_| not_found(format!("{dns_reason}; {url} holds no DID")))
    }

    /// The DID document of `did`: from the PLC directory (`did:plc`) or
    /// `https://<host>/.well-known/did.json` (`did:web`, hostnames only); its `id` must be
    /// `did`.
    pub async fn resolve_did(&self, did: &Did) -> Result<DidDocument, AtprotoError> {
        let not_found = |reason: String| AtprotoError::DidNotFound { did: did.0.clone(), reason };
        let url = match did.method() {
            "plc" => format!("{}/{did}", self.plc_directory),
            "web" => {
                let host = &did.0["did:web:".len()..];
                if host.contains(':') {
                    return Err(not_found("did:web with a path is not used by the AT Protocol".to_owned()));
                }
                format!("https://{}/.well-known/did.json", host.replace("%3A", ":").replace("%3a", ":"))
            }
            other => return Err(not_found(format!("the method `{other}` is not supported (plc, web)"))),
        };
        let body = self.get(&url, "application/did+json, application/json").await.map_err(not_found)?;
        let document: DidDocument = serde_json::from_slice(&body)
            .map_err(|error| not_found(format!("{url}: not a DID document: {error}")))?;
        if document.id != did.0 {
            return Err(not_found(format!("{url} describes {}", document.id)));
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_domain_names_in_lower_case() {
        assert_eq!(Handle::parse("Alice.Test").unwrap().as_str(), "alice.test");
        for bad in ["alice", "-a.test", "a-.test", "a..test", "a.1test", "a_b.test", ""] {
            assert!(matches!(Handle::parse(bad), Err(AtprotoError::InvalidHandle { .. })), "{bad}");
        }
        assert!(Handle::parse("xn--ls8h.test").is_ok());
    }

    #[test]
    fn dids_have_a_method_and_an_identifier() {
        assert_eq!(Did::parse("did:web:example.com").unwrap().method(), "web");
        for bad in ["did:plc", "did:PLC:abc", "did:plc:abc:", "did:plc:a b", "plc:abc"] {
            assert!(matches!(Did::parse(bad), Err(AtprotoError::InvalidDid { .. })), "{bad}");
        }
    }

    #[test]
    fn the_pds_is_the_atproto_pds_service() {
        let document: DidDocument = serde_json::from_value(serde_json::json!({
            "id": "did:plc:abc",
            "alsoKnownAs": ["at://Alice.Test"],
            "service": [
                {"id": "#other", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://wrong.example"},
                {"id": "did:plc:abc#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://pds.example"},
            ],
        }))
        .unwrap();
        assert_eq!(document.pds(), Some("https://pds.example"));
        assert!(document.claims(&Handle::parse("alice.test").unwrap()));
        assert_eq!(document.handle().unwrap().as_str(), "alice.test");
    }
}
