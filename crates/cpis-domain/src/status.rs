//! A plan's status on a UK date, in words that fit its type: the one rule the app and the CLI
//! both show ([`PlanRecord::status_on`]).

use time::Date;

use crate::{PlanRecord, PlanType, ProtectionPlan, display_date};

/// `CareTeam.status` as CP-IS gave it (FHIR R4 `care-team-status`; `entered-in-error` is not
/// a record and is refused by the parser).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CareTeamStatus {
    /// `proposed`.
    Proposed,
    /// `active`.
    Active,
    /// `suspended`.
    Suspended,
    /// `inactive`.
    Inactive,
}

impl CareTeamStatus {
    /// Every status.
    pub const ALL: [CareTeamStatus; 4] = [
        CareTeamStatus::Proposed,
        CareTeamStatus::Active,
        CareTeamStatus::Suspended,
        CareTeamStatus::Inactive,
    ];

    /// The FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            CareTeamStatus::Proposed => "proposed",
            CareTeamStatus::Active => "active",
            CareTeamStatus::Suspended => "suspended",
            CareTeamStatus::Inactive => "inactive",
        }
    }

    /// The status for a FHIR code; `None` for any other.
    pub fn from_code(code: &str) -> Option<CareTeamStatus> {
        CareTeamStatus::ALL
            .into_iter()
            .find(|status| status.code() == code)
    }
}

/// What a plan's tag says on a given UK date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanStatus {
    /// Open.
    Active,
    /// Its start date is still to come.
    Starts {
        /// The start date.
        on: Date,
    },
    /// An unborn plan whose due date is today.
    DueToday,
    /// An unborn plan whose due date has passed: the baby may not yet be born, and CP-IS shows
    /// the plan for 28 days after the due date. Never "Ended".
    DuePassed {
        /// Whole days since the due date (1 or more).
        days: u32,
    },
    /// A plan other than an unborn one whose end date has passed.
    Ended {
        /// The end date.
        on: Date,
    },
    /// CP-IS marks the record `inactive`.
    Inactive,
    /// CP-IS marks the record `suspended`.
    Suspended,
    /// CP-IS marks the record `proposed`.
    Proposed,
}

impl PlanStatus {
    /// The words for the plan's tag: `Active`, `Starts 3 December 2026`, `Due date is today`,
    /// `Due date passed 7 days ago`, `Ended 11 October 2026`, `Marked inactive in CP-IS`,
    /// `Suspended in CP-IS`, `Proposed in CP-IS`.
    pub fn text(self) -> String {
        match self {
            PlanStatus::Active => "Active".to_owned(),
            PlanStatus::Starts { on } => format!("Starts {}", display_date(on)),
            PlanStatus::DueToday => "Due date is today".to_owned(),
            PlanStatus::DuePassed { days: 1 } => "Due date passed 1 day ago".to_owned(),
            PlanStatus::DuePassed { days } => format!("Due date passed {days} days ago"),
            PlanStatus::Ended { on } => format!("Ended {}", display_date(on)),
            PlanStatus::Inactive => "Marked inactive in CP-IS".to_owned(),
            PlanStatus::Suspended => "Suspended in CP-IS".to_owned(),
            PlanStatus::Proposed => "Proposed in CP-IS".to_owned(),
        }
    }

    /// Whether the plan is open: active, or an unborn plan at or past its due date (still in
    /// its window). A plan yet to start, ended, or marked otherwise by CP-IS is not.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            PlanStatus::Active | PlanStatus::DueToday | PlanStatus::DuePassed { .. }
        )
    }
}

/// The rule, on the parts of a record it reads. In order: a start still to come; an unborn
/// plan's due date today or passed; any other plan's end passed (a record of unknown type
/// included); what `CareTeam.status` says; else active.
fn status_on(
    plan_type: Option<PlanType>,
    start: Option<Date>,
    end: Option<Date>,
    care_team_status: Option<CareTeamStatus>,
    today: Date,
) -> PlanStatus {
    if let Some(start) = start.filter(|start| *start > today) {
        return PlanStatus::Starts { on: start };
    }
    if let Some(end) = end {
        let unborn = plan_type.is_some_and(PlanType::is_unborn);
        if unborn && end == today {
            return PlanStatus::DueToday;
        }
        if end < today {
            return if unborn {
                let days = (today - end).whole_days();
                PlanStatus::DuePassed {
                    days: u32::try_from(days).unwrap_or(u32::MAX),
                }
            } else {
                PlanStatus::Ended { on: end }
            };
        }
    }
    match care_team_status {
        Some(CareTeamStatus::Inactive) => PlanStatus::Inactive,
        Some(CareTeamStatus::Suspended) => PlanStatus::Suspended,
        Some(CareTeamStatus::Proposed) => PlanStatus::Proposed,
        Some(CareTeamStatus::Active) | None => PlanStatus::Active,
    }
}

impl PlanRecord {
    /// The record's status on the UK date `today` (see [`PlanStatus`]).
    pub fn status_on(&self, today: Date) -> PlanStatus {
        status_on(
            self.plan_type,
            self.start,
            self.end,
            self.care_team_status,
            today,
        )
    }

    /// The record CP-IS gives on `today` for a plan a local authority uploaded: the plan, with
    /// the `CareTeam.status` the reference service sends that day
    /// ([`ProtectionPlan::care_team_status_on`]).
    pub fn from_plan_on(plan: ProtectionPlan, today: Date) -> PlanRecord {
        let care_team_status = plan.care_team_status_on(today);
        PlanRecord {
            care_team_status: Some(care_team_status),
            ..PlanRecord::from(plan)
        }
    }
}

impl ProtectionPlan {
    /// The plan's status on the UK date `today`: the same rule as [`PlanRecord::status_on`],
    /// with no `CareTeam.status` of its own.
    pub fn status_on(&self, today: Date) -> PlanStatus {
        status_on(
            Some(self.plan_type),
            Some(self.start),
            self.end,
            None,
            today,
        )
    }

    /// Whether the plan is open on `today` ([`PlanStatus::is_open`]): started, and not ended
    /// (an unborn plan past its due date is still open).
    pub fn is_active_on(&self, today: Date) -> bool {
        self.status_on(today).is_open()
    }

    /// The `CareTeam.status` the reference service sends on `today`: `active` while the plan
    /// is open, else `inactive`. The date rules come first in [`PlanRecord::status_on`], so a
    /// record read back has the plan's own status.
    pub fn care_team_status_on(&self, today: Date) -> CareTeamStatus {
        if self.is_active_on(today) {
            CareTeamStatus::Active
        } else {
            CareTeamStatus::Inactive
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LaContact;
    use time::macros::date;

    fn record(plan_type: Option<PlanType>, start: Option<Date>, end: Option<Date>) -> PlanRecord {
        PlanRecord {
            plan_type,
            start,
            end,
            care_team_status: None,
            local_authority: LaContact {
                name: "Testshire County Council".into(),
                ods_code: None,
                office_hours_phone: Some("0300 000 0001".into()),
                emergency_duty_phone: None,
            },
            social_worker: None,
        }
    }

    const TODAY: Date = date!(2026 - 11 - 27);

    #[test]
    fn an_unborn_plan_past_its_due_date_is_never_ended() {
        // The seeded mother: due 20 November, looked up on 27 November.
        let unborn = record(
            Some(PlanType::UnbornChildProtectionPlan),
            Some(date!(2026 - 05 - 01)),
            Some(date!(2026 - 11 - 20)),
        );
        assert_eq!(unborn.status_on(TODAY), PlanStatus::DuePassed { days: 7 });
        assert_eq!(unborn.status_on(TODAY).text(), "Due date passed 7 days ago");
        assert_eq!(
            unborn.status_on(date!(2026 - 11 - 21)).text(),
            "Due date passed 1 day ago"
        );
        assert_eq!(
            unborn.status_on(date!(2026 - 11 - 20)),
            PlanStatus::DueToday
        );
        assert_eq!(
            unborn.status_on(date!(2026 - 11 - 20)).text(),
            "Due date is today"
        );
        assert_eq!(unborn.status_on(date!(2026 - 11 - 19)), PlanStatus::Active);
        // CP-IS marking it inactive does not hide that the due date has passed.
        let marked = PlanRecord {
            care_team_status: Some(CareTeamStatus::Inactive),
            ..unborn
        };
        assert_eq!(marked.status_on(TODAY), PlanStatus::DuePassed { days: 7 });
    }

    #[test]
    fn a_plan_yet_to_start_says_when_it_starts() {
        let future = record(
            Some(PlanType::ChildProtectionPlan),
            Some(date!(2026 - 12 - 03)),
            None,
        );
        assert_eq!(
            future.status_on(TODAY),
            PlanStatus::Starts {
                on: date!(2026 - 12 - 03)
            }
        );
        assert_eq!(future.status_on(TODAY).text(), "Starts 3 December 2026");
        assert_eq!(future.status_on(date!(2026 - 12 - 03)), PlanStatus::Active);
    }

    #[test]
    fn an_ended_plan_says_when_it_ended_and_care_team_status_is_shown() {
        let ended = record(
            Some(PlanType::LookedAfterChild),
            None,
            Some(date!(2026 - 10 - 11)),
        );
        assert_eq!(ended.status_on(TODAY).text(), "Ended 11 October 2026");
        assert_eq!(ended.status_on(date!(2026 - 10 - 11)), PlanStatus::Active);
        let unknown = record(None, None, Some(date!(2026 - 10 - 11)));
        assert_eq!(unknown.status_on(TODAY).text(), "Ended 11 October 2026");
        for (status, text) in [
            (CareTeamStatus::Active, "Active"),
            (CareTeamStatus::Inactive, "Marked inactive in CP-IS"),
            (CareTeamStatus::Suspended, "Suspended in CP-IS"),
            (CareTeamStatus::Proposed, "Proposed in CP-IS"),
        ] {
            let marked = PlanRecord {
                care_team_status: Some(status),
                ..record(Some(PlanType::ChildProtectionPlan), None, None)
            };
            assert_eq!(marked.status_on(TODAY).text(), text);
            assert_eq!(CareTeamStatus::from_code(status.code()), Some(status));
        }
        assert_eq!(CareTeamStatus::from_code("entered-in-error"), None);
    }
}
