//! What the platform knows of a caller: the verified CIS2 ID token's claims ([`Claims`]:
//! `sub`, `name`, `selected_roleid`, `authentication_assurance_level`), and the caller a
//! handler sees ([`Principal`]: a `cpis_domain::Actor` and the role's activity codes, built by
//! the request extractor from the token's grant and the role directory).

use cpis_domain::{ACTIVITY_VIEW_AND_NOTIFY, ACTIVITY_VIEW_SILENTLY, Actor};
use serde::Deserialize;

/// Who is calling: the user and the role they act in ([`cpis_domain::RoleRef::default`] when
/// none), and that role's activity codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `sub`, `name` and the role.
    pub actor: Actor,
    /// The role's `activity_codes` from the role directory; empty when no role.
    pub activity_codes: Vec<String>,
}

impl Principal {
    /// Whether the role has this activity code.
    pub fn has_activity(&self, code: &str) -> bool {
        self.activity_codes.iter().any(|have| have == code)
    }

    /// Whether the user may look up CP-IS at all (`B0107` or `B0170`).
    pub fn may_look_up(&self) -> bool {
        self.has_activity(ACTIVITY_VIEW_AND_NOTIFY) || self.has_activity(ACTIVITY_VIEW_SILENTLY)
    }
}

/// The claims of a verified CIS2 ID token that the platform keeps (no roles: CIS2 puts those
/// in userinfo, and the platform reads its own role directory).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The user's name.
    pub name: String,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
    /// The `person_roleid` the user selected at sign-in, if any.
    #[serde(default)]
    pub selected_roleid: Option<String>,
    /// `"3"` or `"2"` (a number is read as its text).
    #[serde(default, deserialize_with = "text_or_number")]
    pub authentication_assurance_level: Option<String>,
}

fn text_or_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(serde_json::Value::String(text)) => Some(text),
        Some(serde_json::Value::Number(number)) => Some(number.to_string()),
        _ => None,
    })
}
