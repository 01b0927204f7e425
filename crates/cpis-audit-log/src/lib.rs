//! The central audit log (modelled on the national Patient Audit Record Service).
//!
//! - **Idempotent ingest:** a `batch` Bundle of AuditEvents ([`AuditLog::ingest`]) or one
//!   AuditEvent ([`AuditLog::ingest_event`], PARS's `POST /AuditEvent`) is committed before the
//!   answer; an event id seen before is answered `200 OK` and stored nothing twice, so client
//!   retries after a lost acknowledgement give exactly one copy. Concurrent requests are
//!   stored together, set-based, in one transaction (group commit; see [`ingest`]).
//! - **Bound senders:** every record is sent by an authenticated [`Sender`]. A record naming
//!   another organisation than the sender's is refused; a device belongs to the organisation
//!   that first used it, and its records from any other organisation are refused; a replay of
//!   an event id held for another organisation is refused. Each stored event keeps its sender,
//!   and the review search shows only events sent from the caller's own organisation.
//! - **Never silently accepting a broken chain:** each device's sequence numbers and hash chain
//!   are checked as events arrive, in any order: the device's head advances through contiguous
//!   sequence numbers, an event beyond a hole waits (stored) until the hole is filled; a
//!   break, a re-used sequence number (a fork) or a record whose hash does not match its
//!   fields is stored as a finding, and every hole still open is reported as a gap
//!   ([`AuditLog::findings`]); the event is always kept (audit data is never dropped).
//!   `verify` re-checks everything from the stored events.
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
use std::sync::{Arc, OnceLock};

use cpis_audit::chain::GENESIS_HASH;
use cpis_audit::wire::{from_audit_event_json, parse_batch, parse_single};
use cpis_fhir::wire::Bundle;
use serde_json::value::RawValue;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub mod capability;
pub mod ingest;
pub mod reads;
pub mod schema;

use crate::ingest::{Job, JobSender, Prepared};

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
    /// The writer could not store the group this request was in; nothing of it was committed.
    /// Holds the database's message for the service's log (no patient data).
    #[error("the audit log could not be stored")]
    NotStored(String),
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

/// Who sent records: the authenticated principal of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// The user's id (`sub`).
    pub user_id: String,
    /// The selected role's profile id.
    pub role_profile_id: String,
    /// The selected role's organisation.
    pub organisation_ods: String,
}

/// Why an event was refused (`403 Forbidden`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The record names another organisation than the sender's.
    OtherOrganisation,
    /// The record's device belongs to another organisation (the one that first used it).
    DeviceOfAnotherOrganisation,
    /// The event id is already held, stored for another organisation.
    HeldForAnotherOrganisation,
}

impl Refusal {
    /// A message for the sender (no patient data).
    pub fn message(self) -> &'static str {
        match self {
            Refusal::OtherOrganisation => {
                "The record names another organisation than the sender's; a record may only be sent by a user of its own organisation"
            }
            Refusal::DeviceOfAnotherOrganisation => {
                "The record's device belongs to another organisation (the one that first used it)"
            }
            Refusal::HeldForAnotherOrganisation => {
                "An event with this id is already held for another organisation"
            }
        }
    }
}

/// What became of one event sent to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    /// Stored now (`201 Created`).
    Created,
    /// Already held for the sender's organisation; nothing stored twice (`200 OK`).
    AlreadyHeld,
    /// Not a valid AuditEvent of ours; not stored (`422 Unprocessable Entity`).
    Invalid,
    /// The sender may not send it; not stored (`403 Forbidden`).
    Forbidden(Refusal),
}

impl EntryStatus {
    /// The status line of a `batch-response` entry.
    pub fn status_line(self) -> &'static str {
        match self {
            EntryStatus::Created => "201 Created",
            EntryStatus::AlreadyHeld => "200 OK",
            EntryStatus::Invalid => "422 Unprocessable Entity",
            EntryStatus::Forbidden(_) => "403 Forbidden",
        }
    }
}

/// The answer to one AuditEvent ([`AuditLog::ingest_event`]).
#[derive(Debug)]
pub struct EventOutcome {
    /// What became of it.
    pub status: EntryStatus,
    /// Its id, when it could be read.
    pub event_id: Option<uuid::Uuid>,
    /// The event as the log stores it (typed JSON), when it could be read.
    pub resource: Option<Box<RawValue>>,
}

/// The central audit log over a shared pool. Clones share one writer task, started on the
/// first ingest (on the runtime of that call).
#[derive(Debug, Clone)]
pub struct AuditLog {
    pool: AnyPool,
    dialect: Dialect,
    writer: Arc<OnceLock<JobSender>>,
    sqlite_writer: Option<Arc<tokio::sync::Mutex<()>>>,
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
        Ok(AuditLog::from_pool(pool, dialect))
    }

    /// Use `pool`, whose schema [`AuditLog::install_schema`] has already created.
    pub fn from_pool(pool: AnyPool, dialect: Dialect) -> AuditLog {
        AuditLog {
            pool,
            dialect,
            writer: Arc::new(OnceLock::new()),
            sqlite_writer: None,
        }
    }

    /// Take `lock` around every write transaction: the lock with which the sharing service
    /// serialises its own SQLite writers, so the log's writer queues with them instead of
    /// waiting in SQLite's busy handler. Call before the first ingest.
    pub fn with_writer_lock(mut self, lock: Arc<tokio::sync::Mutex<()>>) -> AuditLog {
        self.sqlite_writer = Some(lock);
        self.writer = Arc::new(OnceLock::new());
        self
    }

    /// Store a `batch` Bundle sent by `sender` and return the `batch-response` Bundle, one
    /// status per entry: `201 Created`, `200 OK` (already held), `422 Unprocessable Entity`
    /// (invalid; not stored) or `403 Forbidden` (the sender may not send it; not stored).
    /// Everything is committed before this returns.
    pub async fn ingest(&self, sender: &Sender, body: &[u8]) -> Result<Bundle, AuditLogError> {
        let statuses = self.ingest_batch(sender, body).await?;
        let lines: Vec<String> = statuses
            .iter()
            .map(|status| status.status_line().to_string())
            .collect();
        Ok(cpis_fhir::audit_event::batch_response_bundle(&lines))
    }

    /// [`AuditLog::ingest`], answering the statuses themselves.
    pub async fn ingest_batch(
        &self,
        sender: &Sender,
        body: &[u8],
    ) -> Result<Vec<EntryStatus>, AuditLogError> {
        let entries =
            parse_batch(body).map_err(|error| AuditLogError::BadBundle(error.to_string()))?;
        if entries.len() > MAX_BATCH_ENTRIES {
            return Err(AuditLogError::TooLarge);
        }
        let entries = entries
            .into_iter()
            .map(|entry| entry.ok().map(Prepared::new))
            .collect();
        self.submit(sender, entries).await
    }

    /// Store one AuditEvent (PARS's `POST /AuditEvent`) sent by `sender`; idempotent by event
    /// id. Committed before this returns.
    pub async fn ingest_event(
        &self,
        sender: &Sender,
        body: &[u8],
    ) -> Result<EventOutcome, AuditLogError> {
        let Ok(record) = parse_single(body) else {
            return Ok(EventOutcome {
                status: EntryStatus::Invalid,
                event_id: None,
                resource: None,
            });
        };
        let event_id = record.event_id;
        let prepared = Prepared::new(record);
        let resource = RawValue::from_string(prepared.resource.clone()).ok();
        let status = self
            .submit(sender, vec![Some(prepared)])
            .await?
            .first()
            .copied()
            .unwrap_or(EntryStatus::Invalid);
        Ok(EventOutcome {
            status,
            event_id: Some(event_id),
            resource,
        })
    }

    /// Hand `entries` to the writer task and wait for their group's commit.
    async fn submit(
        &self,
        sender: &Sender,
        entries: Vec<Option<Prepared>>,
    ) -> Result<Vec<EntryStatus>, AuditLogError> {
        let writer = self.writer.get_or_init(|| {
            ingest::spawn_writer(self.pool.clone(), self.dialect, self.sqlite_writer.clone())
        });
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            sender: sender.clone(),
            entries,
            reply,
        };
        let gone = || AuditLogError::NotStored("the audit log's writer has stopped".into());
        writer.send(job).await.map_err(|_| gone())?;
        answer
            .await
            .map_err(|_| gone())?
            .map_err(AuditLogError::NotStored)
    }

    /// One page of the events at an organisation in a time window, newest first (for the
    /// safeguarding lead's review), counting only events sent from that organisation (both
    /// `organisation_ods` and `sender_organisation_ods` are the caller's): at most `query.count` events after `query.after`, and the
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
            "SELECT COUNT(*) FROM audit_log_events WHERE organisation_ods = $1 AND sender_organisation_ods = $1 AND occurred_at_micros >= $2 AND occurred_at_micros <= $3",
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
                    "SELECT event_id, occurred_at_micros, resource FROM audit_log_events WHERE organisation_ods = $1 AND sender_organisation_ods = $1 AND occurred_at_micros >= $2 AND occurred_at_micros <= $3 ORDER BY occurred_at_micros DESC, event_id DESC LIMIT $4",
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
                    "SELECT event_id, occurred_at_micros, resource FROM audit_log_events WHERE organisation_ods = $1 AND sender_organisation_ods = $1 AND occurred_at_micros >= $2 AND occurred_at_micros <= $3 AND (occurred_at_micros < $4 OR (occurred_at_micros = $4 AND event_id < $5)) ORDER BY occurred_at_micros DESC, event_id DESC LIMIT $6",
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

    /// The findings: those recorded at ingest (`break`, `sequence_reused`, `hash_mismatch`)
    /// and every hole still open in a device's chain, as a `gap` at the sequence number of the
    /// first stored event after it (computed now from the heads and the parked events, so a
    /// hole filled by a late event is no longer reported). In device, sequence, kind order.
    pub async fn findings(&self) -> Result<Vec<Finding>, AuditLogError> {
        let rows = sqlx::query(
            "SELECT device_id, sequence, kind FROM audit_log_findings ORDER BY device_id, sequence, kind",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut findings = rows
            .into_iter()
            .map(|row| {
                Ok(Finding {
                    device_id: row.try_get(0)?,
                    sequence: row.try_get(1)?,
                    kind: row.try_get(2)?,
                })
            })
            .collect::<Result<Vec<Finding>, AuditLogError>>()?;
        let parked = sqlx::query(
            "SELECT device_id, last_sequence FROM audit_log_devices WHERE max_sequence > last_sequence ORDER BY device_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in parked {
            let device_id: String = row.try_get(0)?;
            let last_sequence: i64 = row.try_get(1)?;
            let sequences = sqlx::query(
                "SELECT DISTINCT sequence FROM audit_log_events WHERE device_id = $1 AND sequence > $2 ORDER BY sequence",
            )
            .bind(device_id.as_str())
            .bind(last_sequence)
            .fetch_all(&self.pool)
            .await?;
            let mut previous = last_sequence;
            for sequence in sequences {
                let sequence: i64 = sequence.try_get(0)?;
                if sequence > previous + 1 {
                    findings.push(Finding {
                        device_id: device_id.clone(),
                        sequence,
                        kind: "gap".to_string(),
                    });
                }
                previous = sequence;
            }
        }
        findings.sort_by(|a, b| {
            (&a.device_id, a.sequence, &a.kind).cmp(&(&b.device_id, b.sequence, &b.kind))
        });
        Ok(findings)
    }

    /// Write every stored event as one line of JSON, in device and sequence order.
    pub async fn export_ndjson(&self, out: &mut impl Write) -> Result<u64, AuditLogError> {
        write_resources(
            &self.pool,
            "SELECT resource FROM audit_log_events ORDER BY device_id, sequence, event_id",
            out,
        )
        .await
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

/// Write the `resource` column of each row `query` selects as one line of JSON (NDJSON, as
/// stored); how many lines.
pub(crate) async fn write_resources(
    pool: &AnyPool,
    query: &'static str,
    out: &mut impl Write,
) -> Result<u64, AuditLogError> {
    let rows = sqlx::query(query).fetch_all(pool).await?;
    let mut count = 0;
    for row in rows {
        let text: String = row.try_get(0)?;
        writeln!(out, "{text}")?;
        count += 1;
    }
    Ok(count)
}
