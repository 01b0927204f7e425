//! The [`AuditSink`] that the app and the CLI share: every lookup is appended to the durable
//! local queue (`cpis-audit`) in the user's data folder, encrypted under the key in the OS
//! keyring ([`crate::queue_key`]). A queue that cannot be opened, or an
//! append that fails, makes the record fail visibly (the caller shows or prints it), never the
//! lookup; the last failure is kept for the status bar.

use std::sync::{Arc, Mutex};

use cpis_audit::{AuditAction, AuditQueue, NewAuditEntry};

use crate::audit::{AuditRecord, AuditSink, AuditSinkError};
use crate::queue_key::QueueKeyStore;

/// A warning when opening `queue` set aside a file its key could not read (no patient data:
/// only the file's name).
pub fn log_set_aside(queue: &AuditQueue) {
    if let Some(aside) = queue.set_aside_at_open() {
        tracing::warn!(
            file = %aside.display(),
            "the local audit queue could not be read with the key in the OS keyring; it was kept \
             under a new name and a new queue was started: its records have not been sent \
             (report this to IT; docs/deployment.md)"
        );
    }
}

/// Called after each successful append (the app wakes its background sync).
pub type AfterAppend = Box<dyn Fn() + Send + Sync>;

/// The local queue as an audit sink.
pub struct QueueSink {
    queue: Result<Arc<AuditQueue>, String>,
    after_append: Option<AfterAppend>,
    last_error: Mutex<Option<String>>,
}

impl std::fmt::Debug for QueueSink {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("QueueSink")
            .field("open", &self.queue.is_ok())
            .finish_non_exhaustive()
    }
}

impl QueueSink {
    /// Open the encrypted queue in `folder` under the key in `keys` (made when there is none);
    /// if that fails (the keyring is unavailable, the disk), every record fails with the
    /// reason. A queue file the key cannot read is set aside and logged here, and reported by
    /// [`AuditQueue::status`] until IT deals with it.
    pub fn open(folder: &std::path::Path, keys: &QueueKeyStore) -> QueueSink {
        let queue = keys.open_queue(folder);
        if let Ok(queue) = &queue {
            log_set_aside(queue);
        }
        QueueSink {
            queue: queue
                .map(Arc::new)
                .map_err(|error| format!("the local audit queue could not be opened: {error}")),
            after_append: None,
            last_error: Mutex::new(None),
        }
    }

    /// A sink over a queue already open.
    pub fn with_queue(queue: AuditQueue) -> QueueSink {
        QueueSink {
            queue: Ok(Arc::new(queue)),
            after_append: None,
            last_error: Mutex::new(None),
        }
    }

    /// Call `after_append` after each successful append.
    pub fn with_after_append(mut self, after_append: AfterAppend) -> QueueSink {
        self.after_append = Some(after_append);
        self
    }

    /// The open queue, if it opened.
    pub fn queue(&self) -> Option<&Arc<AuditQueue>> {
        self.queue.as_ref().ok()
    }

    /// Why the queue is not open, or the last append's failure: an incident to show.
    pub fn problem(&self) -> Option<String> {
        match &self.queue {
            Err(reason) => Some(reason.clone()),
            Ok(_) => self.last_error.lock().ok().and_then(|slot| slot.clone()),
        }
    }

    /// Append one entry (a view, or a follow-up such as LA contact).
    pub fn append(&self, entry: &NewAuditEntry) -> Result<(), AuditSinkError> {
        let queue = self.queue.as_ref().map_err(|reason| AuditSinkError {
            message: reason.clone(),
        })?;
        match queue.append(entry) {
            Ok(_) => {
                if let Some(after_append) = &self.after_append {
                    after_append();
                }
                Ok(())
            }
            Err(error) => {
                let message = error.to_string();
                tracing::error!(error = %message, "audit append failed");
                if let Ok(mut slot) = self.last_error.lock() {
                    *slot = Some(message.clone());
                }
                Err(AuditSinkError { message })
            }
        }
    }

    /// The queue entry for a lookup's audit record.
    pub fn entry_for(record: &AuditRecord) -> NewAuditEntry {
        let mut entry = NewAuditEntry::new(
            record.recorded_at,
            AuditAction::View,
            record.actor.clone(),
            record.nhs_number.clone(),
            record.trace_id,
        );
        entry.outcome = record.outcome.to_owned();
        entry.unscheduled = record.unscheduled;
        entry.detail = record
            .could_not_check_reason
            .map(|reason| format!("reason={}", reason.code()))
            .unwrap_or_default();
        entry.plans = record.plans.clone();
        entry
    }
}

impl AuditSink for QueueSink {
    fn record_lookup(&self, record: &AuditRecord) -> Result<(), AuditSinkError> {
        self.append(&QueueSink::entry_for(record))
    }
}
