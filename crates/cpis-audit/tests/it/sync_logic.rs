//! The sync loop over a transport: the batch path and the one-event-per-request (PARS) path,
//! what is marked and when, and the real HTTP transport against a small scripted server.

use super::*;
use cpis_audit::sync::{
    AuditTransport, Delivery, EVENTS_IN_FLIGHT, HttpAuditTransport, SyncError, TransportError,
    event_windows, sync_until_empty,
};
use cpis_audit::wire::{from_audit_event, parse_batch, to_batch_response};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Per call number and record, the status line to answer (`Err` for a server error).
type Answer = Box<dyn Fn(usize, &cpis_audit::QueuedRecord) -> Result<String, ()> + Send + Sync>;

/// Answers each batch by a script: per entry, the status line the server would give.
struct Scripted {
    answer: Answer,
    calls: Mutex<usize>,
    fail_first: Mutex<usize>,
}

impl AuditTransport for Scripted {
    async fn delivery(&self) -> Result<Delivery, TransportError> {
        Ok(Delivery::Batch)
    }

    async fn send_batch(&self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let call = {
            let mut calls = self.calls.lock().expect("lock");
            *calls += 1;
            *calls
        };
        {
            let mut fail = self.fail_first.lock().expect("lock");
            if *fail > 0 {
                *fail -= 1;
                return Err(TransportError::Unreachable);
            }
        }
        let records = parse_batch(&body).expect("client sends valid bundles");
        let statuses: Vec<String> = records
            .iter()
            .map(|record| {
                (self.answer)(call, record.as_ref().expect("valid event"))
                    .unwrap_or_else(|()| "500 Internal Server Error".into())
            })
            .collect();
        Ok(serde_json::to_vec(&to_batch_response(&statuses)).expect("json"))
    }

    async fn send_events(&self, _bodies: Vec<Vec<u8>>) -> Vec<Result<u16, TransportError>> {
        panic!("the batch path never sends single events")
    }
}

fn filled(count: usize) -> (tempfile::TempDir, Arc<AuditQueue>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = Arc::new(AuditQueue::open(dir.path()).expect("open"));
    for _ in 0..count {
        queue
            .append(&entry("9990000018", "no_plan"))
            .expect("append");
    }
    (dir, queue)
}

#[tokio::test]
async fn confirmed_records_are_marked_sent_and_rejected_ones_quarantined() {
    let (_dir, queue) = filled(7);
    let transport = Scripted {
        answer: Box::new(|_, record| {
            Ok(if record.sequence == 4 {
                "422 Unprocessable Entity".into()
            } else {
                "201 Created".into()
            })
        }),
        calls: Mutex::new(0),
        fail_first: Mutex::new(0),
    };
    let report = sync_until_empty(&queue, &transport, 3).await.expect("sync");
    assert_eq!((report.sent, report.quarantined), (6, 1));
    let status = queue.status().expect("status");
    assert_eq!((status.waiting, status.sent, status.quarantined), (0, 6, 1));
    assert_eq!(*transport.calls.lock().expect("lock"), 3);
}

#[tokio::test]
async fn entries_the_log_asks_to_resend_later_wait_and_are_never_quarantined() {
    let (_dir, queue) = filled(4);
    let transport = Scripted {
        answer: Box::new(|call, record| {
            Ok(if call == 1 && record.sequence == 2 {
                "429 Too Many Requests".into()
            } else {
                "201 Created".into()
            })
        }),
        calls: Mutex::new(0),
        fail_first: Mutex::new(0),
    };
    let error = sync_until_empty(&queue, &transport, 10)
        .await
        .expect_err("deferred");
    assert!(matches!(error, SyncError::Deferred(1)));
    let status = queue.status().expect("status");
    assert_eq!((status.waiting, status.sent, status.quarantined), (1, 3, 0));
    // The next pass sends it.
    let report = sync_until_empty(&queue, &transport, 10)
        .await
        .expect("sync");
    assert_eq!((report.sent, report.quarantined), (1, 0));
    let status = queue.status().expect("status");
    assert_eq!((status.waiting, status.sent, status.quarantined), (0, 4, 0));
}

#[tokio::test]
async fn nothing_is_marked_sent_without_a_confirmation() {
    let (_dir, queue) = filled(5);
    let transport = Scripted {
        answer: Box::new(|_, _| Err(())),
        calls: Mutex::new(0),
        fail_first: Mutex::new(1),
    };
    let error = sync_until_empty(&queue, &transport, 10)
        .await
        .expect_err("down");
    assert!(matches!(
        error,
        SyncError::Transport(TransportError::Unreachable)
    ));
    assert_eq!(queue.status().expect("status").waiting, 5);
    // A 500 for an entry is not a confirmation either: the whole answer is refused.
    let error = sync_until_empty(&queue, &transport, 10)
        .await
        .expect_err("500");
    assert!(matches!(error, SyncError::Response(_)));
    assert_eq!(queue.status().expect("status").waiting, 5);
}

/// A central log in memory, idempotent by event id, on either path, that checks each device's
/// sequence as events arrive (as the reference log does) and can go down after committing a
/// given number of events.
#[derive(Default)]
struct MemoryLog {
    delivery: Option<Delivery>,
    /// Events stored, by event id: (device, sequence).
    stored: Mutex<BTreeMap<uuid::Uuid, (uuid::Uuid, u64)>>,
    /// Each device's last sequence stored, and every arrival out of sequence order.
    heads: Mutex<BTreeMap<uuid::Uuid, u64>>,
    out_of_order: Mutex<Vec<u64>>,
    /// Commit at most this many more events, then fail every request (`None`: never).
    commits_left: Mutex<Option<usize>>,
    /// Per sequence number, a status code to answer instead of storing.
    refuse: BTreeMap<u64, u16>,
    /// Every window of single events, as sequence numbers and devices.
    windows: Mutex<Vec<Vec<(uuid::Uuid, u64)>>>,
    /// Answers `200` (already held).
    repeats: Mutex<u64>,
}

impl MemoryLog {
    /// Store one event; its status, or why the server failed.
    fn take(&self, record: &cpis_audit::QueuedRecord) -> Result<u16, TransportError> {
        if let Some(code) = self.refuse.get(&record.sequence) {
            return Ok(*code);
        }
        let mut stored = self.stored.lock().expect("lock");
        if stored.contains_key(&record.event_id) {
            *self.repeats.lock().expect("lock") += 1;
            return Ok(200);
        }
        let mut left = self.commits_left.lock().expect("lock");
        match left.as_mut() {
            Some(0) => return Err(TransportError::Status(503)),
            Some(left) => *left -= 1,
            None => {}
        }
        let mut heads = self.heads.lock().expect("lock");
        let head = heads.entry(record.device_id).or_insert(0);
        if record.sequence != *head + 1 {
            self.out_of_order
                .lock()
                .expect("lock")
                .push(record.sequence);
        }
        *head = record.sequence.max(*head);
        stored.insert(record.event_id, (record.device_id, record.sequence));
        Ok(201)
    }

    fn stored_sequences(&self) -> Vec<u64> {
        let mut sequences: Vec<u64> = self
            .stored
            .lock()
            .expect("lock")
            .values()
            .map(|(_, sequence)| *sequence)
            .collect();
        sequences.sort_unstable();
        sequences
    }
}

impl AuditTransport for MemoryLog {
    async fn delivery(&self) -> Result<Delivery, TransportError> {
        self.delivery.ok_or(TransportError::Capabilities)
    }

    async fn send_batch(&self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let records = parse_batch(&body).expect("client sends valid bundles");
        // A batch is one transaction: a failure stores none of it.
        {
            let mut left = self.commits_left.lock().expect("lock");
            if left.is_some_and(|left| left < records.len()) {
                *left = Some(0);
                return Err(TransportError::Status(503));
            }
        }
        let mut statuses = Vec::new();
        for record in &records {
            let code = self.take(record.as_ref().expect("valid event"))?;
            statuses.push(format!("{code} X"));
        }
        Ok(serde_json::to_vec(&to_batch_response(&statuses)).expect("json"))
    }

    async fn send_events(&self, bodies: Vec<Vec<u8>>) -> Vec<Result<u16, TransportError>> {
        let records: Vec<cpis_audit::QueuedRecord> = bodies
            .iter()
            .map(|body| {
                let event: serde_json::Value = serde_json::from_slice(body).expect("json");
                from_audit_event(&event).expect("client sends valid events")
            })
            .collect();
        self.windows.lock().expect("lock").push(
            records
                .iter()
                .map(|record| (record.device_id, record.sequence))
                .collect(),
        );
        records.iter().map(|record| self.take(record)).collect()
    }
}

#[tokio::test]
async fn a_log_that_fails_after_k_events_has_exactly_those_marked_and_the_rest_resent_once() {
    for delivery in [Delivery::SingleEvents, Delivery::Batch] {
        let (_dir, queue) = filled(100);
        // Batches of 20 records: on the batch path 57 confirmed means two batches whole (40)
        // and the third failing as a whole (a batch is one transaction); on the PARS path it
        // means exactly 57 events.
        let log = MemoryLog {
            delivery: Some(delivery),
            commits_left: Mutex::new(Some(57)),
            ..MemoryLog::default()
        };
        let error = sync_until_empty(&queue, &log, 20)
            .await
            .expect_err("the log went down");
        assert!(
            matches!(error, SyncError::Transport(TransportError::Status(503))),
            "{error:?}"
        );
        let confirmed = match delivery {
            Delivery::SingleEvents => 57,
            Delivery::Batch => 40,
        };
        let stored = log.stored_sequences();
        assert_eq!(
            stored,
            (1..=confirmed).collect::<Vec<u64>>(),
            "{delivery:?}"
        );
        let status = queue.status().expect("status");
        assert_eq!(
            (status.sent, status.waiting),
            (confirmed, 100 - confirmed),
            "{delivery:?}: exactly the confirmed records are marked"
        );
        let waiting = queue.next_batch(200).expect("waiting");
        assert_eq!(
            waiting.first().map(|record| record.sequence),
            Some(confirmed + 1)
        );

        *log.commits_left.lock().expect("lock") = None;
        let report = sync_until_empty(&queue, &log, 20).await.expect("resend");
        assert_eq!(report.sent, 100 - confirmed);
        assert_eq!(log.stored_sequences(), (1..=100).collect::<Vec<u64>>());
        assert_eq!(*log.repeats.lock().expect("lock"), 0, "nothing sent twice");
        assert!(
            log.out_of_order.lock().expect("lock").is_empty(),
            "{delivery:?}: the log saw every event in sequence order"
        );
        assert_eq!(queue.status().expect("status").waiting, 0);
    }
}

#[tokio::test]
async fn single_events_are_quarantined_deferred_or_committed_by_their_own_status() {
    let (_dir, queue) = filled(10);
    let log = MemoryLog {
        delivery: Some(Delivery::SingleEvents),
        refuse: BTreeMap::from([(3, 422), (5, 403), (8, 429)]),
        ..MemoryLog::default()
    };
    let error = sync_until_empty(&queue, &log, 4)
        .await
        .expect_err("deferred");
    assert!(matches!(error, SyncError::Deferred(1)), "{error:?}");
    assert_eq!(log.stored_sequences(), vec![1, 2, 4, 6, 7]);
    let status = queue.status().expect("status");
    assert_eq!((status.sent, status.quarantined, status.waiting), (5, 2, 3));
    let reasons: Vec<(u64, String)> = queue
        .quarantined()
        .expect("quarantined")
        .into_iter()
        .map(|(record, reason)| (record.sequence, reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                3,
                "rejected by the central log: 422 Unprocessable Entity".into()
            ),
            (5, "rejected by the central log: 403 Forbidden".into()),
        ]
    );
}

/// One device's consecutive events share a window (up to [`EVENTS_IN_FLIGHT`] on the wire at
/// once): the central log checks a device's chain whatever order its events arrive in, so they
/// no longer go one at a time (which is what this test asserted before the out-of-order chain
/// check). Every record is sent once, windows in queue order, none larger than the limit or the
/// batch.
#[tokio::test]
async fn one_devices_consecutive_events_share_a_window() {
    let (_dir, queue) = filled(70);
    let log = MemoryLog {
        delivery: Some(Delivery::SingleEvents),
        ..MemoryLog::default()
    };
    let report = sync_until_empty(&queue, &log, 25).await.expect("sync");
    assert_eq!(report.sent, 70);
    let windows = log.windows.lock().expect("lock").clone();
    let order: Vec<u64> = windows.iter().flatten().map(|(_, seq)| *seq).collect();
    assert_eq!(order, (1..=70).collect::<Vec<u64>>());
    let sizes: Vec<usize> = windows.iter().map(Vec::len).collect();
    let window = EVENTS_IN_FLIGHT.min(25);
    let expected: Vec<usize> = [25_usize, 25, 20]
        .iter()
        .flat_map(|&batch| {
            (0..batch.div_ceil(window)).map(move |index| (batch - index * window).min(window))
        })
        .collect();
    assert_eq!(sizes, expected, "{windows:?}");
    assert!(sizes[0] > 1, "one device's events go together");
}

#[test]
fn windows_are_consecutive_records_of_any_device() {
    let (_dir, queue) = filled(3 * EVENTS_IN_FLIGHT);
    let mut records = queue.next_batch(3 * EVENTS_IN_FLIGHT).expect("batch");
    // Records of many devices (as if merged from several queues), then two of one device.
    for record in records.iter_mut() {
        record.device_id = uuid::Uuid::new_v4();
    }
    let shared = uuid::Uuid::new_v4();
    let last = records.len();
    records[last - 2].device_id = shared;
    records[last - 1].device_id = shared;
    let sizes: Vec<usize> = event_windows(&records).iter().map(|w| w.len()).collect();
    assert_eq!(sizes, vec![EVENTS_IN_FLIGHT; 3]);
    let flat: Vec<u64> = event_windows(&records)
        .iter()
        .flat_map(|window| window.iter().map(|record| record.sequence))
        .collect();
    assert_eq!(flat, records.iter().map(|r| r.sequence).collect::<Vec<_>>());
    assert!(event_windows(&records[..1]).len() == 1);
    assert!(event_windows(&[]).is_empty());
}

/// A PARS log that answers each window after a pause, counts the windows on the wire at once,
/// and fails every event of one call (`fail_call`, counted from 1) with `503`.
struct LaneLog {
    in_flight: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
    calls: Mutex<usize>,
    fail_call: usize,
}

impl LaneLog {
    fn new(fail_call: usize) -> LaneLog {
        LaneLog {
            in_flight: Default::default(),
            most: Default::default(),
            calls: Mutex::new(0),
            fail_call,
        }
    }
}

impl AuditTransport for LaneLog {
    async fn delivery(&self) -> Result<Delivery, TransportError> {
        Ok(Delivery::SingleEvents)
    }

    async fn send_batch(&self, _body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        Err(TransportError::Unreachable)
    }

    async fn send_events(&self, bodies: Vec<Vec<u8>>) -> Vec<Result<u16, TransportError>> {
        use std::sync::atomic::Ordering;
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let call = {
            let mut calls = self.calls.lock().expect("lock");
            *calls += 1;
            *calls
        };
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let code = if call == self.fail_call { 503 } else { 201 };
        bodies.iter().map(|_| Ok(code)).collect()
    }
}

/// Two windows are on the wire at once (the next is sent while the last one's answers are
/// awaited), never more, and every record is marked.
#[tokio::test]
async fn two_windows_are_in_flight_at_once() {
    let (_dir, queue) = filled(4 * EVENTS_IN_FLIGHT);
    let log = LaneLog::new(usize::MAX);
    let report = sync_until_empty(&queue, &log, 4 * EVENTS_IN_FLIGHT)
        .await
        .expect("sync");
    assert_eq!(report.sent, 4 * EVENTS_IN_FLIGHT as u64);
    assert_eq!(*log.calls.lock().expect("lock"), 4);
    assert_eq!(log.most.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(queue.status().expect("status").waiting, 0);
}

/// After a window fails, no further window is started (at most the one the other lane had
/// already started), and exactly the confirmed records are marked.
#[tokio::test]
async fn no_window_starts_after_a_failed_one() {
    let (_dir, queue) = filled(8 * EVENTS_IN_FLIGHT);
    let log = LaneLog::new(2);
    let error = sync_until_empty(&queue, &log, 8 * EVENTS_IN_FLIGHT)
        .await
        .expect_err("a window failed");
    assert!(
        matches!(error, SyncError::Transport(TransportError::Status(503))),
        "{error:?}"
    );
    let calls = *log.calls.lock().expect("lock");
    assert!((2..=3).contains(&calls), "{calls} windows sent");
    let status = queue.status().expect("status");
    assert_eq!(status.sent, ((calls - 1) * EVENTS_IN_FLIGHT) as u64);
    assert_eq!(status.waiting, ((8 - calls + 1) * EVENTS_IN_FLIGHT) as u64);
}

/// Holds the queue file's write lock from a second connection until call 2, and records
/// whether batch 1 was still unmarked when batch 2 was already on the wire.
struct Pipelined {
    path: std::path::PathBuf,
    holder: Mutex<Option<rusqlite::Connection>>,
    calls: Mutex<usize>,
    sent_rows_when_batch_two_left: Mutex<Option<i64>>,
}

impl AuditTransport for Pipelined {
    async fn delivery(&self) -> Result<Delivery, TransportError> {
        Ok(Delivery::Batch)
    }

    async fn send_batch(&self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let call = {
            let mut calls = self.calls.lock().expect("lock");
            *calls += 1;
            *calls
        };
        let entries = parse_batch(&body).expect("bundle").len();
        if call == 1 {
            // Batch 1's marking will have to wait for this lock.
            let holder = rusqlite::Connection::open(&self.path).expect("open");
            holder
                .execute_batch("BEGIN IMMEDIATE")
                .expect("take the write lock");
            *self.holder.lock().expect("lock") = Some(holder);
        } else if call == 2 {
            let reader = rusqlite::Connection::open(&self.path).expect("open");
            let sent: i64 = reader
                .query_row(
                    "SELECT COUNT(*) FROM records WHERE state = 'sent'",
                    [],
                    |row| row.get(0),
                )
                .expect("count");
            *self.sent_rows_when_batch_two_left.lock().expect("lock") = Some(sent);
            if let Some(holder) = self.holder.lock().expect("lock").take() {
                holder.execute_batch("COMMIT").expect("release");
            }
        }
        let statuses = vec!["201 Created".to_string(); entries];
        Ok(serde_json::to_vec(&to_batch_response(&statuses)).expect("json"))
    }

    async fn send_events(&self, _bodies: Vec<Vec<u8>>) -> Vec<Result<u16, TransportError>> {
        panic!("batch path only")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_next_batch_is_on_the_wire_while_the_last_is_being_marked() {
    let (_dir, queue) = filled(30);
    let transport = Pipelined {
        path: queue.path().to_path_buf(),
        holder: Mutex::new(None),
        calls: Mutex::new(0),
        sent_rows_when_batch_two_left: Mutex::new(None),
    };
    // Without the pipeline, batch 1's marking would wait for the lock that only batch 2's
    // send releases, and fail after the queue's busy timeout.
    let report = sync_until_empty(&queue, &transport, 10)
        .await
        .expect("sync");
    assert_eq!(report.sent, 30);
    assert_eq!(
        *transport
            .sent_rows_when_batch_two_left
            .lock()
            .expect("lock"),
        Some(0),
        "batch 2 was sent before batch 1 was marked"
    );
    assert_eq!(*transport.calls.lock().expect("lock"), 3);
    assert_eq!(queue.status().expect("status").sent, 30);
}

/// A tiny HTTP/1.1 server for the real transport: answers by a script and records every
/// request (method, path, authorization).
struct TestServer {
    base: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

/// One request as the server saw it: method, path, `Authorization`.
type Request = (String, String, Option<String>);

type Handler = Arc<dyn Fn(&str, &str, &[u8]) -> (u16, String) + Send + Sync>;

async fn serve(handler: Handler) -> TestServer {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = Arc::clone(&handler);
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut stream = tokio::io::BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or_default().to_string();
                    let path = parts.next().unwrap_or_default().to_string();
                    let mut length = 0usize;
                    let mut authorization = None;
                    loop {
                        let mut header = String::new();
                        if stream.read_line(&mut header).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':') {
                            match name.to_ascii_lowercase().as_str() {
                                "content-length" => length = value.trim().parse().unwrap_or(0),
                                "authorization" => authorization = Some(value.trim().to_string()),
                                _ => {}
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if stream.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    seen.lock()
                        .expect("lock")
                        .push((method.clone(), path.clone(), authorization));
                    let (status, answer) = handler(&method, &path, &body);
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/fhir+json\r\ncontent-length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if stream
                        .get_mut()
                        .write_all(response.as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    TestServer {
        base: format!("http://{address}/audit/FHIR/R4"),
        requests,
    }
}

fn http_transport(base: &str) -> HttpAuditTransport {
    HttpAuditTransport::new(
        base.parse().expect("url"),
        Arc::new(|| Some("synthetic-token".to_string())),
        std::time::Duration::from_secs(5),
    )
    .expect("transport")
}

const NO_BATCH: &str = r#"{"resourceType":"CapabilityStatement","kind":"instance","fhirVersion":"4.0.1","rest":[{"mode":"server","resource":[{"type":"AuditEvent","interaction":[{"code":"create"},{"code":"search-type"}]}]}]}"#;
const WITH_BATCH: &str = r#"{"resourceType":"CapabilityStatement","kind":"instance","fhirVersion":"4.0.1","rest":[{"mode":"server","interaction":[{"code":"batch","documentation":"at most 5000 AuditEvent"}]}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_http_transport_posts_each_event_when_batches_are_not_advertised() {
    let metadata_up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let up = Arc::clone(&metadata_up);
    let server = serve(Arc::new(move |method, path, body| match (method, path) {
        ("GET", "/audit/FHIR/R4/metadata") => {
            if up.load(std::sync::atomic::Ordering::SeqCst) {
                (200, NO_BATCH.to_string())
            } else {
                (500, String::new())
            }
        }
        ("POST", "/audit/FHIR/R4/AuditEvent") => {
            let event: serde_json::Value = serde_json::from_slice(body).expect("json");
            let record = from_audit_event(&event).expect("a valid event");
            let code = if record.sequence == 2 { 422 } else { 201 };
            (code, r#"{"resourceType":"OperationOutcome"}"#.to_string())
        }
        _ => (404, String::new()),
    }))
    .await;
    let (_dir, queue) = filled(5);
    let transport = http_transport(&server.base);
    // The CapabilityStatement cannot be read: nothing is sent, nothing guessed.
    let error = sync_until_empty(&queue, &transport, 500)
        .await
        .expect_err("no metadata");
    assert!(
        matches!(error, SyncError::Transport(TransportError::Status(500))),
        "{error:?}"
    );
    assert_eq!(queue.status().expect("status").waiting, 5);
    // Once it can, the events go one by one; the statement is read once for the transport.
    metadata_up.store(true, std::sync::atomic::Ordering::SeqCst);
    for _ in 0..2 {
        let report = sync_until_empty(&queue, &transport, 500)
            .await
            .expect("sync");
        assert!(report.sent == 4 || report.sent == 0);
    }
    let status = queue.status().expect("status");
    assert_eq!((status.sent, status.quarantined), (4, 1));
    let requests = server.requests.lock().expect("lock").clone();
    let paths: Vec<&str> = requests.iter().map(|(_, path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/audit/FHIR/R4/metadata",
            "/audit/FHIR/R4/metadata",
            "/audit/FHIR/R4/AuditEvent",
            "/audit/FHIR/R4/AuditEvent",
            "/audit/FHIR/R4/AuditEvent",
            "/audit/FHIR/R4/AuditEvent",
            "/audit/FHIR/R4/AuditEvent",
        ]
    );
    assert!(
        requests
            .iter()
            .all(|(_, _, auth)| auth.as_deref() == Some("Bearer synthetic-token")),
        "every request, the metadata's too, carries the token"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_http_transport_batches_only_when_advertised_unless_told_to_send_single_events() {
    let server = serve(Arc::new(|method, path, body| match (method, path) {
        ("GET", "/audit/FHIR/R4/metadata") => (200, WITH_BATCH.to_string()),
        ("POST", "/audit/FHIR/R4") => {
            let entries = parse_batch(body).expect("bundle").len();
            let statuses = vec!["201 Created".to_string(); entries];
            (200, to_batch_response(&statuses).to_string())
        }
        ("POST", "/audit/FHIR/R4/AuditEvent") => (201, String::new()),
        _ => (404, String::new()),
    }))
    .await;
    let (_dir, queue) = filled(3);
    sync_until_empty(&queue, &http_transport(&server.base), 500)
        .await
        .expect("batch");
    for _ in 0..2 {
        queue
            .append(&entry("9990000018", "no_plan"))
            .expect("append");
    }
    let single = http_transport(&server.base).prefer_single_events();
    let report = sync_until_empty(&queue, &single, 500)
        .await
        .expect("single");
    assert_eq!(report.sent, 2);
    let paths: Vec<String> = server
        .requests
        .lock()
        .expect("lock")
        .iter()
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    assert_eq!(
        paths,
        [
            "GET /audit/FHIR/R4/metadata",
            "POST /audit/FHIR/R4",
            "POST /audit/FHIR/R4/AuditEvent",
            "POST /audit/FHIR/R4/AuditEvent",
        ]
    );
}
