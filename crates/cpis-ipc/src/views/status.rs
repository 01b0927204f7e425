//! What the status bar shows: the app's version, whether the services answered, the audit queue
//! and the configuration files in use.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::IpcError;

/// The audit queue, for the status bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditStatusView {
    /// Records waiting to be sent.
    pub waiting: u32,
    /// How old the oldest waiting record is, in minutes.
    pub oldest_waiting_minutes: Option<u32>,
    /// When the central log last confirmed a batch.
    pub last_success: Option<String>,
    /// Records the central log rejected.
    pub quarantined: u32,
    /// Whether the backlog is large or old enough to warn about.
    pub warning: bool,
    /// Queue files set aside because the key in the OS keyring could not read them: their
    /// records have not been sent (an incident for IT; docs/deployment.md). Usually 0.
    pub unreadable_files: u32,
    /// Set when the local audit queue itself failed: an incident to report, as a code and its
    /// fixed message (never the underlying error's text).
    pub queue_error: Option<IpcError>,
}

/// Everything the status bar shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StatusView {
    /// The app's version.
    pub version: String,
    /// Whether the services answered their last health check; `None` before the first.
    pub services_reachable: Option<bool>,
    /// The audit queue.
    pub audit: AuditStatusView,
    /// The configuration files in use, in the words the status area shows (for example
    /// "/etc/cpis-viewer/config.toml (machine-wide)"); empty when only built-in development
    /// settings are in use.
    pub config_files: Vec<String>,
}
