//! The stored and sent forms of AuditEvents, byte for byte: the sync client sends and the
//! central log stores the typed serialisation (`audit_event_json`, issue 17; before, the log
//! stored the sorted form `to_audit_event(record).to_string()`, still pinned here) and keeps it
//! for ever, so any change to these bytes makes old and new events differ in form, and must be
//! deliberate.
//!
//! Changed deliberately in issue 17, for validity against the national `England-AuditEvent-PARS`
//! profile, whose closed slicing refused the old shape (first captured from the `json!` builder
//! in issue 13): the chain entity (and the plan entities) became the `audit-chain` (and
//! `audit-plan`) extensions, the `Device` agent with our device-id system became the `Endpoint`
//! agent with the app's product id, the role moved from the `Practitioner` agent to a
//! `PractitionerRole` agent, the observer is identified by the product id, an `endpoint` entity
//! names the interface, `meta.profile` claims the profile, and empty text is left out (FHIR
//! strings are never empty). The hashes are unchanged: the record, not its wire form, is hashed.
//! The typed bytes ([`audit_event_json`], the body of `POST /AuditEvent`) are pinned too.

use super::*;
use cpis_audit::wire::{
    audit_event_json, batch_bundle_json, to_audit_event, to_batch_bundle, to_batch_response,
};

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
fn a_view_is_stored_byte_for_byte_in_the_pars_shape() {
    let view = record(AuditAction::View, false);
    assert_eq!(
        view.record_hash,
        "c7becc433d45edbdfcee9bef58c0183c171e38e4ca2c7610d9d6343c7dabb89a"
    );
    assert_eq!(to_audit_event(&view).to_string(), GOLDEN_VIEW);
    assert_eq!(
        String::from_utf8(audit_event_json(&view)).expect("utf-8"),
        GOLDEN_VIEW_TYPED
    );
}

#[test]
fn a_contact_without_a_role_is_stored_byte_for_byte_in_the_pars_shape() {
    let contact = record(AuditAction::LocalAuthorityContacted, true);
    assert_eq!(
        contact.record_hash,
        "2100cfce331cf58e813d6dbbaa53fb1a861a38463ca76866e987f6142d3d00c0"
    );
    assert_eq!(to_audit_event(&contact).to_string(), GOLDEN_CONTACT);
}

#[test]
fn batches_and_responses_are_sent_byte_for_byte_in_the_pars_shape() {
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
    assert_eq!(
        String::from_utf8(batch_bundle_json(&records[..1])).expect("utf-8"),
        format!(
            "{{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{{\"fullUrl\":\"urn:uuid:8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11\",\"resource\":{GOLDEN_VIEW_TYPED},\"request\":{{\"method\":\"POST\",\"url\":\"AuditEvent\"}}}}]}}"
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

const GOLDEN_VIEW: &str = r#"{"action":"R","agent":[{"requestor":true,"who":{"display":"Northshire General Hospital","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"ZZ1ED"},"type":"Organization"}},{"requestor":true,"who":{"display":"Tess \"T\" Triage-Test Ünïcode","identifier":{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"900000000001"},"type":"Practitioner"}},{"requestor":true,"role":[{"coding":[{"code":"R8001","display":"\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"","system":"https://fhir.nhs.uk/Id/sds-job-role-code"}]}],"who":{"identifier":{"system":"https://fhir.nhs.uk/Id/sds-role-profile-id","value":"555021935107"},"type":"PractitionerRole"}},{"requestor":false,"who":{"display":"CP-IS Viewer","identifier":{"system":"https://fhir.nhs.uk/Id/product-id","value":"cpis-viewer"},"type":"Endpoint"}}],"entity":[{"role":{"code":"1","display":"Patient","system":"http://terminology.hl7.org/CodeSystem/object-role"},"type":{"code":"1","display":"Person","system":"http://terminology.hl7.org/CodeSystem/audit-entity-type"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}}},{"type":{"code":"XrequestId","system":"https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/transaction","value":"3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f"}}},{"detail":[{"type":"productIdentifier","valueString":"CP-IS"},{"type":"interactionIdentifier","valueString":"CP-IS - Get CareTeam"}],"name":"Child Protection - Information Sharing","type":{"code":"Endpoint","system":"http://hl7.org/fhir/resource-types"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/product-id","value":"cp-is"}}}],"extension":[{"extension":[{"url":"device","valueIdentifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}},{"url":"sequence","valueString":"7"},{"url":"previousHash","valueString":"0000000000000000000000000000000000000000000000000000000000000000"},{"url":"recordHash","valueString":"c7becc433d45edbdfcee9bef58c0183c171e38e4ca2c7610d9d6343c7dabb89a"},{"url":"action","valueCode":"view"},{"url":"unscheduled","valueBoolean":true},{"url":"detail","valueString":"reason=timeout"}],"url":"https://cpis-viewer.dev/fhir/StructureDefinition/audit-chain"}],"id":"8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11","meta":{"profile":["https://fhir.nhs.uk/England/StructureDefinition/England-AuditEvent-PARS"]},"outcome":"4","outcomeDesc":"could_not_check","recorded":"2026-11-25T10:00:00.123456Z","resourceType":"AuditEvent","source":{"observer":{"display":"CP-IS Viewer","identifier":{"system":"https://fhir.nhs.uk/Id/product-id","value":"cpis-viewer"}},"site":"cpis-viewer","type":[{"code":"1","display":"User Device","system":"http://terminology.hl7.org/CodeSystem/security-source-type"}]},"subtype":[{"code":"search-type","system":"http://hl7.org/fhir/restful-interaction"}],"type":{"code":"rest","system":"http://terminology.hl7.org/CodeSystem/audit-event-type"}}"#;
const GOLDEN_CONTACT: &str = r#"{"action":"C","agent":[{"requestor":true,"who":{"type":"Organization"}},{"requestor":true,"who":{"display":"Tess \"T\" Triage-Test Ünïcode","identifier":{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"900000000001"},"type":"Practitioner"}},{"requestor":true,"who":{"type":"PractitionerRole"}},{"requestor":false,"who":{"display":"CP-IS Viewer","identifier":{"system":"https://fhir.nhs.uk/Id/product-id","value":"cpis-viewer"},"type":"Endpoint"}}],"entity":[{"role":{"code":"1","display":"Patient","system":"http://terminology.hl7.org/CodeSystem/object-role"},"type":{"code":"1","display":"Person","system":"http://terminology.hl7.org/CodeSystem/audit-entity-type"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}}},{"type":{"code":"XrequestId","system":"https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/transaction","value":"3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f"}}},{"detail":[{"type":"productIdentifier","valueString":"CP-IS Viewer"},{"type":"interactionIdentifier","valueString":"CP-IS Viewer - Local authority contacted"}],"name":"CP-IS Viewer","type":{"code":"Endpoint","system":"http://hl7.org/fhir/resource-types"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/product-id","value":"cpis-viewer"}}}],"extension":[{"extension":[{"url":"device","valueIdentifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}},{"url":"sequence","valueString":"7"},{"url":"previousHash","valueString":"0000000000000000000000000000000000000000000000000000000000000000"},{"url":"recordHash","valueString":"2100cfce331cf58e813d6dbbaa53fb1a861a38463ca76866e987f6142d3d00c0"},{"url":"action","valueCode":"la_contacted"},{"url":"unscheduled","valueBoolean":false},{"url":"detail","valueString":"method=phone;contacted_at=2026-11-25 10:05:00.0 +00:00:00"}],"url":"https://cpis-viewer.dev/fhir/StructureDefinition/audit-chain"}],"id":"8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11","meta":{"profile":["https://fhir.nhs.uk/England/StructureDefinition/England-AuditEvent-PARS"]},"outcome":"0","outcomeDesc":"plan_found","recorded":"2026-11-25T10:00:00.123456Z","resourceType":"AuditEvent","source":{"observer":{"display":"CP-IS Viewer","identifier":{"system":"https://fhir.nhs.uk/Id/product-id","value":"cpis-viewer"}},"site":"cpis-viewer","type":[{"code":"1","display":"User Device","system":"http://terminology.hl7.org/CodeSystem/security-source-type"}]},"subtype":[{"code":"create","system":"http://hl7.org/fhir/restful-interaction"}],"type":{"code":"rest","system":"http://terminology.hl7.org/CodeSystem/audit-event-type"}}"#;
const GOLDEN_VIEW_TYPED: &str = r#"{"resourceType":"AuditEvent","id":"8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11","meta":{"profile":["https://fhir.nhs.uk/England/StructureDefinition/England-AuditEvent-PARS"]},"extension":[{"url":"https://cpis-viewer.dev/fhir/StructureDefinition/audit-chain","extension":[{"url":"device","valueIdentifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}},{"url":"sequence","valueString":"7"},{"url":"previousHash","valueString":"0000000000000000000000000000000000000000000000000000000000000000"},{"url":"recordHash","valueString":"c7becc433d45edbdfcee9bef58c0183c171e38e4ca2c7610d9d6343c7dabb89a"},{"url":"action","valueCode":"view"},{"url":"unscheduled","valueBoolean":true},{"url":"detail","valueString":"reason=timeout"}]}],"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest"},"subtype":[{"system":"http://hl7.org/fhir/restful-interaction","code":"search-type"}],"action":"R","recorded":"2026-11-25T10:00:00.123456Z","outcome":"4","outcomeDesc":"could_not_check","agent":[{"who":{"type":"Organization","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"ZZ1ED"},"display":"Northshire General Hospital"},"requestor":true},{"who":{"type":"Practitioner","identifier":{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"900000000001"},"display":"Tess \"T\" Triage-Test Ünïcode"},"requestor":true},{"role":[{"coding":[{"system":"https://fhir.nhs.uk/Id/sds-job-role-code","code":"R8001","display":"\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\""}]}],"who":{"type":"PractitionerRole","identifier":{"system":"https://fhir.nhs.uk/Id/sds-role-profile-id","value":"555021935107"}},"requestor":true},{"who":{"type":"Endpoint","identifier":{"system":"https://fhir.nhs.uk/Id/product-id","value":"cpis-viewer"},"display":"CP-IS Viewer"},"requestor":false}],"source":{"site":"cpis-viewer","observer":{"identifier":{"system":"https://fhir.nhs.uk/Id/product-id","value":"cpis-viewer"},"display":"CP-IS Viewer"},"type":[{"system":"http://terminology.hl7.org/CodeSystem/security-source-type","code":"1","display":"User Device"}]},"entity":[{"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"1","display":"Person"},"role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"1","display":"Patient"}},{"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/transaction","value":"3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f"}},"type":{"system":"https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType","code":"XrequestId"}},{"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/product-id","value":"cp-is"}},"type":{"system":"http://hl7.org/fhir/resource-types","code":"Endpoint"},"name":"Child Protection - Information Sharing","detail":[{"type":"productIdentifier","valueString":"CP-IS"},{"type":"interactionIdentifier","valueString":"CP-IS - Get CareTeam"}]}]}"#;
