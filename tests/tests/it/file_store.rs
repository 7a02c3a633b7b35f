//! `FileStore`: the processes of one user sharing tokens through a directory, with the
//! guarantees of the Redis store.

use std::time::Duration;

use oauth_client::manager::{FileStore, StoreLock, TokenStore as _};
use oauth_client_tests::fleet::{Event, Fleet, FleetPlan, RotatingProvider};
use serde_json::json;

use crate::redis_store::{WORKER, refresh_windows, rotating, token_with};

fn temporary_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("oauth-file-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn saves_are_fenced_by_version_and_locks_renewed_by_their_holder_only() {
    let dir = temporary_dir("fenced");
    let store = FileStore::open(&dir).unwrap();
    let first = token_with(json!({"access_token": "first", "token_type": "Bearer", "refresh_token": "r1"}));
    let late = token_with(json!({"access_token": "late", "token_type": "Bearer"}));
    let version = store.save("fenced", &first, 0).await.unwrap().expect("nothing stored yet");
    assert_eq!(store.save("fenced", &late, 0).await.unwrap(), None, "a save against a stale version");
    let reopened = FileStore::open(&dir).unwrap();
    let snapshot = reopened.load("fenced").await.unwrap();
    assert_eq!(snapshot.token.unwrap().refresh_token.unwrap().secret(), "r1", "another opener sees it");
    assert_eq!(snapshot.version, version);
    assert!(store.save("fenced", &late, version).await.unwrap().unwrap() > version);

    let lock = store.try_lock("fenced", Duration::from_millis(300)).await.unwrap().unwrap();
    assert!(reopened.try_lock("fenced", Duration::from_millis(300)).await.unwrap().is_none());
    let stranger = StoreLock { key: "fenced".into(), holder: "someone-else".into() };
    assert!(!store.renew(&stranger, Duration::from_secs(5)).await.unwrap());
    reopened.unlock(stranger).await.unwrap();
    assert!(store.renew(&lock, Duration::from_secs(5)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        store.try_lock("fenced", Duration::from_millis(300)).await.unwrap().is_none(),
        "renewed past 300 ms"
    );
    store.unlock(lock).await.unwrap();
    assert!(store.try_lock("fenced", Duration::from_millis(300)).await.unwrap().is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn tokens_are_the_users_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temporary_dir("private");
    let store = FileStore::open(&dir).unwrap();
    store.save("k", &token_with(json!({"access_token": "a", "token_type": "Bearer"})), 0).await.unwrap();
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    assert_eq!(files.len(), 2, "the token and its lock file: {files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{file:?}");
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(stem.len() == 64 && stem.chars().all(|c| c.is_ascii_hexdigit()), "named by digest: {stem}");
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let error = FileStore::open(&dir).unwrap_err();
    assert!(error.to_string().contains("chmod 700"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two processes of one user (the CLI run twice, an agent and its helper) share one grant
/// through a file store while the provider rotates refresh tokens and revokes the grant on a
/// replay: not a single refresh token is presented twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_a_file_store_refresh_without_a_replay() {
    let dir = temporary_dir("fleet");
    let (_server, provider, url) = rotating(RotatingProvider::new(3)).await;
    let plan = FleetPlan::steady(2, 10, "code", 6_000);
    let store = format!("file:{}", dir.display());
    let reports = Fleet::start(WORKER, &plan, &url, &store, "two-processes").reports();

    let samples: Vec<_> = reports.iter().flat_map(|report| report.error_samples.clone()).collect();
    assert_eq!(reports.iter().map(|report| report.errors).sum::<u64>(), 0, "{samples:?}");
    assert_eq!(provider.count(&Event::Reuse), 0, "no refresh token was presented twice");
    assert_eq!(provider.count(&Event::Refused), 0);
    assert_eq!(provider.count(&Event::Issued), 1, "one login; every other token came from a refresh");
    assert!(provider.count(&Event::Rotated) >= 2, "the grant rotated while shared: {:?}", provider.events());
    let windows = refresh_windows(&plan, 3);
    assert!(
        provider.events().len() <= windows + 1,
        "{} requests for {windows} windows",
        provider.events().len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
