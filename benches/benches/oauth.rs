//! `cargo bench -p oauth-bench`: round trips (generated, hand-written reqwest, oauth2-rs), the
//! token manager's read path, and a 10,000-caller stampede. Medians are what to compare;
//! `benches/run.sh` runs this and the memory and build-cost measurements and writes
//! BENCHMARKS.md.

use std::future::Future;
use std::pin::pin;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};

use divan::Bencher;
use oauth_bench::{FixedTokenServer, hand_written, reqwest_client};
use oauth_client::ClientAuthorization::Configured;
use oauth_client::manager::{ClientCredentials, from_fn};
use oauth_client::{BasicAuth, OAuthAuthorization, OAuthClient, OAuthToken, TokenManager};

fn main() {
    // `OAUTH_BENCH_ONLY=crypto`: the crypto pairs alone (run.sh, for the other TLS feature);
    // `OAUTH_BENCH_ONLY=divan`: divan's benchmarks alone (filter them by name as arguments).
    let only = std::env::var("OAUTH_BENCH_ONLY").unwrap_or_default();
    if only != "divan" {
        paired_crypto();
        if only == "crypto" {
            return;
        }
        paired_round_trips();
    }
    resource_access::count_requests();
    divan::main();
}

/// One DPoP proof against one raw ES256 signature, and one ID-token check against one raw
/// RSA-2048 verification, each pair on the crypto backend this build of oauth-client uses and
/// timed side by side: every round times one of each, alternating which goes first. The
/// headline of each pair is the median of its per-round ratios, for each of three blocks.
fn paired_crypto() {
    const BLOCKS: usize = 3;
    const ROUNDS: usize = 20_000;
    const WARM_UP: usize = 1_000;
    let proof = crypto::Proof::new();
    let id_token = crypto::IdToken::new();
    let mut samples = [Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS)];
    type Operation<'a> = &'a dyn Fn();
    let pairs: [(&str, Operation<'_>, Operation<'_>); 2] = [
        ("dpop_proof/raw_es256_signature", &|| proof.proof(), &|| proof.raw()),
        ("id_token_check/raw_rs256_verify", &|| id_token.check(), &|| id_token.raw()),
    ];
    for (name, measured, raw) in pairs {
        for round in 0..WARM_UP + BLOCKS * ROUNDS {
            let time = |call: &dyn Fn()| {
                let started = std::time::Instant::now();
                call();
                started.elapsed().as_nanos() as f64
            };
            let (a, b) = if round % 2 == 0 {
                let a = time(measured);
                (a, time(raw))
            } else {
                let b = time(raw);
                (time(measured), b)
            };
            if round >= WARM_UP {
                samples[0].push(a);
                samples[1].push(b);
            }
            if round >= WARM_UP && (round + 1 - WARM_UP).is_multiple_of(ROUNDS) {
                let mut ratios: Vec<f64> = samples[0].iter().zip(&samples[1]).map(|(a, b)| a / b).collect();
                let median = |values: &mut Vec<f64>| {
                    values.sort_by(f64::total_cmp);
                    values[values.len() / 2]
                };
                let ratio = median(&mut ratios);
                let (a, b) = (median(&mut samples[0]), median(&mut samples[1]));
                println!(
                    "paired crypto {name} on {} ({ROUNDS} rounds): median ns {a:.0} {b:.0}; ratio {ratio:.4}",
                    crypto::BACKEND
                );
                samples.iter_mut().for_each(Vec::clear);
            }
        }
    }
}

/// The operations [`paired_crypto`] compares, on the backend oauth-client signs with in this
/// build: aws-lc-rs with feature `rustls` (the default), RustCrypto with `native-tls` alone.
mod crypto {
    use jsonwebtoken::jwk::{Jwk, JwkSet};
    use jsonwebtoken::{Algorithm, EncodingKey};
    use oauth_client::dpop::DpopKey;
    use oauth_client::oidc::{Expected, IdTokenVerifier, JwksCache};

    #[cfg(feature = "rustls")]
    pub(crate) const BACKEND: &str = "aws-lc-rs";
    #[cfg(not(feature = "rustls"))]
    pub(crate) const BACKEND: &str = "RustCrypto";

    const ISSUER: &str = "https://login.example.com";
    const CLIENT: &str = "bench-client";

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).expect("a test key")
    }

    /// A DPoP proof (ES256, with a nonce and `ath`) and a raw ES256 signature of an input as
    /// long as the proof's, each with a key parsed once.
    pub(crate) struct Proof {
        key: DpopKey,
        url: reqwest::Url,
        input: Vec<u8>,
        raw: RawSigner,
    }

    impl Proof {
        pub(crate) fn new() -> Self {
            let key = DpopKey::generate().expect("a key");
            let url = reqwest::Url::parse("https://api.example.com/things").expect("a URL");
            let sample =
                key.proof("GET", &url, 1_800_000_000, Some("nonce"), Some("access-token")).expect("a proof");
            let input = sample.rsplit_once('.').expect("a JWS").0.as_bytes().to_vec();
            let pem = key.to_pkcs8_pem();
            let der = pem_der(&pem);
            Proof { key, url, input, raw: raw_es256_signer(&der) }
        }

        pub(crate) fn proof(&self) {
            let proof = self.key.proof("GET", &self.url, 1_800_000_000, Some("nonce"), Some("access-token"));
            std::hint::black_box(proof.expect("a proof"));
        }

        pub(crate) fn raw(&self) {
            std::hint::black_box((self.raw)(std::hint::black_box(&self.input)));
        }
    }

    /// Signs its input with a key parsed once.
    type RawSigner = Box<dyn Fn(&[u8]) -> Vec<u8>>;

    fn pem_der(pem: &str) -> Vec<u8> {
        use base64::Engine as _;
        let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD.decode(body).expect("base64")
    }

    #[cfg(feature = "rustls")]
    fn raw_es256_signer(pkcs8: &[u8]) -> RawSigner {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).expect("a P-256 key");
        let rng = aws_lc_rs::rand::SystemRandom::new();
        Box::new(move |input| pair.sign(&rng, input).expect("a signature").as_ref().to_vec())
    }

    #[cfg(not(feature = "rustls"))]
    fn raw_es256_signer(pkcs8: &[u8]) -> RawSigner {
        // The provider's signer wraps a parsed `p256` signing key.
        let key = EncodingKey::from_ec_der(pkcs8);
        let signer =
            (jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.signer_factory)(&Algorithm::ES256, &key)
                .expect("a signer");
        Box::new(move |input| signer.try_sign(input).expect("a signature"))
    }

    /// An RS256 ID token (2048-bit key) checked with a cached key set, and a raw verification
    /// of its signature with the key's components.
    pub(crate) struct IdToken {
        token: String,
        verifier: IdTokenVerifier,
        input: Vec<u8>,
        signature: Vec<u8>,
        n: Vec<u8>,
        e: Vec<u8>,
    }

    impl IdToken {
        pub(crate) fn new() -> Self {
            use base64::Engine as _;
            use base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_secs();
            let claims = serde_json::json!({
                "iss": ISSUER, "sub": "alice", "aud": CLIENT, "exp": now + 86_400, "iat": now, "nonce": "n",
            });
            let token = jsonwebtoken_sign(&claims);
            let jwk = public_jwk();
            let (input, signature) = token.rsplit_once('.').expect("a JWS");
            let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
            let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
                panic!("an RSA key")
            };
            let (n, e) =
                (URL_SAFE_NO_PAD.decode(&rsa.n).expect("n"), URL_SAFE_NO_PAD.decode(&rsa.e).expect("e"));
            let keys = JwksCache::fixed(JwkSet { keys: vec![jwk] }).expect("a cache");
            let verifier = IdTokenVerifier::new(ISSUER, CLIENT, keys);
            IdToken { input: input.as_bytes().to_vec(), token, verifier, signature, n, e }
        }

        pub(crate) fn check(&self) {
            let checked = super::ready(self.verifier.verify(&self.token, Expected::nothing().nonce("n")));
            std::hint::black_box(checked.expect("valid"));
        }

        #[cfg(feature = "rustls")]
        pub(crate) fn raw(&self) {
            use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
            let key = RsaPublicKeyComponents { n: &self.n, e: &self.e };
            key.verify(&RSA_PKCS1_2048_8192_SHA256, &self.input, &self.signature).expect("verifies");
        }

        #[cfg(not(feature = "rustls"))]
        pub(crate) fn raw(&self) {
            use base64::Engine as _;
            use base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let key = jsonwebtoken::DecodingKey::from_rsa_components(
                &URL_SAFE_NO_PAD.encode(&self.n),
                &URL_SAFE_NO_PAD.encode(&self.e),
            )
            .expect("a key");
            let verifier = (jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.verifier_factory)(
                &Algorithm::RS256,
                &key,
            )
            .expect("a verifier");
            verifier.verify(&self.input, &self.signature).expect("verifies");
        }
    }

    /// The fixture's public key as a JWK with `kid`.
    fn public_jwk() -> Jwk {
        let key = EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).expect("an RSA key");
        let provider = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
        let (n, e) =
            (provider.key_utils.rsa_pub_components_from_private_key)(key.as_bytes()).expect("components");
        use base64::Engine as _;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        serde_json::from_value(
            serde_json::json!({"kty": "RSA", "kid": "k1", "alg": "RS256", "n": b64(&n), "e": b64(&e)}),
        )
        .expect("a JWK")
    }

    /// An RS256 JWT with `kid: k1`, signed by jsonwebtoken's RustCrypto provider.
    fn jsonwebtoken_sign(claims: &serde_json::Value) -> String {
        let key = EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).expect("an RSA key");
        let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, claims, &key).expect("a signed token")
    }
}

/// Orders of the three implementations (0 generated, 1 hand-written, 2 oauth2-rs), one per
/// round in turn. What ran just before a call shapes its caches: a call after oauth2-rs is
/// slower than one after the other reqwest-based implementation. A plain rotation
/// (`012, 120, 201`) puts oauth2-rs before the generated call in 2 rounds of 3 but before the
/// hand-written one in 1 of 3, which by itself added about 2 points to their ratio. In this
/// cycle of all six orders each implementation runs equally often in each position and right
/// after each of the other two (checked by `predecessors_are_balanced`).
const ORDERS: [[usize; 3]; 6] = [[0, 1, 2], [0, 2, 1], [2, 1, 0], [1, 0, 2], [1, 2, 0], [2, 0, 1]];

/// The ratios, measured side by side: each round times one call of each implementation, in
/// the orders of [`ORDERS`], so that drift on a shared machine and the previous call's traces
/// in the caches hit all three alike. Five blocks of rounds, each reported as the median of
/// its per-round ratios (and each implementation's median), one line per block: the spread
/// between blocks shows how far the machine moves the ratio.
fn paired_round_trips() {
    assert!(
        predecessors_are_balanced(),
        "ORDERS must give every implementation every predecessor equally often"
    );
    use oauth2::basic::BasicClient;
    use oauth2::{ClientId, ClientSecret, Scope, TokenUrl};
    const BLOCKS: usize = 5;
    const ROUNDS: usize = 6_000;
    // 34 cycles of the orders, to warm up connections and caches before the first block.
    const WARM_UP: usize = 204;
    let generated = OAuthClient::new(SERVER.token_url()).expect("a client");
    let (http, url) = (reqwest_client(), SERVER.token_url());
    let oauth2_client = BasicClient::new(ClientId::new("bench-client".into()))
        .set_client_secret(ClientSecret::new("bench-secret".into()))
        .set_token_uri(TokenUrl::new(SERVER.token_url()).expect("a URL"));
    let oauth2_http = oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let mut samples = [Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS)];
    for round in 0..WARM_UP + BLOCKS * ROUNDS {
        for which in ORDERS[round % ORDERS.len()] {
            let started = std::time::Instant::now();
            CLIENT_RUNTIME.block_on(async {
                match which {
                    0 => drop(
                        generated
                            .request_token_ccg(AUTH.as_str(), Some("read"), None)
                            .await
                            .expect("a token"),
                    ),
                    1 => drop(hand_written(&http, &url, &AUTH).await),
                    _ => drop(
                        oauth2_client
                            .exchange_client_credentials()
                            .add_scope(Scope::new("read".into()))
                            .request_async(&oauth2_http)
                            .await
                            .expect("a token"),
                    ),
                }
            });
            if round >= WARM_UP {
                samples[which].push(started.elapsed().as_nanos() as f64);
            }
        }
        if round >= WARM_UP && (round + 1 - WARM_UP).is_multiple_of(ROUNDS) {
            report_block(&mut samples);
        }
    }
}

/// Prints one block's medians and median per-round ratios, and empties the samples.
fn report_block(samples: &mut [Vec<f64>; 3]) {
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let ratios = |a: &[f64], b: &[f64]| {
        let mut ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
        median(&mut ratios)
    };
    let rounds = samples[0].len();
    let generated_vs_hand = ratios(&samples[0], &samples[1]);
    let generated_vs_oauth2 = ratios(&samples[0], &samples[2]);
    let medians: Vec<f64> = samples.iter_mut().map(median).collect();
    println!(
        "paired round trips ({rounds} rounds): median ns generated {:.0} hand_written {:.0} oauth2 {:.0}; \
         ratio generated/hand_written {generated_vs_hand:.4} generated/oauth2 {generated_vs_oauth2:.4}",
        medians[0], medians[1], medians[2]
    );
    samples.iter_mut().for_each(Vec::clear);
}

/// Over a whole number of cycles of [`ORDERS`], every ordered pair of two different
/// implementations follows each other equally often (the first call of a cycle follows the
/// last of the one before).
fn predecessors_are_balanced() -> bool {
    let calls: Vec<usize> = ORDERS.iter().cycle().take(2 * ORDERS.len()).flatten().copied().collect();
    let mut follows = [[0; 3]; 3];
    for pair in calls[ORDERS.len() * 3 - 1..].windows(2) {
        follows[pair[0]][pair[1]] += 1;
    }
    (0..3).all(|a| (0..3).all(|b| follows[a][b] == if a == b { 0 } else { follows[0][1] }))
}

/// Client and server of the round trips share one current-thread runtime (see
/// `FixedTokenServer::start_on`); the stampede uses a server on its own thread.
static CLIENT_RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"));
static SERVER: LazyLock<FixedTokenServer> =
    LazyLock::new(|| FixedTokenServer::start_on(CLIENT_RUNTIME.handle()));
static THREADED_SERVER: LazyLock<FixedTokenServer> = LazyLock::new(FixedTokenServer::start);

static AUTH: LazyLock<String> =
    LazyLock::new(|| BasicAuth::new("bench-client", "bench-secret").header_value());

mod round_trip {
    use super::*;

    /// `request_token_ccg`, generated by `#[oauth_grant]`.
    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn generated(bencher: Bencher) {
        let client = OAuthClient::new(SERVER.token_url()).expect("a client");
        bencher.bench_local(|| {
            CLIENT_RUNTIME
                .block_on(client.request_token_ccg(AUTH.as_str(), Some("read"), None))
                .expect("a token")
        });
    }

    /// The same request written by hand with reqwest.
    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn hand_written_reqwest(bencher: Bencher) {
        let (http, url) = (reqwest_client(), SERVER.token_url());
        bencher.bench_local(|| CLIENT_RUNTIME.block_on(hand_written(&http, &url, &AUTH)));
    }

    /// The same exchange with the oauth2 crate (5.x) and its reqwest client.
    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn oauth2_rs(bencher: Bencher) {
        use oauth2::basic::BasicClient;
        use oauth2::{ClientId, ClientSecret, Scope, TokenUrl};
        let client = BasicClient::new(ClientId::new("bench-client".into()))
            .set_client_secret(ClientSecret::new("bench-secret".into()))
            .set_token_uri(TokenUrl::new(SERVER.token_url()).expect("a URL"));
        let http = oauth2::reqwest::Client::builder()
            .redirect(oauth2::reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        bencher.bench_local(|| {
            CLIENT_RUNTIME
                .block_on(
                    client
                        .exchange_client_credentials()
                        .add_scope(Scope::new("read".into()))
                        .request_async(&http),
                )
                .expect("a token")
        });
    }
}

/// The per-request cost of client authentication computed by the client: the same round trip
/// with `client_secret_basic` (a ready header) and with `private_key_jwt` (a fresh assertion
/// signed for every request).
mod client_auth {
    use oauth_client::extensions::SigningKey;
    use oauth_client::{ClientAuth, OAuthAuthorization, OAuthClient};

    use super::*;

    fn key(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).expect("a test key")
    }

    fn round_trips(bencher: Bencher, auth: ClientAuth) {
        let client = OAuthClient::builder(SERVER.token_url()).client_auth(auth).build().expect("a client");
        bencher.bench_local(|| {
            CLIENT_RUNTIME
                .block_on(client.request_token_ccg(Configured, Some("read"), None))
                .expect("a token")
        });
    }

    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn client_secret_basic(bencher: Bencher) {
        round_trips(bencher, ClientAuth::client_secret_basic("bench-client", "bench-secret"));
    }

    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn private_key_jwt_rs256(bencher: Bencher) {
        let key = SigningKey::rs256_pem(&key("rsa-private.pem")).expect("an RSA key");
        round_trips(bencher, ClientAuth::private_key_jwt("bench-client", key));
    }

    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn private_key_jwt_es256(bencher: Bencher) {
        let key = SigningKey::es256_pem(&key("ec-private.pem")).expect("an EC key");
        round_trips(bencher, ClientAuth::private_key_jwt("bench-client", key));
    }
}

/// DPoP (RFC 9449): the same round trip with a DPoP key (a fresh ES256 proof in every
/// request), and the cost of one proof.
mod dpop {
    use oauth_client::dpop::DpopKey;
    use oauth_client::{OAuthAuthorization, OAuthClient};

    use super::*;

    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn bearer_round_trip(bencher: Bencher) {
        let client = OAuthClient::new(SERVER.token_url()).expect("a client");
        bencher.bench_local(|| {
            CLIENT_RUNTIME
                .block_on(client.request_token_ccg(AUTH.as_str(), Some("read"), None))
                .expect("a token")
        });
    }

    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn dpop_round_trip(bencher: Bencher) {
        let key = DpopKey::generate().expect("a key");
        let client = OAuthClient::builder(SERVER.token_url()).dpop(key).build().expect("a client");
        bencher.bench_local(|| {
            CLIENT_RUNTIME
                .block_on(client.request_token_ccg(AUTH.as_str(), Some("read"), None))
                .expect("a token")
        });
    }

    #[divan::bench(sample_count = 300, sample_size = 100)]
    fn proof_es256(bencher: Bencher) {
        let key = DpopKey::generate().expect("a key");
        let url = reqwest::Url::parse("https://api.example.com/things").expect("a URL");
        bencher.bench_local(|| {
            key.proof("GET", &url, 1_800_000_000, Some("nonce"), Some("access-token")).expect("a proof")
        });
    }
}

/// A resource request (GET, 200 with a small body) with the token manager's token, four ways,
/// against the same request with the header set by hand from a token the caller holds.
mod middleware {
    use bytes::Bytes;
    use http_body_util::{BodyExt as _, Empty};
    use hyper_util::client::legacy::Client as HyperClient;
    use hyper_util::rt::TokioExecutor;
    use oauth_client::middleware::{TokenLayer, TokenMiddleware};
    use tower_layer::Layer as _;
    use tower_service::Service as _;

    use super::*;

    fn tokens() -> TokenManager {
        let client = OAuthClient::new(SERVER.token_url()).expect("a client");
        let tokens = TokenManager::builder(client, ClientCredentials::new()).build();
        CLIENT_RUNTIME.block_on(tokens.access_token()).expect("a first token");
        tokens
    }

    fn resource_url() -> String {
        SERVER.token_url().replace("/oauth2/token", "/things")
    }

    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn reqwest_header_by_hand(bencher: Bencher) {
        let (http, url) = (reqwest_client(), resource_url());
        let token = CLIENT_RUNTIME.block_on(tokens().access_token()).expect("a token");
        bencher.bench_local(|| {
            CLIENT_RUNTIME.block_on(async {
                let response = http.get(&url).bearer_auth(token.secret()).send().await.expect("a response");
                response.bytes().await.expect("a body")
            })
        });
    }

    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn token_manager_send(bencher: Bencher) {
        let (http, url, tokens) = (reqwest_client(), resource_url(), tokens());
        bencher.bench_local(|| {
            CLIENT_RUNTIME.block_on(async {
                tokens.send(http.get(&url)).await.expect("a response").bytes().await.expect("a body")
            })
        });
    }

    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn reqwest_middleware(bencher: Bencher) {
        let http = reqwest_middleware::ClientBuilder::new(reqwest_client())
            .with(TokenMiddleware::new(tokens()))
            .build();
        let url = resource_url();
        bencher.bench_local(|| {
            CLIENT_RUNTIME.block_on(async {
                http.get(&url).send().await.expect("a response").bytes().await.expect("a body")
            })
        });
    }

    fn hyper_client() -> HyperClient<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>> {
        let _runtime = CLIENT_RUNTIME.enter();
        HyperClient::builder(TokioExecutor::new()).build_http()
    }

    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn hyper_header_by_hand(bencher: Bencher) {
        let (mut http, url) = (hyper_client(), resource_url());
        let token = CLIENT_RUNTIME.block_on(tokens().access_token()).expect("a token");
        bencher.bench_local(|| {
            CLIENT_RUNTIME.block_on(async {
                let request = http::Request::get(&url)
                    .header("authorization", format!("Bearer {}", token.secret()))
                    .body(Empty::new())
                    .expect("a request");
                let response = http.call(request).await.expect("a response");
                response.into_body().collect().await.expect("a body").to_bytes()
            })
        });
    }

    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn tower_layer(bencher: Bencher) {
        let mut http = TokenLayer::new(tokens()).layer(hyper_client());
        let url = resource_url();
        bencher.bench_local(|| {
            CLIENT_RUNTIME.block_on(async {
                let request = http::Request::get(&url).body(Empty::new()).expect("a request");
                let response = http.call(request).await.expect("a response");
                response.into_body().collect().await.expect("a body").to_bytes()
            })
        });
    }
}

/// Validating an RS256 ID token whose key is already held (signature, issuer, audience,
/// lifetime, nonce): this crate against openidconnect-rs, parsing included in both.
mod id_token {
    use jsonwebtoken::jwk::{Jwk, JwkSet};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use oauth_client::oidc::{Expected, IdTokenVerifier, JwksCache};

    use super::*;

    const ISSUER: &str = "https://login.example.com";
    const CLIENT: &str = "bench-client";
    const NONCE: &str = "n-0S6_WzA2Mj";

    /// The token and the key set (JSON) it verifies with.
    static SIGNED: LazyLock<(String, String)> = LazyLock::new(|| {
        let pem = std::fs::read(format!("{}/../tests/fixtures/rsa-private.pem", env!("CARGO_MANIFEST_DIR")))
            .expect("the test key");
        let key = EncodingKey::from_rsa_pem(&pem).expect("an RSA key");
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("a JWK");
        jwk.common.key_id = Some("k1".into());
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("k1".into());
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
        let claims = serde_json::json!({
            "iss": ISSUER, "sub": "alice", "aud": CLIENT, "exp": now + 86_400, "iat": now, "nonce": NONCE,
        });
        let token = jsonwebtoken::encode(&header, &claims, &key).expect("a signed token");
        (token, serde_json::to_string(&JwkSet { keys: vec![jwk] }).expect("JSON"))
    });

    #[divan::bench(sample_count = 300, sample_size = 20)]
    fn oauth_client(bencher: Bencher) {
        let (token, keys) = &*SIGNED;
        let keys = JwksCache::fixed(serde_json::from_str(keys).expect("a key set")).expect("a cache");
        let verifier = IdTokenVerifier::new(ISSUER, CLIENT, keys);
        bencher
            .bench_local(|| ready(verifier.verify(token, Expected::nothing().nonce(NONCE))).expect("valid"));
    }

    #[divan::bench(sample_count = 300, sample_size = 20)]
    fn openidconnect_rs(bencher: Bencher) {
        use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
        use openidconnect::{ClientId, IssuerUrl, Nonce};
        let (token, keys) = &*SIGNED;
        let keys: CoreJsonWebKeySet = serde_json::from_str(keys).expect("a key set");
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new(CLIENT.into()),
            IssuerUrl::new(ISSUER.into()).expect("a URL"),
            keys,
        );
        let nonce = Nonce::new(NONCE.into());
        bencher.bench_local(|| {
            let parsed: CoreIdToken = token.parse().expect("a JWT");
            parsed.claims(&verifier, &nonce).expect("valid").subject().len()
        });
    }
}

/// Resource-first authorization (`ResourceAccess`): the cold path from a resource's 401 to
/// the retried request (the resource's metadata, the authorization server's, a dynamic
/// registration, the user's authorization through a headless browser, the token, the
/// retry), and the warm path (one request with the session's token). The HTTP client is
/// shared, as in a program that made requests before; the OAuth state is new each time.
mod resource_access {
    use std::sync::Arc;

    use oauth_bench::ProtectedResourceServer;
    use oauth_client::manager::BoxFuture;
    use oauth_client::registration::ClientMetadata;
    use oauth_client::resource_access::{ResourceAccess, UserAuthorization};

    use super::*;

    static RESOURCE: LazyLock<ProtectedResourceServer> =
        LazyLock::new(|| ProtectedResourceServer::start_on(CLIENT_RUNTIME.handle()));

    /// The user's browser: follows the authorization URL once and hands back the redirect.
    struct HeadlessBrowser(reqwest::Client);

    impl UserAuthorization for HeadlessBrowser {
        fn redirect_uri(&self) -> &str {
            "http://127.0.0.1:9/callback"
        }

        fn authorize<'a>(
            &'a self,
            url: &'a reqwest::Url,
        ) -> BoxFuture<'a, Result<String, oauth_client::Error>> {
            Box::pin(async move {
                let response = self.0.get(url.clone()).send().await.expect("the authorization page");
                let location = response.headers().get("location").and_then(|value| value.to_str().ok());
                Ok(location.expect("the server redirects back").to_owned())
            })
        }
    }

    fn access(http: &reqwest::Client) -> ResourceAccess {
        ResourceAccess::builder(ClientMetadata::named("bench"))
            .http_client(http.clone())
            .authorization_code(Arc::new(HeadlessBrowser(http.clone())))
            .build()
            .expect("a resource access")
    }

    async fn call(access: &ResourceAccess, http: &reqwest::Client) {
        let response = access.send(http.post(RESOURCE.resource_url()).body("{}")).await.expect("a response");
        assert_eq!(response.status(), 200);
    }

    /// Prints the requests each path makes (`report.py` reads the line).
    pub(crate) fn count_requests() {
        let http = reqwest_client();
        let before = RESOURCE.requests();
        let access = access(&http);
        CLIENT_RUNTIME.block_on(call(&access, &http));
        let cold = RESOURCE.requests() - before;
        CLIENT_RUNTIME.block_on(call(&access, &http));
        let warm = RESOURCE.requests() - before - cold;
        println!("resource_access requests: cold {cold} (the user's browser 1), warm {warm}");
    }

    #[divan::bench(sample_count = 200, sample_size = 1)]
    fn cold_path(bencher: Bencher) {
        let http = reqwest_client();
        bencher.bench_local(|| CLIENT_RUNTIME.block_on(call(&access(&http), &http)));
    }

    #[divan::bench(sample_count = 300, sample_size = 10)]
    fn warm_path(bencher: Bencher) {
        let http = reqwest_client();
        let access = access(&http);
        CLIENT_RUNTIME.block_on(call(&access, &http));
        bencher.bench_local(|| CLIENT_RUNTIME.block_on(call(&access, &http)));
    }
}

/// Polls a future once with a no-op waker: the cached-token path completes without waiting,
/// so this measures it without an executor's overhead.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the cached token path waited"),
    }
}

mod token_manager {
    use super::*;

    static CACHED: LazyLock<TokenManager> = LazyLock::new(|| {
        let client = OAuthClient::new(SERVER.token_url()).expect("a client");
        let manager = TokenManager::builder(client, ClientCredentials::new()).build();
        CLIENT_RUNTIME.block_on(manager.access_token()).expect("a first token");
        manager
    });

    /// `access_token()` on a valid cached token, from 1 and from 2 threads at once.
    #[divan::bench(threads = [1, 2], sample_count = 500, sample_size = 1000)]
    fn cached_access_token(bencher: Bencher) {
        let manager = &*CACHED;
        bencher.bench(|| ready(manager.access_token()).expect("cached"));
    }

    /// The same read with oauth-client's metrics on (feature `metrics`) and a Prometheus
    /// recorder installed before the manager is built: one cache-hit counter increment more.
    /// Run alone (`benches/run.sh` filters for it), so the recorder sees no other bench.
    #[cfg(feature = "metrics")]
    #[divan::bench(threads = [1, 2], sample_count = 500, sample_size = 1000)]
    fn cached_access_token_with_metrics(bencher: Bencher) {
        static WITH_METRICS: LazyLock<TokenManager> = LazyLock::new(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .expect("the only recorder");
            let client = OAuthClient::new(SERVER.token_url()).expect("a client");
            let manager = TokenManager::builder(client, ClientCredentials::new()).build();
            CLIENT_RUNTIME.block_on(manager.access_token()).expect("a first token");
            manager
        });
        let manager = &*WITH_METRICS;
        bencher.bench(|| ready(manager.access_token()).expect("cached"));
    }

    /// 10,000 tasks ask a manager without a token at once: one request, all served.
    #[divan::bench(sample_count = 20, sample_size = 1)]
    fn stampede_10k(bencher: Bencher) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let client = OAuthClient::new(THREADED_SERVER.token_url()).expect("a client");
        bencher
            .with_inputs(|| {
                let manager = TokenManager::builder(client.clone(), ClientCredentials::new()).build();
                (manager, THREADED_SERVER.requests())
            })
            .bench_local_values(|(manager, requests_before)| {
                runtime.block_on(async {
                    let callers: Vec<_> = (0..10_000)
                        .map(|_| {
                            let manager = manager.clone();
                            tokio::spawn(async move { manager.access_token().await })
                        })
                        .collect();
                    for caller in callers {
                        caller.await.expect("joined").expect("a token");
                    }
                });
                assert_eq!(THREADED_SERVER.requests() - requests_before, 1, "one token request per stampede");
            });
    }

    /// 64 managers read in turns on one thread, as a service with a manager per tenant
    /// would: more managers than a thread keeps copies of, so most of these reads go
    /// through the arc-swap instead.
    #[divan::bench(sample_count = 500, sample_size = 1000)]
    fn cached_access_token_64_managers_in_turns(bencher: Bencher) {
        let managers: Vec<TokenManager> = (0..64)
            .map(|_| {
                let client = OAuthClient::new(SERVER.token_url()).expect("a client");
                let manager = TokenManager::builder(client, ClientCredentials::new()).build();
                CLIENT_RUNTIME.block_on(manager.access_token()).expect("a first token");
                manager
            })
            .collect();
        let mut turn = 0;
        bencher.bench_local(|| {
            turn = (turn + 1) % managers.len();
            ready(managers[turn].access_token()).expect("cached")
        });
    }

    /// For scale: the same read path through a user-supplied source that never expires.
    #[divan::bench(sample_count = 500, sample_size = 1000)]
    fn cached_access_token_from_fn_source(bencher: Bencher) {
        let client = OAuthClient::new("https://unused.example/token").expect("a client");
        let manager = TokenManager::builder(
            client,
            from_fn(|_| async {
                Ok(serde_json::from_str::<OAuthToken>(r#"{"access_token":"a","token_type":"Bearer"}"#)
                    .expect("a token"))
            }),
        )
        .build();
        CLIENT_RUNTIME.block_on(manager.access_token()).expect("a first token");
        bencher.bench(|| ready(manager.access_token()).expect("cached"));
    }
}
