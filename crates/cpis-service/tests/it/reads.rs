//! Every read the service answers leaves a record (issue 17), on SQLite and PostgreSQL: a
//! demographics read (found or not), a CareTeam search (unscheduled or silent), an access
//! history search and a named nurse review page (one record per patient shown) each leave
//! exactly one PARS AuditEvent per patient in `audit_log_reads`, with the reader, role,
//! organisation, interaction and the client's request id; refused requests leave none; when the
//! record cannot be written the read answers 503 with no data; `cpis-service audit export`
//! writes them after the central log's events; no record holds a token.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use cpis_domain::{Gender, NhsNumber, PlanType};
use serde_json::Value;
use time::Duration;

use super::support::*;

/// A test app and the URL of its database (for the CLI).
struct Db {
    app: TestApp,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    async fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("cpis.db").display());
        let app =
            TestApp::with_url(url.clone(), None, cpis_service::state::Limits::default()).await;
        Db {
            app,
            url,
            _dir: Some(dir),
        }
    }

    async fn postgres() -> Db {
        let url = fresh_postgres_url().await;
        let app =
            TestApp::with_url(url.clone(), None, cpis_service::state::Limits::default()).await;
        Db {
            app,
            url,
            _dir: None,
        }
    }
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name(super::Db::sqlite().await).await;
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name(super::Db::postgres().await).await;
                }
            }
        )*
    };
}

on_both!(
    a_demographics_read_found_or_not_leaves_one_record,
    an_unscheduled_care_team_search_leaves_one_record_beside_the_access,
    a_silent_read_is_recorded_and_not_in_the_access_history,
    an_access_history_read_leaves_one_record,
    a_review_page_leaves_one_record_per_patient_shown,
    refused_requests_leave_no_record,
    an_unwritable_read_log_answers_503_with_no_data,
    concurrent_reads_are_each_recorded_once,
    the_export_holds_the_reads_after_the_events,
);

const REQUEST_ID: &str = "0b9f5a3e-4c1d-4e8a-9f27-6a5b4c3d2e10";

/// One stored read, as its columns and its event.
#[derive(Debug)]
struct Read {
    interaction: String,
    user_id: String,
    organisation_ods: String,
    nhs_number: String,
    trace_id: String,
    event: Value,
}

async fn all_reads(app: &TestApp) -> Vec<Read> {
    let rows = sqlx::query(
        "SELECT interaction, user_id, organisation_ods, nhs_number, trace_id, resource FROM audit_log_reads ORDER BY occurred_at_micros, event_id",
    )
    .fetch_all(app.store.pool())
    .await
    .expect("read the reads");
    rows.iter()
        .map(|row| {
            use sqlx::Row;
            let resource: String = row.try_get(5).expect("resource");
            Read {
                interaction: row.try_get(0).expect("interaction"),
                user_id: row.try_get(1).expect("user"),
                organisation_ods: row.try_get(2).expect("organisation"),
                nhs_number: row.try_get(3).expect("nhs number"),
                trace_id: row.try_get(4).expect("trace"),
                event: serde_json::from_str(&resource).expect("the event is JSON"),
            }
        })
        .collect()
}

/// The agent whose `who.type` is `who_type`.
fn agent<'a>(event: &'a Value, who_type: &str) -> &'a Value {
    event["agent"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|agent| agent["who"]["type"] == who_type)
        .unwrap_or_else(|| panic!("no {who_type} agent in {event}"))
}

/// The value of the entity identified in `system`.
fn entity_value<'a>(event: &'a Value, system: &str) -> &'a str {
    event["entity"]
        .as_array()
        .expect("entities")
        .iter()
        .find(|entity| entity["what"]["identifier"]["system"] == system)
        .and_then(|entity| entity["what"]["identifier"]["value"].as_str())
        .unwrap_or_else(|| panic!("no {system} entity in {event}"))
}

/// The read is by `user` (its id, name, role and organisation), of `nhs_number`, with
/// `interaction` and request id `trace`, in the PARS shape.
fn assert_read(read: &Read, user: &TestUser, nhs_number: &str, interaction: &str, trace: &str) {
    assert_eq!(read.interaction, interaction);
    assert_eq!(read.user_id, user.sub);
    assert_eq!(read.organisation_ods, user.org);
    assert_eq!(read.nhs_number, nhs_number);
    assert_eq!(read.trace_id, trace);
    let event = &read.event;
    let typed: cpis_fhir::wire::AuditEvent =
        serde_json::from_value(event.clone()).expect("an AuditEvent");
    assert_eq!(
        cpis_fhir::audit_event::check_pars(&typed),
        Ok(()),
        "{event}"
    );
    assert_eq!(event["resourceType"], "AuditEvent");
    assert_eq!(
        event["meta"]["profile"][0],
        "https://fhir.nhs.uk/England/StructureDefinition/England-AuditEvent-PARS"
    );
    assert_eq!(event["action"], "R");
    assert!(event["recorded"].is_string(), "{event}");
    let organisation = agent(event, "Organization");
    assert_eq!(
        organisation["who"]["identifier"]["value"],
        user.org.as_str()
    );
    assert_eq!(
        organisation["who"]["display"],
        format!("{} Hospital (synthetic)", user.org)
    );
    let practitioner = agent(event, "Practitioner");
    assert_eq!(
        practitioner["who"]["identifier"]["value"],
        user.sub.as_str()
    );
    assert_eq!(practitioner["who"]["display"], user.user_name.as_str());
    let role = agent(event, "PractitionerRole");
    assert_eq!(role["who"]["identifier"]["value"], user.role_id().as_str());
    let role_text = role.to_string();
    assert!(role_text.contains("R8000"), "{role_text}");
    assert!(role_text.contains("Nurse Access Role"), "{role_text}");
    assert_eq!(
        entity_value(event, "https://fhir.nhs.uk/Id/nhs-number"),
        nhs_number
    );
    assert_eq!(
        entity_value(event, "https://fhir.nhs.uk/Id/transaction"),
        trace
    );
    let observer = event["source"]["observer"].to_string();
    assert!(observer.contains("cpis-reference-service"), "{observer}");
}

fn nurse() -> TestUser {
    claims("nurse-1", "Tess Triage-Test", "ZZ1ED", &["B0107"])
}

fn scheduled() -> TestUser {
    claims("hv-1", "Sam Scheduled-Test", "ZZ3GP", &["B0170"])
}

fn safeguarding_lead() -> TestUser {
    claims("lead-1", "Nia Safeguard-Test", "ZZ1ED", &["B1234"])
}

/// A child with a plan today.
async fn child_with_plan(app: &TestApp, nhs_number: &NhsNumber) {
    let today = app.today();
    app.person(nhs_number, years_ago(today, 4), Gender::Female)
        .await;
    app.add_plan(
        nhs_number,
        &plan(
            PlanType::ChildProtectionPlan,
            today - Duration::days(30),
            None,
            "ZL001",
        ),
    )
    .await;
}

fn patient_uri(nhs_number: &str) -> String {
    format!("/personal-demographics/FHIR/R4/Patient/{nhs_number}")
}

fn history_uri(nhs_number: &str) -> String {
    format!(
        "/cpis/FHIR/R4/AuditEvent?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C{nhs_number}"
    )
}

async fn a_demographics_read_found_or_not_leaves_one_record(db: Db) {
    let app = &db.app;
    let [known, unknown] = <[_; 2]>::try_from(numbers(2)).expect("2");
    child_with_plan(app, &known).await;
    let user = nurse();
    let token = app.token_for(&user).await;

    let (status, _, _) = app
        .get(
            &patient_uri(known.as_str()),
            Some(&token),
            &[("X-Request-ID", REQUEST_ID)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let reads = all_reads(app).await;
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_read(&reads[0], &user, known.as_str(), "pds_read", REQUEST_ID);
    assert_eq!(reads[0].event["outcome"], "0");
    assert!(reads[0].event.to_string().contains("\"read\""));

    app.advance(Duration::seconds(1));
    let other_id = uuid::Uuid::new_v4().to_string();
    let (status, _, _) = app
        .get(
            &patient_uri(unknown.as_str()),
            Some(&token),
            &[("X-Request-ID", &other_id)],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let reads = all_reads(app).await;
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert_read(&reads[1], &user, unknown.as_str(), "pds_read", &other_id);
    assert_eq!(
        reads[1].event["outcome"], "4",
        "not found is a minor failure"
    );
}

async fn an_unscheduled_care_team_search_leaves_one_record_beside_the_access(db: Db) {
    let app = &db.app;
    let child = numbers(1).remove(0);
    child_with_plan(app, &child).await;
    let user = nurse();
    let token = app.token_for(&user).await;
    let (status, _, _) = app
        .get(
            &care_team_uri(child.as_str()),
            Some(&token),
            &[("TraceID", REQUEST_ID)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let reads = all_reads(app).await;
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_read(
        &reads[0],
        &user,
        child.as_str(),
        "care_team_search",
        REQUEST_ID,
    );
    assert_eq!(reads[0].event["outcome"], "0");
    // The access history and its notification are kept as before.
    app.advance(Duration::seconds(1));
    let history = app.history(&child, &token).await;
    assert_eq!(history.len(), 1);
    // That history read is a read too.
    let reads = all_reads(app).await;
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[1].interaction, "access_history_search");
}

async fn a_silent_read_is_recorded_and_not_in_the_access_history(db: Db) {
    let app = &db.app;
    let child = numbers(1).remove(0);
    child_with_plan(app, &child).await;
    let user = scheduled();
    let token = app.token_for(&user).await;
    let (status, _, _) = app
        .get(
            &care_team_uri(child.as_str()),
            Some(&token),
            &[("TraceID", REQUEST_ID)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A B0107 nurse asking silently (header false) is silent too.
    app.advance(Duration::seconds(1));
    let nurse_user = nurse();
    let nurse_token = app.token_for(&nurse_user).await;
    let nurse_trace = uuid::Uuid::new_v4().to_string();
    let (status, _, _) = app
        .get(
            &care_team_uri(child.as_str()),
            Some(&nurse_token),
            &[
                ("TraceID", nurse_trace.as_str()),
                ("IsUnscheduledAccessEvent", "false"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let reads = all_reads(app).await;
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert_read(
        &reads[0],
        &user,
        child.as_str(),
        "care_team_search_silent",
        REQUEST_ID,
    );
    assert_read(
        &reads[1],
        &nurse_user,
        child.as_str(),
        "care_team_search_silent",
        &nurse_trace,
    );
    assert!(
        app.history(&child, &token).await.is_empty(),
        "a silent read is not in the access history"
    );
}

async fn an_access_history_read_leaves_one_record(db: Db) {
    let app = &db.app;
    let child = numbers(1).remove(0);
    child_with_plan(app, &child).await;
    let user = scheduled();
    let token = app.token_for(&user).await;
    let (status, _, _) = app
        .get(
            &history_uri(child.as_str()),
            Some(&token),
            &[("TraceID", REQUEST_ID)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let reads = all_reads(app).await;
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_read(
        &reads[0],
        &user,
        child.as_str(),
        "access_history_search",
        REQUEST_ID,
    );
}

/// Views in the central log at `organisation`, sent from it, one a minute back from a minute
/// ago, of `patients` in turn; written as the log stores them (the columns and an event naming
/// the patient).
async fn central_views(app: &TestApp, organisation: &str, patients: &[&NhsNumber], count: usize) {
    let newest = app.now() - Duration::minutes(1);
    let device = uuid::Uuid::new_v4().to_string();
    for index in 0..count {
        let event_id = uuid::Uuid::new_v4().to_string();
        let at = newest - Duration::minutes(index as i64);
        let micros = (at.unix_timestamp_nanos() / 1_000) as i64;
        let patient = patients[index % patients.len()].as_str();
        let resource = serde_json::json!({
            "resourceType": "AuditEvent",
            "id": event_id,
            "recorded": at.format(&time::format_description::well_known::Rfc3339).expect("time"),
            "entity": [{
                "what": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": patient}},
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1"}
            }]
        })
        .to_string();
        sqlx::query(
            "INSERT INTO audit_log_event_ids (event_id, occurred_at_micros) VALUES ($1, $2)",
        )
        .bind(&event_id)
        .bind(micros)
        .execute(app.store.pool())
        .await
        .expect("event id");
        sqlx::query(
            "INSERT INTO audit_log_events (event_id, device_id, sequence, occurred_at, occurred_at_micros, received_at, organisation_ods, action, outcome, previous_hash, record_hash, sender_user_id, sender_role_profile_id, sender_organisation_ods, resource)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'view', 'plan_found', '', '', 'nurse-1', 'role-nurse-1', $7, $8)",
        )
        .bind(&event_id)
        .bind(&device)
        .bind(index as i64 + 1)
        .bind(at.format(&time::format_description::well_known::Rfc3339).expect("time"))
        .bind(micros)
        .bind(at.format(&time::format_description::well_known::Rfc3339).expect("time"))
        .bind(organisation)
        .bind(resource)
        .execute(app.store.pool())
        .await
        .expect("event");
    }
}

async fn a_review_page_leaves_one_record_per_patient_shown(db: Db) {
    let app = &db.app;
    let patients = numbers(4);
    let [a, b, c, other] = <[_; 4]>::try_from(patients).expect("4");
    // Seven views of three patients at ZZ1ED; another organisation's view of a fourth.
    central_views(app, "ZZ1ED", &[&a, &b, &c], 7).await;
    central_views(app, "ZZ2ED", &[&other], 1).await;
    let lead = safeguarding_lead();
    let token = app.token_for(&lead).await;
    let (status, _, body) = app
        .get(
            "/audit/FHIR/R4/AuditEvent",
            Some(&token),
            &[("X-Request-ID", REQUEST_ID)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let bundle: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(bundle["entry"].as_array().map(Vec::len), Some(7));
    let reads = all_reads(app).await;
    assert_eq!(reads.len(), 3, "one per patient shown: {reads:?}");
    let shown: BTreeSet<&str> = reads.iter().map(|read| read.nhs_number.as_str()).collect();
    assert_eq!(shown, BTreeSet::from([a.as_str(), b.as_str(), c.as_str()]));
    for read in &reads {
        assert_read(read, &lead, &read.nhs_number, "review_search", REQUEST_ID);
    }
    let event_ids: BTreeSet<String> = reads
        .iter()
        .map(|read| read.event["id"].to_string())
        .collect();
    assert_eq!(event_ids.len(), 3, "an event each");

    // A page of two shows at most two patients; without a request id one is made, shared by
    // the page's records.
    app.advance(Duration::seconds(1));
    let (status, _, _) = app
        .get("/audit/FHIR/R4/AuditEvent?_count=2", Some(&token), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    let reads = all_reads(app).await;
    let page: Vec<&Read> = reads[3..].iter().collect();
    assert_eq!(page.len(), 2, "{page:?}");
    assert_eq!(page[0].trace_id, page[1].trace_id);
    assert_ne!(page[0].trace_id, REQUEST_ID);
    assert!(uuid::Uuid::parse_str(&page[0].trace_id).is_ok());
    assert_ne!(page[0].nhs_number, page[1].nhs_number);

    // A page with no events shows no patient and records nothing.
    let (status, _, _) = app
        .get(
            "/audit/FHIR/R4/AuditEvent?since=2001-01-01T00:00:00Z&until=2001-01-02T00:00:00Z",
            Some(&token),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all_reads(app).await.len(), 5);
}

async fn refused_requests_leave_no_record(db: Db) {
    let app = &db.app;
    let child = numbers(1).remove(0);
    child_with_plan(app, &child).await;
    let nurse = app.token_for(&nurse()).await;
    let la = app.la_user("ZL001").await;
    let trace = [("TraceID", REQUEST_ID)];
    type Case<'a> = (String, Option<&'a str>, Vec<(&'a str, &'a str)>, StatusCode);
    let cases: Vec<Case> = vec![
        // No token, a wrong role, a bad number, a missing or bad header.
        (
            care_team_uri(child.as_str()),
            None,
            trace.to_vec(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            patient_uri(child.as_str()),
            None,
            vec![],
            StatusCode::UNAUTHORIZED,
        ),
        (
            care_team_uri(child.as_str()),
            Some(&la),
            trace.to_vec(),
            StatusCode::FORBIDDEN,
        ),
        (
            history_uri(child.as_str()),
            Some(&la),
            trace.to_vec(),
            StatusCode::FORBIDDEN,
        ),
        (
            "/audit/FHIR/R4/AuditEvent".into(),
            Some(&nurse),
            vec![],
            StatusCode::FORBIDDEN,
        ),
        (
            care_team_uri("9990000019"),
            Some(&nurse),
            trace.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            patient_uri("9990000019"),
            Some(&nurse),
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            patient_uri("12345"),
            Some(&nurse),
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            care_team_uri(child.as_str()),
            Some(&nurse),
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            patient_uri(child.as_str()),
            Some(&nurse),
            vec![("X-Request-ID", "not-a-uuid")],
            StatusCode::BAD_REQUEST,
        ),
        (
            "/audit/FHIR/R4/AuditEvent?since=yesterday".into(),
            Some(&nurse),
            vec![],
            StatusCode::FORBIDDEN,
        ),
    ];
    for (uri, token, headers, expected) in cases {
        let (status, _, body) = app.get(&uri, token, &headers).await;
        assert_eq!(
            status,
            expected,
            "{uri}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let lead = app.token_for(&safeguarding_lead()).await;
    let (status, _, _) = app
        .get(
            "/audit/FHIR/R4/AuditEvent?since=yesterday",
            Some(&lead),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(all_reads(app).await.is_empty());
}

async fn an_unwritable_read_log_answers_503_with_no_data(db: Db) {
    let app = &db.app;
    let child = numbers(1).remove(0);
    child_with_plan(app, &child).await;
    central_views(app, "ZZ1ED", &[&child], 2).await;
    let token = app.token_for(&nurse()).await;
    let lead = app.token_for(&safeguarding_lead()).await;
    sqlx::query("DROP TABLE audit_log_reads")
        .execute(app.store.pool())
        .await
        .expect("drop the reads table");
    type Request<'a> = (String, &'a str, Vec<(&'a str, &'a str)>);
    let requests: Vec<Request> = vec![
        (patient_uri(child.as_str()), &token, vec![]),
        (
            care_team_uri(child.as_str()),
            &token,
            vec![("TraceID", REQUEST_ID)],
        ),
        (
            history_uri(child.as_str()),
            &token,
            vec![("TraceID", REQUEST_ID)],
        ),
        ("/audit/FHIR/R4/AuditEvent".into(), &lead, vec![]),
    ];
    for (uri, token, headers) in requests {
        let (status, headers, body) = app.get(&uri, Some(token), &headers).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(headers["content-type"], "application/fhir+json");
        let text = String::from_utf8_lossy(&body);
        let outcome: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{text}");
        assert!(!text.contains(child.as_str()), "no patient data: {text}");
        assert!(!text.contains("Quenthorne"), "no patient data: {text}");
        assert!(!text.contains("ZL001"), "no plan: {text}");
    }
    // The unscheduled search that could not be recorded notified no one.
    let (accesses,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accesses")
        .fetch_one(app.store.pool())
        .await
        .expect("count");
    assert_eq!(accesses, 0, "no access recorded for an answer not given");
}

async fn concurrent_reads_are_each_recorded_once(db: Db) {
    let app = &db.app;
    let child = numbers(1).remove(0);
    child_with_plan(app, &child).await;
    let token = app.token_for(&scheduled()).await;
    let traces: Vec<String> = (0..40).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let router = app.router();
    let uri = care_team_uri(child.as_str());
    let mut tasks = Vec::new();
    for trace in &traces {
        let request = axum::http::Request::builder()
            .uri(&uri)
            .header("Authorization", format!("Bearer {token}"))
            .header("TraceID", trace)
            .body(axum::body::Body::empty())
            .expect("request");
        let router = router.clone();
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt;
            router.oneshot(request).await.expect("infallible").status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task"), StatusCode::OK);
    }
    let reads = all_reads(app).await;
    let recorded: BTreeSet<String> = reads.iter().map(|read| read.trace_id.clone()).collect();
    assert_eq!(reads.len(), traces.len());
    assert_eq!(recorded, traces.iter().cloned().collect());
}

async fn the_export_holds_the_reads_after_the_events(db: Db) {
    let app = &db.app;
    let child = numbers(1).remove(0);
    child_with_plan(app, &child).await;
    central_views(app, "ZZ1ED", &[&child], 2).await;
    let token = app.token_for(&nurse()).await;
    let lead = app.token_for(&safeguarding_lead()).await;
    app.care_team(&child, &token, &[]).await;
    app.advance(Duration::seconds(1));
    app.get(&patient_uri(child.as_str()), Some(&token), &[])
        .await;
    app.advance(Duration::seconds(1));
    app.history(&child, &token).await;
    app.advance(Duration::seconds(1));
    app.get("/audit/FHIR/R4/AuditEvent", Some(&lead), &[]).await;
    let reads = all_reads(app).await;
    assert_eq!(reads.len(), 4);

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_cpis-service"))
        .args(["audit", "export", "--database", &db.url])
        .output()
        .await
        .expect("run the export");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one event a line"))
        .collect();
    assert_eq!(
        lines.len(),
        2 + 4,
        "the central log's events, then the reads"
    );
    let exported: Vec<&Value> = lines[2..].iter().map(|line| &line["id"]).collect();
    let stored: Vec<&Value> = reads.iter().map(|read| &read.event["id"]).collect();
    assert_eq!(
        exported, stored,
        "the reads, oldest first, after the events"
    );
    assert!(lines[..2].iter().all(|line| line["agent"].is_null()));

    // No record holds a token (nor any bearer value).
    for token in [&token, &lead] {
        for line in &lines {
            let text = line.to_string();
            assert!(!text.contains(token.as_str()), "a token in {text}");
            assert!(!text.to_ascii_lowercase().contains("bearer"), "{text}");
        }
    }

    // A privacy officer's question: who read this patient.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_cpis-service"))
        .args([
            "audit",
            "reads",
            "--database",
            &db.url,
            "--nhs-number",
            child.as_str(),
        ])
        .output()
        .await
        .expect("run audit reads");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 4, "a heading and a line a read: {text}");
    for (line, interaction) in lines[1..].iter().zip([
        "care_team_search",
        "pds_read",
        "access_history_search",
        "review_search",
    ]) {
        assert!(line.contains(interaction), "{line}");
    }
    for expected in ["Tess Triage-Test", "Nurse Access Role", "ZZ1ED", "nurse-1"] {
        assert!(lines[1].contains(expected), "{expected} in {}", lines[1]);
    }
    assert!(lines[4].contains("Nia Safeguard-Test"));
}
