//! One process of a fleet sharing a token through Redis, for the fleet tests in
//! `tests/redis_store.rs` and the fleet benchmark: a token manager with many tasks asking for
//! tokens through active and idle phases on a schedule shared by the fleet. Prints `seeded`
//! once it has published its login (with `--login`), then, at the end, one JSON line with
//! what its callers got.
//!
//! Arguments (all `--name value`): `--redis` (a Redis URL, `cluster:URL,URL` for a Redis
//! Cluster, `sentinel:PRIMARY:URL,URL` for a primary found through Sentinel, or `file:DIR`
//! for a `FileStore` in DIR), `--token-url`, `--key`, `--source`
//! (`code`, `ccg`, or `jwt-bearer` with `--assertion-file PATH`), `--login CODE` (exchange this code and seed the store), `--start-ms`
//! (Unix ms at which the schedule starts), `--phases` (e.g. `10000:active,4000:idle`),
//! `--tasks`, `--leeway-s`, `--lock-ttl-ms`, `--failure-backoff-ms`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth_client::ClientAuthorization::Configured;
use oauth_client::manager::{AuthorizationCode, ClientCredentials, FileStore, RedisStore, TokenStore};
use oauth_client::workload::{JwtBearerGrant, WorkloadToken};
use oauth_client::{ClientAuth, OAuthAuthorization, OAuthClient, TokenManager};

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as u64)
}

struct Args(HashMap<String, String>);

impl Args {
    fn parse() -> Self {
        let mut args = std::env::args().skip(1);
        let mut map = HashMap::new();
        while let (Some(name), Some(value)) = (args.next(), args.next()) {
            map.insert(name.trim_start_matches("--").to_owned(), value);
        }
        Args(map)
    }

    fn text(&self, name: &str) -> &str {
        self.0.get(name).unwrap_or_else(|| panic!("missing --{name}"))
    }

    fn number(&self, name: &str) -> u64 {
        self.text(name).parse().unwrap_or_else(|_| panic!("--{name} is not a number"))
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let client = OAuthClient::builder(args.text("token-url"))
        .client_auth(ClientAuth::client_secret_basic("fleet", "secret"))
        .build()
        .expect("a local token URL");
    let store: Arc<dyn TokenStore> = match args.text("redis") {
        dir if dir.starts_with("file:") => Arc::new(FileStore::open(&dir[5..]).expect("a private directory")),
        nodes if nodes.starts_with("cluster:") => Arc::new(
            RedisStore::cluster(nodes[8..].split(','))
                .expect("cluster node URLs")
                .command_timeout(Duration::from_secs(2)),
        ),
        sentinels if sentinels.starts_with("sentinel:") => {
            let (primary, urls) = sentinels[9..].split_once(':').expect("sentinel:PRIMARY:URL,URL");
            Arc::new(
                RedisStore::sentinel(primary, urls.split(','))
                    .expect("sentinel URLs")
                    .command_timeout(Duration::from_secs(2)),
            )
        }
        url => Arc::new(RedisStore::new(url).expect("a Redis URL").command_timeout(Duration::from_secs(2))),
    };
    let builder = match args.text("source") {
        "code" => TokenManager::builder(client.clone(), AuthorizationCode::new()),
        "jwt-bearer" => {
            let platform = WorkloadToken::file(args.text("assertion-file"));
            TokenManager::builder(client.clone(), JwtBearerGrant::new(platform))
        }
        _ => TokenManager::builder(client.clone(), ClientCredentials::new()),
    };
    let mut builder = builder
        .store(store, args.text("key"))
        .leeway(Duration::from_secs(args.number("leeway-s")))
        .store_lock_ttl(Duration::from_millis(args.number("lock-ttl-ms")))
        .failure_backoff(Duration::from_millis(args.number("failure-backoff-ms")));
    let seeding = args.0.get("login").cloned();
    if let Some(code) = &seeding {
        let login = client.request_token_acg(Configured, code, "http://127.0.0.1:9/callback", None).await;
        builder = builder.initial_token(login.expect("the login succeeds"));
    }
    let manager = builder.build();
    if seeding.is_some() {
        manager.access_token().await.expect("the seed is published");
        println!("seeded");
    }

    let start = args.number("start-ms");
    tokio::time::sleep(Duration::from_millis(start.saturating_sub(unix_ms()))).await;
    let calls = Arc::new(AtomicU64::new(0));
    let mut errors = Vec::new();
    let mut tokens = BTreeSet::new();
    let mut offset = 0;
    for phase in args.text("phases").split(',') {
        let (length, kind) = phase.split_once(':').expect("LENGTH_MS:KIND");
        let end = start + offset + length.parse::<u64>().expect("a length in ms");
        offset += length.parse::<u64>().unwrap();
        if kind == "active" {
            let (phase_errors, phase_tokens) =
                active(&manager, args.number("tasks"), end, Arc::clone(&calls)).await;
            errors.extend(phase_errors);
            tokens.extend(phase_tokens);
        }
        tokio::time::sleep(Duration::from_millis(end.saturating_sub(unix_ms()))).await;
    }
    let report = serde_json::json!({
        "calls": calls.load(Ordering::SeqCst),
        "errors": errors.len(),
        "error_samples": errors.iter().take(5).collect::<Vec<_>>(),
        "tokens": tokens,
    });
    println!("{report}");
}

/// `tasks` tasks ask for a token every 10 ms until `end_ms`; returns the errors and the
/// distinct tokens they got.
async fn active(
    manager: &TokenManager,
    tasks: u64,
    end_ms: u64,
    calls: Arc<AtomicU64>,
) -> (Vec<String>, BTreeSet<String>) {
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (manager, stop, calls) = (manager.clone(), Arc::clone(&stop), Arc::clone(&calls));
            tokio::spawn(async move {
                let mut errors = Vec::new();
                let mut tokens = BTreeSet::new();
                while !stop.load(Ordering::Relaxed) {
                    calls.fetch_add(1, Ordering::Relaxed);
                    match manager.access_token().await {
                        Ok(token) => {
                            tokens.insert(token.secret().to_owned());
                        }
                        Err(error) => errors.push(error.to_string()),
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                (errors, tokens)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(end_ms.saturating_sub(unix_ms()))).await;
    stop.store(true, Ordering::Relaxed);
    let mut all_errors = Vec::new();
    let mut all_tokens = BTreeSet::new();
    for handle in handles {
        let (errors, tokens) = handle.await.expect("a task ends");
        all_errors.extend(errors);
        all_tokens.extend(tokens);
    }
    (all_errors, all_tokens)
}
