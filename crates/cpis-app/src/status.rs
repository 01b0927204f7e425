//! What the status bar and the UI's settings show, and the background sync of the audit queue
//! to the central log.

use std::sync::Arc;
use std::time::Duration;

use cpis_audit::sync::{HttpAuditTransport, run_background_sync};
use cpis_ipc::{
    AuditStatusView, IpcError, IpcErrorCode, PhoneView, StatusView, TrustContactsView, UiSettings,
    display_date_time,
};
use time::OffsetDateTime;

use crate::AppCore;

/// Warn in the status bar when this many records wait, or the oldest is this old.
pub const BACKLOG_WARNING_COUNT: u64 = 50;
/// See [`BACKLOG_WARNING_COUNT`].
pub const BACKLOG_WARNING_AGE: time::Duration = time::Duration::minutes(30);

impl AppCore {
    /// Settings the UI needs: the inactivity lock and the trust's own words.
    pub fn ui_settings(&self) -> UiSettings {
        let minutes = (self.config.lock_after.as_secs() / 60).max(1);
        let trust = &self.config.trust;
        // Checked as a UK number when the configuration was read; read again here as every
        // view's phone is, for the same display, link and extension rules.
        let phone = |phone: &Option<cpis_client::config::PhoneNumber>| {
            phone
                .as_ref()
                .and_then(|phone| PhoneView::given(phone.display()))
        };
        UiSettings {
            lock_minutes: u32::try_from(minutes).unwrap_or(u32::MAX),
            organisation_display_name: trust.organisation_name.clone(),
            trust: TrustContactsView {
                downtime_procedure: trust.downtime_procedure.clone(),
                safeguarding_in_hours: phone(&trust.safeguarding_in_hours_phone),
                safeguarding_in_hours_times: trust.safeguarding_in_hours_times.clone(),
                safeguarding_out_of_hours: phone(&trust.safeguarding_out_of_hours_phone),
            },
        }
    }

    /// What the status bar shows.
    pub fn status(&self) -> StatusView {
        let now = OffsetDateTime::now_utc();
        // The queue's own error text is never shown: it becomes a code and its fixed message.
        let queue_error = self
            .sink
            .problem()
            .map(|_| IpcError::new(IpcErrorCode::AuditQueueWriteFailed));
        let audit = match self.sink.queue().map(|queue| queue.status()) {
            Some(Ok(status)) => {
                let oldest_age = status.oldest_waiting_at.map(|oldest| now - oldest);
                AuditStatusView {
                    waiting: u32::try_from(status.waiting).unwrap_or(u32::MAX),
                    oldest_waiting_minutes: oldest_age
                        .map(|age| u32::try_from(age.whole_minutes().max(0)).unwrap_or(u32::MAX)),
                    last_success: status.last_success_at.map(display_date_time),
                    quarantined: u32::try_from(status.quarantined).unwrap_or(u32::MAX),
                    warning: status.waiting >= BACKLOG_WARNING_COUNT
                        || oldest_age.is_some_and(|age| age >= BACKLOG_WARNING_AGE)
                        || status.quarantined > 0
                        || !status.unreadable_files.is_empty(),
                    unreadable_files: u32::try_from(status.unreadable_files.len())
                        .unwrap_or(u32::MAX),
                    queue_error,
                }
            }
            Some(Err(error)) => AuditStatusView {
                waiting: 0,
                oldest_waiting_minutes: None,
                last_success: None,
                quarantined: 0,
                warning: true,
                unreadable_files: 0,
                queue_error: {
                    tracing::warn!(error = %error, "audit queue status could not be read");
                    Some(IpcError::new(IpcErrorCode::AuditQueueUnreadable))
                },
            },
            None => AuditStatusView {
                waiting: 0,
                oldest_waiting_minutes: None,
                last_success: None,
                quarantined: 0,
                warning: true,
                unreadable_files: 0,
                queue_error: Some(IpcError::new(IpcErrorCode::AuditQueueUnavailable)),
            },
        };
        StatusView {
            version: self.version.clone(),
            services_reachable: self.services_reachable.lock().ok().and_then(|slot| *slot),
            audit,
            config_files: self.config.origin.describe_files(),
        }
    }

    /// Drain the audit queue to the central log in the background, for as long as the app
    /// runs. Returns at once when there is no queue.
    pub async fn run_audit_sync(self: Arc<Self>) {
        let Some(queue) = self.sink.queue().cloned() else {
            return;
        };
        let sessions = self.sessions.clone();
        let token = Arc::new(move || {
            sessions
                .current()
                .map(|session| session.tokens.access_token.expose().to_string())
        });
        let transport = match HttpAuditTransport::with_client_builder(
            self.config.services.audit_url.clone(),
            token,
            Duration::from_secs(15),
            cpis_client::http::client_builder(&self.config.tls),
        ) {
            Ok(transport) => transport,
            Err(error) => {
                tracing::error!(error = %error, "audit sync could not start");
                return;
            }
        };
        let trigger = self.sync_trigger.clone();
        run_background_sync(
            queue,
            transport,
            trigger,
            Duration::from_secs(30),
            |result| {
                if let Err(error) = result {
                    tracing::warn!(error = %error, "audit sync pass failed; will retry");
                }
            },
        )
        .await;
    }
}
