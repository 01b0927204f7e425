//! Patient: the demographics service's answer.

use cpis_domain::{NhsNumber, PatientDemographics, TracedPatient};

use super::{
    check_asked, decode, expect_resource_type, non_empty, parse_fhir_date, parse_nhs_number,
};
use crate::wire::Patient;
use crate::{
    FhirError, NHS_NUMBER_SYSTEM, NHS_NUMBER_VERIFICATION_STATUS_URL, NHS_NUMBER_VERIFIED_CODE,
};

/// Parse a PDS Patient for `asked`: the NHS number must match and be verified (`01`); a family
/// name, a gender and a full birth date are required.
pub fn parse_patient(body: &[u8], asked: &NhsNumber) -> Result<TracedPatient, FhirError> {
    expect_resource_type(body, "Patient")?;
    let patient: Patient = decode(body)?;
    let identifier = patient
        .identifier
        .iter()
        .find(|identifier| identifier.system.as_deref() == Some(NHS_NUMBER_SYSTEM))
        .ok_or(FhirError::MissingElement {
            element: "Patient.identifier",
        })?;
    let nhs_number = parse_nhs_number(identifier.value.as_ref(), "Patient.identifier.value")?;
    check_asked(&nhs_number, asked)?;
    let verified = identifier
        .extension
        .iter()
        .filter(|extension| extension.url == NHS_NUMBER_VERIFICATION_STATUS_URL)
        .filter_map(|extension| extension.value_codeable_concept.as_ref())
        .flat_map(|concept| &concept.coding)
        .any(|coding| coding.code.as_deref() == Some(NHS_NUMBER_VERIFIED_CODE));
    if !verified {
        return Err(FhirError::NhsNumberNotVerified);
    }
    let name = patient
        .name
        .iter()
        .find(|name| name.name_use.as_deref() == Some("usual"))
        .or_else(|| patient.name.first())
        .ok_or(FhirError::MissingElement {
            element: "Patient.name",
        })?;
    let family_name = non_empty(name.family.as_ref()).ok_or(FhirError::MissingElement {
        element: "Patient.name.family",
    })?;
    let given_names = name
        .given
        .iter()
        .map(|given| given.trim())
        .filter(|given| !given.is_empty())
        .map(str::to_owned)
        .collect();
    let gender = patient
        .gender
        .as_deref()
        .ok_or(FhirError::MissingElement {
            element: "Patient.gender",
        })
        .and_then(|code| {
            crate::gender_from_code(code).ok_or(FhirError::InvalidElement {
                element: "Patient.gender",
            })
        })?;
    let birth_date = patient
        .birth_date
        .as_deref()
        .ok_or(FhirError::MissingElement {
            element: "Patient.birthDate",
        })?;
    if birth_date.len() != 10 {
        return Err(FhirError::InvalidElement {
            element: "Patient.birthDate",
        });
    }
    let date_of_birth = parse_fhir_date(birth_date, "Patient.birthDate")?;
    Ok(TracedPatient::from(PatientDemographics {
        nhs_number,
        family_name: family_name.to_owned(),
        given_names,
        date_of_birth,
        gender,
    }))
}
