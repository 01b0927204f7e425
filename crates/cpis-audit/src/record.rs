//! What the queue holds: a view or follow-up to record ([`NewAuditEntry`]), a record as stored
//! with its sequence number and chain hash ([`QueuedRecord`]), and what checking the chain and
//! counting the queue report.

use cpis_domain::{Actor, NhsNumber};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::chain::{CanonicalRecord, record_hash};
use crate::plan::RecordedPlan;

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// The record was looked up and shown (whatever the outcome).
    View,
    /// The user recorded that the local authority was contacted.
    LocalAuthorityContacted,
}

impl AuditAction {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::View => "view",
            AuditAction::LocalAuthorityContacted => "la_contacted",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<AuditAction> {
        match code {
            "view" => Some(AuditAction::View),
            "la_contacted" => Some(AuditAction::LocalAuthorityContacted),
            _ => None,
        }
    }
}

/// A view to record, as the caller knows it.
#[derive(Clone)]
pub struct NewAuditEntry {
    /// When the view happened.
    pub occurred_at: OffsetDateTime,
    /// What happened.
    pub action: AuditAction,
    /// Who: the user and their selected role (every role field empty when none was selected).
    pub actor: Actor,
    /// Whose record was viewed.
    pub patient_nhs_number: NhsNumber,
    /// The outcome code (`LookupOutcome::code`).
    pub outcome: String,
    /// The TraceID sent to the service (a fresh one when nothing was sent).
    pub trace_id: Uuid,
    /// Whether this was an unscheduled-care access.
    pub unscheduled: bool,
    /// Structured detail for the action (for `la_contacted`: how and when); no free text.
    pub detail: String,
    /// For a view: the plans it found (empty when none). `None` when not recorded: a
    /// follow-up, or a record written before plans were recorded.
    pub plans: Option<Vec<RecordedPlan>>,
}

impl NewAuditEntry {
    /// An entry by `actor` about `patient_nhs_number`, with no outcome, detail, unscheduled
    /// flag or plans yet (set those fields next).
    pub fn new(
        occurred_at: OffsetDateTime,
        action: AuditAction,
        actor: Actor,
        patient_nhs_number: NhsNumber,
        trace_id: Uuid,
    ) -> NewAuditEntry {
        NewAuditEntry {
            occurred_at,
            action,
            actor,
            patient_nhs_number,
            outcome: String::new(),
            trace_id,
            unscheduled: false,
            detail: String::new(),
            plans: None,
        }
    }
}

impl std::fmt::Debug for NewAuditEntry {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NewAuditEntry")
            .field("action", &self.action)
            .field("patient_nhs_number", &self.patient_nhs_number)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

/// A record as stored in the queue.
#[derive(Clone, PartialEq, Eq)]
pub struct QueuedRecord {
    /// Unique id, also the idempotency key on the server.
    pub event_id: Uuid,
    /// This device.
    pub device_id: Uuid,
    /// Per-device sequence number, from 1, gapless.
    pub sequence: u64,
    /// When the view happened.
    pub occurred_at: OffsetDateTime,
    /// What happened.
    pub action: AuditAction,
    /// Who: the user and their selected role (every role field empty when none was selected).
    pub actor: Actor,
    /// The NHS number viewed (ten digits).
    pub patient_nhs_number: String,
    /// Outcome code.
    pub outcome: String,
    /// TraceID.
    pub trace_id: Uuid,
    /// Unscheduled access.
    pub unscheduled: bool,
    /// Action detail.
    pub detail: String,
    /// The plans a view found; `None` when not recorded (see [`NewAuditEntry::plans`]).
    pub plans: Option<Vec<RecordedPlan>>,
    /// Hash of the previous record ([`crate::GENESIS_HASH`] for the first).
    pub previous_hash: String,
    /// This record's hash.
    pub record_hash: String,
}

impl std::fmt::Debug for QueuedRecord {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("QueuedRecord")
            .field("event_id", &self.event_id)
            .field("sequence", &self.sequence)
            .field("action", &self.action)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

impl QueuedRecord {
    fn hash_with(
        &self,
        event_id: &str,
        device_id: &str,
        occurred_at: &str,
        trace_id: &str,
    ) -> String {
        let canonical = CanonicalRecord {
            event_id,
            device_id,
            sequence: self.sequence,
            occurred_at,
            action: self.action.code(),
            actor: &self.actor,
            patient_nhs_number: &self.patient_nhs_number,
            outcome: &self.outcome,
            trace_id,
            unscheduled: self.unscheduled,
            detail: &self.detail,
            plans: self.plans.as_deref(),
        };
        record_hash(&self.previous_hash, &canonical)
    }

    /// Recompute this record's hash from its fields and previous hash.
    pub fn recompute_hash(&self) -> String {
        let occurred_at = self.occurred_at.format(&Rfc3339).unwrap_or_default();
        self.hash_with(
            &self.event_id.to_string(),
            &self.device_id.to_string(),
            &occurred_at,
            &self.trace_id.to_string(),
        )
    }
}

/// The queue's state, for the status bar and `cpis audit status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStatus {
    /// Records waiting to be sent.
    pub waiting: u64,
    /// When the oldest waiting record happened.
    pub oldest_waiting_at: Option<OffsetDateTime>,
    /// When the server last confirmed a batch.
    pub last_success_at: Option<OffsetDateTime>,
    /// Records the server rejected as invalid.
    pub quarantined: u64,
    /// Records confirmed by the server.
    pub sent: u64,
    /// Queue files set aside because this device's key could not read them (the keyring lost
    /// its key, or holds another): their records have not been sent and are kept, never
    /// deleted, until IT recovers or archives them (docs/deployment.md). Empty normally.
    pub unreadable_files: Vec<std::path::PathBuf>,
}

/// Something wrong with the local chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFinding {
    /// Sequence numbers are missing (a row was deleted).
    Gap {
        /// The sequence number expected next.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// A record's hash does not match its fields or its predecessor (a row was edited).
    Break {
        /// The sequence number of the record that does not match.
        sequence: u64,
    },
}

/// The result of checking the local chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// How many records were checked.
    pub count: u64,
    /// What was wrong; empty when the chain is whole.
    pub findings: Vec<ChainFinding>,
}
