//! The central audit log's review search over HTTP, on SQLite and PostgreSQL: more events than
//! one page holds are served in pages whose `total` counts them all and whose `next` links lead
//! through every one; and the review's real client (`cpis_client::AuditLogClient`) reads them
//! all, with the plans recorded with each view, over a real socket.

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

async fn ingest(app: &TestApp, records: &[QueuedRecord]) {
    for batch in records.chunks(2_000) {
        let body = serde_json::to_vec(&cpis_audit::wire::to_batch_bundle(batch)).expect("json");
        app.state.audit_log.ingest(&body).await.expect("ingest");
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
