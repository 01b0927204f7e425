//! Protection plans, the local authority responsible, the access history, and the rules for
//! which plans are visible on a given day.

use std::fmt;

use time::{Date, Duration, OffsetDateTime};

use crate::{PatientDemographics, REDACTED};

/// Records are not shown for anyone this age or older (CPP and LAC plans end at 18).
pub const ADULT_AGE_YEARS: i32 = 18;

/// The three kinds of plan CP-IS holds, each SNOMED CT coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlanType {
    /// Child Protection Plan.
    ChildProtectionPlan,
    /// Looked After Child.
    LookedAfterChild,
    /// Unborn Child Protection Plan, held against the mother's NHS number.
    UnbornChildProtectionPlan,
}

impl PlanType {
    /// Every plan type, in display order.
    pub const ALL: [PlanType; 3] = [
        PlanType::ChildProtectionPlan,
        PlanType::LookedAfterChild,
        PlanType::UnbornChildProtectionPlan,
    ];

    /// The SNOMED CT concept id.
    pub fn snomed_code(self) -> &'static str {
        match self {
            PlanType::ChildProtectionPlan => "342191000000101",
            PlanType::LookedAfterChild => "764841000000100",
            PlanType::UnbornChildProtectionPlan => "818901000000100",
        }
    }

    /// The plan type for a SNOMED CT concept id; `None` for any other code.
    pub fn from_snomed_code(code: &str) -> Option<PlanType> {
        PlanType::ALL
            .into_iter()
            .find(|plan_type| plan_type.snomed_code() == code)
    }

    /// The plain-English name.
    pub fn display_name(self) -> &'static str {
        match self {
            PlanType::ChildProtectionPlan => "Child protection plan",
            PlanType::LookedAfterChild => "Looked after child",
            PlanType::UnbornChildProtectionPlan => "Unborn child protection plan",
        }
    }

    /// A stable short code for wire formats and CSV.
    pub fn short_code(self) -> &'static str {
        match self {
            PlanType::ChildProtectionPlan => "CPP",
            PlanType::LookedAfterChild => "LAC",
            PlanType::UnbornChildProtectionPlan => "UCPP",
        }
    }

    /// Parse [`PlanType::short_code`].
    pub fn from_short_code(code: &str) -> Option<PlanType> {
        PlanType::ALL
            .into_iter()
            .find(|plan_type| plan_type.short_code() == code)
    }

    /// How long the plan stays visible after its end date.
    pub fn visible_after_end(self) -> Duration {
        match self {
            PlanType::ChildProtectionPlan | PlanType::LookedAfterChild => Duration::days(365),
            PlanType::UnbornChildProtectionPlan => Duration::days(28),
        }
    }

    /// Whether the plan is about an unborn child, held against the mother.
    pub fn is_unborn(self) -> bool {
        matches!(self, PlanType::UnbornChildProtectionPlan)
    }
}

/// The local authority responsible for a plan, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAuthority {
    /// The authority's name.
    pub name: String,
    /// Its ODS code.
    pub ods_code: String,
    /// The number to phone in office hours.
    pub office_hours_phone: String,
    /// The Emergency Duty Team number, for out of hours.
    pub emergency_duty_phone: String,
}

/// The allocated social worker, where the local authority chooses to share one.
#[derive(Clone, PartialEq, Eq)]
pub struct SocialWorker {
    /// Name.
    pub name: String,
    /// Phone number.
    pub phone: String,
}

impl fmt::Debug for SocialWorker {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A named social worker ties the record to a child; keep it out of logs.
        formatter
            .debug_struct("SocialWorker")
            .field("name", &REDACTED)
            .field("phone", &REDACTED)
            .finish()
    }
}

/// One plan as CP-IS holds it. Nothing clinical and no reason for the plan is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectionPlan {
    /// Which kind of plan.
    pub plan_type: PlanType,
    /// The day it started.
    pub start: Date,
    /// The day it ended (for an unborn plan, the due date), if it has.
    pub end: Option<Date>,
    /// Who is responsible.
    pub local_authority: LocalAuthority,
    /// The allocated social worker, where the authority shares it.
    pub social_worker: Option<SocialWorker>,
}

impl ProtectionPlan {
    /// Whether the plan is within its visibility window on `today`: open, or ended no longer
    /// ago than the window for its type (365 days for CPP and LAC, 28 for an unborn plan).
    /// This rule alone does not apply the age limit; see [`visible_plans`].
    pub fn is_visible_on(&self, today: Date) -> bool {
        match self.end {
            None => true,
            Some(end) => today <= end.saturating_add(self.plan_type.visible_after_end()),
        }
    }
}

/// The plans to show for a person on `today`. A person aged 18 or over sees no CPP or LAC
/// records; an unborn plan is about the mother's pregnancy and is shown at any age.
pub fn visible_plans(
    plans: &[ProtectionPlan],
    date_of_birth: Date,
    today: Date,
) -> Vec<ProtectionPlan> {
    let adult = crate::age_in_whole_years(date_of_birth, today) >= ADULT_AGE_YEARS;
    plans
        .iter()
        .filter(|plan| plan.is_visible_on(today))
        .filter(|plan| plan.plan_type.is_unborn() || !adult)
        .cloned()
        .collect()
}

/// [`visible_plans`] for a traced patient.
impl PatientDemographics {
    /// The plans to show for this patient on `today`.
    pub fn visible_plans(&self, plans: &[ProtectionPlan], today: Date) -> Vec<ProtectionPlan> {
        visible_plans(plans, self.date_of_birth, today)
    }
}

/// One entry in a record's access history: who looked, when, from where.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// When the record was viewed.
    pub accessed_at: OffsetDateTime,
    /// The viewer's name.
    pub viewer_name: String,
    /// The viewer's role.
    pub viewer_role: String,
    /// The organisation's name.
    pub organisation_name: String,
    /// The organisation's ODS code, where the answer carries one.
    pub organisation_ods: Option<String>,
}

impl fmt::Debug for AccessRecord {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AccessRecord")
            .field("accessed_at", &self.accessed_at)
            .field("viewer_name", &REDACTED)
            .field("viewer_role", &self.viewer_role)
            .field("organisation_ods", &self.organisation_ods)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn plan(plan_type: PlanType, end: Option<Date>) -> ProtectionPlan {
        ProtectionPlan {
            plan_type,
            start: date!(2024 - 01 - 10),
            end,
            local_authority: LocalAuthority {
                name: "Northshire County Council".into(),
                ods_code: "Z9A1B".into(),
                office_hours_phone: "01632 960001".into(),
                emergency_duty_phone: "01632 960999".into(),
            },
            social_worker: None,
        }
    }

    #[test]
    fn snomed_codes_are_the_published_ones_and_round_trip() {
        assert_eq!(
            PlanType::ChildProtectionPlan.snomed_code(),
            "342191000000101"
        );
        assert_eq!(PlanType::LookedAfterChild.snomed_code(), "764841000000100");
        assert_eq!(
            PlanType::UnbornChildProtectionPlan.snomed_code(),
            "818901000000100"
        );
        for plan_type in PlanType::ALL {
            assert_eq!(
                PlanType::from_snomed_code(plan_type.snomed_code()),
                Some(plan_type)
            );
            assert_eq!(
                PlanType::from_short_code(plan_type.short_code()),
                Some(plan_type)
            );
        }
        assert_eq!(PlanType::from_snomed_code("123456789"), None);
    }

    #[test]
    fn cpp_and_lac_stay_visible_365_days_after_end() {
        let end = date!(2025 - 01 - 01);
        for plan_type in [PlanType::ChildProtectionPlan, PlanType::LookedAfterChild] {
            let ended = plan(plan_type, Some(end));
            assert!(ended.is_visible_on(end));
            assert!(ended.is_visible_on(end + Duration::days(365)));
            assert!(!ended.is_visible_on(end + Duration::days(366)));
        }
    }

    #[test]
    fn unborn_plan_stays_visible_28_days_after_end() {
        let end = date!(2026 - 03 - 01);
        let unborn = plan(PlanType::UnbornChildProtectionPlan, Some(end));
        assert!(unborn.is_visible_on(end + Duration::days(28)));
        assert!(!unborn.is_visible_on(end + Duration::days(29)));
    }

    #[test]
    fn open_plans_are_visible_and_active() {
        let open = plan(PlanType::ChildProtectionPlan, None);
        assert!(open.is_visible_on(date!(2030 - 01 - 01)));
        assert!(open.is_active_on(date!(2026 - 01 - 01)));
        assert!(!open.is_active_on(date!(2023 - 01 - 01)));
        // An unborn plan past its due date is still open; another ended plan is not.
        let end = Some(date!(2026 - 11 - 20));
        let unborn = plan(PlanType::UnbornChildProtectionPlan, end);
        assert!(unborn.is_active_on(date!(2026 - 11 - 27)));
        assert!(!plan(PlanType::ChildProtectionPlan, end).is_active_on(date!(2026 - 11 - 27)));
    }

    #[test]
    fn nothing_but_unborn_plans_shown_at_18_or_over() {
        let plans = vec![
            plan(PlanType::ChildProtectionPlan, None),
            plan(PlanType::LookedAfterChild, None),
            plan(PlanType::UnbornChildProtectionPlan, None),
        ];
        let today = date!(2026 - 11 - 25);
        let seventeen = visible_plans(&plans, date!(2008 - 11 - 26), today);
        assert_eq!(seventeen.len(), 3);
        let eighteen = visible_plans(&plans, date!(2008 - 11 - 25), today);
        assert_eq!(eighteen.len(), 1);
        assert_eq!(eighteen[0].plan_type, PlanType::UnbornChildProtectionPlan);
    }

    #[test]
    fn social_worker_and_viewer_are_redacted_in_debug() {
        let worker = SocialWorker {
            name: "Sam Testworker".into(),
            phone: "07700 900123".into(),
        };
        let debug = format!("{worker:?}");
        assert!(!debug.contains("Sam") && !debug.contains("07700"));
    }
}
