//! Integration tests of the local audit queue: durability settings, ordering, the chain,
//! tamper evidence, quarantine, and survival of kill -9 during appends.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use cpis_audit::{
    AuditAction, AuditQueue, ChainFinding, NewAuditEntry, QueuedRecord, RecordedPlan,
};
use cpis_domain::{Actor, NhsNumber, PlanType, RoleRef};
use time::OffsetDateTime;
use uuid::Uuid;

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
    let queue = AuditQueue::open(dir.path()).expect("open");
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

fn open_raw(queue: &AuditQueue) -> rusqlite::Connection {
    rusqlite::Connection::open(queue.path()).expect("open raw")
}

#[test]
fn pragmas_are_wal_and_synchronous_full() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = AuditQueue::open(dir.path()).expect("open");
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
    let queue = AuditQueue::open(&folder).expect("open");
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
    let queue = AuditQueue::open(dir.path()).expect("open");
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
        let queue = AuditQueue::open(dir.path()).expect("open");
        queue
            .append(&entry("9990000018", "no_plan"))
            .expect("append");
        let second = queue
            .append(&entry("9990000026", "no_plan"))
            .expect("append");
        (queue.device_id(), second.record_hash)
    };
    let queue = AuditQueue::open(dir.path()).expect("reopen");
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
    let queue = AuditQueue::open(dir.path()).expect("open");
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
    let queue = AuditQueue::open(dir.path()).expect("open");
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
    let queue = AuditQueue::open(dir.path()).expect("open");
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
    let queue = AuditQueue::open(dir.path()).expect("open");
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
    let queue = AuditQueue::open(dir.path()).expect("open");
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
        let queue = AuditQueue::open(dir.path()).expect("open");
        open_raw(&queue)
            .execute_batch("PRAGMA user_version = 99")
            .expect("bump");
    }
    let error = AuditQueue::open(dir.path()).expect_err("newer schema");
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
        let queue = AuditQueue::open(scratch.path()).expect("open");
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
    let queue = AuditQueue::open(dir.path()).expect("migrates");
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
    AuditQueue::open(dir.path()).expect("reopen");
}

#[test]
fn recorded_plans_are_stored_and_covered_by_the_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = AuditQueue::open(dir.path()).expect("open");
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
    let queue = AuditQueue::open(dir.path()).expect("open");
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
                    AuditQueue::open(&folder).map(|queue| queue.device_id())
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
        let queue = AuditQueue::open(dir.path()).expect("reopen");
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
    match AuditQueue::open(folder) {
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
    let queue = AuditQueue::open(std::path::Path::new(dir)).expect("child open");
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
    let queue = AuditQueue::open(dir.path()).expect("open after kills");
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
