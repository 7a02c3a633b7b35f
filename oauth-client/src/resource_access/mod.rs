//! Resource-first authorization: from a protected resource's URL to an authorized request
//! in one call ([`ResourceAccess::send`]), for any resource that describes itself with
//! RFC 9728 metadata — MCP servers first among them.
//!
//! The client knows only the resource's URL. When the resource answers 401, [`ResourceAccess`]
//! reads the challenge (`resource_metadata`, `scope`), fetches the resource's metadata (the
//! challenge's URL, then the well-known locations) and checks that it is about the URL
//! asked, finds the authorization server's metadata (RFC 8414 or OpenID Connect discovery,
//! in the MCP order) and checks its `issuer`, becomes a client of it (a pre-registered
//! client, a Client ID Metadata Document, or dynamic registration — in that order), gets a
//! token with the grant you chose, and sends the request again with it. A 403
//! `insufficient_scope` re-authorizes for the union of the scopes asked before and the ones
//! challenged, a bounded number of times. Tokens and registrations belong to the
//! authorization server that issued them: when the resource names another one, the client
//! registers there anew and never sends it the old server's credentials.
//!
//! The grants: the authorization code grant with PKCE `S256`, `resource`, `state` and a strict
//! `iss` check (RFC 9207) through a [`UserAuthorization`] of yours or the ready
//! [`LoopbackListener`]; client credentials; the JWT bearer grant with an assertion from your
//! platform (workload identity); and enterprise-managed authorization (an identity assertion
//! grant obtained by token exchange at your identity provider). With the `dpop` feature,
//! tokens are DPoP-bound whenever the authorization server supports it.
//!
//! ```no_run
//! # async fn run(config_dir: std::path::PathBuf) -> Result<(), Box<dyn std::error::Error>> {
//! # let list_tools = r#"{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}"#;
//! use std::sync::Arc;
//! use oauth_client::manager::FileStore;
//! use oauth_client::registration::ClientMetadata;
//! use oauth_client::resource_access::{LoopbackListener, ResourceAccess};
//!
//! let browser = LoopbackListener::bind("http://127.0.0.1:8976/callback").await?; // prints the URL to open
//! let access = ResourceAccess::builder(ClientMetadata::named("My agent"))
//!     .authorization_code(browser)                                     // PKCE S256, resource, state, iss
//!     .store(Arc::new(FileStore::open(config_dir.join("oauth"))?))    // the next run starts signed in
//!     .build()?;
//! let http = reqwest::Client::new();
//! let tools = access.send(http.post("https://mcp.example.com/mcp").body(list_tools)).await?;
//! # let _ = tools;
//! # Ok(()) }
//! ```
//!
//! A fixed loopback port keeps the redirect URI, and so a dynamically registered client, the
//! same from one run to the next; with port 0 each run registers anew.

mod flow;
mod grant;
mod interaction;
mod session;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::StatusCode;

pub use grant::{AssertionSource, IdentityAssertion};
pub use interaction::{LoopbackListener, UserAuthorization};

use crate::challenge::ResourceChallenge;
use crate::client_auth::ClientAuth;
use crate::error::Error;
use crate::manager::TokenStore;
use crate::registration::ClientMetadata;
use grant::Grant;
use session::{Outcome, Session};

/// Sends requests to protected resources, getting and renewing the tokens they ask for.
/// Cheap to clone; clones share tokens and registrations. See the [module](self) docs.
#[derive(Clone)]
pub struct ResourceAccess {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    metadata: ClientMetadata,
    metadata_document: Option<String>,
    pre_registered: Option<ClientAuth>,
    grant: Grant,
    max_authorizations: u32,
    offline_access: bool,
    /// The client each authorization server knows us as, by issuer.
    registrations: Mutex<HashMap<String, ClientAuth>>,
    /// Where tokens and dynamic registrations outlive this process, if anywhere.
    store: Option<Arc<dyn TokenStore>>,
    /// The resources authorized so far, each with its authorization server and token.
    sessions: Mutex<Vec<Arc<Session>>>,
    #[cfg(feature = "dpop")]
    dpop_key: Mutex<Option<crate::dpop::DpopKey>>,
}

impl core::fmt::Debug for ResourceAccess {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let inner = &self.inner;
        f.debug_struct("ResourceAccess")
            .field("grant", &inner.grant)
            .field("metadata_document", &inner.metadata_document)
            .field("pre_registered", &inner.pre_registered)
            .field("max_authorizations", &inner.max_authorizations)
            .finish_non_exhaustive()
    }
}

/// Configures a [`ResourceAccess`]: which grant, and how to become a client of authorization
/// servers met on the way.
#[must_use]
pub struct ResourceAccessBuilder {
    http: Option<reqwest::Client>,
    metadata: ClientMetadata,
    metadata_document: Option<String>,
    pre_registered: Option<ClientAuth>,
    registrations: HashMap<String, ClientAuth>,
    grant: Option<Grant>,
    max_authorizations: u32,
    offline_access: bool,
    store: Option<Arc<dyn TokenStore>>,
    #[cfg(feature = "dpop")]
    dpop_key: Option<crate::dpop::DpopKey>,
}

impl ResourceAccess {
    /// Starts the configuration. `metadata` describes the client to authorization servers
    /// that register clients dynamically (RFC 7591) and is the content of its Client ID
    /// Metadata Document; its `redirect_uris`, `grant_types`, `response_types` and
    /// `application_type` are filled in from the grant when left empty.
    pub fn builder(metadata: ClientMetadata) -> ResourceAccessBuilder {
        ResourceAccessBuilder {
            http: None,
            metadata,
            metadata_document: None,
            pre_registered: None,
            registrations: HashMap::new(),
            grant: None,
            max_authorizations: 3,
            offline_access: true,
            store: None,
            #[cfg(feature = "dpop")]
            dpop_key: None,
        }
    }

    /// Sends `request`, authorized for its resource: with the token already held for it, or
    /// — when the resource answers 401 or 403 `insufficient_scope` — with one obtained as the
    /// [module](self) docs describe, then sent again. The request's body must be copyable
    /// (not a stream), since it may be sent more than once.
    ///
    /// Returns the resource's response (a 401 too, once the authorization limit is
    /// reached), or the error that stopped the flow: a resource whose metadata is about
    /// another URL, an authorization server without PKCE or with a mismatched issuer, a
    /// redirect that fails the `state` or `iss` check, the provider's refusal, or
    /// [`Error::InsufficientScope`] (with the challenge's `resource_metadata`) when more scope
    /// was asked for than the limit of authorizations could obtain.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
        let (http, request) = request.build_split();
        let request = request.map_err(|error| Error::InvalidResourceRequest(error.to_string()))?;
        let url = request.url().clone();
        let mut session = self.session_for(&url);
        let mut authorizations = 0;
        loop {
            let outcome = match &session {
                Some(session) => session.send(&http, &request).await?,
                None => {
                    let response = http.execute(session::copy(&request)?).await.map_err(Error::transport)?;
                    Outcome::from_unauthorized(response)
                }
            };
            let (challenge, step_up) = match outcome {
                Outcome::Done(response) => return Ok(response),
                Outcome::Refused(response, _) if authorizations >= self.inner.max_authorizations => {
                    return Ok(response);
                }
                Outcome::Refused(_, challenge) => (challenge, None),
                Outcome::TokenGone(error, _) if authorizations >= self.inner.max_authorizations => {
                    return Err(error);
                }
                Outcome::TokenGone(_, challenge) => (challenge, None),
                Outcome::MoreScope(error, _) if authorizations >= self.inner.max_authorizations => {
                    return Err(error);
                }
                Outcome::MoreScope(_, challenge) => (challenge, session.clone()),
            };
            authorizations += 1;
            let authorized = self.authorize(&url, &challenge, step_up.as_deref()).await?;
            session = Some(authorized);
        }
    }

    /// The session whose resource `url` belongs to, if any was authorized.
    fn session_for(&self, url: &reqwest::Url) -> Option<Arc<Session>> {
        let sessions = self.inner.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.iter().find(|session| session.covers(url)).cloned()
    }

    /// Authorizes for the resource of `url` after `challenge`: a new session, which
    /// replaces the one for that resource. A step-up keeps the session's authorization
    /// server and adds its scope.
    async fn authorize(
        &self,
        url: &reqwest::Url,
        challenge: &ResourceChallenge,
        step_up: Option<&Session>,
    ) -> Result<Arc<Session>, Error> {
        let session = Arc::new(flow::authorize(&self.inner, url, challenge, step_up).await?);
        let mut sessions = self.inner.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|held| held.resource() != session.resource());
        sessions.push(session.clone());
        Ok(session)
    }
}

impl ResourceAccessBuilder {
    /// The authorization code grant: the user signs in through `user` (a browser opened by
    /// your app, or the [`LoopbackListener`]), whose redirect URI is registered.
    pub fn authorization_code(mut self, user: impl UserAuthorization) -> Self {
        self.grant = Some(Grant::AuthorizationCode(Arc::new(user)));
        self
    }

    /// The client credentials grant (RFC 6749 §4.4): a machine client, authenticated as
    /// [`pre_registered`](Self::pre_registered) says (a secret, or `private_key_jwt`).
    pub fn client_credentials(mut self) -> Self {
        self.grant = Some(Grant::ClientCredentials);
        self
    }

    /// The JWT bearer grant (RFC 7523 §2.1) with an assertion from `assertions` — a workload
    /// identity token from your platform, read fresh for every token request. A refused
    /// assertion is not retried.
    pub fn jwt_bearer(mut self, assertions: impl AssertionSource) -> Self {
        self.grant = Some(Grant::JwtBearer(Arc::new(assertions)));
        self
    }

    /// Enterprise-managed authorization: an identity assertion grant (ID-JAG) obtained from
    /// your identity provider by token exchange (RFC 8693) for the authorization server and
    /// resource at hand, then redeemed there with the JWT bearer grant.
    pub fn identity_assertion(mut self, assertion: IdentityAssertion) -> Self {
        self.grant = Some(Grant::IdentityAssertion(Arc::new(assertion)));
        self
    }

    /// The client every authorization server knows this app as (credentials handed out
    /// beforehand). Prefer [`pre_registered_for`](Self::pre_registered_for), which names the
    /// server: this one is used with whichever server a resource names.
    pub fn pre_registered(mut self, client: ClientAuth) -> Self {
        self.pre_registered = Some(client);
        self
    }

    /// The client the authorization server `issuer` knows this app as.
    pub fn pre_registered_for(mut self, issuer: impl Into<String>, client: ClientAuth) -> Self {
        self.registrations.insert(issuer.into(), client);
        self
    }

    /// The HTTPS URL where this client's metadata document is served (its `client_id` at
    /// servers that support Client ID Metadata Documents). Serve
    /// [`ClientMetadata::metadata_document`] there.
    pub fn client_id_metadata_document(mut self, url: impl Into<String>) -> Self {
        self.metadata_document = Some(url.into());
        self
    }

    /// The HTTP client for discovery, registration and token requests (proxies, roots,
    /// timeouts). The resource requests go with the `reqwest::Client` of each request.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// How many times one [`send`](ResourceAccess::send) may authorize (the first time, then
    /// each step-up or re-authorization). Default 3, so a resource that keeps asking for a
    /// scope it never gets cannot loop.
    pub fn max_authorizations(mut self, max: u32) -> Self {
        self.max_authorizations = max;
        self
    }

    /// Whether the authorization code grant asks for `offline_access` (a refresh token) from
    /// servers that list it in `scopes_supported`. Default: yes.
    pub fn offline_access(mut self, ask: bool) -> Self {
        self.offline_access = ask;
        self
    }

    /// Keeps tokens, and clients registered dynamically, in `store` — a
    /// [`FileStore`](crate::manager::FileStore) for a CLI or a desktop agent, the Redis store
    /// for a fleet — by authorization server (its issuer) and resource: the next run, and
    /// every process sharing the store, starts authorized, and refreshes without replaying a
    /// rotated refresh token. A DPoP-bound token needs the same key in every process: give
    /// it with `dpop_key`.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The key DPoP-bound tokens are bound to, for servers that support DPoP (RFC 9449).
    /// Default: an ES256 key generated when first needed.
    #[cfg(feature = "dpop")]
    pub fn dpop_key(mut self, key: crate::dpop::DpopKey) -> Self {
        self.dpop_key = Some(key);
        self
    }

    /// Builds it; errors if no grant was chosen, or a Client ID Metadata Document URL is not
    /// an `https` URL with a path.
    pub fn build(self) -> Result<ResourceAccess, Error> {
        let grant = self.grant.ok_or_else(|| {
            Error::config(
                crate::error::Setting::Custom,
                "choose a grant: `authorization_code`, `client_credentials`, `jwt_bearer` or `identity_assertion`",
            )
        })?;
        if let Some(url) = &self.metadata_document {
            crate::registration::check_metadata_document_url(url)?;
        }
        let http = match self.http {
            Some(http) => http,
            None => crate::http_client::for_documents(None)?.into_owned(),
        };
        Ok(ResourceAccess {
            inner: Arc::new(Inner {
                http,
                metadata: self.metadata,
                metadata_document: self.metadata_document,
                pre_registered: self.pre_registered,
                grant,
                max_authorizations: self.max_authorizations,
                offline_access: self.offline_access,
                registrations: Mutex::new(self.registrations),
                store: self.store,
                sessions: Mutex::new(Vec::new()),
                #[cfg(feature = "dpop")]
                dpop_key: Mutex::new(self.dpop_key),
            }),
        })
    }
}

/// Whether a response refuses the request for want of authorization.
fn is_refusal(status: StatusCode) -> bool {
    status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN
}
