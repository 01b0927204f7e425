//! Audit append latency: the real `AuditQueue::append` (SQLCipher-encrypted as the app opens it,
//! WAL, synchronous=FULL, IMMEDIATE transaction, chained hash) beside the same queue
//! unencrypted (`plain_append_us`: the cost of encryption) and a bare rusqlite insert of a row
//! of the same size, in its own transaction, with the same journal mode and synchronous=FULL,
//! in the same folder. The three are interleaved one for one so that all see the same disk.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use cpis_audit::chain::actor_texts;
use cpis_audit::{AuditAction, AuditQueue, NewAuditEntry, QueueKey, QueuedRecord};
use cpis_domain::{Actor, NhsNumber, RoleRef};
use rusqlite::{Connection, params};
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct AppendArgs {
    /// An empty (or missing) folder on the disk to measure.
    #[arg(long)]
    pub dir: PathBuf,
    /// Timed appends (and as many bare inserts).
    #[arg(long, default_value_t = 2000)]
    pub samples: usize,
    /// Untimed appends first.
    #[arg(long, default_value_t = 100)]
    pub warmup: usize,
}

/// A synthetic entry like the app's: an unscheduled view by a nurse.
pub fn entry(index: u64) -> anyhow::Result<NewAuditEntry> {
    Ok(NewAuditEntry {
        occurred_at: time::OffsetDateTime::now_utc(),
        action: AuditAction::View,
        actor: Actor {
            user_id: "bench-nurse".into(),
            user_name: "Bea Bench-Test".into(),
            role: RoleRef {
                role_profile_id: "role-bench-nurse".into(),
                role_code: "R8000".into(),
                role_name: "Nurse Access Role".into(),
                organisation_ods: "ZZ1ED".into(),
                organisation_name: "ZZ1ED Hospital (synthetic)".into(),
            },
        },
        patient_nhs_number: synthetic_number(index)?,
        outcome: "plans_found".into(),
        trace_id: uuid::Uuid::new_v4(),
        unscheduled: true,
        detail: String::new(),
        plans: None,
    })
}

/// A valid number in the synthetic 999 range, varying with `index`.
pub fn synthetic_number(index: u64) -> anyhow::Result<NhsNumber> {
    (index..index + 20)
        .find_map(|n| {
            let mut digits = [9u8, 9, 9, 0, 0, 0, 0, 0, 0];
            let mut rest = n % 1_000_000;
            for slot in digits[3..].iter_mut().rev() {
                *slot = (rest % 10) as u8;
                rest /= 10;
            }
            NhsNumber::from_first_nine(digits)
        })
        .context("no valid synthetic number")
}

/// The bytes a record stores, roughly: its text fields.
fn stored_size(record: &QueuedRecord) -> usize {
    36 * 3
        + 30
        + actor_texts(&record.actor)
            .map(str::len)
            .iter()
            .sum::<usize>()
        + record.patient_nhs_number.len()
        + record.outcome.len()
        + record.detail.len()
        + record.previous_hash.len()
        + record.record_hash.len()
}

pub fn run(args: &AppendArgs) -> anyhow::Result<String> {
    // A random key, as the app's (which the keyring keeps); the benchmark's is thrown away.
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let queue = AuditQueue::open_encrypted(&args.dir.join("queue"), &QueueKey::from_bytes(key))
        .context("open the queue")?;
    anyhow::ensure!(
        queue.cipher_version()?.is_some(),
        "the queue is not encrypted (no SQLCipher)"
    );
    let plain_queue =
        AuditQueue::open(&args.dir.join("plain-queue")).context("open the plain queue")?;
    let bare_dir = args.dir.join("bare");
    std::fs::create_dir_all(&bare_dir)?;
    let mut bare = Connection::open(bare_dir.join("bare.sqlite3"))?;
    let journal_mode: String = bare.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
    anyhow::ensure!(journal_mode.eq_ignore_ascii_case("wal"), "no WAL");
    bare.execute_batch(
        "PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL) STRICT;",
    )?;
    let (_, synchronous) = queue.pragmas()?;
    let bare_synchronous: i64 = bare.query_row("PRAGMA synchronous", [], |row| row.get(0))?;
    anyhow::ensure!(
        synchronous == 2 && bare_synchronous == 2,
        "synchronous is not FULL"
    );

    let mut append_us = Vec::with_capacity(args.samples);
    let mut bare_us = Vec::with_capacity(args.samples);
    let mut plain_append_us = Vec::with_capacity(args.samples);
    let mut row_bytes = 0;
    for index in 0..(args.warmup + args.samples) {
        let entry = entry(index as u64)?;
        let started = Instant::now();
        let record = queue.append(&entry).context("append")?;
        let append_time = started.elapsed();
        let started = Instant::now();
        plain_queue.append(&entry).context("plain append")?;
        let plain_time = started.elapsed();

        row_bytes = stored_size(&record);
        let payload = "x".repeat(row_bytes);
        let started = Instant::now();
        {
            let transaction = bare.transaction()?;
            transaction
                .prepare_cached("INSERT INTO rows (payload) VALUES (?1)")?
                .execute(params![payload])?;
            transaction.commit()?;
        }
        let bare_time = started.elapsed();
        if index >= args.warmup {
            append_us.push(append_time.as_secs_f64() * 1e6);
            bare_us.push(bare_time.as_secs_f64() * 1e6);
            plain_append_us.push(plain_time.as_secs_f64() * 1e6);
        }
    }
    Ok(json!({
        "append_us": append_us,
        "bare_us": bare_us,
        "plain_append_us": plain_append_us,
        "row_bytes": row_bytes,
        "journal_mode": "wal",
    })
    .to_string())
}
