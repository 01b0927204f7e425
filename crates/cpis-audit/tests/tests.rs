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

mod wire_format {
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
            let empty =
                read_search_page(br#"{"resourceType":"Bundle","type":"searchset","total":0}"#)
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
}

mod sync_logic {
    use super::*;
    use cpis_audit::sync::{AuditTransport, SyncError, TransportError, sync_until_empty};
    use cpis_audit::wire::{parse_batch, to_batch_response};
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
}

/// The stored and sent form of AuditEvents, byte for byte: the central log stores
/// `to_audit_event(record).to_string()` and keeps it for ever, so any change to these bytes
/// would make old and new events differ in form. Captured from the `json!` builder before the
/// typed `cpis_fhir` wire types replaced it (issue 13).
mod golden_wire_bytes {
    use super::*;
    use cpis_audit::wire::{to_audit_event, to_batch_bundle, to_batch_response};

    fn record(action: AuditAction, no_role: bool) -> QueuedRecord {
        let mut record = QueuedRecord {
            event_id: Uuid::parse_str("8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11").expect("uuid"),
            device_id: Uuid::parse_str("0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b").expect("uuid"),
            sequence: 7,
            occurred_at: time::macros::datetime!(2026-11-25 10:00:00.123456 UTC),
            action,
            actor: Actor {
                user_id: "900000000001".into(),
                user_name: "Tess \"T\" Triage-Test Ünïcode".into(),
                role: RoleRef {
                    role_profile_id: "555021935107".into(),
                    role_code: "R8001".into(),
                    role_name: "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"".into(),
                    organisation_ods: "ZZ1ED".into(),
                    organisation_name: "Northshire General Hospital".into(),
                },
            },
            patient_nhs_number: "9990000018".into(),
            outcome: "could_not_check".into(),
            trace_id: Uuid::parse_str("3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f").expect("uuid"),
            unscheduled: action == AuditAction::View,
            detail: if action == AuditAction::View {
                "reason=timeout".into()
            } else {
                "method=phone;contacted_at=2026-11-25 10:05:00.0 +00:00:00".into()
            },
            plans: None,
            previous_hash: cpis_audit::GENESIS_HASH.into(),
            record_hash: String::new(),
        };
        if no_role {
            record.actor.role = RoleRef::default();
            record.outcome = "plan_found".into();
        }
        record.record_hash = record.recompute_hash();
        record
    }

    #[test]
    fn a_view_is_stored_byte_for_byte_as_before() {
        let view = record(AuditAction::View, false);
        assert_eq!(
            view.record_hash,
            "c7becc433d45edbdfcee9bef58c0183c171e38e4ca2c7610d9d6343c7dabb89a"
        );
        assert_eq!(to_audit_event(&view).to_string(), GOLDEN_VIEW);
    }

    #[test]
    fn a_contact_without_a_role_is_stored_byte_for_byte_as_before() {
        let contact = record(AuditAction::LocalAuthorityContacted, true);
        assert_eq!(
            contact.record_hash,
            "2100cfce331cf58e813d6dbbaa53fb1a861a38463ca76866e987f6142d3d00c0"
        );
        assert_eq!(to_audit_event(&contact).to_string(), GOLDEN_CONTACT);
    }

    #[test]
    fn batches_and_responses_are_sent_byte_for_byte_as_before() {
        let records = [
            record(AuditAction::View, false),
            record(AuditAction::LocalAuthorityContacted, true),
        ];
        let batch = serde_json::to_string(&to_batch_bundle(&records)).expect("json");
        assert_eq!(
            batch,
            format!(
                "{{\"entry\":[{{\"fullUrl\":\"urn:uuid:8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11\",\"request\":{{\"method\":\"POST\",\"url\":\"AuditEvent\"}},\"resource\":{GOLDEN_VIEW}}},{{\"fullUrl\":\"urn:uuid:8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11\",\"request\":{{\"method\":\"POST\",\"url\":\"AuditEvent\"}},\"resource\":{GOLDEN_CONTACT}}}],\"resourceType\":\"Bundle\",\"type\":\"batch\"}}"
            )
        );
        let empty = serde_json::to_string(&to_batch_bundle(&[])).expect("json");
        assert_eq!(
            empty,
            r#"{"entry":[],"resourceType":"Bundle","type":"batch"}"#
        );
        let response = serde_json::to_string(&to_batch_response(&[
            "201 Created".into(),
            "422 Unprocessable Entity".into(),
        ]))
        .expect("json");
        assert_eq!(
            response,
            r#"{"entry":[{"response":{"status":"201 Created"}},{"response":{"status":"422 Unprocessable Entity"}}],"resourceType":"Bundle","type":"batch-response"}"#
        );
    }

    const GOLDEN_VIEW: &str = r#"{"action":"R","agent":[{"requestor":true,"who":{"display":"Northshire General Hospital","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"ZZ1ED"},"type":"Organization"}},{"requestor":true,"role":[{"coding":[{"code":"555021935107","system":"https://fhir.nhs.uk/Id/sds-role-profile-id"},{"code":"R8001","display":"\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"","system":"https://fhir.nhs.uk/Id/sds-job-role-code"}]}],"who":{"display":"Tess \"T\" Triage-Test Ünïcode","identifier":{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"900000000001"},"type":"Practitioner"}},{"requestor":false,"who":{"display":"CP-IS Viewer","identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"},"type":"Device"}}],"entity":[{"role":{"code":"1","display":"Patient","system":"http://terminology.hl7.org/CodeSystem/object-role"},"type":{"code":"1","display":"Person","system":"http://terminology.hl7.org/CodeSystem/audit-entity-type"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}}},{"type":{"code":"XrequestId","system":"https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/transaction","value":"3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f"}}},{"detail":[{"type":"sequence","valueString":"7"},{"type":"previousHash","valueString":"0000000000000000000000000000000000000000000000000000000000000000"},{"type":"recordHash","valueString":"c7becc433d45edbdfcee9bef58c0183c171e38e4ca2c7610d9d6343c7dabb89a"},{"type":"action","valueString":"view"},{"type":"unscheduled","valueString":"true"},{"type":"detail","valueString":"reason=timeout"}],"type":{"code":"chain","system":"https://cpis-viewer.dev/CodeSystem/audit-chain"},"what":{"identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}}}],"id":"8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11","outcome":"4","outcomeDesc":"could_not_check","recorded":"2026-11-25T10:00:00.123456Z","resourceType":"AuditEvent","source":{"observer":{"display":"CP-IS Viewer","identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}},"site":"cpis-viewer","type":[{"code":"1","display":"User Device","system":"http://terminology.hl7.org/CodeSystem/security-source-type"}]},"subtype":[{"code":"search-type","system":"http://hl7.org/fhir/restful-interaction"}],"type":{"code":"rest","system":"http://terminology.hl7.org/CodeSystem/audit-event-type"}}"#;
    const GOLDEN_CONTACT: &str = r#"{"action":"C","agent":[{"requestor":true,"who":{"display":"","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":""},"type":"Organization"}},{"requestor":true,"role":[{"coding":[{"code":"","system":"https://fhir.nhs.uk/Id/sds-role-profile-id"},{"code":"","display":"","system":"https://fhir.nhs.uk/Id/sds-job-role-code"}]}],"who":{"display":"Tess \"T\" Triage-Test Ünïcode","identifier":{"system":"https://fhir.nhs.uk/Id/sds-user-id","value":"900000000001"},"type":"Practitioner"}},{"requestor":false,"who":{"display":"CP-IS Viewer","identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"},"type":"Device"}}],"entity":[{"role":{"code":"1","display":"Patient","system":"http://terminology.hl7.org/CodeSystem/object-role"},"type":{"code":"1","display":"Person","system":"http://terminology.hl7.org/CodeSystem/audit-entity-type"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}}},{"type":{"code":"XrequestId","system":"https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"},"what":{"identifier":{"system":"https://fhir.nhs.uk/Id/transaction","value":"3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f"}}},{"detail":[{"type":"sequence","valueString":"7"},{"type":"previousHash","valueString":"0000000000000000000000000000000000000000000000000000000000000000"},{"type":"recordHash","valueString":"2100cfce331cf58e813d6dbbaa53fb1a861a38463ca76866e987f6142d3d00c0"},{"type":"action","valueString":"la_contacted"},{"type":"unscheduled","valueString":"false"},{"type":"detail","valueString":"method=phone;contacted_at=2026-11-25 10:05:00.0 +00:00:00"}],"type":{"code":"chain","system":"https://cpis-viewer.dev/CodeSystem/audit-chain"},"what":{"identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}}}],"id":"8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11","outcome":"0","outcomeDesc":"plan_found","recorded":"2026-11-25T10:00:00.123456Z","resourceType":"AuditEvent","source":{"observer":{"display":"CP-IS Viewer","identifier":{"system":"https://cpis-viewer.dev/Id/device","value":"0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}},"site":"cpis-viewer","type":[{"code":"1","display":"User Device","system":"http://terminology.hl7.org/CodeSystem/security-source-type"}]},"subtype":[{"code":"create","system":"http://hl7.org/fhir/restful-interaction"}],"type":{"code":"rest","system":"http://terminology.hl7.org/CodeSystem/audit-event-type"}}"#;
}
