//! Settings the UI needs (the inactivity lock, the trust's own words and numbers), and the setup
//! problem shown when the app is not configured.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::PhoneView;

/// Settings the UI needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UiSettings {
    /// Minutes of inactivity before the app locks.
    pub lock_minutes: u32,
    /// The organisation's display name from the trust's configuration; when absent the UI
    /// uses the name (or ODS code) from the signed-in user's role.
    pub organisation_display_name: Option<String>,
    /// The trust's own words and numbers for the result screens.
    pub trust: TrustContactsView,
}

/// What the trust wants a clinician to see when the check could not be done, and under "if you
/// have concerns" when no plan was found. Every field is optional; the UI shows what is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TrustContactsView {
    /// The trust's downtime procedure, one short paragraph per entry.
    pub downtime_procedure: Vec<String>,
    /// The safeguarding team's number in office hours.
    pub safeguarding_in_hours: Option<PhoneView>,
    /// When the office-hours number is answered, in the trust's words ("Monday to Friday,
    /// 9am to 5pm").
    pub safeguarding_in_hours_times: Option<String>,
    /// The safeguarding team's (or the on-call) number out of hours.
    pub safeguarding_out_of_hours: Option<PhoneView>,
}

/// Why the app cannot start its normal screens: the configuration is missing or invalid.
/// The text names settings and files only (configuration holds no patient data or secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SetupProblemView {
    /// What is wrong, naming the setting and the file, such as "the setting `services.cpis_url`
    /// is missing".
    pub problems: Vec<String>,
    /// Where the trust's machine-wide configuration file goes on this computer.
    pub machine_file: String,
    /// Where a user's own configuration file goes, when the platform has one.
    pub user_file: Option<String>,
}
