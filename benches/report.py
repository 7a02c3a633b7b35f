"""Turns the outputs of benches/run.sh into BENCHMARKS.md (printed to stdout).

Usage: python3 benches/report.py DIVAN_OUTPUT MEMORY_JSON TIMES
"""
import datetime
import json
import os
import re
import statistics
import sys

UNITS = {"ps": 1e-12, "ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
ROW = re.compile(r"^(?P<tree>[\s│├╰─]*)(?P<name>[\w=.]+)\s+(?P<cols>.*)$")
TIME = re.compile(r"([\d.]+)\s*(ps|ns|µs|us|ms|s)\b")


def parse_divan(path):
    """{'round_trip/generated': {'median': seconds, 'fastest': ..., 'samples': n}, ...}"""
    results, stack = {}, []
    for line in open(path, encoding="utf-8"):
        match = ROW.match(line.rstrip("\n"))
        if not match or match["name"] in ("Timer", "oauth", "paired"):
            continue
        # "├─ name" is level 1, "│  ├─ name" level 2, ...: keep the parents above this level.
        depth = len(match["tree"]) // 3
        stack = stack[:max(depth - 1, 0)]
        times = TIME.findall(match["cols"])
        if len(times) < 4:
            stack.append(match["name"])
            continue
        fastest, slowest, median, mean = (float(v) * UNITS[u] for v, u in times[:4])
        counts = re.findall(r"│\s*(\d+)\s*", match["cols"])
        key = "/".join(stack + [match["name"]])
        results[key] = {"fastest": fastest, "median": median, "mean": mean, "slowest": slowest,
                        "samples": int(counts[-2]) if len(counts) >= 2 else None}
    return results


def crypto_pairs(paths):
    """The `paired crypto` blocks of each run's output: {(feature, backend, pair): [[a, b, ratio], ...]}."""
    pairs = {}
    for path in paths:
        if not os.path.exists(path):
            continue
        for line in open(path, encoding="utf-8"):
            found = re.search(r"paired crypto (\S+) on (\S+) \(\d+ rounds\): median ns (\d+) (\d+); ratio ([\d.]+)", line)
            if found:
                name, backend = found.group(1), found.group(2)
                feature = "rustls" if backend == "aws-lc-rs" else "native-tls"
                pairs.setdefault((feature, backend, name), []).append([float(found.group(i)) for i in (3, 4, 5)])
    return pairs


def human(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def cpu_model():
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def atproto_section(figures):
    """Section 9 from `atproto::sign_in_figures`' ATPROTO_FIGURES line."""
    steps = "; ".join(f"`{step}`" for step in figures["requests"])
    return [
        "## 9. AT Protocol: from a handle to the first XRPC response\n",
        "`AtprotoClient::sign_in` then `AtprotoSession::send` against a real PDS (`@atproto/pds`) and PLC "
        "directory (`@did-plc/server`) on loopback (`tests/peers/atproto`), "
        f"{figures['runs']} times, each with a new account and a new client (no metadata, nonce or key kept); "
        "a forward proxy on 127.0.0.1 counts the client's HTTP requests "
        "(`tests/tests/it/atproto.rs`, `sign_in_figures`). DNS answers from memory; the user's steps at the "
        "PDS's pages (page, sign-in with the password, consent, redirect: 4 requests by the browser) are "
        "timed apart, as they are the PDS's work.\n",
        "| HTTP requests by the client | median, handle to XRPC response | median, the client's part |",
        "|---|---|---|",
        f"| {figures['client_requests']} | {figures['median_total_ms']:.0f} ms | "
        f"{figures['median_client_ms']:.1f} ms |",
        "",
        f"The requests, in order: {steps}. The first pushed request is answered `use_dpop_nonce` (the profile "
        "requires the server's nonce, which nothing announces before); the token request and the XRPC call "
        "carry that nonce and are answered at once (the PDS serves both from one origin).\n",
    ]


def main():
    divan = parse_divan(sys.argv[1])
    memory = json.load(open(sys.argv[2], encoding="utf-8"))
    times = {}
    for line in open(sys.argv[3], encoding="utf-8"):
        label, value = line.split()
        times[label] = float(value)

    def median(key):
        return divan[key]["median"]

    generated = median("round_trip/generated")
    hand = median("round_trip/hand_written_reqwest")
    oauth2 = median("round_trip/oauth2_rs")
    read_1 = median("token_manager/cached_access_token/t=1")
    read_2 = median("token_manager/cached_access_token/t=2")
    stampede = divan["token_manager/stampede_10k"]
    # One line per block of side-by-side rounds: rounds, three medians (ns), two ratios.
    blocks = []
    for line in open(sys.argv[1], encoding="utf-8"):
        found = re.search(r"\((\d+) rounds\): median ns generated (\d+) hand_written (\d+) oauth2 (\d+); "
                          r"ratio generated/hand_written ([\d.]+) generated/oauth2 ([\d.]+)", line)
        if found:
            blocks.append([float(value) for value in found.groups()])
    grants_1 = statistics.median(times[f"grants_1_run_{i}"] for i in (1, 2, 3))
    grants_100 = statistics.median(times[f"grants_100_run_{i}"] for i in (1, 2, 3))

    def verdict(ok):
        return "met" if ok else "**missed** (see Findings)"

    out = []
    out.append("# Benchmarks\n")
    out.append(f"Generated by `bash benches/run.sh` on {datetime.date.today().isoformat()}, "
               f"{os.cpu_count()} cores, {cpu_model()}. Every figure below comes from that one run; "
               "the machine is shared and noisy, so compare medians and ratios measured side by side, "
               "not absolute times across runs. The runtime benchmarks build oauth-client with its "
               "default features: TLS on rustls with aws-lc-rs, and signatures (JWT assertions, DPoP "
               "proofs, ID tokens) on aws-lc-rs with keys parsed once; the crypto pairs are also measured "
               "with `native-tls` (signatures on RustCrypto)."
               + (f" The whole run took {times['whole_run'] / 60:.1f} minutes (builds included)." if "whole_run" in times else "")
               + "\n")
    out.append("## 1-2. Client-credentials round trip against a local hyper server\n")
    out.append("Each implementation alone (divan): 300 samples × 10 round trips, each implementation in its own "
               "block of time; the server answers a fixed token on 127.0.0.1. On this shared machine whole blocks of "
               "time run slower or faster, so these rows are for scale and not compared with each other; the "
               "ratios are the side-by-side table below.\n")
    out.append("| implementation | median | fastest |")
    out.append("|---|---|---|")
    for name, key in (("`request_token_ccg` (generated by `#[oauth_grant]`)", "generated"),
                      ("hand-written reqwest, identical request, same struct", "hand_written_reqwest"),
                      ("oauth2 5.x (`exchange_client_credentials`, its reqwest client)", "oauth2_rs")):
        row = divan[f"round_trip/{key}"]
        out.append(f"| {name} | {human(row['median'])} | {human(row['fastest'])} |")
    out.append("")
    if blocks:
        def column(index):
            return [block[index] for block in blocks]

        def summary(index):
            values = column(index)
            return (f"**{statistics.median(values):.3f}×** | {min(values):.3f}–{max(values):.3f}× | "
                    f"{human(statistics.median(column(1)) * 1e-9)} vs "
                    f"{human(statistics.median(column(2 if index == 4 else 3)) * 1e-9)}")

        out.append(f"Side by side (the headline figures): {len(blocks)} blocks of {int(blocks[0][0]):,} rounds, each "
                   "round timing one call of each implementation, cycling through all six orders so that each "
                   "runs equally often right after each of the others. A block's ratio is the median of its "
                   "per-round ratios; the headline is the median over the blocks.\n")
        out.append("| pair | median of block ratios | range over blocks | medians |")
        out.append("|---|---|---|---|")
        out.append(f"| generated ÷ hand-written | {summary(4)} |")
        out.append(f"| generated ÷ oauth2-rs | {summary(5)} |")
        out.append("")
        to_hand, to_oauth2 = column(4), column(5)
        out.append(f"- Goal ≤ 1.03× against hand-written: {verdict(statistics.median(to_hand) <= 1.03)} "
                   f"(in {sum(ratio <= 1.03 for ratio in to_hand)} of {len(to_hand)} blocks).")
        out.append(f"- Goal faster than oauth2-rs: {verdict(statistics.median(to_oauth2) < 1.0)} "
                   f"(in {sum(ratio < 1.0 for ratio in to_oauth2)} of {len(to_oauth2)} blocks).")
        out.append(f"- The medians of the runs alone above give {generated / hand:.3f}× and {generated / oauth2:.3f}×: "
                   "each implementation was measured in its own block of time, so they mostly show the drift.")
    if "instructions_generated" in times and "instructions_hand_written" in times:
        extra = times["instructions_generated"] - times["instructions_hand_written"]
        out.append(f"- Instructions (callgrind, 2,000 round trips, client and server): generated "
                   f"{times['instructions_generated'] / 1e6:.1f} M, hand-written {times['instructions_hand_written'] / 1e6:.1f} M: "
                   f"**{times['instructions_generated'] / times['instructions_hand_written']:.4f}×**, "
                   f"{abs(extra) / 2000:.0f} instructions {'more' if extra > 0 else 'fewer'} per request.")
    out.append("")
    if "client_auth/client_secret_basic" in divan:
        basic = divan["client_auth/client_secret_basic"]
        out.append("### Client authentication computed per request\n")
        out.append("The same round trip with `ClientAuth` configured on the client: `client_secret_basic` adds a "
                   "ready header; `private_key_jwt` signs a fresh assertion (new `jti`, `iat`, `exp`) for every "
                   "request. The difference of the medians is the assertion's cost per request.\n")
        out.append("| method | median round trip | fastest | cost over `client_secret_basic` |")
        out.append("|---|---|---|---|")
        for key, label in (("client_secret_basic", "`client_secret_basic`"),
                           ("private_key_jwt_rs256", "`private_key_jwt`, RS256 (2048-bit)"),
                           ("private_key_jwt_es256", "`private_key_jwt`, ES256")):
            row = divan[f"client_auth/{key}"]
            extra = "—" if key == "client_secret_basic" else f"{(row['median'] - basic['median']) * 1e6:.0f} µs"
            out.append(f"| {label} | {human(row['median'])} | {human(row['fastest'])} | {extra} |")
        out.append("")
    if "dpop/dpop_round_trip" in divan:
        bearer, bound, proof = divan["dpop/bearer_round_trip"], divan["dpop/dpop_round_trip"], divan["dpop/proof_es256"]
        ratio = bound["median"] / bearer["median"]
        out.append("### DPoP-bound round trip (RFC 9449)\n")
        out.append("The same client-credentials round trip with a DPoP key on the client: every request carries a "
                   "fresh ES256 proof (new `jti`, the key's JWK in the header).\n")
        out.append("| | median | fastest |")
        out.append("|---|---|---|")
        out.append(f"| bearer | {human(bearer['median'])} | {human(bearer['fastest'])} |")
        out.append(f"| DPoP-bound | {human(bound['median'])} | {human(bound['fastest'])} |")
        out.append(f"| one proof (ES256, with nonce and `ath`) | {human(proof['median'])} | {human(proof['fastest'])} |")
        out.append(f"\nDPoP-bound ÷ bearer: **{ratio:.2f}×** (goal ≤ 1.15×: {verdict(ratio <= 1.15)}).\n")
    if "middleware/tower_layer" in divan:
        def row(key):
            return divan[f"middleware/{key}"]
        out.append("### Resource requests with the manager's token: middleware overhead\n")
        out.append("A GET to the local server (200, small body) with a valid cached token. The baselines set "
                   "`Authorization: Bearer` by hand from a token the caller already holds; the others get the "
                   "token from the `TokenManager` on every request and read the answer's `WWW-Authenticate`.\n")
        out.append("| request | median | fastest | over its baseline |")
        out.append("|---|---|---|---|")
        for key, label, base in (("reqwest_header_by_hand", "reqwest, header set by hand", None),
                                 ("token_manager_send", "`TokenManager::send`", "reqwest_header_by_hand"),
                                 ("reqwest_middleware", "reqwest-middleware with `TokenMiddleware`", "reqwest_header_by_hand"),
                                 ("hyper_header_by_hand", "hyper-util client, header set by hand", None),
                                 ("tower_layer", "hyper-util client behind `TokenLayer`", "hyper_header_by_hand")):
            extra = "—"
            if base:
                extra = (f"{(row(key)['median'] - row(base)['median']) * 1e6:+.1f} µs "
                         f"({row(key)['median'] / row(base)['median']:.3f}×)")
            out.append(f"| {label} | {human(row(key)['median'])} | {human(row(key)['fastest'])} | {extra} |")
        out.append("")
    if "id_token/oauth_client" in divan:
        ours, theirs = divan["id_token/oauth_client"], divan["id_token/openidconnect_rs"]
        out.append("### Validating an ID token with a cached key (OpenID Connect)\n")
        out.append("An RS256 ID token (2048-bit key) whose key is already held: parse, signature, `iss`, `aud`, "
                   "`exp`/`iat`, `nonce`. oauth-client on aws-lc-rs (see above), openidconnect-rs on the RustCrypto `rsa` "
                   "crate; with the default features oauth-client also uses RustCrypto, and both take the same time "
                   "(benches/findings.md).\n")
        out.append("| implementation | median | fastest |")
        out.append("|---|---|---|")
        out.append(f"| `oidc::IdTokenVerifier::verify` | {human(ours['median'])} | {human(ours['fastest'])} |")
        out.append(f"| openidconnect-rs 4 (`CoreIdToken::claims`) | {human(theirs['median'])} | {human(theirs['fastest'])} |")
        out.append(f"\nRatio oauth-client ÷ openidconnect-rs: **{ours['median'] / theirs['median']:.2f}×**.\n")
    pairs = crypto_pairs([sys.argv[1]] + ([sys.argv[5]] if len(sys.argv) > 5 else []))
    if pairs:
        out.append("### Crypto at the backend's speed: a proof against a raw signature, an ID-token check against a raw verify\n")
        out.append("Side by side in one run (`paired_crypto` in benches/benches/oauth.rs): 3 blocks of 20,000 rounds, each "
                   "round timing one of each operation, alternating which goes first; a block's ratio is the median of its "
                   "per-round ratios. The proof is `DpopKey::proof` (ES256, with nonce and `ath`: claims, encoding and "
                   "signature); the raw signature is the same backend's ES256 signature of an input as long, with a key "
                   "parsed once. The ID-token check is `IdTokenVerifier::verify` (RS256, 2048-bit key from a cached key "
                   "set: parse, signature, `iss`, `aud`, `exp`/`iat`, `nonce`); the raw verify is the same backend's "
                   "RS256 verification of its signature.\n")
        out.append("| TLS feature (signatures on) | pair | medians | ratio, median of blocks (range) | goal ≤ 1.25× |")
        out.append("|---|---|---|---|---|")
        for (feature, backend, name), blocks in pairs.items():
            ratios = sorted(block[2] for block in blocks)
            mid = statistics.median(ratios)
            a = statistics.median(block[0] for block in blocks)
            b = statistics.median(block[1] for block in blocks)
            label = {"dpop_proof/raw_es256_signature": "DPoP proof ÷ raw ES256 signature",
                     "id_token_check/raw_rs256_verify": "ID-token check ÷ raw RS256 verify"}.get(name, name)
            out.append(f"| `{feature}` ({backend}) | {label} | {human(a / 1e9)} vs {human(b / 1e9)} | "
                       f"**{mid:.2f}×** ({ratios[0]:.2f}–{ratios[-1]:.2f}) | {verdict(mid <= 1.25)} |")
        out.append("")
    out.append("## 3. Token manager read path (`access_token()` on a valid cached token)\n")
    out.append("| threads | median per call | fastest |")
    out.append("|---|---|---|")
    for threads in (1, 2):
        row = divan[f"token_manager/cached_access_token/t={threads}"]
        out.append(f"| {threads} | {human(row['median'])} | {human(row['fastest'])} |")
    from_fn = divan.get("token_manager/cached_access_token_from_fn_source")
    if from_fn:
        out.append(f"| 1, token without expiry (no clock read) | {human(from_fn['median'])} | {human(from_fn['fastest'])} |")
    in_turns = divan.get("token_manager/cached_access_token_64_managers_in_turns")
    if in_turns:
        out.append(f"| 1, 64 managers read in turns (more than a thread keeps copies of) | {human(in_turns['median'])} | {human(in_turns['fastest'])} |")
    with_metrics = {}
    if len(sys.argv) > 7 and os.path.exists(sys.argv[7]):
        with_metrics = parse_divan(sys.argv[7])
    for threads in (1, 2):
        row = with_metrics.get(f"token_manager/cached_access_token_with_metrics/t={threads}")
        if row:
            out.append(f"| {threads}, feature `metrics` on, a Prometheus recorder installed | "
                       f"{human(row['median'])} | {human(row['fastest'])} |")
    metrics_1 = with_metrics.get("token_manager/cached_access_token_with_metrics/t=1")
    if metrics_1:
        out.append(f"\nWith metrics on, the read path counts each cache hit in the reading thread's copy of the "
                   f"token (no atomic operation; handed to the recorder 64 at a time): {human(metrics_1['median'])} "
                   f"against {human(read_1)}; goal ≤ 50 ns with metrics on: "
                   f"{verdict(metrics_1['median'] <= 50e-9)}.")
    out.append("")
    out.append(f"Goal ≤ 50 ns: {verdict(read_1 <= 50e-9)}; 2 threads ÷ 1 thread = {read_2 / read_1:.2f}× "
               f"(no collapse under contention: {verdict(read_2 / read_1 <= 1.5)}).\n")
    out.append("## 4. Stampede: 10,000 concurrent callers at expiry\n")
    out.append(f"Token requests per stampede: **1** (asserted in every one of the {stampede['samples']} samples). "
               f"Time until all 10,000 have a token: median **{human(stampede['median'])}**, "
               f"fastest {human(stampede['fastest'])} (spawning and joining 10,000 tasks on 2 worker threads included).\n")
    out.append("## 5. Memory: peak RSS over 10,000 sequential token requests\n")
    out.append("| after | peak RSS (VmHWM) |")
    out.append("|---|---|")
    for key, value in memory.items():
        out.append(f"| {key.replace('after_', '')} requests | {value / 1024:.1f} MiB |")
    out.append("\nThe peak does not move between 100 and 10,000 requests: nothing is kept per request.\n")
    out.append("## 6. Build cost\n")
    out.append("| clean release build, own target dir | wall time |")
    out.append("|---|---|")
    out.append(f"| `oauth-client`, default features (TLS: rustls on aws-lc-rs) | {times['build_oauth_client']:.0f} s |")
    out.append(f"| `oauth2` 5.x with reqwest (its defaults) | {times['build_oauth2']:.0f} s |")
    ratio = times['build_oauth_client'] / times['build_oauth2']
    out.append(f"\nRatio oauth-client (default) ÷ oauth2: **{ratio:.2f}×** (each alone, from nothing: "
               "oauth-client compiles the aws-lc C library that reqwest's own default compiles too).\n")
    if "marginal_oauth_client" in times:
        marginal = times['marginal_oauth_client'] / times['marginal_oauth2']
        out.append("| added to a service that already uses reqwest 0.13 (defaults), tokio and serde: release build after the "
                   "service's own (benches/marginal-build.sh) | wall time |")
        out.append("|---|---|")
        out.append(f"| `oauth-client`, default features | {times['marginal_oauth_client']:.0f} s |")
        out.append(f"| `oauth2` 5.x, feature `reqwest` | {times['marginal_oauth2']:.0f} s |")
        out.append(f"\nMarginal ratio oauth-client ÷ oauth2: **{marginal:.2f}×** (goal ≤ 1.00×: {verdict(marginal <= 1.0)}).\n")
    out.append("| debug build of a crate declaring N grants (dependencies prebuilt, median of 3) | wall time |")
    out.append("|---|---|")
    out.append(f"| 1 grant | {grants_1:.2f} s |")
    out.append(f"| 100 grants | {grants_100:.2f} s |")
    out.append(f"\nMarginal cost: {(grants_100 - grants_1) / 99 * 1000:.0f} ms per declared grant "
               "(expansion and type checking; the methods are generic futures, compiled where a caller uses them).\n")
    if len(sys.argv) > 4 and os.path.exists(sys.argv[4]):
        fleet = json.load(open(sys.argv[4], encoding="utf-8"))
        out.append("## 7. A fleet sharing one token through Redis\n")
        out.append("Real processes (`tests/src/bin/fleet_worker.rs`), each with 20 tasks asking for a token "
                   "every 10 ms for 15 s, against a local provider whose access tokens live 3 s (leeway 1 s: "
                   "a 2 s refresh window) and which rotates refresh tokens and revokes the grant on reuse. "
                   "Redis is killed at 6 s and restarted, empty, at 9 s "
                   "(`tests/tests/it/redis_store.rs`, `fleet_figures`).\n")
        out.append("| source | processes | calls | provider requests per refresh window: Redis up (first token included) / killed / restarted "
                   "| errors | reused refresh tokens |")
        out.append("|---|---|---|---|---|---|")
        names = {"ccg": "client credentials", "code": "authorization code (rotating refresh tokens)"}
        for source, row in fleet.items():
            out.append(f"| {names.get(source, source)} | {row['processes']} | {row['calls']:,} | "
                       f"{row['requests_per_window_redis_up']:.2f} / {row['requests_per_window_redis_killed']:.2f} / "
                       f"{row['requests_per_window_redis_restarted']:.2f} | {row['errors']:,} | {row['reuse']} |")
        ccg, code = fleet.get("ccg"), fleet.get("code")
        if ccg and code:
            out.append(f"\nWith Redis down, client credentials are fetched by each process on its own "
                       f"({ccg['requests_per_window_redis_killed']:.2f} requests per window instead of "
                       f"{ccg['requests_per_window_redis_up']:.2f}, {ccg['errors']} errors); a rotating grant is not "
                       "refreshed without the store's lock — its processes keep their token until it expires, then "
                       "answer `Error::StoreUnavailable` until Redis is back "
                       f"({code['errors']:,} of {code['calls']:,} calls here) — because one uncoordinated refresh gets "
                       "the whole grant revoked (measured before that rule: 1 reuse, the grant revoked, 57,826 errors "
                       "and no recovery). After the restart the fleet continues from its cached refresh token, "
                       "without a new login.\n")
    if len(sys.argv) > 8 and os.path.exists(sys.argv[8]) and os.path.getsize(sys.argv[8]) > 0:
        windows = json.load(open(sys.argv[8], encoding="utf-8"))
        out.append("### At the limit: requests per refresh window, 8 and 32 processes\n")
        out.append("The same worker, 20 s without an outage, tokens living 3 s (2 s windows); the provider's requests "
                   "are grouped into windows (a request more than 1 s after the previous one opens a new one), so any "
                   "request beyond one per window is one coordination should have saved "
                   "(`fleet_window_figures`). Goal ≤ 1.1.\n")
        out.append("| source | processes × tasks | calls | provider requests / windows | requests per window | errors | reused refresh tokens |")
        out.append("|---|---|---|---|---|---|---|")
        names = {"ccg": "client credentials", "code": "authorization code (rotating)"}
        for row in windows:
            out.append(f"| {names.get(row['source'], row['source'])} | {row['processes']} | {row['calls']:,} | "
                       f"{row['requests']} / {row['windows']} | **{row['requests_per_window']:.2f}** "
                       f"({verdict(row['requests_per_window'] <= 1.1)}) | {row['errors']} | {row['reuse']} |")
        out.append("\nThe 1.33 of the table above is the first token counted in a 6 s span of three windows, "
                   "not a duplicate request.\n")
    if len(sys.argv) > 9 and os.path.exists(sys.argv[9]) and os.path.getsize(sys.argv[9]) > 0:
        failover = json.loads(open(sys.argv[9], encoding="utf-8").read().strip().splitlines()[-1])
        out.append("### A Sentinel failover under a rotating fleet\n")
        out.append(f"{failover['processes']} processes under refresh-token rotation share a grant through a primary "
                   "watched by one sentinel (down after 1 s, one replica); the primary is killed (SIGKILL) 10 s into "
                   "a 24 s run, just after a refresh (`a_sentinel_failover_mid_run_loses_no_rotated_refresh_token`). "
                   f"The sentinel named the new primary after **{failover['failover_ms'] / 1000:.1f} s**. "
                   f"Calls: {failover['calls']:,}; errors: **{failover['errors']}**; refresh tokens presented twice: "
                   f"**{failover['reuse']}**; refused: **{failover['refused']}**. Each lock and saved token is "
                   "confirmed by the replica (`WAIT`) before the store goes on, so the promoted replica had the "
                   "newest refresh token.\n")
    counts = re.search(r"resource_access requests: cold (\d+) \(the user's browser (\d+)\), warm (\d+)",
                       open(sys.argv[1], encoding="utf-8").read())
    if counts and "resource_access/cold_path" in divan:
        cold, warm = divan["resource_access/cold_path"], divan["resource_access/warm_path"]
        total, browser, warm_requests = (int(n) for n in counts.groups())
        out.append("## 8. Resource-first authorization: the cold path\n")
        out.append("`ResourceAccess::send` against a protected resource and its authorization server on one "
                   "local hyper server (`benches/src/protected.rs`): the first call goes from the resource's 401 "
                   "to the retried request; a new `ResourceAccess` each time (no metadata, registration or token "
                   "kept), one shared HTTP client. The user is a headless browser that follows the authorization "
                   "URL once and hands back the redirect; the server approves at once.\n")
        out.append("| path | HTTP requests | median | fastest |")
        out.append("|---|---|---|---|")
        out.append(f"| cold: `POST /mcp` 401 → resource metadata → authorization-server metadata → registration "
                   f"→ (user: authorization) → token → `POST /mcp` 200 | {total - browser} by the client + "
                   f"{browser} by the user's browser | {human(cold['median'])} | {human(cold['fastest'])} |")
        out.append(f"| warm: the session's token | {warm_requests} | {human(warm['median'])} | "
                   f"{human(warm['fastest'])} |")
        out.append("")
    if len(sys.argv) > 6 and os.path.exists(sys.argv[6]):
        out.extend(atproto_section(json.load(open(sys.argv[6], encoding="utf-8"))))
    findings = os.path.join(os.path.dirname(__file__), "findings.md")
    if os.path.exists(findings):
        out.append(open(findings, encoding="utf-8").read().rstrip() + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
