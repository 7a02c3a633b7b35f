//! Sign-in and sessions: from a handle (or a server URL) to a DPoP-bound session on the
//! account's PDS, kept by DID in the token store.

use std::fmt;
use std::sync::Arc;

use super::AtprotoError;
use super::client_metadata::AtprotoClientMetadata;
use super::identity::{Did, Handle, Identity, IdentityResolver};
use crate::ClientAuthorization::Configured;
use crate::authorize::PendingAuthorization;
use crate::client::OAuthClient;
use crate::dpop::DpopKey;
use crate::error::Error;
use crate::extensions::TokenRevocation as _;
use crate::grants::OAuthAuthorization as _;
use crate::manager::{AuthorizationCode, TokenManager, TokenStore};
use crate::metadata::ProviderMetadata;
use crate::resource_access::UserAuthorization;
use crate::token::OAuthToken;

/// An AT Protocol app's OAuth client: signs users in by handle and restores their sessions.
/// Cheap to clone; build one per app.
#[derive(Clone)]
pub struct AtprotoClient {
    inner: Arc<Inner>,
}

struct Inner {
    metadata: AtprotoClientMetadata,
    identity: IdentityResolver,
    /// The caller's client, which the OAuth requests go through too.
    http: Option<reqwest::Client>,
    /// The caller's client, else this client's own, for metadata documents.
    documents: reqwest::Client,
    dpop_key: DpopKey,
    store: Option<Arc<dyn TokenStore>>,
}

impl fmt::Debug for AtprotoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtprotoClient")
            .field("client_id", &self.inner.metadata.client_id())
            .finish_non_exhaustive()
    }
}

/// Builds an [`AtprotoClient`].
#[must_use]
pub struct AtprotoClientBuilder {
    metadata: AtprotoClientMetadata,
    identity: Option<IdentityResolver>,
    http: Option<reqwest::Client>,
    dpop_key: Option<DpopKey>,
    store: Option<Arc<dyn TokenStore>>,
}

impl AtprotoClient {
    /// A client with `metadata`; resolution with the system's DNS and the public PLC
    /// directory, a new DPoP key, sessions in this process only, until set otherwise.
    pub fn builder(metadata: AtprotoClientMetadata) -> AtprotoClientBuilder {
        AtprotoClientBuilder { metadata, identity: None, http: None, dpop_key: None, store: None }
    }

    /// The first half of a sign-in, for apps whose redirect arrives elsewhere (a web app's
    /// callback): resolves `identifier` — a handle, a DID, or a PDS or entryway URL — finds
    /// its authorization server, checks its metadata against the profile, and pushes the
    /// authorization request (PAR, PKCE, DPoP, `login_hint`). Send the user to
    /// [`PendingSignIn::url`]; give the redirect to [`finish`](Self::finish).
    pub async fn start(&self, identifier: &str) -> Result<PendingSignIn, AtprotoError> {
        let inner = &self.inner;
        let redirect_uri = inner.metadata.redirect_uri().to_owned();
        self.start_for(identifier, redirect_uri).await
    }

    async fn start_for(&self, identifier: &str, redirect_uri: String) -> Result<PendingSignIn, AtprotoError> {
        let inner = &self.inner;
        let by_url = identifier.starts_with("https://") || identifier.starts_with("http://");
        let (server, identity) = if by_url {
            (identifier.to_owned(), None)
        } else {
            let identity = inner.identity.resolve(identifier).await?;
            (identity.pds.clone(), Some(identity))
        };
        let metadata = self.authorization_server(&server, by_url).await?;
        let client = self.token_client(&metadata)?;
        let mut request =
            crate::authorize::AuthorizationRequest::for_client(&client, inner.metadata.client_id())?
                .redirect_uri(&redirect_uri)
                .scope(inner.metadata.scope());
        if !by_url {
            request = request.param("login_hint", identifier);
        }
        let pending = request.push(&client).await?;
        Ok(PendingSignIn { pending, client, identity, redirect_uri })
    }

    /// The second half: redeems the code of `redirect` (checking `state` and `iss`), checks
    /// the token (`sub` the account that signed in, `atproto` in its scope), and starts the
    /// session, saved by DID in the store.
    pub async fn finish(
        &self,
        sign_in: PendingSignIn,
        redirect: &str,
    ) -> Result<AtprotoSession, AtprotoError> {
        let PendingSignIn { pending, client, identity, redirect_uri } = sign_in;
        let code = pending.code_from_redirect(redirect)?;
        let token =
            client.request_token_acg(Configured, &code, &redirect_uri, Some(&pending.token_params())).await?;
        let issuer = client.issuer().unwrap_or_default().to_owned();
        let subject = token.extra.get("sub").and_then(serde_json::Value::as_str).ok_or_else(|| {
            AtprotoError::TokenResponse(
                "no `sub`: the authorization server did not say whose token it is".to_owned(),
            )
        })?;
        let subject = Did::parse(subject)?;
        let scope = token.scope.as_deref().unwrap_or_default();
        if !scope.split(' ').any(|scope| scope == "atproto") {
            return Err(AtprotoError::TokenResponse(format!("the scope `{scope}` lacks `atproto`")));
        }
        let identity = match identity {
            Some(identity) if identity.did == subject => identity,
            Some(identity) => {
                return Err(AtprotoError::SubjectMismatch {
                    expected: identity.did.to_string(),
                    found: subject.to_string(),
                });
            }
            None => {
                // Signed in at a server: the account it names must be one this server serves.
                let identity = self.inner.identity.resolve(subject.as_str()).await?;
                let serving = self.authorization_server(&identity.pds, false).await?;
                if serving.issuer != issuer {
                    return Err(AtprotoError::IssuerMismatch {
                        did: subject.to_string(),
                        expected: serving.issuer,
                        found: issuer,
                    });
                }
                identity
            }
        };
        let session = self.session(identity, issuer, client, Some(token));
        // Kept in the store now, not at the first request: another process, or this app's
        // next run, restores it even if this one never makes one.
        session.tokens.token().await?;
        Ok(session)
    }

    /// Signs `identifier` (a handle, a DID, or a PDS or entryway URL) in through `user` — a
    /// [`LoopbackListener`](crate::resource_access::LoopbackListener) for a CLI or desktop
    /// app — whose redirect URI must be one of the client's.
    pub async fn sign_in(
        &self,
        identifier: &str,
        user: &dyn UserAuthorization,
    ) -> Result<AtprotoSession, AtprotoError> {
        let pending = self.start_for(identifier, user.redirect_uri().to_owned()).await?;
        let redirect = user.authorize(pending.url()).await?;
        self.finish(pending, &redirect).await
    }

    /// The session of `did` kept in the store (by an earlier run, or another process), if
    /// any: the DID is resolved again, so a PDS that moved is followed.
    pub async fn restore(&self, did: &Did) -> Result<Option<AtprotoSession>, AtprotoError> {
        let Some(store) = &self.inner.store else {
            return Ok(None);
        };
        let snapshot = store
            .load(&session_key(did))
            .await
            .map_err(|error| Error::StoreUnavailable { message: error.to_string() })?;
        if snapshot.token.is_none() {
            return Ok(None);
        }
        let identity = self.inner.identity.resolve(did.as_str()).await?;
        let metadata = self.authorization_server(&identity.pds, false).await?;
        let client = self.token_client(&metadata)?;
        Ok(Some(self.session(identity, metadata.issuer, client, None)))
    }

    fn session(
        &self,
        identity: Identity,
        issuer: String,
        client: OAuthClient,
        token: Option<OAuthToken>,
    ) -> AtprotoSession {
        let mut tokens = TokenManager::builder(client.clone(), AuthorizationCode::new());
        if let Some(token) = token {
            tokens = tokens.initial_token(token);
        }
        if let Some(store) = &self.inner.store {
            tokens = tokens.store(Arc::clone(store), session_key(&identity.did));
        }
        AtprotoSession { identity, issuer, client, tokens: tokens.build(), store: self.inner.store.clone() }
    }

    /// The authorization server of `server`: named by its protected-resource metadata
    /// (RFC 9728), or — for an entryway URL — the server itself; its metadata must keep the
    /// profile.
    async fn authorization_server(
        &self,
        server: &str,
        may_be_itself: bool,
    ) -> Result<ProviderMetadata, AtprotoError> {
        let http = &self.inner.documents;
        let metadata = match OAuthClient::discover_resource_with(http, server).await {
            Ok(found) => found.authorization_server,
            // An entryway is an authorization server with no protected-resource metadata.
            Err(error) if may_be_itself && error.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
                crate::discovery::metadata_from(http, server.trim_end_matches('/')).await?
            }
            Err(error) => return Err(error.into()),
        };
        check_profile(&metadata)?;
        Ok(metadata)
    }

    fn token_client(&self, metadata: &ProviderMetadata) -> Result<OAuthClient, AtprotoError> {
        let mut builder = OAuthClient::builder(&metadata.token_endpoint)
            .with_metadata(metadata)
            .client_auth(self.inner.metadata.client_auth())
            .dpop(self.inner.dpop_key.clone());
        if let Some(http) = &self.inner.http {
            builder = builder.http_client(http.clone());
        }
        Ok(builder.build()?)
    }
}

/// The store key of a DID's session.
fn session_key(did: &Did) -> String {
    format!("atproto-session {did}")
}

/// What the AT Protocol OAuth profile requires of an authorization server's metadata.
fn check_profile(metadata: &ProviderMetadata) -> Result<(), AtprotoError> {
    let missing = if !metadata.requires_pushed_authorization_requests() {
        Some("pushed authorization requests are not required (require_pushed_authorization_requests)")
    } else if !metadata.dpop_signing_algorithms().iter().any(|alg| alg == "ES256") {
        Some("no DPoP with ES256 (dpop_signing_alg_values_supported)")
    } else if !metadata.supports_pkce_s256() {
        Some("no PKCE S256 (code_challenge_methods_supported)")
    } else if !metadata.sends_issuer_in_authorization_response() {
        Some("no `iss` in the authorization response (authorization_response_iss_parameter_supported)")
    } else if !metadata.supports_client_id_metadata_documents() {
        Some("no client ID metadata documents (client_id_metadata_document_supported)")
    } else if !metadata.scopes_supported().iter().any(|scope| scope == "atproto") {
        Some("no `atproto` scope (scopes_supported)")
    } else {
        None
    };
    match missing {
        Some(missing) => Err(AtprotoError::Profile { issuer: metadata.issuer.clone(), missing }),
        None => Ok(()),
    }
}

impl AtprotoClientBuilder {
    /// How handles and DIDs are resolved (another PLC directory, another DNS resolver).
    pub fn identity(mut self, resolver: IdentityResolver) -> Self {
        self.identity = Some(resolver);
        self
    }

    /// The HTTP client for the metadata documents and the OAuth requests.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The key sessions are DPoP-bound to. Processes that share sessions through a store
    /// need the same key ([`DpopKey::from_pkcs8_pem`]). Default: a new ES256 key.
    pub fn dpop_key(mut self, key: DpopKey) -> Self {
        self.dpop_key = Some(key);
        self
    }

    /// Keeps sessions in `store` by DID: the Redis store for a fleet, a
    /// [`FileStore`](crate::manager::FileStore) for a CLI. A refresh token is single-use
    /// here: the store's lock and compare-and-set let one process refresh and the others
    /// take its result.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<AtprotoClient, AtprotoError> {
        let dpop_key = match self.dpop_key {
            Some(key) => key,
            None => DpopKey::generate()?,
        };
        let documents = crate::http_client::for_documents(self.http.as_ref())?.into_owned();
        // Resolution fetches with the same client as discovery unless a resolver was given.
        let identity =
            self.identity.unwrap_or_else(|| IdentityResolver::new().http_client(documents.clone()));
        Ok(AtprotoClient {
            inner: Arc::new(Inner {
                metadata: self.metadata,
                identity,
                documents,
                http: self.http,
                dpop_key,
                store: self.store,
            }),
        })
    }
}

/// A sign-in between [`AtprotoClient::start`] and [`AtprotoClient::finish`]. It holds the
/// PKCE verifier: keep it server-side, never in the browser.
pub struct PendingSignIn {
    pending: PendingAuthorization,
    client: OAuthClient,
    identity: Option<Identity>,
    redirect_uri: String,
}

impl fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingSignIn").field("url", self.pending.url()).finish_non_exhaustive()
    }
}

impl PendingSignIn {
    /// Where to send the user.
    pub fn url(&self) -> &reqwest::Url {
        self.pending.url()
    }

    /// The DID signing in, when sign-in started from a handle or DID.
    pub fn did(&self) -> Option<&Did> {
        self.identity.as_ref().map(|identity| &identity.did)
    }
}

/// A signed-in account: XRPC requests to its PDS with a DPoP-bound token that refreshes
/// itself (once for the whole fleet when the store is shared).
#[derive(Clone)]
pub struct AtprotoSession {
    identity: Identity,
    issuer: String,
    client: OAuthClient,
    tokens: TokenManager,
    store: Option<Arc<dyn TokenStore>>,
}

impl fmt::Debug for AtprotoSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtprotoSession")
            .field("did", &self.identity.did)
            .field("pds", &self.identity.pds)
            .finish_non_exhaustive()
    }
}

impl AtprotoSession {
    /// The account's DID.
    pub fn did(&self) -> &Did {
        &self.identity.did
    }

    /// The account's handle, when verified both ways.
    pub fn handle(&self) -> Option<&Handle> {
        self.identity.handle.as_ref()
    }

    /// The account's PDS.
    pub fn pds(&self) -> &str {
        &self.identity.pds
    }

    /// The authorization server that issued the session.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The URL of an XRPC method on the PDS: `<pds>/xrpc/<nsid>`.
    pub fn xrpc(&self, method: &str) -> String {
        format!("{}/xrpc/{method}", self.identity.pds.trim_end_matches('/'))
    }

    /// Sends `request` (to the PDS) with the session's token and a DPoP proof, answering the
    /// PDS's nonce challenge and a refused token once, as [`TokenManager::send`] does.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
        self.tokens.send(request).await
    }

    /// The session's token manager, for middleware or the tower layer.
    pub fn token_manager(&self) -> &TokenManager {
        &self.tokens
    }

    /// Signs out: revokes the refresh token (with a DPoP proof) at the authorization server,
    /// which ends the session there, and removes it from the store.
    pub async fn sign_out(self) -> Result<(), AtprotoError> {
        let token = self.tokens.token().await?;
        let (secret, hint) = match &token.refresh_token {
            Some(refresh) => (refresh.secret(), "refresh_token"),
            None => (token.access_token.secret(), "access_token"),
        };
        self.client.revoke_token(Configured, secret, Some(hint), None).await?;
        if let Some(store) = &self.store {
            store
                .remove(&session_key(&self.identity.did))
                .await
                .map_err(|error| Error::StoreUnavailable { message: error.to_string() })?;
        }
        Ok(())
    }
}
