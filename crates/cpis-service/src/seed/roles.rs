//! The role directory's synthetic content: every role of every synthetic user in
//! `dev-idp/users.json` (the one file that dev-idp's users and the platform's role directory
//! share), with its organisation's name.

use serde::Deserialize;

use crate::store::{DirectoryRole, Store, StoreError};

/// `dev-idp/users.json`, compiled in.
pub const SYNTHETIC_USERS_JSON: &str = include_str!("../../../../dev-idp/users.json");

#[derive(Deserialize)]
struct UsersFile {
    users: Vec<User>,
}

#[derive(Deserialize)]
struct User {
    sub: String,
    #[serde(default)]
    nhsid_nrbac_roles: Vec<Role>,
    #[serde(default)]
    nhsid_user_orgs: Vec<Org>,
}

#[derive(Deserialize)]
struct Role {
    person_roleid: String,
    org_code: String,
    #[serde(default)]
    role_code: String,
    #[serde(default)]
    role_name: String,
    #[serde(default)]
    activity_codes: Vec<String>,
}

#[derive(Deserialize)]
struct Org {
    org_code: String,
    org_name: String,
}

/// The directory roles of the synthetic users.
pub fn synthetic_directory_roles() -> Result<Vec<DirectoryRole>, StoreError> {
    let file: UsersFile = serde_json::from_str(SYNTHETIC_USERS_JSON)
        .map_err(|_| StoreError::Corrupt("dev-idp/users.json"))?;
    let mut roles = Vec::new();
    for user in file.users {
        for role in user.nhsid_nrbac_roles {
            let org_name = user
                .nhsid_user_orgs
                .iter()
                .find(|org| org.org_code == role.org_code)
                .map(|org| org.org_name.clone())
                .unwrap_or_else(|| role.org_code.clone());
            roles.push(DirectoryRole {
                person_roleid: role.person_roleid,
                user_id: user.sub.clone(),
                org_code: role.org_code,
                org_name,
                role_code: role.role_code,
                role_name: role.role_name,
                activity_codes: role.activity_codes,
            });
        }
    }
    Ok(roles)
}

/// Write (or refresh) the synthetic users' roles in the role directory; how many.
pub async fn seed_role_directory(store: &Store) -> Result<usize, StoreError> {
    let roles = synthetic_directory_roles()?;
    for role in &roles {
        store.upsert_directory_role(role).await?;
    }
    Ok(roles.len())
}
