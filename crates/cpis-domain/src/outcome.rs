//! The answer to a lookup. Distinct variants keep "could not check" from ever looking like
//! "no plan": the UI and the CLI must match on all of them.

use time::OffsetDateTime;

use crate::{AccessRecord, NhsNumberError, PlanRecord, TracedPatient};

/// Why a lookup could not be completed. Each has a plain-English explanation; none carries
/// patient data or raw error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CouldNotCheckReason {
    /// The lookup deadline passed before an answer came.
    Timeout,
    /// The service could not be reached at all.
    ServiceUnreachable,
    /// The service answered with a server error or said it was unavailable.
    ServiceError,
    /// The service refused the request (for example, access denied).
    AccessDenied,
    /// The answer did not make sense (wrong type, wrong shape, truncated, too big).
    InvalidResponse,
    /// The answer was about a different NHS number.
    ResponseForAnotherPatient,
    /// The demographics service could not confirm who the NHS number belongs to.
    DemographicsUnavailable,
    /// The user is not signed in, or the session has ended.
    SignInRequired,
    /// The user's role does not permit lookups.
    RoleNotPermitted,
}

impl CouldNotCheckReason {
    /// Every reason.
    pub const ALL: [CouldNotCheckReason; 9] = [
        CouldNotCheckReason::Timeout,
        CouldNotCheckReason::ServiceUnreachable,
        CouldNotCheckReason::ServiceError,
        CouldNotCheckReason::AccessDenied,
        CouldNotCheckReason::InvalidResponse,
        CouldNotCheckReason::ResponseForAnotherPatient,
        CouldNotCheckReason::DemographicsUnavailable,
        CouldNotCheckReason::SignInRequired,
        CouldNotCheckReason::RoleNotPermitted,
    ];

    /// A stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            CouldNotCheckReason::Timeout => "timeout",
            CouldNotCheckReason::ServiceUnreachable => "service_unreachable",
            CouldNotCheckReason::ServiceError => "service_error",
            CouldNotCheckReason::AccessDenied => "access_denied",
            CouldNotCheckReason::InvalidResponse => "invalid_response",
            CouldNotCheckReason::ResponseForAnotherPatient => "response_for_another_patient",
            CouldNotCheckReason::DemographicsUnavailable => "demographics_unavailable",
            CouldNotCheckReason::SignInRequired => "sign_in_required",
            CouldNotCheckReason::RoleNotPermitted => "role_not_permitted",
        }
    }

    /// What happened, in words a clinician can read.
    pub fn plain_message(self) -> &'static str {
        match self {
            CouldNotCheckReason::Timeout => "The child protection service took too long to answer.",
            CouldNotCheckReason::ServiceUnreachable => {
                "The child protection service could not be reached."
            }
            CouldNotCheckReason::ServiceError => {
                "The child protection service had a problem and did not give an answer."
            }
            CouldNotCheckReason::AccessDenied => {
                "The child protection service refused the request for your account."
            }
            CouldNotCheckReason::InvalidResponse => {
                "The child protection service sent an answer that could not be read."
            }
            CouldNotCheckReason::ResponseForAnotherPatient => {
                "The answer received was for a different NHS number, so it was not shown."
            }
            CouldNotCheckReason::DemographicsUnavailable => {
                "The patient's details could not be confirmed with the demographics service."
            }
            CouldNotCheckReason::SignInRequired => "You need to sign in again.",
            CouldNotCheckReason::RoleNotPermitted => {
                "Your selected role does not allow child protection lookups."
            }
        }
    }
}

/// The outcome of looking up one NHS number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupOutcome {
    /// One or more visible plans: show the warning callout and whom to phone.
    PlansFound {
        /// Who was looked up.
        patient: TracedPatient,
        /// The visible plans, at least one.
        plans: Vec<PlanRecord>,
        /// The most recent unscheduled accesses, newest first.
        access_history: Vec<AccessRecord>,
        /// When the service answered.
        checked_at: OffsetDateTime,
    },
    /// The service answered, validly, that there is no plan for this person.
    NoPlan {
        /// Who was looked up.
        patient: TracedPatient,
        /// When the service answered.
        checked_at: OffsetDateTime,
    },
    /// The check did not happen. Never to be shown like "no plan".
    CouldNotCheck {
        /// Why.
        reason: CouldNotCheckReason,
        /// When the attempt ended.
        attempted_at: OffsetDateTime,
    },
    /// The demographics service does not know this NHS number.
    PatientNotFound {
        /// When the service answered.
        checked_at: OffsetDateTime,
    },
    /// The NHS number was not valid; nothing was sent anywhere.
    InvalidInput(NhsNumberError),
}

impl LookupOutcome {
    /// A stable machine-readable code for the outcome.
    pub fn code(&self) -> &'static str {
        match self {
            LookupOutcome::PlansFound { .. } => "plan_found",
            LookupOutcome::NoPlan { .. } => "no_plan",
            LookupOutcome::CouldNotCheck { .. } => "could_not_check",
            LookupOutcome::PatientNotFound { .. } => "patient_not_found",
            LookupOutcome::InvalidInput(_) => "invalid_nhs_number",
        }
    }

    /// Whether the service gave a definitive answer about plans.
    pub fn is_definitive(&self) -> bool {
        matches!(
            self,
            LookupOutcome::PlansFound { .. } | LookupOutcome::NoPlan { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Gender, NhsNumber};
    use time::macros::{date, datetime};

    #[test]
    fn outcome_codes_are_distinct() {
        let when = datetime!(2026-11-25 10:00 UTC);
        let patient = TracedPatient::from(crate::PatientDemographics {
            nhs_number: NhsNumber::parse("9990000018").expect("valid"),
            family_name: "Testperson".into(),
            given_names: vec!["Alex".into()],
            date_of_birth: date!(2018 - 08 - 06),
            gender: Gender::Unknown,
        });
        let outcomes = [
            LookupOutcome::PlansFound {
                patient: patient.clone(),
                plans: vec![],
                access_history: vec![],
                checked_at: when,
            },
            LookupOutcome::NoPlan {
                patient,
                checked_at: when,
            },
            LookupOutcome::CouldNotCheck {
                reason: CouldNotCheckReason::Timeout,
                attempted_at: when,
            },
            LookupOutcome::PatientNotFound { checked_at: when },
            LookupOutcome::InvalidInput(NhsNumberError::CheckDigit),
        ];
        let mut codes: Vec<_> = outcomes.iter().map(LookupOutcome::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), outcomes.len());
        let definitive: Vec<_> = outcomes.iter().map(LookupOutcome::is_definitive).collect();
        assert_eq!(definitive, [true, true, false, false, false]);
    }

    #[test]
    fn could_not_check_messages_never_say_no_plan() {
        let all = CouldNotCheckReason::ALL;
        for reason in all {
            let message = reason.plain_message().to_lowercase();
            assert!(
                !message.contains("no plan") && !message.contains("not on"),
                "{message}"
            );
        }
    }
}
