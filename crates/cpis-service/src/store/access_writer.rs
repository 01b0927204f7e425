//! Writing unscheduled accesses ([`NewAccess`]) with their notifications, one transaction per
//! group: on SQLite one writer task commits whatever is waiting together (group commit: one
//! fsync for many lookups), answering each caller only after the commit.

use std::sync::Arc;

use cpis_domain::{Actor, NhsNumber};
use sqlx::AnyPool;
use time::OffsetDateTime;

use crate::store::values::{Backend, StoreError, to_micros};

/// A new unscheduled access to record, with the authorities to notify.
#[derive(Debug, Clone)]
pub struct NewAccess {
    /// Whose record.
    pub nhs_number: NhsNumber,
    /// When.
    pub accessed_at: OffsetDateTime,
    /// Who looked, in which role.
    pub actor: Actor,
    /// The request's TraceID.
    pub trace_id: String,
    /// ODS codes of the local authorities to notify (one notification each).
    pub notify: Vec<String>,
}

/// An access to record and where to say it is committed.
pub(crate) type AccessJob = (NewAccess, tokio::sync::oneshot::Sender<Result<(), String>>);

/// The most accesses committed together.
const ACCESS_GROUP_MAX: usize = 256;
/// Accesses that may wait for the writer before callers wait to hand theirs over.
pub(crate) const ACCESS_QUEUE: usize = 4096;

/// The group-commit writer: takes what is waiting (at most [`ACCESS_GROUP_MAX`]), writes it in
/// one transaction, then answers every caller with the commit's result.
pub(crate) async fn access_writer_task(
    pool: AnyPool,
    backend: Backend,
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
    mut receiver: tokio::sync::mpsc::Receiver<AccessJob>,
) {
    let mut batch: Vec<AccessJob> = Vec::with_capacity(ACCESS_GROUP_MAX);
    while let Some(job) = receiver.recv().await {
        batch.push(job);
        while batch.len() < ACCESS_GROUP_MAX {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let result = {
            let _guard = match backend {
                Backend::Sqlite => Some(sqlite_writer.lock().await),
                Backend::Postgres => None,
            };
            write_accesses(&pool, batch.iter().map(|(access, _)| access)).await
        };
        let result = result.map_err(|error| error.to_string());
        for (_, reply) in batch.drain(..) {
            // The caller may have gone (request timeout); the access is recorded all the same.
            let _ = reply.send(result.clone());
        }
    }
}

pub(crate) async fn write_accesses<'a>(
    pool: &AnyPool,
    accesses: impl Iterator<Item = &'a NewAccess>,
) -> Result<(), StoreError> {
    let mut transaction = pool.begin().await?;
    for access in accesses {
        let access_id = uuid::Uuid::new_v4().to_string();
        let at = to_micros(access.accessed_at);
        sqlx::query(
            "INSERT INTO accesses (id, nhs_number, accessed_at, user_id, user_name, \
             role_profile_id, role_name, organisation_ods, organisation_name, trace_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&access_id)
        .bind(access.nhs_number.as_str())
        .bind(at)
        .bind(&access.actor.user_id)
        .bind(&access.actor.user_name)
        .bind(&access.actor.role.role_profile_id)
        .bind(&access.actor.role.role_name)
        .bind(&access.actor.role.organisation_ods)
        .bind(&access.actor.role.organisation_name)
        .bind(&access.trace_id)
        .execute(&mut *transaction)
        .await?;
        for ods_code in &access.notify {
            sqlx::query(
                "INSERT INTO notifications (id, access_id, la_ods_code, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&access_id)
            .bind(ods_code)
            .bind(at)
            .execute(&mut *transaction)
            .await?;
        }
    }
    transaction.commit().await?;
    Ok(())
}
