//! Recording the service's own reads (`audit_log_reads`, the central audit log's table) through
//! one group-commit writer: a [`ReadRecorder`] hands each request's records to a writer task,
//! which commits whatever requests have waiting in one transaction (on SQLite holding the
//! service's single-writer lock, so it never collides with the other writers) and answers each
//! request only after the commit. A request whose records could not be committed is told so,
//! and answers no data (fail closed).

use std::sync::Arc;

use cpis_audit_log::reads::ReadRecord;
use cpis_audit_log::{AuditLog, AuditLogError};

use crate::store::connection::Store;
use crate::store::values::Backend;

/// The most records committed together.
const READ_GROUP_MAX: usize = 512;
/// Requests that may wait for the writer before callers wait to hand theirs over.
const READ_QUEUE: usize = 4096;

/// One request's records and where to say they are committed.
type ReadJob = (
    Vec<ReadRecord>,
    tokio::sync::oneshot::Sender<Result<(), String>>,
);

/// Why a request's reads are not recorded. The text is the database's (no patient data).
#[derive(Debug, thiserror::Error)]
pub enum ReadNotRecorded {
    /// The commit failed; nothing of this request was stored.
    #[error("the reads could not be recorded: {0}")]
    Database(String),
    /// The writer task has stopped.
    #[error("the read writer has stopped")]
    WriterStopped,
}

/// Hands records to the writer task. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ReadRecorder {
    sender: tokio::sync::mpsc::Sender<ReadJob>,
}

impl ReadRecorder {
    /// Start the writer task for `store` (call within a Tokio runtime).
    pub fn start(store: &Store) -> ReadRecorder {
        let (sender, receiver) = tokio::sync::mpsc::channel(READ_QUEUE);
        let lock = match store.backend {
            Backend::Sqlite => Some(store.sqlite_writer.clone()),
            Backend::Postgres => None,
        };
        tokio::spawn(read_writer_task(store.audit_log(), lock, receiver));
        ReadRecorder { sender }
    }

    /// Record `reads`, returning once they are committed (with whatever other requests had
    /// waiting). Nothing to record returns at once.
    pub async fn record(&self, reads: Vec<ReadRecord>) -> Result<(), ReadNotRecorded> {
        if reads.is_empty() {
            return Ok(());
        }
        let (reply, committed) = tokio::sync::oneshot::channel();
        self.sender
            .send((reads, reply))
            .await
            .map_err(|_| ReadNotRecorded::WriterStopped)?;
        committed
            .await
            .map_err(|_| ReadNotRecorded::WriterStopped)?
            .map_err(ReadNotRecorded::Database)
    }
}

async fn commit(
    log: &AuditLog,
    lock: Option<&Arc<tokio::sync::Mutex<()>>>,
    reads: &[ReadRecord],
) -> Result<(), AuditLogError> {
    let _guard = match lock {
        Some(lock) => Some(lock.lock().await),
        None => None,
    };
    log.record_reads(reads).await
}

/// The failure's text for the log: the database's message (no patient data; values are bound).
fn failure_text(error: &AuditLogError) -> String {
    match error {
        AuditLogError::Database(error) => error.to_string(),
        other => other.to_string(),
    }
}

/// The writer: takes what is waiting (whole requests, up to [`READ_GROUP_MAX`] records), commits
/// it in one transaction, and answers every request with the commit's result. When a group of
/// several requests fails, each is tried alone, so one request's failure is never another's.
async fn read_writer_task(
    log: AuditLog,
    lock: Option<Arc<tokio::sync::Mutex<()>>>,
    mut receiver: tokio::sync::mpsc::Receiver<ReadJob>,
) {
    let mut jobs: Vec<ReadJob> = Vec::new();
    let mut group: Vec<ReadRecord> = Vec::with_capacity(READ_GROUP_MAX);
    while let Some(job) = receiver.recv().await {
        let mut records = job.0.len();
        jobs.push(job);
        while records < READ_GROUP_MAX {
            match receiver.try_recv() {
                Ok(job) => {
                    records += job.0.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        group.clear();
        group.extend(jobs.iter().flat_map(|(reads, _)| reads.iter().cloned()));
        let result = commit(&log, lock.as_ref(), &group).await;
        match result {
            Ok(()) => {
                for (_, reply) in jobs.drain(..) {
                    // The caller may have gone (request timeout); its reads are recorded.
                    let _ = reply.send(Ok(()));
                }
            }
            Err(error) if jobs.len() == 1 => {
                for (_, reply) in jobs.drain(..) {
                    let _ = reply.send(Err(failure_text(&error)));
                }
            }
            Err(_) => {
                for (reads, reply) in jobs.drain(..) {
                    let alone = commit(&log, lock.as_ref(), &reads).await;
                    let _ = reply.send(alone.map_err(|error| failure_text(&error)));
                }
            }
        }
    }
}
