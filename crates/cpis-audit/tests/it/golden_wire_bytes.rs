//! The stored and sent form of AuditEvents, byte for byte: the central log stores
//! `to_audit_event(record).to_string()` and keeps it for ever, so any change to these bytes
//! would make old and new events differ in form. Captured from the `json!` builder before the
//! typed `cpis_fhir` wire types replaced it (issue 13).

use super::*;
use cpis_audit::wire::{to_audit_event, to_batch_bundle, to_batch_response};

fn record(action: AuditAction, no_role: bool) -> QueuedRecord {
    let mut record = QueuedRecord {
        event_id: Uuid::parse_str("8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11").expect("uuid"),
        device_id: Uuid::parse_str("0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b").expect("uuid"),
        sequence: 7,
        occurred_at: time::macros::datetime!(2026-11-25 10:00:00.123456 UTC),
        action,
        actor: Actor {
            user_id: "900000000001".into(),
            user_name: "Tess \"T\" Triage-Test Ünïcode".into(),
            role: RoleRef {
                role_profile_id: "555021935107".into(),
                role_code: "R8001".into(),
                role_name: "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"".into(),
                organisation_ods: "ZZ1ED".into(),
                organisation_name: "Northshire General Hospital".into(),
            },
        },
        patient_nhs_number: "9990000018".into(),
        outcome: "could_not_check".into(),
        trace_id: Uuid::parse_str("3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f").expect("uuid"),
        unscheduled: action == AuditAction::View,
        detail: if action == AuditAction::View {
            "reason=timeout".into()
        } else {
            "method=phone;contacted_at=2026-11-25 10:05:00.0 +00:00:00".into()
        },
        plans: None,
        previous_hash: cpis_audit::GENESIS_HASH.into(),
        record_hash: String::new(),
    };
    if no_role {
        record.actor.role = RoleRef::default();
        record.outcome = "plan_found".into();
    }
    record.record_hash = record.recompute_hash();
    record
}

#[test]
fn a_view_is_stored_byte_for_byte_as_before() {
    let view = record(AuditAction::View, false);
    assert_eq!(
        view.record_hash,
        "c7becc433d45edbdfcee9bef58c0183c171e38e4ca2c7610d9d6343c7dabb89a"
    );
    assert_eq!(to_audit_event(&view).to_string(), GOLDEN_VIEW);
}

#[test]
fn a_contact_without_a_role_is_stored_byte_for_byte_as_before() {
    let contact = record(AuditAction::LocalAuthorityContacted, true);
    assert_eq!(
        contact.record_hash,
        "2100cfce331cf58e813d6dbbaa53fb1a861a38463ca76866e987f6142d3d00c0"
    );
    assert_eq!(to_audit_event(&contact).to_string(), GOLDEN_CONTACT);
}

#[test]
fn batches_and_responses_are_sent_byte_for_byte_as_before() {
    let records = [
        record(AuditAction::View, false),
        record(AuditAction::LocalAuthorityContacted, true),
    ];
    let batch = serde_json::to_string(&to_batch_bundle(&records)).expect("json");
    assert_eq!(
        batch,
        format!(
            "{{\"entry\":[{{\"fullUrl\":\"urn:uuid:8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11\",\"request\":{{\"method\":\"POST\",\"url\":\"AuditEvent\"}},\"resource\":{GOLDEN_VIEW}}},{{\"fullUrl\":\"urn:uuid:8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11\",\"request\":{{\"method\":\"POST\",\"url\":\"AuditEvent\"}},\"resource\":{GOLDEN_CONTACT}}}],\"resourceType\":\"Bundle\",\"type\":\"batch\"}}"
        )
    );
    let empty = serde_json::to_string(&to_batch_bundle(&[])).expect("json");
    assert_eq!(
        empty,
        r#"{"entry":[],"resourceType":"Bundle","type":"batch"}"#
    );
    let response = serde_json::to_string(&to_batch_response(&[
        "201 Created".into(),
        "422 Unprocessable Entity".into(),
    ]))
    .expect("json");
    assert_eq!(
        response,
        r#"{"entry":[{"response":{"status":"201 Created"}},{"response":{"status":"422 Unprocessable Entity"}}],"resourceType":"Bundle","type":"batch-response"}"#
    );
}

const GOLDEN_VIEW: &str = r#"{"action":"R","agent":[{"requestor":true,"who":{"display":"Northshire General Hospital","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"ZZ1ED"},"type":"Organization"}},{"requestor":true,"role":[{"coding":[{"code":"555021935107","system":"https://fhir.nhs.uk/Id/sds-role-profile-id"},{"code":"R8001","display":"\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"","system":"https://fhir.nhs.uk/Id/sds-job-role-code"}]}],"who":{"display":"Tess \"T\" Triage-Test Ünïcode","identifier":{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"900000000001"},"type":"Practitioner"}},{"requestor":false,"who":{"display":"CP-IS Viewer","identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"},"type":"Device"}}],"entity":[{"role":{"code":"1","display":"Patient","system":"http://terminology.hl7.org/CodeSystem/object-role"},"type":{"code":"1","display":"Person","system":"http://terminology.hl7.org/CodeSystem/audit-entity-type"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}}},{"type":{"code":"XrequestId","system":"https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/transaction","value":"3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f"}}},{"detail":[{"type":"sequence","valueString":"7"},{"type":"previousHash","valueString":"0000000000000000000000000000000000000000000000000000000000000000"},{"type":"recordHash","valueString":"c7becc433d45edbdfcee9bef58c0183c171e38e4ca2c7610d9d6343c7dabb89a"},{"type":"action","valueString":"view"},{"type":"unscheduled","valueString":"true"},{"type":"detail","valueString":"reason=timeout"}],"type":{"code":"chain","system":"https://cpis-viewer.dev/CodeSystem/audit-chain"},"what":{"identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}}}],"id":"8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11","outcome":"4","outcomeDesc":"could_not_check","recorded":"2026-11-25T10:00:00.123456Z","resourceType":"AuditEvent","source":{"observer":{"display":"CP-IS Viewer","identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}},"site":"cpis-viewer","type":[{"code":"1","display":"User Device","system":"http://terminology.hl7.org/CodeSystem/security-source-type"}]},"subtype":[{"code":"search-type","system":"http://hl7.org/fhir/restful-interaction"}],"type":{"code":"rest","system":"http://terminology.hl7.org/CodeSystem/audit-event-type"}}"#;
const GOLDEN_CONTACT: &str = r#"{"action":"C","agent":[{"requestor":true,"who":{"display":"","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":""},"type":"Organization"}},{"requestor":true,"role":[{"coding":[{"code":"","system":"https://fhir.nhs.uk/Id/sds-role-profile-id"},{"code":"","display":"","system":"https://fhir.nhs.uk/Id/sds-job-role-code"}]}],"who":{"display":"Tess \"T\" Triage-Test Ünïcode","identifier":{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"900000000001"},"type":"Practitioner"}},{"requestor":false,"who":{"display":"CP-IS Viewer","identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"},"type":"Device"}}],"entity":[{"role":{"code":"1","display":"Patient","system":"http://terminology.hl7.org/CodeSystem/object-role"},"type":{"code":"1","display":"Person","system":"http://terminology.hl7.org/CodeSystem/audit-entity-type"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}}},{"type":{"code":"XrequestId","system":"https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/transaction","value":"3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f"}}},{"detail":[{"type":"sequence","valueString":"7"},{"type":"previousHash","valueString":"0000000000000000000000000000000000000000000000000000000000000000"},{"type":"recordHash","valueString":"2100cfce331cf58e813d6dbbaa53fb1a861a38463ca76866e987f6142d3d00c0"},{"type":"action","valueString":"la_contacted"},{"type":"unscheduled","valueString":"false"},{"type":"detail","valueString":"method=phone;contacted_at=2026-11-25 10:05:00.0 +00:00:00"}],"type":{"code":"chain","system":"https://cpis-viewer.dev/CodeSystem/audit-chain"},"what":{"identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}}}],"id":"8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11","outcome":"0","outcomeDesc":"plan_found","recorded":"2026-11-25T10:00:00.123456Z","resourceType":"AuditEvent","source":{"observer":{"display":"CP-IS Viewer","identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}},"site":"cpis-viewer","type":[{"code":"1","display":"User Device","system":"http://terminology.hl7.org/CodeSystem/security-source-type"}]},"subtype":[{"code":"create","system":"http://hl7.org/fhir/restful-interaction"}],"type":{"code":"rest","system":"http://terminology.hl7.org/CodeSystem/audit-event-type"}}"#;
