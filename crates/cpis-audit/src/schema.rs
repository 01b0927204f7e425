//! The queue's versioned schema: what each version adds, applied in order by
//! `storage::migrate`. Forward only: a migration, once released, never changes; a file of a
//! newer version is refused.

/// The schema version this code writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 2;

pub(crate) const MIGRATIONS: &[&str] = &[
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
    // 2: the plans a view found (JSON, see `storage::plans_text`); NULL when not recorded,
    // as in every record written before.
    "ALTER TABLE records ADD COLUMN plans TEXT;",
];
