//! The wire format: AuditEvent and Bundles, both ways.

use super::*;
use cpis_audit::wire::{
    EntryResult, from_audit_event, parse_batch, parse_batch_response, to_audit_event,
    to_batch_bundle, to_batch_response,
};

#[test]
fn audit_events_round_trip_and_the_hash_still_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = AuditQueue::open(dir.path()).expect("open");
    let mut contacted = entry("9990000026", "plan_found");
    contacted.action = AuditAction::LocalAuthorityContacted;
    contacted.detail = "method=phone;at=2026-11-25T10:05:00Z".into();
    contacted.unscheduled = false;
    let mut with_plans = entry("9990000018", "plan_found");
    with_plans.plans = Some(plans_found());
    let mut none_found = entry("9990000026", "no_plan");
    none_found.plans = Some(Vec::new());
    let records = vec![
        queue
            .append(&entry("9990000018", "no_plan"))
            .expect("append"),
        queue.append(&contacted).expect("append"),
        queue.append(&with_plans).expect("append"),
        queue.append(&none_found).expect("append"),
    ];
    for record in &records {
        let event = to_audit_event(record);
        let back = from_audit_event(&event).expect("parse");
        assert_eq!(&back, record);
        assert_eq!(back.recompute_hash(), record.record_hash);
    }
    let bundle = serde_json::to_vec(&to_batch_bundle(&records)).expect("json");
    let parsed: Vec<_> = parse_batch(&bundle)
        .expect("bundle")
        .into_iter()
        .map(|entry| entry.expect("entry"))
        .collect();
    assert_eq!(parsed, records);
}

#[test]
fn the_event_has_the_pars_patient_read_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = AuditQueue::open(dir.path()).expect("open");
    let record = queue
        .append(&entry("9990000018", "plan_found"))
        .expect("append");
    let event = to_audit_event(&record);
    assert_eq!(event["resourceType"], "AuditEvent");
    assert_eq!(event["action"], "R");
    assert_eq!(event["type"]["code"], "rest");
    assert_eq!(event["outcome"], "0");
    assert_eq!(event["agent"][0]["who"]["type"], "Organization");
    assert_eq!(event["agent"][0]["who"]["identifier"]["value"], "Z9T01");
    assert_eq!(event["agent"][1]["who"]["type"], "Practitioner");
    assert_eq!(event["agent"][2]["who"]["type"], "Device");
    assert_eq!(
        event["entity"][0]["what"]["identifier"]["system"],
        "https://fhir.nhs.uk/Id/nhs-number"
    );
    assert_eq!(
        event["entity"][0]["what"]["identifier"]["value"],
        "9990000018"
    );
    assert_eq!(event["entity"][1]["type"]["code"], "XrequestId");
    assert_eq!(
        event["entity"][1]["what"]["identifier"]["value"],
        record.trace_id.to_string()
    );
    // The published example's top-level shape is a subset of ours.
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/nhs-ig/PARS-AuditEvent-patient-flag-Example.json"
        ))
        .expect("fixture"),
    )
    .expect("fixture json");
    for key in fixture.as_object().expect("object").keys() {
        assert!(event.get(key).is_some(), "missing {key}");
    }
    let could_not = queue
        .append(&entry("9990000018", "could_not_check"))
        .expect("append");
    assert_eq!(to_audit_event(&could_not)["outcome"], "4");
}

#[test]
fn malformed_events_are_rejected_by_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = AuditQueue::open(dir.path()).expect("open");
    let record = queue
        .append(&entry("9990000018", "no_plan"))
        .expect("append");
    let good = to_audit_event(&record);
    let mut bad_nhs = good.clone();
    bad_nhs["entity"][0]["what"]["identifier"]["value"] = "9990000019".into();
    assert!(from_audit_event(&bad_nhs).is_err());
    let mut bad_hash = good.clone();
    bad_hash["entity"][2]["detail"][2]["valueString"] = "zz".into();
    assert!(from_audit_event(&bad_hash).is_err());
    let mut no_agent = good.clone();
    no_agent["agent"] = serde_json::json!([]);
    assert!(from_audit_event(&no_agent).is_err());
    assert!(from_audit_event(&serde_json::json!({"resourceType": "Patient"})).is_err());
}

#[test]
fn a_plan_entity_names_the_local_authority_and_the_plan_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = AuditQueue::open(dir.path()).expect("open");
    let mut view = entry("9990000018", "plan_found");
    view.plans = Some(plans_found());
    let record = queue.append(&view).expect("append");
    let event = to_audit_event(&record);
    assert_eq!(event["entity"][2]["detail"][6]["type"], "plans");
    assert_eq!(event["entity"][2]["detail"][6]["valueString"], "2");
    let first = &event["entity"][3];
    assert_eq!(
        first["type"]["system"],
        "https://cpis-viewer.dev/CodeSystem/audit-plan"
    );
    assert_eq!(first["type"]["code"], "plan");
    assert_eq!(first["what"]["display"], "Testshire County Council");
    assert_eq!(first["what"]["identifier"]["value"], "Z9L01");
    assert_eq!(first["detail"][0]["type"], "planType");
    assert_eq!(first["detail"][0]["valueString"], "342191000000101");
    let second = &event["entity"][4];
    assert_eq!(second["what"]["display"], "Elsewhere Borough Council");
    assert!(second["what"].get("identifier").is_none());
    assert!(second.get("detail").is_none());
    // A count that does not match, an unknown plan type, a plan without its authority
    // or plans without the count are refused.
    let mut fewer = event.clone();
    fewer["entity"][2]["detail"][6]["valueString"] = "1".into();
    assert!(from_audit_event(&fewer).is_err());
    let mut unknown = event.clone();
    unknown["entity"][3]["detail"][0]["valueString"] = "123".into();
    assert!(from_audit_event(&unknown).is_err());
    let mut nameless = event.clone();
    nameless["entity"][4]["what"]["display"] = "".into();
    assert!(from_audit_event(&nameless).is_err());
    let mut uncounted = event.clone();
    uncounted["entity"][2]["detail"]
        .as_array_mut()
        .expect("details")
        .pop();
    assert!(from_audit_event(&uncounted).is_err());
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
