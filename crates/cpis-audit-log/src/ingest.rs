//! Set-based ingest with group commit.
//!
//! Requests hand their parsed events to one writer task per [`crate::AuditLog`], which takes
//! what concurrent requests have waiting (up to [`GROUP_MAX_EVENTS`] events) and stores the
//! whole group in one transaction:
//!
//! 1. in memory: invalid entries, records naming another organisation than the sender's, and
//!    repeats of an event id within the group are settled without the database;
//! 2. the devices involved: missing device rows are inserted (`ON CONFLICT DO NOTHING`, bound
//!    to the organisation that first used them, head at sequence 0), then every head is read
//!    (PostgreSQL: `FOR UPDATE`, in device order, so two replicas ingesting the first events of
//!    the same new device take turns; SQLite: the write transaction, whose first statement is
//!    that insert, already serialises writers); a device bound to another organisation refuses
//!    the record;
//! 3. one multi-row `INSERT INTO audit_log_event_ids ... ON CONFLICT DO NOTHING RETURNING`: an
//!    id already held is answered `200 OK` when it was stored for the sender's organisation and
//!    refused otherwise;
//! 4. the chain checks, per device in sequence order, tolerating out-of-order arrival: the
//!    head (`last_sequence`, `last_hash`) advances only through contiguous sequence numbers;
//!    an event beyond a hole is stored "parked" with no finding yet (`max_sequence` keeps the
//!    highest stored, so the in-order case reads nothing more); when a group fills the hole,
//!    the device's stored events above the head are read (one query, in sequence order) and
//!    the head walks through them, checking each `previous_hash` link (`break`), to the next
//!    hole. A second event id for a sequence number already stored (at or below the head, or
//!    parked) is `sequence_reused`; `hash_mismatch` is checked per event at arrival. A hole
//!    still open is reported as a `gap` when findings are read ([`crate::AuditLog::findings`]);
//! 5. one multi-row insert of the events, one upsert of the heads, one insert of the findings;
//! 6. one commit, after which every request of the group is answered.
//!
//! Statements are chunked under the bind-parameter limits (SQLite 32,766, PostgreSQL 65,535).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use cpis_audit::QueuedRecord;
use cpis_audit::chain::GENESIS_HASH;
use sqlx::{AnyPool, AssertSqlSafe, Row};
use time::format_description::well_known::Rfc3339;

use crate::{Dialect, EntryStatus, Refusal, Sender, micros, now_text, to_i64};

/// The most events one group commit takes (a group may exceed it by the last request's
/// events: a request is never split).
pub const GROUP_MAX_EVENTS: usize = 5_000;

/// Requests that may wait for the writer before callers wait to hand theirs over.
const QUEUE: usize = 256;

/// One event ready to store: the record read from the wire and the AuditEvent as stored.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) record: QueuedRecord,
    pub(crate) resource: String,
}

impl Prepared {
    pub(crate) fn new(record: QueuedRecord) -> Prepared {
        // Typed serialisation straight to text (no `serde_json::Value` in between). These
        // plain structs always serialise; an empty string is never stored (see `write_group`).
        let resource =
            serde_json::to_string(&cpis_audit::wire::audit_event(&record)).unwrap_or_default();
        Prepared { record, resource }
    }
}

/// One request's events and where to answer it.
pub(crate) struct Job {
    pub(crate) sender: Sender,
    /// `None` for an entry that could not be read (answered `422`).
    pub(crate) entries: Vec<Option<Prepared>>,
    pub(crate) reply: tokio::sync::oneshot::Sender<Result<Vec<EntryStatus>, String>>,
}

/// The handle requests use to reach the writer task.
pub(crate) type JobSender = tokio::sync::mpsc::Sender<Job>;

/// Start the writer task on the current runtime.
pub(crate) fn spawn_writer(
    pool: AnyPool,
    dialect: Dialect,
    lock: Option<Arc<tokio::sync::Mutex<()>>>,
) -> JobSender {
    let (sender, receiver) = tokio::sync::mpsc::channel(QUEUE);
    tokio::spawn(writer_task(pool, dialect, lock, receiver));
    sender
}

async fn writer_task(
    pool: AnyPool,
    dialect: Dialect,
    lock: Option<Arc<tokio::sync::Mutex<()>>>,
    mut receiver: tokio::sync::mpsc::Receiver<Job>,
) {
    let mut jobs: Vec<Job> = Vec::new();
    while let Some(job) = receiver.recv().await {
        let mut events = job.entries.len();
        jobs.push(job);
        while events < GROUP_MAX_EVENTS {
            match receiver.try_recv() {
                Ok(job) => {
                    events += job.entries.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let result = {
            // SQLite: the service's single-writer queue, taken before a connection, as every
            // other writer of the service does, so no writer holds a connection while waiting.
            let _guard = match &lock {
                Some(lock) => Some(lock.lock().await),
                None => None,
            };
            write_group(&pool, dialect, &jobs).await
        };
        match result {
            Ok(statuses) => {
                for (job, statuses) in jobs.drain(..).zip(statuses) {
                    // The caller may have gone (request timeout); its events are stored all
                    // the same, and a resend is answered `200 OK`.
                    let _ = job.reply.send(Ok(statuses));
                }
            }
            Err(error) => {
                let message = error.to_string();
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(message.clone()));
                }
            }
        }
    }
}

/// Where one entry of the group is: (job, entry).
type At = (usize, usize);

/// An entry of the group still to settle, with where it is.
type Candidate<'a> = (At, &'a Prepared);

fn max_parameters(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Sqlite => 32_766,
        Dialect::Postgres => 65_535,
    }
}

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` placeholders; on SQLite `(?, ?), (?, ?)`
/// (positional: SQLite looks a named parameter up by walking a list, which made binding
/// thousands of `$N` quadratic).
fn values_list(dialect: Dialect, rows: usize, columns: usize) -> String {
    let mut text = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        if row > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for column in 0..columns {
            if column > 0 {
                text.push_str(", ");
            }
            match dialect {
                Dialect::Sqlite => text.push('?'),
                Dialect::Postgres => {
                    text.push('$');
                    text.push_str(&(row * columns + column + 1).to_string());
                }
            }
        }
        text.push(')');
    }
    text
}

/// `$1, $2, ...` (SQLite `?, ?, ...`) for `count` placeholders.
fn in_list(dialect: Dialect, count: usize) -> String {
    values_list(dialect, 1, count)
        .trim_start_matches('(')
        .trim_end_matches(')')
        .to_string()
}

/// The head of one device's chain in this group: the last event of the contiguous chain
/// from sequence 1 (`last_sequence`, `last_hash`) and the highest sequence number stored
/// (`max_sequence`; above `last_sequence` only while events beyond a hole are parked).
struct Head {
    organisation_ods: String,
    last_sequence: i64,
    last_hash: String,
    max_sequence: i64,
    moved: bool,
}

/// One event's place in a chain: what it links to and its own hash.
struct Link {
    event_id: String,
    previous_hash: String,
    record_hash: String,
}

/// A finding to record.
struct FindingRow {
    device_id: String,
    sequence: i64,
    kind: &'static str,
    event_id: String,
}

impl FindingRow {
    fn of(record: &QueuedRecord, kind: &'static str) -> FindingRow {
        FindingRow {
            device_id: record.device_id.to_string(),
            sequence: to_i64(record.sequence),
            kind,
            event_id: record.event_id.to_string(),
        }
    }
}

/// Store one group in one transaction and say what became of every entry of every job.
async fn write_group(
    pool: &AnyPool,
    dialect: Dialect,
    jobs: &[Job],
) -> Result<Vec<Vec<EntryStatus>>, sqlx::Error> {
    let mut statuses: Vec<Vec<Option<EntryStatus>>> = jobs
        .iter()
        .map(|job| vec![None; job.entries.len()])
        .collect();
    // 1. In memory.
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut first_of: HashMap<uuid::Uuid, At> = HashMap::new();
    let mut repeats: Vec<(At, At)> = Vec::new();
    for (job_index, job) in jobs.iter().enumerate() {
        for (entry_index, entry) in job.entries.iter().enumerate() {
            let status = &mut statuses[job_index][entry_index];
            let Some(entry) = entry else {
                *status = Some(EntryStatus::Invalid);
                continue;
            };
            if entry.resource.is_empty() {
                *status = Some(EntryStatus::Invalid);
                continue;
            }
            if entry.record.actor.role.organisation_ods != job.sender.organisation_ods {
                *status = Some(EntryStatus::Forbidden(Refusal::OtherOrganisation));
                continue;
            }
            match first_of.get(&entry.record.event_id) {
                Some(first) => repeats.push(((job_index, entry_index), *first)),
                None => {
                    first_of.insert(entry.record.event_id, (job_index, entry_index));
                    candidates.push(((job_index, entry_index), entry));
                }
            }
        }
    }
    if !candidates.is_empty() {
        let mut transaction = pool.begin().await?;
        let limit = max_parameters(dialect);
        // 2. The devices: bind new ones to the organisation that first used them, then read
        // (and on PostgreSQL lock) every head, in device order.
        let mut first_organisation: BTreeMap<String, &str> = BTreeMap::new();
        for (_, entry) in &candidates {
            let record = &entry.record;
            first_organisation
                .entry(record.device_id.to_string())
                .or_insert(record.actor.role.organisation_ods.as_str());
        }
        let devices: Vec<(&String, &&str)> = first_organisation.iter().collect();
        for chunk in devices.chunks(limit / 4) {
            let sql = format!(
                "INSERT INTO audit_log_devices (device_id, organisation_ods, last_sequence, last_hash) VALUES {} ON CONFLICT (device_id) DO NOTHING",
                values_list(dialect, chunk.len(), 4)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (device_id, organisation) in chunk {
                query = query
                    .bind(device_id.as_str())
                    .bind(**organisation)
                    .bind(0_i64)
                    .bind(GENESIS_HASH);
            }
            query.execute(&mut *transaction).await?;
        }
        let mut heads: HashMap<String, Head> = HashMap::with_capacity(devices.len());
        for chunk in devices.chunks(limit) {
            let lock = match dialect {
                Dialect::Postgres => " ORDER BY device_id FOR UPDATE",
                Dialect::Sqlite => "",
            };
            let sql = format!(
                "SELECT device_id, organisation_ods, last_sequence, last_hash, max_sequence FROM audit_log_devices WHERE device_id IN ({}){lock}",
                in_list(dialect, chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (device_id, _) in chunk {
                query = query.bind(device_id.as_str());
            }
            for row in query.fetch_all(&mut *transaction).await? {
                heads.insert(
                    row.try_get(0)?,
                    Head {
                        organisation_ods: row.try_get(1)?,
                        last_sequence: row.try_get(2)?,
                        last_hash: row.try_get(3)?,
                        max_sequence: row.try_get(4)?,
                        moved: false,
                    },
                );
            }
        }
        let mut bound: Vec<Candidate> = Vec::with_capacity(candidates.len());
        for (at, entry) in candidates {
            let record = &entry.record;
            let allowed = heads
                .get(&record.device_id.to_string())
                .is_some_and(|head| head.organisation_ods == record.actor.role.organisation_ods);
            if allowed {
                bound.push((at, entry));
            } else {
                statuses[at.0][at.1] =
                    Some(EntryStatus::Forbidden(Refusal::DeviceOfAnotherOrganisation));
            }
        }
        // 3. The global idempotency key, in event-id order.
        bound.sort_by_key(|(_, entry)| entry.record.event_id);
        let mut new_ids: HashSet<String> = HashSet::with_capacity(bound.len());
        for chunk in bound.chunks(limit / 2) {
            let sql = format!(
                "INSERT INTO audit_log_event_ids (event_id, occurred_at_micros) VALUES {} ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                values_list(dialect, chunk.len(), 2)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (_, entry) in chunk {
                let record = &entry.record;
                query = query
                    .bind(record.event_id.to_string())
                    .bind(micros(record.occurred_at));
            }
            for row in query.fetch_all(&mut *transaction).await? {
                new_ids.insert(row.try_get(0)?);
            }
        }
        let (fresh, held): (Vec<Candidate>, Vec<Candidate>) = bound
            .into_iter()
            .partition(|(_, entry)| new_ids.contains(&entry.record.event_id.to_string()));
        let mut held_for: HashMap<String, String> = HashMap::new();
        for chunk in held.chunks(limit) {
            let sql = format!(
                "SELECT i.event_id, e.organisation_ods FROM audit_log_event_ids i JOIN audit_log_events e ON e.event_id = i.event_id AND e.occurred_at_micros = i.occurred_at_micros WHERE i.event_id IN ({})",
                in_list(dialect, chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (_, entry) in chunk {
                query = query.bind(entry.record.event_id.to_string());
            }
            for row in query.fetch_all(&mut *transaction).await? {
                held_for.insert(row.try_get(0)?, row.try_get(1)?);
            }
        }
        for (at, entry) in held {
            let record = &entry.record;
            let ours = held_for
                .get(&record.event_id.to_string())
                .is_some_and(|organisation| *organisation == record.actor.role.organisation_ods);
            statuses[at.0][at.1] = Some(if ours {
                EntryStatus::AlreadyHeld
            } else {
                EntryStatus::Forbidden(Refusal::HeldForAnotherOrganisation)
            });
        }
        // 4. The chains, per device in sequence order (then arrival order). The head advances
        // only through contiguous sequence numbers; an event beyond a hole is stored parked
        // (no finding yet) and the head walks through it once the hole is filled.
        let mut by_device: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
        for (at, entry) in &fresh {
            by_device
                .entry(entry.record.device_id.to_string())
                .or_default()
                .push((*at, entry));
        }
        let mut findings: Vec<FindingRow> = Vec::new();
        for (device_id, mut entries) in by_device {
            entries.sort_by_key(|(at, entry)| (entry.record.sequence, *at));
            let Some(head) = heads.get_mut(&device_id) else {
                continue;
            };
            // The stored events above the head (parked), read only when there are some and
            // this group may fill a hole below them or re-use one of their sequence numbers;
            // the in-order case (nothing parked) reads nothing.
            let lowest_above = entries
                .iter()
                .map(|(_, entry)| to_i64(entry.record.sequence))
                .find(|sequence| *sequence > head.last_sequence);
            let mut above: BTreeMap<i64, Vec<Link>> = BTreeMap::new();
            if head.max_sequence > head.last_sequence
                && lowest_above.is_some_and(|sequence| sequence <= head.max_sequence)
            {
                let rows = sqlx::query(
                    "SELECT sequence, event_id, previous_hash, record_hash FROM audit_log_events WHERE device_id = $1 AND sequence > $2 ORDER BY sequence, event_id",
                )
                .bind(device_id.as_str())
                .bind(head.last_sequence)
                .fetch_all(&mut *transaction)
                .await?;
                for row in rows {
                    above.entry(row.try_get(0)?).or_default().push(Link {
                        event_id: row.try_get(1)?,
                        previous_hash: row.try_get(2)?,
                        record_hash: row.try_get(3)?,
                    });
                }
            }
            for (_, entry) in entries {
                let record = &entry.record;
                let sequence = to_i64(record.sequence);
                if record.recompute_hash() != record.record_hash {
                    findings.push(FindingRow::of(record, "hash_mismatch"));
                }
                let link = Link {
                    event_id: record.event_id.to_string(),
                    previous_hash: record.previous_hash.clone(),
                    record_hash: record.record_hash.clone(),
                };
                if sequence <= head.last_sequence {
                    findings.push(FindingRow::of(record, "sequence_reused"));
                    continue;
                }
                let links = above.entry(sequence).or_default();
                if !links.is_empty() {
                    // A second event for a parked sequence number (stored before or earlier
                    // in this group): a fork.
                    findings.push(FindingRow::of(record, "sequence_reused"));
                }
                links.push(link);
                if sequence > head.max_sequence {
                    head.max_sequence = sequence;
                    head.moved = true;
                }
            }
            // Walk the head forward through contiguous sequence numbers, to the next hole.
            while let Some(links) = above.get(&(head.last_sequence + 1)) {
                // Of a fork's events, the one that links to the head and that the next
                // event links to, else one that links to the head.
                let next = above.get(&(head.last_sequence + 2));
                let continued = |link: &&Link| {
                    next.is_some_and(|next| {
                        next.iter()
                            .any(|after| after.previous_hash == link.record_hash)
                    })
                };
                let linking = || {
                    links
                        .iter()
                        .filter(|link| link.previous_hash == head.last_hash)
                };
                let linked = linking().find(continued).or_else(|| linking().next());
                let Some(link) = linked.or_else(|| links.first()) else {
                    break;
                };
                head.last_sequence += 1;
                if linked.is_none() {
                    findings.push(FindingRow {
                        device_id: device_id.clone(),
                        sequence: head.last_sequence,
                        kind: "break",
                        event_id: link.event_id.clone(),
                    });
                }
                head.last_hash.clone_from(&link.record_hash);
                head.moved = true;
            }
            head.max_sequence = head.max_sequence.max(head.last_sequence);
        }
        // 5. The events, the heads, the findings.
        let received_at = now_text();
        for chunk in fresh.chunks(limit / 15) {
            let sql = format!(
                "INSERT INTO audit_log_events (event_id, device_id, sequence, occurred_at, occurred_at_micros, received_at, organisation_ods, action, outcome, previous_hash, record_hash, sender_user_id, sender_role_profile_id, sender_organisation_ods, resource) VALUES {}",
                values_list(dialect, chunk.len(), 15)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (at, entry) in chunk {
                let Prepared { record, resource } = entry;
                let sender = &jobs[at.0].sender;
                query = query
                    .bind(record.event_id.to_string())
                    .bind(record.device_id.to_string())
                    .bind(to_i64(record.sequence))
                    .bind(record.occurred_at.format(&Rfc3339).unwrap_or_default())
                    .bind(micros(record.occurred_at))
                    .bind(received_at.as_str())
                    .bind(record.actor.role.organisation_ods.as_str())
                    .bind(record.action.code())
                    .bind(record.outcome.as_str())
                    .bind(record.previous_hash.as_str())
                    .bind(record.record_hash.as_str())
                    .bind(sender.user_id.as_str())
                    .bind(sender.role_profile_id.as_str())
                    .bind(sender.organisation_ods.as_str())
                    .bind(resource.as_str());
            }
            query.execute(&mut *transaction).await?;
        }
        let moved: Vec<(&String, &Head)> = heads.iter().filter(|(_, head)| head.moved).collect();
        for chunk in moved.chunks(limit / 5) {
            let sql = format!(
                "INSERT INTO audit_log_devices (device_id, organisation_ods, last_sequence, last_hash, max_sequence) VALUES {} ON CONFLICT (device_id) DO UPDATE SET last_sequence = excluded.last_sequence, last_hash = excluded.last_hash, max_sequence = excluded.max_sequence",
                values_list(dialect, chunk.len(), 5)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (device_id, head) in chunk {
                query = query
                    .bind(device_id.as_str())
                    .bind(head.organisation_ods.as_str())
                    .bind(head.last_sequence)
                    .bind(head.last_hash.as_str())
                    .bind(head.max_sequence);
            }
            query.execute(&mut *transaction).await?;
        }
        for chunk in findings.chunks(limit / 6) {
            let sql = format!(
                "INSERT INTO audit_log_findings (finding_id, device_id, sequence, kind, event_id, found_at) VALUES {}",
                values_list(dialect, chunk.len(), 6)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for finding in chunk {
                query = query
                    .bind(uuid::Uuid::new_v4().to_string())
                    .bind(finding.device_id.as_str())
                    .bind(finding.sequence)
                    .bind(finding.kind)
                    .bind(finding.event_id.as_str())
                    .bind(received_at.as_str());
            }
            query.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        for (at, _) in fresh {
            statuses[at.0][at.1] = Some(EntryStatus::Created);
        }
    }
    // A repeat of an event id within the group answers as its first occurrence did: held
    // (stored now or before) for the same organisation, refused for another.
    for (at, first) in repeats {
        let first_status = statuses[first.0][first.1];
        let same_organisation =
            jobs[at.0].sender.organisation_ods == jobs[first.0].sender.organisation_ods;
        statuses[at.0][at.1] = Some(match first_status {
            Some(EntryStatus::Created | EntryStatus::AlreadyHeld) if same_organisation => {
                EntryStatus::AlreadyHeld
            }
            Some(status) if same_organisation => status,
            _ => EntryStatus::Forbidden(Refusal::HeldForAnotherOrganisation),
        });
    }
    Ok(statuses
        .into_iter()
        .map(|statuses| {
            statuses
                .into_iter()
                .map(|status| status.unwrap_or(EntryStatus::Invalid))
                .collect()
        })
        .collect())
}
