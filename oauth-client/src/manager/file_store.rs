//! A [`TokenStore`] in a directory, for CLIs and desktop agents: the processes of one user
//! share tokens with the guarantees of the Redis store — versions compared and set, a refresh
//! lock with a time to live, published failures — through an OS file lock per key.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::source::BoxFuture;
use super::store::{
    RefreshFailure, SharedKind, StoreError, StoreErrorKind, StoreLock, StoreSnapshot, TokenStore,
    next_version,
};
use crate::OAuthToken;

/// Tokens in files under one directory, shared by every process of the user that opens it.
///
/// Each key is a file named after the key's SHA-256 (the key may name a provider and
/// account; the name reveals neither), written whole to a temporary file and renamed over
/// the old one, so a reader never sees half a token. Every change holds an exclusive lock on
/// the key's lock file (`flock` on Unix, `LockFileEx` on Windows) while it reads, compares and
/// writes: two processes cannot both take the refresh lock, and a save against a stale
/// version is refused, so a rotating provider never sees a refresh token twice. The directory
/// and its files are the user's alone (`0700`/`0600` on Unix).
///
/// ```no_run
/// # fn run(client: oauth_client::OAuthClient) -> Result<(), oauth_client::manager::StoreError> {
/// use std::sync::Arc;
/// use oauth_client::TokenManager;
/// use oauth_client::manager::{AuthorizationCode, FileStore};
///
/// let store = Arc::new(FileStore::open("/home/alice/.config/my-agent/tokens")?);
/// let tokens = TokenManager::builder(client, AuthorizationCode::new()).store(store, "github").build();
/// # let _ = tokens; Ok(()) }
/// ```
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
}

/// What one key's file holds. Times are Unix milliseconds: processes share no clock but the
/// system's.
#[derive(Default, Serialize, Deserialize)]
struct Entry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<OAuthToken>,
    #[serde(default)]
    version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure: Option<(RefreshFailure, u64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lock: Option<(String, u64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shared: Option<(String, u64)>,
}

impl FileStore {
    /// Opens (creating it if needed) the store in `dir`. On Unix an existing directory that
    /// others may read or write is refused: tokens would not be the user's alone.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        create_private_dir(&dir)?;
        Ok(FileStore { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str, extension: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        let name: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        self.dir.join(format!("{name}.{extension}"))
    }

    /// Runs `change` on `key`'s entry under the key's exclusive lock, in a blocking task;
    /// writes the entry back when `change` says it changed it.
    fn with_entry<T: Send + 'static>(
        &self,
        key: &str,
        change: impl FnOnce(&mut Entry, u64) -> (T, bool) + Send + 'static,
    ) -> BoxFuture<'static, Result<T, StoreError>> {
        let data = self.path(key, "json");
        let lock = self.path(key, "lock");
        Box::pin(async move {
            let work = move || {
                let lock = open_private(&lock, false)?;
                lock.lock().map_err(io_error)?;
                let mut entry = read_entry(&data)?;
                let (answer, changed) = change(&mut entry, now_ms());
                if changed {
                    write_entry(&data, &entry)?;
                }
                // Closing the file releases the lock as well; unlocking first says so.
                let _ = lock.unlock();
                Ok(answer)
            };
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn_blocking(work).await.map_err(|error| StoreError::msg(error.to_string()))?
                }
                Err(_) => work(),
            }
        })
    }
}

impl TokenStore for FileStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<StoreSnapshot, StoreError>> {
        self.with_entry(key, |entry, now| {
            let failure = entry.failure.take().filter(|(_, until)| now < *until).map(|(failure, _)| failure);
            (StoreSnapshot { token: entry.token.take(), version: entry.version, failure }, false)
        })
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        token: &'a OAuthToken,
        expected_version: u64,
    ) -> BoxFuture<'a, Result<Option<u64>, StoreError>> {
        let token = token.clone();
        self.with_entry(key, move |entry, _| {
            if entry.version != expected_version {
                return (None, false);
            }
            entry.version = next_version(entry.version, SystemTime::now());
            entry.token = Some(token);
            entry.failure = None;
            (Some(entry.version), true)
        })
    }

    fn remove<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.with_entry(key, |entry, _| {
            entry.version = next_version(entry.version, SystemTime::now());
            entry.token = None;
            entry.failure = None;
            ((), true)
        })
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<StoreLock>, StoreError>> {
        let owned_key = key.to_owned();
        self.with_entry(key, move |entry, now| {
            if entry.lock.as_ref().is_some_and(|(_, until)| *until > now) {
                return (None, false);
            }
            let holder = random_holder();
            entry.lock = Some((holder.clone(), now.saturating_add(millis(ttl))));
            (Some(StoreLock { key: owned_key, holder }), true)
        })
    }

    fn renew<'a>(&'a self, lock: &'a StoreLock, ttl: Duration) -> BoxFuture<'a, Result<bool, StoreError>> {
        let holder = lock.holder.clone();
        self.with_entry(&lock.key, move |entry, now| match &mut entry.lock {
            Some((held_by, until)) if *held_by == holder && *until > now => {
                *until = now.saturating_add(millis(ttl));
                (true, true)
            }
            _ => (false, false),
        })
    }

    fn unlock(&self, lock: StoreLock) -> BoxFuture<'_, Result<(), StoreError>> {
        let StoreLock { key, holder } = lock;
        self.with_entry(&key, move |entry, _| {
            let held = entry.lock.as_ref().is_some_and(|(held_by, _)| *held_by == holder);
            if held {
                entry.lock = None;
            }
            ((), held)
        })
    }

    fn publish_failure<'a>(
        &'a self,
        key: &'a str,
        failure: &'a RefreshFailure,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let failure = failure.clone();
        self.with_entry(key, move |entry, now| {
            entry.failure = Some((failure, now.saturating_add(millis(ttl))));
            ((), true)
        })
    }

    fn load_shared<'a>(
        &'a self,
        kind: SharedKind,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        self.with_entry(&shared_key(kind, name), |entry, now| {
            (entry.shared.take().filter(|(_, until)| now < *until).map(|(value, _)| value), false)
        })
    }

    fn save_shared<'a>(
        &'a self,
        kind: SharedKind,
        name: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let value = value.to_owned();
        self.with_entry(&shared_key(kind, name), move |entry, now| {
            entry.shared = (!ttl.is_zero()).then(|| (value, now.saturating_add(millis(ttl))));
            ((), true)
        })
    }
}

fn shared_key(kind: SharedKind, name: &str) -> String {
    format!("shared {} {name}", kind.name())
}

fn now_ms() -> u64 {
    millis(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Tells this holder from any other process's.
fn random_holder() -> String {
    let mut bytes = [0u8; 16];
    // Without randomness, the process id and time still differ between holders.
    if getrandom::fill(&mut bytes).is_err() {
        return format!("{}-{}", std::process::id(), now_ms());
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn io_error(error: std::io::Error) -> StoreError {
    StoreError::new(StoreErrorKind::Other, error)
}

fn read_entry(path: &Path) -> Result<Entry, StoreError> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
            StoreError::msg(format!("the token file {} is not valid: {error}", path.display()))
        }),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(Entry::default()),
        Err(error) => Err(io_error(error)),
    }
}

/// Writes `entry` to a temporary file beside `path`, flushed to disk, then renames it over
/// `path`: readers see the old entry or the new one, never a mix.
fn write_entry(path: &Path, entry: &Entry) -> Result<(), StoreError> {
    let json = serde_json::to_vec(entry).map_err(|error| StoreError::msg(error.to_string()))?;
    let temporary = path.with_extension(format!("tmp-{}", random_holder()));
    let written = (|| {
        let mut file = open_private(&temporary, true)?;
        file.write_all(&json).map_err(io_error)?;
        file.sync_all().map_err(io_error)?;
        fs::rename(&temporary, path).map_err(io_error)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// Opens `path` for writing, created readable by the user only; `new` refuses an existing file.
fn open_private(path: &Path, new: bool) -> Result<File, StoreError> {
    let mut options = OpenOptions::new();
    options.write(true);
    if new {
        options.create_new(true);
    } else {
        options.create(true).truncate(false);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(io_error)
}

fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io_error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(dir).map_err(io_error)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(StoreError::msg(format!(
                "the token directory {} is open to other users (mode {:o}); make it the user's alone: chmod 700",
                dir.display(),
                mode & 0o777
            )));
        }
    }
    Ok(())
}
