//! [`Gender`] as FHIR's `AdministrativeGender` codes (`male`, `female`, `other`, `unknown`):
//! the domain keeps the enum, the codes live here.

use cpis_domain::Gender;

/// The FHIR `AdministrativeGender` code.
pub fn gender_code(gender: Gender) -> &'static str {
    match gender {
        Gender::Male => "male",
        Gender::Female => "female",
        Gender::Other => "other",
        Gender::Unknown => "unknown",
    }
}

/// Parse a FHIR `AdministrativeGender` code; `None` for anything else.
pub fn gender_from_code(code: &str) -> Option<Gender> {
    match code {
        "male" => Some(Gender::Male),
        "female" => Some(Gender::Female),
        "other" => Some(Gender::Other),
        "unknown" => Some(Gender::Unknown),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gender_codes_round_trip() {
        for gender in [Gender::Male, Gender::Female, Gender::Other, Gender::Unknown] {
            assert_eq!(gender_from_code(gender_code(gender)), Some(gender));
        }
        assert_eq!(gender_from_code("F"), None);
        assert_eq!(gender_from_code("Male"), None);
    }
}
