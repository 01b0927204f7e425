//! Every lookup from the CLI goes to the durable local audit queue (`cpis-audit`) in the user's
//! data folder. If the queue cannot be opened, every record fails visibly: the lookup still
//! answers, and the CLI prints a warning.

use cpis_audit::{AuditAction, AuditQueue, NewAuditEntry};
use cpis_client::{AuditRecord, AuditSink, AuditSinkError};

/// The queue, or why it could not be opened.
#[derive(Debug)]
pub enum QueueSink {
    /// The open queue.
    Open(AuditQueue),
    /// It could not be opened; each record fails with this message.
    Unavailable(String),
}

impl QueueSink {
    /// Open the queue in `folder`.
    pub fn open(folder: &std::path::Path) -> QueueSink {
        match AuditQueue::open(folder) {
            Ok(queue) => QueueSink::Open(queue),
            Err(error) => QueueSink::Unavailable(format!(
                "the local audit queue could not be opened: {error}"
            )),
        }
    }
}

impl AuditSink for QueueSink {
    fn record_lookup(&self, record: &AuditRecord) -> Result<(), AuditSinkError> {
        let queue = match self {
            QueueSink::Open(queue) => queue,
            QueueSink::Unavailable(message) => {
                return Err(AuditSinkError {
                    message: message.clone(),
                });
            }
        };
        let entry = NewAuditEntry {
            occurred_at: record.recorded_at,
            action: AuditAction::View,
            user_id: record.user_id.clone(),
            user_name: record.user_name.clone(),
            role_profile_id: record.role_profile_id.clone().unwrap_or_default(),
            role_code: record.role_code.clone().unwrap_or_default(),
            role_name: record.role_name.clone().unwrap_or_default(),
            organisation_ods: record.organisation_ods.clone().unwrap_or_default(),
            organisation_name: record.organisation_name.clone().unwrap_or_default(),
            patient_nhs_number: record.nhs_number.clone(),
            outcome: record.outcome.to_owned(),
            trace_id: record.trace_id,
            unscheduled: record.unscheduled,
            detail: record
                .could_not_check_reason
                .map(|reason| format!("reason={}", reason.code()))
                .unwrap_or_default(),
        };
        queue
            .append(&entry)
            .map(|_| ())
            .map_err(|error| AuditSinkError {
                message: error.to_string(),
            })
    }
}
