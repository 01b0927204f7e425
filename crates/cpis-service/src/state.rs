//! The shared state of every handler ([`AppState`]): storage, the CIS2 ID token verifier, the
//! registered platform app, metrics, the clocks, the HTTP limits, the central audit log and the recorder of the
//! service's own reads.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::auth::{CallerCache, PlatformApp, Verifier};
use crate::metrics::Metrics;
use crate::store::{ReadRecorder, Store};

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
    /// CIS2 ID token verification (the token exchange's `subject_token`).
    pub verifier: Arc<Verifier>,
    /// The registered platform app whose client assertions the token endpoint accepts.
    pub platform: Arc<PlatformApp>,
    /// Callers resolved from opaque access tokens, for a few seconds.
    pub callers: Arc<CallerCache>,
    /// The platform's clock: token lifetimes, `jti`s, refresh expiry. The system clock; tests
    /// move it apart from [`AppState::clock`].
    pub platform_clock: Clock,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The clock.
    pub clock: Clock,
    /// HTTP limits.
    pub limits: Limits,
    /// The central audit log, on the same database.
    pub audit_log: cpis_audit_log::AuditLog,
    /// Records the service's own reads (`crate::reads`), through one group-commit writer.
    pub reads: ReadRecorder,
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
    /// State with the system clock. Starts the read writer: call within a Tokio runtime.
    pub fn new(
        store: Store,
        verifier: Arc<Verifier>,
        platform: Arc<PlatformApp>,
        limits: Limits,
    ) -> AppState {
        AppState {
            audit_log: store.audit_log(),
            reads: ReadRecorder::start(&store),
            store,
            verifier,
            platform,
            callers: Arc::new(CallerCache::default()),
            platform_clock: Arc::new(OffsetDateTime::now_utc),
            metrics: Arc::new(Metrics::new()),
            clock: Arc::new(OffsetDateTime::now_utc),
            limits,
        }
    }

    /// The time now, by [`AppState::clock`].
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    /// The service's public base URL (no trailing slash), which search answers name in their
    /// `link` and `fullUrl`s: the token URL (`{public_url}/oauth2/token`) without its path.
    pub fn public_url(&self) -> &str {
        let token_url = self.platform.token_url();
        token_url
            .strip_suffix("/oauth2/token")
            .unwrap_or(token_url)
            .trim_end_matches('/')
    }

    /// The platform's time now, by [`AppState::platform_clock`].
    pub fn platform_now(&self) -> OffsetDateTime {
        (self.platform_clock)()
    }
}
