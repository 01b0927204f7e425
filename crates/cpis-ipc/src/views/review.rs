//! The named nurse review: views with plans found at the user's organisation. A row's `Debug`
//! shows no NHS number and nobody's name.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Which window the named nurse review covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReviewPeriod {
    /// The last 24 hours.
    Last24Hours,
    /// The last 7 days.
    Last7Days,
}

impl ReviewPeriod {
    /// How far back the period reaches.
    pub fn duration(self) -> time::Duration {
        match self {
            ReviewPeriod::Last24Hours => time::Duration::hours(24),
            ReviewPeriod::Last7Days => time::Duration::days(7),
        }
    }
}

/// One view with plans found at the organisation, for the named nurse review. Its `Debug`
/// shows no NHS number and nobody's name.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReviewRow {
    /// `25 November 2026 at 5.30pm`.
    pub viewed_at: String,
    /// RFC 3339, for sorting.
    pub viewed_at_iso: String,
    /// Who looked.
    pub viewer_name: String,
    /// Their role.
    pub viewer_role: String,
    /// `943 476 5919`.
    pub nhs_number: String,
    /// Whether it was an unscheduled access (the local authority was told).
    pub unscheduled: bool,
    /// Whether anyone recorded contacting the local authority after this view.
    pub la_contacted: bool,
    /// How and when, in words, when recorded.
    pub la_contact: Option<String>,
}

impl std::fmt::Debug for ReviewRow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ReviewRow")
            .field("unscheduled", &self.unscheduled)
            .field("la_contacted", &self.la_contacted)
            .finish_non_exhaustive()
    }
}

/// The named nurse review: views with plans found at the user's organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReviewView {
    /// The period covered.
    pub period: ReviewPeriod,
    /// The organisation's ODS code.
    pub organisation_ods: String,
    /// Newest first.
    pub rows: Vec<ReviewRow>,
    /// When the central audit log answered.
    pub generated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_row_debug_shows_no_patient_data() {
        let row = ReviewRow {
            viewed_at: "25 November 2026 at 9am".into(),
            viewed_at_iso: "2026-11-25T09:00:00Z".into(),
            viewer_name: "Tess Triage-Test".into(),
            viewer_role: "Nurse".into(),
            nhs_number: "999 000 0018".into(),
            unscheduled: true,
            la_contacted: true,
            la_contact: Some("Phoned the social worker Sam Testworker".into()),
        };
        let debug = format!("{row:?}");
        for secret in ["999 000 0018", "Testworker"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(!debug.contains("Tess"), "{debug}");
    }
}
