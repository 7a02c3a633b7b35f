//! Sign in with an AT Protocol handle (Bluesky and every other AT Protocol service), as the
//! protocol's OAuth profile requires: the handle resolved to its account's server, PAR, PKCE
//! `S256`, DPoP with the servers' nonces, `iss`, the account checked again after the code
//! exchange, and sessions a fleet can share. Cargo feature `atproto`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use oauth_client::atproto::{AtprotoClient, AtprotoClientMetadata, Scope};
//! use oauth_client::resource_access::LoopbackListener;
//!
//! let browser = LoopbackListener::bind("http://127.0.0.1:0/callback").await?;
//! let app = AtprotoClientMetadata::localhost(browser.redirect_uri(), &[Scope::Atproto, Scope::TransitionGeneric])?;
//! let client = AtprotoClient::builder(app).build()?;
//! let session = client.sign_in("alice.bsky.social", &browser).await?;
//! let describe = format!("{}?repo={}", session.xrpc("com.atproto.repo.describeRepo"), session.did());
//! let profile = session.send(reqwest::Client::new().get(describe)).await?;
//! println!("{}", profile.text().await?);
//! # Ok(()) }
//! ```
//!
//! The steps, each with the check the profile makes mandatory: the handle becomes a DID
//! (DNS TXT `_atproto.<handle>`, then `https://<handle>/.well-known/atproto-did`), the DID a
//! document (`did:plc` at the PLC directory, `did:web` at its host) that must claim the
//! handle back, the document's `#atproto_pds` service the PDS, the PDS's protected-resource
//! metadata (RFC 9728) its authorization server, whose metadata must keep the profile (PAR
//! required, DPoP with ES256, client ID metadata documents). After the code exchange the
//! token's `sub` must be the DID resolved at the start and its scope must include `atproto`.
//! Sign-in may also start from a PDS or entryway URL: the `sub` is then resolved and its PDS
//! must be served by the same authorization server.

mod client_metadata;
mod identity;
mod scope;
mod sign_in;

pub use client_metadata::AtprotoClientMetadata;
pub use identity::{
    Did, DidDocument, DidService, DnsTxtResolver, Handle, Identity, IdentityResolver, PLC_DIRECTORY,
};
pub use scope::{AccountAttribute, IdentityAttribute, RepoAction, Scope, scope_string};
pub use sign_in::{AtprotoClient, AtprotoClientBuilder, AtprotoSession, PendingSignIn};

/// Why an AT Protocol sign-in or identity resolution failed. Protocol and transport errors
/// are the core's ([`Request`](Self::Request)); the rest are the profile's own checks.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AtprotoError {
    /// A request failed: transport, the server's refusal, a refused redirect, configuration.
    #[error(transparent)]
    Request(#[from] crate::Error),
    /// Not a handle.
    #[error("`{input}` is not a handle: {reason}")]
    InvalidHandle {
        /// What was given.
        input: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// Not a DID.
    #[error("`{input}` is not a DID: {reason}")]
    InvalidDid {
        /// What was given.
        input: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// Neither DNS nor HTTPS says which DID the handle names.
    #[error("the handle `{handle}` names no DID: {reason}")]
    HandleNotFound {
        /// The handle.
        handle: String,
        /// What each method answered.
        reason: String,
    },
    /// The handle names a DID whose document does not claim the handle back (`alsoKnownAs`):
    /// anyone can point a handle at any DID, so the handle is not the account's.
    #[error("the DID document of {did} does not claim the handle `{handle}`")]
    HandleNotClaimed {
        /// The handle.
        handle: String,
        /// The DID it named.
        did: String,
    },
    /// No DID document could be read.
    #[error("no DID document for {did}: {reason}")]
    DidNotFound {
        /// The DID.
        did: String,
        /// Why.
        reason: String,
    },
    /// The DID document names no PDS (`#atproto_pds` service).
    #[error("the DID document of {did} names no PDS (an `#atproto_pds` service)")]
    NoPds {
        /// The DID.
        did: String,
    },
    /// DNS failed (not: the name has no record).
    #[error("DNS: {0}")]
    Dns(String),
    /// The authorization server does not keep the AT Protocol OAuth profile.
    #[error("the authorization server `{issuer}` does not keep the AT Protocol OAuth profile: {missing}")]
    Profile {
        /// The server's issuer.
        issuer: String,
        /// What it lacks.
        missing: &'static str,
    },
    /// The token is for another account than the one signing in.
    #[error("the token is for {found}, not for {expected}, the account signing in")]
    SubjectMismatch {
        /// The DID resolved at the start.
        expected: String,
        /// The token's `sub`.
        found: String,
    },
    /// The account's PDS is served by another authorization server than the one that issued
    /// the token (sign-in from a server URL).
    #[error(
        "{did} is served by the authorization server `{expected}`, not by `{found}`, which issued the token"
    )]
    IssuerMismatch {
        /// The account.
        did: String,
        /// Its PDS's authorization server.
        expected: String,
        /// The one that issued the token.
        found: String,
    },
    /// The token response lacks what the profile requires (`sub`, `atproto` in `scope`).
    #[error("the token response is not an AT Protocol one: {0}")]
    TokenResponse(String),
    /// The client's metadata breaks a rule of the profile.
    #[error("client metadata: {0}")]
    ClientMetadata(String),
}

impl From<crate::RedirectError> for AtprotoError {
    fn from(error: crate::RedirectError) -> Self {
        AtprotoError::Request(error.into())
    }
}
