//! What a verified token says: the activity codes, the caller ([`Principal`]) and their selected
//! role, read from the CIS2-shaped claims (`sub`, `name`, `selected_roleid`,
//! `nhsid_nrbac_roles`, `nhsid_user_orgs`).

use serde::Deserialize;

/// View CP-IS and notify the local authority (unscheduled care settings). National code.
pub const ACTIVITY_VIEW_AND_NOTIFY: &str = "B0107";
/// View CP-IS without notifying (scheduled care settings). National code.
pub const ACTIVITY_VIEW_SILENTLY: &str = "B0170";
/// Review the views at one's own organisation (safeguarding named nurse). Placeholder chosen by
/// this project, the same as `dev-idp/users.js`.
pub const ACTIVITY_SAFEGUARDING_REVIEW: &str = "B1234";
/// Upload plans and read Access to Service Notifications (local authority users). Placeholder
/// chosen by this project, the same as `dev-idp/users.js`.
pub const ACTIVITY_LOCAL_AUTHORITY: &str = "B1235";

/// The selected role of the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedRole {
    /// `person_roleid`.
    pub role_profile_id: String,
    /// `org_code`: the organisation's ODS code.
    pub organisation_ods: String,
    /// The organisation's name (from `nhsid_user_orgs`, else the ODS code).
    pub organisation_name: String,
    /// `role_code`.
    pub role_code: String,
    /// `role_name`.
    pub role_name: String,
    /// `activity_codes`.
    pub activity_codes: Vec<String>,
}

/// Who is calling, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `sub`.
    pub user_id: String,
    /// `name`.
    pub name: String,
    /// The selected role, if the user has one.
    pub role: Option<SelectedRole>,
}

impl Principal {
    /// Whether the selected role has this activity code.
    pub fn has_activity(&self, code: &str) -> bool {
        self.role
            .as_ref()
            .is_some_and(|role| role.activity_codes.iter().any(|have| have == code))
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
        let role = self.selected_roleid.and_then(|selected| {
            self.nhsid_nrbac_roles
                .into_iter()
                .find(|role| role.person_roleid == selected)
                .map(|role| {
                    let organisation_name = orgs
                        .iter()
                        .find(|org| org.org_code == role.org_code)
                        .and_then(|org| org.org_name.clone())
                        .unwrap_or_else(|| role.org_code.clone());
                    SelectedRole {
                        role_profile_id: role.person_roleid,
                        organisation_ods: role.org_code,
                        organisation_name,
                        role_code: role.role_code.unwrap_or_default(),
                        role_name: role.role_name.unwrap_or_default(),
                        activity_codes: role.activity_codes,
                    }
                })
        });
        Principal {
            user_id: self.sub,
            name: self.name,
            role,
        }
    }
}
