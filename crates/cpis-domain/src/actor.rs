//! Who did something: the user, their selected role and its organisation ([`Actor`],
//! [`RoleRef`]), as the audit trail, the access history and the central log all name them, and
//! the activity codes a role may grant.

use std::fmt;

use crate::REDACTED;

/// Activity code: view CP-IS and notify the local authority (unscheduled care). National code.
pub const ACTIVITY_VIEW_AND_NOTIFY: &str = "B0107";
/// Activity code: view CP-IS without notifying (scheduled care). National code.
pub const ACTIVITY_VIEW_SILENTLY: &str = "B0170";
/// Activity code: review the views at one's own organisation (the safeguarding named nurse).
/// A placeholder chosen by this project, the same as `dev-idp/users.js`.
pub const ACTIVITY_SAFEGUARDING_REVIEW: &str = "B1234";
/// Activity code: upload plans and read Access to Service Notifications (local authority
/// users). A placeholder chosen by this project, the same as `dev-idp/users.js`.
pub const ACTIVITY_LOCAL_AUTHORITY: &str = "B1235";

/// The role someone acted in: the selected role profile and its organisation. Role and
/// organisation names are not personal data, so `Debug` shows them.
///
/// Every field is empty when no role was selected ([`RoleRef::is_none`]); the audit trail
/// stores empty text then.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RoleRef {
    /// The role profile id (`person_roleid`, the token's `selected_roleid`).
    pub role_profile_id: String,
    /// The national role code.
    pub role_code: String,
    /// The role's name as the identity provider sends it (CIS2 sends a hierarchy; see
    /// [`role_display_name`]).
    pub role_name: String,
    /// The organisation's ODS code.
    pub organisation_ods: String,
    /// The organisation's name; empty when the claims do not give it.
    pub organisation_name: String,
}

impl RoleRef {
    /// Whether this stands for "no role selected": every field empty.
    pub fn is_none(&self) -> bool {
        self.role_profile_id.is_empty()
            && self.role_code.is_empty()
            && self.role_name.is_empty()
            && self.organisation_ods.is_empty()
            && self.organisation_name.is_empty()
    }

    /// The role's name for people (see [`role_display_name`]).
    pub fn display_name(&self) -> &str {
        role_display_name(&self.role_name)
    }
}

/// The role's name for people: CIS2 sends `"Clinical":"Clinical Provision":"Nurse Access
/// Role"`; this gives `Nurse Access Role`. A name without a hierarchy is given back as it is.
pub fn role_display_name(role_name: &str) -> &str {
    let last = role_name.rsplit(':').next().unwrap_or(role_name);
    let trimmed = last.trim().trim_matches('"').trim();
    if trimmed.is_empty() {
        role_name
    } else {
        trimmed
    }
}

/// Who did something: the user and the role they acted in. The user's name is staff personal
/// data: `Debug` redacts it.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Actor {
    /// The user id (the token's `sub`; the SDS user id in production).
    pub user_id: String,
    /// The user's name.
    pub user_name: String,
    /// The selected role, or [`RoleRef::default`] when none was selected.
    pub role: RoleRef,
}

impl fmt::Debug for Actor {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Actor")
            .field("user_id", &self.user_id)
            .field("user_name", &REDACTED)
            .field("role", &self.role)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nurse() -> Actor {
        Actor {
            user_id: "900000000001".into(),
            user_name: "Tess Triage-Test".into(),
            role: RoleRef {
                role_profile_id: "555021935107".into(),
                role_code: "R8001".into(),
                role_name: "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"".into(),
                organisation_ods: "ZZ1ED".into(),
                organisation_name: "Northshire General Hospital".into(),
            },
        }
    }

    #[test]
    fn debug_redacts_the_user_name() {
        let debug = format!("{:?}", nurse());
        assert!(!debug.contains("Tess"), "{debug}");
        assert!(debug.contains(REDACTED));
        assert!(debug.contains("ZZ1ED"));
    }

    #[test]
    fn no_role_is_every_field_empty() {
        assert!(RoleRef::default().is_none());
        assert!(!nurse().role.is_none());
        let only_name = RoleRef {
            organisation_name: "Northshire General Hospital".into(),
            ..RoleRef::default()
        };
        assert!(!only_name.is_none());
    }

    #[test]
    fn role_names_are_shown_without_the_cis2_hierarchy() {
        assert_eq!(nurse().role.display_name(), "Nurse Access Role");
        assert_eq!(role_display_name("Plain Role"), "Plain Role");
        assert_eq!(role_display_name("\"\""), "\"\"");
    }

    #[test]
    fn activity_codes_are_distinct() {
        let codes = [
            ACTIVITY_VIEW_AND_NOTIFY,
            ACTIVITY_VIEW_SILENTLY,
            ACTIVITY_SAFEGUARDING_REVIEW,
            ACTIVITY_LOCAL_AUTHORITY,
        ];
        for (index, code) in codes.iter().enumerate() {
            assert!(!codes[index + 1..].contains(code), "{code} twice");
        }
    }
}
