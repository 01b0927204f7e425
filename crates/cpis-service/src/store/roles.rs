//! The role directory (`role_directory`): the API platform's copy of the national RBAC
//! directory, one row per role a user holds, with its organisation and activity codes. The
//! platform resolves the role a request acts in (the `NHSD-Session-URID` header or the ID
//! token's `selected_roleid`) here, never from anything the client sends.

use sqlx::Row;

use crate::store::connection::Store;
use crate::store::values::StoreError;

/// One role a user holds, as the directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRole {
    /// The role's id (`person_roleid`, what `NHSD-Session-URID` names).
    pub person_roleid: String,
    /// The user (`sub` of their ID token).
    pub user_id: String,
    /// The organisation's ODS code.
    pub org_code: String,
    /// The organisation's name.
    pub org_name: String,
    /// The role's code.
    pub role_code: String,
    /// The role's name.
    pub role_name: String,
    /// The role's activity codes (`B0107`, ...).
    pub activity_codes: Vec<String>,
}

impl Store {
    /// Add a role to the directory, or replace the role with the same `person_roleid`.
    pub async fn upsert_directory_role(&self, role: &DirectoryRole) -> Result<(), StoreError> {
        let activity_codes = serde_json::to_string(&role.activity_codes)
            .map_err(|_| StoreError::Corrupt("activity codes"))?;
        let _writer = self.writer().await;
        sqlx::query(
            "INSERT INTO role_directory (person_roleid, user_id, org_code, org_name, role_code, \
             role_name, activity_codes) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (person_roleid) DO UPDATE SET user_id = excluded.user_id, \
             org_code = excluded.org_code, org_name = excluded.org_name, \
             role_code = excluded.role_code, role_name = excluded.role_name, \
             activity_codes = excluded.activity_codes",
        )
        .bind(&role.person_roleid)
        .bind(&role.user_id)
        .bind(&role.org_code)
        .bind(&role.org_name)
        .bind(&role.role_code)
        .bind(&role.role_name)
        .bind(activity_codes)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A role by its id.
    pub async fn directory_role(
        &self,
        person_roleid: &str,
    ) -> Result<Option<DirectoryRole>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, org_code, org_name, role_code, role_name, activity_codes \
             FROM role_directory WHERE person_roleid = $1",
        )
        .bind(person_roleid)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let activity_codes: String = row.try_get(5)?;
        Ok(Some(DirectoryRole {
            person_roleid: person_roleid.to_owned(),
            user_id: row.try_get(0)?,
            org_code: row.try_get(1)?,
            org_name: row.try_get(2)?,
            role_code: row.try_get(3)?,
            role_name: row.try_get(4)?,
            activity_codes: serde_json::from_str(&activity_codes)
                .map_err(|_| StoreError::Corrupt("activity codes"))?,
        }))
    }

    /// How many roles the directory holds.
    pub async fn count_directory_roles(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM role_directory")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }
}
