//! The central audit log's review search over HTTP, on SQLite and PostgreSQL: more events than
//! one page holds are served in pages whose `total` counts them all and whose `next` links lead
//! through every one; and the review's real client (`cpis_client::AuditLogClient`) reads them
//! all, with the plans recorded with each view, over a real socket.
//!
//! Issue 17: senders are bound (a record in another organisation's name, a device of another
//! organisation, a replay of another organisation's event id are refused, and never reach the
//! review); a shared workstation's next user sends the earlier users' records; PARS's
//! `POST /AuditEvent` and the CapabilityStatement at `/metadata`.

use std::sync::Arc;

use axum::http::StatusCode;
use cpis_audit::{AuditAction, QueuedRecord, RecordedPlan};
use cpis_client::{AuditLogClient, Completeness, Config, Secret};
use cpis_domain::{Actor, PlanType, RoleRef};
use cpis_service::auth::{KeySource, PlatformApp};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use tokio::net::TcpListener;
use uuid::Uuid;

use super::support::*;

/// `count` chained views by one new device at `organisation`, recorded from `newest` back,
/// two at each second; every third found a plan, recorded with it.
fn views(organisation: &str, count: usize, newest: OffsetDateTime) -> Vec<QueuedRecord> {
    let device_id = Uuid::new_v4();
    let mut previous_hash = cpis_audit::GENESIS_HASH.to_string();
    (0..count)
        .map(|index| {
            let plans = (index % 3 == 0).then(|| {
                vec![RecordedPlan::new(
                    Some(PlanType::ChildProtectionPlan),
                    "Testshire County Council",
                    Some("Z9L01"),
                )]
            });
            let mut record = QueuedRecord {
                event_id: Uuid::new_v4(),
                device_id,
                sequence: index as u64 + 1,
                occurred_at: newest - Duration::seconds(((count - index) / 2) as i64),
                action: AuditAction::View,
                actor: Actor {
                    user_id: "nurse-1".into(),
                    user_name: "Tess Triage-Test".into(),
                    role: RoleRef {
                        role_profile_id: "555021935107".into(),
                        role_code: "R8001".into(),
                        role_name: "Nurse Access Role".into(),
                        organisation_ods: organisation.into(),
                        organisation_name: "Northshire General Hospital".into(),
                    },
                },
                patient_nhs_number: "9990000018".into(),
                outcome: if plans.is_some() {
                    "plan_found"
                } else {
                    "no_plan"
                }
                .into(),
                trace_id: Uuid::new_v4(),
                unscheduled: true,
                detail: String::new(),
                plans,
                previous_hash: previous_hash.clone(),
                record_hash: String::new(),
            };
            record.record_hash = record.recompute_hash();
            previous_hash = record.record_hash.clone();
            record
        })
        .collect()
}

/// Store `records` directly, as sent by a user of the organisation they name.
async fn ingest(app: &TestApp, records: &[QueuedRecord]) {
    for batch in records.chunks(2_000) {
        let body = serde_json::to_vec(&cpis_audit::wire::to_batch_bundle(batch)).expect("json");
        let sender = cpis_audit_log::Sender {
            user_id: "nurse-1".into(),
            role_profile_id: "555021935107".into(),
            organisation_ods: batch[0].actor.role.organisation_ods.clone(),
        };
        app.state
            .audit_log
            .ingest(&sender, &body)
            .await
            .expect("ingest");
    }
}

fn safeguarding_lead() -> TestUser {
    claims("lead-1", "Nia Safeguard-Test", "ZZ1ED", &["B1234"])
}

/// Issue 16: the review search stopped at 2,000 events and said nothing. Every page of the
/// search says how many match in all and links to the next, within the same window.
async fn the_search_is_served_in_linked_pages(app: TestApp) {
    let now = app.now().replace_nanosecond(0).expect("whole second");
    let ours = views("ZZ1ED", 4_500, now - Duration::minutes(1));
    ingest(&app, &ours).await;
    ingest(&app, &views("ZZ2ED", 20, now)).await;
    let token = app.token_for(&safeguarding_lead()).await;
    let mut uri = "/audit/FHIR/R4/AuditEvent?since=".to_owned()
        + &(now - Duration::days(7))
            .format(&time::format_description::well_known::Rfc3339)
            .expect("time");
    let mut ids = std::collections::BTreeSet::new();
    let mut pages = Vec::new();
    loop {
        let (status, headers, body) = app.get(&uri, Some(&token), &[]).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        assert_eq!(headers["content-type"], "application/fhir+json");
        let bundle: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(bundle["type"], "searchset");
        assert_eq!(bundle["total"], 4_500);
        let page = cpis_audit::wire::read_search_page(&body).expect("a readable page");
        pages.push(page.records.len());
        for record in page.records {
            assert_eq!(record.actor.role.organisation_ods, "ZZ1ED");
            assert!(ids.insert(record.event_id), "no event twice");
        }
        let links = bundle["link"].as_array().expect("links");
        let self_link = links
            .iter()
            .find(|link| link["relation"] == "self")
            .and_then(|link| link["url"].as_str())
            .expect("self");
        assert!(self_link.contains("&until="), "{self_link}");
        match page.next {
            Some(next) => {
                assert!(next.starts_with("http://cpis.test.invalid/audit/FHIR/R4/AuditEvent?"));
                uri = next.replacen("http://cpis.test.invalid", "", 1);
            }
            None => break,
        }
    }
    assert_eq!(pages, vec![2_000, 2_000, 500]);
    assert_eq!(ids.len(), 4_500);
    // A smaller page when asked; a cursor or parameter the service did not give is refused.
    let (status, _, body) = app
        .get("/audit/FHIR/R4/AuditEvent?_count=10", Some(&token), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = cpis_audit::wire::read_search_page(&body).expect("page");
    assert_eq!((page.records.len(), page.total), (10, Some(4_500)));
    assert!(
        page.next
            .is_some_and(|next| next.contains("_count=10&cursor="))
    );
    for bad in [
        "cursor=12",
        "cursor=x.y",
        "_count=0",
        "_count=ten",
        "_page=2",
    ] {
        let (status, _, _) = app
            .get(
                &format!("/audit/FHIR/R4/AuditEvent?{bad}"),
                Some(&token),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn the_review_search_is_served_in_linked_pages_sqlite() {
    the_search_is_served_in_linked_pages(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn the_review_search_is_served_in_linked_pages_postgres() {
    the_search_is_served_in_linked_pages(TestApp::postgres().await).await;
}

/// The review's own client, over a real socket, reads every one of more than 2,000 events
/// through the service's `next` links, says the list is complete, and gets the plans recorded
/// with each view.
async fn the_reviews_client_reads_every_event(mut app: TestApp) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    // The service names itself at the socket's address in its links.
    let token_url = format!("{base}/oauth2/token");
    app.state.platform = Arc::new(
        PlatformApp::new(
            API_KEY,
            KeySource::Static(broker_jwks()),
            Some(CLIENT_SECRET.into()),
            &token_url,
        )
        .await
        .expect("platform app"),
    );
    let lead = safeguarding_lead();
    app.add_role(&lead.directory_role()).await;
    let (status, body) = app
        .exchange_with(
            &sign(&lead.id_token_claims()),
            &sign_assertion(&assertion_claims_for(&token_url)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().expect("token").to_owned();

    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("second");
    app.set_now(now);
    let ours = views("ZZ1ED", 4_321, now - Duration::minutes(1));
    ingest(&app, &ours).await;
    ingest(&app, &views("ZZ2ED", 20, now)).await;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(cpis_service::server::serve_on(
        listener,
        app.state.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    let mut config = Config::defaults_with_data_dir(std::env::temp_dir());
    config.services.audit_url = format!("{base}/audit/FHIR/R4").parse().expect("url");
    config.tls.allow_http_loopback = true;
    let client = AuditLogClient::new(&config).expect("client");
    let search = client
        .search_since(&Secret::new(token), now - Duration::days(7))
        .await
        .expect("search");
    assert_eq!(search.completeness, Completeness::Complete);
    assert_eq!(search.records.len(), 4_321);
    let mut read_sorted: Vec<Uuid> = search
        .records
        .iter()
        .map(|record| record.event_id)
        .collect();
    read_sorted.sort();
    let mut ours_sorted: Vec<Uuid> = ours.iter().map(|record| record.event_id).collect();
    ours_sorted.sort();
    assert_eq!(read_sorted, ours_sorted, "every event, each once");
    let with_plans = search
        .records
        .iter()
        .filter(|record| record.plans.is_some())
        .count();
    assert_eq!(with_plans, 1_441);
    assert!(
        search
            .records
            .iter()
            .all(|record| record.plans.is_none() == (record.outcome == "no_plan"))
    );
    let _ = stop.send(());
    let _ = server.await;
}

#[tokio::test]
async fn the_reviews_client_reads_every_event_sqlite() {
    the_reviews_client_reads_every_event(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn the_reviews_client_reads_every_event_postgres() {
    the_reviews_client_reads_every_event(TestApp::postgres().await).await;
}

fn clinician(sub: &str, organisation: &str) -> TestUser {
    claims(sub, "Sam Sender-Test", organisation, &["B0107"])
}

fn batch_body(records: &[QueuedRecord]) -> Vec<u8> {
    serde_json::to_vec(&cpis_audit::wire::to_batch_bundle(records)).expect("json")
}

fn event_body(record: &QueuedRecord) -> Vec<u8> {
    serde_json::to_vec(&cpis_audit::wire::to_audit_event(record)).expect("json")
}

/// POST a body to `uri` as FHIR JSON.
async fn post(
    app: &TestApp,
    uri: &str,
    token: &str,
    body: Vec<u8>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let (status, headers, body) = app
        .request(
            axum::http::Method::POST,
            uri,
            Some(token),
            &[("Content-Type", "application/fhir+json")],
            body,
        )
        .await;
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, headers, value)
}

fn entry_statuses(response: &Value) -> Vec<String> {
    response["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| {
            entry["response"]["status"]
                .as_str()
                .expect("status")
                .to_owned()
        })
        .collect()
}

/// The ids of every event the organisation's safeguarding lead sees in the review (the search
/// that also feeds the review's CSV export).
async fn reviewed(app: &TestApp, organisation: &str) -> std::collections::BTreeSet<Uuid> {
    let lead = claims("lead-1", "Nia Safeguard-Test", organisation, &["B1234"]);
    let token = app.token_for(&lead).await;
    let since = (app.now() - Duration::days(7))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let (status, _, body) = app
        .get(
            &format!(
                "/audit/FHIR/R4/AuditEvent?since={}",
                since.replace('+', "%2B")
            ),
            Some(&token),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let page = cpis_audit::wire::read_search_page(&body).expect("page");
    assert_eq!(page.total, Some(page.records.len() as u64));
    page.records.iter().map(|record| record.event_id).collect()
}

/// Who the log says sent an event: (user, role profile, organisation).
async fn stored_sender(app: &TestApp, event_id: Uuid) -> (String, String, String) {
    let row = sqlx::query(
        "SELECT sender_user_id, sender_role_profile_id, sender_organisation_ods FROM audit_log_events WHERE event_id = $1",
    )
    .bind(event_id.to_string())
    .fetch_one(app.store.pool())
    .await
    .expect("stored event");
    use sqlx::Row;
    (
        row.try_get(0).expect("user"),
        row.try_get(1).expect("role"),
        row.try_get(2).expect("organisation"),
    )
}

/// Issue 17: a token of another organisation POSTs records naming the victim organisation, in
/// a batch and one by one: every one is refused with a clear reason, nothing is stored, and the
/// victim's review (and so its CSV export) never shows them. A replay of the victim's event id
/// by the other organisation is refused, not answered `200 OK`. A row naming the victim that an
/// earlier version stored from another sender is not served to the victim either.
async fn records_in_another_organisations_name_are_refused(app: TestApp) {
    let now = app.now();
    let victim = views("ZZ1ED", 3, now - Duration::minutes(1));
    let attacker = app.token_for(&clinician("mallory", "ZZ2ED")).await;
    let (status, _, response) = post(&app, "/audit/FHIR/R4", &attacker, batch_body(&victim)).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    assert_eq!(entry_statuses(&response), vec!["403 Forbidden"; 3]);
    let (status, _, outcome) = post(
        &app,
        "/audit/FHIR/R4/AuditEvent",
        &attacker,
        event_body(&victim[0]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{outcome}");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert!(
        outcome["issue"][0]["diagnostics"]
            .as_str()
            .is_some_and(|text| text.contains("another organisation")),
        "{outcome}"
    );
    assert!(reviewed(&app, "ZZ1ED").await.is_empty());
    assert!(reviewed(&app, "ZZ2ED").await.is_empty());

    // The victim's own clinician sends them: stored, reviewed.
    let nurse = app.token_for(&clinician("nurse-1", "ZZ1ED")).await;
    let (_, _, response) = post(&app, "/audit/FHIR/R4", &nurse, batch_body(&victim)).await;
    assert_eq!(entry_statuses(&response), vec!["201 Created"; 3]);
    let ids: std::collections::BTreeSet<Uuid> =
        victim.iter().map(|record| record.event_id).collect();
    assert_eq!(reviewed(&app, "ZZ1ED").await, ids);

    // The other organisation replays the victim's event id in its own name, from its own
    // device: refused, not answered as held.
    let mut replay = views("ZZ2ED", 1, now).remove(0);
    replay.event_id = victim[0].event_id;
    replay.record_hash = replay.recompute_hash();
    let (status, _, outcome) = post(
        &app,
        "/audit/FHIR/R4/AuditEvent",
        &attacker,
        event_body(&replay),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{outcome}");
    let (_, _, response) = post(&app, "/audit/FHIR/R4", &attacker, batch_body(&[replay])).await;
    assert_eq!(entry_statuses(&response), vec!["403 Forbidden"]);
    // The victim's own resend is held.
    let (status, _, _) = post(
        &app,
        "/audit/FHIR/R4/AuditEvent",
        &nurse,
        event_body(&victim[0]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // A row naming the victim but sent from elsewhere (as stored before senders were bound) is
    // not the victim's to review.
    let forged = views("ZZ1ED", 1, now).remove(0);
    sqlx::query(
        "INSERT INTO audit_log_events (event_id, device_id, sequence, occurred_at, occurred_at_micros, received_at, organisation_ods, action, outcome, previous_hash, record_hash, sender_user_id, sender_role_profile_id, sender_organisation_ods, resource)
         VALUES ($1, $2, 1, $3, $4, $3, 'ZZ1ED', 'view', 'no_plan', $5, $5, 'mallory', 'role-mallory', 'ZZ2ED', $6)",
    )
    .bind(forged.event_id.to_string())
    .bind(forged.device_id.to_string())
    .bind(forged.occurred_at.format(&time::format_description::well_known::Rfc3339).expect("time"))
    .bind((forged.occurred_at.unix_timestamp_nanos() / 1_000) as i64)
    .bind(forged.record_hash.clone())
    .bind(String::from_utf8(event_body(&forged)).expect("utf-8"))
    .execute(app.store.pool())
    .await
    .expect("insert");
    assert_eq!(reviewed(&app, "ZZ1ED").await, ids);
}

#[tokio::test]
async fn records_in_another_organisations_name_are_refused_sqlite() {
    records_in_another_organisations_name_are_refused(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn records_in_another_organisations_name_are_refused_postgres() {
    records_in_another_organisations_name_are_refused(TestApp::postgres().await).await;
}

/// Issue 17: on a shared workstation, user B of the same organisation sends the records user
/// A queued: accepted, stored with B as the sender, and reviewed.
async fn a_shared_workstation_sends_earlier_users_records(app: TestApp) {
    let records = views("ZZ1ED", 4, app.now() - Duration::minutes(1));
    assert!(
        records
            .iter()
            .all(|record| record.actor.user_id == "nurse-1")
    );
    let user_b = clinician("nurse-2", "ZZ1ED");
    let token = app.token_for(&user_b).await;
    let (_, _, response) = post(&app, "/audit/FHIR/R4", &token, batch_body(&records[..3])).await;
    assert_eq!(entry_statuses(&response), vec!["201 Created"; 3]);
    let (status, headers, _) = post(
        &app,
        "/audit/FHIR/R4/AuditEvent",
        &token,
        event_body(&records[3]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(headers.contains_key("location"));
    for record in &records {
        assert_eq!(
            stored_sender(&app, record.event_id).await,
            ("nurse-2".to_owned(), user_b.role_id(), "ZZ1ED".to_owned())
        );
    }
    assert_eq!(reviewed(&app, "ZZ1ED").await.len(), 4);
    assert!(
        app.state
            .audit_log
            .findings()
            .await
            .expect("findings")
            .is_empty()
    );
}

#[tokio::test]
async fn a_shared_workstation_sends_earlier_users_records_sqlite() {
    a_shared_workstation_sends_earlier_users_records(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn a_shared_workstation_sends_earlier_users_records_postgres() {
    a_shared_workstation_sends_earlier_users_records(TestApp::postgres().await).await;
}

/// Issue 17: a device belongs to the organisation that first used it. Records of the same
/// device from another organisation (naming that organisation, sent by its own users) are
/// refused, in a batch and one by one; the first organisation's records go on being stored.
async fn a_device_belongs_to_the_organisation_that_first_used_it(app: TestApp) {
    let now = app.now();
    let first = views("ZZ1ED", 2, now - Duration::minutes(2));
    let token_x = app.token_for(&clinician("nurse-1", "ZZ1ED")).await;
    let (_, _, response) = post(&app, "/audit/FHIR/R4", &token_x, batch_body(&first)).await;
    assert_eq!(entry_statuses(&response), vec!["201 Created"; 2]);
    // The same device's next records, in organisation Y's name.
    let mut later = views("ZZ2ED", 2, now - Duration::minutes(1));
    let mut previous_hash = first[1].record_hash.clone();
    for (index, record) in later.iter_mut().enumerate() {
        record.device_id = first[0].device_id;
        record.sequence = 3 + index as u64;
        record.previous_hash = previous_hash.clone();
        record.record_hash = record.recompute_hash();
        previous_hash = record.record_hash.clone();
    }
    let token_y = app.token_for(&clinician("nurse-9", "ZZ2ED")).await;
    let (_, _, response) = post(&app, "/audit/FHIR/R4", &token_y, batch_body(&later)).await;
    assert_eq!(entry_statuses(&response), vec!["403 Forbidden"; 2]);
    let (status, _, outcome) = post(
        &app,
        "/audit/FHIR/R4/AuditEvent",
        &token_y,
        event_body(&later[0]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{outcome}");
    assert!(
        outcome["issue"][0]["diagnostics"]
            .as_str()
            .is_some_and(|text| text.contains("device")),
        "{outcome}"
    );
    assert!(reviewed(&app, "ZZ2ED").await.is_empty());
    assert_eq!(reviewed(&app, "ZZ1ED").await.len(), 2);
    // Organisation X's device carries on.
    let mut next = views("ZZ1ED", 1, now).remove(0);
    next.device_id = first[0].device_id;
    next.sequence = 3;
    next.previous_hash = first[1].record_hash.clone();
    next.record_hash = next.recompute_hash();
    let (status, _, _) = post(
        &app,
        "/audit/FHIR/R4/AuditEvent",
        &token_x,
        event_body(&next),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        app.state
            .audit_log
            .findings()
            .await
            .expect("findings")
            .is_empty()
    );
}

#[tokio::test]
async fn a_device_belongs_to_the_organisation_that_first_used_it_sqlite() {
    a_device_belongs_to_the_organisation_that_first_used_it(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn a_device_belongs_to_the_organisation_that_first_used_it_postgres() {
    a_device_belongs_to_the_organisation_that_first_used_it(TestApp::postgres().await).await;
}

/// PARS's interface: `POST /AuditEvent` stores one event (`201` with its `Location`), a resend
/// is `200 OK` and stores nothing twice, anything that is not one of our AuditEvents is `422`
/// and a role that may not look up CP-IS is `403`; the CapabilityStatement advertises the
/// PARS profile, `create`, `search-type` and the `batch` extension, to any caller.
async fn the_pars_interface(app: TestApp) {
    let records = views("ZZ1ED", 2, app.now() - Duration::minutes(1));
    let token = app.token_for(&clinician("nurse-1", "ZZ1ED")).await;
    let (status, headers, event) = post(
        &app,
        "/audit/FHIR/R4/AuditEvent",
        &token,
        event_body(&records[0]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    assert_eq!(
        headers["location"],
        format!(
            "http://cpis.test.invalid/audit/FHIR/R4/AuditEvent/{}",
            records[0].event_id
        )
        .as_str()
    );
    assert_eq!(headers["content-type"], "application/fhir+json");
    assert_eq!(event["resourceType"], "AuditEvent");
    assert_eq!(event["id"], records[0].event_id.to_string());
    let (status, headers, _) = post(
        &app,
        "/audit/FHIR/R4/AuditEvent",
        &token,
        event_body(&records[0]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!headers.contains_key("location"));
    // The batch route answers the held one 200 and the new one 201.
    let (_, _, response) = post(&app, "/audit/FHIR/R4", &token, batch_body(&records)).await;
    assert_eq!(entry_statuses(&response), vec!["200 OK", "201 Created"]);
    let mut out = Vec::new();
    assert_eq!(
        app.state
            .audit_log
            .export_ndjson(&mut out)
            .await
            .expect("export"),
        2
    );
    for bad in [
        b"not json".to_vec(),
        b"{}".to_vec(),
        br#"{"resourceType":"Patient"}"#.to_vec(),
        batch_body(&records),
    ] {
        let (status, _, outcome) = post(&app, "/audit/FHIR/R4/AuditEvent", &token, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{outcome}");
        assert_eq!(outcome["resourceType"], "OperationOutcome");
    }
    let viewer = app
        .token_for(&claims("la-1", "Lou Authority-Test", "ZZ1ED", &["B1235"]))
        .await;
    let (status, _, _) = post(
        &app,
        "/audit/FHIR/R4/AuditEvent",
        &viewer,
        event_body(&records[1]),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, headers, body) = app.get("/audit/FHIR/R4/metadata", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/fhir+json");
    let statement: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(statement["resourceType"], "CapabilityStatement");
    assert_eq!(statement["kind"], "instance");
    assert_eq!(statement["fhirVersion"], "4.0.1");
    assert_eq!(statement["rest"][0]["mode"], "server");
    assert_eq!(statement["rest"][0]["interaction"][0]["code"], "batch");
    let resource = &statement["rest"][0]["resource"][0];
    assert_eq!(resource["type"], "AuditEvent");
    assert_eq!(
        resource["supportedProfile"][0],
        "https://fhir.nhs.uk/England/StructureDefinition/England-AuditEvent-PARS"
    );
    let codes: Vec<&str> = resource["interaction"]
        .as_array()
        .expect("interactions")
        .iter()
        .filter_map(|interaction| interaction["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["create", "search-type"]);
    assert_eq!(
        cpis_audit::sync::delivery_from_capability_statement(&body).expect("readable"),
        cpis_audit::sync::Delivery::Batch
    );
}

#[tokio::test]
async fn the_pars_interface_sqlite() {
    the_pars_interface(TestApp::sqlite().await).await;
}

#[tokio::test]
async fn the_pars_interface_postgres() {
    the_pars_interface(TestApp::postgres().await).await;
}

/// Too large is `413`; a database that fails is `503` and nothing is stored.
#[tokio::test]
async fn the_pars_interface_too_large_and_unavailable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("cpis.db").display());
    let limits = cpis_service::state::Limits {
        max_body_bytes: 4_096,
        ..cpis_service::state::Limits::default()
    };
    let app = TestApp::with_url(url, Some(dir), limits).await;
    let records = views("ZZ1ED", 1, app.now());
    let token = app.token_for(&clinician("nurse-1", "ZZ1ED")).await;
    let mut big = event_body(&records[0]);
    big.extend(std::iter::repeat_n(b' ', 8_192));
    let (status, _, outcome) = post(&app, "/audit/FHIR/R4/AuditEvent", &token, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{outcome}");
    // The audit tables gone: the store fails, and the sender is told to send again.
    sqlx::query("DROP TABLE audit_log_event_ids")
        .execute(app.store.pool())
        .await
        .expect("drop");
    let (status, _, outcome) = post(
        &app,
        "/audit/FHIR/R4/AuditEvent",
        &token,
        event_body(&records[0]),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{outcome}");
    let (status, _, _) = post(&app, "/audit/FHIR/R4", &token, batch_body(&records)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let mut out = Vec::new();
    assert_eq!(
        app.state
            .audit_log
            .export_ndjson(&mut out)
            .await
            .expect("export"),
        0
    );
}
