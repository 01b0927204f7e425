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
    /// The plans the view found, as recorded with it: whom to chase. `None` when the record
    /// was written before plans were recorded with views (the UI says they were not recorded).
    pub plans: Option<Vec<ReviewPlanView>>,
}

/// One plan a view found, as recorded with the view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReviewPlanView {
    /// `Child protection plan`, or `Plan type not given`.
    pub plan_type: String,
    /// The responsible local authority's name.
    pub local_authority: String,
    /// Its ODS code, when recorded.
    pub local_authority_ods: Option<String>,
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
    /// The organisation's name; empty when neither the sign-in nor the log gives it.
    pub organisation_name: String,
    /// Newest first.
    pub rows: Vec<ReviewRow>,
    /// When the central audit log answered.
    pub generated_at: String,
    /// Why the list may not hold every view, in plain words; `None` when the central audit
    /// log confirmed that it sent every record for the period.
    pub incomplete: Option<String>,
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
            plans: Some(vec![ReviewPlanView {
                plan_type: "Child protection plan".into(),
                local_authority: "Testshire County Council".into(),
                local_authority_ods: None,
            }]),
        };
        let debug = format!("{row:?}");
        for secret in ["999 000 0018", "Testworker"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(!debug.contains("Tess"), "{debug}");
    }

    /// Issue 16: the access history and the review showed CIS2's hierarchy as the role.
    #[test]
    fn a_role_stored_in_cis2_form_is_shown_by_its_own_name() {
        let access = cpis_domain::AccessRecord {
            accessed_at: time::macros::datetime!(2026-11-24 21:15 UTC),
            viewer_name: "Tess Triage-Test".into(),
            viewer_role: r#""Clinical":"Clinical Provision":"Nurse Access Role""#.into(),
            organisation_name: "Northshire General Hospital".into(),
            organisation_ods: Some("ZZ1ED".into()),
        };
        assert_eq!(
            crate::AccessView::from_record(&access).viewer_role,
            "Nurse Access Role"
        );
    }
}
