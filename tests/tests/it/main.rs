//! The integration tests, in one binary (one link instead of one per file, which counts on
//! two cores). Tests that need the interop servers or redis-server are `#[ignore]`d with the
//! reason; `.ci/run` starts both and runs them with `--include-ignored`.

mod atproto;
mod basic_auth_roundtrip;
mod compiletest;
mod error_mapping;
mod extensions;
mod file_store;
mod hostile_responses;
mod interop;
mod limits;
mod metrics;
mod redirects_and_retries;
mod redis_store;
mod resource_access;
mod secrets;
mod send_futures;
mod token_manager;
mod wire_format;
mod workload;
