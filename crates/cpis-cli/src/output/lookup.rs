//! `cpis lookup`: the stable JSON object and the plain text of one lookup.

use cpis_client::LookupReport;
use cpis_domain::uk_time::uk_date;
use cpis_domain::{AccessRecord, LookupOutcome, NhsNumberError, PlanRecord, TracedPatient};
use cpis_ipc::{
    NOT_GIVEN_BY_CPIS, PhoneView, PlanStatusView, RESTRICTED_NOTICE, START_DATE_NOT_GIVEN,
    TYPE_NOT_READ, not_recorded_warning, partial_birth_date_note, safe_detail_code,
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
    /// Which step and which element an answer was refused for, as a stable code such as
    /// `care_team/missing_element:CareTeam.name` (no values, no patient data), when one was.
    pub detail: Option<String>,
    /// The same for an access history that could not be read.
    pub access_history_detail: Option<String>,
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
/// What the demographics service did not record is `null` (and named in `not_recorded`).
#[derive(Serialize)]
pub struct PatientJson {
    nhs_number: String,
    family_name: Option<String>,
    given_names: Vec<String>,
    banner_name: Option<String>,
    /// As PDS gave it: `2010-10-22`, or partial: `2010-10`, `2010`.
    date_of_birth: Option<String>,
    date_of_birth_partial: bool,
    gender: Option<&'static str>,
    /// Some of `name`, `date of birth`, `gender`.
    not_recorded: Vec<&'static str>,
    restricted: bool,
    date_of_death: Option<String>,
}

/// One record with its local authority contacts. A record whose type could not be read has
/// `plan_type`, `plan_type_name` and `snomed_code` `null`. `status` is the app's: its `code`
/// and `text` on the UK date of `checked_at`.
#[derive(Debug, Serialize)]
pub struct PlanJson {
    plan_type: Option<&'static str>,
    plan_type_name: Option<&'static str>,
    snomed_code: Option<&'static str>,
    start: Option<String>,
    end: Option<String>,
    status: PlanStatusView,
    local_authority: LocalAuthorityJson,
    social_worker: Option<SocialWorkerJson>,
}

/// The responsible local authority; what CP-IS did not give is `null`. Each phone is the app's
/// view of it: `display`, `tel` (a `tel:` URI in E.164, `null` when the number could not be
/// read) and `extension`.
#[derive(Debug, Serialize)]
pub struct LocalAuthorityJson {
    name: String,
    ods_code: Option<String>,
    office_hours_phone: Option<PhoneView>,
    emergency_duty_phone: Option<PhoneView>,
}

/// The social worker the local authority shares, if any.
#[derive(Debug, Serialize)]
pub struct SocialWorkerJson {
    name: String,
    phone: Option<PhoneView>,
}

/// One access.
#[derive(Debug, Serialize)]
pub struct AccessJson {
    accessed_at: String,
    viewer_name: String,
    viewer_role: String,
    organisation_name: String,
    organisation_ods: Option<String>,
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
            .field("detail", &self.detail)
            .field("access_history_detail", &self.access_history_detail)
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

fn patient_json(patient: &TracedPatient) -> PatientJson {
    PatientJson {
        nhs_number: patient.nhs_number.as_str().to_owned(),
        family_name: patient.family_name.clone(),
        given_names: patient.given_names.clone(),
        banner_name: patient.banner_name(),
        date_of_birth: patient.birth_date.map(|birth| birth.fhir()),
        date_of_birth_partial: patient.birth_date.is_some_and(|birth| birth.is_partial()),
        gender: patient.gender.map(cpis_fhir::gender_code),
        not_recorded: patient.not_recorded(),
        restricted: patient.restricted,
        date_of_death: patient.date_of_death.map(iso_date),
    }
}

/// A record as JSON, its status judged on the UK date `today`.
fn plan_json(plan: &PlanRecord, today: time::Date) -> PlanJson {
    PlanJson {
        status: PlanStatusView::of(plan, today),
        plan_type: plan.plan_type.map(|plan_type| plan_type.short_code()),
        plan_type_name: plan.plan_type.map(|plan_type| plan_type.display_name()),
        snomed_code: plan.plan_type.map(|plan_type| plan_type.snomed_code()),
        start: plan.start.map(iso_date),
        end: plan.end.map(iso_date),
        local_authority: LocalAuthorityJson {
            name: plan.local_authority.name.clone(),
            ods_code: plan.local_authority.ods_code.clone(),
            office_hours_phone: PhoneView::given_optional(
                plan.local_authority.office_hours_phone.as_deref(),
            ),
            emergency_duty_phone: PhoneView::given_optional(
                plan.local_authority.emergency_duty_phone.as_deref(),
            ),
        },
        social_worker: plan.social_worker.as_ref().map(|worker| SocialWorkerJson {
            name: worker.name.clone(),
            phone: PhoneView::given(&worker.phone),
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
            detail: None,
            access_history_detail: None,
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
            detail: report.detail.as_deref().map(safe_detail_code),
            access_history_detail: report
                .access_history_detail
                .as_deref()
                .map(safe_detail_code),
        };
        match &report.outcome {
            LookupOutcome::PlansFound {
                patient,
                plans,
                access_history,
                checked_at,
            } => {
                json.patient = Some(patient_json(patient));
                let today = uk_date(*checked_at);
                json.plans = plans.iter().map(|plan| plan_json(plan, today)).collect();
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

/// The patient banner in plain text: what the demographics service did not record is said
/// plainly, a partial date of birth is shown as given and said to be partial.
fn patient_banner_text(patient: &TracedPatient) -> String {
    let mut out = format!(
        "Patient: {}\nNHS number: {}\n",
        patient
            .banner_name()
            .unwrap_or_else(|| cpis_ipc::NAME_NOT_RECORDED.to_owned()),
        patient.nhs_number
    );
    match patient.birth_date {
        Some(birth) => {
            out.push_str(&format!("Date of birth: {}", birth.display()));
            if let Some(note) = partial_birth_date_note(birth) {
                out.push_str(&format!(" ({})", note.replacen("Partial", "partial", 1)));
            }
            out.push('\n');
        }
        None => out.push_str("Date of birth: not recorded\n"),
    }
    out.push_str(&format!(
        "Gender: {}\n",
        patient
            .gender
            .map_or("not recorded", |gender| gender.display())
    ));
    if let Some(died) = patient.date_of_death {
        out.push_str(&format!("Died: {}\n", nhs_date(died)));
    }
    if patient.restricted {
        out.push_str(RESTRICTED_NOTICE);
        out.push('\n');
    }
    if let Some(warning) = not_recorded_warning(&patient.not_recorded()) {
        out.push_str(&warning);
        out.push('\n');
    }
    out
}

/// A phone as the app shows it (`020 7946 0000, extension 201`; a number that could not be read
/// as given), or words saying CP-IS did not give it.
fn phone_text(written: Option<&str>) -> String {
    match PhoneView::given_optional(written) {
        Some(PhoneView {
            display,
            extension: Some(extension),
            ..
        }) => format!("{display}, extension {extension}"),
        Some(phone) => phone.display,
        None => NOT_GIVEN_BY_CPIS.to_owned(),
    }
}

/// One record in plain text: its kind, dates, status on the UK date `today` (as the app's tag
/// says it) and whom to phone. What CP-IS did not give is said plainly, never left blank.
fn plan_text(plan: &PlanRecord, today: time::Date) -> String {
    let name = plan
        .plan_type
        .map_or(TYPE_NOT_READ, |plan_type| plan_type.display_name());
    let started = plan.start.map_or_else(
        || START_DATE_NOT_GIVEN.to_lowercase(),
        |start| format!("started {}", nhs_date(start)),
    );
    let ended = match plan.end {
        Some(end)
            if plan
                .plan_type
                .is_some_and(|plan_type| plan_type.is_unborn()) =>
        {
            format!("due {}", nhs_date(end))
        }
        Some(end) => format!("ended {}", nhs_date(end)),
        None => "open".to_owned(),
    };
    let authority = &plan.local_authority;
    let ods = authority
        .ods_code
        .as_ref()
        .map(|ods| format!(" ({ods})"))
        .unwrap_or_default();
    let phone = |phone: &Option<String>| phone_text(phone.as_deref());
    format!(
        "{name}: {started}, {ended}\n  Status: {}\n  Local authority: {}{ods}\n  Office hours: {}\n  Out of hours (emergency duty team): {}\n",
        PlanStatusView::of(plan, today).text,
        authority.name,
        phone(&authority.office_hours_phone),
        phone(&authority.emergency_duty_phone),
    )
}

/// The plain-text form of a lookup.
pub fn lookup_text(report: &LookupReport) -> String {
    let mut out = String::new();
    let banner = patient_banner_text;
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
                out.push_str(&plan_text(plan, uk_date(*checked_at)));
                if let Some(worker) = &plan.social_worker {
                    out.push_str(&format!(
                        "  Social worker (shared by the local authority): {}, {}\n",
                        worker.name,
                        phone_text(Some(&worker.phone))
                    ));
                }
            }
            out.push_str("\nPrevious unscheduled care accesses (most recent first):\n");
            if let Some(reason) = report.access_history_unavailable {
                out.push_str(&format!(
                    "  Could not be loaded. {}\n",
                    reason.plain_message()
                ));
                if let Some(detail) = &report.access_history_detail {
                    out.push_str(&format!("  Detail: {}\n", safe_detail_code(detail)));
                }
            } else if access_history.is_empty() {
                out.push_str("  None recorded\n");
            }
            for access in access_history {
                let ods = access
                    .organisation_ods
                    .as_ref()
                    .map(|ods| format!(" ({ods})"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "  {}: {}, {}, {}{ods}\n",
                    nhs_date_time(access.accessed_at),
                    access.viewer_name,
                    access.viewer_role,
                    access.organisation_name,
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
            let trace_id = report.trace_id.map(|id| id.to_string());
            if let Some(reference) = cpis_ipc::support_reference(
                trace_id.as_deref(),
                cpis_ipc::CouldNotCheckCode::from(*reason),
                report.detail.as_deref(),
            ) {
                out.push_str(&format!("\nSupport reference: {reference}\n"));
            }
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
    use cpis_domain::{BirthDate, CouldNotCheckReason, Gender, LaContact, NhsNumber, PlanType};
    use time::macros::{date, datetime};

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
            "detail",
            "access_history_detail",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert_eq!(json["outcome"], "invalid_nhs_number");
        assert_eq!(json["reason"]["code"], "check_digit");
    }

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

    /// A record as the published CP-IS example gives it: a name and one phone, nothing else.
    fn unknown_type_record() -> PlanRecord {
        PlanRecord {
            plan_type: None,
            start: None,
            end: None,
            care_team_status: None,
            local_authority: LaContact {
                name: "Testshire County Council".into(),
                ods_code: None,
                office_hours_phone: Some("01632 960001".into()),
                emergency_duty_phone: None,
            },
            social_worker: None,
        }
    }

    fn report(outcome: LookupOutcome) -> LookupReport {
        LookupReport {
            outcome,
            access_history_unavailable: None,
            detail: None,
            access_history_detail: None,
            trace_id: None,
            unscheduled: true,
            audit: Ok(()),
        }
    }

    fn found(patient: TracedPatient, plans: Vec<PlanRecord>) -> LookupReport {
        report(LookupOutcome::PlansFound {
            patient,
            plans,
            access_history: Vec::new(),
            checked_at: datetime!(2026-11-25 17:30 UTC),
        })
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
        let json = LookupJson::from_report(&patient().nhs_number, &found(patient(), Vec::new()));
        let debug = format!("{json:?}");
        assert!(debug.contains("plan_found"), "{debug}");
        for secret in PATIENT_DATA {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }

    #[test]
    fn what_the_demographics_service_did_not_record_is_null_and_named_in_json_and_text() {
        let report = report(LookupOutcome::NoPlan {
            patient: bare_patient(),
            checked_at: datetime!(2026-11-25 17:30 UTC),
        });
        let json = serde_json::to_value(LookupJson::from_report(&patient().nhs_number, &report))
            .expect("json");
        let patient_json = &json["patient"];
        assert_eq!(patient_json["nhs_number"], "9990000018");
        for key in [
            "family_name",
            "banner_name",
            "date_of_birth",
            "gender",
            "date_of_death",
        ] {
            assert_eq!(patient_json[key], serde_json::Value::Null, "{key}");
        }
        assert_eq!(
            patient_json["not_recorded"],
            serde_json::json!(["name", "date of birth", "gender"])
        );
        assert_eq!(patient_json["restricted"], false);
        let text = lookup_text(&report);
        for line in [
            "Patient: Name not recorded\n",
            "Date of birth: not recorded\n",
            "Gender: not recorded\n",
            "The demographics service has no name, date of birth or gender for this NHS number: confirm who the patient is another way.\n",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
    }

    #[test]
    fn a_partial_birth_date_restricted_and_deceased_patient_in_json_and_text() {
        let patient = TracedPatient {
            birth_date: Some(BirthDate::Month {
                year: 2010,
                month: time::Month::October,
            }),
            restricted: true,
            date_of_death: Some(date!(2010 - 10 - 22)),
            ..patient()
        };
        let report = found(patient, vec![unknown_type_record()]);
        let json = serde_json::to_value(LookupJson::from_report(
            &NhsNumber::parse("9990000018").expect("valid"),
            &report,
        ))
        .expect("json");
        assert_eq!(json["patient"]["date_of_birth"], "2010-10");
        assert_eq!(json["patient"]["date_of_birth_partial"], true);
        assert_eq!(json["patient"]["restricted"], true);
        assert_eq!(json["patient"]["date_of_death"], "2010-10-22");
        assert_eq!(json["patient"]["not_recorded"], serde_json::json!([]));
        let text = lookup_text(&report);
        for line in [
            "Date of birth: October 2010 (partial date: only the month and year are recorded)\n",
            "Died: 22 October 2010\n",
            "This is a restricted record.",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
        assert!(!text.contains("confirm who the patient is"), "{text}");
    }

    #[test]
    fn a_record_whose_type_could_not_be_read_is_a_found_record_with_what_it_carries() {
        let report = found(patient(), vec![unknown_type_record()]);
        let json = serde_json::to_value(LookupJson::from_report(&patient().nhs_number, &report))
            .expect("json");
        assert_eq!(json["outcome"], "plan_found");
        let plan = &json["plans"][0];
        for key in ["plan_type", "plan_type_name", "snomed_code", "start", "end"] {
            assert_eq!(plan[key], serde_json::Value::Null, "{key}");
        }
        assert_eq!(plan["local_authority"]["name"], "Testshire County Council");
        assert_eq!(plan["local_authority"]["ods_code"], serde_json::Value::Null);
        assert_eq!(
            plan["local_authority"]["office_hours_phone"],
            serde_json::json!({ "display": "01632 960001", "tel": null, "extension": null })
        );
        assert_eq!(
            plan["local_authority"]["emergency_duty_phone"],
            serde_json::Value::Null
        );
        let text = lookup_text(&report);
        for line in [
            "CP-IS holds a record; its type could not be read: start date not given, open\n",
            "  Local authority: Testshire County Council\n",
            "  Office hours: 01632 960001\n",
            "  Out of hours (emergency duty team): Not given by CP-IS\n",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
    }

    #[test]
    fn a_full_record_still_shows_its_type_dates_and_ods_code() {
        let mut record = unknown_type_record();
        record.plan_type = Some(PlanType::ChildProtectionPlan);
        record.start = Some(date!(2026 - 01 - 05));
        record.local_authority.ods_code = Some("Z9N01".into());
        record.local_authority.emergency_duty_phone = Some("01632 960999".into());
        let text = lookup_text(&found(patient(), vec![record]));
        for line in [
            "Patient: TESTCHILD, Jamie\n",
            "Date of birth: 6 August 2018\n",
            "Gender: Male\n",
            "Child protection plan: started 5 January 2026, open\n",
            "  Local authority: Testshire County Council (Z9N01)\n",
            "  Out of hours (emergency duty team): 01632 960999\n",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
        for absent in ["not recorded", "Not given", "restricted", "Died"] {
            assert!(!text.contains(absent), "{absent} in {text}");
        }
    }

    /// The phones as the app shows them: `--json` carries the app's phone view (the link dials
    /// the number shown, the extension apart), and the text says the extension in words.
    #[test]
    fn phones_are_read_as_the_app_reads_them_in_json_and_text() {
        let mut record = unknown_type_record();
        record.local_authority.office_hours_phone = Some("+44 (0)20 7946 0000".into());
        record.local_authority.emergency_duty_phone = Some("020 7946 0000 ext 201".into());
        record.social_worker = Some(cpis_domain::SocialWorker {
            name: "Sam Testworker".into(),
            phone: "ring the duty desk".into(),
        });
        let report = found(patient(), vec![record]);
        let json = serde_json::to_value(LookupJson::from_report(&patient().nhs_number, &report))
            .expect("json");
        let authority = &json["plans"][0]["local_authority"];
        assert_eq!(
            authority["office_hours_phone"],
            serde_json::json!({ "display": "020 7946 0000", "tel": "tel:+442079460000", "extension": null })
        );
        assert_eq!(
            authority["emergency_duty_phone"],
            serde_json::json!({ "display": "020 7946 0000", "tel": "tel:+442079460000", "extension": "201" })
        );
        assert_eq!(
            json["plans"][0]["social_worker"]["phone"],
            serde_json::json!({ "display": "ring the duty desk", "tel": null, "extension": null })
        );
        let text = lookup_text(&report);
        for line in [
            "  Office hours: 020 7946 0000\n",
            "  Out of hours (emergency duty team): 020 7946 0000, extension 201\n",
            "  Social worker (shared by the local authority): Sam Testworker, ring the duty desk\n",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
    }

    #[test]
    fn a_refused_answer_carries_its_detail_code_and_support_reference() {
        let mut report = report(LookupOutcome::CouldNotCheck {
            reason: CouldNotCheckReason::InvalidResponse,
            attempted_at: datetime!(2026-11-25 17:30 UTC),
        });
        let trace_id = uuid::Uuid::new_v4();
        report.trace_id = Some(trace_id);
        report.detail = Some("care_team/missing_element:CareTeam.name".into());
        let json = serde_json::to_value(LookupJson::from_report(&patient().nhs_number, &report))
            .expect("json");
        assert_eq!(json["detail"], "care_team/missing_element:CareTeam.name");
        assert_eq!(json["access_history_detail"], serde_json::Value::Null);
        assert_eq!(json["trace_id"], trace_id.to_string());
        let text = lookup_text(&report);
        let expected = format!(
            "Support reference: TraceID {trace_id}; reason invalid_response; detail care_team/missing_element:CareTeam.name\n"
        );
        assert!(text.contains(&expected), "{text}");
        // A detail that holds a value is withheld, in the JSON and the text.
        report.detail = Some("demographics/another_patient:9990000018".into());
        let json = serde_json::to_string(&LookupJson::from_report(&patient().nhs_number, &report))
            .expect("json");
        assert!(json.contains(r#""detail":"detail_withheld""#), "{json}");
        assert!(!lookup_text(&report).contains("9990000018"));
    }

    #[test]
    fn an_unreadable_access_history_carries_its_detail_code() {
        let mut report = found(patient(), vec![unknown_type_record()]);
        report.access_history_unavailable = Some(CouldNotCheckReason::InvalidResponse);
        report.access_history_detail = Some("access_history/missing_total".into());
        let json = serde_json::to_value(LookupJson::from_report(&patient().nhs_number, &report))
            .expect("json");
        assert_eq!(json["access_history_available"], false);
        assert_eq!(
            json["access_history_detail"],
            "access_history/missing_total"
        );
        assert!(
            lookup_text(&report).contains("  Detail: access_history/missing_total\n"),
            "{}",
            lookup_text(&report)
        );
    }

    #[test]
    fn each_plans_status_is_the_apps_in_json_and_text() {
        // Checked at 00:30 UTC on 21 November 2026 (GMT): the UK date is 21 November.
        let checked_at = datetime!(2026-11-21 00:30 UTC);
        let with = |plan_type, start, end| PlanRecord {
            plan_type: Some(plan_type),
            start: Some(start),
            end,
            ..unknown_type_record()
        };
        let plans = vec![
            // The seeded mother: due 20 November, so 1 day past.
            with(
                PlanType::UnbornChildProtectionPlan,
                date!(2026 - 05 - 01),
                Some(date!(2026 - 11 - 20)),
            ),
            with(PlanType::ChildProtectionPlan, date!(2026 - 12 - 03), None),
            with(
                PlanType::LookedAfterChild,
                date!(2025 - 01 - 01),
                Some(date!(2026 - 10 - 11)),
            ),
            with(PlanType::ChildProtectionPlan, date!(2026 - 11 - 21), None),
        ];
        let outcome = LookupOutcome::PlansFound {
            patient: patient(),
            plans,
            access_history: Vec::new(),
            checked_at,
        };
        let report = report(outcome.clone());
        let json = serde_json::to_value(LookupJson::from_report(&patient().nhs_number, &report))
            .expect("json");
        let cpis_ipc::LookupView::PlanFound { plans: shown, .. } =
            cpis_ipc::LookupView::from_outcome(&outcome, None, None)
        else {
            panic!("expected plans");
        };
        let expected = [
            ("due_passed", "Due date passed 1 day ago"),
            ("starts", "Starts 3 December 2026"),
            ("ended", "Ended 11 October 2026"),
            ("active", "Active"),
        ];
        for (index, (code, text)) in expected.into_iter().enumerate() {
            assert_eq!(
                json["plans"][index]["status"],
                serde_json::json!({"code": code, "text": text})
            );
            assert_eq!(
                json["plans"][index]["status"],
                serde_json::to_value(&shown[index].status).expect("json"),
                "the app's status"
            );
        }
        let text = lookup_text(&report);
        for line in [
            "Unborn child protection plan: started 1 May 2026, due 20 November 2026\n  Status: Due date passed 1 day ago\n",
            "  Status: Starts 3 December 2026\n",
            "  Status: Ended 11 October 2026\n",
            "  Status: Active\n",
            "Checked 21 November 2026 at 12.30am GMT\n",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
    }
}
