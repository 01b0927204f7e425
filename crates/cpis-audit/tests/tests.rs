//! Integration tests of the local audit queue: durability settings, ordering, the chain,
//! tamper evidence, quarantine, and survival of kill -9 during appends.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use cpis_audit::{
    AuditAction, AuditQueue, ChainFinding, NewAuditEntry, QueueKey, QueuedRecord, RecordedPlan,
};
use cpis_domain::{Actor, NhsNumber, PlanType, RoleRef};
use time::OffsetDateTime;
use uuid::Uuid;

/// The key the tests encrypt their queues under (the app's comes from the OS keyring).
fn test_key() -> QueueKey {
    QueueKey::from_bytes(*b"cpis-audit-tests-fixed-key-32byt")
}

/// The queue in `folder`, encrypted under [`test_key`], as the app opens it.
fn open_queue(folder: &std::path::Path) -> Result<AuditQueue, cpis_audit::AuditError> {
    AuditQueue::open_encrypted(folder, &test_key())
}

fn entry(nhs: &str, outcome: &str) -> NewAuditEntry {
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
        patient_nhs_number: NhsNumber::parse(nhs).expect("valid synthetic number"),
        outcome: outcome.into(),
        trace_id: Uuid::new_v4(),
        unscheduled: true,
        detail: String::new(),
        plans: None,
    }
}

/// Two plans found, one of an unknown type under an authority without an ODS code.
fn plans_found() -> Vec<RecordedPlan> {
    vec![
        RecordedPlan::new(
            Some(PlanType::ChildProtectionPlan),
            "Testshire County Council",
            Some("Z9L01"),
        ),
        RecordedPlan::new(None, "Elsewhere Borough Council", None),
    ]
}

#[test]
fn an_entry_built_from_an_actor_is_stored_under_that_actor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    let literal = entry("9990000018", "no_plan");
    let actor = literal.actor.clone();
    assert_eq!(actor.user_id, "test-user-ed-nurse");
    assert_eq!(actor.role.organisation_name, "Testshire General Hospital");
    let mut built = NewAuditEntry::new(
        literal.occurred_at,
        literal.action,
        actor.clone(),
        literal.patient_nhs_number.clone(),
        literal.trace_id,
    );
    built.outcome = literal.outcome.clone();
    built.unscheduled = literal.unscheduled;
    assert_eq!(format!("{built:?}"), format!("{literal:?}"));
    assert_eq!(built.actor, actor);
    let stored = queue.append(&built).expect("append");
    assert_eq!(stored.actor, actor);
    assert_eq!(
        (
            stored.actor.user_name.as_str(),
            stored.actor.role.role_code.as_str()
        ),
        ("Robin Testnurse", "R8001")
    );
    let batch = queue.next_batch(10).expect("batch");
    assert_eq!(batch, vec![stored]);
}

/// A connection of its own to the queue's file, under the test key.
fn open_raw(queue: &AuditQueue) -> rusqlite::Connection {
    keyed_connection(queue.path(), &test_key())
}

fn keyed_connection(path: &std::path::Path, key: &QueueKey) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(path).expect("open raw");
    connection
        .execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.expose_hex()))
        .expect("key");
    connection
}

#[test]
fn pragmas_are_wal_and_synchronous_full() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    let (journal_mode, synchronous) = queue.pragmas().expect("pragmas");
    assert_eq!(journal_mode.to_lowercase(), "wal");
    assert_eq!(synchronous, 2, "synchronous must be FULL (2)");
}

#[cfg(unix)]
#[test]
fn folder_and_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("cpis-viewer");
    let queue = open_queue(&folder).expect("open");
    queue
        .append(&entry("9990000018", "no_plan"))
        .expect("append");
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(queue.path()), 0o600);
    let wal = queue.path().with_extension("sqlite3-wal");
    assert!(wal.exists(), "WAL file should exist while open");
    assert_eq!(
        mode(&wal) & 0o077,
        0,
        "WAL file must not be readable by others"
    );
}

#[test]
fn sequences_are_gapless_and_the_chain_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    let records: Vec<QueuedRecord> = (0..50)
        .map(|_| {
            queue
                .append(&entry("9990000018", "plan_found"))
                .expect("append")
        })
        .collect();
    let sequences: Vec<u64> = records.iter().map(|record| record.sequence).collect();
    assert_eq!(sequences, (1..=50).collect::<Vec<_>>());
    assert_eq!(records[0].previous_hash, cpis_audit::GENESIS_HASH);
    for pair in records.windows(2) {
        assert_eq!(pair[1].previous_hash, pair[0].record_hash);
    }
    let report = queue.verify_chain().expect("verify");
    assert_eq!(report.count, 50);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    // What is read back is what was written.
    let batch = queue.next_batch(100).expect("batch");
    assert_eq!(batch, records);
}

#[test]
fn reopening_keeps_the_device_and_continues_the_sequence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (device, last_hash) = {
        let queue = open_queue(dir.path()).expect("open");
        queue
            .append(&entry("9990000018", "no_plan"))
            .expect("append");
        let second = queue
            .append(&entry("9990000026", "no_plan"))
            .expect("append");
        (queue.device_id(), second.record_hash)
    };
    let queue = open_queue(dir.path()).expect("reopen");
    assert_eq!(queue.device_id(), device);
    let third = queue
        .append(&entry("9990000018", "no_plan"))
        .expect("append");
    assert_eq!(third.sequence, 3);
    assert_eq!(third.previous_hash, last_hash);
}

#[test]
fn deleting_a_row_is_found_as_a_gap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    for _ in 0..5 {
        queue
            .append(&entry("9990000018", "no_plan"))
            .expect("append");
    }
    open_raw(&queue)
        .execute("DELETE FROM records WHERE sequence = 3", [])
        .expect("tamper");
    let report = queue.verify_chain().expect("verify");
    assert!(
        report.findings.contains(&ChainFinding::Gap {
            expected: 3,
            found: 4
        }),
        "{:?}",
        report.findings
    );
    assert!(
        report
            .findings
            .contains(&ChainFinding::Break { sequence: 4 })
    );
}

#[test]
fn editing_a_row_is_found_as_a_break() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    for _ in 0..5 {
        queue
            .append(&entry("9990000018", "plan_found"))
            .expect("append");
    }
    open_raw(&queue)
        .execute(
            "UPDATE records SET patient_nhs_number = '9990000026' WHERE sequence = 2",
            [],
        )
        .expect("tamper");
    let report = queue.verify_chain().expect("verify");
    assert_eq!(report.findings, vec![ChainFinding::Break { sequence: 2 }]);
}

#[test]
fn sent_records_leave_the_batch_and_status_counts_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    let empty = queue.status().expect("status");
    assert_eq!((empty.waiting, empty.sent, empty.quarantined), (0, 0, 0));
    assert!(empty.oldest_waiting_at.is_none() && empty.last_success_at.is_none());
    let first = queue
        .append(&entry("9990000018", "no_plan"))
        .expect("append");
    let second = queue
        .append(&entry("9990000026", "no_plan"))
        .expect("append");
    let status = queue.status().expect("status");
    assert_eq!(status.waiting, 2);
    assert_eq!(status.oldest_waiting_at, Some(first.occurred_at));
    let now = OffsetDateTime::now_utc();
    queue.mark_sent(&[first.event_id], now).expect("mark");
    let status = queue.status().expect("status");
    assert_eq!((status.waiting, status.sent), (1, 1));
    assert_eq!(status.oldest_waiting_at, Some(second.occurred_at));
    assert!(status.last_success_at.is_some());
    assert_eq!(queue.next_batch(10).expect("batch"), vec![second]);
}

#[test]
fn a_poison_record_is_quarantined_and_the_queue_moves_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    let poison = queue
        .append(&entry("9990000018", "no_plan"))
        .expect("append");
    let good = queue
        .append(&entry("9990000026", "no_plan"))
        .expect("append");
    queue
        .quarantine(poison.event_id, "invalid: test", OffsetDateTime::now_utc())
        .expect("quarantine");
    assert_eq!(queue.next_batch(10).expect("batch"), vec![good]);
    let status = queue.status().expect("status");
    assert_eq!((status.waiting, status.quarantined), (1, 1));
    let quarantined = queue.quarantined().expect("list");
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].0.event_id, poison.event_id);
    assert_eq!(quarantined[0].1, "invalid: test");
    // Nothing is deleted: the chain is whole.
    assert!(queue.verify_chain().expect("verify").findings.is_empty());
}

#[test]
fn nothing_is_evicted_however_many_records_wait() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    for _ in 0..2_000 {
        queue
            .append(&entry("9990000018", "could_not_check"))
            .expect("append");
    }
    assert_eq!(queue.status().expect("status").waiting, 2_000);
    assert_eq!(queue.next_batch(5_000).expect("batch").len(), 2_000);
}

#[test]
fn a_corrupt_file_is_an_error_never_silence() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("audit-queue.sqlite3"),
        b"this is not a database, it is a test of corruption handling....",
    )
    .expect("write");
    let error = AuditQueue::open(dir.path()).expect_err("must refuse a corrupt file");
    let message = error.to_string();
    assert!(message.contains("audit queue"), "{message}");
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let queue = open_queue(dir.path()).expect("open");
        open_raw(&queue)
            .execute_batch("PRAGMA user_version = 99")
            .expect("bump");
    }
    let error = open_queue(dir.path()).expect_err("newer schema");
    assert!(matches!(
        error,
        cpis_audit::AuditError::NewerSchema { found: 99 }
    ));
}

/// Version 1 of the queue's schema as released, frozen here: a file written before plans were
/// recorded.
const SCHEMA_V1: &str = "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    CREATE TABLE records (
        sequence INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, device_id TEXT NOT NULL,
        occurred_at TEXT NOT NULL, action TEXT NOT NULL, user_id TEXT NOT NULL,
        user_name TEXT NOT NULL, role_profile_id TEXT NOT NULL, role_code TEXT NOT NULL,
        role_name TEXT NOT NULL, organisation_ods TEXT NOT NULL, organisation_name TEXT NOT NULL,
        patient_nhs_number TEXT NOT NULL, outcome TEXT NOT NULL, trace_id TEXT NOT NULL,
        unscheduled INTEGER NOT NULL, detail TEXT NOT NULL, previous_hash TEXT NOT NULL,
        record_hash TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'sent', 'quarantined')),
        sent_at TEXT
    ) STRICT;
    CREATE INDEX records_waiting ON records (state, sequence);
    CREATE TABLE quarantine (
        event_id TEXT PRIMARY KEY REFERENCES records (event_id),
        reason TEXT NOT NULL, quarantined_at TEXT NOT NULL
    ) STRICT;
    PRAGMA user_version = 1;";

#[test]
fn a_queue_written_before_plans_were_recorded_migrates_and_its_records_still_sync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit-queue.sqlite3");
    // A version 1 file with one record waiting, as the released app wrote it.
    let old = {
        let scratch = tempfile::tempdir().expect("tempdir");
        let queue = open_queue(scratch.path()).expect("open");
        queue
            .append(&entry("9990000018", "plan_found"))
            .expect("append")
    };
    assert_eq!(old.plans, None);
    {
        let connection = rusqlite::Connection::open(&path).expect("create v1");
        connection.execute_batch(SCHEMA_V1).expect("v1 schema");
        let actor = &old.actor;
        connection
            .execute(
                "INSERT INTO meta (key, value) VALUES ('device_id', ?1)",
                [old.device_id.to_string()],
            )
            .expect("device");
        connection
            .execute(
                "INSERT INTO records (event_id, device_id, sequence, occurred_at, action, user_id, user_name, role_profile_id, role_code, role_name, organisation_ods, organisation_name, patient_nhs_number, outcome, trace_id, unscheduled, detail, previous_hash, record_hash) VALUES (?1, ?2, 1, ?3, 'view', ?4, ?5, ?6, ?7, ?8, ?9, ?10, '9990000018', 'plan_found', ?11, 1, '', ?12, ?13)",
                rusqlite::params![
                    old.event_id.to_string(),
                    old.device_id.to_string(),
                    old.occurred_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .expect("time"),
                    actor.user_id,
                    actor.user_name,
                    actor.role.role_profile_id,
                    actor.role.role_code,
                    actor.role.role_name,
                    actor.role.organisation_ods,
                    actor.role.organisation_name,
                    old.trace_id.to_string(),
                    old.previous_hash,
                    old.record_hash,
                ],
            )
            .expect("v1 record");
    }
    let queue = open_queue(dir.path()).expect("migrates");
    let version: i64 = open_raw(&queue)
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("version");
    assert_eq!(version, cpis_audit::SCHEMA_VERSION);
    assert_eq!(version, 2);
    // The old record reads back whole, plans "not recorded", its hash unchanged and its
    // wire form exactly as before.
    let waiting = queue.next_batch(10).expect("batch");
    assert_eq!(waiting, vec![old.clone()]);
    assert!(queue.verify_chain().expect("verify").findings.is_empty());
    assert_eq!(
        cpis_audit::wire::to_audit_event(&waiting[0]),
        cpis_audit::wire::to_audit_event(&old)
    );
    // New records carry their plans, and the chain goes on from the old one.
    let mut view = entry("9990000026", "plan_found");
    view.plans = Some(plans_found());
    let new = queue.append(&view).expect("append");
    assert_eq!(new.sequence, 2);
    assert_eq!(new.previous_hash, old.record_hash);
    assert_eq!(new.plans, Some(plans_found()));
    assert_eq!(queue.next_batch(10).expect("batch"), vec![old, new]);
    assert!(queue.verify_chain().expect("verify").findings.is_empty());
    // Opening again applies nothing more.
    drop(queue);
    open_queue(dir.path()).expect("reopen");
}

#[test]
fn recorded_plans_are_stored_and_covered_by_the_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    let mut view = entry("9990000018", "plan_found");
    view.plans = Some(plans_found());
    let mut nothing = entry("9990000026", "no_plan");
    nothing.plans = Some(Vec::new());
    let stored = [
        queue.append(&view).expect("append"),
        queue.append(&nothing).expect("append"),
    ];
    assert_eq!(queue.next_batch(10).expect("batch"), stored);
    assert_eq!(
        stored[1].plans,
        Some(Vec::new()),
        "none found is not 'not recorded'"
    );
    assert!(queue.verify_chain().expect("verify").findings.is_empty());
    // Editing the recorded local authority breaks the chain.
    open_raw(&queue)
        .execute(
            "UPDATE records SET plans = replace(plans, 'Testshire', 'Otherwhere') WHERE sequence = 1",
            [],
        )
        .expect("edit");
    assert_eq!(
        queue.verify_chain().expect("verify").findings,
        vec![ChainFinding::Break { sequence: 1 }]
    );
}

#[test]
fn debug_output_has_no_patient_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    let new_entry = entry("9990000018", "plan_found");
    let record = queue.append(&new_entry).expect("append");
    for text in [format!("{new_entry:?}"), format!("{record:?}")] {
        assert!(!text.contains("9990000018"), "{text}");
        assert!(!text.contains("Robin"), "{text}");
    }
}

/// The app and `cpis` creating the same new queue at the same moment: every opener succeeds,
/// on the same schema and the same device id (issue 16: the schema version was read outside
/// the write transaction, so the slower one re-ran the first migration and failed).
#[test]
fn threads_creating_one_new_queue_at_once_all_open_it() {
    for _round in 0..40 {
        let dir = tempfile::tempdir().expect("tempdir");
        let openers = 4;
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(openers));
        let handles: Vec<_> = (0..openers)
            .map(|_| {
                let barrier = std::sync::Arc::clone(&barrier);
                let folder = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    barrier.wait();
                    open_queue(&folder).map(|queue| queue.device_id())
                })
            })
            .collect();
        let devices: BTreeSet<Uuid> = handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .expect("thread")
                    .unwrap_or_else(|error| panic!("an opener failed: {error}: {error:?}"))
            })
            .collect();
        assert_eq!(devices.len(), 1, "one device id: {devices:?}");
        let queue = open_queue(dir.path()).expect("reopen");
        queue
            .append(&entry("9990000018", "no_plan"))
            .expect("append");
        assert_eq!(queue.integrity_check().expect("integrity"), "ok");
    }
}

/// Child mode for the two-process test: wait for the start file, open the queue, print the
/// device id (or the error).
fn open_when_told(dir: &str) -> ! {
    let folder = std::path::Path::new(dir);
    let start = folder.with_extension("start");
    while !start.exists() {
        std::thread::sleep(Duration::from_micros(200));
    }
    match open_queue(folder) {
        Ok(queue) => println!("device {}", queue.device_id()),
        Err(error) => println!("error {error}"),
    }
    std::process::exit(0)
}

#[test]
fn two_processes_creating_one_new_queue_at_once_both_open_it() {
    if let Ok(dir) = std::env::var("CPIS_AUDIT_OPEN_CHILD_DIR") {
        open_when_told(&dir);
    }
    let exe = std::env::current_exe().expect("current exe");
    let parent = tempfile::tempdir().expect("tempdir");
    for round in 0..15 {
        let folder = parent.path().join(format!("data-{round}"));
        let children: Vec<_> = (0..2)
            .map(|_| {
                Command::new(&exe)
                    .args([
                        "--exact",
                        "two_processes_creating_one_new_queue_at_once_both_open_it",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env("CPIS_AUDIT_OPEN_CHILD_DIR", &folder)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn child")
            })
            .collect();
        // Both are waiting for the start file by now or soon: start them together.
        std::thread::sleep(Duration::from_millis(30));
        std::fs::write(folder.with_extension("start"), b"go").expect("start");
        let answers: Vec<String> = children
            .into_iter()
            .map(|child| {
                let output = child.wait_with_output().expect("child");
                // The test harness prints "test ... " on the same line first.
                let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
                ["device ", "error "]
                    .into_iter()
                    .find_map(|mark| stdout.find(mark).map(|at| &stdout[at..]))
                    .and_then(|answer| answer.lines().next())
                    .unwrap_or("no answer")
                    .to_owned()
            })
            .collect();
        assert!(
            answers.iter().all(|answer| answer.starts_with("device ")),
            "round {round}: {answers:?}"
        );
        assert_eq!(answers[0], answers[1], "one device id");
    }
}

/// Child mode for the kill test: append forever, printing each acknowledged sequence.
fn append_until_killed(dir: &str) -> ! {
    let queue = open_queue(std::path::Path::new(dir)).expect("child open");
    loop {
        let record = queue
            .append(&entry("9990000018", "plan_found"))
            .expect("child append");
        println!("ack {} {}", record.sequence, record.event_id);
    }
}

#[test]
fn kill_minus_nine_during_appends_loses_no_acknowledged_record() {
    if let Ok(dir) = std::env::var("CPIS_AUDIT_KILL_CHILD_DIR") {
        append_until_killed(&dir);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("current exe");
    let mut acknowledged = BTreeSet::new();
    let rounds = 40;
    for round in 0..rounds {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "kill_minus_nine_during_appends_loses_no_acknowledged_record",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CPIS_AUDIT_KILL_CHILD_DIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        // Kill after a varying number of acknowledgements, mid-write.
        let kill_after = 5 + (round * 7) % 23;
        let mut reader = BufReader::new(stdout);
        let mut seen = 0;
        let mut line = String::new();
        while seen < kill_after {
            line.clear();
            if reader.read_line(&mut line).expect("read") == 0 {
                break;
            }
            if let Some(rest) = line.strip_prefix("ack ") {
                let mut parts = rest.split_whitespace();
                let sequence: u64 = parts.next().and_then(|s| s.parse().ok()).expect("seq");
                let event: Uuid = parts.next().and_then(|s| s.parse().ok()).expect("id");
                acknowledged.insert((sequence, event));
                seen += 1;
            }
        }
        child.kill().expect("kill -9");
        // Whatever was acknowledged before the kill but still sits in the pipe counts too.
        for line in reader.lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("ack ") {
                let mut parts = rest.split_whitespace();
                if let (Some(sequence), Some(event)) = (
                    parts.next().and_then(|s| s.parse::<u64>().ok()),
                    parts.next().and_then(|s| s.parse::<Uuid>().ok()),
                ) {
                    acknowledged.insert((sequence, event));
                }
            }
        }
        let _ = child.wait();
        std::thread::sleep(Duration::from_millis(5));
    }
    let queue = open_queue(dir.path()).expect("open after kills");
    assert_eq!(queue.integrity_check().expect("integrity"), "ok");
    let report = queue.verify_chain().expect("verify");
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let stored: BTreeSet<(u64, Uuid)> = queue
        .next_batch(usize::MAX)
        .expect("batch")
        .into_iter()
        .map(|record| (record.sequence, record.event_id))
        .collect();
    let missing: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    assert!(acknowledged.len() >= rounds as usize * 5);
}

#[path = "it/wire_format.rs"]
mod wire_format;

#[path = "it/sync_logic.rs"]
mod sync_logic;

#[path = "it/golden_wire_bytes.rs"]
mod golden_wire_bytes;

// ---- Encryption at rest (issue 17) ----

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

fn starts_with_sqlite_magic(path: &std::path::Path) -> bool {
    std::fs::read(path)
        .expect("read file")
        .starts_with(SQLITE_MAGIC)
}

/// Whether any file in `folder` holds `needle` in clear.
fn folder_contains(folder: &std::path::Path, needle: &str) -> bool {
    std::fs::read_dir(folder).expect("folder").any(|entry| {
        let path = entry.expect("entry").path();
        path.is_file()
            && std::fs::read(&path)
                .expect("read")
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
    })
}

fn other_key() -> QueueKey {
    QueueKey::from_bytes([0x5a; 32])
}

#[test]
fn sqlcipher_is_compiled_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    let version = queue.cipher_version().expect("pragma").unwrap_or_default();
    assert!(
        !version.is_empty(),
        "PRAGMA cipher_version answered nothing"
    );
    let raw: String = open_raw(&queue)
        .query_row("PRAGMA cipher_version", [], |row| row.get(0))
        .expect("cipher_version on a raw connection");
    assert_eq!(raw, version);
}

#[test]
fn an_encrypted_queue_reveals_nothing_without_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open_queue(dir.path()).expect("open");
    for _ in 0..20 {
        queue
            .append(&entry("9990000018", "plan_found"))
            .expect("append");
    }
    // Both the file and its WAL (still open here) hold ciphertext only.
    assert!(!starts_with_sqlite_magic(queue.path()));
    assert!(!folder_contains(dir.path(), "9990000018"));
    assert!(!folder_contains(dir.path(), "Robin Testnurse"));
    assert!(!folder_contains(dir.path(), "test-user-ed-nurse"));
    // Plain SQLite, and SQLCipher with another key, cannot read it.
    let plain = rusqlite::Connection::open(queue.path()).expect("open");
    assert!(
        plain
            .query_row("SELECT count(*) FROM records", [], |row| row
                .get::<_, i64>(0))
            .is_err()
    );
    let wrong = keyed_connection(queue.path(), &other_key());
    assert!(
        wrong
            .query_row("SELECT count(*) FROM records", [], |row| row
                .get::<_, i64>(0))
            .is_err()
    );
    // The keyless constructor (tests and benches only) refuses it too.
    assert!(AuditQueue::open(dir.path()).is_err());
    // With the key, everything is there.
    let count: i64 = open_raw(&queue)
        .query_row("SELECT count(*) FROM records", [], |row| row.get(0))
        .expect("count");
    assert_eq!(count, 20);
}

/// A queue written before encryption: waiting, sent and quarantined records, a last success.
fn plain_queue_with_history(
    folder: &std::path::Path,
) -> (Uuid, Vec<QueuedRecord>, cpis_audit::QueueStatus) {
    let queue = AuditQueue::open(folder).expect("plain open");
    let records: Vec<QueuedRecord> = (0..12)
        .map(|index| {
            let mut view = entry("9990000018", "plan_found");
            if index % 3 == 0 {
                view.plans = Some(plans_found());
            }
            queue.append(&view).expect("append")
        })
        .collect();
    let sent: Vec<Uuid> = records[..5].iter().map(|record| record.event_id).collect();
    queue
        .mark_sent(&sent, OffsetDateTime::now_utc())
        .expect("sent");
    queue
        .quarantine(
            records[5].event_id,
            "422 invalid",
            OffsetDateTime::now_utc(),
        )
        .expect("quarantine");
    let status = queue.status().expect("status");
    assert_eq!((status.sent, status.quarantined, status.waiting), (5, 1, 6));
    assert!(starts_with_sqlite_magic(queue.path()));
    (queue.device_id(), records, status)
}

#[test]
fn a_plain_queue_is_encrypted_in_place_with_every_record_state_and_the_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (device, records, status_before) = plain_queue_with_history(dir.path());
    assert!(
        folder_contains(dir.path(), "9990000018"),
        "the old file is plain"
    );

    let queue = open_queue(dir.path()).expect("encrypts");
    assert_eq!(queue.set_aside_at_open(), None);
    assert_eq!(queue.device_id(), device, "the device id is kept");
    assert_eq!(queue.status().expect("status"), status_before);
    assert_eq!(queue.next_batch(100).expect("batch"), records[6..].to_vec());
    let quarantined = queue.quarantined().expect("quarantined");
    assert_eq!(
        quarantined,
        vec![(records[5].clone(), "422 invalid".to_owned())]
    );
    let report = queue.verify_chain().expect("verify");
    assert_eq!(report.count, 12);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(queue.integrity_check().expect("integrity"), "ok");
    // The chain goes on.
    let next = queue
        .append(&entry("9990000026", "no_plan"))
        .expect("append");
    assert_eq!(next.sequence, 13);
    assert_eq!(next.previous_hash, records[11].record_hash);
    // Nothing readable is left: not the file, not a WAL, not the copy being written.
    assert!(!starts_with_sqlite_magic(queue.path()));
    assert!(!folder_contains(dir.path(), "9990000018"));
    let names: BTreeSet<String> = std::fs::read_dir(dir.path())
        .expect("folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(
        names
            .iter()
            .all(|name| name.starts_with("audit-queue.sqlite3")
                || name == "audit-queue.lock"
                || name == "audit-queue.in-use"),
        "{names:?}"
    );
    let plain = rusqlite::Connection::open(queue.path()).expect("open");
    assert!(
        plain
            .query_row("SELECT count(*) FROM records", [], |row| row
                .get::<_, i64>(0))
            .is_err()
    );
    drop(plain);
    drop(queue);
    // Opening again finds it encrypted and changes nothing.
    let queue = open_queue(dir.path()).expect("reopen");
    assert_eq!(queue.device_id(), device);
    assert_eq!(queue.verify_chain().expect("verify").count, 13);
}

#[test]
fn a_plain_queue_with_a_broken_chain_is_encrypted_with_its_findings_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let findings = {
        let queue = AuditQueue::open(dir.path()).expect("plain open");
        for _ in 0..4 {
            queue
                .append(&entry("9990000018", "no_plan"))
                .expect("append");
        }
        rusqlite::Connection::open(queue.path())
            .expect("raw")
            .execute("DELETE FROM records WHERE sequence = 2", [])
            .expect("tamper");
        queue.verify_chain().expect("verify").findings
    };
    assert!(!findings.is_empty());
    let queue = open_queue(dir.path()).expect("encrypts a tampered file too, never refuses it");
    assert_eq!(queue.verify_chain().expect("verify").findings, findings);
}

/// The app and `cpis` under different keyrings (another keyring service, another user's
/// session): the one whose key does not read the queue must not set it aside while the other
/// has it open and is writing to it; its open fails and nothing changes.
#[test]
fn a_queue_another_program_has_open_is_never_set_aside_under_another_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = open_queue(dir.path()).expect("open");
    app.append(&entry("9990000018", "no_plan")).expect("append");
    let error = AuditQueue::open_encrypted(dir.path(), &other_key())
        .expect_err("another key must not take the open queue");
    assert!(
        matches!(error, cpis_audit::AuditError::InUseUnderAnotherKey),
        "{error:?}"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(
        !names.iter().any(|name| name.contains("unreadable")),
        "nothing set aside: {names:?}"
    );
    let next = app.append(&entry("9990000026", "no_plan")).expect("append");
    assert_eq!(next.sequence, 2);
    assert_eq!(app.status().expect("status").waiting, 2);
    drop(app);
    // Once nobody has it open, a key that cannot read it sets it aside as before.
    let queue = AuditQueue::open_encrypted(dir.path(), &other_key()).expect("a new queue");
    assert!(queue.set_aside_at_open().is_some());
}

#[test]
fn a_queue_the_key_cannot_read_is_set_aside_with_its_wal_and_reported_never_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = open_queue(dir.path()).expect("open");
    let records: Vec<QueuedRecord> = (0..3)
        .map(|_| {
            first
                .append(&entry("9990000018", "no_plan"))
                .expect("append")
        })
        .collect();
    let old_device = first.device_id();
    // The records still sit in the WAL: the app was killed, so it never checkpointed (a raw
    // connection left open keeps the last close from checkpointing), and its locks went with it.
    assert!(dir.path().join("audit-queue.sqlite3-wal").exists());
    let keeps_the_wal = open_raw(&first);
    let _: i64 = keeps_the_wal
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
        .expect("read");
    drop(first);
    std::mem::forget(keeps_the_wal);
    assert!(dir.path().join("audit-queue.sqlite3-wal").exists());

    // The keyring now holds another key (or lost it and a new one was made).
    let queue = AuditQueue::open_encrypted(dir.path(), &other_key()).expect("a new queue");
    let aside = queue.set_aside_at_open().expect("set aside").to_path_buf();
    let name = aside
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("audit-queue.unreadable-") && name.ends_with("Z.sqlite3"),
        "{name}"
    );
    assert_ne!(queue.device_id(), old_device, "a new queue is a new device");
    let status = queue.status().expect("status");
    assert_eq!(status.unreadable_files, vec![aside.clone()]);
    assert_eq!((status.waiting, status.sent), (0, 0));
    let new = queue
        .append(&entry("9990000026", "no_plan"))
        .expect("append");
    assert_eq!(new.sequence, 1);
    drop(queue);

    // Reopening under the new key keeps reporting the file, and sets nothing else aside.
    let queue = AuditQueue::open_encrypted(dir.path(), &other_key()).expect("reopen");
    assert_eq!(queue.set_aside_at_open(), None);
    assert_eq!(
        queue.status().expect("status").unreadable_files,
        vec![aside.clone()]
    );

    // With its own key found again, the set-aside file (its WAL moved with it) reads whole.
    assert!(AuditQueue::open_file_encrypted(&aside, &other_key()).is_err());
    let recovered = AuditQueue::open_file_encrypted(&aside, &test_key()).expect("recover");
    assert_eq!(recovered.device_id(), old_device);
    assert_eq!(recovered.next_batch(10).expect("batch"), records);
    assert!(
        recovered
            .verify_chain()
            .expect("verify")
            .findings
            .is_empty()
    );
}

#[test]
fn a_damaged_file_is_set_aside_and_reported_when_opened_encrypted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = b"this is not a database, it is a test of corruption handling....".repeat(100);
    std::fs::write(dir.path().join("audit-queue.sqlite3"), &garbage).expect("write");
    let queue = open_queue(dir.path()).expect("a new queue");
    let aside = queue.set_aside_at_open().expect("set aside").to_path_buf();
    assert_eq!(std::fs::read(&aside).expect("kept"), garbage);
    assert_eq!(
        queue.status().expect("status").unreadable_files,
        vec![aside]
    );
}

#[test]
fn no_key_from_the_keyring_fails_the_open_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open_queue(dir.path()).expect("open"));
    let before: BTreeSet<String> = std::fs::read_dir(dir.path())
        .expect("folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let bytes = std::fs::read(dir.path().join("audit-queue.sqlite3")).expect("read");
    let error = AuditQueue::open_encrypted_with(dir.path(), || {
        Err("the OS keyring is not available".to_owned())
    })
    .expect_err("no key, no queue");
    assert!(
        matches!(error, cpis_audit::AuditError::KeyUnavailable(_)),
        "{error:?}"
    );
    assert!(error.to_string().contains("keyring"), "{error}");
    let after: BTreeSet<String> = std::fs::read_dir(dir.path())
        .expect("folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(before, after, "nothing renamed or created");
    assert_eq!(
        std::fs::read(dir.path().join("audit-queue.sqlite3")).expect("read"),
        bytes
    );
    // A plain queue is not encrypted either when there is no key.
    let plain = tempfile::tempdir().expect("tempdir");
    plain_queue_with_history(plain.path());
    assert!(AuditQueue::open_encrypted_with(plain.path(), || Err("no keyring".into())).is_err());
    assert!(starts_with_sqlite_magic(
        &plain.path().join("audit-queue.sqlite3")
    ));
}

/// Child mode: wait for the start file, open the queue encrypted, print the device id and the
/// number of records (or the error).
fn encrypt_when_told(dir: &str) -> ! {
    let folder = std::path::Path::new(dir);
    let start = folder.with_extension("start");
    while !start.exists() {
        std::thread::sleep(Duration::from_micros(200));
    }
    match open_queue(folder).and_then(|queue| Ok((queue.device_id(), queue.verify_chain()?))) {
        Ok((device, report)) => println!(
            "device {device} records {} findings {}",
            report.count,
            report.findings.len()
        ),
        Err(error) => println!("error {error}"),
    }
    std::process::exit(0)
}

#[test]
fn two_processes_opening_one_plain_queue_at_once_end_on_one_encrypted_file_losing_nothing() {
    if let Ok(dir) = std::env::var("CPIS_AUDIT_ENCRYPT_CHILD_DIR") {
        encrypt_when_told(&dir);
    }
    let exe = std::env::current_exe().expect("current exe");
    let parent = tempfile::tempdir().expect("tempdir");
    for round in 0..6 {
        let folder = parent.path().join(format!("data-{round}"));
        let (device, records, status) = plain_queue_with_history(&folder);
        let children: Vec<_> = (0..2)
            .map(|_| {
                Command::new(&exe)
                    .args([
                        "--exact",
                        "two_processes_opening_one_plain_queue_at_once_end_on_one_encrypted_file_losing_nothing",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env("CPIS_AUDIT_ENCRYPT_CHILD_DIR", &folder)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn child")
            })
            .collect();
        std::thread::sleep(Duration::from_millis(30));
        std::fs::write(folder.with_extension("start"), b"go").expect("start");
        let expected = format!("device {device} records 12 findings 0");
        for child in children {
            let output = child.wait_with_output().expect("child");
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            let answer = ["device ", "error "]
                .into_iter()
                .find_map(|mark| stdout.find(mark).map(|at| &stdout[at..]))
                .and_then(|answer| answer.lines().next())
                .unwrap_or("no answer")
                .to_owned();
            assert_eq!(answer, expected, "round {round}");
        }
        let queue = open_queue(&folder).expect("open");
        assert_eq!(queue.set_aside_at_open(), None);
        assert_eq!(queue.status().expect("status"), status);
        assert_eq!(queue.next_batch(100).expect("batch"), records[6..].to_vec());
        assert!(!starts_with_sqlite_magic(queue.path()));
        assert!(!folder_contains(&folder, "9990000018"));
    }
}

/// The keyless constructor is for tests and benchmarks: no product source calls it outside a
/// test module.
#[test]
fn no_product_code_opens_the_queue_unencrypted() {
    fn sources(folder: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(folder).expect("folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                found.push(path);
            }
        }
    }
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates folder");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(crates).expect("crates") {
        let krate = entry.expect("entry").path();
        let name = krate
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        // The benchmarks measure the queue with and without encryption.
        if name == "cpis-bench" || !krate.join("src").is_dir() {
            continue;
        }
        sources(&krate.join("src"), &mut files);
    }
    assert!(files.len() > 20, "found the sources: {}", files.len());
    let mut offenders = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        // Everything from the first test module on is test code.
        let product = text.split("#[cfg(test)]").next().unwrap_or_default();
        if product.contains("AuditQueue::open(") {
            offenders.push(file);
        }
    }
    assert!(
        offenders.is_empty(),
        "open the queue with its key: {offenders:?}"
    );
}

/// Child mode: append to an unencrypted queue (as a version before encryption did), print
/// each acknowledged sequence, and wait to be killed.
fn append_plain_then_wait(dir: &str) -> ! {
    let queue = AuditQueue::open(std::path::Path::new(dir)).expect("child open");
    for _ in 0..5 {
        let record = queue
            .append(&entry("9990000018", "plan_found"))
            .expect("child append");
        println!("ack {} {}", record.sequence, record.event_id);
    }
    println!("waiting");
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn a_plain_queue_killed_before_its_first_checkpoint_is_encrypted_with_every_record() {
    if let Ok(dir) = std::env::var("CPIS_AUDIT_PLAIN_CHILD_DIR") {
        append_plain_then_wait(&dir);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("current exe");
    let mut child = Command::new(&exe)
        .args([
            "--exact",
            "a_plain_queue_killed_before_its_first_checkpoint_is_encrypted_with_every_record",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CPIS_AUDIT_PLAIN_CHILD_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let mut acknowledged = Vec::new();
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    while reader.read_line(&mut line).expect("read") > 0 {
        if line.contains("waiting") {
            break;
        }
        if let Some(at) = line.find("ack ") {
            let event: Uuid = line[at..]
                .split_whitespace()
                .nth(2)
                .and_then(|text| text.parse().ok())
                .expect("event id");
            acknowledged.push(event);
        }
        line.clear();
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert_eq!(acknowledged.len(), 5);
    let main = dir.path().join("audit-queue.sqlite3");
    let wal = dir.path().join("audit-queue.sqlite3-wal");
    // Everything is in the WAL (the main file may still be empty); it is plain.
    assert!(folder_contains(dir.path(), "9990000018"));
    assert!(wal.exists());

    let queue = open_queue(dir.path()).expect("encrypts");
    assert_eq!(
        queue.set_aside_at_open(),
        None,
        "a plain WAL is not taken for a wrong key"
    );
    let stored: Vec<Uuid> = queue
        .next_batch(10)
        .expect("batch")
        .into_iter()
        .map(|record| record.event_id)
        .collect();
    assert_eq!(stored, acknowledged);
    assert!(queue.verify_chain().expect("verify").findings.is_empty());
    assert!(!starts_with_sqlite_magic(&main));
    assert!(!folder_contains(dir.path(), "9990000018"));
}

#[test]
fn a_plain_queue_another_program_has_open_is_left_as_it_was_and_the_open_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, records, status) = plain_queue_with_history(dir.path());
    // An older version of the app still running, with the plain queue open.
    let old_app = AuditQueue::open(dir.path()).expect("plain open");
    let started = std::time::Instant::now();
    let error = open_queue(dir.path()).expect_err("cannot encrypt under another program");
    assert!(error.to_string().contains("audit queue"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(starts_with_sqlite_magic(
        &dir.path().join("audit-queue.sqlite3")
    ));
    assert_eq!(old_app.status().expect("status"), status);
    assert_eq!(
        old_app.next_batch(100).expect("batch"),
        records[6..].to_vec()
    );
    old_app
        .append(&entry("9990000026", "no_plan"))
        .expect("the old app goes on");
    drop(old_app);
    // Once it has closed, the next open encrypts, the old app's last record included.
    let queue = open_queue(dir.path()).expect("encrypts");
    assert_eq!(queue.verify_chain().expect("verify").count, 13);
    assert!(!starts_with_sqlite_magic(queue.path()));
}
