//! The reads the reference service records itself (issue 17): every demographics read, CP-IS
//! CareTeam search (unscheduled or silent), access-history search and named nurse review page
//! leaves one PARS AuditEvent per patient in `audit_log_reads`, committed before the answer.
//!
//! - [`ReadRecord`] is the row: the event (built by the service with
//!   `cpis_fhir::audit_event::read_event`) and the columns searched by (organisation, user,
//!   interaction, patient, TraceID).
//! - [`AuditLog::record_reads`] stores many in one transaction (the service's group-commit
//!   writer hands it whatever concurrent requests have waiting).
//! - [`AuditLog::export_reads_ndjson`] writes them, oldest first, one event a line (after the
//!   central log's own events in `cpis-service audit export`); [`AuditLog::reads_of_patient`]
//!   answers a privacy officer's "who read this patient".

use std::io::Write;

use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;

use crate::{AuditLog, AuditLogError};

/// One read to store: the PARS AuditEvent and the columns it is searched by.
#[derive(Clone, PartialEq, Eq)]
pub struct ReadRecord {
    /// The event's id.
    pub event_id: uuid::Uuid,
    /// When, in microseconds since the Unix epoch.
    pub occurred_at_micros: i64,
    /// The reader's organisation (ODS code).
    pub organisation_ods: String,
    /// The reader's user id.
    pub user_id: String,
    /// Which read (`pds_read`, `care_team_search`, `care_team_search_silent`,
    /// `access_history_search`, `review_search`).
    pub interaction: &'static str,
    /// Whose record was read.
    pub nhs_number: String,
    /// The request's TraceID / X-Request-ID.
    pub trace_id: String,
    /// The AuditEvent, as JSON text.
    pub resource: String,
}

impl std::fmt::Debug for ReadRecord {
    // The NHS number and the event (which names the patient) are left out.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ReadRecord")
            .field("event_id", &self.event_id)
            .field("interaction", &self.interaction)
            .finish_non_exhaustive()
    }
}

/// A stored read, for [`AuditLog::reads_of_patient`].
#[derive(Clone, PartialEq, Eq)]
pub struct StoredRead {
    /// When, in microseconds since the Unix epoch.
    pub occurred_at_micros: i64,
    /// The reader's organisation (ODS code).
    pub organisation_ods: String,
    /// The reader's user id.
    pub user_id: String,
    /// Which read (as [`ReadRecord::interaction`]).
    pub interaction: String,
    /// The request's TraceID / X-Request-ID.
    pub trace_id: String,
    /// The AuditEvent, as JSON text.
    pub resource: String,
}

impl std::fmt::Debug for StoredRead {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StoredRead")
            .field("occurred_at_micros", &self.occurred_at_micros)
            .field("interaction", &self.interaction)
            .finish_non_exhaustive()
    }
}

impl StoredRead {
    /// When, as a time (the Unix epoch if the stored value is out of range).
    pub fn occurred_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.occurred_at_micros) * 1_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// Rows one multi-row insert carries: 8,000 values, under either database's limit (SQLite
/// 32,766, PostgreSQL 65,535).
const ROWS_PER_INSERT: usize = 1_000;

/// One `INSERT` of `reads` (at most [`ROWS_PER_INSERT`]), every value bound.
fn insert_reads(
    reads: &[ReadRecord],
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    // Only placeholders are formatted into the statement.
    let mut query = sqlx::query(AssertSqlSafe(insert_statement(reads.len())));
    for read in reads {
        query = query
            .bind(read.event_id.to_string())
            .bind(read.occurred_at_micros)
            .bind(read.organisation_ods.clone())
            .bind(read.user_id.clone())
            .bind(read.interaction)
            .bind(read.nhs_number.clone())
            .bind(read.trace_id.clone())
            .bind(read.resource.clone());
    }
    query
}

fn insert_statement(rows: usize) -> String {
    let mut statement = String::from(
        "INSERT INTO audit_log_reads (event_id, occurred_at_micros, organisation_ods, user_id, interaction, nhs_number, trace_id, resource) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            statement.push_str(", ");
        }
        let first = row * 8;
        let placeholders: Vec<String> = (1..=8).map(|n| format!("${}", first + n)).collect();
        statement.push('(');
        statement.push_str(&placeholders.join(", "));
        statement.push(')');
    }
    statement
}

impl AuditLog {
    /// Store `reads` atomically, committed before this returns; on any error nothing is stored.
    /// Up to [`ROWS_PER_INSERT`] reads are one multi-row `INSERT` on its own (a statement is
    /// its own transaction: one round trip to the database, one commit); more are several in
    /// one transaction.
    pub async fn record_reads(&self, reads: &[ReadRecord]) -> Result<(), AuditLogError> {
        if reads.is_empty() {
            return Ok(());
        }
        if reads.len() <= ROWS_PER_INSERT {
            insert_reads(reads).execute(&self.pool).await?;
            return Ok(());
        }
        let mut transaction = self.pool.begin().await?;
        for chunk in reads.chunks(ROWS_PER_INSERT) {
            insert_reads(chunk).execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Write every recorded read as one line of JSON (a PARS AuditEvent), oldest first.
    pub async fn export_reads_ndjson(&self, out: &mut impl Write) -> Result<u64, AuditLogError> {
        crate::write_resources(
            &self.pool,
            "SELECT resource FROM audit_log_reads ORDER BY occurred_at_micros, event_id",
            out,
        )
        .await
    }

    /// Every recorded read of `nhs_number`'s record, oldest first.
    pub async fn reads_of_patient(
        &self,
        nhs_number: &str,
    ) -> Result<Vec<StoredRead>, AuditLogError> {
        let rows = sqlx::query(
            "SELECT occurred_at_micros, organisation_ods, user_id, interaction, trace_id, resource FROM audit_log_reads WHERE nhs_number = $1 ORDER BY occurred_at_micros, event_id",
        )
        .bind(nhs_number)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(StoredRead {
                    occurred_at_micros: row.try_get(0)?,
                    organisation_ods: row.try_get(1)?,
                    user_id: row.try_get(2)?,
                    interaction: row.try_get(3)?,
                    trace_id: row.try_get(4)?,
                    resource: row.try_get(5)?,
                })
            })
            .collect()
    }
}
