//! The audit promise, end to end: the real local queue, the real sync client over HTTP, and
//! the real central log on SQLite and PostgreSQL. Nothing lost through kills, outages and
//! lost acknowledgements; nothing doubled; tampering and gaps found; poison quarantined.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use cpis_audit::QueuedRecord;
use cpis_audit::sync::{HttpAuditTransport, SyncError, sync_until_empty};
use cpis_audit::{AuditAction, AuditQueue, NewAuditEntry};
use cpis_audit_log::{AuditLog, Dialect, SearchCursor, SearchPage, SearchQuery, Sender};
use cpis_domain::{Actor, NhsNumber, RoleRef};
use sqlx::any::AnyPoolOptions;
use time::OffsetDateTime;
use uuid::Uuid;

#[path = "support/postgres.rs"]
mod postgres_support;

fn entry() -> NewAuditEntry {
    NewAuditEntry {
        occurred_at: OffsetDateTime::now_utc(),
        action: AuditAction::View,
        actor: Actor {
            user_id: "test-user-ed-nurse".into(),
            user_name: "Robin Testnurse".into(),
            role: RoleRef {
                role_profile_id: "999000000101".into(),
                role_code: "R8001".into(),
                role_name: "Nurse".into(),
                organisation_ods: "Z9T01".into(),
                organisation_name: "Testshire General Hospital".into(),
            },
        },
        patient_nhs_number: NhsNumber::parse("9990000018").expect("valid"),
        outcome: "plan_found".into(),
        trace_id: Uuid::new_v4(),
        unscheduled: true,
        detail: String::new(),
        plans: None,
    }
}

async fn sqlite_log(dir: &std::path::Path) -> AuditLog {
    sqlx::any::install_default_drivers();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.join("central.sqlite3").display()
    );
    let pool = AnyPoolOptions::new()
        .max_connections(4)
        .after_connect(|connection, _| {
            Box::pin(async move {
                use sqlx::Executor;
                for pragma in [
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = FULL",
                    "PRAGMA busy_timeout = 10000",
                ] {
                    connection.execute(pragma).await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .expect("sqlite pool");
    AuditLog::new(pool, Dialect::Sqlite)
        .await
        .expect("audit log")
}

/// A fresh database on the test PostgreSQL server, so tests do not see each other's events.
async fn postgres_log() -> AuditLog {
    let url = postgres_support::fresh_database("audit_log").await;
    AuditLog::new(postgres_support::pool(&url).await, Dialect::Postgres)
        .await
        .expect("audit log")
}

/// The central log served over a real socket. `drop_acks` makes the server commit a batch and
/// then never answer (the client times out): a lost acknowledgement.
struct Server {
    address: SocketAddr,
    drop_acks: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

/// The sender this test server takes every request to come from (it checks no token): a user
/// of the organisation the test records name.
fn sender_of(organisation: &str) -> Sender {
    Sender {
        user_id: "test-user-ed-nurse".into(),
        role_profile_id: "999000000101".into(),
        organisation_ods: organisation.into(),
    }
}

async fn ingest(
    State((log, drop_acks)): State<(AuditLog, Arc<AtomicBool>)>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), StatusCode> {
    // The organisation the client's token would carry (this server checks no token).
    let organisation = headers
        .get("x-test-organisation")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("Z9T01");
    let response =
        log.ingest(&sender_of(organisation), &body)
            .await
            .map_err(|error| match error {
                cpis_audit_log::AuditLogError::BadBundle(_)
                | cpis_audit_log::AuditLogError::TooLarge => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            })?;
    if drop_acks.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/fhir+json")],
        serde_json::to_string(&response).expect("json"),
    ))
}

async fn metadata() -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(axum::http::header::CONTENT_TYPE, "application/fhir+json")],
        serde_json::to_string(&cpis_audit_log::capability::capability_statement(
            "http://test.invalid/audit/FHIR/R4",
        ))
        .expect("json"),
    )
}

async fn serve(log: AuditLog, address: Option<SocketAddr>) -> Server {
    let drop_acks = Arc::new(AtomicBool::new(false));
    let app = Router::new()
        .route("/audit/FHIR/R4", post(ingest))
        .route("/audit/FHIR/R4/metadata", axum::routing::get(metadata))
        .with_state((log, Arc::clone(&drop_acks)));
    let listener = tokio::net::TcpListener::bind(address.unwrap_or(([127, 0, 0, 1], 0).into()))
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        address,
        drop_acks,
        task,
    }
}

fn transport(address: SocketAddr) -> HttpAuditTransport {
    HttpAuditTransport::new(
        format!("http://{address}/audit/FHIR/R4")
            .parse()
            .expect("url"),
        Arc::new(|| Some("test-token-not-checked-by-this-test-server".to_string())),
        Duration::from_millis(1500),
    )
    .expect("transport")
}

fn new_queue() -> (tempfile::TempDir, Arc<AuditQueue>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = Arc::new(AuditQueue::open(dir.path()).expect("queue"));
    (dir, queue)
}

async fn count_events(log: &AuditLog) -> (u64, BTreeSet<String>) {
    let mut out = Vec::new();
    let count = log.export_ndjson(&mut out).await.expect("export");
    let ids = String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).expect("json")["id"]
                .as_str()
                .expect("id")
                .to_string()
        })
        .collect();
    (count, ids)
}

async fn lost_acknowledgement_still_gives_one_copy(log: AuditLog) {
    let server = serve(log.clone(), None).await;
    let (_dir, queue) = new_queue();
    for _ in 0..10 {
        queue.append(&entry()).expect("append");
    }
    server.drop_acks.store(true, Ordering::SeqCst);
    let error = sync_until_empty(&queue, &transport(server.address), 100)
        .await
        .expect_err("no acknowledgement");
    assert!(matches!(error, SyncError::Transport(_)), "{error:?}");
    assert_eq!(
        queue.status().expect("status").waiting,
        10,
        "nothing marked sent"
    );
    assert_eq!(
        count_events(&log).await.0,
        10,
        "the server committed the batch"
    );
    server.drop_acks.store(false, Ordering::SeqCst);
    let report = sync_until_empty(&queue, &transport(server.address), 100)
        .await
        .expect("resend");
    assert_eq!(report.sent, 10);
    assert_eq!(
        count_events(&log).await.0,
        10,
        "the resend stored nothing twice"
    );
    assert!(log.findings().await.expect("findings").is_empty());
    let reports = log.verify().await.expect("verify");
    assert_eq!(reports.len(), 1);
    assert!(reports[0].is_clean(), "{:?}", reports[0]);
    server.task.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_acknowledgement_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    lost_acknowledgement_still_gives_one_copy(sqlite_log(dir.path()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_acknowledgement_postgres() {
    lost_acknowledgement_still_gives_one_copy(postgres_log().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_outage_piles_up_then_drains() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = sqlite_log(dir.path()).await;
    let server = serve(log.clone(), None).await;
    let address = server.address;
    server.task.abort();
    let _ = server.task.await;
    let (_queue_dir, queue) = new_queue();
    for round in 0..5 {
        for _ in 0..200 {
            queue.append(&entry()).expect("append");
        }
        let error = sync_until_empty(&queue, &transport(address), 500)
            .await
            .expect_err("server down");
        assert!(matches!(error, SyncError::Transport(_)));
        assert_eq!(queue.status().expect("status").waiting, (round + 1) * 200);
    }
    let server = serve(log.clone(), Some(address)).await;
    let report = sync_until_empty(&queue, &transport(server.address), 500)
        .await
        .expect("drain");
    assert_eq!(report.sent, 1000);
    assert_eq!(queue.status().expect("status").waiting, 0);
    assert_eq!(count_events(&log).await.0, 1000);
    assert!(log.verify().await.expect("verify")[0].is_clean());
    server.task.abort();
}

async fn tampering_is_detected(log: AuditLog) {
    let server = serve(log.clone(), None).await;
    let (_dir, queue) = new_queue();
    for _ in 0..6 {
        queue.append(&entry()).expect("append");
    }
    let raw = rusqlite_connection(queue.path());
    raw.execute("DELETE FROM records WHERE sequence = 2", [])
        .expect("delete");
    raw.execute(
        "UPDATE records SET outcome = 'no_plan' WHERE sequence = 4",
        [],
    )
    .expect("edit");
    sync_until_empty(&queue, &transport(server.address), 100)
        .await
        .expect("sync");
    let kinds: Vec<(i64, String)> = log
        .findings()
        .await
        .expect("findings")
        .into_iter()
        .map(|finding| (finding.sequence, finding.kind))
        .collect();
    assert!(kinds.contains(&(3, "gap".to_string())), "{kinds:?}");
    assert!(
        kinds.contains(&(4, "hash_mismatch".to_string())),
        "{kinds:?}"
    );
    let report = &log.verify().await.expect("verify")[0];
    assert_eq!(report.gaps, vec![(2, 1)]);
    assert!(report.breaks.contains(&4), "{report:?}");
    server.task.abort();
}

/// Open the queue file with SQLite directly, to tamper with it as an attacker would.
fn rusqlite_connection(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("open raw")
}

#[tokio::test(flavor = "multi_thread")]
async fn tampering_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    tampering_is_detected(sqlite_log(dir.path()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tampering_postgres() {
    tampering_is_detected(postgres_log().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poison_record_is_quarantined_and_the_rest_arrive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = sqlite_log(dir.path()).await;
    let server = serve(log.clone(), None).await;
    let (_queue_dir, queue) = new_queue();
    for _ in 0..5 {
        queue.append(&entry()).expect("append");
    }
    // A row the central log cannot accept: an NHS number that fails its check digit.
    rusqlite_connection(queue.path())
        .execute(
            "UPDATE records SET patient_nhs_number = '9990000019' WHERE sequence = 3",
            [],
        )
        .expect("poison");
    let report = sync_until_empty(&queue, &transport(server.address), 100)
        .await
        .expect("sync");
    assert_eq!((report.sent, report.quarantined), (4, 1));
    let status = queue.status().expect("status");
    assert_eq!((status.waiting, status.quarantined), (0, 1));
    assert_eq!(count_events(&log).await.0, 4);
    // The missing record shows as a gap at the central log: never silently accepted.
    assert_eq!(log.verify().await.expect("verify")[0].gaps, vec![(3, 1)]);
    server.task.abort();
}

fn search_query(
    organisation_ods: &str,
    since: OffsetDateTime,
    until: OffsetDateTime,
    after: Option<SearchCursor>,
) -> SearchQuery<'_> {
    SearchQuery {
        organisation_ods,
        since,
        until,
        count: cpis_audit_log::MAX_SEARCH_PAGE,
        after,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_review_search_returns_views_at_one_organisation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = sqlite_log(dir.path()).await;
    let server = serve(log.clone(), None).await;
    let (_queue_dir, queue) = new_queue();
    queue.append(&entry()).expect("append");
    let mut elsewhere = entry();
    elsewhere.actor.role.organisation_ods = "Z9T02".into();
    queue.append(&elsewhere).expect("append");
    sync_until_empty(&queue, &transport(server.address), 100)
        .await
        .expect("sync");
    let now = OffsetDateTime::now_utc();
    let page = log
        .search(&search_query(
            "Z9T01",
            now - time::Duration::days(1),
            now,
            None,
        ))
        .await
        .expect("search");
    assert_eq!((page.total, page.resources.len(), page.next), (1, 1, None));
    let event: serde_json::Value = serde_json::from_str(page.resources[0].get()).expect("event");
    assert_eq!(event["agent"][0]["who"]["identifier"]["value"], "Z9T01");
    // The event served is the stored one, byte for byte.
    let mut exported = Vec::new();
    log.export_ndjson(&mut exported).await.expect("export");
    let stored = String::from_utf8(exported).expect("utf-8");
    let stored = stored
        .lines()
        .find(|line| line.contains("\"Z9T01\""))
        .expect("stored event");
    assert_eq!(page.resources[0].get(), stored);
    let old = log
        .search(&search_query(
            "Z9T01",
            now - time::Duration::days(30),
            now - time::Duration::days(2),
            None,
        ))
        .await
        .expect("search");
    assert_eq!((old.total, old.resources.len()), (0, 0));
    server.task.abort();
}

/// `count` records of one new device at `organisation`, chained, recorded from `newest` back,
/// three at each second (ties, which the paging must still order).
fn chained_records(organisation: &str, count: usize, newest: OffsetDateTime) -> Vec<QueuedRecord> {
    let device_id = Uuid::new_v4();
    let mut previous_hash = cpis_audit::GENESIS_HASH.to_string();
    (0..count)
        .map(|index| {
            let mut template = entry();
            template.actor.role.organisation_ods = organisation.into();
            let mut record = QueuedRecord {
                event_id: Uuid::new_v4(),
                device_id,
                sequence: index as u64 + 1,
                occurred_at: newest - time::Duration::seconds((count - index) as i64 / 3),
                action: AuditAction::View,
                actor: template.actor,
                patient_nhs_number: "9990000018".into(),
                outcome: "plan_found".into(),
                trace_id: Uuid::new_v4(),
                unscheduled: true,
                detail: String::new(),
                plans: None,
                previous_hash: previous_hash.clone(),
                record_hash: String::new(),
            };
            record.record_hash = record.recompute_hash();
            previous_hash = record.record_hash.clone();
            record
        })
        .collect()
}

async fn ingest_all(log: &AuditLog, records: &[QueuedRecord]) {
    for batch in records.chunks(2_000) {
        let body = serde_json::to_vec(&cpis_audit::wire::to_batch_bundle(batch)).expect("json");
        let organisation = &batch[0].actor.role.organisation_ods;
        log.ingest(&sender_of(organisation), &body)
            .await
            .expect("ingest");
    }
}

fn event_ids(page: &SearchPage) -> Vec<(String, String)> {
    page.resources
        .iter()
        .map(|resource| {
            let event: serde_json::Value = serde_json::from_str(resource.get()).expect("event");
            (
                event["recorded"].as_str().expect("recorded").to_owned(),
                event["id"].as_str().expect("id").to_owned(),
            )
        })
        .collect()
}

/// Issue 16: the review was cut at 2,000 events and looked complete. The log serves every
/// event in pages of 2,000, `total` counting them all, each page after the last one's cursor;
/// an event arriving between pages never repeats or shifts one, and shows in `total`.
async fn the_review_search_pages_through_every_event(log: AuditLog) {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("whole second");
    let since = now - time::Duration::days(7);
    let ours = chained_records("Z9T01", 4_500, now - time::Duration::minutes(5));
    ingest_all(&log, &ours).await;
    ingest_all(&log, &chained_records("Z9T02", 50, now)).await;

    let first = log
        .search(&search_query("Z9T01", since, now, None))
        .await
        .expect("page 1");
    assert_eq!((first.total, first.resources.len()), (4_500, 2_000));
    let cursor = first.next.clone().expect("a next page");
    assert_eq!(SearchCursor::parse(&cursor.to_text()), Some(cursor.clone()));
    let mut seen = event_ids(&first);

    // Two events arrive late: one among the newest (already read), one among the oldest.
    let mut late = chained_records("Z9T01", 2, now - time::Duration::minutes(2));
    late[1].occurred_at = since + time::Duration::hours(1);
    late[1].record_hash = late[1].recompute_hash();
    ingest_all(&log, &late).await;

    let mut after = Some(cursor);
    let mut totals = Vec::new();
    let mut pages = 1;
    while let Some(cursor) = after {
        let page = log
            .search(&search_query("Z9T01", since, now, Some(cursor)))
            .await
            .expect("page");
        assert!(page.resources.len() <= 2_000);
        totals.push(page.total);
        seen.extend(event_ids(&page));
        after = page.next;
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(totals, vec![4_502, 4_502]);
    // Newest first, each event once: every one of ours, and the late one not yet passed.
    let times: Vec<&String> = seen.iter().map(|(recorded, _)| recorded).collect();
    assert!(
        times.windows(2).all(|pair| pair[0] >= pair[1]),
        "newest first"
    );
    let ids: BTreeSet<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), seen.len(), "no event twice");
    assert_eq!(
        seen.len(),
        4_501,
        "one fewer than the last total: the reader says so"
    );
    for record in &ours {
        assert!(
            ids.contains(&record.event_id.to_string()),
            "every event of ours"
        );
    }
    assert!(ids.contains(&late[1].event_id.to_string()));
    assert!(!ids.contains(&late[0].event_id.to_string()));
    // A cursor that is not ours is refused.
    for bad in [
        "",
        "1.2",
        "12.not-a-uuid",
        "+12.8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11",
    ] {
        assert_eq!(SearchCursor::parse(bad), None, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_review_search_pages_through_every_event_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    the_review_search_pages_through_every_event(sqlite_log(dir.path()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_review_search_pages_through_every_event_postgres() {
    the_review_search_pages_through_every_event(postgres_log().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_bundles_are_refused_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = sqlite_log(dir.path()).await;
    for body in [
        &b"not json"[..],
        br#"{"resourceType":"Bundle","type":"transaction"}"#,
    ] {
        assert!(matches!(
            log.ingest(&sender_of("Z9T01"), body).await,
            Err(cpis_audit_log::AuditLogError::BadBundle(_))
        ));
    }
    assert_eq!(count_events(&log).await.0, 0);
}

/// Child mode for the kill test: append and sync until killed, printing each acknowledged
/// append's event id.
async fn append_and_sync_until_killed(dir: &str, address: &str) -> ! {
    let queue = Arc::new(AuditQueue::open(std::path::Path::new(dir)).expect("child queue"));
    let transport = transport(address.parse().expect("address"));
    let mut appended = 0u64;
    loop {
        let record = queue.append(&entry()).expect("child append");
        println!("ack {}", record.event_id);
        appended += 1;
        if appended.is_multiple_of(3) {
            let _ = sync_until_empty(&queue, &transport, 7).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_minus_nine_during_appends_and_sync_loses_and_doubles_nothing() {
    if let (Ok(dir), Ok(address)) = (
        std::env::var("CPIS_AUDIT_KILL_DIR"),
        std::env::var("CPIS_AUDIT_KILL_SERVER"),
    ) {
        append_and_sync_until_killed(&dir, &address).await;
    }
    use tokio::io::AsyncBufReadExt;
    let db_dir = tempfile::tempdir().expect("tempdir");
    let log = sqlite_log(db_dir.path()).await;
    let server = serve(log.clone(), None).await;
    let queue_dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("exe");
    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    let rounds = 200;
    for round in 0..rounds {
        let mut child = tokio::process::Command::new(&exe)
            .args([
                "--exact",
                "kill_minus_nine_during_appends_and_sync_loses_and_doubles_nothing",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CPIS_AUDIT_KILL_DIR", queue_dir.path())
            .env("CPIS_AUDIT_KILL_SERVER", server.address.to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let kill_after = 1 + (round * 13) % 17;
        let mut seen = 0;
        while seen < kill_after {
            match tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await {
                Ok(Ok(Some(line))) => {
                    if let Some(id) = line.strip_prefix("ack ") {
                        acknowledged.insert(id.to_string());
                        seen += 1;
                    }
                }
                _ => break,
            }
        }
        child.start_kill().expect("kill -9");
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await
        {
            if let Some(id) = line.strip_prefix("ack ") {
                acknowledged.insert(id.to_string());
            }
        }
        let _ = child.wait().await;
    }
    // Afterwards the app would start again and drain.
    let queue = Arc::new(AuditQueue::open(queue_dir.path()).expect("reopen"));
    assert_eq!(queue.integrity_check().expect("integrity"), "ok");
    sync_until_empty(&queue, &transport(server.address), 500)
        .await
        .expect("final drain");
    let (count, ids) = count_events(&log).await;
    assert_eq!(count, ids.len() as u64, "an event was stored twice");
    let missing: Vec<_> = acknowledged.difference(&ids).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not on the server: {missing:?}"
    );
    let reports = log.verify().await.expect("verify");
    assert_eq!(reports.len(), 1);
    assert!(reports[0].is_clean(), "{:?}", reports[0]);
    assert!(log.findings().await.expect("findings").is_empty());
    assert!(acknowledged.len() >= rounds as usize);
    server.task.abort();
}

/// A second pool on the same PostgreSQL database as `log`: another replica of the service.
async fn replica_of(url: &str) -> AuditLog {
    AuditLog::from_pool(postgres_support::pool(url).await, Dialect::Postgres)
}

/// A fresh PostgreSQL database's URL, with the audit log's tables.
async fn fresh_postgres_url() -> String {
    let url = postgres_support::fresh_database("audit_log").await;
    let pool = postgres_support::pool(&url).await;
    AuditLog::install_schema(&pool, Dialect::Postgres)
        .await
        .expect("schema");
    pool.close().await;
    url
}

fn statuses(response: &cpis_fhir::wire::Bundle) -> Vec<String> {
    let value = serde_json::to_value(response).expect("json");
    value["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|entry| {
                    entry["response"]["status"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn send(log: &AuditLog, records: &[QueuedRecord]) -> Vec<String> {
    let body = serde_json::to_vec(&cpis_audit::wire::to_batch_bundle(records)).expect("json");
    let organisation = &records[0].actor.role.organisation_ods;
    statuses(
        &log.ingest(&sender_of(organisation), &body)
            .await
            .expect("ingest"),
    )
}

/// The device's rows in `audit_log_devices` and its stored events.
async fn device_state(url: &str, device_id: Uuid) -> (Vec<(i64, String)>, i64) {
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("pool");
    let heads =
        sqlx::query("SELECT last_sequence, last_hash FROM audit_log_devices WHERE device_id = $1")
            .bind(device_id.to_string())
            .fetch_all(&pool)
            .await
            .expect("heads")
            .into_iter()
            .map(|row| {
                use sqlx::Row;
                (row.get::<i64, _>(0), row.get::<String, _>(1))
            })
            .collect();
    let events: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM audit_log_events WHERE device_id = $1")
            .bind(device_id.to_string())
            .fetch_one(&pool)
            .await
            .expect("count")
            .get(0)
    };
    pool.close().await;
    (heads, events)
}

/// Issue 17 §6, the new-device race: two replicas (two pools on one PostgreSQL database)
/// ingest the first events of the same new device at the same moment, many rounds. A valid
/// chain (each replica sent a prefix of it, as a client resending to another replica does)
/// ends with one head at its last event and no finding; a fork (a sequence number from two
/// sides) is found, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_race_on_a_new_device_postgres() {
    let url = fresh_postgres_url().await;
    let (replica_a, replica_b) = (replica_of(&url).await, replica_of(&url).await);
    let now = OffsetDateTime::now_utc();
    for round in 0..24_usize {
        let chain = chained_records("Z9T01", 6, now);
        let (a, b) = (1 + round % 6, 1 + (round * 5 + 2) % 6);
        let (sent_a, sent_b) =
            tokio::join!(send(&replica_a, &chain[..a]), send(&replica_b, &chain[..b]));
        for status in sent_a.iter().chain(&sent_b) {
            assert!(
                status == "201 Created" || status == "200 OK",
                "round {round}: {status}"
            );
        }
        let created = sent_a
            .iter()
            .chain(&sent_b)
            .filter(|status| *status == "201 Created")
            .count();
        assert_eq!(created, a.max(b), "round {round}: each event stored once");
        let (heads, events) = device_state(&url, chain[0].device_id).await;
        assert_eq!(
            heads,
            vec![(a.max(b) as i64, chain[a.max(b) - 1].record_hash.clone())],
            "round {round}: one head, at the last event"
        );
        assert_eq!(events, a.max(b) as i64);
    }
    assert_eq!(
        replica_a.findings().await.expect("findings"),
        Vec::new(),
        "a valid chain raced from two replicas raises no finding"
    );
    // Forks: sequence 1 of the same new device, two different events, one at each replica.
    let mut forked = Vec::new();
    for _ in 0..12 {
        let side_a = chained_records("Z9T01", 1, now);
        let mut side_b = chained_records("Z9T01", 1, now);
        side_b[0].device_id = side_a[0].device_id;
        side_b[0].record_hash = side_b[0].recompute_hash();
        let (sent_a, sent_b) = tokio::join!(send(&replica_a, &side_a), send(&replica_b, &side_b));
        assert_eq!(
            (sent_a, sent_b),
            (
                vec!["201 Created".to_owned()],
                vec!["201 Created".to_owned()]
            )
        );
        let (heads, events) = device_state(&url, side_a[0].device_id).await;
        assert_eq!((heads.len(), events), (1, 2));
        // And again on the device now known: sequence 2 from both sides, each linked to the
        // head (the head row is locked, so the second side sees the first's).
        let head_hash = heads[0].1.clone();
        let next = |template: &QueuedRecord| {
            let mut record = chained_records("Z9T01", 1, now).remove(0);
            record.device_id = template.device_id;
            record.sequence = 2;
            record.previous_hash = head_hash.clone();
            record.record_hash = record.recompute_hash();
            record
        };
        let (next_a, next_b) = (next(&side_a[0]), next(&side_a[0]));
        let (sent_a, sent_b) = tokio::join!(
            send(&replica_a, std::slice::from_ref(&next_a)),
            send(&replica_b, std::slice::from_ref(&next_b))
        );
        assert_eq!(
            (sent_a, sent_b),
            (
                vec!["201 Created".to_owned()],
                vec!["201 Created".to_owned()]
            )
        );
        forked.push(side_a[0].device_id.to_string());
    }
    let findings = replica_b.findings().await.expect("findings");
    for device_id in &forked {
        let of_device: Vec<(i64, &str)> = findings
            .iter()
            .filter(|finding| &finding.device_id == device_id)
            .map(|finding| (finding.sequence, finding.kind.as_str()))
            .collect();
        assert_eq!(
            of_device,
            vec![(1, "sequence_reused"), (2, "sequence_reused")],
            "each fork is found once"
        );
    }
    assert_eq!(findings.len(), 2 * forked.len());
}

/// Group commit: many requests at once, each answered with its own entries' statuses after
/// the one commit of its group; an event id twice in one batch is stored once; a chain split
/// over concurrent requests (in any order within a group) is checked in sequence order.
async fn concurrent_requests_are_answered_each(log: AuditLog) {
    let now = OffsetDateTime::now_utc();
    let chains: Vec<Vec<QueuedRecord>> =
        (0..16).map(|_| chained_records("Z9T01", 30, now)).collect();
    let mut tasks = Vec::new();
    for (index, chain) in chains.iter().enumerate() {
        for part in chain.chunks(10).rev() {
            let log = log.clone();
            let mut part = part.to_vec();
            if index % 4 == 0 {
                // A repeat of the batch's first event id within the batch.
                part.push(part[0].clone());
            }
            tasks.push(tokio::spawn(async move {
                (send(&log, &part).await, part.len())
            }));
        }
    }
    let mut created = 0;
    for task in tasks {
        let (statuses, sent) = task.await.expect("task");
        assert_eq!(statuses.len(), sent);
        created += statuses
            .iter()
            .filter(|status| *status == "201 Created")
            .count();
        if sent == 11 {
            assert_eq!(statuses[10], "200 OK", "{statuses:?}");
        }
    }
    assert_eq!(created, 16 * 30);
    assert_eq!(count_events(&log).await.0, 16 * 30);
    // Parts arrived in any order: a later part waits (parked) until the earlier one fills
    // the hole, so no finding at all (before the out-of-order chain check, a gap then a
    // re-used sequence were recorded). Verify sees every chain whole.
    assert_eq!(log.findings().await.expect("findings"), Vec::new());
    for report in log.verify().await.expect("verify") {
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.count, 30);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_are_answered_each_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    concurrent_requests_are_answered_each(sqlite_log(dir.path()).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_are_answered_each_postgres() {
    concurrent_requests_are_answered_each(postgres_log().await).await;
}

/// Within one group the chain is checked in sequence order: a batch holding a device's events
/// out of order raises no finding.
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_out_of_order_is_checked_in_sequence_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = sqlite_log(dir.path()).await;
    let mut chain = chained_records("Z9T01", 8, OffsetDateTime::now_utc());
    chain.reverse();
    assert_eq!(send(&log, &chain).await, vec!["201 Created"; 8]);
    assert!(log.findings().await.expect("findings").is_empty());
    // A record naming another organisation than the sender's is refused, nothing stored.
    let other = chained_records("Z9T02", 1, OffsetDateTime::now_utc());
    let body = serde_json::to_vec(&cpis_audit::wire::to_batch_bundle(&other)).expect("json");
    let response = log
        .ingest(&sender_of("Z9T01"), &body)
        .await
        .expect("ingest");
    assert_eq!(statuses(&response), vec!["403 Forbidden"]);
    assert_eq!(count_events(&log).await.0, 8);
}

/// The ingest path's speed: 100,000 events in batches of 500, one after another, as one
/// client drains its queue (bodies built beforehand: this times the central log only). Run
/// with `cargo test -p cpis-audit-log --test tests --release -- --ignored --nocapture
/// ingest_timing`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a timing, run on demand"]
async fn ingest_timing_100k_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = sqlite_log(dir.path()).await;
    let records = chained_records("Z9T01", 100_000, OffsetDateTime::now_utc());
    let bodies: Vec<Vec<u8>> = records
        .chunks(500)
        .map(|batch| serde_json::to_vec(&cpis_audit::wire::to_batch_bundle(batch)).expect("json"))
        .collect();
    let sender = sender_of("Z9T01");
    let started = std::time::Instant::now();
    for body in &bodies {
        log.ingest(&sender, body).await.expect("ingest");
    }
    let sequential = started.elapsed();
    assert_eq!(count_events(&log).await.0, 100_000);
    assert!(log.findings().await.expect("findings").is_empty());
    // The same again from 4 clients at once (new devices), showing group commit.
    let dir = tempfile::tempdir().expect("tempdir");
    let log = sqlite_log(dir.path()).await;
    let streams: Vec<Vec<Vec<u8>>> = (0..4)
        .map(|_| {
            chained_records("Z9T01", 25_000, OffsetDateTime::now_utc())
                .chunks(500)
                .map(|batch| {
                    serde_json::to_vec(&cpis_audit::wire::to_batch_bundle(batch)).expect("json")
                })
                .collect()
        })
        .collect();
    let started = std::time::Instant::now();
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|bodies| {
            let log = log.clone();
            let sender = sender.clone();
            tokio::spawn(async move {
                for body in &bodies {
                    log.ingest(&sender, body).await.expect("ingest");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let concurrent = started.elapsed();
    assert_eq!(count_events(&log).await.0, 100_000);
    println!(
        "ingest of 100,000 events in batches of 500 on SQLite: one client {:.2} s ({:.0} events/s); four clients at once {:.2} s",
        sequential.as_secs_f64(),
        100_000.0 / sequential.as_secs_f64(),
        concurrent.as_secs_f64()
    );
}

/// One event through PARS's `POST /AuditEvent` path.
async fn send_single(log: &AuditLog, record: &QueuedRecord) -> String {
    let body = serde_json::to_vec(&cpis_audit::wire::audit_event(record)).expect("json");
    let outcome = log
        .ingest_event(&sender_of(&record.actor.role.organisation_ods), &body)
        .await
        .expect("ingest event");
    outcome.status.status_line().to_string()
}

/// A fresh SQLite log and the URL of its file (for [`device_state`]).
async fn sqlite_log_and_url(dir: &std::path::Path) -> (AuditLog, String) {
    let log = sqlite_log(dir).await;
    let url = format!("sqlite://{}", dir.join("central.sqlite3").display());
    (log, url)
}

/// A fresh PostgreSQL log and its database's URL.
async fn postgres_log_and_url() -> (AuditLog, String) {
    let url = fresh_postgres_url().await;
    (replica_of(&url).await, url)
}

/// `records` in a random order.
fn shuffled(records: &[QueuedRecord]) -> Vec<QueuedRecord> {
    let mut records = records.to_vec();
    records.sort_by_cached_key(|_| Uuid::new_v4());
    records
}

/// The out-of-order chain check: one device's 2,000 events POSTed shuffled and all at once,
/// half one event per request and half in batches of 40, end with every event stored, no
/// finding at all, and the device's head at sequence 2,000 with the last event's hash.
async fn shuffled_concurrent_arrival_raises_no_finding(log: AuditLog, url: &str) {
    let chain = chained_records("Z9T01", 2_000, OffsetDateTime::now_utc());
    let mut tasks = Vec::new();
    for (index, part) in shuffled(&chain).chunks(40).enumerate() {
        if index % 2 == 0 {
            for record in part {
                let (log, record) = (log.clone(), record.clone());
                tasks.push(tokio::spawn(async move {
                    vec![send_single(&log, &record).await]
                }));
            }
        } else {
            let (log, part) = (log.clone(), part.to_vec());
            tasks.push(tokio::spawn(async move { send(&log, &part).await }));
        }
    }
    let mut created = 0;
    for task in tasks {
        for status in task.await.expect("task") {
            assert_eq!(status, "201 Created");
            created += 1;
        }
    }
    assert_eq!(created, 2_000);
    assert_eq!(log.findings().await.expect("findings"), Vec::new());
    let (heads, events) = device_state(url, chain[0].device_id).await;
    assert_eq!(heads, vec![(2_000, chain[1_999].record_hash.clone())]);
    assert_eq!(events, 2_000);
    let reports = log.verify().await.expect("verify");
    assert!(reports[0].is_clean(), "{:?}", reports[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shuffled_concurrent_arrival_raises_no_finding_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, url) = sqlite_log_and_url(dir.path()).await;
    shuffled_concurrent_arrival_raises_no_finding(log, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shuffled_concurrent_arrival_raises_no_finding_postgres() {
    let (log, url) = postgres_log_and_url().await;
    shuffled_concurrent_arrival_raises_no_finding(log, &url).await;
}

/// Holes, forks and breaks with out-of-order arrival: a record never sent shows as a gap (at
/// the first event after it) for as long as it is missing, with the head stopped before it;
/// a second event for a parked sequence number is a fork (`sequence_reused`); when the hole is
/// filled the head walks through the parked events to the next hole, and a parked event that
/// does not link to the one before it is a `break`.
async fn holes_forks_and_breaks_out_of_order(log: AuditLog, url: &str) {
    let now = OffsetDateTime::now_utc();
    let mut chain = chained_records("Z9T01", 12, now);
    // Sequence 9 links to something else than 8 (its own hash is right: no mismatch).
    chain[8].previous_hash = "f".repeat(64);
    for index in 8..12 {
        if index > 8 {
            chain[index].previous_hash = chain[index - 1].record_hash.clone();
        }
        chain[index].record_hash = chain[index].recompute_hash();
    }
    let device_id = chain[0].device_id;
    let at = |sequence: usize| chain[sequence - 1].clone();
    // 1..=3, then 5..=12 in reverse, one at a time: 4 is missing (deleted, never sent).
    assert_eq!(
        send(&log, &[at(1), at(2), at(3)]).await,
        vec!["201 Created"; 3]
    );
    for sequence in (5..=12).rev() {
        assert_eq!(send_single(&log, &at(sequence)).await, "201 Created");
    }
    let kinds = |findings: Vec<cpis_audit_log::Finding>| -> Vec<(i64, String)> {
        findings
            .into_iter()
            .map(|finding| (finding.sequence, finding.kind))
            .collect()
    };
    assert_eq!(
        kinds(log.findings().await.expect("findings")),
        vec![(5, "gap".to_string())],
        "the missing record is a gap, nothing else yet"
    );
    assert_eq!(
        device_state(url, device_id).await.0,
        vec![(3, at(3).record_hash)]
    );
    assert_eq!(log.verify().await.expect("verify")[0].gaps, vec![(4, 1)]);
    // A fork of a parked sequence number (7), from another event id.
    let mut fork = chained_records("Z9T01", 1, now).remove(0);
    fork.device_id = device_id;
    fork.sequence = 7;
    fork.previous_hash = at(6).record_hash;
    fork.record_hash = fork.recompute_hash();
    assert_eq!(send_single(&log, &fork).await, "201 Created");
    // The hole filled late: the head walks to 12; 9's link is a break; the gap is gone.
    assert_eq!(send_single(&log, &at(4)).await, "201 Created");
    assert_eq!(
        kinds(log.findings().await.expect("findings")),
        vec![(7, "sequence_reused".to_string()), (9, "break".to_string())]
    );
    assert_eq!(
        device_state(url, device_id).await,
        (vec![(12, at(12).record_hash)], 13)
    );
    // A resend of a stored event is held, not a fork.
    assert_eq!(send_single(&log, &at(10)).await, "200 OK");
    // A fork at or below the head.
    let mut fork = chained_records("Z9T01", 1, now).remove(0);
    fork.device_id = device_id;
    fork.sequence = 2;
    fork.record_hash = fork.recompute_hash();
    assert_eq!(send(&log, &[fork]).await, vec!["201 Created"]);
    assert_eq!(
        kinds(log.findings().await.expect("findings")),
        vec![
            (2, "sequence_reused".to_string()),
            (7, "sequence_reused".to_string()),
            (9, "break".to_string())
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn holes_forks_and_breaks_out_of_order_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, url) = sqlite_log_and_url(dir.path()).await;
    holes_forks_and_breaks_out_of_order(log, &url).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn holes_forks_and_breaks_out_of_order_postgres() {
    let (log, url) = postgres_log_and_url().await;
    holes_forks_and_breaks_out_of_order(log, &url).await;
}

/// The `value` attributes of `<tag value="..."/>` elements in `xml`, in document order.
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let opening = format!("<{tag} value=\"");
    xml.match_indices(&opening)
        .filter_map(|(start, _)| {
            let rest = &xml[start + opening.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect()
}

fn published_profile(name: &str) -> String {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/nhs-ig/profiles")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// The central log states what NHS England's PARS requirements CapabilityStatement
/// (`CapabilityStatement-England-PARS-Requirements.xml`, read as published) requires of a
/// server: FHIR 4.0.1, a `server` rest with the AuditEvent resource, its `create` interaction
/// (`POST /AuditEvent`), and a profile that is the required one or constrains it (our events
/// claim England-AuditEvent-PARS, whose `baseDefinition` is the required England-AuditEvent).
/// Batches are an extension on top, never instead.
#[test]
fn the_capability_statement_meets_the_published_pars_requirements() {
    let required = published_profile("CapabilityStatement-England-PARS-Requirements.xml");
    let ours = serde_json::to_value(cpis_audit_log::capability::capability_statement(
        "http://test.invalid/audit/FHIR/R4",
    ))
    .expect("json");
    assert_eq!(
        xml_values(&required, "kind"),
        ["requirements"],
        "the fixture is a requirements statement"
    );
    assert_eq!(
        ours["fhirVersion"].as_str(),
        xml_values(&required, "fhirVersion")
            .first()
            .map(String::as_str)
    );
    let rest = &required[required.find("<rest>").expect("rest")..];
    assert_eq!(xml_values(rest, "mode"), ["server"]);
    assert_eq!(ours["rest"][0]["mode"], "server");
    let resource_type = xml_values(rest, "type");
    assert_eq!(resource_type, ["AuditEvent"]);
    let resource = ours["rest"][0]["resource"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|resource| resource["type"] == "AuditEvent")
        .expect("the log serves AuditEvent");
    let interactions: Vec<&str> = resource["interaction"]
        .as_array()
        .expect("interactions")
        .iter()
        .filter_map(|interaction| interaction["code"].as_str())
        .collect();
    let required_interactions = xml_values(
        &rest[rest.find("<interaction>").expect("interaction")..],
        "code",
    );
    assert_eq!(required_interactions, ["create"]);
    for code in &required_interactions {
        assert!(interactions.contains(&code.as_str()), "{code} is required");
    }
    let required_profile = xml_values(rest, "profile");
    let pars = published_profile("England-AuditEvent-PARS.xml");
    let ours_profile = resource["supportedProfile"][0].as_str().expect("profile");
    assert_eq!(xml_values(&pars, "url"), [ours_profile]);
    assert_eq!(
        xml_values(&pars, "baseDefinition"),
        required_profile,
        "our profile constrains the required one"
    );
}
