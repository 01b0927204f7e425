//! The LA contact follow-up the UI sends after a lookup that found plans.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How the local authority was contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ContactMethod {
    /// Phoned the office-hours number.
    PhoneOfficeHours,
    /// Phoned the emergency duty team.
    PhoneEmergencyDutyTeam,
    /// Phoned the social worker.
    PhoneSocialWorker,
    /// Secure email.
    SecureEmail,
}

impl ContactMethod {
    /// Every method.
    pub const ALL: [ContactMethod; 4] = [
        ContactMethod::PhoneOfficeHours,
        ContactMethod::PhoneEmergencyDutyTeam,
        ContactMethod::PhoneSocialWorker,
        ContactMethod::SecureEmail,
    ];

    /// The method whose stored code is `code`.
    pub fn from_code(code: &str) -> Option<ContactMethod> {
        ContactMethod::ALL
            .into_iter()
            .find(|method| method.code() == code)
    }

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ContactMethod::PhoneOfficeHours => "phone_office_hours",
            ContactMethod::PhoneEmergencyDutyTeam => "phone_emergency_duty_team",
            ContactMethod::PhoneSocialWorker => "phone_social_worker",
            ContactMethod::SecureEmail => "secure_email",
        }
    }
}

/// A record that the local authority was contacted after a lookup found a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LaContactRequest {
    /// The lookup this follows.
    pub lookup_id: u32,
    /// How.
    pub method: ContactMethod,
    /// When, as `HH:MM` today (24-hour, local time); the time of recording when absent.
    pub contacted_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_method_codes_are_their_serde_names_and_read_back() {
        for method in ContactMethod::ALL {
            assert_eq!(ContactMethod::from_code(method.code()), Some(method));
            assert_eq!(
                serde_json::to_value(method).expect("json"),
                method.code(),
                "the stored code is the IPC name"
            );
        }
        assert_eq!(ContactMethod::from_code("phone"), None);
    }
}
