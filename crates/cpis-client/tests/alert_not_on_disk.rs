//! Alert content is never written to disk (hazard log H3, control C3.3): after a lookup that
//! finds a plan, no file in the data folder holds the local authority's phone numbers or the
//! patient's name and date of birth. The audit queue holds who looked, which NHS number, the
//! outcome, and (for the named nurse's follow-up, issue 16) the type of each plan found and
//! its responsible local authority; the scan is shown to work by finding that NHS number and
//! that local authority.

use std::path::Path;
use std::sync::Arc;

use cpis_client::{AlertClient, Config, LookupOutcome, QueueSink, Secret};

use crate::support::fault_server::{FaultServer, Reply, Script};
use crate::support::synthetic::*;

/// Every file under `folder`, read whole.
fn every_file(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(every_file(&path));
        } else {
            let bytes = std::fs::read(&path).expect("read");
            files.push((path.display().to_string(), bytes));
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.to_lowercase().into_bytes();
    haystack
        .to_ascii_lowercase()
        .windows(needle.len())
        .any(|window| window == needle.as_slice())
}

#[tokio::test]
async fn a_lookup_with_plans_leaves_no_plan_details_on_disk() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = FaultServer::start(Script {
        patient: vec![Reply::fhir(patient_body(&asked()))],
        care_team: vec![Reply::fhir(plans_bundle(&asked()))],
        history: vec![Reply::fhir(history_bundle(&asked()))],
    })
    .await;
    // The queue unencrypted (test-only constructor), so that this scan of the files can see
    // what the queue holds: the app's queue is encrypted, and would hide it either way.
    let sink = Arc::new(QueueSink::with_queue(
        cpis_audit::AuditQueue::open(data.path()).expect("queue"),
    ));
    assert_eq!(sink.problem(), None, "the queue opens in the data folder");
    let mut config = Config::defaults_with_data_dir(data.path().to_path_buf());
    config.services.demographics_url = format!("{}/pds", server.base).parse().expect("url");
    config.services.cpis_url = format!("{}/cpis", server.base).parse().expect("url");
    config.services.audit_url = format!("{}/audit", server.base).parse().expect("url");
    let client = AlertClient::new(&config, sink.clone(), "cpis-client-tests").expect("client");
    let report = client
        .lookup(
            &Secret::new("test-access-token"),
            &user_with(&["B0107"]),
            &asked(),
            false,
        )
        .await;
    assert!(
        matches!(report.outcome, LookupOutcome::PlansFound { .. }),
        "expected plans, got {}",
        report.outcome.code()
    );
    assert_eq!(report.audit, Ok(()), "the view was audited");
    drop(client);
    drop(sink);

    let files = every_file(data.path());
    let nhs_digits = asked().to_string().replace(' ', "");
    assert!(
        files
            .iter()
            .any(|(_, bytes)| contains(bytes, &nhs_digits) || contains(bytes, &asked().to_string())),
        "the audit queue must be on disk with the NHS number viewed (else this scan proves nothing)"
    );
    let plan = plan();
    assert!(
        files
            .iter()
            .any(|(_, bytes)| contains(bytes, &plan.local_authority.name)),
        "the view is recorded with whom to chase: the plan's local authority"
    );
    let patient = patient(&asked());
    let mut alert_content = vec![
        plan.local_authority.office_hours_phone.clone(),
        plan.local_authority.emergency_duty_phone.clone(),
        plan.local_authority.office_hours_phone.replace(' ', ""),
        plan.local_authority.emergency_duty_phone.replace(' ', ""),
        patient.family_name.clone(),
        patient.date_of_birth.to_string(),
    ];
    alert_content.extend(patient.given_names.iter().cloned());
    for (path, bytes) in &files {
        for text in &alert_content {
            assert!(
                !contains(bytes, text),
                "{path} holds alert content: {text:?}"
            );
        }
    }
}
