//! Fuzz target: any bytes as a `batch` Bundle of AuditEvents arriving at the central audit log
//! (`cpis_audit::wire::parse_batch`, which `cpis-audit-log`'s ingest decodes with), and as the
//! `batch-response` the app reads back (`parse_batch_response`), and as a page of the central
//! log's search that the named nurse review reads (`read_search_page`).
//!
//! Properties: no panic; every record read has a non-zero sequence, a valid NHS number in its
//! wire form and lower-case SHA-256 hex hashes; the log stores a record as
//! `to_audit_event(record)` and reads it back with `from_audit_event`, so that must give the same
//! record, and so must a whole batch re-encoded with `to_batch_bundle`. A batch response read
//! for `n` sent entries has exactly `n` results, and the response the log builds from those
//! results reads back the same. A search page's records each read back the same from their
//! stored form, and a page never holds more records than entries. The same bytes as the body
//! of one `POST /AuditEvent` (`parse_single`, issue 17): a record read reads back the same from
//! its typed bytes (`audit_event_json`), and every event we build from a record read passes the
//! PARS slice check (`check_pars`), as does the typed batch (`batch_bundle_json`) read back.

#![no_main]

use cpis_audit::wire::{
    EntryResult, audit_event, audit_event_json, batch_bundle_json, from_audit_event, parse_batch,
    parse_batch_response, parse_single, read_search_page, to_audit_event, to_batch_bundle,
    to_batch_response,
};
use cpis_fhir::audit_event::check_pars;
use libfuzzer_sys::fuzz_target;

fn is_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

fuzz_target!(|body: &[u8]| {
    if let Ok(entries) = parse_batch(body) {
        let records: Vec<_> = entries.into_iter().filter_map(Result::ok).collect();
        for record in &records {
            assert!(record.sequence > 0);
            assert!(is_hash(&record.previous_hash));
            assert!(is_hash(&record.record_hash));
            let nhs = cpis_domain::NhsNumber::parse(&record.patient_nhs_number)
                .expect("only valid NHS numbers are read");
            assert_eq!(nhs.as_str(), record.patient_nhs_number);
            assert_eq!(check_pars(&audit_event(record)), Ok(()));
            let stored = to_audit_event(record);
            assert!(
                from_audit_event(&stored).as_ref() == Ok(record),
                "a stored record reads back the same"
            );
        }
        let resent = serde_json::to_vec(&to_batch_bundle(&records)).expect("JSON");
        let reread: Vec<_> = parse_batch(&resent)
            .expect("a batch we built reads back")
            .into_iter()
            .collect::<Result<_, _>>()
            .expect("every entry we built reads back");
        assert!(reread == records, "a re-encoded batch reads back the same");
        let typed: Vec<_> = parse_batch(&batch_bundle_json(&records))
            .expect("a typed batch we built reads back")
            .into_iter()
            .collect::<Result<_, _>>()
            .expect("every typed entry we built reads back");
        assert!(typed == records, "a typed batch reads back the same");
    }

    if let Ok(record) = parse_single(body) {
        assert!(record.sequence > 0);
        assert_eq!(check_pars(&audit_event(&record)), Ok(()));
        assert!(
            parse_single(&audit_event_json(&record)).as_ref() == Ok(&record),
            "a single event reads back the same from its typed bytes"
        );
    }

    if let Ok(page) = read_search_page(body) {
        for record in &page.records {
            assert!(
                from_audit_event(&to_audit_event(record)).as_ref() == Ok(record),
                "a searched record reads back the same"
            );
        }
    }

    for sent in 0..=3 {
        if let Ok(results) = parse_batch_response(body, sent) {
            assert_eq!(results.len(), sent);
            let statuses: Vec<String> = results
                .iter()
                .map(|result| match result {
                    EntryResult::Committed => "201 Created".to_string(),
                    EntryResult::Rejected { status } | EntryResult::Later { status } => {
                        status.clone()
                    }
                })
                .collect();
            let rebuilt = serde_json::to_vec(&to_batch_response(&statuses)).expect("JSON");
            assert_eq!(parse_batch_response(&rebuilt, sent).as_ref(), Ok(&results));
        }
    }
});
