//! The access history and the Access to Service Notifications (`accesses`, `notifications`):
//! recording an unscheduled access, a record's recent accesses, and an authority's
//! notifications.

use cpis_domain::{AccessRecord, NhsNumber};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::store::access_writer::{NewAccess, write_accesses};
use crate::store::connection::Store;
use crate::store::values::{StoreError, from_micros, to_micros};

/// One stored unscheduled access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccess {
    /// Who looked (the token's `sub`).
    pub user_id: String,
    /// What the access history shows.
    pub record: AccessRecord,
    /// The viewer's SDS role profile id (the included PractitionerRole's identifier).
    pub role_profile_id: String,
    /// The lookup's `TraceID` (the AuditEvent's transaction entity).
    pub trace_id: String,
}

impl Store {
    /// Record an unscheduled access and its notifications, returning once they are committed
    /// (together with any other accesses waiting at the same moment).
    pub async fn record_access(&self, access: &NewAccess) -> Result<(), StoreError> {
        let Some(access_writer) = &self.access_writer else {
            return write_accesses(&self.pool, std::iter::once(access)).await;
        };
        let (reply, committed) = tokio::sync::oneshot::channel();
        access_writer
            .send((access.clone(), reply))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        committed
            .await
            .map_err(|_| StoreError::WriterStopped)?
            .map_err(StoreError::GroupWrite)
    }

    /// The most recent accesses to a record, newest first, at most `limit`.
    pub async fn recent_accesses(
        &self,
        nhs_number: &NhsNumber,
        limit: i64,
    ) -> Result<Vec<StoredAccess>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.user_id, a.accessed_at, a.user_name, a.role_name, a.organisation_ods, \
                    a.organisation_name, a.role_profile_id, a.trace_id \
             FROM accesses a WHERE a.nhs_number = $1 \
             ORDER BY a.accessed_at DESC, a.id DESC LIMIT $2",
        )
        .bind(nhs_number.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredAccess {
                    user_id: row.try_get(0)?,
                    record: access_record(row, 1)?,
                    role_profile_id: row.try_get(6)?,
                    trace_id: row.try_get(7)?,
                })
            })
            .collect()
    }

    /// A local authority's notifications at or after `since`, oldest first, at most `limit`:
    /// `(notification id, NHS number, access)`.
    pub async fn notifications_since(
        &self,
        la_ods_code: &str,
        since: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<(String, NhsNumber, StoredAccess)>, StoreError> {
        let rows = sqlx::query(
            "SELECT n.id, a.nhs_number, a.accessed_at, a.user_name, a.role_name, \
                    a.organisation_ods, a.organisation_name, a.user_id, a.role_profile_id, \
                    a.trace_id \
             FROM notifications n JOIN accesses a ON a.id = n.access_id \
             WHERE n.la_ods_code = $1 AND n.created_at >= $2 \
             ORDER BY n.created_at, n.id LIMIT $3",
        )
        .bind(la_ods_code)
        .bind(to_micros(since))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let nhs_number = NhsNumber::parse(&row.try_get::<String, _>(1)?)
                    .map_err(|_| StoreError::Corrupt("NHS number"))?;
                let access = StoredAccess {
                    user_id: row.try_get(7)?,
                    record: access_record(row, 2)?,
                    role_profile_id: row.try_get(8)?,
                    trace_id: row.try_get(9)?,
                };
                Ok((row.try_get(0)?, nhs_number, access))
            })
            .collect()
    }
}

/// The access in `row` from column `first` on: `a.accessed_at, a.user_name, a.role_name,
/// a.organisation_ods, a.organisation_name`.
fn access_record(row: &AnyRow, first: usize) -> Result<AccessRecord, StoreError> {
    Ok(AccessRecord {
        accessed_at: from_micros(row.try_get(first)?)?,
        viewer_name: row.try_get(first + 1)?,
        viewer_role: row.try_get(first + 2)?,
        organisation_ods: row.try_get(first + 3)?,
        organisation_name: row.try_get(first + 4)?,
    })
}
