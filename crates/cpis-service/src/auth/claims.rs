//! What a verified token says: the caller ([`Principal`]: a `cpis_domain::Actor` and the
//! selected role's activity codes), read from the CIS2-shaped claims (`sub`, `name`, `selected_roleid`,
//! `nhsid_nrbac_roles`, `nhsid_user_orgs`).

use cpis_domain::{ACTIVITY_VIEW_AND_NOTIFY, ACTIVITY_VIEW_SILENTLY, Actor, RoleRef};
use serde::Deserialize;

/// Who is calling, from a verified token: the user and their selected role
/// ([`RoleRef::default`] when none is selected), and that role's activity codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `sub`, `name` and the selected role.
    pub actor: Actor,
    /// The selected role's `activity_codes`; empty when no role is selected.
    pub activity_codes: Vec<String>,
}

impl Principal {
    /// Whether the selected role has this activity code.
    pub fn has_activity(&self, code: &str) -> bool {
        self.activity_codes.iter().any(|have| have == code)
    }

    /// Whether the user may look up CP-IS at all (`B0107` or `B0170`).
    pub fn may_look_up(&self) -> bool {
        self.has_activity(ACTIVITY_VIEW_AND_NOTIFY) || self.has_activity(ACTIVITY_VIEW_SILENTLY)
    }
}

#[derive(Debug, Deserialize)]
struct RawRole {
    person_roleid: String,
    org_code: String,
    #[serde(default)]
    role_code: Option<String>,
    #[serde(default)]
    role_name: Option<String>,
    #[serde(default)]
    activity_codes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawOrg {
    org_code: String,
    #[serde(default)]
    org_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Claims {
    sub: String,
    name: String,
    pub(crate) exp: u64,
    #[serde(default)]
    selected_roleid: Option<String>,
    #[serde(default)]
    nhsid_nrbac_roles: Vec<RawRole>,
    #[serde(default)]
    nhsid_user_orgs: Vec<RawOrg>,
}

impl Claims {
    pub(crate) fn principal(self) -> Principal {
        let orgs = self.nhsid_user_orgs;
        let selected = self.selected_roleid.and_then(|selected| {
            self.nhsid_nrbac_roles
                .into_iter()
                .find(|role| role.person_roleid == selected)
        });
        let (role, activity_codes) = match selected {
            None => (RoleRef::default(), Vec::new()),
            Some(role) => {
                let organisation_name = orgs
                    .iter()
                    .find(|org| org.org_code == role.org_code)
                    .and_then(|org| org.org_name.clone())
                    .unwrap_or_else(|| role.org_code.clone());
                let role_ref = RoleRef {
                    role_profile_id: role.person_roleid,
                    role_code: role.role_code.unwrap_or_default(),
                    role_name: role.role_name.unwrap_or_default(),
                    organisation_ods: role.org_code,
                    organisation_name,
                };
                (role_ref, role.activity_codes)
            }
        };
        Principal {
            actor: Actor {
                user_id: self.sub,
                user_name: self.name,
                role,
            },
            activity_codes,
        }
    }
}
