//! Patient: the demographics service's answer, read as PDS defines it. Only the NHS number is
//! certain (the `id`, verified, the one asked about); name, gender and birth date may be
//! missing, and a birth date may be only a month or a year.

use cpis_domain::{BirthDate, NhsNumber, TracedPatient};
use time::{Date, Month};

use super::{
    check_asked, decode, expect_resource_type, non_empty, parse_fhir_date, parse_nhs_number,
};
use crate::wire::Patient;
use crate::{
    CONFIDENTIALITY_SYSTEM, FhirError, NHS_NUMBER_SYSTEM, NHS_NUMBER_VERIFICATION_STATUS_SYSTEM,
    NHS_NUMBER_VERIFICATION_STATUS_URL, NHS_NUMBER_VERIFIED_CODE,
    PDS_NHS_NUMBER_VERIFICATION_STATUS_SYSTEM,
};

/// A FHIR `date` as PDS gives a birth date: `yyyy-mm-dd`, `yyyy-mm` or `yyyy`.
pub fn parse_birth_date(text: &str) -> Result<BirthDate, FhirError> {
    const ELEMENT: &str = "Patient.birthDate";
    let invalid = FhirError::InvalidElement { element: ELEMENT };
    let digits = |part: &str, length: usize| {
        part.len() == length && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        [_, _, _] => parse_fhir_date(text, ELEMENT)
            .ok()
            .filter(|_| text.len() == 10)
            .map(BirthDate::Day)
            .ok_or(invalid),
        [year, month] if digits(year, 4) && digits(month, 2) => {
            let year: i32 = year.parse().map_err(|_| invalid.clone())?;
            let month: u8 = month.parse().map_err(|_| invalid.clone())?;
            let month = Month::try_from(month).map_err(|_| invalid.clone())?;
            Ok(BirthDate::Month { year, month })
        }
        [year] if digits(year, 4) => year.parse().map(BirthDate::Year).map_err(|_| invalid),
        _ => Err(invalid),
    }
}

/// The calendar date of a `deceasedDateTime` (a full date, or a date and time in its own
/// offset).
fn date_of_death(text: &str) -> Result<Date, FhirError> {
    parse_fhir_date(text, "Patient.deceasedDateTime")
}

/// Parse a PDS Patient for `asked`. Required: `id` (a valid NHS number, the one asked; an NHS
/// number `identifier`, which must agree) and the number verified (status `01` in the UK Core
/// verification extension). Optional: the name (`usual`, else the first), gender and birth
/// date. `meta.security` `R` or `V` marks the record restricted; `deceasedDateTime` gives the
/// date of death.
pub fn parse_patient(body: &[u8], asked: &NhsNumber) -> Result<TracedPatient, FhirError> {
    expect_resource_type(body, "Patient")?;
    let patient: Patient = decode(body)?;
    let nhs_number = parse_nhs_number(patient.id.as_ref(), "Patient.id")?;
    check_asked(&nhs_number, asked)?;
    let identifier = patient
        .identifier
        .iter()
        .find(|identifier| identifier.system.as_deref() == Some(NHS_NUMBER_SYSTEM));
    if let Some(identifier) = identifier {
        let number = parse_nhs_number(identifier.value.as_ref(), "Patient.identifier.value")?;
        check_asked(&number, asked)?;
    }
    let verified = identifier
        .iter()
        .flat_map(|identifier| &identifier.extension)
        .filter(|extension| extension.url == NHS_NUMBER_VERIFICATION_STATUS_URL)
        .filter_map(|extension| extension.value_codeable_concept.as_ref())
        .flat_map(|concept| &concept.coding)
        .any(|coding| {
            matches!(
                coding.system.as_deref(),
                Some(
                    PDS_NHS_NUMBER_VERIFICATION_STATUS_SYSTEM
                        | NHS_NUMBER_VERIFICATION_STATUS_SYSTEM
                )
            ) && coding.code.as_deref() == Some(NHS_NUMBER_VERIFIED_CODE)
        });
    if !verified {
        return Err(FhirError::NhsNumberNotVerified);
    }
    let name = patient
        .name
        .iter()
        .find(|name| name.name_use.as_deref() == Some("usual"))
        .or_else(|| patient.name.first());
    let family_name = name
        .and_then(|name| non_empty(name.family.as_ref()))
        .map(str::to_owned);
    let given_names = name
        .iter()
        .flat_map(|name| &name.given)
        .map(|given| given.trim())
        .filter(|given| !given.is_empty())
        .map(str::to_owned)
        .collect();
    let gender = patient
        .gender
        .as_deref()
        .map(|code| {
            crate::gender_from_code(code).ok_or(FhirError::InvalidElement {
                element: "Patient.gender",
            })
        })
        .transpose()?;
    let birth_date = patient
        .birth_date
        .as_deref()
        .map(parse_birth_date)
        .transpose()?;
    let restricted = patient
        .meta
        .iter()
        .flat_map(|meta| &meta.security)
        .any(|label| {
            label
                .system
                .as_deref()
                .is_none_or(|system| system == CONFIDENTIALITY_SYSTEM)
                && matches!(label.code.as_deref(), Some("R" | "V"))
        });
    let date_of_death = patient
        .deceased_date_time
        .as_deref()
        .map(date_of_death)
        .transpose()?;
    Ok(TracedPatient {
        nhs_number,
        family_name,
        given_names,
        birth_date,
        gender,
        restricted,
        date_of_death,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_may_be_a_day_a_month_or_a_year() {
        assert_eq!(
            parse_birth_date("2010-10-22"),
            Ok(BirthDate::Day(time::macros::date!(2010 - 10 - 22)))
        );
        assert_eq!(
            parse_birth_date("2010-10"),
            Ok(BirthDate::Month {
                year: 2010,
                month: Month::October
            })
        );
        assert_eq!(parse_birth_date("2010"), Ok(BirthDate::Year(2010)));
        for text in [
            "2010-13",
            "2010-00",
            "10-10",
            "201",
            "2010-10-32",
            "2010-1-01",
            "+2010",
            "2010-10-22T00:00:00Z",
            "",
            "2010-",
            "-2010",
            "２０１０",
        ] {
            assert_eq!(
                parse_birth_date(text),
                Err(FhirError::InvalidElement {
                    element: "Patient.birthDate"
                }),
                "{text}"
            );
        }
    }
}
