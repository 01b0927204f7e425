//! The central audit log's tables, created idempotently (safe for several replicas to run at
//! once on PostgreSQL). One statement list per dialect.
//!
//! - `audit_log_event_ids`: every event id ever stored (the idempotency key), unpartitioned so
//!   a replay is found whatever month it was first stored in.
//! - `audit_log_events`: the events the apps' queues send, each with who sent it (the
//!   authenticated principal: user, role profile and organisation).
//! - `audit_log_devices`: each device's chain head and the organisation that first used it.
//! - `audit_log_findings`: chain findings recorded at ingest.
//! - `audit_log_reads`: the reads the service itself recorded (demographics, CP-IS, access
//!   history, the named nurse review), one PARS AuditEvent each.

use sqlx::AnyPool;

use crate::{AuditLogError, Dialect};

/// The statements for SQLite (and, until partitioning replaces them, PostgreSQL).
const COMMON: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS audit_log_event_ids (
        event_id TEXT PRIMARY KEY,
        occurred_at_micros BIGINT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS audit_log_events (
        event_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        sequence BIGINT NOT NULL,
        occurred_at TEXT NOT NULL,
        occurred_at_micros BIGINT NOT NULL,
        received_at TEXT NOT NULL,
        organisation_ods TEXT NOT NULL,
        action TEXT NOT NULL,
        outcome TEXT NOT NULL,
        previous_hash TEXT NOT NULL,
        record_hash TEXT NOT NULL,
        sender_user_id TEXT NOT NULL,
        sender_role_profile_id TEXT NOT NULL,
        sender_organisation_ods TEXT NOT NULL,
        resource TEXT NOT NULL,
        PRIMARY KEY (event_id, occurred_at_micros)
    )",
    "CREATE INDEX IF NOT EXISTS audit_log_events_review ON audit_log_events (organisation_ods, occurred_at_micros, event_id)",
    "CREATE INDEX IF NOT EXISTS audit_log_events_device ON audit_log_events (device_id, sequence)",
    "CREATE TABLE IF NOT EXISTS audit_log_devices (
        device_id TEXT PRIMARY KEY,
        organisation_ods TEXT NOT NULL,
        last_sequence BIGINT NOT NULL,
        last_hash TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS audit_log_findings (
        finding_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        sequence BIGINT NOT NULL,
        kind TEXT NOT NULL,
        event_id TEXT NOT NULL,
        found_at TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS audit_log_reads (
        event_id TEXT NOT NULL,
        occurred_at_micros BIGINT NOT NULL,
        organisation_ods TEXT NOT NULL,
        user_id TEXT NOT NULL,
        interaction TEXT NOT NULL,
        nhs_number TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        resource TEXT NOT NULL,
        PRIMARY KEY (event_id, occurred_at_micros)
    )",
    "CREATE INDEX IF NOT EXISTS audit_log_reads_patient ON audit_log_reads (nhs_number, occurred_at_micros)",
    "CREATE INDEX IF NOT EXISTS audit_log_reads_org_time ON audit_log_reads (organisation_ods, occurred_at_micros)",
];

/// Create the tables in `pool` for `dialect`, if they are not there.
pub async fn install(pool: &AnyPool, dialect: Dialect) -> Result<(), AuditLogError> {
    let statements: &[&str] = match dialect {
        Dialect::Sqlite | Dialect::Postgres => COMMON,
    };
    for statement in statements {
        sqlx::query(*statement).execute(pool).await?;
    }
    Ok(())
}
