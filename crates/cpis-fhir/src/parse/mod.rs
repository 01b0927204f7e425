//! Parsers: FHIR JSON bytes to domain types, as the published contracts define them. What a
//! contract requires must be present and valid, what it leaves optional may be missing (and is
//! then `None`, never a silent default), and what it forbids is an error. Duplicate JSON keys,
//! trailing data and wrong JSON types are errors. No input can cause a panic. Every error has a
//! stable [`FhirError::detail_code`] naming what was refused.
//!
//! One module a resource (`care_team`, `access`, `patient`, `outcome`); this one holds what
//! they share: decoding, the searchset Bundle, NHS numbers, FHIR dates and instants.

mod access;
mod care_team;
mod outcome;
mod patient;

pub use access::{audit_event_to_access, parse_access_history, parse_access_notifications};
pub use care_team::{
    CareTeamSearch, care_team_to_plan, care_team_to_record, ods_code_from_team_name,
    parse_care_team_search,
};
pub use outcome::{OperationOutcomeSummary, parse_operation_outcome};
pub use patient::{parse_birth_date, parse_patient};

use cpis_domain::NhsNumber;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::FhirError;
use crate::wire::{BundleEntrySearch, BundleLink};

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
    #[serde(default)]
    link: Option<Vec<BundleLink>>,
    #[serde(default, borrow)]
    entry: Option<Vec<RawEntry<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry<'a> {
    #[serde(default)]
    full_url: Option<String>,
    #[serde(default, borrow)]
    resource: Option<&'a RawValue>,
    #[serde(default)]
    search: Option<BundleEntrySearch>,
}

/// An entry a search answer included beside its matches (`search.mode=include`).
struct Included<'a> {
    full_url: Option<String>,
    resource: &'a RawValue,
}

/// A checked searchset: its matches, and what it included when includes were allowed.
struct Searchset<'a> {
    matches: Vec<&'a RawValue>,
    included: Vec<Included<'a>>,
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

/// The match entries of a searchset Bundle whose `total` counts them, with no included
/// resources allowed.
fn searchset_resources<'a>(
    body: &'a [u8],
    asked: Option<&NhsNumber>,
) -> Result<Vec<&'a RawValue>, FhirError> {
    Ok(searchset(body, asked, false)?.matches)
}

/// A searchset Bundle: `type=searchset`, `total` equal to the number of match entries (an entry
/// without `search.mode` is a match), every match with a resource. With `allow_included`,
/// entries with `search.mode=include` are kept apart (and not counted); otherwise they, like any
/// other mode, are refused. When `asked` is given, a `self` link that names an NHS number must
/// name that one ([`FhirError::SelfLinkAnotherPatient`]).
fn searchset<'a>(
    body: &'a [u8],
    asked: Option<&NhsNumber>,
    allow_included: bool,
) -> Result<Searchset<'a>, FhirError> {
    expect_resource_type(body, "Bundle")?;
    let bundle: RawBundle<'a> =
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
    if let Some(asked) = asked {
        check_self_links(bundle.link.as_deref().unwrap_or_default(), asked)?;
    }
    let entries = bundle.entry.unwrap_or_default();
    let entry_count = entries.len();
    let mut matches = Vec::with_capacity(entries.len());
    let mut included = Vec::new();
    for entry in entries {
        let mode = entry
            .search
            .as_ref()
            .and_then(|search| search.mode.as_deref());
        let resource = entry.resource.ok_or(FhirError::MissingElement {
            element: "Bundle.entry.resource",
        })?;
        match mode {
            None | Some("match") => matches.push(resource),
            Some("include") if allow_included => included.push(Included {
                full_url: entry.full_url,
                resource,
            }),
            Some(_) => {
                return Err(FhirError::InvalidElement {
                    element: "Bundle.entry.search.mode",
                });
            }
        }
    }
    if u64::try_from(matches.len()).ok() != Some(total) {
        return Err(FhirError::TotalMismatch {
            total,
            entries: entry_count,
        });
    }
    Ok(Searchset { matches, included })
}

/// The search parameters that name the patient in a `self` link.
const PATIENT_PARAMETERS: [&str; 3] = ["patient:identifier", "patient.identifier", "identifier"];

/// Every `self` link whose query names an NHS number (in `patient:identifier`,
/// `patient.identifier` or `identifier`, as `system|value` or a bare value) must name `asked`.
/// A link that names no NHS number says nothing and is not refused.
fn check_self_links(links: &[BundleLink], asked: &NhsNumber) -> Result<(), FhirError> {
    for link in links.iter().filter(|link| link.relation == "self") {
        let Some((_, query)) = link.url.split_once('?') else {
            continue;
        };
        let query = query.split('#').next().unwrap_or_default();
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode(name);
            if !PATIENT_PARAMETERS.contains(&name.as_str()) {
                continue;
            }
            let value = percent_decode(value);
            // Several values may be given, comma-separated ("any of"): each must be the asked.
            for one in value.split(',') {
                let number = one.rsplit('|').next().unwrap_or_default().trim();
                if number.len() == 10
                    && number.bytes().all(|byte| byte.is_ascii_digit())
                    && number != asked.as_str()
                {
                    return Err(FhirError::SelfLinkAnotherPatient);
                }
            }
        }
    }
    Ok(())
}

/// URL query decoding: `%XX` escapes undone and `+` read as a space (invalid UTF-8 becomes
/// U+FFFD).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
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
