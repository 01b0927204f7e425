//! Tests the world wrote: every response file the NHS published (`shared/fixtures/nhs-ig/` and
//! `shared/fixtures/pds/`) goes through the real `AlertClient::lookup` over a real socket, served
//! where a real service would answer with it, and comes out as a clinician should see it. One
//! row a file; the directories are listed and a file without a row fails the test, so none can
//! be skipped silently. Synthetic rows beside them cover what the published files only imply
//! (a partial birth date, the published CareTeam under another patient's self link, an empty
//! searchset with a self link, the access history in the consumer guide's shape).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cpis_client::{
    AlertClient, AuditRecord, AuditSink, AuditSinkError, Config, LookupOutcome, LookupReport,
    Secret,
};
use cpis_domain::{CouldNotCheckReason, Gender, PlanType, TracedPatient, display_date};
use serde_json::{Value, json};

use crate::support::fault_server::{FaultServer, Reply, Script};
use crate::support::synthetic::{
    asked, history_bundle, nhs, patient_body, plans_bundle, user_with,
};

const DEADLINE: Duration = Duration::from_secs(10);

struct NoAudit;

impl AuditSink for NoAudit {
    fn record_lookup(&self, _record: &AuditRecord) -> Result<(), AuditSinkError> {
        Ok(())
    }
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

fn read_fixture(relative: &str) -> Vec<u8> {
    let path = fixtures_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// The JSON response files that must each have a row, relative to the fixtures directory.
fn published_files() -> BTreeSet<String> {
    let list = |directory: &str, keep: &dyn Fn(&str) -> bool| -> Vec<String> {
        let path = fixtures_dir().join(directory);
        std::fs::read_dir(&path)
            .unwrap_or_else(|error| panic!("listing {}: {error}", path.display()))
            .map(|entry| entry.expect("directory entry"))
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| keep(name))
            .map(|name| {
                Path::new(directory)
                    .join(name)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    };
    let json = |name: &str| name.ends_with(".json");
    let mut files = BTreeSet::new();
    files.extend(list("nhs-ig/json", &json));
    files.extend(list("nhs-ig", &|name| {
        json(name) && (name.starts_with("PARS-") || name.starts_with("CapStatement-"))
    }));
    files.extend(list("pds", &json));
    files.extend(list("pds/search", &json));
    files
}

/// Where the file is served.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// As the demographics service's answer, with this HTTP status, for this NHS number; CP-IS
    /// then answers with an empty searchset for that number.
    Demographics {
        nhs_number: &'static str,
        status: u16,
    },
    /// As CP-IS's answer to the CareTeam search (status 200).
    CareTeamAnswer,
    /// As the one match of a searchset for the asked patient, answering the CareTeam search.
    CareTeamMatch,
    /// As the one match of an AuditEvent searchset for the asked patient, answering the
    /// access-history search (after a synthetic plan was found).
    HistoryMatch,
    /// As the access-history answer itself (after a synthetic plan was found).
    HistoryAnswer,
}

/// The patient banner, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Banner {
    name: Option<String>,
    birth_date: Option<String>,
    gender: Option<Gender>,
    not_recorded: Vec<&'static str>,
    restricted: bool,
    date_of_death: Option<String>,
}

impl Banner {
    fn of(patient: &TracedPatient) -> Banner {
        Banner {
            name: patient.banner_name(),
            birth_date: patient.birth_date.map(|birth| birth.display()),
            gender: patient.gender,
            not_recorded: patient.not_recorded(),
            restricted: patient.restricted,
            date_of_death: patient.date_of_death.map(display_date),
        }
    }
}

/// One plan record, as shown: type (`None`: "CP-IS holds a record; its type could not be
/// read"), the local authority and its phones.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PlanSeen {
    plan_type: Option<PlanType>,
    local_authority: String,
    office_hours_phone: Option<String>,
    emergency_duty_phone: Option<String>,
}

/// One access, as shown: who, in what role, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AccessSeen {
    name: String,
    role: String,
    organisation: String,
    ods: Option<String>,
}

/// What the clinician (and, for "could not check", support staff) sees.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    outcome: &'static str,
    reason: Option<CouldNotCheckReason>,
    detail: Option<String>,
    banner: Option<Banner>,
    plans: Vec<PlanSeen>,
    /// `None` when the history could not be read (shown as unavailable, never as empty).
    history: Option<Vec<AccessSeen>>,
    history_detail: Option<String>,
}

impl Seen {
    fn of(report: &LookupReport) -> Seen {
        let mut seen = Seen {
            outcome: report.outcome.code(),
            reason: None,
            detail: report.detail.clone(),
            banner: None,
            plans: Vec::new(),
            history: None,
            history_detail: report.access_history_detail.clone(),
        };
        match &report.outcome {
            LookupOutcome::CouldNotCheck { reason, .. } => seen.reason = Some(*reason),
            LookupOutcome::NoPlan { patient, .. } => seen.banner = Some(Banner::of(patient)),
            LookupOutcome::PlansFound {
                patient,
                plans,
                access_history,
                ..
            } => {
                seen.banner = Some(Banner::of(patient));
                seen.plans = plans
                    .iter()
                    .map(|plan| PlanSeen {
                        plan_type: plan.plan_type,
                        local_authority: plan.local_authority.name.clone(),
                        office_hours_phone: plan.local_authority.office_hours_phone.clone(),
                        emergency_duty_phone: plan.local_authority.emergency_duty_phone.clone(),
                    })
                    .collect();
                seen.history = report.access_history_unavailable.is_none().then(|| {
                    access_history
                        .iter()
                        .map(|access| AccessSeen {
                            name: access.viewer_name.clone(),
                            role: access.viewer_role.clone(),
                            organisation: access.organisation_name.clone(),
                            ods: access.organisation_ods.clone(),
                        })
                        .collect()
                });
            }
            LookupOutcome::PatientNotFound { .. } | LookupOutcome::InvalidInput(_) => {}
        }
        seen
    }
}

// Expected outcomes.

fn could_not_check(reason: CouldNotCheckReason, detail: &str) -> Seen {
    Seen {
        outcome: "could_not_check",
        reason: Some(reason),
        detail: Some(detail.into()),
        banner: None,
        plans: Vec::new(),
        history: None,
        history_detail: None,
    }
}

fn no_plan(banner: Banner) -> Seen {
    Seen {
        outcome: "no_plan",
        reason: None,
        detail: None,
        banner: Some(banner),
        plans: Vec::new(),
        history: None,
        history_detail: None,
    }
}

fn patient_not_found() -> Seen {
    Seen {
        outcome: "patient_not_found",
        reason: None,
        detail: None,
        banner: None,
        plans: Vec::new(),
        history: None,
        history_detail: None,
    }
}

/// Plans found with the history read.
fn found(plans: Vec<PlanSeen>, history: Vec<AccessSeen>) -> Seen {
    Seen {
        outcome: "plan_found",
        reason: None,
        detail: None,
        banner: Some(synthetic_banner()),
        plans,
        history: Some(history),
        history_detail: None,
    }
}

/// The synthetic plan found, with its history unavailable for `history_detail`.
fn history_unavailable(history_detail: &str) -> Seen {
    Seen {
        history: None,
        history_detail: Some(history_detail.into()),
        ..found(vec![synthetic_plan()], Vec::new())
    }
}

/// The synthetic patient of `support::synthetic`.
fn synthetic_banner() -> Banner {
    Banner {
        name: Some("TESTCHILD, Robin".into()),
        birth_date: Some("14 March 2019".into()),
        gender: Some(Gender::Unknown),
        not_recorded: Vec::new(),
        restricted: false,
        date_of_death: None,
    }
}

/// The synthetic plan of `support::synthetic`.
fn synthetic_plan() -> PlanSeen {
    PlanSeen {
        plan_type: Some(PlanType::ChildProtectionPlan),
        local_authority: "Northshire County Council".into(),
        office_hours_phone: Some("01632 960001".into()),
        emergency_duty_phone: Some("01632 960999".into()),
    }
}

/// The published CareTeam example, as shown.
fn sheffield() -> PlanSeen {
    PlanSeen {
        plan_type: None,
        local_authority: "SHEFFIELD CITY COUNCIL".into(),
        office_hours_phone: Some("01133973581".into()),
        emergency_duty_phone: Some("07133973581".into()),
    }
}

/// PDS's sandbox patient 9000000009 (and the specification's example of it).
fn jane_smith() -> Banner {
    Banner {
        name: Some("SMITH, Jane".into()),
        birth_date: Some("22 October 2010".into()),
        gender: Some(Gender::Female),
        not_recorded: Vec::new(),
        restricted: false,
        date_of_death: Some("22 October 2010".into()),
    }
}

fn self_link(resource: &str, nhs_number: &str) -> Value {
    json!([{"relation": "self", "url": format!(
        "https://cpis.example/FHIR/R4/{resource}?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs_number}"
    )}])
}

fn empty_searchset(nhs_number: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "resourceType": "Bundle", "type": "searchset", "total": 0,
        "link": self_link("CareTeam", nhs_number)
    }))
    .expect("json")
}

/// `resource` (JSON bytes) as the one match of a searchset of `resource_type` for `nhs_number`.
fn one_match(resource_type: &str, nhs_number: &str, resource: &[u8]) -> Vec<u8> {
    let resource: Value = serde_json::from_slice(resource).expect("a JSON resource");
    serde_json::to_vec(&json!({
        "resourceType": "Bundle", "type": "searchset", "total": 1,
        "link": self_link(resource_type, nhs_number),
        "entry": [{"fullUrl": format!("https://cpis.example/FHIR/R4/{resource_type}/1"), "resource": resource, "search": {"mode": "match"}}]
    }))
    .expect("json")
}

/// Serve `body` at `place` and look the patient up with the real client.
async fn look_up(place: Place, body: Vec<u8>) -> LookupReport {
    let asked_number = match place {
        Place::Demographics { nhs_number, .. } => nhs(nhs_number),
        _ => asked(),
    };
    let asked_text = asked_number.as_str().to_owned();
    let mut script = Script {
        patient: vec![Reply::fhir(patient_body(&asked_number))],
        care_team: vec![Reply::fhir(plans_bundle(&asked_number))],
        history: vec![Reply::fhir(history_bundle(&asked_number))],
    };
    match place {
        Place::Demographics { status, .. } => {
            script.patient = vec![Reply::status(status, body)];
            script.care_team = vec![Reply::fhir(empty_searchset(&asked_text))];
        }
        Place::CareTeamAnswer => script.care_team = vec![Reply::fhir(body)],
        Place::CareTeamMatch => {
            script.care_team = vec![Reply::fhir(one_match("CareTeam", &asked_text, &body))];
        }
        Place::HistoryMatch => {
            script.history = vec![Reply::fhir(one_match("AuditEvent", &asked_text, &body))];
        }
        Place::HistoryAnswer => script.history = vec![Reply::fhir(body)],
    }
    let server = FaultServer::start(script).await;
    let mut config = Config::defaults_with_data_dir(std::env::temp_dir());
    config.services.demographics_url = format!("{}/pds", server.base).parse().expect("url");
    config.services.cpis_url = format!("{}/cpis", server.base).parse().expect("url");
    config.services.audit_url = format!("{}/audit", server.base).parse().expect("url");
    config.lookup_deadline = DEADLINE;
    let client = AlertClient::new(&config, Arc::new(NoAudit), "cpis-client-published-tests")
        .expect("client");
    client
        .lookup(
            &Secret::new("test-access-token"),
            &user_with(&["B0107"]),
            &asked_number,
            false,
        )
        .await
}

struct Row {
    /// The published file, or `None` for a synthetic row.
    file: Option<&'static str>,
    /// What the row is (for a synthetic row, what it stands for).
    name: &'static str,
    place: Place,
    body: Vec<u8>,
    expected: Seen,
}

fn published(file: &'static str, place: Place, expected: Seen) -> Row {
    Row {
        file: Some(file),
        name: file,
        place,
        body: read_fixture(file),
        expected,
    }
}

fn synthetic(name: &'static str, place: Place, body: Vec<u8>, expected: Seen) -> Row {
    Row {
        file: None,
        name,
        place,
        body,
        expected,
    }
}

fn pds_read(nhs_number: &'static str) -> Place {
    Place::Demographics {
        nhs_number,
        status: 200,
    }
}

/// A search answer, or anything else, where PDS's `GET /Patient/{id}` answer was expected.
fn read_expected(status: u16) -> Place {
    Place::Demographics {
        nhs_number: "9990000018",
        status,
    }
}

/// The consumer guide's published access-history example (contract section 3), rewritten with
/// synthetic values.
fn published_shape_history(nhs_number: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 1,
        "link": self_link("AuditEvent", nhs_number),
        "entry": [
            {
                "fullUrl": "https://cpis.example/FHIR/R4/AuditEvent/0a6b3c1e-0000-4000-8000-000000000001",
                "resource": {
                    "resourceType": "AuditEvent",
                    "id": "0a6b3c1e-0000-4000-8000-000000000001",
                    "type": {"system": "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle", "display": "Access/View Record Lifecycle Event"},
                    "recorded": "2026-11-24T21:15:00+00:00",
                    "agent": [
                        {
                            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "PAT", "display": "patient"}]},
                            "who": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}},
                            "requestor": "false"
                        },
                        {
                            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "ASSIGNED", "display": "assigned entity"}]},
                            "who": {"reference": "PractitionerRole/5d1c2b3a-0000-4000-8000-000000000002"},
                            "requestor": "true"
                        }
                    ],
                    "source": {"observer": {"reference": "PractitionerRole/5d1c2b3a-0000-4000-8000-000000000002"}}
                },
                "search": {"mode": "match"}
            },
            {
                "fullUrl": "https://cpis.example/FHIR/R4/PractitionerRole/5d1c2b3a-0000-4000-8000-000000000002",
                "resource": {
                    "resourceType": "PractitionerRole",
                    "id": "5d1c2b3a-0000-4000-8000-000000000002",
                    "identifier": [{"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "555000000101"}],
                    "practitioner": {"display": "Mrs Tess TRIAGE-TEST"},
                    "organization": {"display": "NORTHSHIRE GENERAL HOSPITAL NHS TRUST - EMERGENCY DEPARTMENT (ZZ1ED)"},
                    "code": [{"coding": [{"system": "http://snomed.info/sct", "code": "158992006", "display": "Midwifery sister "}]}]
                },
                "search": {"mode": "include"}
            }
        ]
    }))
    .expect("json")
}

fn rows() -> Vec<Row> {
    use CouldNotCheckReason::*;
    let wrong_type = |step: &str, expected: &str| format!("{step}/wrong_resource_type:{expected}");
    let mut month_only = read_fixture("pds/patient_9000000009.json");
    month_only = String::from_utf8(month_only)
        .expect("utf-8")
        .replace(r#""birthDate": "2010-10-22""#, r#""birthDate": "2010-10""#)
        .into_bytes();
    assert!(String::from_utf8_lossy(&month_only).contains(r#""birthDate": "2010-10""#));
    let published_care_team = read_fixture("nhs-ig/json/CPIS-CareTeam-Example.json");
    vec![
        // The CP-IS examples.
        published(
            "nhs-ig/json/CPIS-CareTeam-Example.json",
            Place::CareTeamMatch,
            found(vec![sheffield()], vec![synthetic_access()]),
        ),
        published(
            "nhs-ig/json/CPIS-CPP-Bundle-Example.json",
            Place::CareTeamAnswer,
            could_not_check(InvalidResponse, "care_team/wrong_bundle_type:searchset"),
        ),
        published(
            "nhs-ig/json/CPIS-CarePlan-Example.json",
            Place::CareTeamAnswer,
            could_not_check(InvalidResponse, &wrong_type("care_team", "Bundle")),
        ),
        published(
            "nhs-ig/json/CPIS-Flag-Example.json",
            Place::CareTeamAnswer,
            could_not_check(InvalidResponse, &wrong_type("care_team", "Bundle")),
        ),
        // Capability statements where the search answer was expected.
        published(
            "nhs-ig/CapStatement-CPIS-FHIR-API-Consumer.json",
            Place::CareTeamAnswer,
            could_not_check(InvalidResponse, &wrong_type("care_team", "Bundle")),
        ),
        published(
            "nhs-ig/CapStatement-CPIS-FHIR-API-Producer.json",
            Place::CareTeamAnswer,
            could_not_check(InvalidResponse, &wrong_type("care_team", "Bundle")),
        ),
        // The national audit record service's AuditEvents as a history entry: none is a CP-IS
        // access (no viewer the history can name, and 9999999991 is not a valid NHS number).
        // The plan is still shown; the history is unavailable, never empty.
        published(
            "nhs-ig/PARS-AuditEvent-app-restricted-fhir-pds-read-Example.json",
            Place::HistoryMatch,
            history_unavailable("access_history/invalid_nhs_number"),
        ),
        published(
            "nhs-ig/PARS-AuditEvent-patient-flag-Example.json",
            Place::HistoryMatch,
            history_unavailable("access_history/invalid_nhs_number"),
        ),
        published(
            "nhs-ig/PARS-AuditEvent-patient-restricted-fhir-pds-update-Example.json",
            Place::HistoryMatch,
            history_unavailable("access_history/invalid_nhs_number"),
        ),
        published(
            "nhs-ig/PARS-AuditEvent-user-restricted-hl7v3-gpsummary-read-Example.json",
            Place::HistoryMatch,
            history_unavailable("access_history/invalid_nhs_number"),
        ),
        // PDS reads, for their own NHS numbers: each goes on to CP-IS.
        published(
            "pds/patient_9000000009.json",
            pds_read("9000000009"),
            no_plan(jane_smith()),
        ),
        published(
            "pds/spec-example-Patient.json",
            pds_read("9000000009"),
            no_plan(jane_smith()),
        ),
        published(
            "pds/patient_9000000025.json",
            pds_read("9000000025"),
            no_plan(Banner {
                name: Some("SMYTHE, Janet".into()),
                birth_date: Some("22 October 2010".into()),
                gender: Some(Gender::Female),
                not_recorded: Vec::new(),
                restricted: true,
                date_of_death: Some("22 October 2010".into()),
            }),
        ),
        published(
            "pds/patient_9000000033.json",
            pds_read("9000000033"),
            no_plan(Banner {
                name: None,
                birth_date: None,
                gender: None,
                not_recorded: vec!["name", "date of birth", "gender"],
                restricted: false,
                date_of_death: None,
            }),
        ),
        // PDS errors, with their real HTTP statuses.
        published(
            "pds/RESOURCE_NOT_FOUND.json",
            read_expected(404),
            patient_not_found(),
        ),
        published(
            "pds/INVALID_RESOURCE_ID.json",
            read_expected(400),
            could_not_check(DemographicsUnavailable, "demographics/http_status:400"),
        ),
        published(
            "pds/ACCESS_DENIED.json",
            read_expected(401),
            could_not_check(SignInRequired, "demographics/http_status:401"),
        ),
        // PDS search answers where a read was expected.
        published(
            "pds/search/INVALID_SEARCH_DATA.json",
            read_expected(400),
            could_not_check(DemographicsUnavailable, "demographics/http_status:400"),
        ),
        published(
            "pds/search/TOO_MANY_MATCHES.json",
            read_expected(200),
            could_not_check(
                DemographicsUnavailable,
                &wrong_type("demographics", "Patient"),
            ),
        ),
        published(
            "pds/search/cuff_superseded_searchset.json",
            read_expected(200),
            could_not_check(
                DemographicsUnavailable,
                &wrong_type("demographics", "Patient"),
            ),
        ),
        published(
            "pds/search/dateOfDeath_searchset.json",
            read_expected(200),
            could_not_check(
                DemographicsUnavailable,
                &wrong_type("demographics", "Patient"),
            ),
        ),
        published(
            "pds/search/fuzzy_multimatch_searchset.json",
            read_expected(200),
            could_not_check(
                DemographicsUnavailable,
                &wrong_type("demographics", "Patient"),
            ),
        ),
        published(
            "pds/search/fuzzy_single_searchset.json",
            read_expected(200),
            could_not_check(
                DemographicsUnavailable,
                &wrong_type("demographics", "Patient"),
            ),
        ),
        // These four are stored as the text of a link to the sandbox's mock, not as JSON: an
        // answer that is not JSON.
        published(
            "pds/search/Minimal_PatientSearch.json",
            read_expected(200),
            could_not_check(DemographicsUnavailable, "demographics/invalid_json:syntax"),
        ),
        published(
            "pds/search/PatientSearch-Jayne-Smyth.json",
            read_expected(200),
            could_not_check(DemographicsUnavailable, "demographics/invalid_json:syntax"),
        ),
        published(
            "pds/search/PatientSearch.json",
            read_expected(200),
            could_not_check(DemographicsUnavailable, "demographics/invalid_json:syntax"),
        ),
        published(
            "pds/search/Sensitive_PatientSearch.json",
            read_expected(200),
            could_not_check(DemographicsUnavailable, "demographics/invalid_json:syntax"),
        ),
        // Synthetic: what the published files imply.
        synthetic(
            "patient_9000000009 with birthDate 2010-10 (as PDS's BirthDate allows)",
            pds_read("9000000009"),
            month_only,
            no_plan(Banner {
                birth_date: Some("October 2010".into()),
                ..jane_smith()
            }),
        ),
        synthetic(
            "the published CareTeam in a searchset whose self link names another NHS number",
            Place::CareTeamAnswer,
            {
                let mut bundle: Value = serde_json::from_slice(&one_match(
                    "CareTeam",
                    asked().as_str(),
                    &published_care_team,
                ))
                .expect("json");
                bundle["link"] = self_link("CareTeam", "9990000026");
                serde_json::to_vec(&bundle).expect("json")
            },
            could_not_check(
                ResponseForAnotherPatient,
                "care_team/self_link_another_patient",
            ),
        ),
        synthetic(
            "an empty searchset with a self link for the asked number",
            Place::CareTeamAnswer,
            empty_searchset(asked().as_str()),
            no_plan(synthetic_banner()),
        ),
        synthetic(
            "an empty searchset with a self link for another number",
            Place::CareTeamAnswer,
            empty_searchset("9990000026"),
            could_not_check(
                ResponseForAnotherPatient,
                "care_team/self_link_another_patient",
            ),
        ),
        synthetic(
            "an AuditEvent searchset shaped like the consumer guide's published example",
            Place::HistoryAnswer,
            published_shape_history(asked().as_str()),
            found(
                vec![synthetic_plan()],
                vec![AccessSeen {
                    name: "Mrs Tess TRIAGE-TEST".into(),
                    role: "Midwifery sister".into(),
                    organisation:
                        "NORTHSHIRE GENERAL HOSPITAL NHS TRUST - EMERGENCY DEPARTMENT (ZZ1ED)"
                            .into(),
                    ods: Some("ZZ1ED".into()),
                }],
            ),
        ),
        synthetic(
            "the same AuditEvent searchset for another patient",
            Place::HistoryAnswer,
            published_shape_history("9990000026"),
            history_unavailable("access_history/self_link_another_patient"),
        ),
    ]
}

/// The synthetic access of `support::synthetic`, as shown.
fn synthetic_access() -> AccessSeen {
    let access = crate::support::synthetic::access();
    AccessSeen {
        name: access.viewer_name,
        role: access.viewer_role,
        organisation: access.organisation_name,
        ods: access.organisation_ods,
    }
}

#[tokio::test]
async fn every_published_answer_is_read_as_a_clinician_should_see_it() {
    let rows = rows();
    // Every file has exactly one row, and every row's file exists: nothing is skipped.
    let files = published_files();
    assert!(
        files.len() >= 27,
        "the fixtures directory looks incomplete: {files:?}"
    );
    let with_rows: Vec<&str> = rows.iter().filter_map(|row| row.file).collect();
    let unique: BTreeSet<String> = with_rows.iter().map(|file| (*file).to_owned()).collect();
    assert_eq!(unique.len(), with_rows.len(), "a file has two rows");
    let without_row: Vec<&String> = files.difference(&unique).collect();
    assert!(
        without_row.is_empty(),
        "files without a row: {without_row:?}"
    );
    let unknown: Vec<&String> = unique.difference(&files).collect();
    assert!(
        unknown.is_empty(),
        "rows for files that are not there: {unknown:?}"
    );

    let mut failures = Vec::new();
    for row in rows {
        let report = look_up(row.place, row.body).await;
        let seen = Seen::of(&report);
        if seen != row.expected {
            failures.push(format!(
                "{} (served as {:?}):\n  expected {:?}\n  saw      {:?}",
                row.name, row.place, row.expected, seen
            ));
        }
        // Every detail is a code, safe for a support reference: no value from the answer.
        for detail in [&seen.detail, &seen.history_detail].into_iter().flatten() {
            assert!(
                detail
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_:./-".contains(c)),
                "{}: {detail}",
                row.name
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
