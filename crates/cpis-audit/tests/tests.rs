//! Integration tests of the local audit queue: durability settings, ordering, the chain,
//! tamper evidence, quarantine, and survival of kill -9 during appends.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use cpis_audit::{AuditAction, AuditQueue, ChainFinding, NewAuditEntry, QueuedRecord};
use cpis_domain::NhsNumber;
use time::OffsetDateTime;
use uuid::Uuid;

fn entry(nhs: &str, outcome: &str) -> NewAuditEntry {
    NewAuditEntry {
        occurred_at: OffsetDateTime::now_utc(),
        action: AuditAction::View,
        user_id: "test-user-ed-nurse".into(),
        user_name: "Robin Testnurse".into(),
        role_profile_id: "999000000101".into(),
        role_code: "R8001".into(),
        role_name: "Nurse".into(),
        organisation_ods: "Z9T01".into(),
        organisation_name: "Testshire General Hospital".into(),
        patient_nhs_number: NhsNumber::parse(nhs).expect("valid synthetic number"),
        outcome: outcome.into(),
        trace_id: Uuid::new_v4(),
        unscheduled: true,
        detail: String::new(),
    }
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
