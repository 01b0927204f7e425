//! Patient demographics as the demographics service (PDS) returns them, shown beside the NHS
//! number so the clinician can confirm the right patient.

use std::fmt;

use time::Date;

use crate::{NhsNumber, REDACTED};

/// Administrative gender, as FHIR defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Other.
    Other,
    /// Not known.
    Unknown,
}

impl Gender {
    /// How the NHS design system shows it.
    pub fn display(self) -> &'static str {
        match self {
            Gender::Male => "Male",
            Gender::Female => "Female",
            Gender::Other => "Other",
            Gender::Unknown => "Not known",
        }
    }
}

/// Who the NHS number belongs to: name, date of birth and gender.
#[derive(Clone, PartialEq, Eq)]
pub struct PatientDemographics {
    /// The NHS number the demographics were traced for.
    pub nhs_number: NhsNumber,
    /// Family name, shown in capitals in the patient banner.
    pub family_name: String,
    /// Given names, in order.
    pub given_names: Vec<String>,
    /// Date of birth.
    pub date_of_birth: Date,
    /// Administrative gender.
    pub gender: Gender,
}

impl PatientDemographics {
    /// The banner form of the name: `FAMILY, Given Other`.
    pub fn banner_name(&self) -> String {
        let family = self.family_name.to_uppercase();
        if self.given_names.is_empty() {
            family
        } else {
            format!("{family}, {}", self.given_names.join(" "))
        }
    }

    /// Age in whole years on `today`.
    pub fn age_on(&self, today: Date) -> i32 {
        age_in_whole_years(self.date_of_birth, today)
    }
}

impl fmt::Debug for PatientDemographics {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PatientDemographics")
            .field("nhs_number", &self.nhs_number)
            .field("family_name", &REDACTED)
            .field("given_names", &REDACTED)
            .field("date_of_birth", &REDACTED)
            .field("gender", &REDACTED)
            .finish()
    }
}

/// Age in whole years on `today` for someone born on `date_of_birth` (a 29 February birthday
/// falls on 1 March in other years). Negative when `today` is before the birth.
pub fn age_in_whole_years(date_of_birth: Date, today: Date) -> i32 {
    let mut years = today.year() - date_of_birth.year();
    let birthday_this_year = (u8::from(date_of_birth.month()), date_of_birth.day());
    let today_in_year = (u8::from(today.month()), today.day());
    if today_in_year < birthday_this_year {
        years -= 1;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn sample() -> PatientDemographics {
        PatientDemographics {
            nhs_number: NhsNumber::parse("9990000018").expect("valid"),
            family_name: "Smythe-Test".into(),
            given_names: vec!["Ada".into(), "Rose".into()],
            date_of_birth: date!(2018 - 08 - 06),
            gender: Gender::Female,
        }
    }

    #[test]
    fn banner_name_is_family_in_capitals_then_given() {
        assert_eq!(sample().banner_name(), "SMYTHE-TEST, Ada Rose");
    }

    #[test]
    fn debug_redacts_every_identifying_field() {
        let debug = format!("{:?}", sample());
        for secret in ["Smythe", "Ada", "2018", "999", "Female"] {
            assert!(!debug.contains(secret), "{secret} leaked in {debug}");
        }
    }

    #[test]
    fn age_counts_whole_years() {
        let born = date!(2008 - 11 - 25);
        assert_eq!(age_in_whole_years(born, date!(2026 - 11 - 24)), 17);
        assert_eq!(age_in_whole_years(born, date!(2026 - 11 - 25)), 18);
        let leap = date!(2008 - 02 - 29);
        assert_eq!(age_in_whole_years(leap, date!(2026 - 02 - 28)), 17);
        assert_eq!(age_in_whole_years(leap, date!(2026 - 03 - 01)), 18);
    }
}
