//! Who is signed in, as the status bar and the start screen show them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The signed-in user, as the status bar and the start screen show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UserView {
    /// Display name.
    pub name: String,
    /// The selected role's name, or "No role selected".
    pub role_name: String,
    /// The organisation's ODS code, or empty.
    pub organisation_ods: String,
    /// The organisation's name, or empty when the claims do not give it.
    pub organisation_name: String,
    /// Whether this role may look up records.
    pub can_look_up: bool,
    /// Why not, in plain words, when it may not.
    pub cannot_look_up_reason: Option<String>,
    /// Whether lookups are unscheduled accesses (the local authority is told).
    pub unscheduled: bool,
    /// Whether this role may use the named nurse review.
    pub can_review: bool,
}

/// The readable part of a Care Identity Service role name, which comes as
/// `"Clinical":"Clinical Provision":"Nurse Access Role"`: the last segment, unquoted.
pub fn display_role_name(role_name: &str) -> String {
    cpis_domain::role_display_name(role_name).trim().to_string()
}

/// Whether someone is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SessionView {
    /// Nobody is signed in.
    SignedOut,
    /// The app is locked after inactivity: sign in again to continue.
    Locked,
    /// Signed in.
    SignedIn {
        /// Who.
        user: UserView,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn care_identity_role_names_are_made_readable() {
        assert_eq!(
            display_role_name(r#""Clinical":"Clinical Provision":"Nurse Access Role""#),
            "Nurse Access Role"
        );
        assert_eq!(display_role_name("Midwife"), "Midwife");
        assert_eq!(display_role_name(""), "");
    }
}
