//! `cpis whoami`: who is signed in, as JSON and as text.

use cpis_client::{LookupPermission, Role, SignedInUser};
use serde::Serialize;
use time::OffsetDateTime;

use super::{nhs_date_time, rfc3339};

/// The `--json` object of `cpis whoami`.
#[derive(Debug, Serialize)]
pub struct WhoamiJson {
    /// Always `true` in this object (not signed in is exit status 4 with `false`).
    pub signed_in: bool,
    /// `keyring` (a signed-in session) or `environment` (`CPIS_ACCESS_TOKEN`).
    pub source: &'static str,
    /// The user id (`sub`).
    pub user_id: Option<String>,
    /// The user's name.
    pub name: Option<String>,
    /// The selected role, if any.
    pub selected_role: Option<Role>,
    /// `unscheduled` (B0107), `scheduled` (B0170) or `not_permitted`.
    pub lookup_permission: Option<&'static str>,
    /// Why the user cannot look up, if they cannot.
    pub cannot_look_up_because: Option<&'static str>,
    /// When the session ends and sign-in is needed again (RFC 3339), for a keyring session.
    pub session_ends_at: Option<String>,
}

pub fn permission_code(permission: LookupPermission) -> &'static str {
    match permission {
        LookupPermission::Unscheduled => "unscheduled",
        LookupPermission::Scheduled => "scheduled",
        LookupPermission::NotPermitted => "not_permitted",
    }
}

impl WhoamiJson {
    pub fn signed_out() -> WhoamiJson {
        WhoamiJson {
            signed_in: false,
            source: "none",
            user_id: None,
            name: None,
            selected_role: None,
            lookup_permission: None,
            cannot_look_up_because: None,
            session_ends_at: None,
        }
    }

    pub fn for_user(
        user: &SignedInUser,
        source: &'static str,
        session_ends_at: Option<OffsetDateTime>,
    ) -> WhoamiJson {
        WhoamiJson {
            signed_in: true,
            source,
            user_id: Some(user.subject.clone()),
            name: Some(user.name.clone()),
            selected_role: user.selected_role().cloned(),
            lookup_permission: Some(permission_code(user.lookup_permission())),
            cannot_look_up_because: user.cannot_look_up_because(),
            session_ends_at: session_ends_at.map(rfc3339),
        }
    }
}

/// The plain-text form of `whoami`.
pub fn whoami_text(user: &SignedInUser, session_ends_at: Option<OffsetDateTime>) -> String {
    let mut out = format!("Signed in as {} (user {})\n", user.name, user.subject);
    match user.selected_role() {
        Some(role) => out.push_str(&format!(
            "Role: {} at {} (activity codes: {})\n",
            role.display_name(),
            user.selected_organisation_name().unwrap_or(&role.org_code),
            if role.activity_codes.is_empty() {
                "none".to_owned()
            } else {
                role.activity_codes.join(", ")
            }
        )),
        None => out.push_str("Role: none selected\n"),
    }
    out.push_str(match user.lookup_permission() {
        LookupPermission::Unscheduled => {
            "Lookups: allowed; the local authority is told of each lookup (unscheduled care)\n"
        }
        LookupPermission::Scheduled => {
            "Lookups: allowed, without notifying the local authority (scheduled care)\n"
        }
        LookupPermission::NotPermitted => "Lookups: not allowed\n",
    });
    if let Some(reason) = user.cannot_look_up_because() {
        out.push_str(reason);
        out.push('\n');
    }
    if let Some(ends) = session_ends_at {
        out.push_str(&format!("Sign in again by {}\n", nhs_date_time(ends)));
    }
    out
}
