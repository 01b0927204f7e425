//! What a lookup shows: the patient banner, the plans, the access history and the outcome,
//! display-ready. The views that hold patient data write a redacting `Debug`.

use cpis_domain::{
    AccessRecord, BirthDate, CouldNotCheckReason, LookupOutcome, PlanRecord, PlanStatus, PlanType,
    TracedPatient,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{CouldNotCheckCode, NhsNumberErrorCode, PhoneView, display_date, display_date_time};

/// What the banner shows for a name the demographics service did not record.
pub const NAME_NOT_RECORDED: &str = "Name not recorded";
/// What the banner shows for a date of birth the demographics service did not record.
pub const DATE_OF_BIRTH_NOT_RECORDED: &str = "Date of birth not recorded";
/// What the banner shows for a gender the demographics service did not record.
pub const GENDER_NOT_RECORDED: &str = "Gender not recorded";
/// What a restricted (sensitive) record's banner says.
pub const RESTRICTED_NOTICE: &str = "This is a restricted record. The demographics service does not share this patient's address or contact details.";
/// The name of a record CP-IS holds whose type could not be read.
pub const TYPE_NOT_READ: &str = "CP-IS holds a record; its type could not be read";
/// What is shown for a phone number CP-IS did not give.
pub const NOT_GIVEN_BY_CPIS: &str = "Not given by CP-IS";
/// What is shown for a start date CP-IS did not give.
pub const START_DATE_NOT_GIVEN: &str = "Start date not given";

/// The patient banner, display-ready: every field says plainly when the demographics service
/// did not record it. Its `Debug` shows no patient data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PatientView {
    /// `943 476 5919`.
    pub nhs_number: String,
    /// `FAMILY, Given`, or `Name not recorded`.
    pub name: String,
    /// `6 August 2018`; a partial date as given (`October 2010`, `2010`); or
    /// `Date of birth not recorded`.
    pub date_of_birth: String,
    /// For a partial date of birth, a sentence saying which part is known.
    pub date_of_birth_note: Option<String>,
    /// `Female`, `Male`, `Other`, `Not known`, or `Gender not recorded`.
    pub gender: String,
    /// When the name or date of birth was not recorded: one sentence naming what is missing and
    /// asking the clinician to confirm who the patient is another way.
    pub not_recorded_warning: Option<String>,
    /// For a restricted (sensitive) record: a sentence saying so.
    pub restricted_notice: Option<String>,
    /// The date of death (`22 October 2010`), when the demographics service records one.
    pub date_of_death: Option<String>,
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
                .unwrap_or_else(|| NAME_NOT_RECORDED.to_owned()),
            date_of_birth: patient.birth_date.map_or_else(
                || DATE_OF_BIRTH_NOT_RECORDED.to_owned(),
                |birth| birth.display(),
            ),
            date_of_birth_note: patient.birth_date.and_then(partial_birth_date_note),
            gender: patient
                .gender
                .map_or(GENDER_NOT_RECORDED, |gender| gender.display())
                .to_owned(),
            not_recorded_warning: not_recorded_warning(&patient.not_recorded()),
            restricted_notice: patient.restricted.then(|| RESTRICTED_NOTICE.to_owned()),
            date_of_death: patient.date_of_death.map(display_date),
        }
    }
}

/// "Partial date: only the month and year are recorded", for a date of birth that is not a day.
pub fn partial_birth_date_note(birth_date: BirthDate) -> Option<String> {
    match birth_date {
        BirthDate::Day(_) => None,
        BirthDate::Month { .. } => {
            Some("Partial date: only the month and year are recorded".to_owned())
        }
        BirthDate::Year(_) => Some("Partial date: only the year is recorded".to_owned()),
    }
}

/// One sentence naming what the demographics service did not record (`missing` as
/// [`TracedPatient::not_recorded`] gives it), when the name or date of birth is among it: the
/// clinician cannot tell from the banner alone that this is the person in front of them.
pub fn not_recorded_warning(missing: &[&str]) -> Option<String> {
    if !missing
        .iter()
        .any(|what| *what == "name" || *what == "date of birth")
    {
        return None;
    }
    let listed = match missing {
        [] => return None,
        [only] => (*only).to_owned(),
        [first @ .., last] => format!("{} or {last}", first.join(", ")),
    };
    Some(format!(
        "The demographics service has no {listed} for this NHS number: confirm who the patient is another way."
    ))
}

/// A local authority and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LocalAuthorityView {
    /// Name.
    pub name: String,
    /// ODS code, where the answer carried one.
    pub ods_code: Option<String>,
    /// Office hours phone, if given.
    pub office_hours_phone: Option<PhoneView>,
    /// Emergency duty team (out of hours) phone, if given.
    pub emergency_duty_phone: Option<PhoneView>,
}

/// The allocated social worker, where the local authority shares one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SocialWorkerView {
    /// Name.
    pub name: String,
    /// Phone, if given.
    pub phone: Option<PhoneView>,
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

/// Which status a plan has on the UK date it was checked ([`PlanStatus`]); the UI colours the
/// tag by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatusCode {
    /// Open.
    Active,
    /// Its start date is still to come.
    Starts,
    /// An unborn plan whose due date is today.
    DueToday,
    /// An unborn plan whose due date has passed (shown for 28 days after it).
    DuePassed,
    /// Ended, still inside its visibility window.
    Ended,
    /// CP-IS marks the record inactive.
    Inactive,
    /// CP-IS marks the record suspended.
    Suspended,
    /// CP-IS marks the record proposed.
    Proposed,
}

/// A plan's status as the app and `cpis lookup --json` show it: the code and the words for the
/// tag (`Due date passed 7 days ago`, `Starts 3 December 2026`, `Ended 11 October 2026`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PlanStatusView {
    /// Which status.
    pub code: PlanStatusCode,
    /// The words for the tag.
    pub text: String,
}

impl PlanStatusView {
    /// The view of a record's status on the UK date `today` ([`PlanRecord::status_on`]).
    pub fn of(plan: &PlanRecord, today: time::Date) -> PlanStatusView {
        PlanStatusView::from(plan.status_on(today))
    }
}

impl From<PlanStatus> for PlanStatusView {
    fn from(status: PlanStatus) -> PlanStatusView {
        let code = match status {
            PlanStatus::Active => PlanStatusCode::Active,
            PlanStatus::Starts { .. } => PlanStatusCode::Starts,
            PlanStatus::DueToday => PlanStatusCode::DueToday,
            PlanStatus::DuePassed { .. } => PlanStatusCode::DuePassed,
            PlanStatus::Ended { .. } => PlanStatusCode::Ended,
            PlanStatus::Inactive => PlanStatusCode::Inactive,
            PlanStatus::Suspended => PlanStatusCode::Suspended,
            PlanStatus::Proposed => PlanStatusCode::Proposed,
        };
        PlanStatusView {
            code,
            text: status.text(),
        }
    }
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
    /// Its status on the UK date it was checked, in words that fit its type.
    pub status: PlanStatusView,
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
            .field("status", &self.status.code)
            .finish_non_exhaustive()
    }
}

impl PlanView {
    /// The view of a plan record, judged on the UK date `today`.
    pub fn from_plan(plan: &PlanRecord, today: time::Date) -> PlanView {
        PlanView {
            plan_type: plan.plan_type.map(|plan_type| match plan_type {
                PlanType::ChildProtectionPlan => PlanTypeCode::ChildProtectionPlan,
                PlanType::LookedAfterChild => PlanTypeCode::LookedAfterChild,
                PlanType::UnbornChildProtectionPlan => PlanTypeCode::UnbornChildProtectionPlan,
            }),
            plan_name: plan.plan_type.map_or_else(
                || TYPE_NOT_READ.to_owned(),
                |plan_type| plan_type.display_name().to_owned(),
            ),
            start: plan.start.map(display_date),
            end: plan.end.map(display_date),
            status: PlanStatusView::of(plan, today),
            local_authority: LocalAuthorityView {
                name: plan.local_authority.name.clone(),
                ods_code: plan.local_authority.ods_code.clone(),
                office_hours_phone: PhoneView::given_optional(
                    plan.local_authority.office_hours_phone.as_deref(),
                ),
                emergency_duty_phone: PhoneView::given_optional(
                    plan.local_authority.emergency_duty_phone.as_deref(),
                ),
            },
            social_worker: plan.social_worker.as_ref().map(|worker| SocialWorkerView {
                name: worker.name.clone(),
                phone: PhoneView::given(&worker.phone),
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
    /// The view of one access, its time on the UK clock.
    pub fn from_record(record: &AccessRecord) -> AccessView {
        AccessView {
            accessed_at: display_date_time(record.accessed_at),
            accessed_at_iso: record
                .accessed_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            viewer_name: record.viewer_name.clone(),
            viewer_role: super::session::display_role_name(&record.viewer_role),
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
        /// What support staff need to find the attempt: the `TraceID` and the stable detail
        /// code (see [`support_reference`]). No patient data. `None` when nothing was sent.
        support_reference: Option<String>,
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
    /// The view of an outcome, with times on the UK clock and plans judged on the UK date of
    /// the answer (both from the tz rules at that instant, never an offset read at start-up).
    pub fn from_outcome(
        outcome: &LookupOutcome,
        access_history_unavailable: Option<CouldNotCheckReason>,
        nhs_number_asked: Option<&cpis_domain::NhsNumber>,
    ) -> LookupView {
        match outcome {
            LookupOutcome::PlansFound {
                patient,
                plans,
                access_history,
                checked_at,
            } => {
                let today = cpis_domain::uk_time::uk_date(*checked_at);
                LookupView::PlanFound {
                    patient: PatientView::from_demographics(patient),
                    plans: plans
                        .iter()
                        .map(|plan| PlanView::from_plan(plan, today))
                        .collect(),
                    access_history: access_history.iter().map(AccessView::from_record).collect(),
                    access_history_unavailable: access_history_unavailable
                        .map(|reason| reason.plain_message().to_string()),
                    checked_at: display_date_time(*checked_at),
                }
            }
            LookupOutcome::NoPlan {
                patient,
                checked_at,
            } => LookupView::NoPlan {
                patient: PatientView::from_demographics(patient),
                checked_at: display_date_time(*checked_at),
            },
            LookupOutcome::CouldNotCheck {
                reason,
                attempted_at,
            } => LookupView::CouldNotCheck {
                reason_code: CouldNotCheckCode::from(*reason),
                reason: reason.plain_message().to_string(),
                attempted_at: display_date_time(*attempted_at),
                support_reference: None,
            },
            LookupOutcome::PatientNotFound { checked_at } => LookupView::PatientNotFound {
                nhs_number: nhs_number_asked
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                checked_at: display_date_time(*checked_at),
            },
            LookupOutcome::InvalidInput(error) => {
                let (code, message) = check_nhs_number_error(*error);
                LookupView::InvalidNhsNumber { code, message }
            }
        }
    }
}

impl LookupView {
    /// The view with the support reference of a "could not check" set from the attempt's
    /// `TraceID` and detail code; any other view is returned as it is.
    pub fn with_support_reference(
        self,
        trace_id: Option<&str>,
        detail: Option<&str>,
    ) -> LookupView {
        match self {
            LookupView::CouldNotCheck {
                reason_code,
                reason,
                attempted_at,
                ..
            } => LookupView::CouldNotCheck {
                support_reference: support_reference(trace_id, reason_code, detail),
                reason_code,
                reason,
                attempted_at,
            },
            other => other,
        }
    }
}

/// The longest detail code passed on; a longer one is not a code.
const MAX_DETAIL_CODE_CHARS: usize = 120;

/// The detail code as it may be shown and logged: a stable code such as
/// `care_team/missing_element:CareTeam.name`. Anything that does not look like one (other
/// characters, too long, or a run of six or more digits, which could be an NHS number or a date)
/// is replaced by `detail_withheld`, so no value from an answer is ever passed on.
pub fn safe_detail_code(detail: &str) -> String {
    let mut digits_in_a_row = 0;
    let mut looks_like_a_value = false;
    for character in detail.chars() {
        if character.is_ascii_digit() {
            digits_in_a_row += 1;
            looks_like_a_value |= digits_in_a_row >= 6;
        } else {
            digits_in_a_row = 0;
        }
        looks_like_a_value |= !(character.is_ascii_alphanumeric()
            || matches!(character, '_' | ':' | '.' | '/' | '-'));
    }
    if detail.is_empty() || detail.chars().count() > MAX_DETAIL_CODE_CHARS || looks_like_a_value {
        "detail_withheld".to_owned()
    } else {
        detail.to_owned()
    }
}

/// The support reference of a "could not check": `TraceID <id>; reason <code>; detail <code>`,
/// for the clinician to copy to the service desk. It holds the attempt's `TraceID`, the reason
/// code and the detail code only, never patient data. `None` when there is neither a `TraceID`
/// nor a detail (nothing was sent, so there is nothing to look up).
pub fn support_reference(
    trace_id: Option<&str>,
    reason_code: CouldNotCheckCode,
    detail: Option<&str>,
) -> Option<String> {
    if trace_id.is_none() && detail.is_none() {
        return None;
    }
    let trace_id = trace_id
        .filter(|id| id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
        .unwrap_or("none");
    let mut reference = format!("TraceID {trace_id}; reason {}", reason_code.as_str());
    if let Some(detail) = detail {
        reference.push_str("; detail ");
        reference.push_str(&safe_detail_code(detail));
    }
    Some(reference)
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
    use cpis_domain::{Gender, LaContact, NhsNumber, SocialWorker};
    use time::{
        Month,
        macros::{date, datetime},
    };

    fn patient() -> TracedPatient {
        TracedPatient {
            nhs_number: NhsNumber::parse("9990000018").expect("valid"),
            family_name: Some("Testchild".into()),
            given_names: vec!["Jamie".into()],
            birth_date: Some(BirthDate::Day(date!(2018 - 08 - 06))),
            gender: Some(Gender::Male),
            restricted: false,
            date_of_death: None,
        }
    }

    /// A patient of whom the demographics service recorded only the NHS number.
    fn bare_patient() -> TracedPatient {
        TracedPatient {
            family_name: None,
            given_names: Vec::new(),
            birth_date: None,
            gender: None,
            ..patient()
        }
    }

    fn plan_found() -> LookupOutcome {
        LookupOutcome::PlansFound {
            patient: patient(),
            plans: vec![PlanRecord {
                plan_type: Some(PlanType::ChildProtectionPlan),
                start: Some(date!(2026 - 01 - 05)),
                end: None,
                care_team_status: None,
                local_authority: LaContact {
                    name: "Northshire County Council".into(),
                    ods_code: Some("Z9N01".into()),
                    office_hours_phone: Some("01632 960001".into()),
                    emergency_duty_phone: Some("01632 960999".into()),
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

    /// Between 23:00 and 00:00 UTC in summer the UK date is the next day: a plan starting that
    /// day is active and an unborn plan due the day before is one day past its due date, with
    /// times on the UK clock. The date is never the UTC one, nor one from an offset read at
    /// start-up in winter.
    #[test]
    fn plans_are_judged_on_the_uk_date_of_the_answer() {
        let LookupOutcome::PlansFound { patient, plans, .. } = plan_found() else {
            panic!("plans");
        };
        let mut starting = plans[0].clone();
        starting.start = Some(date!(2026 - 07 - 01));
        let due = PlanRecord {
            plan_type: Some(PlanType::UnbornChildProtectionPlan),
            start: Some(date!(2026 - 01 - 05)),
            end: Some(date!(2026 - 06 - 30)),
            ..plans[0].clone()
        };
        let outcome = LookupOutcome::PlansFound {
            patient,
            plans: vec![starting, due],
            access_history: vec![AccessRecord {
                accessed_at: datetime!(2026-06-30 22:15 UTC),
                viewer_name: "Pat Testviewer".into(),
                viewer_role: "Nurse Access Role".into(),
                organisation_name: "Northshire General Hospital".into(),
                organisation_ods: None,
            }],
            checked_at: datetime!(2026-06-30 23:30 UTC),
        };
        let LookupView::PlanFound {
            plans,
            access_history,
            checked_at,
            ..
        } = LookupView::from_outcome(&outcome, None, None)
        else {
            panic!("expected plans");
        };
        assert_eq!(checked_at, "1 July 2026 at 12.30am");
        assert_eq!(access_history[0].accessed_at, "30 June 2026 at 11.15pm");
        assert_eq!(
            plans[0].status,
            PlanStatusView {
                code: PlanStatusCode::Active,
                text: "Active".into()
            }
        );
        assert_eq!(
            plans[1].status,
            PlanStatusView {
                code: PlanStatusCode::DuePassed,
                text: "Due date passed 1 day ago".into()
            }
        );
    }

    #[test]
    fn plan_found_view_is_display_ready() {
        let outcome = plan_found();
        let view = LookupView::from_outcome(&outcome, None, None);
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
        assert_eq!(plans[0].status.code, PlanStatusCode::Active);
        assert_eq!(plans[0].status.text, "Active");
        assert_eq!(plans[0].start.as_deref(), Some("5 January 2026"));
        assert_eq!(plans[0].plan_name, "Child protection plan");
    }

    #[test]
    fn a_full_banner_has_no_notes() {
        let view = PatientView::from_demographics(&patient());
        assert_eq!(view.gender, "Male");
        assert_eq!(view.date_of_birth_note, None);
        assert_eq!(view.not_recorded_warning, None);
        assert_eq!(view.restricted_notice, None);
        assert_eq!(view.date_of_death, None);
    }

    #[test]
    fn the_banner_says_plainly_what_the_demographics_service_did_not_record() {
        let view = PatientView::from_demographics(&bare_patient());
        assert_eq!(view.nhs_number, "999 000 0018");
        assert_eq!(view.name, "Name not recorded");
        assert_eq!(view.date_of_birth, "Date of birth not recorded");
        assert_eq!(view.gender, "Gender not recorded");
        assert_eq!(view.date_of_birth_note, None);
        assert_eq!(
            view.not_recorded_warning.as_deref(),
            Some(
                "The demographics service has no name, date of birth or gender for this NHS number: confirm who the patient is another way."
            )
        );
        let json = serde_json::to_value(&view).expect("json");
        for key in [
            "date_of_birth_note",
            "not_recorded_warning",
            "restricted_notice",
            "date_of_death",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn the_warning_names_only_what_is_missing_and_not_a_missing_gender_alone() {
        let no_name = TracedPatient {
            family_name: None,
            given_names: Vec::new(),
            ..patient()
        };
        assert_eq!(
            PatientView::from_demographics(&no_name)
                .not_recorded_warning
                .as_deref(),
            Some(
                "The demographics service has no name for this NHS number: confirm who the patient is another way."
            )
        );
        let no_birth_or_gender = TracedPatient {
            birth_date: None,
            gender: None,
            ..patient()
        };
        assert_eq!(
            PatientView::from_demographics(&no_birth_or_gender)
                .not_recorded_warning
                .as_deref(),
            Some(
                "The demographics service has no date of birth or gender for this NHS number: confirm who the patient is another way."
            )
        );
        let no_gender = TracedPatient {
            gender: None,
            ..patient()
        };
        let view = PatientView::from_demographics(&no_gender);
        assert_eq!(view.gender, "Gender not recorded");
        assert_eq!(view.not_recorded_warning, None);
        // Given names alone are a name.
        let given_only = TracedPatient {
            family_name: None,
            ..patient()
        };
        assert_eq!(PatientView::from_demographics(&given_only).name, "Jamie");
    }

    #[test]
    fn a_partial_date_of_birth_is_shown_as_given_and_said_to_be_partial() {
        let month = TracedPatient {
            birth_date: Some(BirthDate::Month {
                year: 2010,
                month: Month::October,
            }),
            ..patient()
        };
        let view = PatientView::from_demographics(&month);
        assert_eq!(view.date_of_birth, "October 2010");
        assert_eq!(
            view.date_of_birth_note.as_deref(),
            Some("Partial date: only the month and year are recorded")
        );
        let year = TracedPatient {
            birth_date: Some(BirthDate::Year(2010)),
            ..patient()
        };
        let view = PatientView::from_demographics(&year);
        assert_eq!(view.date_of_birth, "2010");
        assert_eq!(
            view.date_of_birth_note.as_deref(),
            Some("Partial date: only the year is recorded")
        );
    }

    #[test]
    fn a_restricted_record_says_so() {
        let restricted = TracedPatient {
            restricted: true,
            ..patient()
        };
        let view = PatientView::from_demographics(&restricted);
        assert!(
            view.restricted_notice
                .as_deref()
                .is_some_and(|notice| notice.starts_with("This is a restricted record")),
            "{:?}",
            view.restricted_notice
        );
    }

    #[test]
    fn a_deceased_patients_banner_shows_the_date_of_death() {
        let deceased = TracedPatient {
            date_of_death: Some(date!(2010 - 10 - 22)),
            ..patient()
        };
        let view = PatientView::from_demographics(&deceased);
        assert_eq!(view.date_of_death.as_deref(), Some("22 October 2010"));
        assert_redacted(&format!("{view:?}"));
        assert!(!format!("{view:?}").contains("2010"));
    }

    #[test]
    fn a_record_of_unknown_type_is_shown_with_what_it_carries() {
        let record = PlanRecord {
            plan_type: None,
            start: None,
            end: None,
            care_team_status: None,
            local_authority: LaContact {
                name: "SFD1 - SHEFFIELD CITY COUNCIL".into(),
                ods_code: Some("SFD1".into()),
                office_hours_phone: Some("0114 496 0001".into()),
                emergency_duty_phone: None,
            },
            social_worker: None,
        };
        let view = PlanView::from_plan(&record, date!(2026 - 11 - 27));
        assert_eq!(view.plan_type, None);
        assert_eq!(
            view.plan_name,
            "CP-IS holds a record; its type could not be read"
        );
        assert_eq!(view.start, None);
        assert_eq!(view.status.code, PlanStatusCode::Active);
        assert_eq!(view.local_authority.name, "SFD1 - SHEFFIELD CITY COUNCIL");
        assert_eq!(view.local_authority.ods_code.as_deref(), Some("SFD1"));
        assert_eq!(
            view.local_authority
                .office_hours_phone
                .as_ref()
                .map(|phone| phone.display.as_str()),
            Some("0114 496 0001")
        );
        assert_eq!(view.local_authority.emergency_duty_phone, None);
        let json = serde_json::to_value(&view).expect("json");
        assert_eq!(json["plan_type"], serde_json::Value::Null);
        assert_eq!(json["start"], serde_json::Value::Null);
        assert_eq!(
            json["local_authority"]["emergency_duty_phone"],
            serde_json::Value::Null
        );
    }

    /// Each phone of a plan (the local authority's two, the social worker's) is read once, in
    /// Rust: the link dials the number shown, and an extension is said, never dialled.
    #[test]
    fn a_plans_phones_link_to_the_number_shown_and_say_the_extension() {
        let record = plan_record_with_phones(
            "+44 (0)20 7946 0000",
            "020 7946 0000 ext 201",
            "0113 397 3581 x 12",
        );
        let view = PlanView::from_plan(&record, date!(2026 - 11 - 27));
        let json = serde_json::to_value(&view).expect("json");
        assert_eq!(
            json["local_authority"]["office_hours_phone"],
            serde_json::json!({
                "display": "020 7946 0000",
                "tel": "tel:+442079460000",
                "extension": null,
            })
        );
        assert_eq!(
            json["local_authority"]["emergency_duty_phone"],
            serde_json::json!({
                "display": "020 7946 0000",
                "tel": "tel:+442079460000",
                "extension": "201",
            })
        );
        assert_eq!(
            json["social_worker"]["phone"],
            serde_json::json!({
                "display": "0113 397 3581",
                "tel": "tel:+441133973581",
                "extension": "12",
            })
        );
        // Not a number: shown as given, no link; a blank one is not given.
        let record = plan_record_with_phones("garbage", " ", "");
        let view = PlanView::from_plan(&record, date!(2026 - 11 - 27));
        assert_eq!(
            view.local_authority.office_hours_phone,
            Some(PhoneView {
                display: "garbage".into(),
                tel: None,
                extension: None,
            })
        );
        assert_eq!(view.local_authority.emergency_duty_phone, None);
        assert_eq!(view.social_worker.and_then(|worker| worker.phone), None);
    }

    fn plan_record_with_phones(office: &str, emergency: &str, social_worker: &str) -> PlanRecord {
        PlanRecord {
            plan_type: Some(PlanType::ChildProtectionPlan),
            start: Some(date!(2026 - 01 - 05)),
            end: None,
            care_team_status: None,
            local_authority: LaContact {
                name: "Northshire County Council".into(),
                ods_code: Some("Z9N01".into()),
                office_hours_phone: Some(office.into()),
                emergency_duty_phone: Some(emergency.into()),
            },
            social_worker: Some(SocialWorker {
                name: "Sam Testworker".into(),
                phone: social_worker.into(),
            }),
        }
    }

    const TRACE_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    #[test]
    fn the_support_reference_carries_the_trace_id_and_detail_and_no_patient_data() {
        let view = LookupView::from_outcome(
            &LookupOutcome::CouldNotCheck {
                reason: CouldNotCheckReason::InvalidResponse,
                attempted_at: datetime!(2026-11-25 09:00 UTC),
            },
            None,
            Some(&patient().nhs_number),
        )
        .with_support_reference(
            Some(TRACE_ID),
            Some("care_team/missing_element:CareTeam.name"),
        );
        let LookupView::CouldNotCheck {
            support_reference: Some(reference),
            ..
        } = &view
        else {
            panic!("expected a support reference, got {view:?}");
        };
        assert_eq!(
            reference,
            "TraceID 0f8fad5b-d9cb-469f-a165-70867728950e; reason invalid_response; detail care_team/missing_element:CareTeam.name"
        );
        let json = serde_json::to_string(&view).expect("json");
        assert!(
            json.contains(r#""support_reference":"TraceID 0f8fad5b"#),
            "{json}"
        );
        assert_redacted(&json);
        assert_redacted(&format!("{view:?}"));
    }

    #[test]
    fn a_detail_that_looks_like_a_value_is_withheld_from_the_support_reference() {
        for leaky in [
            "demographics/invalid_element:Patient.birthDate=2010-10-22",
            "care_team/another_patient:9990000018",
            "care_team/missing_element:Jamie Testchild",
            "",
        ] {
            assert_eq!(safe_detail_code(leaky), "detail_withheld", "{leaky}");
        }
        assert_eq!(
            safe_detail_code("care_team/http_status:503"),
            "care_team/http_status:503"
        );
        assert_eq!(safe_detail_code(&"a".repeat(121)), "detail_withheld");
        // Something that is not a TraceID is not passed on either.
        assert_eq!(
            support_reference(Some("9990000018"), CouldNotCheckCode::Timeout, None).as_deref(),
            Some("TraceID none; reason timeout")
        );
        // Nothing sent, nothing to find: no reference.
        assert_eq!(
            support_reference(None, CouldNotCheckCode::SignInRequired, None),
            None
        );
        // Only a could-not-check has one.
        let found = LookupView::from_outcome(&plan_found(), None, None);
        assert_eq!(
            found
                .clone()
                .with_support_reference(Some(TRACE_ID), Some("x")),
            found
        );
    }

    #[test]
    fn could_not_check_view_has_plain_reason() {
        let view = LookupView::from_outcome(
            &LookupOutcome::CouldNotCheck {
                reason: CouldNotCheckReason::Timeout,
                attempted_at: datetime!(2026-11-25 09:00 UTC),
            },
            None,
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
        let found = LookupView::from_outcome(&plan_found(), None, None);
        let debug = format!("{found:?}");
        assert_redacted(&debug);
        assert!(debug.contains("PlanFound"), "{debug}");
        let not_found = LookupView::from_outcome(
            &LookupOutcome::PatientNotFound {
                checked_at: datetime!(2026-11-25 17:30 UTC),
            },
            None,
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
