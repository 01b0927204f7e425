//! Backlog drain: a queue holding `records` waiting records is synced to the reference service
//! with `sync_until_empty` and the real `HttpAuditTransport`, timed until empty, twice: on the
//! batch path (the service advertises `batch` in its CapabilityStatement, so the transport
//! sends `batch` Bundles of 500) and on the PARS path (`HttpAuditTransport::prefer_single_events`:
//! one `POST /AuditEvent` per event, up to `EVENTS_IN_FLIGHT` at once). Beside each, its
//! baseline: the same number of bodies, of the same bytes, POSTed one after another to the bare
//! server's sink (HTTP and serialisation floor, no storage).
//!
//! Both queues are encrypted (SQLCipher, `AuditQueue::open_encrypted`), as the app's is.
//! Filling 100,000 records through `append` would cost 100,000 fsyncs and measure the append,
//! not the drain; the backlog is instead written in one transaction with the queue's own schema
//! and hash chain (each record's hash from `QueuedRecord::recompute_hash`), and the chain is
//! verified with `AuditQueue::verify_chain` before the timing starts. Afterwards the central
//! log's own tables are read: every event stored exactly once, no chain finding recorded, and no
//! device with events parked beyond a hole (an open gap).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use cpis_audit::chain::actor_texts;
use cpis_audit::sync::{DEFAULT_BATCH_SIZE, HttpAuditTransport, sync_until_empty};
use cpis_audit::wire::{audit_event_json, batch_bundle_json};
use cpis_audit::{AuditAction, AuditQueue, GENESIS_HASH, QueueKey, QueuedRecord};
use rusqlite::types::ToSql;
use rusqlite::{Connection, OpenFlags, params, params_from_iter};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

#[derive(Debug, clap::Args)]
pub struct DrainArgs {
    /// An empty (or missing) folder for the queues.
    #[arg(long)]
    pub dir: PathBuf,
    /// The service's base URL (`http://127.0.0.1:PORT`).
    #[arg(long)]
    pub service: String,
    /// The bare server's base URL, for the baselines; none when absent.
    #[arg(long)]
    pub bare: Option<String>,
    /// Records in each backlog.
    #[arg(long, default_value_t = 100_000)]
    pub records: u64,
    /// The service's SQLite database, read after the drains to count what it stored and
    /// every chain finding; not read when absent.
    #[arg(long)]
    pub central_db: Option<PathBuf>,
    /// The bearer token.
    #[arg(long, env = "CPIS_BENCH_TOKEN")]
    pub token: String,
}

/// Write `count` waiting records after the queue's last one, chained, in one transaction.
fn fill(queue: &AuditQueue, key: &QueueKey, count: u64) -> anyhow::Result<()> {
    let mut connection = Connection::open(queue.path())?;
    // The queue is encrypted: the key is the first statement, as the queue itself does it.
    connection.query_row(
        &format!("PRAGMA key = \"x'{}'\"", key.expose_hex()),
        [],
        |_| Ok(()),
    )?;
    connection.busy_timeout(Duration::from_secs(5))?;
    let transaction = connection.transaction()?;
    let last: Option<(i64, String)> = transaction
        .query_row(
            "SELECT sequence, record_hash FROM records ORDER BY sequence DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .ok();
    let (mut sequence, mut previous_hash) = match last {
        Some((sequence, hash)) => (u64::try_from(sequence)?, hash),
        None => (0, GENESIS_HASH.to_string()),
    };
    let base = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .context("time")?
        - time::Duration::hours(1);
    {
        let mut statement = transaction.prepare(
            "INSERT INTO records (event_id, device_id, sequence, occurred_at, action, user_id, user_name, role_profile_id, role_code, role_name, organisation_ods, organisation_name, patient_nhs_number, outcome, trace_id, unscheduled, detail, previous_hash, record_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )?;
        for index in 0..count {
            sequence += 1;
            let entry = crate::append::entry(index)?;
            let occurred_at = base + time::Duration::milliseconds(i64::try_from(index)?);
            let mut record = QueuedRecord {
                event_id: uuid::Uuid::new_v4(),
                device_id: queue.device_id(),
                sequence,
                occurred_at,
                action: AuditAction::View,
                actor: entry.actor,
                patient_nhs_number: entry.patient_nhs_number.as_str().to_string(),
                outcome: entry.outcome,
                trace_id: entry.trace_id,
                unscheduled: entry.unscheduled,
                detail: entry.detail,
                plans: None,
                previous_hash: previous_hash.clone(),
                record_hash: String::new(),
            };
            record.record_hash = record.recompute_hash();
            let head = params![
                record.event_id.to_string(),
                record.device_id.to_string(),
                i64::try_from(sequence)?,
                occurred_at.format(&Rfc3339)?,
                record.action.code(),
            ];
            let actor = actor_texts(&record.actor);
            let tail = params![
                record.patient_nhs_number,
                record.outcome,
                record.trace_id.to_string(),
                i64::from(record.unscheduled),
                record.detail,
                record.previous_hash,
                record.record_hash,
            ];
            statement.execute(params_from_iter(
                head.iter()
                    .copied()
                    .chain(actor.iter().map(|text| text as &dyn ToSql))
                    .chain(tail.iter().copied()),
            ))?;
            previous_hash = record.record_hash;
        }
    }
    transaction.commit()?;
    Ok(())
}

/// POST `body` `count` times, one after another, to the bare sink; the seconds it took.
async fn baseline(bare: &str, token: &str, body: &[u8], count: u64) -> anyhow::Result<f64> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let url = format!("{bare}/sink");
    let started = Instant::now();
    for _ in 0..count {
        let response = client
            .post(&url)
            .bearer_auth(token)
            .header("Content-Type", "application/fhir+json")
            .body(body.to_vec())
            .send()
            .await?
            .error_for_status()?;
        response.bytes().await?;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Fill a fresh encrypted queue in `folder` and drain it on one path; its figures.
async fn drain_path(args: &DrainArgs, folder: &Path, single_events: bool) -> anyhow::Result<Value> {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let key = QueueKey::from_bytes(key);
    let queue = Arc::new(AuditQueue::open_encrypted(folder, &key).context("open the queue")?);
    let started = Instant::now();
    fill(&queue, &key, args.records)?;
    let fill_s = started.elapsed().as_secs_f64();
    let chain = queue.verify_chain()?;
    anyhow::ensure!(
        chain.findings.is_empty(),
        "the filled backlog's chain does not verify: {chain:?}"
    );
    let status = queue.status()?;
    anyhow::ensure!(
        status.waiting == args.records,
        "the backlog holds {} records, not {}",
        status.waiting,
        args.records
    );
    let first_batch = queue.next_batch(DEFAULT_BATCH_SIZE)?;
    let first = first_batch.first().context("an empty backlog")?;
    let (body, requests) = if single_events {
        (audit_event_json(first), args.records)
    } else {
        (
            batch_bundle_json(&first_batch),
            args.records.div_ceil(DEFAULT_BATCH_SIZE as u64),
        )
    };
    let baseline_s = match &args.bare {
        Some(bare) => Some(baseline(bare, &args.token, &body, requests).await?),
        None => None,
    };

    let token = args.token.clone();
    let transport = HttpAuditTransport::new(
        reqwest::Url::parse(&format!("{}/audit/FHIR/R4", args.service))?,
        Arc::new(move || Some(token.clone())),
        Duration::from_secs(60),
    )
    .map_err(|error| anyhow::anyhow!("{error}"))?;
    let transport = if single_events {
        transport.prefer_single_events()
    } else {
        transport
    };
    let started = Instant::now();
    let report = sync_until_empty(&queue, &transport, DEFAULT_BATCH_SIZE)
        .await
        .map_err(|error| anyhow::anyhow!("sync failed: {error}"))?;
    let drain_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.sent == args.records && report.quarantined == 0,
        "sync sent {} and quarantined {} of {}",
        report.sent,
        report.quarantined,
        args.records
    );
    let status = queue.status()?;
    anyhow::ensure!(status.waiting == 0, "{} still waiting", status.waiting);
    Ok(json!({
        "requests": requests,
        "body_bytes": body.len(),
        "fill_s": fill_s,
        "drain_s": drain_s,
        "baseline_s": baseline_s,
    }))
}

/// What the central log stored: (events, chain findings recorded plus devices with an open
/// hole, i.e. events parked beyond a missing sequence number).
fn central_counts(database: &Path) -> anyhow::Result<(i64, i64)> {
    let connection = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    connection.busy_timeout(Duration::from_secs(5))?;
    let count = |table: &str| -> anyhow::Result<i64> {
        Ok(
            connection.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
                row.get(0)
            })?,
        )
    };
    let open_holes: i64 = connection.query_row(
        "SELECT COUNT(*) FROM audit_log_devices WHERE max_sequence > last_sequence",
        [],
        |row| row.get(0),
    )?;
    Ok((
        count("audit_log_events")?,
        count("audit_log_findings")? + open_holes,
    ))
}

pub async fn run(args: &DrainArgs) -> anyhow::Result<String> {
    let batch = drain_path(args, &args.dir.join("queue-batch"), false).await?;
    let single = drain_path(args, &args.dir.join("queue-single"), true).await?;
    let central = match &args.central_db {
        Some(database) => {
            let (events, findings) = central_counts(database)?;
            let expected = i64::try_from(2 * args.records)?;
            anyhow::ensure!(
                events == expected,
                "the central log holds {events} events, not {expected}"
            );
            anyhow::ensure!(
                findings == 0,
                "the central log recorded {findings} chain findings for an intact backlog"
            );
            json!({"events": events, "findings": findings})
        }
        None => Value::Null,
    };
    Ok(json!({
        "records": args.records,
        "batch": batch,
        "single": single,
        "central": central,
    })
    .to_string())
}
