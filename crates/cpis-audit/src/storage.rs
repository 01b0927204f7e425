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
