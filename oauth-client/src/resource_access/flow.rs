//! One authorization for a resource: discovery, the client the authorization server knows
//! us as, the scope, the grant — ending in a [`Session`] holding the token.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use serde_json::{Map, Value};

use super::grant::{Grant, Renewal, Target};
use super::session::Session;
use super::{Inner, UserAuthorization};
use crate::ClientAuthorization::Configured;
use crate::authorize::AuthorizationRequest;
use crate::challenge::ResourceChallenge;
use crate::client::OAuthClient;
use crate::client_auth::ClientAuth;
use crate::error::{Error, ResourceMetadataError, Setting};
use crate::grants::OAuthAuthorization as _;
use crate::manager::{SharedKind, StoreError, TokenManager};
use crate::metadata::ProviderMetadata;
use crate::protected_resource::{DiscoveredResource, ProtectedResourceMetadata};
use crate::registration::{ClientRegistration, DynamicRegistration as _};
use crate::token::OAuthToken;

/// Authorizes for the resource of `url` after `challenge`. A step-up (`step_up`, the session
/// that was refused for scope) keeps that session's authorization server and client and asks
/// for its scope plus the challenged one.
pub(super) async fn authorize(
    inner: &Inner,
    url: &Url,
    challenge: &ResourceChallenge,
    step_up: Option<&Session>,
) -> Result<Session, Error> {
    let discovered = match step_up {
        Some(session) => session.discovered.clone(),
        None => Arc::new(discover(inner, url, challenge).await?),
    };
    let metadata = &discovered.authorization_server;
    let client = token_client(inner, metadata, client_of(inner, metadata).await?)?;
    let target = Target {
        resource: discovered.resource.resource.clone(),
        issuer: metadata.issuer.clone(),
        scope: requested_scope(
            inner,
            challenge.scope.as_deref(),
            step_up.and_then(|session| session.scope.as_deref()),
            &discovered,
        ),
        http: inner.http.clone(),
    };
    let renewal = Renewal { grant: inner.grant.clone(), target: target.clone() };
    let stored_under = format!("resource-access {} {}", target.issuer, target.resource);
    // A token kept from an earlier run or by another process, unless more scope is wanted.
    if let (Some(store), None) = (&inner.store, step_up) {
        let manager = TokenManager::builder(client.clone(), renewal.clone())
            .store(store.clone(), &stored_under)
            .build();
        match manager.token().await {
            Ok(_) => {
                return Ok(Session { resource: target.resource, discovered, scope: target.scope, manager });
            }
            Err(Error::RefreshUnavailable { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    let token = match &inner.grant {
        Grant::AuthorizationCode(user) => with_user(&**user, &client, &target).await?,
        grant => grant.without_user(&client, &target).await?,
    };
    let mut manager = TokenManager::builder(client, renewal).initial_token(token);
    if let Some(store) = &inner.store {
        manager = manager.store(store.clone(), stored_under);
    }
    Ok(Session { resource: target.resource, discovered, scope: target.scope, manager: manager.build() })
}

/// The resource's metadata and its authorization server's. A resource that publishes no
/// metadata at all is an MCP server of the 2025-03-26 specification: its origin is the
/// authorization server, with metadata at the origin or, failing that, the default endpoints
/// `/authorize`, `/token` and `/register`.
async fn discover(
    inner: &Inner,
    url: &Url,
    challenge: &ResourceChallenge,
) -> Result<DiscoveredResource, Error> {
    let named = challenge.resource_metadata.as_deref();
    match OAuthClient::discover_through(Some(&inner.http), url, named).await {
        Err(Error::ResourceMetadata(ResourceMetadataError::NoResourceMetadata)) => {}
        found => return found,
    }
    let origin = url.origin().ascii_serialization();
    let metadata = match crate::discovery::metadata_from(&inner.http, &origin).await {
        Ok(metadata) => metadata,
        Err(error) if error.status() == Some(reqwest::StatusCode::NOT_FOUND) => default_endpoints(&origin),
        Err(error) => return Err(error),
    };
    let mut resource = url.clone();
    resource.set_query(None);
    resource.set_fragment(None);
    let resource = ProtectedResourceMetadata {
        resource: resource.to_string(),
        authorization_servers: vec![origin],
        scopes_supported: Vec::new(),
        dpop_bound_access_tokens_required: false,
        extra: Map::new(),
    };
    Ok(DiscoveredResource::new(resource, metadata))
}

/// The endpoints the 2025-03-26 MCP specification gives a server without metadata. That
/// specification requires PKCE of every client, so `S256` is taken as supported.
fn default_endpoints(origin: &str) -> ProviderMetadata {
    let mut extra = Map::new();
    extra.insert("registration_endpoint".into(), format!("{origin}/register").into());
    extra.insert("code_challenge_methods_supported".into(), Value::from(vec!["S256"]));
    ProviderMetadata {
        issuer: origin.to_owned(),
        token_endpoint: format!("{origin}/token"),
        authorization_endpoint: Some(format!("{origin}/authorize")),
        device_authorization_endpoint: None,
        revocation_endpoint: None,
        introspection_endpoint: None,
        extra,
    }
}

/// The client `metadata.issuer` knows us as: the one registered there before (in this
/// process, else in the store), a pre-registered one, our Client ID Metadata Document's URL
/// where supported, or a new dynamic registration — else an error naming the server.
async fn client_of(inner: &Inner, metadata: &ProviderMetadata) -> Result<ClientAuth, Error> {
    let issuer = &metadata.issuer;
    let known = inner.registrations.lock().unwrap_or_else(PoisonError::into_inner).get(issuer).cloned();
    if let Some(client) = known {
        return Ok(client);
    }
    let client = match (&inner.pre_registered, &inner.metadata_document) {
        (Some(client), _) => client.clone(),
        (None, Some(document)) if metadata.supports_client_id_metadata_documents() => {
            ClientAuth::none(document)
        }
        (None, _) => match stored_registration(inner, metadata).await? {
            Some(client) => client,
            None if metadata.registration_endpoint().is_some() => register(inner, metadata).await?,
            None => {
                return Err(Error::ResourceMetadata(ResourceMetadataError::NoClientRegistration {
                    issuer: issuer.clone(),
                }));
            }
        },
    };
    inner.registrations.lock().unwrap_or_else(PoisonError::into_inner).insert(issuer.clone(), client.clone());
    Ok(client)
}

/// The client an earlier run, or another process sharing the store, registered with
/// `metadata.issuer` — if it was registered for the redirect URIs we use now (a loopback
/// listener on another port is another client to a server that compares them exactly).
async fn stored_registration(
    inner: &Inner,
    metadata: &ProviderMetadata,
) -> Result<Option<ClientAuth>, Error> {
    let Some(store) = &inner.store else {
        return Ok(None);
    };
    let saved =
        store.load_shared(SharedKind::ClientRegistration, &metadata.issuer).await.map_err(unavailable)?;
    let Some(saved) = saved else {
        return Ok(None);
    };
    // A value this crate did not write (or an older layout) is not an error: register again.
    let Ok(registered) = serde_json::from_str::<ClientRegistration>(&saved) else {
        return Ok(None);
    };
    let ours = completed_metadata(inner);
    let redirects = registered.metadata.redirect_uris.as_deref().unwrap_or_default();
    if !ours.redirect_uris.iter().flatten().all(|uri| redirects.contains(uri)) {
        return Ok(None);
    }
    client_auth_of(&registered, metadata).map(Some)
}

/// The store failed: the caller learns it rather than a client being registered twice.
fn unavailable(error: StoreError) -> Error {
    Error::StoreUnavailable { message: error.to_string() }
}

/// How long a registration is worth keeping: until its secret expires (RFC 7591 §3.2.1,
/// `client_secret_expires_at`, 0 for never), and at most a year, after which registering
/// again costs one request.
fn registration_lifetime(registered: &ClientRegistration) -> Duration {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    match registered.client_secret_expires_at {
        Some(expires) if expires > 0 => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            Duration::from_secs(u64::try_from(expires).unwrap_or(0).saturating_sub(now)).min(YEAR)
        }
        _ => YEAR,
    }
}

/// Registers with `metadata`'s registration endpoint (RFC 7591): our metadata, completed
/// from the grant.
async fn register(inner: &Inner, metadata: &ProviderMetadata) -> Result<ClientAuth, Error> {
    let registrar = OAuthClient::builder(&metadata.token_endpoint)
        .with_metadata(metadata)
        .http_client(inner.http.clone())
        .build()?;
    let ours = completed_metadata(inner);
    let mut registered = registrar.register_client(None, &ours).await?;
    let client = client_auth_of(&registered, metadata)?;
    // Servers should echo the metadata registered (RFC 7591 §3.2.1); many answer with the
    // identifier alone. What we registered for is what a later run compares against.
    registered.metadata.redirect_uris = registered.metadata.redirect_uris.or(ours.redirect_uris);
    if let Some(store) = &inner.store {
        let saved = serde_json::to_string(&registered).map_err(|error| {
            Error::config(Setting::Registration, format!("the registration could not be kept: {error}"))
        })?;
        store
            .save_shared(
                SharedKind::ClientRegistration,
                &metadata.issuer,
                &saved,
                registration_lifetime(&registered),
            )
            .await
            .map_err(unavailable)?;
    }
    Ok(client)
}

/// Our client metadata with what the grant implies filled in where left empty: redirect
/// URI, grant and response types, and the application type (SEP-837: `native` for loopback
/// and private-scheme redirects, `web` otherwise).
pub(super) fn completed_metadata(inner: &Inner) -> crate::registration::ClientMetadata {
    let mut ours = inner.metadata.clone();
    let user = match &inner.grant {
        Grant::AuthorizationCode(user) => Some(user),
        _ => None,
    };
    if ours.redirect_uris.is_none() {
        ours.redirect_uris = Some(user.map(|user| vec![user.redirect_uri().to_owned()]).unwrap_or_default());
    }
    if ours.grant_types.is_none() {
        ours.grant_types = Some(inner.grant.grant_types());
    }
    if ours.response_types.is_none() {
        ours.response_types = Some(if user.is_some() { vec!["code".to_owned()] } else { Vec::new() });
    }
    if !ours.extra.contains_key("application_type") {
        let redirects = ours.redirect_uris.as_deref().unwrap_or_default();
        let web = !redirects.is_empty() && redirects.iter().all(|uri| is_web_redirect(uri));
        ours.extra.insert("application_type".into(), if web { "web" } else { "native" }.into());
    }
    ours
}

/// A redirect URI a web server receives (https on a public host), as opposed to a native
/// app's loopback or private-scheme one (RFC 8252 §7).
fn is_web_redirect(uri: &str) -> bool {
    Url::parse(uri).is_ok_and(|url| {
        url.scheme() == "https" && !matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
    })
}

/// How to authenticate as the client just registered: as the server registered it, or —
/// when it did not say — `client_secret_basic` for a client with a secret (RFC 7591 §2's
/// default) unless the server only takes `client_secret_post`.
fn client_auth_of(registered: &ClientRegistration, metadata: &ProviderMetadata) -> Result<ClientAuth, Error> {
    let id = registered.client_id.clone();
    let method = registered.metadata.token_endpoint_auth_method.as_deref();
    let Some(secret) = registered.client_secret.clone() else {
        return Ok(ClientAuth::none(id));
    };
    let supported = metadata.token_endpoint_auth_methods();
    let post_only = !supported.is_empty() && !supported.iter().any(|method| method == "client_secret_basic");
    match method {
        Some("none") => Ok(ClientAuth::none(id)),
        Some("client_secret_post") => Ok(ClientAuth::client_secret_post(id, secret)),
        None if post_only => Ok(ClientAuth::client_secret_post(id, secret)),
        Some("client_secret_basic") | None => Ok(ClientAuth::client_secret_basic(id, secret)),
        Some(other) => Err(Error::config(
            Setting::Registration,
            format!(
                "the authorization server `{}` registered the client for `{other}`, which needs a key this client \
                 was not given; pre-register the client with that method instead",
                metadata.issuer
            ),
        )),
    }
}

/// The scope to ask for: what was asked before and what the challenge asks (a step-up asks
/// for both, SEP-2350); else the resource's `scopes_supported`; else none. `offline_access`
/// is added for the authorization code grant where the server lists it (SEP-2207), and
/// never where it does not.
fn requested_scope(
    inner: &Inner,
    challenged: Option<&str>,
    previous: Option<&str>,
    discovered: &DiscoveredResource,
) -> Option<String> {
    let mut scopes: Vec<&str> = Vec::new();
    let supported = discovered.resource.scopes_supported.iter().map(String::as_str);
    let from_resource: Vec<&str> = match (challenged, previous) {
        (Some(challenged), _) => challenged.split_whitespace().collect(),
        (None, None) => supported.collect(),
        (None, Some(_)) => Vec::new(),
    };
    for scope in previous.into_iter().flat_map(str::split_whitespace).chain(from_resource) {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    let interactive = matches!(inner.grant, Grant::AuthorizationCode(_));
    let server_scopes = discovered.authorization_server.scopes_supported();
    let offline = server_scopes.iter().any(|scope| scope == "offline_access");
    if inner.offline_access && interactive && offline && !scopes.contains(&"offline_access") {
        scopes.push("offline_access");
    }
    (!scopes.is_empty()).then(|| scopes.join(" "))
}

/// The client for the token endpoint: authenticated as `client`, DPoP-bound where the
/// server supports DPoP (feature `dpop`).
fn token_client(
    inner: &Inner,
    metadata: &ProviderMetadata,
    client: ClientAuth,
) -> Result<OAuthClient, Error> {
    let builder = OAuthClient::builder(&metadata.token_endpoint)
        .with_metadata(metadata)
        .client_auth(client)
        .http_client(inner.http.clone());
    #[cfg(feature = "dpop")]
    let builder = if metadata.dpop_signing_algorithms().is_empty() {
        builder
    } else {
        let mut key = inner.dpop_key.lock().unwrap_or_else(PoisonError::into_inner);
        let key = match &*key {
            Some(key) => key.clone(),
            None => key.insert(crate::dpop::DpopKey::generate()?).clone(),
        };
        builder.dpop(key)
    };
    builder.build()
}

/// The authorization code grant: PKCE `S256` (refused without the server's support),
/// `resource`, `state`, the issuer checked on the redirect (RFC 9207), through the user.
async fn with_user(
    user: &dyn UserAuthorization,
    client: &OAuthClient,
    target: &Target,
) -> Result<OAuthToken, Error> {
    let no_metadata = || Error::config(Setting::Endpoint, "the authorization server's metadata is missing");
    let metadata = client.provider_metadata().ok_or_else(no_metadata)?;
    if !metadata.supports_pkce_s256() {
        return Err(Error::ResourceMetadata(ResourceMetadataError::PkceNotSupported {
            issuer: metadata.issuer.clone(),
        }));
    }
    let client_id = client.client_auth().and_then(ClientAuth::client_id).unwrap_or_default().to_owned();
    let mut request = AuthorizationRequest::for_client(client, client_id)?
        .redirect_uri(user.redirect_uri())
        .resource(&target.resource);
    if let Some(scope) = &target.scope {
        request = request.scope(scope);
    }
    let pending = if metadata.requires_pushed_authorization_requests() {
        request.push(client).await?
    } else {
        request.build()?
    };
    let redirected = user.authorize(pending.url()).await?;
    let code = pending.code_from_redirect(&redirected)?;
    client.request_token_acg(Configured, &code, user.redirect_uri(), Some(&pending.token_params())).await
}
