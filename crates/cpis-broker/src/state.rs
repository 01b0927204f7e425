//! The broker's shared state ([`BrokerState`]): settings, the signing key, CIS2, the platform,
//! the store, and the per-session refresh locks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

use crate::cis2::Cis2;
use crate::keys::{KeyError, SigningKey};
use crate::platform::Platform;
use crate::store::{Store, StoreError, short_id, to_micros};

/// What the handlers share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BrokerState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: Settings,
    key: SigningKey,
    cis2: Cis2,
    platform: Platform,
    store: Store,
    http: crate::http::Http,
    refresh_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    last_prune: AtomicI64,
}

/// The settings the handlers read.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The broker's public URL, without a trailing slash.
    pub public_url: String,
    /// The app's client id.
    pub app_client_id: String,
    /// `acr_values` asked of CIS2.
    pub acr_values: String,
    /// Sign-in time allowed at CIS2.
    pub pending_ttl: Duration,
    /// The app code's lifetime.
    pub app_code_ttl: Duration,
    /// The session's longest life.
    pub session_max_age: Duration,
}

/// A client assertion that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AssertionError {
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The `jti` could not be recorded (or was used before).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BrokerState {
    /// Put the parts together.
    pub fn new(
        settings: Settings,
        key: SigningKey,
        cis2: Cis2,
        platform: Platform,
        store: Store,
        http: crate::http::Http,
    ) -> BrokerState {
        BrokerState {
            inner: Arc::new(Inner {
                settings,
                key,
                cis2,
                platform,
                store,
                http,
                refresh_locks: Mutex::new(HashMap::new()),
                last_prune: AtomicI64::new(0),
            }),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        &self.inner.key
    }

    /// CIS2.
    pub fn cis2(&self) -> &Cis2 {
        &self.inner.cis2
    }

    /// The platform.
    pub fn platform(&self) -> &Platform {
        &self.inner.platform
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The outgoing HTTP client.
    pub fn http(&self) -> &crate::http::Http {
        &self.inner.http
    }

    /// A fresh RS512 client assertion by `client` for `audience`, its `jti` recorded so it is
    /// never sent again.
    pub async fn assertion(&self, client: &str, audience: &str) -> Result<String, AssertionError> {
        let claims = SigningKey::assertion_claims(client, audience, OffsetDateTime::now_utc());
        self.inner
            .store
            .record_jti(&claims.jti, claims.exp.saturating_mul(1_000_000))
            .await?;
        Ok(self.inner.key.sign(&claims)?)
    }

    /// The in-process lock for refreshing session `id` (the store's lease covers replicas).
    pub fn refresh_lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .inner
            .refresh_locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        locks
            .entry(id.to_owned())
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
            .clone()
    }

    /// Forget session `id`'s lock when nobody else holds or waits for it.
    pub fn forget_refresh_lock(&self, id: &str, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut locks = self
            .inner
            .refresh_locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The map's reference and ours.
        if Arc::strong_count(&lock) <= 2 {
            locks.remove(id);
        }
    }

    /// Delete expired rows now and then (at most every 5 minutes), in the background, and end
    /// (revoking at the platform) the sessions whose one-time code expired unredeemed.
    pub fn prune_now_and_then(&self) {
        let now = OffsetDateTime::now_utc();
        let last = self.inner.last_prune.load(Ordering::Relaxed);
        let micros = to_micros(now);
        if micros - last < 5 * 60 * 1_000_000 {
            return;
        }
        if self
            .inner
            .last_prune
            .compare_exchange(last, micros, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let state = self.clone();
        tokio::spawn(async move {
            let store = state.store();
            if let Err(error) = store.prune(now).await {
                tracing::warn!(%error, "pruning expired sign-ins failed");
            }
            // A minute's grace past the code's life.
            let cutoff = to_micros(now)
                - i64::try_from(state.settings().app_code_ttl.as_micros()).unwrap_or(i64::MAX / 2)
                - 60_000_000;
            let unclaimed = match store.unclaimed_sessions(cutoff).await {
                Ok(ids) => ids,
                Err(error) => {
                    tracing::warn!(%error, "reading unclaimed sessions failed");
                    return;
                }
            };
            for id in unclaimed {
                if let Ok(Some(Some(refresh_token))) = store.end_session(&id, now).await
                    && let Err(error) = state.platform().revoke(&refresh_token).await
                {
                    tracing::warn!(session = short_id(&id), %error, "revocation failed");
                }
            }
        });
    }
}
