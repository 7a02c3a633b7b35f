//! A fleet of real OS processes (`fleet_worker`) sharing one token through Redis, and the
//! provider they refresh at: it rotates refresh tokens and, as RFC 9700 §4.14.2 says a
//! provider may, revokes the whole grant when a used refresh token comes back.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

use crate::form_of;

/// What the provider saw, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A login (authorization code) or client-credentials token was issued.
    Issued,
    /// A refresh rotated the refresh token.
    Rotated,
    /// A refresh answered 503 on purpose (nothing rotated).
    Failed,
    /// A used refresh token came back: the grant was revoked.
    Reuse,
    /// A refresh token of a revoked grant, or an unknown one, was refused.
    Refused,
}

#[derive(Default)]
struct State {
    serial: usize,
    refreshes: usize,
    /// Refresh token → (grant, still live).
    refresh_tokens: HashMap<String, (usize, bool)>,
    revoked_grants: Vec<usize>,
    events: Vec<(Instant, Event)>,
}

/// A token endpoint for the fleet: `expires_in` seconds per access token, answers after
/// `delay`, and answers the `fail_refresh`-th refresh (from 1) with 503.
pub struct RotatingProvider {
    /// Lifetime of each access token, in seconds.
    pub expires_in: u64,
    /// How long each answer takes.
    pub delay: Duration,
    /// Which refresh (counted from 1) answers 503 instead, if any.
    pub fail_refresh: Option<usize>,
    state: Mutex<State>,
}

impl RotatingProvider {
    /// A provider issuing tokens for `expires_in` seconds, answering at once.
    pub fn new(expires_in: u64) -> Self {
        RotatingProvider { expires_in, delay: Duration::ZERO, fail_refresh: None, state: Mutex::default() }
    }

    /// Everything that happened so far.
    pub fn events(&self) -> Vec<(Instant, Event)> {
        self.state.lock().unwrap().events.clone()
    }

    /// How many events of `kind` happened.
    pub fn count(&self, kind: &Event) -> usize {
        self.state.lock().unwrap().events.iter().filter(|(_, event)| event == kind).count()
    }

    fn issue(&self, state: &mut State, grant: usize, event: Event) -> ResponseTemplate {
        let serial = state.serial;
        state.serial += 1;
        let refresh_token = format!("rt-{serial}");
        state.refresh_tokens.insert(refresh_token.clone(), (grant, true));
        state.events.push((Instant::now(), event));
        ResponseTemplate::new(200)
            .set_body_json(json!({
                "access_token": format!("at-{serial}"),
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "refresh_token": refresh_token,
            }))
            .set_delay(self.delay)
    }
}

impl Respond for RotatingProvider {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = form_of(request);
        let field = |name: &str| form.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
        let mut state = self.state.lock().unwrap();
        let refused = |state: &mut State, event: Event| {
            state.events.push((Instant::now(), event));
            ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})).set_delay(self.delay)
        };
        match field("grant_type") {
            Some("refresh_token") => {
                let presented = field("refresh_token").unwrap_or_default().to_owned();
                let Some(&(grant, live)) = state.refresh_tokens.get(&presented) else {
                    return refused(&mut state, Event::Refused);
                };
                if state.revoked_grants.contains(&grant) {
                    return refused(&mut state, Event::Refused);
                }
                if !live {
                    state.revoked_grants.push(grant);
                    return refused(&mut state, Event::Reuse);
                }
                state.refreshes += 1;
                if self.fail_refresh == Some(state.refreshes) {
                    state.events.push((Instant::now(), Event::Failed));
                    return ResponseTemplate::new(503).set_delay(self.delay);
                }
                state.refresh_tokens.insert(presented, (grant, false));
                self.issue(&mut state, grant, Event::Rotated)
            }
            _ => {
                let grant = state.serial;
                self.issue(&mut state, grant, Event::Issued)
            }
        }
    }
}

/// How a fleet runs.
#[derive(Clone, Debug)]
pub struct FleetPlan {
    /// Processes.
    pub processes: usize,
    /// Tasks asking for tokens in each process.
    pub tasks: usize,
    /// `code`: the first process logs in and seeds the store; `ccg`: client credentials;
    /// `jwt-bearer`: the JWT bearer grant presenting the platform token in `assertion_file`.
    pub source: &'static str,
    /// The platform token file of the `jwt-bearer` source.
    pub assertion_file: Option<std::path::PathBuf>,
    /// `(milliseconds, "active" | "idle")`, in order, for the first process.
    pub phases: Vec<(u64, &'static str)>,
    /// The same for every other process; empty: as the first.
    pub other_phases: Vec<(u64, &'static str)>,
    /// The managers' leeway, in seconds.
    pub leeway_s: u64,
    /// The store lock's lifetime without renewal, in ms.
    pub lock_ttl_ms: u64,
    /// How long a failed refresh is not retried, in ms.
    pub failure_backoff_ms: u64,
}

impl FleetPlan {
    /// `processes` processes of `tasks` tasks each, all active for `active_ms` ms; the
    /// settings of most fleet tests: leeway 1 s, lock lifetime 2 s, failure backoff 1 s.
    pub fn steady(processes: usize, tasks: usize, source: &'static str, active_ms: u64) -> Self {
        FleetPlan {
            processes,
            tasks,
            source,
            assertion_file: None,
            phases: vec![(active_ms, "active")],
            other_phases: Vec::new(),
            leeway_s: 1,
            lock_ttl_ms: 2_000,
            failure_backoff_ms: 1_000,
        }
    }
}

/// What one process reported.
#[derive(Clone, Debug)]
pub struct WorkerReport {
    /// `access_token` calls made.
    pub calls: u64,
    /// Calls that failed.
    pub errors: u64,
    /// A few of the failures' messages.
    pub error_samples: Vec<String>,
    /// The distinct access tokens handed out.
    pub tokens: Vec<String>,
}

/// Processes of a fleet, started and not yet reported.
pub struct Fleet {
    children: Vec<Child>,
    /// When the schedule starts (the processes wait for it).
    pub start: SystemTime,
}

impl Fleet {
    /// Starts `plan.processes` processes of `worker` against `token_url` and `redis_url`
    /// under `key`. With the `code` source the first one seeds the store before the others
    /// start, as a login followed by a deployment would.
    pub fn start(worker: &str, plan: &FleetPlan, token_url: &str, redis_url: &str, key: &str) -> Fleet {
        let start = SystemTime::now() + Duration::from_millis(1_500 + 150 * plan.processes as u64);
        let start_ms = start.duration_since(UNIX_EPOCH).unwrap().as_millis().to_string();
        let schedule = |phases: &[(u64, &str)]| {
            phases.iter().map(|(ms, kind)| format!("{ms}:{kind}")).collect::<Vec<_>>().join(",")
        };
        let mut children = Vec::new();
        for index in 0..plan.processes {
            let phases = match index {
                0 => schedule(&plan.phases),
                _ if plan.other_phases.is_empty() => schedule(&plan.phases),
                _ => schedule(&plan.other_phases),
            };
            let mut command = Command::new(worker);
            command
                .args(["--redis", redis_url, "--token-url", token_url, "--key", key, "--source", plan.source])
                .args(["--start-ms", &start_ms, "--phases", &phases])
                .args(["--tasks", &plan.tasks.to_string(), "--leeway-s", &plan.leeway_s.to_string()])
                .args(["--lock-ttl-ms", &plan.lock_ttl_ms.to_string()])
                .args(["--failure-backoff-ms", &plan.failure_backoff_ms.to_string()])
                .stdout(Stdio::piped());
            if let Some(file) = &plan.assertion_file {
                command.arg("--assertion-file").arg(file);
            }
            let seeds = index == 0 && plan.source == "code";
            if seeds {
                command.args(["--login", "login-code"]);
            }
            let mut child = command.spawn().expect("the fleet worker starts");
            if seeds {
                let mut line = String::new();
                BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
                assert_eq!(line.trim(), "seeded", "the first process published its login");
            }
            children.push(child);
        }
        Fleet { children, start }
    }

    /// Waits for every process and returns their reports.
    pub fn reports(mut self) -> Vec<WorkerReport> {
        std::mem::take(&mut self.children)
            .into_iter()
            .map(|child| {
                let output = child.wait_with_output().expect("the worker ends");
                assert!(output.status.success(), "a fleet worker failed: {:?}", output.status);
                let text = String::from_utf8_lossy(&output.stdout);
                let last = text.lines().last().expect("the worker reports");
                let report: Value = serde_json::from_str(last).expect("a JSON report");
                WorkerReport {
                    calls: report["calls"].as_u64().unwrap(),
                    errors: report["errors"].as_u64().unwrap(),
                    error_samples: serde_json::from_value(report["error_samples"].clone()).unwrap(),
                    tokens: serde_json::from_value(report["tokens"].clone()).unwrap(),
                }
            })
            .collect()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
