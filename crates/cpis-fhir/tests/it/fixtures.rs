//! The NHS implementation-guide examples in `../shared/fixtures/nhs-ig/`: JSON ones are read
//! with our wire types; the XML CareTeam is compared by hand with our JSON for the same values.

use std::path::PathBuf;

use cpis_domain::{
    CareTeamStatus, LaContact, LocalAuthority, PlanRecord, PlanType, ProtectionPlan,
};
use cpis_fhir::wire::{AuditEvent, CareTeam};
use cpis_fhir::{CareTeamSearch, FhirError, care_team, parse_care_team_search};
use serde_json::Value;
use time::macros::date;

use super::{asked, json, other, today};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/nhs-ig")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading fixture {}: {error}", path.display()))
}

/// The `value` attributes of `<tag value="..."/>` elements, in document order.
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let opening = format!("<{tag} value=\"");
    xml.match_indices(&opening)
        .map(|(start, _)| {
            let rest = &xml[start + opening.len()..];
            rest[..rest.find('"').expect("closing quote")].to_owned()
        })
        .collect()
}

#[test]
fn our_care_team_matches_the_published_example_field_for_field() {
    let xml = fixture("CPIS-CareTeam-Example.xml");
    assert_eq!(xml_values(&xml, "name"), ["SHEFFIELD CITY COUNCIL"]);
    assert_eq!(xml_values(&xml, "status"), ["active"]);
    assert_eq!(xml_values(&xml, "system"), ["phone", "phone"]);
    assert_eq!(xml_values(&xml, "value"), ["01133973581", "07133973581"]);
    assert_eq!(xml_values(&xml, "use"), ["work", "mobile"]);
    let profile = xml_values(&xml, "profile");

    let plan = ProtectionPlan {
        plan_type: PlanType::ChildProtectionPlan,
        start: date!(2024 - 07 - 22),
        end: None,
        local_authority: LocalAuthority {
            name: "SHEFFIELD CITY COUNCIL".into(),
            ods_code: "SFD1".into(),
            office_hours_phone: "01133973581".into(),
            emergency_duty_phone: "07133973581".into(),
        },
        social_worker: None,
    };
    let ours: Value =
        serde_json::to_value(care_team(&asked(), &plan, "CPIS-CareTeam-Example", today()))
            .expect("value");
    assert_eq!(ours["resourceType"], "CareTeam");
    assert_eq!(ours["id"], "CPIS-CareTeam-Example");
    assert_eq!(ours["meta"]["profile"][0], profile[0].as_str());
    assert_eq!(ours["status"], "active");
    assert_eq!(ours["name"], "SHEFFIELD CITY COUNCIL");
    let telecom: Vec<(String, String, String)> = ours["telecom"]
        .as_array()
        .expect("telecom")
        .iter()
        .map(|contact| {
            (
                contact["system"].as_str().expect("system").to_owned(),
                contact["value"].as_str().expect("value").to_owned(),
                contact["use"].as_str().expect("use").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        telecom,
        [
            ("phone".into(), "01133973581".into(), "work".into()),
            ("phone".into(), "07133973581".into(), "mobile".into()),
        ]
    );
}

#[test]
fn the_published_care_plan_uses_our_snomed_system_and_code() {
    let xml = fixture("CPIS-CarePlan-Example.xml");
    let systems = xml_values(&xml, "system");
    let codes = xml_values(&xml, "code");
    assert!(
        systems
            .iter()
            .any(|system| system == cpis_fhir::SNOMED_SYSTEM)
    );
    assert!(
        codes
            .iter()
            .any(|code| code == PlanType::ChildProtectionPlan.snomed_code())
    );
}

#[test]
fn the_published_example_as_the_one_match_is_a_found_record_of_unknown_type() {
    // The IG example CareTeam has no subject, period or category. As the one match of a search
    // for the asked patient it proves CP-IS holds a record: shown as found, type unknown, with
    // the local authority's name and both phones. Never "no plan", never "could not check".
    let team: Value =
        serde_json::from_str(&fixture("json/CPIS-CareTeam-Example.json")).expect("json");
    let bundle = serde_json::json!({
        "resourceType": "Bundle", "type": "searchset", "total": 1,
        "link": [{"relation": "self", "url": format!(
            "https://cpis.example/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{}",
            asked().as_str()
        )}],
        "entry": [{"fullUrl": "CareTeam/CPIS-CareTeam-Example", "resource": team, "search": {"mode": "match"}}]
    });
    let expected = PlanRecord {
        plan_type: None,
        start: None,
        end: None,
        care_team_status: Some(CareTeamStatus::Active),
        local_authority: LaContact {
            name: "SHEFFIELD CITY COUNCIL".into(),
            ods_code: None,
            office_hours_phone: Some("01133973581".into()),
            emergency_duty_phone: Some("07133973581".into()),
        },
        social_worker: None,
    };
    assert_eq!(
        parse_care_team_search(&json(&bundle), &asked()),
        Ok(CareTeamSearch::Plans(vec![expected.clone()]))
    );
    // Shown at any age and date: an unknown type may be an unborn plan, and it has no end.
    assert!(expected.is_visible_on(today()));
    // But as the one match of a search whose self link names someone else: refused.
    let mut for_other = bundle.clone();
    for_other["link"][0]["url"] = serde_json::json!(format!(
        "https://cpis.example/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{}",
        other().as_str()
    ));
    assert_eq!(
        parse_care_team_search(&json(&for_other), &asked()),
        Err(FhirError::SelfLinkAnotherPatient)
    );
    // The strict reading of the LA upload still refuses it (no subject, type, ODS or start).
    let team: CareTeam = serde_json::from_value(team).expect("wire");
    assert!(matches!(
        cpis_fhir::parse::care_team_to_plan(&team),
        Err(FhirError::MissingElement { .. })
    ));
}

#[test]
fn the_published_patient_flags_bundle_names_the_team_code_first() {
    let bundle: Value =
        serde_json::from_str(&fixture("json/CPIS-CPP-Bundle-Example.json")).expect("json");
    let team = bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| &entry["resource"])
        .find(|resource| resource["resourceType"] == "CareTeam")
        .expect("a CareTeam");
    let name = team["name"].as_str().expect("name");
    assert_eq!(
        cpis_fhir::parse::ods_code_from_team_name(name),
        Some("SFD1")
    );
}

#[test]
fn published_audit_events_read_into_our_wire_type_and_back() {
    for name in [
        "PARS-AuditEvent-patient-flag-Example.json",
        "PARS-AuditEvent-user-restricted-hl7v3-gpsummary-read-Example.json",
    ] {
        let text = fixture(name);
        let event: AuditEvent = serde_json::from_str(&text).expect("AuditEvent");
        assert_eq!(event.resource_type, "AuditEvent");
        assert_eq!(event.action.as_deref(), Some("R"));
        assert_eq!(event.recorded.as_deref(), Some("2024-07-01T09:49:00+00:00"));
        let patient = event
            .entity
            .iter()
            .filter_map(|entity| entity.what.as_ref()?.identifier.as_ref())
            .find(|identifier| identifier.system.as_deref() == Some(cpis_fhir::NHS_NUMBER_SYSTEM))
            .expect("patient entity");
        assert_eq!(patient.value.as_deref(), Some("9999999991"));
        let transaction = event
            .entity
            .iter()
            .filter_map(|entity| entity.what.as_ref()?.identifier.as_ref())
            .any(|identifier| identifier.system.as_deref() == Some(cpis_fhir::TRANSACTION_SYSTEM));
        assert!(transaction);
        // Everything we model survives a round trip unchanged.
        let again: AuditEvent = serde_json::from_slice(&json(&event)).expect("round trip");
        assert_eq!(again, event);
        // Not an access-history entry (no PractitionerRole agent; and 9999999991 is not a
        // valid NHS number): refused, with no patient data in the error.
        let error = cpis_fhir::parse::audit_event_to_access(&event).expect_err("refused");
        assert!(!error.to_string().contains("9999999991"));
    }
}

/// Issue 17: the Rust-side slice check agrees with the profile check in
/// `tools/fhir-validate/pars.py` on the published examples: the two with a `Device` agent fall
/// outside the profile's closed agent slicing, the other two conform.
#[test]
fn published_pars_examples_meet_the_slice_check_as_the_profile_says() {
    for (name, expected) in [
        (
            "PARS-AuditEvent-patient-flag-Example.json",
            Err("agent.who.type"),
        ),
        (
            "PARS-AuditEvent-app-restricted-fhir-pds-read-Example.json",
            Err("agent.who.type"),
        ),
        (
            "PARS-AuditEvent-patient-restricted-fhir-pds-update-Example.json",
            Ok(()),
        ),
        (
            "PARS-AuditEvent-user-restricted-hl7v3-gpsummary-read-Example.json",
            Ok(()),
        ),
    ] {
        let event: AuditEvent = serde_json::from_str(&fixture(name)).expect("AuditEvent");
        assert_eq!(
            cpis_fhir::audit_event::check_pars(&event),
            expected,
            "{name}"
        );
    }
}

#[test]
fn capability_statements_name_the_searches_we_serve() {
    for name in [
        "CapStatement-CPIS-FHIR-API-Producer.json",
        "CapStatement-CPIS-FHIR-API-Consumer.json",
    ] {
        let statement: Value = serde_json::from_str(&fixture(name)).expect("json");
        assert_eq!(statement["fhirVersion"], "4.0.1");
        let resources = statement["rest"][0]["resource"]
            .as_array()
            .expect("resources");
        for wanted in ["CareTeam", "AuditEvent"] {
            let resource = resources
                .iter()
                .find(|resource| resource["type"] == wanted)
                .unwrap_or_else(|| panic!("{wanted} in {name}"));
            let params: Vec<&str> = resource["searchParam"]
                .as_array()
                .expect("searchParam")
                .iter()
                .filter_map(|param| param["name"].as_str())
                .collect();
            assert!(params.contains(&"patient"), "{name} {wanted} {params:?}");
        }
    }
}

fn pds_fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/pds")
        .join(name);
    std::fs::read(&path)
        .unwrap_or_else(|error| panic!("reading fixture {}: {error}", path.display()))
}

#[test]
fn the_pds_sandbox_patients_are_read_as_pds_records_them() {
    let number = |text: &str| cpis_domain::NhsNumber::parse(text).expect("sandbox number");
    // A verified number and nothing else recorded.
    let bare = cpis_fhir::parse_patient(
        &pds_fixture("patient_9000000033.json"),
        &number("9000000033"),
    )
    .expect("read");
    assert_eq!(bare.not_recorded(), ["name", "date of birth", "gender"]);
    assert!(!bare.restricted);
    // Restricted, and deceased.
    let restricted = cpis_fhir::parse_patient(
        &pds_fixture("patient_9000000025.json"),
        &number("9000000025"),
    )
    .expect("read");
    assert!(restricted.restricted);
    assert_eq!(restricted.date_of_death, Some(date!(2010 - 10 - 22)));
    assert_eq!(restricted.banner_name().as_deref(), Some("SMYTHE, Janet"));
    // Full, and only for its own number.
    let full = cpis_fhir::parse_patient(
        &pds_fixture("patient_9000000009.json"),
        &number("9000000009"),
    )
    .expect("read");
    assert_eq!(full.banner_name().as_deref(), Some("SMITH, Jane"));
    assert_eq!(
        cpis_fhir::parse_patient(&pds_fixture("patient_9000000009.json"), &asked()),
        Err(FhirError::AnotherPatient)
    );
}
