//! The wire format: AuditEvent (in the England-AuditEvent-PARS shape) and Bundles, both ways.

use super::*;
use cpis_audit::wire::{
    EntryResult, WireError, audit_event, audit_event_json, batch_bundle_json, from_audit_event,
    parse_batch, parse_batch_response, parse_single, to_audit_event, to_batch_bundle,
    to_batch_response,
};
use cpis_fhir::audit_event::check_pars;
use serde_json::{Value, json};

/// A queued record made from `entry` without a queue: sequence 3 after a made-up hash.
fn queued(entry: NewAuditEntry) -> QueuedRecord {
    let mut record = QueuedRecord {
        event_id: Uuid::new_v4(),
        device_id: Uuid::new_v4(),
        sequence: 3,
        occurred_at: entry.occurred_at,
        action: entry.action,
        actor: entry.actor,
        patient_nhs_number: entry.patient_nhs_number.as_str().to_owned(),
        outcome: entry.outcome,
        trace_id: entry.trace_id,
        unscheduled: entry.unscheduled,
        detail: entry.detail,
        plans: entry.plans,
        previous_hash: "ab".repeat(32),
        record_hash: String::new(),
    };
    record.record_hash = record.recompute_hash();
    record
}

/// Every action, every outcome class, no plans / no plan found / two plans (one of an unknown
/// type under an authority without an ODS code), a detail and none, a role and none.
fn every_shape() -> Vec<QueuedRecord> {
    let mut records = Vec::new();
    for outcome in [
        "plan_found",
        "no_plan",
        "could_not_check",
        "sensitive_record",
    ] {
        for plans in [None, Some(Vec::new()), Some(plans_found())] {
            let mut view = entry("9990000018", outcome);
            view.plans = plans;
            view.detail = if outcome == "could_not_check" {
                "reason=timeout".into()
            } else {
                String::new()
            };
            records.push(queued(view));
        }
    }
    let mut contacted = entry("9990000026", "plan_found");
    contacted.action = AuditAction::LocalAuthorityContacted;
    contacted.detail = "method=phone;at=2026-11-25T10:05:00Z".into();
    contacted.unscheduled = false;
    records.push(queued(contacted));
    let mut no_role = entry("9990000026", "no_plan");
    no_role.actor.role = RoleRef::default();
    no_role.actor.user_name = String::new();
    // A record made with `NewAuditEntry::new` and no outcome given.
    no_role.outcome = String::new();
    records.push(queued(no_role));
    records
}

#[test]
fn every_action_outcome_and_plans_shape_round_trips_and_is_pars_valid() {
    let records = every_shape();
    for record in &records {
        let event = audit_event(record);
        assert_eq!(check_pars(&event), Ok(()), "{record:?}");
        let sorted = to_audit_event(record);
        let back = from_audit_event(&sorted).expect("parse");
        assert_eq!(&back, record);
        assert_eq!(back.recompute_hash(), record.record_hash);
        // The typed bytes hold the same event as the sorted form, and read back the same.
        let typed = audit_event_json(record);
        assert_eq!(
            serde_json::from_slice::<Value>(&typed).expect("json"),
            sorted
        );
        assert_eq!(parse_single(&typed).as_ref(), Ok(record));
    }
    let bundle = serde_json::to_vec(&to_batch_bundle(&records)).expect("json");
    let typed = batch_bundle_json(&records);
    assert_eq!(
        serde_json::from_slice::<Value>(&typed).expect("json"),
        serde_json::from_slice::<Value>(&bundle).expect("json")
    );
    for body in [bundle, typed] {
        let parsed: Vec<_> = parse_batch(&body)
            .expect("bundle")
            .into_iter()
            .map(|entry| entry.expect("entry"))
            .collect();
        assert_eq!(parsed, records);
    }
    assert_eq!(
        batch_bundle_json(&[]),
        br#"{"resourceType":"Bundle","type":"batch","entry":[]}"#
    );
}

#[test]
fn queued_records_round_trip_and_the_hash_still_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = AuditQueue::open(dir.path()).expect("open");
    let mut with_plans = entry("9990000018", "plan_found");
    with_plans.plans = Some(plans_found());
    let records = vec![
        queue
            .append(&entry("9990000018", "no_plan"))
            .expect("append"),
        queue.append(&with_plans).expect("append"),
    ];
    for record in &records {
        let back = parse_single(&audit_event_json(record)).expect("parse");
        assert_eq!(&back, record);
        assert_eq!(back.recompute_hash(), record.record_hash);
    }
}

#[test]
fn the_event_has_the_pars_shape() {
    let record = queued(entry("9990000018", "plan_found"));
    let event = to_audit_event(&record);
    assert_eq!(event["resourceType"], "AuditEvent");
    assert_eq!(
        event["meta"]["profile"],
        json!(["https://fhir.nhs.uk/England/StructureDefinition/England-AuditEvent-PARS"])
    );
    assert_eq!(event["action"], "R");
    assert_eq!(event["type"]["code"], "rest");
    assert_eq!(event["subtype"][0]["code"], "search-type");
    assert_eq!(event["outcome"], "0");
    let who_types: Vec<&Value> = event["agent"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|agent| &agent["who"]["type"])
        .collect();
    assert_eq!(
        who_types,
        [
            "Organization",
            "Practitioner",
            "PractitionerRole",
            "Endpoint"
        ]
    );
    assert_eq!(event["agent"][0]["who"]["identifier"]["value"], "Z9T01");
    assert_eq!(
        event["agent"][2]["who"]["identifier"],
        json!({"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "999000000101"})
    );
    assert_eq!(event["agent"][2]["role"][0]["coding"][0]["code"], "R8001");
    assert_eq!(
        event["agent"][3]["who"]["identifier"],
        json!({"system": "https://fhir.nhs.uk/Id/product-id", "value": "cpis-viewer"})
    );
    assert_eq!(event["agent"][3]["requestor"], false);
    assert_eq!(
        event["source"]["observer"],
        json!({"display": "CP-IS Viewer", "identifier": {"system": "https://fhir.nhs.uk/Id/product-id", "value": "cpis-viewer"}})
    );
    assert_eq!(
        event["entity"][0]["what"]["identifier"],
        json!({"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"})
    );
    assert_eq!(event["entity"][1]["type"]["code"], "XrequestId");
    assert_eq!(
        event["entity"][1]["what"]["identifier"]["value"],
        record.trace_id.to_string()
    );
    assert_eq!(event["entity"][2]["type"]["code"], "Endpoint");
    assert_eq!(
        event["entity"][2]["name"],
        "Child Protection - Information Sharing"
    );
    assert_eq!(
        event["entity"][2]["detail"],
        json!([{"type": "productIdentifier", "valueString": "CP-IS"}, {"type": "interactionIdentifier", "valueString": "CP-IS - Get CareTeam"}])
    );
    assert_eq!(event["entity"].as_array().map(Vec::len), Some(3));
    let chain = &event["extension"][0];
    assert_eq!(
        chain["url"],
        "https://cpis-viewer.dev/fhir/StructureDefinition/audit-chain"
    );
    assert_eq!(chain["extension"][0]["url"], "device");
    assert_eq!(
        chain["extension"][0]["valueIdentifier"]["value"],
        record.device_id.to_string()
    );
    assert_eq!(chain["extension"][1]["valueString"], "3");
    // The published example's top-level shape is a subset of ours.
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/nhs-ig/PARS-AuditEvent-app-restricted-fhir-pds-read-Example.json"
        ))
        .expect("fixture"),
    )
    .expect("fixture json");
    for key in fixture.as_object().expect("object").keys() {
        assert!(event.get(key).is_some(), "missing {key}");
    }
    let could_not = queued(entry("9990000018", "could_not_check"));
    assert_eq!(to_audit_event(&could_not)["outcome"], "4");
    let mut contacted = entry("9990000018", "plan_found");
    contacted.action = AuditAction::LocalAuthorityContacted;
    let contacted = to_audit_event(&queued(contacted));
    assert_eq!(contacted["action"], "C");
    assert_eq!(contacted["subtype"][0]["code"], "create");
    assert_eq!(
        contacted["entity"][2]["detail"][1]["valueString"],
        "CP-IS Viewer - Local authority contacted"
    );
}

/// Changes one copy of a good event and expects the reader to name `field`.
fn refused(good: &Value, field: &'static str, change: impl FnOnce(&mut Value)) {
    let mut bad = good.clone();
    change(&mut bad);
    assert_eq!(
        from_audit_event(&bad),
        Err(WireError::Field(field)),
        "{field}"
    );
    assert_eq!(
        parse_single(&serde_json::to_vec(&bad).expect("json")),
        Err(WireError::Field(field)),
        "{field}"
    );
}

#[test]
fn events_outside_the_profile_or_lacking_a_piece_are_refused_by_field() {
    let mut view = entry("9990000018", "no_plan");
    view.plans = Some(plans_found());
    view.detail = "reason=x".into();
    let record = queued(view);
    let good = to_audit_event(&record);
    assert_eq!(from_audit_event(&good).as_ref(), Ok(&record));
    // Outside the profile's closed slicing.
    refused(&good, "entity.type", |event| {
        event["entity"].as_array_mut().expect("entities").push(json!({
            "type": {"system": "https://cpis-viewer.dev/CodeSystem/audit-chain", "code": "chain"},
            "what": {"identifier": {"system": "https://cpis-viewer.dev/Id/device", "value": "x"}}
        }));
    });
    refused(&good, "agent.who.type", |event| {
        event["agent"][3]["who"]["type"] = "Device".into();
    });
    refused(&good, "agent", |event| {
        let user = event["agent"][1].clone();
        event["agent"].as_array_mut().expect("agents").push(user);
    });
    refused(&good, "source.observer.identifier", |event| {
        event["source"]["observer"]["identifier"]["system"] =
            "https://cpis-viewer.dev/Id/device".into();
    });
    refused(&good, "agent:device.who.identifier", |event| {
        event["agent"][3]["who"]["identifier"]["system"] =
            "https://cpis-viewer.dev/Id/device".into();
    });
    refused(&good, "entity:endpoint.detail", |event| {
        event["entity"][2]["detail"]
            .as_array_mut()
            .expect("details")
            .pop();
    });
    refused(&good, "entity:transaction", |event| {
        event["entity"].as_array_mut().expect("entities").remove(1);
    });
    // Within the profile, but not what a record needs.
    refused(&good, "meta.profile", |event| {
        event.as_object_mut().expect("event").remove("meta");
    });
    refused(&good, "agent:device", |event| {
        event["agent"].as_array_mut().expect("agents").pop();
    });
    refused(&good, "agent:userRole", |event| {
        event["agent"].as_array_mut().expect("agents").remove(2);
    });
    refused(&good, "source", |event| {
        event["source"]["observer"]["identifier"]["value"] = "other-product".into();
    });
    refused(&good, "entity:endpoint", |event| {
        event["entity"][2]["detail"][1]["valueString"] = "CP-IS - Something else".into();
    });
    refused(&good, "entity:patient", |event| {
        event["entity"][0]["what"]["identifier"]["value"] = "9990000019".into();
    });
    refused(&good, "extension:chain", |event| {
        event["extension"]
            .as_array_mut()
            .expect("extensions")
            .remove(0);
    });
    refused(&good, "extension:chain", |event| {
        event["extension"][0]["extension"]
            .as_array_mut()
            .expect("fields")
            .push(json!({"url": "colour", "valueString": "blue"}));
    });
    refused(&good, "recordHash", |event| {
        event["extension"][0]["extension"][3]["valueString"] = "zz".into();
    });
    refused(&good, "sequence", |event| {
        event["extension"][0]["extension"][1]["valueString"] = "07".into();
    });
    refused(&good, "device", |event| {
        event["extension"][0]["extension"][0]["valueIdentifier"]["system"] =
            "https://fhir.nhs.uk/Id/product-id".into();
    });
    refused(&good, "unscheduled", |event| {
        event["extension"][0]["extension"][5] =
            json!({"url": "unscheduled", "valueString": "true"});
    });
    refused(&good, "detail", |event| {
        event["extension"][0]["extension"][6]["valueString"] = "".into();
    });
    refused(&good, "action", |event| {
        event["action"] = "C".into();
    });
    refused(&good, "outcome", |event| {
        event["outcome"] = "4".into();
    });
    refused(&good, "outcomeDesc", |event| {
        event["outcomeDesc"] = "".into();
    });
    refused(&good, "agent:user", |event| {
        event["agent"][1]["who"]["identifier"]["value"] = "".into();
    });
    assert_eq!(
        from_audit_event(&json!({"resourceType": "Patient"})),
        Err(WireError::Field("resourceType"))
    );
    assert_eq!(parse_single(b"not json"), Err(WireError::NotJson));
    assert_eq!(parse_single(b"[1]"), Err(WireError::Field("resourceType")));
    assert_eq!(
        parse_single(br#"{"resourceType":"AuditEvent","agent":5}"#),
        Err(WireError::Field("AuditEvent"))
    );
}

#[test]
fn a_plan_extension_names_the_local_authority_and_the_plan_type() {
    let mut view = entry("9990000018", "plan_found");
    view.plans = Some(plans_found());
    let record = queued(view);
    let event = to_audit_event(&record);
    let chain = &event["extension"][0]["extension"];
    assert_eq!(chain[6]["url"], "plans");
    assert_eq!(chain[6]["valueUnsignedInt"], 2);
    let first = &event["extension"][1];
    assert_eq!(
        first["url"],
        "https://cpis-viewer.dev/fhir/StructureDefinition/audit-plan"
    );
    assert_eq!(
        first["extension"][0],
        json!({"url": "localAuthority", "valueReference": {"display": "Testshire County Council", "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Z9L01"}}})
    );
    assert_eq!(first["extension"][1]["url"], "planType");
    assert_eq!(
        first["extension"][1]["valueCoding"]["system"],
        "http://snomed.info/sct"
    );
    assert_eq!(
        first["extension"][1]["valueCoding"]["code"],
        "342191000000101"
    );
    let second = &event["extension"][2];
    assert_eq!(
        second["extension"],
        json!([{"url": "localAuthority", "valueReference": {"display": "Elsewhere Borough Council"}}])
    );
    // A count that does not match, an unknown plan type, a plan without its authority
    // or plans without the count are refused.
    refused(&event, "plans", |event| {
        event["extension"][0]["extension"][6]["valueUnsignedInt"] = 1.into();
    });
    refused(&event, "planType", |event| {
        event["extension"][1]["extension"][1]["valueCoding"]["code"] = "123".into();
    });
    refused(&event, "plan", |event| {
        event["extension"][2]["extension"][0]["valueReference"]["display"] = "".into();
    });
    refused(&event, "plans", |event| {
        event["extension"][0]["extension"]
            .as_array_mut()
            .expect("fields")
            .pop();
    });
    assert_eq!(from_audit_event(&event), Ok(record));
}

mod search_pages {
    use super::*;
    use cpis_audit::wire::{SearchPageError, read_search_page};

    fn page(entries: &str, extra: &str) -> Vec<u8> {
        format!(r#"{{"resourceType":"Bundle","type":"searchset"{extra},"entry":[{entries}]}}"#)
            .into_bytes()
    }

    fn one_record() -> QueuedRecord {
        let dir = tempfile::tempdir().expect("tempdir");
        let queue = AuditQueue::open(dir.path()).expect("open");
        queue
            .append(&entry("9990000018", "plan_found"))
            .expect("append")
    }

    #[test]
    fn a_page_gives_its_records_total_and_next_link() {
        let record = one_record();
        let entries = format!(
            r#"{{"resource":{},"search":{{"mode":"match"}}}},{{"resource":{{"resourceType":"OperationOutcome"}},"search":{{"mode":"outcome"}}}}"#,
            to_audit_event(&record)
        );
        let read = read_search_page(&page(
            &entries,
            r#","total":4500,"link":[{"relation":"self","url":"https://log.example/a"},{"relation":"next","url":"https://log.example/b"}]"#,
        ))
        .expect("page");
        assert_eq!(read.records, vec![record]);
        assert_eq!(read.total, Some(4500));
        assert_eq!(read.next.as_deref(), Some("https://log.example/b"));
        let empty = read_search_page(br#"{"resourceType":"Bundle","type":"searchset","total":0}"#)
            .expect("empty");
        assert_eq!(
            (empty.records.len(), empty.total, empty.next),
            (0, Some(0), None)
        );
    }

    /// Issue 16: an entry that cannot be read was left out and the list looked complete.
    #[test]
    fn an_unreadable_entry_fails_the_page() {
        let record = one_record();
        let good = format!(r#"{{"resource":{}}}"#, to_audit_event(&record));
        for (bad, index) in [
            (
                format!(r#"{good},{{"resource":{{"resourceType":"Patient"}}}}"#),
                1,
            ),
            (format!("{good},5"), 1),
            (format!(r#"{{"search":{{"mode":"match"}}}},{good}"#), 0),
        ] {
            assert!(
                matches!(
                    read_search_page(&page(&bad, r#","total":2"#)),
                    Err(SearchPageError::UnreadableEntry { index: found, .. }) if found == index
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn anything_but_a_searchset_is_refused() {
        for body in [
            &br#"{"resourceType":"Bundle"}"#[..],
            br#"{"resourceType":"Bundle","type":"batch","entry":[]}"#,
            br#"{"resourceType":"Bundle","type":"searchset","entry":{}}"#,
            br#"{"resourceType":"Bundle","type":"searchset","total":"3"}"#,
            br#"{"resourceType":"Bundle","type":"searchset","total":-1}"#,
            br#"{"resourceType":"Bundle","type":"searchset","link":{"relation":"next"}}"#,
            br#"{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"a"},{"relation":"next","url":"b"}]}"#,
            b"[]",
            b"<html>",
        ] {
            assert!(
                read_search_page(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(read_search_page(b"<html>"), Err(SearchPageError::NotJson));
    }
}

#[test]
fn batch_responses_must_match_the_batch() {
    let ok = serde_json::to_vec(&to_batch_response(&[
        "201 Created".into(),
        "200 OK".into(),
        "422 Unprocessable Entity".into(),
    ]))
    .expect("json");
    assert_eq!(
        parse_batch_response(&ok, 3).expect("parse"),
        vec![
            EntryResult::Committed,
            EntryResult::Committed,
            EntryResult::Rejected {
                status: "422 Unprocessable Entity".into()
            }
        ]
    );
    assert!(parse_batch_response(&ok, 2).is_err(), "count must match");
    let later = serde_json::to_vec(&to_batch_response(&[
        "429 Too Many Requests".into(),
        "408 Request Timeout".into(),
    ]))
    .expect("json");
    assert_eq!(
        parse_batch_response(&later, 2).expect("parse"),
        vec![
            EntryResult::Later {
                status: "429 Too Many Requests".into()
            },
            EntryResult::Later {
                status: "408 Request Timeout".into()
            }
        ]
    );
    let server_error =
        serde_json::to_vec(&to_batch_response(&["500 Internal Server Error".into()]))
            .expect("json");
    assert!(parse_batch_response(&server_error, 1).is_err());
    assert!(parse_batch_response(b"<html>", 1).is_err());
    assert!(parse_batch_response(br#"{"resourceType":"Bundle","type":"batch"}"#, 0).is_err());
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_confirm_a_batch(body in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
        // Only a well-formed batch-response can confirm anything.
        if let Ok(results) = parse_batch_response(&body, 1) {
            let text = String::from_utf8_lossy(&body);
            proptest::prop_assert!(text.contains("batch-response"));
            proptest::prop_assert_eq!(results.len(), 1);
        }
    }
}
