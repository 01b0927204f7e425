//! Who is signed in, as what, and what that role may do: read from the NHS Care Identity
//! Service shaped claims `selected_roleid` and `nhsid_nrbac_roles`, as the broker passes them
//! on.

use std::fmt;

use cpis_domain::{ACTIVITY_VIEW_AND_NOTIFY, ACTIVITY_VIEW_SILENTLY, Actor, RoleRef};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::redact::Secret;

/// A session lasts at most this long; then the user signs in again, refresh or not.
pub const MAX_SESSION: Duration = Duration::hours(12);

/// One entry of `nhsid_nrbac_roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// The role profile id (`person_roleid`).
    pub person_roleid: String,
    /// The organisation's ODS code.
    pub org_code: String,
    /// The national role code.
    pub role_code: String,
    /// The role's display name.
    pub role_name: String,
    /// Activity codes this role grants.
    #[serde(default)]
    pub activity_codes: Vec<String>,
}

impl Role {
    /// The role's name for people: CIS2 sends `"Clinical":"Clinical Provision":"Nurse Access
    /// Role"`; this gives `Nurse Access Role`.
    pub fn display_name(&self) -> &str {
        cpis_domain::role_display_name(&self.role_name)
    }

    /// Whether the role grants an activity code.
    pub fn has_activity(&self, code: &str) -> bool {
        self.activity_codes.iter().any(|granted| granted == code)
    }
}

/// One entry of `nhsid_user_orgs`: an organisation the user works for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// ODS code.
    pub org_code: String,
    /// Name.
    pub org_name: String,
}

/// What the selected role allows for a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupPermission {
    /// `B0107`: an unscheduled access; the local authority is notified
    /// (`IsUnscheduledAccessEvent: true`).
    Unscheduled,
    /// `B0170` only: a scheduled-care silent read (`IsUnscheduledAccessEvent: false`).
    Scheduled,
    /// Neither code, or no role selected: the user cannot look up.
    NotPermitted,
}

/// The signed-in user, as the broker names them (from CIS2's ID token and userinfo).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    /// The user id (`sub`).
    pub subject: String,
    /// Display name (`name`).
    pub name: String,
    /// The selected role profile id, if any.
    pub selected_roleid: Option<String>,
    /// Every role the user has.
    pub roles: Vec<Role>,
    /// The organisations the user works for (`nhsid_user_orgs`), for their names.
    #[serde(default)]
    pub organisations: Vec<Organisation>,
}

impl fmt::Debug for SignedInUser {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SignedInUser")
            .field("subject", &self.subject)
            .field("name", &cpis_domain::REDACTED)
            .field("selected_roleid", &self.selected_roleid)
            .field("roles", &self.roles.len())
            .finish()
    }
}

impl SignedInUser {
    /// The selected role: the entry whose `person_roleid` is `selected_roleid`.
    pub fn selected_role(&self) -> Option<&Role> {
        let selected = self.selected_roleid.as_deref()?;
        self.roles
            .iter()
            .find(|role| role.person_roleid == selected)
    }

    /// The name of the selected role's organisation, when the claims give it.
    pub fn selected_organisation_name(&self) -> Option<&str> {
        let role = self.selected_role()?;
        self.organisations
            .iter()
            .find(|organisation| organisation.org_code == role.org_code)
            .map(|organisation| organisation.org_name.as_str())
    }

    /// The selected role as the audit trail names it, with its organisation's name when the
    /// claims give it (else empty); [`RoleRef::default`] when no role is selected. The role's
    /// name is its own name ([`Role::display_name`]), never CIS2's hierarchy, so every record,
    /// review and export shows what people call the role.
    pub fn selected_role_ref(&self) -> RoleRef {
        let Some(role) = self.selected_role() else {
            return RoleRef::default();
        };
        RoleRef {
            role_profile_id: role.person_roleid.clone(),
            role_code: role.role_code.clone(),
            role_name: role.display_name().to_owned(),
            organisation_ods: role.org_code.clone(),
            organisation_name: self
                .selected_organisation_name()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// This user in their selected role: who every audit record from this session names.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.subject.clone(),
            user_name: self.name.clone(),
            role: self.selected_role_ref(),
        }
    }

    /// What the selected role allows. Only the selected role counts, never another role the
    /// user happens to hold.
    pub fn lookup_permission(&self) -> LookupPermission {
        match self.selected_role() {
            Some(role) if role.has_activity(ACTIVITY_VIEW_AND_NOTIFY) => {
                LookupPermission::Unscheduled
            }
            Some(role) if role.has_activity(ACTIVITY_VIEW_SILENTLY) => LookupPermission::Scheduled,
            _ => LookupPermission::NotPermitted,
        }
    }

    /// A sentence saying why this user cannot look up, or `None` when they can.
    pub fn cannot_look_up_because(&self) -> Option<&'static str> {
        if self.lookup_permission() != LookupPermission::NotPermitted {
            return None;
        }
        Some(match self.selected_role() {
            None => {
                "You do not have a role selected. Sign in again and choose a role that allows child protection lookups."
            }
            Some(_) => {
                "Your selected role does not allow child protection lookups. Ask your registration authority for activity B0107 or B0170."
            }
        })
    }
}

/// The secrets of a session, only in memory and in the OS keyring: the platform's short-lived
/// access token and the broker session handle. No refresh token and no ID token: those stay
/// in the broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// The API platform's opaque bearer token for the services (about 10 minutes).
    pub access_token: Secret,
    /// When the access token expires, if the broker said.
    #[serde(with = "time::serde::rfc3339::option")]
    pub access_token_expires_at: Option<OffsetDateTime>,
    /// The broker session handle: refreshes the access token and ends the session. Useless
    /// without the broker; ended by sign-out and lock.
    pub session_handle: Secret,
}

/// A signed-in session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Who.
    pub user: SignedInUser,
    /// The access token and the broker session handle.
    pub tokens: Tokens,
    /// The authentication assurance level CIS2 gave the sign-in (`"3"` or `"2"`), if said.
    #[serde(default)]
    pub assurance_level: Option<String>,
    /// When the user authenticated; the session ends [`MAX_SESSION`] later.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_in_at: OffsetDateTime,
}

impl Session {
    /// When the user must sign in again, refresh or not.
    pub fn must_sign_in_again_at(&self) -> OffsetDateTime {
        self.signed_in_at + MAX_SESSION
    }

    /// Whether the 12 hour limit has passed at `now`.
    pub fn is_past_max_age(&self, now: OffsetDateTime) -> bool {
        now >= self.must_sign_in_again_at()
    }

    /// Whether the access token has expired at `now` (unknown expiry counts as not expired: the
    /// service will say so).
    pub fn access_token_expired(&self, now: OffsetDateTime) -> bool {
        self.tokens
            .access_token_expires_at
            .is_some_and(|expires_at| now >= expires_at)
    }

    /// Whether the access token should be refreshed at `now` (expired or within a minute).
    pub fn access_token_needs_refresh(&self, now: OffsetDateTime) -> bool {
        self.tokens
            .access_token_expires_at
            .is_some_and(|expires_at| now + Duration::minutes(1) >= expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, codes: &[&str]) -> Role {
        Role {
            person_roleid: id.into(),
            org_code: "ZZ1ED".into(),
            role_code: "R8001".into(),
            role_name: "Nurse Access Role".into(),
            activity_codes: codes.iter().map(|code| (*code).to_owned()).collect(),
        }
    }

    fn user(selected: Option<&str>, roles: Vec<Role>) -> SignedInUser {
        SignedInUser {
            subject: "900000000001".into(),
            name: "Tess Triage-Test".into(),
            selected_roleid: selected.map(str::to_owned),
            roles,
            organisations: vec![Organisation {
                org_code: "ZZ1ED".into(),
                org_name: "Northshire General Hospital".into(),
            }],
        }
    }

    #[test]
    fn permission_comes_from_the_selected_role_only() {
        let roles = vec![
            role("1", &["B0107"]),
            role("2", &["B0170"]),
            role("3", &["B9999"]),
        ];
        assert_eq!(
            user(Some("1"), roles.clone()).lookup_permission(),
            LookupPermission::Unscheduled
        );
        assert_eq!(
            user(Some("2"), roles.clone()).lookup_permission(),
            LookupPermission::Scheduled
        );
        assert_eq!(
            user(Some("3"), roles.clone()).lookup_permission(),
            LookupPermission::NotPermitted
        );
        assert_eq!(
            user(None, roles.clone()).lookup_permission(),
            LookupPermission::NotPermitted
        );
        assert_eq!(
            user(Some("missing"), roles).lookup_permission(),
            LookupPermission::NotPermitted
        );
    }

    #[test]
    fn role_names_are_shown_without_the_cis2_hierarchy() {
        let mut nurse = role("1", &[]);
        nurse.role_name = "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"".into();
        assert_eq!(nurse.display_name(), "Nurse Access Role");
        nurse.role_name = "Plain Role".into();
        assert_eq!(nurse.display_name(), "Plain Role");
    }

    /// Issue 16: the CIS2 hierarchy (`"Clinical":"Clinical Provision":"Nurse Access Role"`)
    /// was recorded as the role's name, and shown so in the review and its CSV.
    #[test]
    fn the_actor_records_the_role_by_its_own_name() {
        let mut nurse = role("1", &["B0107"]);
        nurse.role_name = "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"".into();
        let actor = user(Some("1"), vec![nurse]).actor();
        assert_eq!(actor.role.role_name, "Nurse Access Role");
        assert_eq!(actor.role.role_code, "R8001");
    }

    #[test]
    fn the_actor_is_the_user_in_the_selected_role() {
        let roles = vec![role("1", &["B0107"]), role("2", &["B0170"])];
        let actor = user(Some("2"), roles.clone()).actor();
        assert_eq!(actor.user_id, "900000000001");
        assert_eq!(actor.user_name, "Tess Triage-Test");
        assert_eq!(actor.role.role_profile_id, "2");
        assert_eq!(actor.role.role_code, "R8001");
        assert_eq!(actor.role.role_name, "Nurse Access Role");
        assert_eq!(actor.role.organisation_ods, "ZZ1ED");
        assert_eq!(actor.role.organisation_name, "Northshire General Hospital");
        assert!(user(None, roles.clone()).actor().role.is_none());
        assert!(user(Some("missing"), roles).actor().role.is_none());
        let mut elsewhere = role("1", &[]);
        elsewhere.org_code = "ZZ9XX".into();
        let unnamed = user(Some("1"), vec![elsewhere]).actor();
        assert_eq!(unnamed.role.organisation_ods, "ZZ9XX");
        assert_eq!(unnamed.role.organisation_name, "");
    }

    #[test]
    fn b0107_wins_over_b0170_in_one_role() {
        let both = user(Some("1"), vec![role("1", &["B0170", "B0107"])]);
        assert_eq!(both.lookup_permission(), LookupPermission::Unscheduled);
    }

    #[test]
    fn a_user_without_a_permitting_role_is_told_why() {
        let no_role = user(None, vec![]);
        assert!(
            no_role
                .cannot_look_up_because()
                .is_some_and(|message| message.contains("do not have a role"))
        );
        let wrong_role = user(Some("1"), vec![role("1", &["B1235"])]);
        assert!(
            wrong_role
                .cannot_look_up_because()
                .is_some_and(|message| message.contains("does not allow"))
        );
        assert_eq!(
            user(Some("1"), vec![role("1", &["B0107"])]).cannot_look_up_because(),
            None
        );
    }

    #[test]
    fn sessions_end_after_twelve_hours() {
        let signed_in_at = time::macros::datetime!(2026-11-25 08:00 UTC);
        let session = Session {
            user: user(None, vec![]),
            tokens: Tokens {
                access_token: Secret::new("a"),
                access_token_expires_at: Some(signed_in_at + Duration::hours(1)),
                session_handle: Secret::new("h"),
            },
            assurance_level: Some("3".into()),
            signed_in_at,
        };
        assert!(!session.is_past_max_age(signed_in_at + Duration::hours(11)));
        assert!(session.is_past_max_age(signed_in_at + Duration::hours(12)));
        assert!(!session.access_token_needs_refresh(signed_in_at));
        assert!(!session.access_token_expired(signed_in_at + Duration::minutes(59)));
        assert!(session.access_token_expired(signed_in_at + Duration::minutes(60)));
        assert!(session.access_token_needs_refresh(signed_in_at + Duration::minutes(59)));
    }

    #[test]
    fn debug_shows_no_name_or_token() {
        let session = Session {
            user: user(None, vec![]),
            tokens: Tokens {
                access_token: Secret::new("eyJaccess"),
                access_token_expires_at: None,
                session_handle: Secret::new("handle-secret"),
            },
            assurance_level: None,
            signed_in_at: time::macros::datetime!(2026-11-25 08:00 UTC),
        };
        let debug = format!("{session:?}");
        for secret in ["eyJ", "handle-secret", "Tess"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}
