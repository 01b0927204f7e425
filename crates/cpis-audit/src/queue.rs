//! The queue itself: a SQLite file in the user's local data folder.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use cpis_domain::NhsNumber;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::chain::{CanonicalRecord, GENESIS_HASH, record_hash};

/// The schema version this code writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

const MIGRATIONS: &[&str] = &[
    // 1: the records, a meta table (device id, last sync) and the quarantine.
    "CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;
    CREATE TABLE records (
        sequence INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        device_id TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        action TEXT NOT NULL,
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        role_profile_id TEXT NOT NULL,
        role_code TEXT NOT NULL,
        role_name TEXT NOT NULL,
        organisation_ods TEXT NOT NULL,
        organisation_name TEXT NOT NULL,
        patient_nhs_number TEXT NOT NULL,
        outcome TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        unscheduled INTEGER NOT NULL,
        detail TEXT NOT NULL,
        previous_hash TEXT NOT NULL,
        record_hash TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'sent', 'quarantined')),
        sent_at TEXT
    ) STRICT;
    CREATE INDEX records_waiting ON records (state, sequence);
    CREATE TABLE quarantine (
        event_id TEXT PRIMARY KEY REFERENCES records (event_id),
        reason TEXT NOT NULL,
        quarantined_at TEXT NOT NULL
    ) STRICT;",
];

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// The record was looked up and shown (whatever the outcome).
    View,
    /// The user recorded that the local authority was contacted.
    LocalAuthorityContacted,
}

impl AuditAction {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::View => "view",
            AuditAction::LocalAuthorityContacted => "la_contacted",
        }
    }

    fn from_code(code: &str) -> Option<AuditAction> {
        match code {
            "view" => Some(AuditAction::View),
            "la_contacted" => Some(AuditAction::LocalAuthorityContacted),
            _ => None,
        }
    }
}

/// A view to record, as the caller knows it.
#[derive(Clone)]
pub struct NewAuditEntry {
    /// When the view happened.
    pub occurred_at: OffsetDateTime,
    /// What happened.
    pub action: AuditAction,
    /// User id (`sub`).
    pub user_id: String,
    /// User's name.
    pub user_name: String,
    /// Role profile id (`selected_roleid`).
    pub role_profile_id: String,
    /// Role code.
    pub role_code: String,
    /// Role name.
    pub role_name: String,
    /// Organisation ODS code.
    pub organisation_ods: String,
    /// Organisation name.
    pub organisation_name: String,
    /// Whose record was viewed.
    pub patient_nhs_number: NhsNumber,
    /// The outcome code (`LookupOutcome::code`).
    pub outcome: String,
    /// The TraceID sent to the service (a fresh one when nothing was sent).
    pub trace_id: Uuid,
    /// Whether this was an unscheduled-care access.
    pub unscheduled: bool,
    /// Structured detail for the action (for `la_contacted`: how and when); no free text.
    pub detail: String,
}

impl std::fmt::Debug for NewAuditEntry {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NewAuditEntry")
            .field("action", &self.action)
            .field("patient_nhs_number", &self.patient_nhs_number)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

/// A record as stored in the queue.
#[derive(Clone, PartialEq, Eq)]
pub struct QueuedRecord {
    /// Unique id, also the idempotency key on the server.
    pub event_id: Uuid,
    /// This device.
    pub device_id: Uuid,
    /// Per-device sequence number, from 1, gapless.
    pub sequence: u64,
    /// When the view happened.
    pub occurred_at: OffsetDateTime,
    /// What happened.
    pub action: AuditAction,
    /// User id.
    pub user_id: String,
    /// User's name.
    pub user_name: String,
    /// Role profile id.
    pub role_profile_id: String,
    /// Role code.
    pub role_code: String,
    /// Role name.
    pub role_name: String,
    /// Organisation ODS code.
    pub organisation_ods: String,
    /// Organisation name.
    pub organisation_name: String,
    /// The NHS number viewed (ten digits).
    pub patient_nhs_number: String,
    /// Outcome code.
    pub outcome: String,
    /// TraceID.
    pub trace_id: Uuid,
    /// Unscheduled access.
    pub unscheduled: bool,
    /// Action detail.
    pub detail: String,
    /// Hash of the previous record ([`GENESIS_HASH`] for the first).
    pub previous_hash: String,
    /// This record's hash.
    pub record_hash: String,
}

impl std::fmt::Debug for QueuedRecord {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("QueuedRecord")
            .field("event_id", &self.event_id)
            .field("sequence", &self.sequence)
            .field("action", &self.action)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

impl QueuedRecord {
    fn hash_with(
        &self,
        event_id: &str,
        device_id: &str,
        occurred_at: &str,
        trace_id: &str,
    ) -> String {
        let canonical = CanonicalRecord {
            event_id,
            device_id,
            sequence: self.sequence,
            occurred_at,
            action: self.action.code(),
            user_id: &self.user_id,
            user_name: &self.user_name,
            role_profile_id: &self.role_profile_id,
            role_code: &self.role_code,
            role_name: &self.role_name,
            organisation_ods: &self.organisation_ods,
            organisation_name: &self.organisation_name,
            patient_nhs_number: &self.patient_nhs_number,
            outcome: &self.outcome,
            trace_id,
            unscheduled: self.unscheduled,
            detail: &self.detail,
        };
        record_hash(&self.previous_hash, &canonical)
    }

    /// Recompute this record's hash from its fields and previous hash.
    pub fn recompute_hash(&self) -> String {
        let occurred_at = self.occurred_at.format(&Rfc3339).unwrap_or_default();
        self.hash_with(
            &self.event_id.to_string(),
            &self.device_id.to_string(),
            &occurred_at,
            &self.trace_id.to_string(),
        )
    }
}

/// The queue's state, for the status bar and `cpis audit status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStatus {
    /// Records waiting to be sent.
    pub waiting: u64,
    /// When the oldest waiting record happened.
    pub oldest_waiting_at: Option<OffsetDateTime>,
    /// When the server last confirmed a batch.
    pub last_success_at: Option<OffsetDateTime>,
    /// Records the server rejected as invalid.
    pub quarantined: u64,
    /// Records confirmed by the server.
    pub sent: u64,
}

/// Something wrong with the local chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFinding {
    /// Sequence numbers are missing (a row was deleted).
    Gap {
        /// The sequence number expected next.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// A record's hash does not match its fields or its predecessor (a row was edited).
    Break {
        /// The sequence number of the record that does not match.
        sequence: u64,
    },
}

/// The result of checking the local chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// How many records were checked.
    pub count: u64,
    /// What was wrong; empty when the chain is whole.
    pub findings: Vec<ChainFinding>,
}

/// Why the queue could not do what was asked. Messages carry no patient data.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The folder or file could not be created or opened.
    #[error("the audit queue could not be opened at its folder")]
    Open(#[source] std::io::Error),
    /// SQLite failed (disk full, corrupt file, locked).
    #[error("the audit queue could not be written or read")]
    Database(#[from] rusqlite::Error),
    /// The file was written by a newer version of the app.
    #[error(
        "the audit queue was written by a newer version (schema {found}, this is {SCHEMA_VERSION})"
    )]
    NewerSchema {
        /// The version found.
        found: i64,
    },
    /// A pragma did not take the value the queue needs.
    #[error("the audit queue could not set {pragma} (got {value})")]
    Pragma {
        /// Which pragma.
        pragma: &'static str,
        /// What it reported.
        value: String,
    },
    /// A stored value could not be read back.
    #[error("the audit queue holds a value it cannot read ({what})")]
    Corrupt {
        /// Which field.
        what: &'static str,
    },
    /// An internal lock was poisoned by a panic elsewhere.
    #[error("the audit queue is unavailable after an internal error")]
    Poisoned,
}

/// The durable local audit queue.
#[derive(Debug)]
pub struct AuditQueue {
    connection: Mutex<Connection>,
    device_id: Uuid,
    path: PathBuf,
}

/// The file name of the queue inside its folder.
pub const QUEUE_FILE_NAME: &str = "audit-queue.sqlite3";

fn create_private_folder(folder: &Path) -> Result<(), AuditError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .map_err(AuditError::Open)?;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))
            .map_err(AuditError::Open)?;
    }
    #[cfg(not(unix))]
    {
        // On Windows the user's local app data folder is already private to the user.
        std::fs::create_dir_all(folder).map_err(AuditError::Open)?;
    }
    Ok(())
}

fn create_private_file(path: &Path) -> Result<(), AuditError> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        options.open(path).map_err(AuditError::Open)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(AuditError::Open)?;
    }
    #[cfg(not(unix))]
    {
        options.open(path).map_err(AuditError::Open)?;
    }
    Ok(())
}

fn format_time(time: OffsetDateTime) -> String {
    // Stored in UTC; RFC 3339 formatting of a valid time cannot fail.
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn parse_time(text: &str, what: &'static str) -> Result<OffsetDateTime, AuditError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| AuditError::Corrupt { what })
}

fn parse_uuid(text: &str, what: &'static str) -> Result<Uuid, AuditError> {
    Uuid::parse_str(text).map_err(|_| AuditError::Corrupt { what })
}

const RECORD_COLUMNS: &str = "event_id, device_id, sequence, occurred_at, action, user_id, user_name, role_profile_id, role_code, role_name, organisation_ods, organisation_name, patient_nhs_number, outcome, trace_id, unscheduled, detail, previous_hash, record_hash";

type RawRecord = (
    String,
    String,
    i64,
    String,
    String,
    [String; 8],
    String,
    String,
    i64,
    String,
    String,
    String,
);

fn read_raw(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        [
            row.get(5)?,
            row.get(6)?,
            row.get(7)?,
            row.get(8)?,
            row.get(9)?,
            row.get(10)?,
            row.get(11)?,
            row.get(12)?,
        ],
        row.get(13)?,
        row.get(14)?,
        row.get(15)?,
        row.get(16)?,
        row.get(17)?,
        row.get(18)?,
    ))
}

fn into_record(raw: RawRecord) -> Result<QueuedRecord, AuditError> {
    let (
        event_id,
        device_id,
        sequence,
        occurred_at,
        action,
        texts,
        outcome,
        trace_id,
        unscheduled,
        detail,
        previous_hash,
        record_hash,
    ) = raw;
    let [
        user_id,
        user_name,
        role_profile_id,
        role_code,
        role_name,
        organisation_ods,
        organisation_name,
        patient_nhs_number,
    ] = texts;
    Ok(QueuedRecord {
        event_id: parse_uuid(&event_id, "event id")?,
        device_id: parse_uuid(&device_id, "device id")?,
        sequence: u64::try_from(sequence).map_err(|_| AuditError::Corrupt { what: "sequence" })?,
        occurred_at: parse_time(&occurred_at, "time")?,
        action: AuditAction::from_code(&action).ok_or(AuditError::Corrupt { what: "action" })?,
        user_id,
        user_name,
        role_profile_id,
        role_code,
        role_name,
        organisation_ods,
        organisation_name,
        patient_nhs_number,
        outcome,
        trace_id: parse_uuid(&trace_id, "trace id")?,
        unscheduled: unscheduled != 0,
        detail,
        previous_hash,
        record_hash,
    })
}

impl AuditQueue {
    /// Open (creating if needed) the queue in `folder`, which is made owner-only.
    pub fn open(folder: &Path) -> Result<AuditQueue, AuditError> {
        create_private_folder(folder)?;
        let path = folder.join(QUEUE_FILE_NAME);
        create_private_file(&path)?;
        let mut connection = Connection::open(&path)?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        let journal_mode: String =
            connection.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
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
            user_id: entry.user_id.clone(),
            user_name: entry.user_name.clone(),
            role_profile_id: entry.role_profile_id.clone(),
            role_code: entry.role_code.clone(),
            role_name: entry.role_name.clone(),
            organisation_ods: entry.organisation_ods.clone(),
            organisation_name: entry.organisation_name.clone(),
            patient_nhs_number: entry.patient_nhs_number.as_str().to_string(),
            outcome: entry.outcome.clone(),
            trace_id: entry.trace_id,
            unscheduled: entry.unscheduled,
            detail: entry.detail.clone(),
            previous_hash,
            record_hash: String::new(),
        };
        // Truncate to whole microseconds' RFC 3339 text so the stored text re-parses to the
        // same value and the hash recomputes identically.
        let occurred_at = format_time(record.occurred_at);
        record.occurred_at = parse_time(&occurred_at, "time")?;
        record.record_hash = record.recompute_hash();
        let sequence_value =
            i64::try_from(sequence).map_err(|_| AuditError::Corrupt { what: "sequence" })?;
        transaction.execute(
            &format!(
                "INSERT INTO records ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
            ),
            params![
                record.event_id.to_string(),
                record.device_id.to_string(),
                sequence_value,
                occurred_at,
                record.action.code(),
                record.user_id,
                record.user_name,
                record.role_profile_id,
                record.role_code,
                record.role_name,
                record.organisation_ods,
                record.organisation_name,
                record.patient_nhs_number,
                record.outcome,
                record.trace_id.to_string(),
                i64::from(record.unscheduled),
                record.detail,
                record.previous_hash,
                record.record_hash,
            ],
        )?;
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
            .query_map([], |row| Ok((read_raw(row)?, row.get::<_, String>(19)?)))?
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

fn migrate(connection: &mut Connection) -> Result<(), AuditError> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(AuditError::NewerSchema { found: version });
    }
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (index, migration) in MIGRATIONS.iter().enumerate() {
        let target = i64::try_from(index).unwrap_or(i64::MAX) + 1;
        if target > version {
            transaction.execute_batch(migration)?;
            transaction.execute_batch(&format!("PRAGMA user_version = {target}"))?;
        }
    }
    transaction.commit()?;
    Ok(())
}

fn device_id(connection: &Connection) -> Result<Uuid, AuditError> {
    connection.execute(
        "INSERT INTO meta (key, value) VALUES ('device_id', ?1) ON CONFLICT (key) DO NOTHING",
        [Uuid::new_v4().to_string()],
    )?;
    let text: String = connection.query_row(
        "SELECT value FROM meta WHERE key = 'device_id'",
        [],
        |row| row.get(0),
    )?;
    parse_uuid(&text, "device id")
}
