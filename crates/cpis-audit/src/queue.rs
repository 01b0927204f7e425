//! The queue itself: a SQLite file in the user's local data folder, appended to durably and
//! read in batches for the sync.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::chain::GENESIS_HASH;
use crate::error::AuditError;
use crate::key::QueueKey;
use crate::record::{ChainFinding, ChainReport, NewAuditEntry, QueueStatus, QueuedRecord};
use crate::storage::{
    FileKind, RECORD_COLUMNS, beside, classify, create_private_file, create_private_folder,
    device_id, format_time, hold_in_use, insert_record, into_record, lock_folder, migrate,
    parse_time, read_raw, remove_if_present, set_aside, someone_has_it_open, sync_folder,
    unreadable_files,
};

/// The durable local audit queue.
#[derive(Debug)]
pub struct AuditQueue {
    connection: Mutex<Connection>,
    device_id: Uuid,
    path: PathBuf,
    set_aside_now: Option<PathBuf>,
    /// The shared lock on the folder's in-use file while this queue is open (queues opened
    /// with the key); no other process sets the file aside meanwhile.
    _in_use: Option<std::fs::File>,
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
    /// Open (creating if needed) the queue in `folder` **unencrypted**: for tests and
    /// benchmarks only. The app and `cpis` open it with [`AuditQueue::open_encrypted_with`];
    /// a check in this crate's tests (`no_product_code_opens_the_queue_unencrypted`) fails
    /// when any other source calls this outside a test. It refuses an encrypted file.
    pub fn open(folder: &Path) -> Result<AuditQueue, AuditError> {
        create_private_folder(folder)?;
        let path = folder.join(QUEUE_FILE_NAME);
        create_private_file(&path)?;
        let connection = Connection::open(&path)?;
        AuditQueue::finish_open(connection, path, None)
    }

    /// Open (creating if needed) the queue in `folder`, encrypted with `key`. See
    /// [`AuditQueue::open_encrypted_with`].
    pub fn open_encrypted(folder: &Path, key: &QueueKey) -> Result<AuditQueue, AuditError> {
        AuditQueue::open_encrypted_with(folder, || Ok(key.clone()))
    }

    /// Open (creating if needed) the queue in `folder`, encrypted with SQLCipher under the key
    /// `key` gives (called once, while the folder's lock is held, so two processes that both
    /// find no key in the keyring cannot each make one). The folder is made owner-only.
    ///
    /// - an unencrypted queue (written before encryption) is encrypted first: exported into a
    ///   new encrypted file, checked (every row and the chain the same), fsynced and renamed
    ///   over the old one; its records keep their sequence, chain and state;
    /// - a queue the key cannot read (the keyring lost its key, or holds another) is never
    ///   deleted: it is moved aside as `audit-queue.unreadable-<UTC time>.sqlite3` with its
    ///   WAL, and a new queue (new device id) is started; [`AuditQueue::set_aside_at_open`]
    ///   names it and [`QueueStatus::unreadable_files`] lists every such file until IT deals
    ///   with them;
    /// - when `key` fails (keyring unavailable) the open fails and nothing is changed.
    pub fn open_encrypted_with(
        folder: &Path,
        key: impl FnOnce() -> Result<QueueKey, String>,
    ) -> Result<AuditQueue, AuditError> {
        create_private_folder(folder)?;
        let _lock = lock_folder(folder)?;
        let path = folder.join(QUEUE_FILE_NAME);
        let kind = classify(&path)?;
        let key = key().map_err(AuditError::KeyUnavailable)?;
        let mut set_aside_now = None;
        match kind {
            FileKind::New => {}
            FileKind::Plain => encrypt_plain_file(folder, &path, &key)?,
            FileKind::Encrypted => {
                if !key_reads(&path, &key)? {
                    // Another program reads it with its key (a keyring other than ours): the
                    // file is not lost, so it is never set aside from under that program.
                    if someone_has_it_open(folder)? {
                        return Err(AuditError::InUseUnderAnotherKey);
                    }
                    set_aside_now = Some(set_aside(&path, OffsetDateTime::now_utc())?);
                }
            }
        }
        create_private_file(&path)?;
        let connection = open_with_key(&path, &key)?;
        let mut queue = AuditQueue::finish_open(connection, path, set_aside_now)?;
        queue._in_use = Some(hold_in_use(folder)?);
        Ok(queue)
    }

    /// Open an existing encrypted queue file at `path` under `key`: a file set aside earlier
    /// (`audit-queue.unreadable-….sqlite3`) once its key is found again, to send its records.
    /// Fails, changing nothing, when the key does not read it.
    pub fn open_file_encrypted(path: &Path, key: &QueueKey) -> Result<AuditQueue, AuditError> {
        if !path.is_file() {
            return Err(AuditError::Open(std::io::Error::from(
                std::io::ErrorKind::NotFound,
            )));
        }
        if classify(path)? != FileKind::Encrypted || !key_reads(path, key)? {
            return Err(AuditError::WrongKey);
        }
        let connection = open_with_key(path, key)?;
        AuditQueue::finish_open(connection, path.to_path_buf(), None)
    }

    /// The pragmas, the schema and the device id, on a connection that can read the file.
    fn finish_open(
        mut connection: Connection,
        path: PathBuf,
        set_aside_now: Option<PathBuf>,
    ) -> Result<AuditQueue, AuditError> {
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
            set_aside_now,
            _in_use: None,
        })
    }

    /// The file this open moved aside because the key could not read it, if it did.
    pub fn set_aside_at_open(&self) -> Option<&Path> {
        self.set_aside_now.as_deref()
    }

    /// The SQLCipher version compiled in (`PRAGMA cipher_version`), `None` when the queue's
    /// SQLite has no encryption.
    pub fn cipher_version(&self) -> Result<Option<String>, AuditError> {
        let connection = self.lock()?;
        Ok(connection
            .query_row("PRAGMA cipher_version", [], |row| row.get(0))
            .optional()?)
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
            unreadable_files: match self.path.parent() {
                Some(folder) => unreadable_files(folder)?,
                None => Vec::new(),
            },
        })
    }

    /// Check the whole local chain: sequence numbers from 1 with no gap, and every hash.
    pub fn verify_chain(&self) -> Result<ChainReport, AuditError> {
        let connection = self.lock()?;
        chain_report(&connection)
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

/// Check the chain of the records in `connection`: sequence numbers from 1 with no gap, and
/// every hash.
fn chain_report(connection: &Connection) -> Result<ChainReport, AuditError> {
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
        if record.previous_hash != previous_hash || record.recompute_hash() != record.record_hash {
            findings.push(ChainFinding::Break {
                sequence: record.sequence,
            });
        }
        expected_sequence = record.sequence + 1;
        previous_hash = record.record_hash;
    }
    Ok(ChainReport { count, findings })
}

/// A connection to `path` under `key`: `PRAGMA key` is the first statement, and a build
/// without SQLCipher (where `PRAGMA key` silently does nothing) is refused.
fn open_with_key(path: &Path, key: &QueueKey) -> Result<Connection, AuditError> {
    let connection = Connection::open(path)?;
    connection
        .query_row(&format!("PRAGMA key = \"{}\"", key.sql_value()), [], |_| {
            Ok(())
        })
        .optional()?;
    // SQLCipher otherwise writes its own errors to stderr (a wrong key is one, and is
    // expected); the queue reports them as errors instead.
    connection
        .query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))
        .optional()?;
    let cipher: Option<String> = connection
        .query_row("PRAGMA cipher_version", [], |row| row.get(0))
        .optional()?;
    if cipher.is_none_or(|version| version.is_empty()) {
        return Err(AuditError::NoEncryption);
    }
    connection.busy_timeout(BUSY_TIMEOUT)?;
    Ok(connection)
}

/// Whether `key` reads the encrypted file at `path` (SQLCipher answers "not a database" to a
/// wrong key). Reads only.
fn key_reads(path: &Path, key: &QueueKey) -> Result<bool, AuditError> {
    let connection = open_with_key(path, key)?;
    match retry_while_busy(|| {
        connection.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
            row.get::<_, i64>(0)
        })
    }) {
        Ok(_) => Ok(true),
        Err(rusqlite::Error::SqliteFailure(error, _))
            if error.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}

/// The name of the encrypted copy while a plain queue is being encrypted.
const ENCRYPTING_FILE_NAME: &str = "audit-queue.encrypting.sqlite3";

/// A digest of every row of the queue's tables, in key order: two files with the same digest
/// hold the same records, states, quarantine and meta.
fn content_digest(connection: &Connection) -> Result<(Vec<i64>, String), AuditError> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut counts = Vec::new();
    for table in ["meta", "records", "quarantine"] {
        let mut statement = connection.prepare(&format!("SELECT * FROM {table} ORDER BY 1"))?;
        let columns = statement.column_count();
        let mut rows = statement.query([])?;
        let mut count = 0i64;
        while let Some(row) = rows.next()? {
            count += 1;
            for index in 0..columns {
                let value: rusqlite::types::Value = row.get(index)?;
                hasher.update(format!("{value:?}\u{1f}").as_bytes());
            }
            hasher.update(b"\x1e");
        }
        counts.push(count);
        hasher.update(table.as_bytes());
    }
    Ok((counts, hex::encode(hasher.finalize())))
}

/// Encrypt the unencrypted queue at `path` in place: bring it to the current schema, export
/// it into a new encrypted file, check the copy holds the same rows and the same chain, fsync
/// it and rename it over the old file. Until the rename the plain file is untouched (but for
/// its schema and a checkpoint), so a crash part-way leaves it whole and the next open starts
/// again. Called with the folder's lock held.
fn encrypt_plain_file(folder: &Path, path: &Path, key: &QueueKey) -> Result<(), AuditError> {
    let failed = |what: &str| AuditError::Encrypting {
        what: what.to_owned(),
    };
    let temporary = folder.join(ENCRYPTING_FILE_NAME);
    for leftover in [
        temporary.clone(),
        beside(&temporary, "-journal"),
        beside(&temporary, "-wal"),
        beside(&temporary, "-shm"),
    ] {
        remove_if_present(&leftover)?;
    }
    create_private_file(&temporary)?;
    let temporary_text = temporary
        .to_str()
        .ok_or_else(|| failed("the data folder's path is not UTF-8"))?;
    {
        let mut plain = Connection::open(path)?;
        plain.busy_timeout(BUSY_TIMEOUT)?;
        migrate(&mut plain)?;
        // Out of WAL: everything checkpointed into the file and the WAL removed, so nothing
        // of the plain queue is left beside the encrypted one after the rename.
        let mode: String = retry_while_busy(|| {
            plain.query_row("PRAGMA journal_mode=DELETE", [], |row| row.get(0))
        })?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(failed("another program has the unencrypted queue open"));
        }
        let before = (content_digest(&plain)?, chain_report(&plain)?);
        let version: i64 = plain.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        plain.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            params![temporary_text, key.sql_value()],
        )?;
        plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        plain.execute_batch(&format!("PRAGMA encrypted.user_version = {version}"))?;
        plain.execute_batch("DETACH DATABASE encrypted")?;
        let encrypted = open_with_key(&temporary, key)?;
        let after = (content_digest(&encrypted)?, chain_report(&encrypted)?);
        let version_after: i64 =
            encrypted.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        drop(encrypted);
        if before != after || version != version_after {
            return Err(failed("the encrypted copy differs from the original"));
        }
        std::fs::File::open(&temporary)
            .and_then(|file| file.sync_all())
            .map_err(AuditError::Open)?;
    }
    std::fs::rename(&temporary, path).map_err(AuditError::Open)?;
    for leftover in [
        beside(path, "-wal"),
        beside(path, "-shm"),
        beside(path, "-journal"),
    ] {
        remove_if_present(&leftover)?;
    }
    sync_folder(folder)
}

/// Rename a set-aside queue file whose records have all been sent
/// (`audit-queue.unreadable-X.sqlite3` → `audit-queue.recovered-X.sqlite3`), so status no
/// longer reports it; it is kept, never deleted. Call with no connection open on it.
pub fn retire_recovered(path: &Path) -> Result<PathBuf, AuditError> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let renamed = name.replacen("audit-queue.unreadable-", "audit-queue.recovered-", 1);
    if renamed == name {
        return Err(AuditError::Open(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a set-aside audit queue file",
        )));
    }
    let target = path.with_file_name(renamed);
    let wal = beside(path, "-wal");
    if wal.exists() {
        std::fs::rename(&wal, beside(&target, "-wal")).map_err(AuditError::Open)?;
    }
    std::fs::rename(path, &target).map_err(AuditError::Open)?;
    remove_if_present(&beside(path, "-shm"))?;
    Ok(target)
}
