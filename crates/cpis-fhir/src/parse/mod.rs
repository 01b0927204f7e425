//! Strict parsers: FHIR JSON bytes to domain types. Every element the domain needs must be
//! present and valid; anything else is an error, never a silent default. Duplicate JSON keys,
//! trailing data and wrong JSON types are errors. No input can cause a panic.
//!
//! One module a resource (`care_team`, `access`, `patient`, `outcome`); this one holds what
//! they share: decoding, the searchset Bundle, NHS numbers, FHIR dates and instants.

mod access;
mod care_team;
mod outcome;
mod patient;

pub use access::{audit_event_to_access, parse_access_history, parse_access_notifications};
pub use care_team::{CareTeamSearch, care_team_to_plan, parse_care_team_search};
pub use outcome::{OperationOutcomeSummary, parse_operation_outcome};
pub use patient::parse_patient;

use cpis_domain::NhsNumber;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::FhirError;
use crate::wire::BundleEntrySearch;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceTypeProbe {
    resource_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBundle<'a> {
    resource_type: String,
    #[serde(rename = "type")]
    bundle_type: String,
    #[serde(default)]
    total: Option<u64>,
    #[serde(default, borrow)]
    entry: Option<Vec<RawEntry<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry<'a> {
    #[serde(default, borrow)]
    resource: Option<&'a RawValue>,
    #[serde(default)]
    search: Option<BundleEntrySearch>,
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, FhirError> {
    serde_json::from_slice(body).map_err(|error| FhirError::from_json(&error))
}

/// Check `resourceType` first, so that (say) an OperationOutcome where a Bundle was expected
/// is reported as the wrong resource rather than as a shape error.
fn expect_resource_type(body: &[u8], expected: &'static str) -> Result<(), FhirError> {
    let probe: ResourceTypeProbe = decode(body)?;
    if probe.resource_type == expected {
        Ok(())
    } else {
        Err(FhirError::WrongResourceType { expected })
    }
}

/// The entry resources of a searchset Bundle whose `total` matches its entries.
fn searchset_resources(body: &[u8]) -> Result<Vec<&RawValue>, FhirError> {
    expect_resource_type(body, "Bundle")?;
    let bundle: RawBundle<'_> =
        serde_json::from_slice(body).map_err(|error| FhirError::from_json(&error))?;
    if bundle.resource_type != "Bundle" {
        return Err(FhirError::WrongResourceType { expected: "Bundle" });
    }
    if bundle.bundle_type != "searchset" {
        return Err(FhirError::WrongBundleType {
            expected: "searchset",
        });
    }
    let total = bundle.total.ok_or(FhirError::MissingTotal)?;
    let entries = bundle.entry.unwrap_or_default();
    if u64::try_from(entries.len()).ok() != Some(total) {
        return Err(FhirError::TotalMismatch {
            total,
            entries: entries.len(),
        });
    }
    entries
        .into_iter()
        .map(|entry| {
            if let Some(search) = &entry.search
                && search.mode.as_deref().is_some_and(|mode| mode != "match")
            {
                return Err(FhirError::InvalidElement {
                    element: "Bundle.entry.search.mode",
                });
            }
            entry.resource.ok_or(FhirError::MissingElement {
                element: "Bundle.entry.resource",
            })
        })
        .collect()
}

fn decode_raw<T: DeserializeOwned>(raw: &RawValue, expected: &'static str) -> Result<T, FhirError> {
    expect_resource_type(raw.get().as_bytes(), expected)?;
    decode(raw.get().as_bytes())
}

fn non_empty(text: Option<&String>) -> Option<&str> {
    text.map(|value| value.trim())
        .filter(|value| !value.is_empty())
}

fn parse_nhs_number(text: Option<&String>, element: &'static str) -> Result<NhsNumber, FhirError> {
    let text = non_empty(text).ok_or(FhirError::MissingElement { element })?;
    // Only plain ten digits on the wire; the spaced form is for people.
    if text.len() != 10 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(FhirError::InvalidNhsNumber);
    }
    NhsNumber::parse(text).map_err(|_| FhirError::InvalidNhsNumber)
}

fn check_asked(found: &NhsNumber, asked: &NhsNumber) -> Result<(), FhirError> {
    if found == asked {
        Ok(())
    } else {
        Err(FhirError::AnotherPatient)
    }
}

/// A FHIR `date` (`YYYY-MM-DD`) or a full `dateTime` (its calendar date, in its own offset).
/// Partial dates (`YYYY`, `YYYY-MM`) are refused: plans need a day.
pub fn parse_fhir_date(text: &str, element: &'static str) -> Result<Date, FhirError> {
    if text.len() == 10 {
        Date::parse(text, format_description!("[year]-[month]-[day]"))
            .map_err(|_| FhirError::InvalidElement { element })
    } else {
        OffsetDateTime::parse(text, &Rfc3339)
            .map(OffsetDateTime::date)
            .map_err(|_| FhirError::InvalidElement { element })
    }
}

/// A FHIR `instant` (RFC 3339 with an offset). Refused when it could not be converted to every
/// UTC offset (a moment within a day of the end of the year 9999), so that showing it in local
/// time or writing it in UTC can never overflow.
pub fn parse_fhir_instant(text: &str, element: &'static str) -> Result<OffsetDateTime, FhirError> {
    let moment =
        OffsetDateTime::parse(text, &Rfc3339).map_err(|_| FhirError::InvalidElement { element })?;
    let in_every_offset =
        [(-25, -59, -59), (0, 0, 0), (25, 59, 59)]
            .into_iter()
            .all(|(hours, minutes, seconds)| {
                UtcOffset::from_hms(hours, minutes, seconds)
                    .ok()
                    .and_then(|offset| moment.checked_to_offset(offset))
                    .is_some()
            });
    if in_every_offset {
        Ok(moment)
    } else {
        Err(FhirError::InvalidElement { element })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `cpis_response` fuzz target: an AuditEvent `recorded` late on 31 December
    /// 9999 with a negative offset was read, then panicked when shown in UK time or written in
    /// UTC (`OffsetDateTime::to_offset` overflows past the year 9999).
    #[test]
    fn instants_that_cannot_be_shown_in_every_offset_are_refused() {
        for text in [
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:30:00Z",
            "9999-12-31T12:00:00-12:00",
        ] {
            assert_eq!(
                parse_fhir_instant(text, "AuditEvent.recorded"),
                Err(FhirError::InvalidElement {
                    element: "AuditEvent.recorded"
                }),
                "{text}"
            );
        }
        for text in [
            "2025-05-31T17:30:00Z",
            "2025-05-31T18:30:00+01:00",
            "9999-12-30T00:00:00Z",
            "0000-01-01T00:00:00+01:00",
        ] {
            let moment = parse_fhir_instant(text, "AuditEvent.recorded").expect(text);
            assert!(
                moment
                    .checked_to_offset(time::macros::offset!(+25:59:59))
                    .is_some()
            );
            assert!(
                moment
                    .checked_to_offset(time::macros::offset!(-25:59:59))
                    .is_some()
            );
        }
    }
}
