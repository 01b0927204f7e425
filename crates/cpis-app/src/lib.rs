//! The desktop app's core, with no Tauri in it: who is signed in, looking a patient up,
//! recording a follow-up, the audit queue and its sync, and what the status bar shows.
//! `src-tauri` wraps each public method in a command of a few lines.
//!
//! Architecture invariants:
//! - tokens live in the OS keyring and in this process's memory, never in IPC or files;
//! - every lookup is appended to the durable audit queue before its result is returned, and
//!   a failed append is reported with the result, never instead of it;
//! - a result is returned for display only if no newer lookup has started since;
//! - locking or signing out forgets the session, the tokens and every lookup's context, and
//!   ends the session at the token broker (best effort, never waited for);
//! - the inactivity lock is enforced here as well as in the UI (`session.rs`): a session idle
//!   for `lock_minutes` is never restored, and every command that needs a signed-in clinician
//!   is refused as locked, whatever the UI did (closed, crashed, reloaded);
//! - a token refresh that finishes after sign-out, lock or another sign-in is thrown away
//!   (`credentials.rs`), and a lookup's deadline covers getting credentials;
//! - without a usable configuration there is no core at all ([`App::SetupNeeded`]): nothing
//!   is contacted, and the UI shows what to set and where.

mod credentials;
mod la_contact;
mod lookup;
mod review;
mod session;
mod setup;
mod status;

pub use la_contact::LaContactDetail;
pub use lookup::AUDIT_INCIDENT_MESSAGE;
pub use session::{Clock, IDLE_CHECK_EVERY, LOGIN_HINT_ENV, SIGN_IN_WAIT, SystemClock};
pub use setup::{App, not_set_up_error, setup_problem_view};
pub use status::{BACKLOG_WARNING_AGE, BACKLOG_WARNING_COUNT};

use std::collections::HashMap;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

use cpis_audit::sync::SyncTrigger;
use cpis_client::{
    AlertClient, AuditLogClient, Broker, Config, KeyringTokenStore, LookupSequencer, QueueSink,
};

use crate::credentials::Sessions;
use crate::lookup::LookupContext;

/// The app's state.
pub struct AppCore {
    config: Config,
    version: String,
    sink: Arc<QueueSink>,
    sync_trigger: SyncTrigger,
    alert: AlertClient,
    sessions: Sessions,
    clock: Arc<dyn Clock>,
    sign_in_attempt: std::sync::atomic::AtomicU64,
    sign_in_cancel: tokio::sync::Notify,
    audit_log: AuditLogClient,
    sequencer: LookupSequencer,
    next_lookup_id: AtomicU32,
    lookups: Mutex<HashMap<u32, LookupContext>>,
    services_reachable: Mutex<Option<bool>>,
}

impl std::fmt::Debug for AppCore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AppCore")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Why the app could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl AppCore {
    /// Start the core from a configuration. A queue that cannot be opened does not stop the
    /// app (results must still be shown); it is reported in the status bar as an incident.
    pub fn new(
        config: Config,
        store: KeyringTokenStore,
        version: String,
    ) -> Result<AppCore, StartError> {
        AppCore::with_clock(config, store, version, Arc::new(SystemClock))
    }

    /// [`AppCore::new`] with the wall clock the inactivity lock and the session's 12 hours
    /// are read from (tests move it).
    pub fn with_clock(
        config: Config,
        store: KeyringTokenStore,
        version: String,
        clock: Arc<dyn Clock>,
    ) -> Result<AppCore, StartError> {
        let sync_trigger = SyncTrigger::new();
        let trigger = sync_trigger.clone();
        let sink = Arc::new(
            // Encrypted under the key kept beside the session in the OS keyring.
            QueueSink::open(
                &config.data_dir,
                &cpis_client::QueueKeyStore::new(store.service()),
            )
            .with_after_append(Box::new(move || trigger.poke())),
        );
        if let Some(problem) = sink.problem() {
            tracing::error!(error = %problem, "audit queue could not be opened");
        }
        let device = sink
            .queue()
            .map(|queue| queue.device_id().to_string())
            .unwrap_or_else(|| "unknown-device".into());
        let alert = AlertClient::new(&config, sink.clone(), format!("cpis-viewer/{device}"))
            .map_err(|error| StartError(error.to_string()))?;
        let audit_log =
            AuditLogClient::new(&config).map_err(|error| StartError(error.to_string()))?;
        // Fails only when the HTTP client cannot be built, as the alert client's would.
        let broker = Broker::new(&config.sign_in, &config.tls)
            .map_err(|_| StartError("the sign-in client could not be set up".to_owned()))?;
        let core = AppCore {
            config,
            version,
            sink,
            sync_trigger,
            alert,
            sessions: Sessions::new(store, broker),
            clock,
            sign_in_attempt: std::sync::atomic::AtomicU64::new(0),
            sign_in_cancel: tokio::sync::Notify::new(),
            audit_log,
            sequencer: LookupSequencer::new(),
            next_lookup_id: AtomicU32::new(1),
            lookups: Mutex::new(HashMap::new()),
            services_reachable: Mutex::new(None),
        };
        core.restore_session();
        Ok(core)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_core_has_no_http_client_of_its_own() {
        // Every request goes through cpis-client, on its one hardened builder.
        let manifest = include_str!("../Cargo.toml");
        assert!(
            !manifest.contains("reqwest"),
            "cpis-app must not depend on reqwest"
        );
    }
}
