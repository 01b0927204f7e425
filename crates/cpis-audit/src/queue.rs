//! The queue itself: a SQLite file in the user's local data folder, appended to durably and
//! read in batches for the sync.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::chain::GENESIS_HASH;
use crate::error::AuditError;
use crate::record::{ChainFinding, ChainReport, NewAuditEntry, QueueStatus, QueuedRecord};
use crate::storage::{
    RECORD_COLUMNS, create_private_file, create_private_folder, device_id, format_time,
    insert_record, into_record, migrate, parse_time, read_raw,
};

/// The durable local audit queue.
#[derive(Debug)]
pub struct AuditQueue {
    connection: Mutex<Connection>,
    device_id: Uuid,
    path: PathBuf,
}

/// How long a statement waits for another connection's lock (the app's and `cpis`'s).
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Run `statement` again while SQLite answers "busy" without waiting (it does when waiting
/// could deadlock), for up to [`BUSY_TIMEOUT`].
pub(crate) fn retry_while_busy<T>(
    mut statement: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match statement() {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            result => return result,
        }
    }
}

/// The file name of the queue inside its folder.
pub const QUEUE_FILE_NAME: &str = "audit-queue.sqlite3";

impl AuditQueue {
    /// Open (creating if needed) the queue in `folder`, which is made owner-only.
    pub fn open(folder: &Path) -> Result<AuditQueue, AuditError> {
        create_private_folder(folder)?;
        let path = folder.join(QUEUE_FILE_NAME);
        create_private_file(&path)?;
        let mut connection = Connection::open(&path)?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        // Two openers of a new file (the app and `cpis`) both hold a read lock when they ask
        // for WAL; SQLite answers one of them "busy" at once rather than wait (waiting could
        // deadlock), so that one asks again.
        let journal_mode: String = retry_while_busy(|| {
            connection.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
        })?;
        if !journal_mode.eq_ignore_ascii_case("wal") {
            return Err(AuditError::Pragma {
                pragma: "journal_mode",
                value: journal_mode,
            });
        }
        connection.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
        migrate(&mut connection)?;
        let device_id = device_id(&connection)?;
        Ok(AuditQueue {
            connection: Mutex::new(connection),
            device_id,
            path,
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, AuditError> {
        self.connection.lock().map_err(|_| AuditError::Poisoned)
    }

    /// This device's id, generated when the queue was first created.
    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    /// The queue file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append a record. When this returns `Ok`, the record is on disk (fsynced) with the next
    /// sequence number and its chain hash. Never touches the network.
    pub fn append(&self, entry: &NewAuditEntry) -> Result<QueuedRecord, AuditError> {
        let mut connection = self.lock()?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: Option<(i64, String)> = transaction
            .query_row(
                "SELECT sequence, record_hash FROM records ORDER BY sequence DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let (sequence, previous_hash) = match last {
            Some((sequence, hash)) => (
                u64::try_from(sequence).map_err(|_| AuditError::Corrupt { what: "sequence" })? + 1,
                hash,
            ),
            None => (1, GENESIS_HASH.to_string()),
        };
        let mut record = QueuedRecord {
            event_id: Uuid::new_v4(),
            device_id: self.device_id,
            sequence,
            occurred_at: entry.occurred_at.to_offset(time::UtcOffset::UTC),
            action: entry.action,
            actor: entry.actor.clone(),
            patient_nhs_number: entry.patient_nhs_number.as_str().to_string(),
            outcome: entry.outcome.clone(),
            trace_id: entry.trace_id,
            unscheduled: entry.unscheduled,
            detail: entry.detail.clone(),
            plans: entry.plans.clone(),
            previous_hash,
            record_hash: String::new(),
        };
        // Truncate to whole microseconds' RFC 3339 text so the stored text re-parses to the
        // same value and the hash recomputes identically.
        let occurred_at = format_time(record.occurred_at);
        record.occurred_at = parse_time(&occurred_at, "time")?;
        record.record_hash = record.recompute_hash();
        insert_record(&transaction, &record, &occurred_at)?;
        transaction.commit()?;
        Ok(record)
    }

    /// Up to `limit` waiting records, oldest first.
    pub fn next_batch(&self, limit: usize) -> Result<Vec<QueuedRecord>, AuditError> {
        let connection = self.lock()?;
        let mut statement = connection.prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE state = 'waiting' ORDER BY sequence LIMIT ?1"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let raws = statement
            .query_map([limit], read_raw)?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(into_record).collect()
    }

    /// Up to `limit` waiting records with a sequence number above `after_sequence`, oldest
    /// first: the sync reads the next batch with this while the last one, still waiting, is
    /// on the wire or being marked sent.
    pub fn next_batch_after(
        &self,
        after_sequence: u64,
        limit: usize,
    ) -> Result<Vec<QueuedRecord>, AuditError> {
        let connection = self.lock()?;
        let mut statement = connection.prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM records WHERE state = 'waiting' AND sequence > ?1 ORDER BY sequence LIMIT ?2"
        ))?;
        let after = i64::try_from(after_sequence).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let raws = statement
            .query_map([after, limit], read_raw)?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(into_record).collect()
    }

    /// Mark records sent. Call only after the server has confirmed it committed them.
    pub fn mark_sent(&self, event_ids: &[Uuid], at: OffsetDateTime) -> Result<(), AuditError> {
        let mut connection = self.lock()?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at = format_time(at);
        {
            let mut statement = transaction.prepare_cached(
                "UPDATE records SET state = 'sent', sent_at = ?2 WHERE event_id = ?1 AND state = 'waiting'",
            )?;
            for event_id in event_ids {
                statement.execute(params![event_id.to_string(), at])?;
            }
        }
        transaction.execute(
            "INSERT INTO meta (key, value) VALUES ('last_success_at', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [&at],
        )?;
        transaction.commit()?;
        Ok(())
    }

    /// Move a record the server rejected as invalid to the quarantine, so the rest can go on.
    /// It stays on disk and visible; it is never deleted.
    pub fn quarantine(
        &self,
        event_id: Uuid,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<(), AuditError> {
        let mut connection = self.lock()?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = transaction.execute(
            "UPDATE records SET state = 'quarantined' WHERE event_id = ?1 AND state = 'waiting'",
            [event_id.to_string()],
        )?;
        if changed == 1 {
            transaction.execute(
                "INSERT INTO quarantine (event_id, reason, quarantined_at) VALUES (?1, ?2, ?3)",
                params![event_id.to_string(), reason, format_time(at)],
            )?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// Quarantined records with the reasons the server gave.
    pub fn quarantined(&self) -> Result<Vec<(QueuedRecord, String)>, AuditError> {
        let connection = self.lock()?;
        let columns = RECORD_COLUMNS
            .split(", ")
            .map(|column| format!("r.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut statement = connection.prepare(&format!(
            "SELECT {columns}, q.reason FROM records r JOIN quarantine q ON q.event_id = r.event_id ORDER BY r.sequence"
        ))?;
        let rows = statement
            .query_map([], |row| Ok((read_raw(row)?, row.get::<_, String>(20)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(raw, reason)| Ok((into_record(raw)?, reason)))
            .collect()
    }

    /// Counts and times for the status bar.
    pub fn status(&self) -> Result<QueueStatus, AuditError> {
        let connection = self.lock()?;
        let (waiting, sent, quarantined): (i64, i64, i64) = connection.query_row(
            "SELECT
                COALESCE(SUM(state = 'waiting'), 0),
                COALESCE(SUM(state = 'sent'), 0),
                COALESCE(SUM(state = 'quarantined'), 0)
             FROM records",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
        let oldest: Option<String> = connection
            .query_row(
                "SELECT occurred_at FROM records WHERE state = 'waiting' ORDER BY sequence LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?;
        let last_success: Option<String> = connection
            .query_row(
                "SELECT value FROM meta WHERE key = 'last_success_at'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        let count = |value: i64| u64::try_from(value).unwrap_or(0);
        Ok(QueueStatus {
            waiting: count(waiting),
            oldest_waiting_at: oldest.map(|text| parse_time(&text, "time")).transpose()?,
            last_success_at: last_success
                .map(|text| parse_time(&text, "time"))
                .transpose()?,
            quarantined: count(quarantined),
            sent: count(sent),
        })
    }

    /// Check the whole local chain: sequence numbers from 1 with no gap, and every hash.
    pub fn verify_chain(&self) -> Result<ChainReport, AuditError> {
        let connection = self.lock()?;
        let mut statement = connection.prepare(&format!(
            "SELECT {RECORD_COLUMNS} FROM records ORDER BY sequence"
        ))?;
        let mut rows = statement.query([])?;
        let mut expected_sequence = 1u64;
        let mut previous_hash = GENESIS_HASH.to_string();
        let mut count = 0u64;
        let mut findings = Vec::new();
        while let Some(row) = rows.next()? {
            let record = into_record(read_raw(row)?)?;
            count += 1;
            if record.sequence != expected_sequence {
                findings.push(ChainFinding::Gap {
                    expected: expected_sequence,
                    found: record.sequence,
                });
            }
            if record.previous_hash != previous_hash
                || record.recompute_hash() != record.record_hash
            {
                findings.push(ChainFinding::Break {
                    sequence: record.sequence,
                });
            }
            expected_sequence = record.sequence + 1;
            previous_hash = record.record_hash;
        }
        Ok(ChainReport { count, findings })
    }

    /// SQLite's own `PRAGMA integrity_check`; `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, AuditError> {
        let connection = self.lock()?;
        Ok(connection.query_row("PRAGMA integrity_check", [], |row| row.get(0))?)
    }

    /// The values of the durability pragmas, for tests and diagnostics.
    pub fn pragmas(&self) -> Result<(String, i64), AuditError> {
        let connection = self.lock()?;
        let journal_mode = connection.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
        let synchronous = connection.query_row("PRAGMA synchronous", [], |row| row.get(0))?;
        Ok((journal_mode, synchronous))
    }
}
