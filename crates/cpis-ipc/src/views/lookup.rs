//! What a lookup shows: the patient banner, the plans, the access history and the outcome,
//! display-ready. The views that hold patient data write a redacting `Debug`.

use cpis_domain::{
    AccessRecord, CouldNotCheckReason, LookupOutcome, PlanRecord, PlanType, TracedPatient,
};
use serde::{Deserialize, Serialize};
use time::UtcOffset;
use ts_rs::TS;

use crate::{CouldNotCheckCode, NhsNumberErrorCode, display_date, display_date_time};

/// The patient banner. Its `Debug` shows no patient data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PatientView {
    /// `943 476 5919`.
    pub nhs_number: String,
    /// `FAMILY, Given`.
    pub name: String,
    /// `6 August 2018`.
    pub date_of_birth: String,
    /// `Female`, `Male`, `Other`, `Not known`.
    pub gender: String,
}

impl std::fmt::Debug for PatientView {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("PatientView { <redacted> }")
    }
}

impl PatientView {
    /// The banner for a traced patient.
    pub fn from_demographics(patient: &TracedPatient) -> PatientView {
        PatientView {
            nhs_number: patient.nhs_number.to_string(),
            name: patient
                .banner_name()
                .unwrap_or_else(|| "Name not recorded".to_owned()),
            date_of_birth: patient
                .birth_date
                .map_or_else(|| "Not recorded".to_owned(), |birth| birth.display()),
            gender: patient
                .gender
                .map_or("Not recorded", |gender| gender.display())
                .to_string(),
        }
    }
}

/// A local authority and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LocalAuthorityView {
    /// Name.
    pub name: String,
    /// ODS code, where the answer carried one.
    pub ods_code: Option<String>,
    /// Office hours phone, if given.
    pub office_hours_phone: Option<String>,
    /// Emergency duty team (out of hours) phone, if given.
    pub emergency_duty_phone: Option<String>,
}

/// The allocated social worker, where the local authority shares one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SocialWorkerView {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
}

/// Which kind of plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PlanTypeCode {
    /// Child protection plan.
    ChildProtectionPlan,
    /// Looked after child.
    LookedAfterChild,
    /// Unborn child protection plan (held against the mother).
    UnbornChildProtectionPlan,
}

/// Whether a plan is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Open today.
    Active,
    /// Ended, still inside its visibility window.
    Ended,
}

/// One plan. Its `Debug` shows only the kind and status, no plan details.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlanView {
    /// Kind; `None` when CP-IS holds a record whose type could not be read.
    pub plan_type: Option<PlanTypeCode>,
    /// Plain-English name of the kind.
    pub plan_name: String,
    /// `6 August 2018`, if given.
    pub start: Option<String>,
    /// End (for an unborn plan, the due date), if any.
    pub end: Option<String>,
    /// Open or ended.
    pub status: PlanStatus,
    /// Who is responsible.
    pub local_authority: LocalAuthorityView,
    /// Social worker, where shared.
    pub social_worker: Option<SocialWorkerView>,
}

impl std::fmt::Debug for PlanView {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PlanView")
            .field("plan_type", &self.plan_type)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl PlanView {
    /// The view of a plan record, judged on `today`.
    pub fn from_plan(plan: &PlanRecord, today: time::Date) -> PlanView {
        PlanView {
            plan_type: plan.plan_type.map(|plan_type| match plan_type {
                PlanType::ChildProtectionPlan => PlanTypeCode::ChildProtectionPlan,
                PlanType::LookedAfterChild => PlanTypeCode::LookedAfterChild,
                PlanType::UnbornChildProtectionPlan => PlanTypeCode::UnbornChildProtectionPlan,
            }),
            plan_name: plan.plan_type.map_or_else(
                || "CP-IS holds a record; its type could not be read".to_owned(),
                |plan_type| plan_type.display_name().to_owned(),
            ),
            start: plan.start.map(display_date),
            end: plan.end.map(display_date),
            status: if plan.is_active_on(today) {
                PlanStatus::Active
            } else {
                PlanStatus::Ended
            },
            local_authority: LocalAuthorityView {
                name: plan.local_authority.name.clone(),
                ods_code: plan.local_authority.ods_code.clone(),
                office_hours_phone: plan.local_authority.office_hours_phone.clone(),
                emergency_duty_phone: plan.local_authority.emergency_duty_phone.clone(),
            },
            social_worker: plan.social_worker.as_ref().map(|worker| SocialWorkerView {
                name: worker.name.clone(),
                phone: worker.phone.clone(),
            }),
        }
    }
}

/// One entry of the access history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AccessView {
    /// `25 November 2026 at 5.30pm`.
    pub accessed_at: String,
    /// RFC 3339, for the timeline picture.
    pub accessed_at_iso: String,
    /// Viewer's name.
    pub viewer_name: String,
    /// Viewer's role.
    pub viewer_role: String,
    /// Organisation's name.
    pub organisation_name: String,
    /// Organisation's ODS code, where the answer carried one.
    pub organisation_ods: Option<String>,
}

impl AccessView {
    /// The view of one access.
    pub fn from_record(record: &AccessRecord, offset: UtcOffset) -> AccessView {
        AccessView {
            accessed_at: display_date_time(record.accessed_at, offset),
            accessed_at_iso: record
                .accessed_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            viewer_name: record.viewer_name.clone(),
            viewer_role: record.viewer_role.clone(),
            organisation_name: record.organisation_name.clone(),
            organisation_ods: record.organisation_ods.clone(),
        }
    }
}

/// The result of a lookup, one variant per outcome; the UI must handle each. Its `Debug` names
/// the outcome and codes only: no NHS number, name, date of birth or plan details.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum LookupView {
    /// At least one plan.
    PlanFound {
        /// The patient banner.
        patient: PatientView,
        /// The plans.
        plans: Vec<PlanView>,
        /// The last 25 unscheduled accesses, newest first.
        access_history: Vec<AccessView>,
        /// Why the access history is missing, when it could not be fetched.
        access_history_unavailable: Option<String>,
        /// `25 November 2026 at 5.30pm`.
        checked_at: String,
    },
    /// A valid answer that there is no plan.
    NoPlan {
        /// The patient banner.
        patient: PatientView,
        /// When.
        checked_at: String,
    },
    /// The check did not happen.
    CouldNotCheck {
        /// Stable code.
        reason_code: CouldNotCheckCode,
        /// Plain words.
        reason: String,
        /// When the attempt ended.
        attempted_at: String,
    },
    /// The demographics service does not know this NHS number.
    PatientNotFound {
        /// `943 476 5919`.
        nhs_number: String,
        /// When.
        checked_at: String,
    },
    /// The input was not a valid NHS number; nothing was sent.
    InvalidNhsNumber {
        /// Why.
        code: NhsNumberErrorCode,
        /// The NHS error message.
        message: String,
    },
    /// A newer lookup started before this one finished; show nothing from it.
    Superseded,
}

impl std::fmt::Debug for LookupView {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupView::PlanFound {
                plans,
                access_history,
                ..
            } => formatter
                .debug_struct("PlanFound")
                .field("plans", &plans.len())
                .field("access_history", &access_history.len())
                .finish_non_exhaustive(),
            LookupView::NoPlan { .. } => formatter.debug_struct("NoPlan").finish_non_exhaustive(),
            LookupView::CouldNotCheck { reason_code, .. } => formatter
                .debug_struct("CouldNotCheck")
                .field("reason_code", reason_code)
                .finish_non_exhaustive(),
            LookupView::PatientNotFound { .. } => formatter
                .debug_struct("PatientNotFound")
                .finish_non_exhaustive(),
            LookupView::InvalidNhsNumber { code, .. } => formatter
                .debug_struct("InvalidNhsNumber")
                .field("code", code)
                .finish_non_exhaustive(),
            LookupView::Superseded => formatter.write_str("Superseded"),
        }
    }
}

impl LookupView {
    /// The view of an outcome, with times shown in `offset`.
    pub fn from_outcome(
        outcome: &LookupOutcome,
        access_history_unavailable: Option<CouldNotCheckReason>,
        offset: UtcOffset,
        nhs_number_asked: Option<&cpis_domain::NhsNumber>,
    ) -> LookupView {
        match outcome {
            LookupOutcome::PlansFound {
                patient,
                plans,
                access_history,
                checked_at,
            } => {
                let today = checked_at.to_offset(offset).date();
                LookupView::PlanFound {
                    patient: PatientView::from_demographics(patient),
                    plans: plans
                        .iter()
                        .map(|plan| PlanView::from_plan(plan, today))
                        .collect(),
                    access_history: access_history
                        .iter()
                        .map(|record| AccessView::from_record(record, offset))
                        .collect(),
                    access_history_unavailable: access_history_unavailable
                        .map(|reason| reason.plain_message().to_string()),
                    checked_at: display_date_time(*checked_at, offset),
                }
            }
            LookupOutcome::NoPlan {
                patient,
                checked_at,
            } => LookupView::NoPlan {
                patient: PatientView::from_demographics(patient),
                checked_at: display_date_time(*checked_at, offset),
            },
            LookupOutcome::CouldNotCheck {
                reason,
                attempted_at,
            } => LookupView::CouldNotCheck {
                reason_code: CouldNotCheckCode::from(*reason),
                reason: reason.plain_message().to_string(),
                attempted_at: display_date_time(*attempted_at, offset),
            },
            LookupOutcome::PatientNotFound { checked_at } => LookupView::PatientNotFound {
                nhs_number: nhs_number_asked
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                checked_at: display_date_time(*checked_at, offset),
            },
            LookupOutcome::InvalidInput(error) => {
                let (code, message) = check_nhs_number_error(*error);
                LookupView::InvalidNhsNumber { code, message }
            }
        }
    }
}

/// The code and the fixed NHS sentence for an NHS number that is not valid. The sentence is
/// the domain's, one per variant; it never repeats what was typed.
fn check_nhs_number_error(error: cpis_domain::NhsNumberError) -> (NhsNumberErrorCode, String) {
    let code = match error {
        cpis_domain::NhsNumberError::Empty => NhsNumberErrorCode::Empty,
        cpis_domain::NhsNumberError::InvalidCharacters => NhsNumberErrorCode::InvalidCharacters,
        cpis_domain::NhsNumberError::WrongLength { .. } => NhsNumberErrorCode::WrongLength,
        cpis_domain::NhsNumberError::CheckDigit => NhsNumberErrorCode::CheckDigit,
    };
    (code, error.to_string())
}

/// The answer to the `lookup` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LookupResponse {
    /// Identifies this lookup for a follow-up (recording LA contact). 0 when nothing was looked up.
    pub lookup_id: u32,
    /// What to show.
    pub view: LookupView,
    /// When the audit record could not be written: a visible incident message. The result is
    /// still shown.
    pub audit_warning: Option<String>,
}

/// Validate a typed NHS number for a lookup; `Err` is the view to show. Input longer than
/// [`crate::MAX_NHS_NUMBER_INPUT_CHARS`] is refused unread.
pub fn parse_for_lookup(input: &str) -> Result<cpis_domain::NhsNumber, Box<LookupView>> {
    if input.chars().count() > crate::MAX_NHS_NUMBER_INPUT_CHARS {
        let (_, message) =
            check_nhs_number_error(cpis_domain::NhsNumberError::WrongLength { digits: 0 });
        return Err(Box::new(LookupView::InvalidNhsNumber {
            code: NhsNumberErrorCode::TooLong,
            message,
        }));
    }
    cpis_domain::NhsNumber::parse(input).map_err(|error| {
        let (code, message) = check_nhs_number_error(error);
        Box::new(LookupView::InvalidNhsNumber { code, message })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpis_domain::{Gender, LocalAuthority, NhsNumber, SocialWorker};
    use time::macros::{date, datetime, offset};

    fn patient() -> PatientDemographics {
        PatientDemographics {
            nhs_number: NhsNumber::parse("9990000018").expect("valid"),
            family_name: "Testchild".into(),
            given_names: vec!["Jamie".into()],
            date_of_birth: date!(2018 - 08 - 06),
            gender: Gender::Male,
        }
    }

    fn plan_found() -> LookupOutcome {
        LookupOutcome::PlansFound {
            patient: patient(),
            plans: vec![ProtectionPlan {
                plan_type: PlanType::ChildProtectionPlan,
                start: date!(2026 - 01 - 05),
                end: None,
                local_authority: LocalAuthority {
                    name: "Northshire County Council".into(),
                    ods_code: "Z9N01".into(),
                    office_hours_phone: "01632 960001".into(),
                    emergency_duty_phone: "01632 960999".into(),
                },
                social_worker: Some(SocialWorker {
                    name: "Sam Testworker".into(),
                    phone: "07700 900123".into(),
                }),
            }],
            access_history: vec![],
            checked_at: datetime!(2026-11-25 17:30 UTC),
        }
    }

    #[test]
    fn plan_found_view_is_display_ready() {
        let outcome = plan_found();
        let view = LookupView::from_outcome(&outcome, None, offset!(UTC), None);
        let LookupView::PlanFound {
            patient,
            plans,
            checked_at,
            ..
        } = view
        else {
            panic!("expected plan found, got {view:?}");
        };
        assert_eq!(patient.name, "TESTCHILD, Jamie");
        assert_eq!(patient.date_of_birth, "6 August 2018");
        assert_eq!(patient.nhs_number, "999 000 0018");
        assert_eq!(checked_at, "25 November 2026 at 5.30pm");
        assert_eq!(plans[0].status, PlanStatus::Active);
        assert_eq!(plans[0].start, "5 January 2026");
        assert_eq!(plans[0].plan_name, "Child protection plan");
    }

    #[test]
    fn could_not_check_view_has_plain_reason() {
        let view = LookupView::from_outcome(
            &LookupOutcome::CouldNotCheck {
                reason: CouldNotCheckReason::Timeout,
                attempted_at: datetime!(2026-11-25 09:00 UTC),
            },
            None,
            offset!(UTC),
            None,
        );
        let json = serde_json::to_value(&view).expect("json");
        assert_eq!(json["outcome"], "could_not_check");
        assert_eq!(json["reason_code"], "timeout");
    }

    /// What none of the redacting `Debug`s may show.
    const PATIENT_DATA: [&str; 8] = [
        "999 000 0018",
        "9990000018",
        "TESTCHILD",
        "Testchild",
        "Jamie",
        "August 2018",
        "Northshire",
        "Testworker",
    ];

    fn assert_redacted(debug: &str) {
        for secret in PATIENT_DATA {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }

    #[test]
    fn patient_view_debug_shows_no_patient_data() {
        let view = PatientView::from_demographics(&patient());
        assert_eq!(view.name, "TESTCHILD, Jamie");
        assert_redacted(&format!("{view:?}"));
    }

    #[test]
    fn lookup_view_debug_shows_no_patient_data() {
        let found = LookupView::from_outcome(&plan_found(), None, offset!(UTC), None);
        let debug = format!("{found:?}");
        assert_redacted(&debug);
        assert!(debug.contains("PlanFound"), "{debug}");
        let not_found = LookupView::from_outcome(
            &LookupOutcome::PatientNotFound {
                checked_at: datetime!(2026-11-25 17:30 UTC),
            },
            None,
            offset!(UTC),
            Some(&patient().nhs_number),
        );
        assert_redacted(&format!("{not_found:?}"));
        let response = LookupResponse {
            lookup_id: 1,
            view: found,
            audit_warning: None,
        };
        assert_redacted(&format!("{response:?}"));
    }

    #[test]
    fn invalid_input_never_reaches_the_network() {
        assert!(matches!(
            parse_for_lookup("9999999991").map_err(|view| *view),
            Err(LookupView::InvalidNhsNumber {
                code: NhsNumberErrorCode::CheckDigit,
                ..
            })
        ));
        assert!(parse_for_lookup("999 000 0018").is_ok());
    }

    #[test]
    fn invalid_numbers_carry_code_and_message_without_the_input() {
        let view = parse_for_lookup("9990000019").map_err(|view| *view);
        let json = serde_json::to_string(&view.expect_err("invalid")).expect("serialise");
        assert!(!json.contains("9990000019"), "{json}");
        assert!(
            json.contains(r#""code":"check_digit","message":"Enter a valid NHS number. The number you entered is not a real NHS number""#),
            "{json}"
        );
        assert!(matches!(
            parse_for_lookup(&"1".repeat(1000)).map_err(|view| *view),
            Err(LookupView::InvalidNhsNumber {
                code: NhsNumberErrorCode::TooLong,
                ..
            })
        ));
    }
}
