//! A shared store's calls, counted and timed (feature `metrics`): what an operator watches
//! to see the store slow down or go away before managers fall back.

use std::sync::Arc;
use std::time::Duration;

use super::source::BoxFuture;
use super::store::{
    RefreshFailure, SharedKind, StoreError, StoreErrorKind, StoreLock, StoreSnapshot, TokenStore,
};
use crate::OAuthToken;

/// Wraps the store a manager was given; every call is passed on as it is.
pub(super) struct MeteredStore(pub(super) Arc<dyn TokenStore>);

/// Awaits `call`, then records it as `operation`.
async fn measured<T>(
    operation: &'static str,
    call: BoxFuture<'_, Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let started = crate::telemetry::Stopwatch::start();
    let result = call.await;
    let outcome = match result.as_ref().map_err(StoreError::kind) {
        Ok(_) => "ok",
        Err(StoreErrorKind::Slow) => "slow",
        Err(StoreErrorKind::Unreachable) => "unreachable",
        Err(_) => "error",
    };
    crate::telemetry::store_operation(operation, outcome, &started);
    result
}

impl TokenStore for MeteredStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<StoreSnapshot, StoreError>> {
        Box::pin(measured("load", self.0.load(key)))
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        token: &'a OAuthToken,
        expected_version: u64,
    ) -> BoxFuture<'a, Result<Option<u64>, StoreError>> {
        Box::pin(measured("save", self.0.save(key, token, expected_version)))
    }

    fn remove<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(measured("remove", self.0.remove(key)))
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<StoreLock>, StoreError>> {
        Box::pin(measured("lock", self.0.try_lock(key, ttl)))
    }

    fn renew<'a>(&'a self, lock: &'a StoreLock, ttl: Duration) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(measured("renew", self.0.renew(lock, ttl)))
    }

    fn unlock(&self, lock: StoreLock) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(measured("unlock", self.0.unlock(lock)))
    }

    fn publish_failure<'a>(
        &'a self,
        key: &'a str,
        failure: &'a RefreshFailure,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(measured("publish_failure", self.0.publish_failure(key, failure, ttl)))
    }

    fn load_shared<'a>(
        &'a self,
        kind: SharedKind,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(measured("load_shared", self.0.load_shared(kind, name)))
    }

    fn save_shared<'a>(
        &'a self,
        kind: SharedKind,
        name: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(measured("save_shared", self.0.save_shared(kind, name, value, ttl)))
    }
}
