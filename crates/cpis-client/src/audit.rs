//! The hand-off of every lookup to the audit trail. The durable queue lives in `cpis-audit` (a
//! SQLite queue that syncs to the central log); this module only defines the record and the
//! [`AuditSink`] trait, and [`crate::AlertClient::lookup`] is the one place that calls it. The
//! adapter from this trait to the queue, shared by the app and the CLI, is
//! [`crate::QueueSink`].

use std::fmt;

use cpis_domain::{Actor, CouldNotCheckReason, LookupOutcome, NhsNumber};
use time::OffsetDateTime;
use uuid::Uuid;

/// One lookup, for the audit trail: the fields `domain.md` (Identity and roles) lists.
/// The queue adds the event id, device sequence number and hash chain.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Who looked: the user in their selected role (every role field empty when none was
    /// selected, as the queue stores it).
    pub actor: Actor,
    /// The patient looked up.
    pub nhs_number: NhsNumber,
    /// When the lookup ended.
    pub recorded_at: OffsetDateTime,
    /// The outcome code (`plan_found`, `no_plan`, `could_not_check`, `patient_not_found`).
    pub outcome: &'static str,
    /// Why, when the outcome is `could_not_check`.
    pub could_not_check_reason: Option<CouldNotCheckReason>,
    /// Whether it was an unscheduled access (the local authority is notified).
    pub unscheduled: bool,
    /// The device (product and machine) the lookup came from.
    pub device: String,
    /// The `TraceID` sent with the CP-IS request (or the demographics request when the lookup
    /// stopped there): the audit transaction id.
    pub trace_id: Uuid,
}

impl AuditRecord {
    /// The record of a lookup by `actor` that ended at `recorded_at` with `outcome`.
    pub fn new(
        actor: Actor,
        nhs_number: NhsNumber,
        recorded_at: OffsetDateTime,
        outcome: &LookupOutcome,
        unscheduled: bool,
        device: String,
        trace_id: Uuid,
    ) -> AuditRecord {
        let (outcome, could_not_check_reason) = AuditRecord::outcome_fields(outcome);
        AuditRecord {
            actor,
            nhs_number,
            recorded_at,
            outcome,
            could_not_check_reason,
            unscheduled,
            device,
            trace_id,
        }
    }

    /// The outcome's code and reason, as stored.
    pub fn outcome_fields(outcome: &LookupOutcome) -> (&'static str, Option<CouldNotCheckReason>) {
        let reason = match outcome {
            LookupOutcome::CouldNotCheck { reason, .. } => Some(*reason),
            _ => None,
        };
        (outcome.code(), reason)
    }
}

impl fmt::Debug for AuditRecord {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AuditRecord")
            .field("actor", &self.actor)
            .field("nhs_number", &self.nhs_number)
            .field("recorded_at", &self.recorded_at)
            .field("outcome", &self.outcome)
            .field("could_not_check_reason", &self.could_not_check_reason)
            .field("unscheduled", &self.unscheduled)
            .field("trace_id", &self.trace_id)
            .finish()
    }
}

/// Why a record could not be written to the audit trail. The lookup's result is still shown;
/// the failure must be made visible (an incident banner, a CLI warning), never silent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit record could not be saved: {message}")]
pub struct AuditSinkError {
    /// What went wrong, without patient data.
    pub message: String,
}

/// Where every lookup is recorded. Implementations append durably and quickly (a local queue),
/// never waiting for the network.
pub trait AuditSink: Send + Sync {
    /// Record one lookup.
    fn record_lookup(&self, record: &AuditRecord) -> Result<(), AuditSinkError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpis_domain::RoleRef;

    #[test]
    fn a_record_is_built_from_an_actor_and_redacts_the_name() {
        let actor = Actor {
            user_id: "900000000001".into(),
            user_name: "Tess Triage-Test".into(),
            role: RoleRef {
                role_profile_id: "1".into(),
                role_code: "R8001".into(),
                role_name: "Nurse Access Role".into(),
                organisation_ods: "ZZ1ED".into(),
                organisation_name: String::new(),
            },
        };
        let at = time::macros::datetime!(2026-11-25 10:00 UTC);
        let outcome = LookupOutcome::CouldNotCheck {
            reason: CouldNotCheckReason::Timeout,
            attempted_at: at,
        };
        let nhs_number = NhsNumber::parse("9990000018").expect("valid");
        let record = AuditRecord::new(
            actor.clone(),
            nhs_number,
            at,
            &outcome,
            true,
            "CP-IS Viewer".into(),
            Uuid::nil(),
        );
        assert_eq!(record.actor, actor);
        assert_eq!(record.outcome, "could_not_check");
        assert_eq!(
            record.could_not_check_reason,
            Some(CouldNotCheckReason::Timeout)
        );
        let no_role = AuditRecord::new(
            Actor {
                role: RoleRef::default(),
                ..actor
            },
            record.nhs_number.clone(),
            at,
            &outcome,
            false,
            String::new(),
            Uuid::nil(),
        );
        assert!(no_role.actor.role.is_none());
        let debug = format!("{no_role:?}");
        assert!(!debug.contains("Tess"), "{debug}");
        assert!(debug.contains("900000000001"), "{debug}");
    }
}
