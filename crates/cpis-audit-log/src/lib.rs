//! The central audit log (modelled on the national Patient Audit Record Service).
//!
//! - **Idempotent ingest:** a `batch` Bundle of AuditEvents is stored in one transaction,
//!   committed before the answer; an event id seen before is answered `200 OK` and stored
//!   nothing twice, so client retries after a lost acknowledgement give exactly one copy.
//! - **Never silently accepting a broken chain:** each device's sequence numbers and hash chain
//!   are checked as events arrive; a gap, a break, a re-used sequence number or a record whose
//!   hash does not match its fields is stored as a finding, and the event is still kept (audit
//!   data is never dropped). `verify` re-checks everything from the stored events.
//! - **Search** for the named nurse review: the views at one organisation in a time window,
//!   newest first, in pages of at most [`MAX_SEARCH_PAGE`] ([`AuditLog::search`]). Each page
//!   counts every match of the whole search (`total`) in the same read transaction as it reads
//!   its events, and ends with a [`SearchCursor`] after its last event: the next page starts
//!   strictly after it, so events arriving meanwhile never shift a page or repeat an event.
//! - **Export** as NDJSON.
//!
//! Storage is an `AnyPool` shared with the reference service (SQLite or PostgreSQL). The
//! tables are this crate's own (`audit_log_*`), created idempotently.

use std::io::Write;

use cpis_audit::QueuedRecord;
use cpis_audit::chain::GENESIS_HASH;
use cpis_audit::wire::{from_audit_event_json, parse_batch, to_audit_event, to_batch_response};
use serde_json::Value;
use serde_json::value::RawValue;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub mod schema;

/// The most events one batch may hold.
pub const MAX_BATCH_ENTRIES: usize = 5_000;

/// The most events one page of the review search holds.
pub const MAX_SEARCH_PAGE: u32 = 2_000;

/// Where the next page of a review search starts: strictly after the event recorded at
/// `occurred_at_micros` with `event_id` (the search runs newest first, then by event id).
/// Written into the `next` link as `{micros}.{event id}`; opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCursor {
    occurred_at_micros: i64,
    event_id: uuid::Uuid,
}

impl SearchCursor {
    /// The cursor as text, for a `next` link.
    pub fn to_text(&self) -> String {
        format!("{}.{}", self.occurred_at_micros, self.event_id)
    }

    /// A cursor read back from [`SearchCursor::to_text`]; `None` for anything else.
    pub fn parse(text: &str) -> Option<SearchCursor> {
        let (micros, event_id) = text.split_once('.')?;
        let cursor = SearchCursor {
            occurred_at_micros: micros.parse().ok()?,
            event_id: uuid::Uuid::parse_str(event_id).ok()?,
        };
        (cursor.to_text() == text).then_some(cursor)
    }
}

/// One review search: the events at `organisation_ods` recorded between `since` and `until`
/// (both included), newest first, at most `count` a page, starting after `after`.
#[derive(Debug, Clone)]
pub struct SearchQuery<'a> {
    /// The caller's organisation.
    pub organisation_ods: &'a str,
    /// From (included).
    pub since: OffsetDateTime,
    /// To (included). A paged search keeps the first page's `until`.
    pub until: OffsetDateTime,
    /// Events a page, at most [`MAX_SEARCH_PAGE`] (larger asks get that many).
    pub count: u32,
    /// The previous page's cursor; `None` for the first page.
    pub after: Option<SearchCursor>,
}

/// One page of a review search.
#[derive(Debug)]
pub struct SearchPage {
    /// The events, as stored, newest first.
    pub resources: Vec<Box<RawValue>>,
    /// How many events match the whole search (every page), counted with this page.
    pub total: u64,
    /// Where the next page starts, when there is one.
    pub next: Option<SearchCursor>,
}

/// Which SQL dialect the pool speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Errors. Messages carry no patient data.
#[derive(Debug, thiserror::Error)]
pub enum AuditLogError {
    /// The body is not a `batch` Bundle (whole request refused, nothing stored).
    #[error("the request is not a valid batch Bundle of AuditEvent: {0}")]
    BadBundle(String),
    /// Too many entries.
    #[error("a batch may hold at most {MAX_BATCH_ENTRIES} entries")]
    TooLarge,
    /// The database failed; nothing was committed.
    #[error("the audit log could not be stored")]
    Database(#[from] sqlx::Error),
    /// Writing the export failed.
    #[error("the export could not be written")]
    Io(#[from] std::io::Error),
}

/// A chain finding recorded at ingest or found by [`AuditLog::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The device.
    pub device_id: String,
    /// The sequence number of the event that showed it.
    pub sequence: i64,
    /// `gap`, `break`, `sequence_reused` or `hash_mismatch`.
    pub kind: String,
}

/// Per-device result of [`AuditLog::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceReport {
    /// The device.
    pub device_id: String,
    /// Events stored.
    pub count: u64,
    /// Missing sequence numbers (first missing, count of missing).
    pub gaps: Vec<(i64, i64)>,
    /// Sequence numbers where the chain is broken.
    pub breaks: Vec<i64>,
}

impl DeviceReport {
    /// Whether anything is wrong.
    pub fn is_clean(&self) -> bool {
        self.gaps.is_empty() && self.breaks.is_empty()
    }
}

/// The central audit log over a shared pool.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pool: AnyPool,
    dialect: Dialect,
}

fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn micros(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl AuditLog {
    /// Create the audit log's tables in `pool` if they are not there (idempotent; safe for
    /// several replicas to run at once on PostgreSQL).
    pub async fn install_schema(pool: &AnyPool, dialect: Dialect) -> Result<(), AuditLogError> {
        schema::install(pool, dialect).await
    }

    /// Use `pool`, creating the audit log's tables if they are not there.
    pub async fn new(pool: AnyPool, dialect: Dialect) -> Result<AuditLog, AuditLogError> {
        AuditLog::install_schema(&pool, dialect).await?;
        Ok(AuditLog { pool, dialect })
    }

    /// Use `pool`, whose schema [`AuditLog::install_schema`] has already created.
    pub fn from_pool(pool: AnyPool, dialect: Dialect) -> AuditLog {
        AuditLog { pool, dialect }
    }

    /// Store a `batch` Bundle and return the `batch-response` Bundle, one status per entry:
    /// `201 Created`, `200 OK` (already held), or `422 Unprocessable Entity` (invalid; not
    /// stored). Everything is committed before this returns.
    pub async fn ingest(&self, body: &[u8]) -> Result<Value, AuditLogError> {
        let entries =
            parse_batch(body).map_err(|error| AuditLogError::BadBundle(error.to_string()))?;
        if entries.len() > MAX_BATCH_ENTRIES {
            return Err(AuditLogError::TooLarge);
        }
        let mut transaction = self.pool.begin().await?;
        let mut statuses = Vec::with_capacity(entries.len());
        for entry in entries {
            let record = match entry {
                Ok(record) => record,
                Err(_) => {
                    statuses.push("422 Unprocessable Entity".to_string());
                    continue;
                }
            };
            let event_id = record.event_id.to_string();
            let seen = sqlx::query("SELECT 1 FROM audit_log_event_ids WHERE event_id = $1")
                .bind(&event_id)
                .fetch_optional(&mut *transaction)
                .await?;
            if seen.is_some() {
                statuses.push("200 OK".to_string());
                continue;
            }
            sqlx::query(
                "INSERT INTO audit_log_event_ids (event_id, occurred_at_micros) VALUES ($1, $2)",
            )
            .bind(&event_id)
            .bind(micros(record.occurred_at))
            .execute(&mut *transaction)
            .await?;
            let findings = self.check_chain(&mut transaction, &record).await?;
            let resource = to_audit_event(&record).to_string();
            sqlx::query(
                "INSERT INTO audit_log_events (event_id, device_id, sequence, occurred_at, occurred_at_micros, received_at, organisation_ods, action, outcome, previous_hash, record_hash, sender_user_id, sender_role_profile_id, sender_organisation_ods, resource)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(&event_id)
            .bind(record.device_id.to_string())
            .bind(to_i64(record.sequence))
            .bind(record.occurred_at.format(&Rfc3339).unwrap_or_default())
            .bind(micros(record.occurred_at))
            .bind(now_text())
            .bind(&record.actor.role.organisation_ods)
            .bind(record.action.code())
            .bind(&record.outcome)
            .bind(&record.previous_hash)
            .bind(&record.record_hash)
            .bind(&record.actor.user_id)
            .bind(&record.actor.role.role_profile_id)
            .bind(&record.actor.role.organisation_ods)
            .bind(resource)
            .execute(&mut *transaction)
            .await?;
            for kind in findings {
                sqlx::query(
                    "INSERT INTO audit_log_findings (finding_id, device_id, sequence, kind, event_id, found_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(record.device_id.to_string())
                .bind(to_i64(record.sequence))
                .bind(kind)
                .bind(&event_id)
                .bind(now_text())
                .execute(&mut *transaction)
                .await?;
            }
            statuses.push("201 Created".to_string());
        }
        transaction.commit().await?;
        Ok(to_batch_response(&statuses))
    }

    /// Compare an arriving event with its device's chain head, move the head on, and say
    /// what is wrong.
    async fn check_chain(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
        record: &QueuedRecord,
    ) -> Result<Vec<&'static str>, AuditLogError> {
        let device_id = record.device_id.to_string();
        // PostgreSQL: lock the head row so replicas ingesting the same device take turns.
        // SQLite: the write transaction already serialises writers.
        let head_query = match self.dialect {
            Dialect::Postgres => {
                "SELECT last_sequence, last_hash FROM audit_log_devices WHERE device_id = $1 FOR UPDATE"
            }
            Dialect::Sqlite => {
                "SELECT last_sequence, last_hash FROM audit_log_devices WHERE device_id = $1"
            }
        };
        let head = sqlx::query(head_query)
            .bind(&device_id)
            .fetch_optional(&mut **transaction)
            .await?;
        let (last_sequence, last_hash) = match head {
            Some(row) => (row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?),
            None => (0, GENESIS_HASH.to_string()),
        };
        let sequence = to_i64(record.sequence);
        let mut findings = Vec::new();
        if record.recompute_hash() != record.record_hash {
            findings.push("hash_mismatch");
        }
        if sequence <= last_sequence {
            findings.push("sequence_reused");
        } else {
            if sequence > last_sequence + 1 {
                findings.push("gap");
            } else if record.previous_hash != last_hash {
                findings.push("break");
            }
            let upsert = "INSERT INTO audit_log_devices (device_id, organisation_ods, last_sequence, last_hash) VALUES ($1, $4, $2, $3)
                 ON CONFLICT (device_id) DO UPDATE SET last_sequence = excluded.last_sequence, last_hash = excluded.last_hash";
            sqlx::query(upsert)
                .bind(&device_id)
                .bind(sequence)
                .bind(&record.record_hash)
                .bind(&record.actor.role.organisation_ods)
                .execute(&mut **transaction)
                .await?;
        }
        Ok(findings)
    }

    /// One page of the events at an organisation in a time window, newest first (for the
    /// safeguarding lead's review): at most `query.count` events after `query.after`, and the
    /// number of events the whole search matches, read in one transaction (a snapshot: on
    /// PostgreSQL `REPEATABLE READ`, on SQLite a WAL read transaction), so `total` and the
    /// page agree.
    pub async fn search(&self, query: &SearchQuery<'_>) -> Result<SearchPage, AuditLogError> {
        let limit = query.count.clamp(1, MAX_SEARCH_PAGE);
        let since = micros(query.since);
        let until = micros(query.until);
        let mut transaction = self.pool.begin().await?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *transaction)
                .await?;
        }
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) FROM audit_log_events WHERE organisation_ods = $1 AND occurred_at_micros >= $2 AND occurred_at_micros <= $3",
        )
        .bind(query.organisation_ods)
        .bind(since)
        .bind(until)
        .fetch_one(&mut *transaction)
        .await?
        .try_get(0)?;
        // One more than a page, to know whether another page follows.
        let fetch = i64::from(limit) + 1;
        let rows = match &query.after {
            None => {
                sqlx::query(
                    "SELECT event_id, occurred_at_micros, resource FROM audit_log_events WHERE organisation_ods = $1 AND occurred_at_micros >= $2 AND occurred_at_micros <= $3 ORDER BY occurred_at_micros DESC, event_id DESC LIMIT $4",
                )
                .bind(query.organisation_ods)
                .bind(since)
                .bind(until)
                .bind(fetch)
                .fetch_all(&mut *transaction)
                .await?
            }
            Some(after) => {
                sqlx::query(
                    "SELECT event_id, occurred_at_micros, resource FROM audit_log_events WHERE organisation_ods = $1 AND occurred_at_micros >= $2 AND occurred_at_micros <= $3 AND (occurred_at_micros < $4 OR (occurred_at_micros = $4 AND event_id < $5)) ORDER BY occurred_at_micros DESC, event_id DESC LIMIT $6",
                )
                .bind(query.organisation_ods)
                .bind(since)
                .bind(until)
                .bind(after.occurred_at_micros)
                .bind(after.event_id.to_string())
                .bind(fetch)
                .fetch_all(&mut *transaction)
                .await?
            }
        };
        transaction.commit().await?;
        let more = rows.len() > limit as usize;
        let mut resources = Vec::with_capacity(rows.len().min(limit as usize));
        let mut last = None;
        for row in rows.into_iter().take(limit as usize) {
            let event_id: String = row.try_get(0)?;
            let occurred_at_micros: i64 = row.try_get(1)?;
            let text: String = row.try_get(2)?;
            // Stored by `ingest` from a typed AuditEvent, so always JSON; an event that is not
            // is left out, and the page then holds fewer than `total` says, which the reader
            // reports as incomplete.
            if let Ok(resource) = RawValue::from_string(text) {
                resources.push(resource);
            }
            last = uuid::Uuid::parse_str(&event_id)
                .ok()
                .map(|event_id| SearchCursor {
                    occurred_at_micros,
                    event_id,
                });
        }
        Ok(SearchPage {
            resources,
            total: u64::try_from(total).unwrap_or(0),
            next: if more { last } else { None },
        })
    }

    /// The findings recorded at ingest.
    pub async fn findings(&self) -> Result<Vec<Finding>, AuditLogError> {
        let rows = sqlx::query(
            "SELECT device_id, sequence, kind FROM audit_log_findings ORDER BY device_id, sequence, kind",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Finding {
                    device_id: row.try_get(0)?,
                    sequence: row.try_get(1)?,
                    kind: row.try_get(2)?,
                })
            })
            .collect()
    }

    /// Write every stored event as one line of JSON, in device and sequence order.
    pub async fn export_ndjson(&self, out: &mut impl Write) -> Result<u64, AuditLogError> {
        let rows = sqlx::query(
            "SELECT resource FROM audit_log_events ORDER BY device_id, sequence, event_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut count = 0;
        for row in rows {
            let text: String = row.try_get(0)?;
            writeln!(out, "{text}")?;
            count += 1;
        }
        Ok(count)
    }

    /// Re-check every device's chain from the stored events: sequence numbers from 1 with no
    /// gap, each hash matching its fields, each previous hash matching the event before.
    pub async fn verify(&self) -> Result<Vec<DeviceReport>, AuditLogError> {
        let rows = sqlx::query(
            "SELECT device_id, resource FROM audit_log_events ORDER BY device_id, sequence, event_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut reports: Vec<DeviceReport> = Vec::new();
        let mut previous: Option<(i64, String)> = None;
        for row in rows {
            let device_id: String = row.try_get(0)?;
            let text: String = row.try_get(1)?;
            if reports
                .last()
                .is_none_or(|report| report.device_id != device_id)
            {
                reports.push(DeviceReport {
                    device_id: device_id.clone(),
                    count: 0,
                    gaps: Vec::new(),
                    breaks: Vec::new(),
                });
                previous = None;
            }
            let Some(report) = reports.last_mut() else {
                continue;
            };
            report.count += 1;
            let record = RawValue::from_string(text)
                .ok()
                .and_then(|resource| from_audit_event_json(&resource).ok());
            let Some(record) = record else {
                report.breaks.push(-1);
                continue;
            };
            let sequence = to_i64(record.sequence);
            let (expected, expected_hash) = match &previous {
                Some((last, hash)) => (last + 1, hash.clone()),
                None => (1, GENESIS_HASH.to_string()),
            };
            if sequence > expected {
                report.gaps.push((expected, sequence - expected));
            }
            let links = sequence != expected || record.previous_hash == expected_hash;
            if sequence < expected || !links || record.recompute_hash() != record.record_hash {
                report.breaks.push(sequence);
            }
            previous = Some((sequence, record.record_hash.clone()));
        }
        Ok(reports)
    }
}
