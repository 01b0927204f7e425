//! What a national answer says, as the client reads it: the demographics service's patient and
//! CP-IS's plan records, with every element the published contracts leave optional kept
//! optional. [`PatientDemographics`] and [`ProtectionPlan`] are the complete forms a local
//! authority uploads and the reference service stores; these are what a real answer may carry.
//!
//! The rules here decide conservatively: a plan is never hidden because something about it, or
//! about the patient's age, is not known exactly.

use std::fmt;

use time::{Date, Duration, Month};

use crate::{
    ADULT_AGE_YEARS, CareTeamStatus, Gender, NhsNumber, PatientDemographics, PlanType,
    ProtectionPlan, REDACTED, SocialWorker, age_in_whole_years, display_date,
};

/// A date of birth as the demographics service records it: usually a day, but "due to data
/// quality issues on a small number of patients" only a month or a year (PDS `BirthDate`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum BirthDate {
    /// `yyyy-mm-dd`.
    Day(Date),
    /// `yyyy-mm`.
    Month {
        /// Year.
        year: i32,
        /// Month.
        month: Month,
    },
    /// `yyyy`.
    Year(i32),
}

impl BirthDate {
    /// The earliest day the person could have been born (the oldest they could be).
    pub fn earliest_possible(self) -> Option<Date> {
        match self {
            BirthDate::Day(day) => Some(day),
            BirthDate::Month { year, month } => Date::from_calendar_date(year, month, 1).ok(),
            BirthDate::Year(year) => Date::from_calendar_date(year, Month::January, 1).ok(),
        }
    }

    /// The latest day the person could have been born (the youngest they could be).
    pub fn latest_possible(self) -> Option<Date> {
        match self {
            BirthDate::Day(day) => Some(day),
            BirthDate::Month { year, month } => {
                Date::from_calendar_date(year, month, time::util::days_in_month(month, year)).ok()
            }
            BirthDate::Year(year) => Date::from_calendar_date(year, Month::December, 31).ok(),
        }
    }

    /// Whether the person is certainly `years` old or more on `today`, however the date is
    /// completed. `false` when in doubt.
    pub fn is_surely_at_least(self, years: i32, today: Date) -> bool {
        self.latest_possible()
            .is_some_and(|latest| age_in_whole_years(latest, today) >= years)
    }

    /// As given, in words: `22 October 2010`, `October 2010` or `2010`.
    pub fn display(self) -> String {
        match self {
            BirthDate::Day(day) => display_date(day),
            BirthDate::Month { year, month } => format!("{month} {year}"),
            BirthDate::Year(year) => year.to_string(),
        }
    }

    /// The FHIR form: `2010-10-22`, `2010-10` or `2010`.
    pub fn fhir(self) -> String {
        match self {
            BirthDate::Day(day) => format!(
                "{:04}-{:02}-{:02}",
                day.year(),
                u8::from(day.month()),
                day.day()
            ),
            BirthDate::Month { year, month } => format!("{year:04}-{:02}", u8::from(month)),
            BirthDate::Year(year) => format!("{year:04}"),
        }
    }

    /// Whether only part of the date is known.
    pub fn is_partial(self) -> bool {
        !matches!(self, BirthDate::Day(_))
    }
}

impl fmt::Debug for BirthDate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            BirthDate::Day(_) => "BirthDate::Day(<redacted>)",
            BirthDate::Month { .. } => "BirthDate::Month(<redacted>)",
            BirthDate::Year(_) => "BirthDate::Year(<redacted>)",
        })
    }
}

/// A patient as the demographics service answered: the NHS number (verified, and the one
/// asked about) is certain; everything else is what PDS recorded, which may be nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct TracedPatient {
    /// The NHS number the demographics were traced for.
    pub nhs_number: NhsNumber,
    /// Family name, if recorded.
    pub family_name: Option<String>,
    /// Given names, in order (empty if none recorded).
    pub given_names: Vec<String>,
    /// Date of birth, if recorded; possibly only a month or a year.
    pub birth_date: Option<BirthDate>,
    /// Administrative gender, if recorded.
    pub gender: Option<Gender>,
    /// A restricted (sensitive) record: PDS has removed address and contact details, and the
    /// clinician must be told the record is restricted.
    pub restricted: bool,
    /// The date of death, if PDS records one.
    pub date_of_death: Option<Date>,
}

impl TracedPatient {
    /// The banner form of the name, `FAMILY, Given Other`; `None` when PDS recorded no name.
    pub fn banner_name(&self) -> Option<String> {
        let given = self.given_names.join(" ");
        match (&self.family_name, given.is_empty()) {
            (Some(family), true) => Some(family.to_uppercase()),
            (Some(family), false) => Some(format!("{}, {given}", family.to_uppercase())),
            (None, false) => Some(given),
            (None, true) => None,
        }
    }

    /// What PDS did not record, in words for the banner: some of `name`, `date of birth`,
    /// `gender`, in that order.
    pub fn not_recorded(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.banner_name().is_none() {
            missing.push("name");
        }
        if self.birth_date.is_none() {
            missing.push("date of birth");
        }
        if self.gender.is_none() {
            missing.push("gender");
        }
        missing
    }

    /// Whether the patient is certainly an adult (18 or over) on `today`. `false` when the
    /// date of birth is missing or partial enough to leave doubt.
    pub fn is_surely_adult(&self, today: Date) -> bool {
        self.birth_date
            .is_some_and(|birth| birth.is_surely_at_least(ADULT_AGE_YEARS, today))
    }

    /// The plan records to show on `today` (see [`visible_records`]).
    pub fn visible_records(&self, records: &[PlanRecord], today: Date) -> Vec<PlanRecord> {
        visible_records(records, self.is_surely_adult(today), today)
    }
}

impl From<PatientDemographics> for TracedPatient {
    fn from(patient: PatientDemographics) -> TracedPatient {
        TracedPatient {
            nhs_number: patient.nhs_number,
            family_name: Some(patient.family_name),
            given_names: patient.given_names,
            birth_date: Some(BirthDate::Day(patient.date_of_birth)),
            gender: Some(patient.gender),
            restricted: false,
            date_of_death: None,
        }
    }
}

impl fmt::Debug for TracedPatient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TracedPatient")
            .field("nhs_number", &self.nhs_number)
            .field("family_name", &REDACTED)
            .field("given_names", &REDACTED)
            .field("birth_date", &REDACTED)
            .field("gender", &REDACTED)
            .field("restricted", &self.restricted)
            .field("date_of_death", &self.date_of_death.map(|_| REDACTED))
            .finish()
    }
}

/// The local authority of a plan record and how to reach it, as CP-IS gave them. The name is
/// required by the CareTeam profile; the rest may be missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaContact {
    /// The authority's name as CP-IS gave it (`CareTeam.name`).
    pub name: String,
    /// Its ODS code, where the answer carries one.
    pub ods_code: Option<String>,
    /// The number to phone in office hours (`telecom` `use=work`).
    pub office_hours_phone: Option<String>,
    /// The Emergency Duty Team number (`telecom` `use=mobile`).
    pub emergency_duty_phone: Option<String>,
}

/// A record CP-IS holds, as its answer gave it. A CareTeam that proves a record exists but
/// lacks a detail is still a found record: the clinician must see it, and whom to phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRecord {
    /// Which kind of plan; `None` when the answer did not say (or said it unreadably).
    pub plan_type: Option<PlanType>,
    /// The day it started, if given.
    pub start: Option<Date>,
    /// The day it ended (for an unborn plan, the due date), if given.
    pub end: Option<Date>,
    /// `CareTeam.status`, if given. The dates decide first ([`PlanRecord::status_on`]).
    pub care_team_status: Option<CareTeamStatus>,
    /// Who is responsible.
    pub local_authority: LaContact,
    /// The allocated social worker, where the authority shares it.
    pub social_worker: Option<SocialWorker>,
}

impl PlanRecord {
    /// Whether the record is within its visibility window on `today`. With no end it always
    /// is; with an unknown type the longest window (365 days) applies.
    pub fn is_visible_on(&self, today: Date) -> bool {
        let window = self
            .plan_type
            .map_or(Duration::days(365), PlanType::visible_after_end);
        self.end
            .is_none_or(|end| today <= end.saturating_add(window))
    }
}

impl From<ProtectionPlan> for PlanRecord {
    fn from(plan: ProtectionPlan) -> PlanRecord {
        PlanRecord {
            plan_type: Some(plan.plan_type),
            start: Some(plan.start),
            end: plan.end,
            care_team_status: None,
            local_authority: LaContact {
                name: plan.local_authority.name,
                ods_code: Some(plan.local_authority.ods_code),
                office_hours_phone: Some(plan.local_authority.office_hours_phone),
                emergency_duty_phone: Some(plan.local_authority.emergency_duty_phone),
            },
            social_worker: plan.social_worker,
        }
    }
}

/// The records to show on `today`. A person who is surely an adult sees no CPP or LAC records;
/// an unborn plan, or a record of unknown type, is shown at any age.
pub fn visible_records(records: &[PlanRecord], surely_adult: bool, today: Date) -> Vec<PlanRecord> {
    records
        .iter()
        .filter(|record| record.is_visible_on(today))
        .filter(|record| !surely_adult || record.plan_type.is_none_or(PlanType::is_unborn))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn record(plan_type: Option<PlanType>, end: Option<Date>) -> PlanRecord {
        PlanRecord {
            plan_type,
            start: None,
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

    #[test]
    fn a_partial_birth_date_is_an_adult_only_when_every_completion_is() {
        let today = date!(2026 - 11 - 27);
        // Born some day in November 2008: 18 only from 30 November 2026.
        let month = BirthDate::Month {
            year: 2008,
            month: Month::November,
        };
        assert!(!month.is_surely_at_least(18, today));
        assert!(month.is_surely_at_least(18, date!(2026 - 11 - 30)));
        // Born some day in 2008: 18 only from 31 December 2026.
        let year = BirthDate::Year(2008);
        assert!(!year.is_surely_at_least(18, date!(2026 - 12 - 30)));
        assert!(year.is_surely_at_least(18, date!(2026 - 12 - 31)));
        // February of a leap year ends on the 29th.
        let leap = BirthDate::Month {
            year: 2008,
            month: Month::February,
        };
        assert_eq!(leap.latest_possible(), Some(date!(2008 - 02 - 29)));
    }

    #[test]
    fn a_plan_is_never_hidden_because_the_age_is_not_known_exactly() {
        let today = date!(2026 - 11 - 27);
        let plans = [record(Some(PlanType::ChildProtectionPlan), None)];
        let mut patient = TracedPatient {
            nhs_number: NhsNumber::parse("9990000018").expect("valid"),
            family_name: None,
            given_names: Vec::new(),
            birth_date: None,
            gender: None,
            restricted: false,
            date_of_death: None,
        };
        assert_eq!(patient.visible_records(&plans, today).len(), 1);
        patient.birth_date = Some(BirthDate::Year(2008));
        assert_eq!(patient.visible_records(&plans, today).len(), 1);
        patient.birth_date = Some(BirthDate::Year(2007));
        assert!(patient.visible_records(&plans, today).is_empty());
        // A record of unknown type might be an unborn plan: shown at any age.
        assert_eq!(
            patient.visible_records(&[record(None, None)], today).len(),
            1
        );
    }

    #[test]
    fn a_record_of_unknown_type_gets_the_longest_window() {
        let today = date!(2026 - 11 - 27);
        assert!(record(None, Some(date!(2025 - 11 - 27))).is_visible_on(today));
        assert!(!record(None, Some(date!(2025 - 11 - 26))).is_visible_on(today));
    }

    #[test]
    fn birth_dates_show_as_given() {
        assert_eq!(
            BirthDate::Day(date!(2010 - 10 - 22)).display(),
            "22 October 2010"
        );
        let month = BirthDate::Month {
            year: 2010,
            month: Month::October,
        };
        assert_eq!(month.display(), "October 2010");
        assert_eq!(month.fhir(), "2010-10");
        assert_eq!(BirthDate::Year(2010).display(), "2010");
        assert_eq!(BirthDate::Day(date!(2010 - 01 - 02)).fhir(), "2010-01-02");
    }

    #[test]
    fn the_banner_says_what_was_not_recorded_and_debug_redacts() {
        let patient = TracedPatient {
            nhs_number: NhsNumber::parse("9990000018").expect("valid"),
            family_name: None,
            given_names: Vec::new(),
            birth_date: Some(BirthDate::Year(2010)),
            gender: None,
            restricted: true,
            date_of_death: Some(date!(2020 - 01 - 01)),
        };
        assert_eq!(patient.banner_name(), None);
        assert_eq!(patient.not_recorded(), ["name", "gender"]);
        let debug = format!("{patient:?}");
        for secret in ["2010", "2020", "999"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}
