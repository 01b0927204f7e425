//! The queue's SQLite file: migrating it to the current schema, the owner-only folder and
//! file, this device's id, and the record rows as stored text.

use std::path::Path;

use rusqlite::types::ToSql;
use rusqlite::{Connection, TransactionBehavior, params_from_iter};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::chain::{actor_from_texts, actor_texts};
use crate::error::AuditError;
use crate::plan::RecordedPlan;
use crate::record::{AuditAction, QueuedRecord};
use crate::schema::{MIGRATIONS, SCHEMA_VERSION};

pub(crate) fn create_private_folder(folder: &Path) -> Result<(), AuditError> {
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

pub(crate) fn create_private_file(path: &Path) -> Result<(), AuditError> {
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

pub(crate) fn format_time(time: OffsetDateTime) -> String {
    // Stored in UTC; RFC 3339 formatting of a valid time cannot fail.
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn parse_time(text: &str, what: &'static str) -> Result<OffsetDateTime, AuditError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| AuditError::Corrupt { what })
}

pub(crate) fn parse_uuid(text: &str, what: &'static str) -> Result<Uuid, AuditError> {
    Uuid::parse_str(text).map_err(|_| AuditError::Corrupt { what })
}

pub(crate) const RECORD_COLUMNS: &str = "event_id, device_id, sequence, occurred_at, action, user_id, user_name, role_profile_id, role_code, role_name, organisation_ods, organisation_name, patient_nhs_number, outcome, trace_id, unscheduled, detail, previous_hash, record_hash, plans";

/// One recorded plan as the queue stores it, in the `plans` column's JSON array.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPlan {
    /// The SNOMED CT code, empty when not known.
    #[serde(rename = "type")]
    plan_type: String,
    /// The local authority's name.
    local_authority: String,
    /// Its ODS code, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    local_authority_ods: Option<String>,
}

/// The `plans` column's text for recorded plans (`None`: not recorded, stored as NULL).
pub(crate) fn plans_text(plans: Option<&[RecordedPlan]>) -> Option<String> {
    let stored: Vec<StoredPlan> = plans?
        .iter()
        .map(|plan| StoredPlan {
            plan_type: plan.plan_type_code().to_owned(),
            local_authority: plan.local_authority.clone(),
            local_authority_ods: plan.local_authority_ods.clone(),
        })
        .collect();
    // Serialising plain strings cannot fail.
    serde_json::to_string(&stored).ok()
}

/// The recorded plans in a `plans` column's text.
pub(crate) fn plans_from_text(text: Option<&str>) -> Result<Option<Vec<RecordedPlan>>, AuditError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let corrupt = || AuditError::Corrupt { what: "plans" };
    let stored: Vec<StoredPlan> = serde_json::from_str(text).map_err(|_| corrupt())?;
    stored
        .into_iter()
        .map(|plan| {
            let plan_type = match plan.plan_type.as_str() {
                "" => None,
                code => Some(cpis_domain::PlanType::from_snomed_code(code).ok_or_else(corrupt)?),
            };
            Ok(RecordedPlan::new(
                plan_type,
                &plan.local_authority,
                plan.local_authority_ods.as_deref(),
            ))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

pub(crate) type RawRecord = (
    String,
    String,
    i64,
    String,
    String,
    [String; 7],
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    Option<String>,
);

pub(crate) fn read_raw(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecord> {
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
        ],
        row.get(12)?,
        row.get(13)?,
        row.get(14)?,
        row.get(15)?,
        row.get(16)?,
        row.get(17)?,
        row.get(18)?,
        row.get(19)?,
    ))
}

pub(crate) fn into_record(raw: RawRecord) -> Result<QueuedRecord, AuditError> {
    let (
        event_id,
        device_id,
        sequence,
        occurred_at,
        action,
        actor,
        patient_nhs_number,
        outcome,
        trace_id,
        unscheduled,
        detail,
        previous_hash,
        record_hash,
        plans,
    ) = raw;
    Ok(QueuedRecord {
        event_id: parse_uuid(&event_id, "event id")?,
        device_id: parse_uuid(&device_id, "device id")?,
        sequence: u64::try_from(sequence).map_err(|_| AuditError::Corrupt { what: "sequence" })?,
        occurred_at: parse_time(&occurred_at, "time")?,
        action: AuditAction::from_code(&action).ok_or(AuditError::Corrupt { what: "action" })?,
        actor: actor_from_texts(actor),
        patient_nhs_number,
        outcome,
        trace_id: parse_uuid(&trace_id, "trace id")?,
        unscheduled: unscheduled != 0,
        detail,
        plans: plans_from_text(plans.as_deref())?,
        previous_hash,
        record_hash,
    })
}

/// Insert `record` as a row of [`RECORD_COLUMNS`], its time stored as `occurred_at`.
pub(crate) fn insert_record(
    connection: &Connection,
    record: &QueuedRecord,
    occurred_at: &str,
) -> Result<(), AuditError> {
    let event_id = record.event_id.to_string();
    let device_id = record.device_id.to_string();
    let sequence =
        i64::try_from(record.sequence).map_err(|_| AuditError::Corrupt { what: "sequence" })?;
    let trace_id = record.trace_id.to_string();
    let unscheduled = i64::from(record.unscheduled);
    let actor = actor_texts(&record.actor);
    let plans = plans_text(record.plans.as_deref());
    let head: [&dyn ToSql; 5] = [
        &event_id,
        &device_id,
        &sequence,
        &occurred_at,
        &record.action.code(),
    ];
    let tail: [&dyn ToSql; 8] = [
        &record.patient_nhs_number,
        &record.outcome,
        &trace_id,
        &unscheduled,
        &record.detail,
        &record.previous_hash,
        &record.record_hash,
        &plans,
    ];
    let values = head
        .into_iter()
        .chain(actor.iter().map(|text| text as &dyn ToSql))
        .chain(tail);
    connection.execute(
        &format!(
            "INSERT INTO records ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
        ),
        params_from_iter(values),
    )?;
    Ok(())
}

/// Bring the file to [`SCHEMA_VERSION`]. The version is read inside the same write
/// transaction (`BEGIN IMMEDIATE`) that applies the migrations, so when the app and `cpis`
/// create a new queue at the same moment the second one waits, then finds the schema made
/// and applies nothing (reading it before the transaction, both saw version 0 and the
/// second failed re-creating the tables).
pub(crate) fn migrate(connection: &mut Connection) -> Result<(), AuditError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(AuditError::NewerSchema { found: version });
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
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

pub(crate) fn device_id(connection: &Connection) -> Result<Uuid, AuditError> {
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

/// The first 16 bytes of every unencrypted SQLite file. An SQLCipher file starts with its
/// random salt instead.
pub(crate) const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What is at the queue's path before it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// No file, or an empty one with nothing committed in a WAL: a new queue.
    New,
    /// An unencrypted SQLite file (written before the queue was encrypted).
    Plain,
    /// Anything else: an SQLCipher file (or a damaged one).
    Encrypted,
}

/// `path` with `suffix` appended to its file name (`-wal`, `-shm`, `-journal`).
pub(crate) fn beside(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

/// Up to 16 bytes of `path` from `offset`; `None` when the file is missing or shorter.
fn sixteen_bytes_at(path: &Path, offset: u64) -> Result<Option<[u8; 16]>, AuditError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(AuditError::Open(error)),
    };
    let length = file.metadata().map_err(AuditError::Open)?.len();
    if length < offset + 16 {
        return Ok(if length > 0 && offset == 0 {
            // A main file shorter than a header is damaged: never taken for a new one.
            Some([0; 16])
        } else {
            None
        });
    }
    let mut bytes = [0u8; 16];
    file.seek(SeekFrom::Start(offset))
        .map_err(AuditError::Open)?;
    file.read_exact(&mut bytes).map_err(AuditError::Open)?;
    Ok(Some(bytes))
}

/// Whether the file at `path` is new, unencrypted or encrypted, from its first bytes. A WAL
/// file's first frame holds page 1 at byte 56 (32-byte WAL header, 24-byte frame header): a
/// queue killed before its first checkpoint has an empty main file and everything in the WAL.
pub(crate) fn classify(path: &Path) -> Result<FileKind, AuditError> {
    let header = match sixteen_bytes_at(path, 0)? {
        Some(header) => Some(header),
        None => sixteen_bytes_at(&beside(path, "-wal"), 56)?,
    };
    Ok(match header {
        None => FileKind::New,
        Some(header) if &header == SQLITE_MAGIC => FileKind::Plain,
        Some(_) => FileKind::Encrypted,
    })
}

/// The lock file beside the queue: held while a process opens, encrypts or sets aside the
/// queue, so the app and `cpis` never do that at the same time.
pub(crate) const LOCK_FILE_NAME: &str = "audit-queue.lock";

/// The file every open queue holds a shared lock on for as long as it is open, so that no
/// process sets aside a queue another one (the app, `cpis`) has open.
pub(crate) const IN_USE_FILE_NAME: &str = "audit-queue.in-use";

fn open_in_use_file(folder: &Path) -> Result<std::fs::File, AuditError> {
    let path = folder.join(IN_USE_FILE_NAME);
    create_private_file(&path)?;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(AuditError::Open)
}

/// A shared lock on the folder's in-use file, held by an open queue until it is dropped.
pub(crate) fn hold_in_use(folder: &Path) -> Result<std::fs::File, AuditError> {
    let file = open_in_use_file(folder)?;
    file.lock_shared().map_err(AuditError::Open)?;
    Ok(file)
}

/// Whether any open queue (in this process or another) holds the folder's in-use lock.
pub(crate) fn someone_has_it_open(folder: &Path) -> Result<bool, AuditError> {
    let file = open_in_use_file(folder)?;
    match file.try_lock() {
        Ok(()) => Ok(false),
        Err(std::fs::TryLockError::WouldBlock) => Ok(true),
        Err(std::fs::TryLockError::Error(error)) => Err(AuditError::Open(error)),
    }
}

/// Take the folder's open lock (waiting for the other process); released when dropped.
pub(crate) fn lock_folder(folder: &Path) -> Result<std::fs::File, AuditError> {
    let path = folder.join(LOCK_FILE_NAME);
    create_private_file(&path)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(AuditError::Open)?;
    file.lock().map_err(AuditError::Open)?;
    Ok(file)
}

/// How a queue file that cannot be read with this device's key is named once set aside:
/// `audit-queue.unreadable-<UTC time>.sqlite3` (its WAL beside it with `-wal`).
pub(crate) const UNREADABLE_PREFIX: &str = "audit-queue.unreadable-";
pub(crate) const UNREADABLE_SUFFIX: &str = ".sqlite3";

/// Move the queue at `path` (with its WAL) aside under a new name in the same folder, never
/// deleting anything; the new name is returned. The WAL moves first: a WAL left behind would
/// be replayed into the new queue.
pub(crate) fn set_aside(
    path: &Path,
    now: OffsetDateTime,
) -> Result<std::path::PathBuf, AuditError> {
    let folder = path.parent().unwrap_or_else(|| Path::new("."));
    let stamp = now
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "unknown-time".into());
    let mut target = folder.join(format!("{UNREADABLE_PREFIX}{stamp}{UNREADABLE_SUFFIX}"));
    let mut counter = 1;
    while target.exists() || beside(&target, "-wal").exists() {
        counter += 1;
        target = folder.join(format!(
            "{UNREADABLE_PREFIX}{stamp}-{counter}{UNREADABLE_SUFFIX}"
        ));
    }
    let wal = beside(path, "-wal");
    if wal.exists() {
        std::fs::rename(&wal, beside(&target, "-wal")).map_err(AuditError::Open)?;
    }
    std::fs::rename(path, &target).map_err(AuditError::Open)?;
    // The shared-memory index is rebuilt from the WAL; the new queue must not pick it up.
    remove_if_present(&beside(path, "-shm"))?;
    sync_folder(folder)?;
    Ok(target)
}

/// The queue files set aside in `folder` because this device's key could not read them.
pub(crate) fn unreadable_files(folder: &Path) -> Result<Vec<std::path::PathBuf>, AuditError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(AuditError::Open)? {
        let entry = entry.map_err(AuditError::Open)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(UNREADABLE_PREFIX) && name.ends_with(UNREADABLE_SUFFIX) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

pub(crate) fn remove_if_present(path: &Path) -> Result<(), AuditError> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(AuditError::Open(error)),
        _ => Ok(()),
    }
}

/// Make a rename in `folder` durable (a no-op where folders cannot be opened, as on Windows).
pub(crate) fn sync_folder(folder: &Path) -> Result<(), AuditError> {
    #[cfg(unix)]
    {
        std::fs::File::open(folder)
            .and_then(|file| file.sync_all())
            .map_err(AuditError::Open)?;
    }
    #[cfg(not(unix))]
    let _ = folder;
    Ok(())
}
