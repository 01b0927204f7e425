//! `cpis lookup`: the stable JSON object and the plain text of one lookup.

use cpis_client::LookupReport;
use cpis_domain::{
    AccessRecord, LookupOutcome, NhsNumberError, PatientDemographics, ProtectionPlan,
};
use serde::Serialize;
use time::OffsetDateTime;

use super::{nhs_date, nhs_date_time, rfc3339};

/// The `--json` object of `cpis lookup`. Every key is always present (`null` or `[]` when it
/// does not apply), so scripts can rely on the shape. Its `Debug` shows the outcome and codes
/// only, no patient data.
#[derive(Serialize)]
pub struct LookupJson {
    /// `plan_found`, `no_plan`, `could_not_check`, `invalid_nhs_number`, `patient_not_found`.
    pub outcome: &'static str,
    /// Why, for `could_not_check` and `invalid_nhs_number`.
    pub reason: Option<ReasonJson>,
    /// The NHS number asked about (10 digits), when it was valid.
    pub nhs_number: Option<String>,
    /// Demographics from the demographics service.
    pub patient: Option<PatientJson>,
    /// The plans, for `plan_found`.
    pub plans: Vec<PlanJson>,
    /// The access history (newest first), for `plan_found`.
    pub access_history: Vec<AccessJson>,
    /// `false` when plans were found but the access history could not be fetched.
    pub access_history_available: bool,
    /// When the service answered (RFC 3339, UTC), for a definitive answer or not found.
    pub checked_at: Option<String>,
    /// When a failed attempt ended (RFC 3339, UTC), for `could_not_check`.
    pub attempted_at: Option<String>,
    /// Whether the lookup was sent as an unscheduled access (the local authority is notified).
    pub unscheduled_access: bool,
    /// The `TraceID` of the CP-IS (or demographics) request, if one was sent.
    pub trace_id: Option<String>,
}

/// A reason code and its plain message.
#[derive(Debug, Serialize)]
pub struct ReasonJson {
    /// Stable code, such as `timeout`.
    pub code: &'static str,
    /// A sentence for a person.
    pub message: String,
}

/// Who the NHS number belongs to. Its `Debug` shows none of it.
#[derive(Serialize)]
pub struct PatientJson {
    nhs_number: String,
    family_name: String,
    given_names: Vec<String>,
    banner_name: String,
    date_of_birth: String,
    gender: &'static str,
}

/// One plan with its local authority contacts.
#[derive(Debug, Serialize)]
pub struct PlanJson {
    plan_type: &'static str,
    plan_type_name: &'static str,
    snomed_code: &'static str,
    start: String,
    end: Option<String>,
    local_authority: LocalAuthorityJson,
    social_worker: Option<SocialWorkerJson>,
}

/// The responsible local authority.
#[derive(Debug, Serialize)]
pub struct LocalAuthorityJson {
    name: String,
    ods_code: String,
    office_hours_phone: String,
    emergency_duty_phone: String,
}

/// The social worker the local authority shares, if any.
#[derive(Debug, Serialize)]
pub struct SocialWorkerJson {
    name: String,
    phone: String,
}

/// One access.
#[derive(Debug, Serialize)]
pub struct AccessJson {
    accessed_at: String,
    viewer_name: String,
    viewer_role: String,
    organisation_name: String,
    organisation_ods: String,
}

impl std::fmt::Debug for LookupJson {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LookupJson")
            .field("outcome", &self.outcome)
            .field("reason", &self.reason.as_ref().map(|reason| reason.code))
            .field("plans", &self.plans.len())
            .field("access_history", &self.access_history.len())
            .field("access_history_available", &self.access_history_available)
            .field("unscheduled_access", &self.unscheduled_access)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PatientJson {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("PatientJson { <redacted> }")
    }
}

fn iso_date(date: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn patient_json(patient: &PatientDemographics) -> PatientJson {
    PatientJson {
        nhs_number: patient.nhs_number.as_str().to_owned(),
        family_name: patient.family_name.clone(),
        given_names: patient.given_names.clone(),
        banner_name: patient.banner_name(),
        date_of_birth: iso_date(patient.date_of_birth),
        gender: cpis_fhir::gender_code(patient.gender),
    }
}

fn plan_json(plan: &ProtectionPlan) -> PlanJson {
    PlanJson {
        plan_type: plan.plan_type.short_code(),
        plan_type_name: plan.plan_type.display_name(),
        snomed_code: plan.plan_type.snomed_code(),
        start: iso_date(plan.start),
        end: plan.end.map(iso_date),
        local_authority: LocalAuthorityJson {
            name: plan.local_authority.name.clone(),
            ods_code: plan.local_authority.ods_code.clone(),
            office_hours_phone: plan.local_authority.office_hours_phone.clone(),
            emergency_duty_phone: plan.local_authority.emergency_duty_phone.clone(),
        },
        social_worker: plan.social_worker.as_ref().map(|worker| SocialWorkerJson {
            name: worker.name.clone(),
            phone: worker.phone.clone(),
        }),
    }
}

fn access_json(access: &AccessRecord) -> AccessJson {
    AccessJson {
        accessed_at: rfc3339(access.accessed_at),
        viewer_name: access.viewer_name.clone(),
        viewer_role: access.viewer_role.clone(),
        organisation_name: access.organisation_name.clone(),
        organisation_ods: access.organisation_ods.clone(),
    }
}

impl LookupJson {
    /// The object for an NHS number that was not valid; nothing was sent.
    pub fn invalid(error: NhsNumberError) -> LookupJson {
        LookupJson {
            outcome: "invalid_nhs_number",
            reason: Some(ReasonJson {
                code: error.code(),
                message: error.to_string(),
            }),
            nhs_number: None,
            patient: None,
            plans: Vec::new(),
            access_history: Vec::new(),
            access_history_available: false,
            checked_at: None,
            attempted_at: None,
            unscheduled_access: false,
            trace_id: None,
        }
    }

    /// The object when no lookup was attempted because sign-in is needed (exit status 4).
    pub fn sign_in_required(nhs_number: &cpis_domain::NhsNumber) -> LookupJson {
        let reason = cpis_domain::CouldNotCheckReason::SignInRequired;
        LookupJson {
            reason: Some(ReasonJson {
                code: reason.code(),
                message: reason.plain_message().to_owned(),
            }),
            nhs_number: Some(nhs_number.as_str().to_owned()),
            attempted_at: Some(rfc3339(OffsetDateTime::now_utc())),
            outcome: "could_not_check",
            ..LookupJson::invalid(NhsNumberError::Empty)
        }
    }

    /// The object for a lookup's report.
    pub fn from_report(nhs_number: &cpis_domain::NhsNumber, report: &LookupReport) -> LookupJson {
        let mut json = LookupJson {
            outcome: report.outcome.code(),
            reason: None,
            nhs_number: Some(nhs_number.as_str().to_owned()),
            patient: None,
            plans: Vec::new(),
            access_history: Vec::new(),
            access_history_available: false,
            checked_at: None,
            attempted_at: None,
            unscheduled_access: report.unscheduled,
            trace_id: report.trace_id.map(|id| id.to_string()),
        };
        match &report.outcome {
            LookupOutcome::PlansFound {
                patient,
                plans,
                access_history,
                checked_at,
            } => {
                json.patient = Some(patient_json(patient));
                json.plans = plans.iter().map(plan_json).collect();
                json.access_history = access_history.iter().map(access_json).collect();
                json.access_history_available = report.access_history_unavailable.is_none();
                json.checked_at = Some(rfc3339(*checked_at));
            }
            LookupOutcome::NoPlan {
                patient,
                checked_at,
            } => {
                json.patient = Some(patient_json(patient));
                json.checked_at = Some(rfc3339(*checked_at));
            }
            LookupOutcome::CouldNotCheck {
                reason,
                attempted_at,
            } => {
                json.reason = Some(ReasonJson {
                    code: reason.code(),
                    message: reason.plain_message().to_owned(),
                });
                json.attempted_at = Some(rfc3339(*attempted_at));
            }
            LookupOutcome::PatientNotFound { checked_at } => {
                json.checked_at = Some(rfc3339(*checked_at));
            }
            LookupOutcome::InvalidInput(error) => {
                json.reason = Some(ReasonJson {
                    code: error.code(),
                    message: error.to_string(),
                });
            }
        }
        json
    }
}

/// The plain-text form of a lookup.
pub fn lookup_text(report: &LookupReport) -> String {
    let mut out = String::new();
    let banner = |patient: &PatientDemographics| {
        format!(
            "Patient: {}\nNHS number: {}\nDate of birth: {}\nGender: {}\n",
            patient.banner_name(),
            patient.nhs_number,
            nhs_date(patient.date_of_birth),
            patient.gender.display()
        )
    };
    match &report.outcome {
        LookupOutcome::PlansFound {
            patient,
            plans,
            access_history,
            checked_at,
        } => {
            out.push_str("WARNING: CHILD PROTECTION INFORMATION FOUND\n\n");
            out.push_str(&banner(patient));
            out.push('\n');
            for plan in plans {
                let ended = match plan.end {
                    Some(end) if plan.plan_type.is_unborn() => format!("due {}", nhs_date(end)),
                    Some(end) => format!("ended {}", nhs_date(end)),
                    None => "open".to_owned(),
                };
                out.push_str(&format!(
                    "{}: started {}, {ended}\n",
                    plan.plan_type.display_name(),
                    nhs_date(plan.start)
                ));
                let authority = &plan.local_authority;
                out.push_str(&format!(
                    "  Local authority: {} ({})\n  Office hours: {}\n  Out of hours (emergency duty team): {}\n",
                    authority.name,
                    authority.ods_code,
                    authority.office_hours_phone,
                    authority.emergency_duty_phone
                ));
                if let Some(worker) = &plan.social_worker {
                    out.push_str(&format!(
                        "  Social worker (shared by the local authority): {}, {}\n",
                        worker.name, worker.phone
                    ));
                }
            }
            out.push_str("\nPrevious unscheduled care accesses (most recent first):\n");
            if let Some(reason) = report.access_history_unavailable {
                out.push_str(&format!(
                    "  Could not be loaded. {}\n",
                    reason.plain_message()
                ));
            } else if access_history.is_empty() {
                out.push_str("  None recorded\n");
            }
            for access in access_history {
                out.push_str(&format!(
                    "  {}: {}, {}, {} ({})\n",
                    nhs_date_time(access.accessed_at),
                    access.viewer_name,
                    access.viewer_role,
                    access.organisation_name,
                    access.organisation_ods
                ));
            }
            out.push_str(&format!("\nChecked {}\n", nhs_date_time(*checked_at)));
        }
        LookupOutcome::NoPlan {
            patient,
            checked_at,
        } => {
            out.push_str("No child protection plan found\n\n");
            out.push_str(&banner(patient));
            out.push_str(
                "\nCP-IS holds no child protection plan, looked after child record or unborn child \
protection plan for this NHS number. This does not mean there are no concerns: follow your \
local safeguarding procedures if you are worried.\n",
            );
            out.push_str(&format!("\nChecked {}\n", nhs_date_time(*checked_at)));
        }
        LookupOutcome::CouldNotCheck { reason, .. } => {
            out.push_str("COULD NOT CHECK: the child protection status has NOT been checked\n\n");
            out.push_str(reason.plain_message());
            out.push_str(
                "\n\nDo not assume there is no plan. Follow your local procedure: if you have \
concerns, phone the local authority's emergency duty team. Then try the lookup again.\n",
            );
        }
        LookupOutcome::PatientNotFound { .. } => {
            out.push_str(
                "Person not found: the demographics service has no record of this NHS number. \
Check the number with the patient. The child protection status has not been checked.\n",
            );
        }
        LookupOutcome::InvalidInput(error) => {
            out.push_str(&format!("{error}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_json_has_every_key() {
        let json =
            serde_json::to_value(LookupJson::invalid(NhsNumberError::CheckDigit)).expect("json");
        for key in [
            "outcome",
            "reason",
            "nhs_number",
            "patient",
            "plans",
            "access_history",
            "access_history_available",
            "checked_at",
            "attempted_at",
            "unscheduled_access",
            "trace_id",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert_eq!(json["outcome"], "invalid_nhs_number");
        assert_eq!(json["reason"]["code"], "check_digit");
    }

    fn patient() -> PatientDemographics {
        PatientDemographics {
            nhs_number: cpis_domain::NhsNumber::parse("9990000018").expect("valid"),
            family_name: "Testchild".into(),
            given_names: vec!["Jamie".into()],
            date_of_birth: time::macros::date!(2018 - 08 - 06),
            gender: cpis_domain::Gender::Male,
        }
    }

    const PATIENT_DATA: [&str; 5] = ["9990000018", "999 000 0018", "Testchild", "Jamie", "2018"];

    #[test]
    fn patient_json_debug_shows_no_patient_data() {
        let debug = format!("{:?}", patient_json(&patient()));
        for secret in PATIENT_DATA {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }

    #[test]
    fn lookup_json_debug_shows_no_patient_data() {
        let json = LookupJson {
            outcome: "no_plan",
            reason: None,
            nhs_number: Some("9990000018".into()),
            patient: Some(patient_json(&patient())),
            plans: Vec::new(),
            access_history: Vec::new(),
            access_history_available: true,
            checked_at: Some("2026-11-25T17:30:00Z".into()),
            attempted_at: None,
            unscheduled_access: false,
            trace_id: None,
        };
        let debug = format!("{json:?}");
        assert!(debug.contains("no_plan"), "{debug}");
        for secret in PATIENT_DATA {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}
