//! The client the official MCP conformance suite (`@modelcontextprotocol/conformance`) drives
//! in its authorization scenarios: `mcp_conformance <server URL>`, with the scenario in
//! `MCP_CONFORMANCE_SCENARIO`, its credentials in `MCP_CONFORMANCE_CONTEXT` and the protocol
//! version in `MCP_CONFORMANCE_PROTOCOL_VERSION`. `tests/mcp-conformance/run.sh` runs the
//! suite with it.
//!
//! Its authorization is [`authorization`]: one `ResourceAccess`, the rest is oauth-client's.
//! The MCP part (JSON-RPC over streamable HTTP: initialize or the stateless `_meta`, then
//! `tools/list` and `tools/call`) is the few dozen lines below it. The suite's mock
//! authorization servers approve at once, so the "user" is [`Approve`], which reads the
//! authorization endpoint's redirect instead of opening a browser.

use std::process::ExitCode;

use oauth_client::extensions::SigningKey;
use oauth_client::manager::BoxFuture;
use oauth_client::registration::ClientMetadata;
use oauth_client::resource_access::{IdentityAssertion, ResourceAccess, UserAuthorization};
use oauth_client::{AccessToken, ClientAuth, Error};
use serde_json::{Value, json};

/// The suite's Client ID Metadata Document URL (it does not fetch it).
const METADATA_DOCUMENT: &str = "https://conformance-test.local/client-metadata.json";

/// The whole authorization: the grant and the client credentials each scenario's context
/// gives; discovery, registration, scopes, step-up, DPoP and retries are the library's.
fn authorization(context: &Value) -> Result<ResourceAccess, Error> {
    let field = |name: &str| context[name].as_str().unwrap_or_default().to_owned();
    let basic = || ClientAuth::client_secret_basic(field("client_id"), field("client_secret"));
    let access = ResourceAccess::builder(ClientMetadata::named("oauth-client conformance"))
        .client_id_metadata_document(METADATA_DOCUMENT);
    let access = match context["name"].as_str().unwrap_or_default() {
        "auth/client-credentials-basic" => access.pre_registered(basic()).client_credentials(),
        "auth/client-credentials-jwt" => {
            let key = SigningKey::es256_pem(field("private_key_pem").as_bytes())?;
            access.pre_registered(ClientAuth::private_key_jwt(field("client_id"), key)).client_credentials()
        }
        "auth/wif-jwt-bearer" => {
            let jwt = AccessToken::from(field("valid_jwt"));
            access
                .pre_registered(ClientAuth::none(field("client_id")))
                .jwt_bearer(move || std::future::ready(Ok(jwt.clone())))
        }
        "auth/enterprise-managed-authorization" => {
            access.pre_registered(basic()).identity_assertion(IdentityAssertion::new(
                field("idp_token_endpoint"),
                ClientAuth::none(field("idp_client_id")),
                field("idp_id_token"),
            ))
        }
        "auth/pre-registration" => access.pre_registered(basic()).authorization_code(Approve::new()),
        _ => access.authorization_code(Approve::new()),
    };
    access.build()
}

/// The user of the suite's scenarios: their authorization endpoints redirect at once, so
/// the redirect is read from the `Location` header instead of a browser.
struct Approve(reqwest::Client);

impl Approve {
    fn new() -> Self {
        Approve(
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client"),
        )
    }
}

impl UserAuthorization for Approve {
    fn redirect_uri(&self) -> &str {
        "http://localhost:3000/callback"
    }

    fn authorize<'a>(&'a self, url: &'a reqwest::Url) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let answer = self.0.get(url.clone()).send().await.map_err(|error| listener(error.to_string()))?;
            let location =
                answer.headers().get(reqwest::header::LOCATION).and_then(|value| value.to_str().ok());
            location
                .map(str::to_owned)
                .ok_or_else(|| listener(format!("no redirect: HTTP {}", answer.status())))
        })
    }
}

fn listener(message: String) -> Error {
    oauth_client::RedirectError::Listener(message).into()
}

/// An MCP session over streamable HTTP, every request through `access`.
struct Mcp {
    http: reqwest::Client,
    url: String,
    access: ResourceAccess,
    version: String,
    session: Option<String>,
    next_id: u64,
}

impl Mcp {
    /// The stateless lifecycle of the 2026 revisions: no initialize, `_meta` on each request.
    fn stateless(&self) -> bool {
        !matches!(self.version.as_str(), "2025-03-26" | "2025-06-18" | "2025-11-25")
    }

    async fn call(&mut self, method: &str, mut params: Value) -> Result<Value, Box<dyn std::error::Error>> {
        if self.stateless() {
            params["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": self.version,
                "io.modelcontextprotocol/clientInfo": {"name": "oauth-client-conformance", "version": "0.1.0"},
                "io.modelcontextprotocol/clientCapabilities": {},
            });
        }
        self.next_id += 1;
        let id = self.next_id;
        let answer =
            self.post(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await?;
        let message = answer
            .into_iter()
            .find(|message| message["id"] == id)
            .ok_or_else(|| format!("no answer to `{method}`"))?;
        match message.get("error") {
            Some(error) => Err(format!("`{method}` failed: {error}").into()),
            None => Ok(message["result"].clone()),
        }
    }

    async fn notify(&mut self, method: &str) -> Result<(), Box<dyn std::error::Error>> {
        self.post(json!({"jsonrpc": "2.0", "method": method})).await.map(drop)
    }

    /// Posts one JSON-RPC message; the answer is JSON or a stream of server-sent events.
    async fn post(&mut self, message: Value) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(message.to_string());
        if message["method"] != "initialize" {
            request = request.header("mcp-protocol-version", &self.version);
        }
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        let answer = self.access.send(request).await?;
        if !answer.status().is_success() {
            return Err(format!("{} answered HTTP {}", message["method"], answer.status()).into());
        }
        if let Some(session) = answer.headers().get("mcp-session-id").and_then(|value| value.to_str().ok()) {
            self.session = Some(session.to_owned());
        }
        let events = answer
            .headers()
            .get("content-type")
            .is_some_and(|kind| kind.as_bytes().starts_with(b"text/event-stream"));
        let body = answer.text().await?;
        if body.trim().is_empty() {
            return Ok(Vec::new());
        }
        if !events {
            return Ok(vec![serde_json::from_str(&body)?]);
        }
        let data = body.lines().filter_map(|line| line.strip_prefix("data:")).map(str::trim);
        Ok(data.filter_map(|data| serde_json::from_str(data).ok()).collect())
    }
}

async fn run(url: String) -> Result<(), Box<dyn std::error::Error>> {
    let context = std::env::var("MCP_CONFORMANCE_CONTEXT").ok();
    let context: Value = context.as_deref().map(serde_json::from_str).transpose()?.unwrap_or_default();
    let version = std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION").unwrap_or_else(|_| "2025-11-25".into());
    let access = authorization(&context)?;
    let mut mcp = Mcp { http: reqwest::Client::new(), url, access, version, session: None, next_id: 0 };
    if !mcp.stateless() {
        let info = json!({"name": "oauth-client-conformance", "version": "0.1.0"});
        let params = json!({"protocolVersion": mcp.version, "capabilities": {}, "clientInfo": info});
        mcp.call("initialize", params).await?;
        mcp.notify("notifications/initialized").await?;
    }
    let tools = mcp.call("tools/list", json!({})).await?;
    if let Some(tool) = tools["tools"][0]["name"].as_str() {
        mcp.call("tools/call", json!({"name": tool, "arguments": {}})).await?;
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: mcp_conformance <MCP server URL>  (run by the MCP conformance suite)");
        return ExitCode::from(2);
    };
    match run(url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
