//! The hand-off of every lookup to the audit trail. The durable queue lives in `cpis-audit` (a
//! SQLite queue that syncs to the central log); this module only defines the record and the
//! [`AuditSink`] trait, and [`crate::AlertClient::lookup`] is the one place that calls it. The
//! adapter from this trait to the queue, shared by the app and the CLI, is
//! [`crate::QueueSink`].

use std::fmt;

use cpis_audit::RecordedPlan;
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
    /// The plans found (type and responsible local authority), for the named nurse's
    /// follow-up: empty for "no plan", `None` when nothing was checked.
    pub plans: Option<Vec<RecordedPlan>>,
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
        let (code, could_not_check_reason) = AuditRecord::outcome_fields(outcome);
        let plans = match outcome {
            LookupOutcome::PlansFound { plans, .. } => Some(
                plans
                    .iter()
                    .map(|plan| {
                        RecordedPlan::new(
                            plan.plan_type,
                            &plan.local_authority.name,
                            plan.local_authority.ods_code.as_deref(),
                        )
                    })
                    .collect(),
            ),
            LookupOutcome::NoPlan { .. } => Some(Vec::new()),
            LookupOutcome::CouldNotCheck { .. }
            | LookupOutcome::PatientNotFound { .. }
            | LookupOutcome::InvalidInput(_) => None,
        };
        AuditRecord {
            actor,
            nhs_number,
            recorded_at,
            outcome: code,
            could_not_check_reason,
            unscheduled,
            device,
            trace_id,
            plans,
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
            .field("plans", &self.plans.as_ref().map(Vec::len))
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

    /// Issue 16: the named nurse saw only the NHS number of a view; now each view records the
    /// type of every plan found and whom to chase (the responsible local authority).
    #[test]
    fn a_view_records_the_plans_found_and_their_local_authorities() {
        let at = time::macros::datetime!(2026-11-25 10:00 UTC);
        let nhs_number = NhsNumber::parse("9990000018").expect("valid");
        let patient = cpis_domain::TracedPatient::from(cpis_domain::PatientDemographics {
            nhs_number: nhs_number.clone(),
            family_name: "Quenthorne".into(),
            given_names: vec!["Wren".into()],
            date_of_birth: time::macros::date!(2020 - 01 - 01),
            gender: cpis_domain::Gender::Female,
        });
        let mut unknown_type = cpis_domain::PlanRecord::from(plan(
            cpis_domain::PlanType::LookedAfterChild,
            "Elsewhere Borough Council",
        ));
        unknown_type.plan_type = None;
        unknown_type.local_authority.ods_code = None;
        let found = LookupOutcome::PlansFound {
            patient: patient.clone(),
            plans: vec![
                cpis_domain::PlanRecord::from(plan(
                    cpis_domain::PlanType::ChildProtectionPlan,
                    "Testshire County Council",
                )),
                unknown_type,
            ],
            access_history: Vec::new(),
            checked_at: at,
        };
        let record = |outcome: &LookupOutcome| {
            AuditRecord::new(
                Actor::default(),
                nhs_number.clone(),
                at,
                outcome,
                true,
                String::new(),
                Uuid::nil(),
            )
            .plans
        };
        assert_eq!(
            record(&found),
            Some(vec![
                RecordedPlan::new(
                    Some(cpis_domain::PlanType::ChildProtectionPlan),
                    "Testshire County Council",
                    Some("Z9L01"),
                ),
                RecordedPlan::new(None, "Elsewhere Borough Council", None),
            ])
        );
        let none = LookupOutcome::NoPlan {
            patient,
            checked_at: at,
        };
        assert_eq!(record(&none), Some(Vec::new()));
        let unchecked = LookupOutcome::CouldNotCheck {
            reason: CouldNotCheckReason::Timeout,
            attempted_at: at,
        };
        assert_eq!(record(&unchecked), None);
    }

    fn plan(plan_type: cpis_domain::PlanType, authority: &str) -> cpis_domain::ProtectionPlan {
        cpis_domain::ProtectionPlan {
            plan_type,
            start: time::macros::date!(2026 - 01 - 10),
            end: None,
            local_authority: cpis_domain::LocalAuthority {
                name: authority.into(),
                ods_code: "Z9L01".into(),
                office_hours_phone: "01632 960001".into(),
                emergency_duty_phone: "01632 960999".into(),
            },
            social_worker: None,
        }
    }
}
