//! The shared state of every handler ([`AppState`]): storage, token verification, metrics, the
//! clock, the HTTP limits and the central audit log.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::auth::Verifier;
use crate::metrics::Metrics;
use crate::store::Store;

/// A clock, so tests can move time.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Limits for the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body (uploads), in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before a 503 `TIMEOUT`.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: Store,
    /// Token verification.
    pub verifier: Arc<Verifier>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The clock.
    pub clock: Clock,
    /// HTTP limits.
    pub limits: Limits,
    /// The central audit log, on the same database.
    pub audit_log: cpis_audit_log::AuditLog,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AppState")
            .field("store", &self.store)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State with the system clock.
    pub fn new(store: Store, verifier: Arc<Verifier>, limits: Limits) -> AppState {
        AppState {
            audit_log: store.audit_log(),
            store,
            verifier,
            metrics: Arc::new(Metrics::new()),
            clock: Arc::new(OffsetDateTime::now_utc),
            limits,
        }
    }

    /// The time now, by [`AppState::clock`].
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }
}
