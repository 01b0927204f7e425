//! The NHS implementation-guide examples in `../shared/fixtures/nhs-ig/`: JSON ones are read
//! with our wire types; the XML CareTeam is compared by hand with our JSON for the same values.

use std::path::PathBuf;

use cpis_domain::{LocalAuthority, PlanType, ProtectionPlan};
use cpis_fhir::wire::AuditEvent;
use cpis_fhir::{CareTeamSearch, FhirError, care_team, parse_care_team_search};
use serde_json::Value;
use time::macros::date;

use super::{asked, json, today};

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
fn the_published_example_alone_is_refused_as_a_search_answer() {
    // The IG example CareTeam has no subject, period or category: as a search answer it must
    // be an error, never a plan and never "no plan".
    let team = serde_json::json!({
        "resourceType": "CareTeam",
        "id": "CPIS-CareTeam-Example",
        "meta": {"profile": ["https://fhir.nhs.uk/England/StructureDefinition/England-CareTeam-Flag"]},
        "status": "active",
        "name": "SHEFFIELD CITY COUNCIL",
        "telecom": [
            {"system": "phone", "value": "01133973581", "use": "work"},
            {"system": "phone", "value": "07133973581", "use": "mobile"}
        ]
    });
    let bundle = serde_json::json!({
        "resourceType": "Bundle", "type": "searchset", "total": 1,
        "entry": [{"fullUrl": "CareTeam/CPIS-CareTeam-Example", "resource": team}]
    });
    let result = parse_care_team_search(&json(&bundle), &asked());
    assert!(
        matches!(result, Err(FhirError::MissingElement { .. })),
        "{result:?}"
    );
    assert_ne!(result, Ok(CareTeamSearch::NoPlans));
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
