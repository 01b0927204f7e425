//! Strict parsers: FHIR JSON bytes to domain types. Every element the domain needs must be
//! present and valid; anything else is an error, never a silent default. Duplicate JSON keys,
//! trailing data and wrong JSON types are errors. No input can cause a panic.

use cpis_domain::{
    AccessRecord, LocalAuthority, NhsNumber, PatientDemographics, PlanType, ProtectionPlan,
    SocialWorker,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::wire::{AuditEvent, BundleEntrySearch, CareTeam, OperationOutcome, Patient};
use crate::{
    FhirError, NHS_NUMBER_SYSTEM, NHS_NUMBER_VERIFICATION_STATUS_URL, NHS_NUMBER_VERIFIED_CODE,
    ODS_ORGANIZATION_SYSTEM, SNOMED_SYSTEM, SOCIAL_WORKER_EXTENSION_URL, SPINE_ERROR_CODE_SYSTEM,
    SpineErrorCode,
};

/// The answer to a CareTeam search, once it has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CareTeamSearch {
    /// One or more plans, all for the NHS number asked about.
    Plans(Vec<ProtectionPlan>),
    /// A valid searchset Bundle with `total: 0` and no entries.
    NoPlans,
}

/// The parts of an OperationOutcome a client acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationOutcomeSummary {
    /// The Spine error code of the first issue, if it had one.
    pub spine_code: Option<SpineErrorCode>,
    /// The FHIR issue type of the first issue.
    pub issue_type: String,
    /// The severity of the first issue.
    pub severity: String,
    /// Diagnostics of the first issue (text from the server: do not show or log it unfiltered).
    pub diagnostics: Option<String>,
}

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

/// A CareTeam as a plan for an NHS number, with every CP-IS rule on its shape checked. Used by
/// the search parser and by the LA upload.
pub fn care_team_to_plan(team: &CareTeam) -> Result<(NhsNumber, ProtectionPlan), FhirError> {
    if team.resource_type != "CareTeam" {
        return Err(FhirError::WrongResourceType {
            expected: "CareTeam",
        });
    }
    match team.status.as_deref() {
        None | Some("proposed" | "active" | "suspended" | "inactive") => {}
        Some(_) => {
            return Err(FhirError::InvalidElement {
                element: "CareTeam.status",
            });
        }
    }
    let subject = team
        .subject
        .as_ref()
        .and_then(|subject| subject.identifier.as_ref())
        .filter(|identifier| identifier.system.as_deref() == Some(NHS_NUMBER_SYSTEM))
        .ok_or(FhirError::MissingElement {
            element: "CareTeam.subject.identifier",
        })?;
    let nhs_number = parse_nhs_number(subject.value.as_ref(), "CareTeam.subject.identifier.value")?;

    let mut plan_type: Option<PlanType> = None;
    for coding in team.category.iter().flat_map(|category| &category.coding) {
        if coding.system.as_deref() != Some(SNOMED_SYSTEM) {
            continue;
        }
        let code = coding.code.as_deref().unwrap_or_default();
        let found = PlanType::from_snomed_code(code).ok_or(FhirError::UnknownPlanCode)?;
        if plan_type.is_some_and(|already| already != found) {
            return Err(FhirError::InvalidElement {
                element: "CareTeam.category",
            });
        }
        plan_type = Some(found);
    }
    let plan_type = plan_type.ok_or(FhirError::MissingElement {
        element: "CareTeam.category",
    })?;

    let name = non_empty(team.name.as_ref()).ok_or(FhirError::MissingElement {
        element: "CareTeam.name",
    })?;
    let ods_code = team
        .managing_organization
        .iter()
        .filter_map(|organisation| organisation.identifier.as_ref())
        .filter(|identifier| identifier.system.as_deref() == Some(ODS_ORGANIZATION_SYSTEM))
        .find_map(|identifier| non_empty(identifier.value.as_ref()))
        .ok_or(FhirError::MissingElement {
            element: "CareTeam.managingOrganization.identifier",
        })?;
    let phone_for = |wanted: &str, element: &'static str| {
        team.telecom
            .iter()
            .filter(|contact| contact.system.as_deref() == Some("phone"))
            .filter(|contact| contact.contact_use.as_deref() == Some(wanted))
            .find_map(|contact| non_empty(contact.value.as_ref()))
            .map(str::to_owned)
            .ok_or(FhirError::MissingElement { element })
    };
    let office_hours_phone = phone_for("work", "CareTeam.telecom.where(use='work')")?;
    let emergency_duty_phone = phone_for("mobile", "CareTeam.telecom.where(use='mobile')")?;

    let period = team.period.as_ref().ok_or(FhirError::MissingElement {
        element: "CareTeam.period",
    })?;
    let start_text = non_empty(period.start.as_ref()).ok_or(FhirError::MissingElement {
        element: "CareTeam.period.start",
    })?;
    let start = parse_fhir_date(start_text, "CareTeam.period.start")?;
    let end = match period.end.as_deref() {
        None => None,
        Some(text) => Some(parse_fhir_date(text, "CareTeam.period.end")?),
    };
    if end.is_some_and(|end| end < start) {
        return Err(FhirError::PeriodEndsBeforeStart);
    }

    let social_worker = match team
        .extension
        .iter()
        .find(|extension| extension.url == SOCIAL_WORKER_EXTENSION_URL)
    {
        None => None,
        Some(extension) => {
            const ELEMENT: &str = "CareTeam.extension(social-worker)";
            let part = |url: &str| extension.extension.iter().find(|inner| inner.url == url);
            let name = part("name")
                .and_then(|inner| non_empty(inner.value_string.as_ref()))
                .ok_or(FhirError::InvalidElement { element: ELEMENT })?;
            let phone = part("phone")
                .and_then(|inner| inner.value_contact_point.as_ref())
                .and_then(|contact| non_empty(contact.value.as_ref()))
                .ok_or(FhirError::InvalidElement { element: ELEMENT })?;
            Some(SocialWorker {
                name: name.to_owned(),
                phone: phone.to_owned(),
            })
        }
    };

    Ok((
        nhs_number,
        ProtectionPlan {
            plan_type,
            start,
            end,
            local_authority: LocalAuthority {
                name: name.to_owned(),
                ods_code: ods_code.to_owned(),
                office_hours_phone,
                emergency_duty_phone,
            },
            social_worker,
        },
    ))
}

/// Parse a CareTeam search answer about `asked`. [`CareTeamSearch::NoPlans`] only for a valid
/// searchset Bundle with `total: 0` and no entries; every CareTeam must be valid and about
/// `asked` ([`FhirError::AnotherPatient`] otherwise).
pub fn parse_care_team_search(body: &[u8], asked: &NhsNumber) -> Result<CareTeamSearch, FhirError> {
    let resources = searchset_resources(body)?;
    if resources.is_empty() {
        return Ok(CareTeamSearch::NoPlans);
    }
    let mut plans = Vec::with_capacity(resources.len());
    for raw in resources {
        let team: CareTeam = decode_raw(raw, "CareTeam")?;
        let (subject, plan) = care_team_to_plan(&team)?;
        check_asked(&subject, asked)?;
        plans.push(plan);
    }
    Ok(CareTeamSearch::Plans(plans))
}

/// An AuditEvent as `(NHS number, access)`.
pub fn audit_event_to_access(event: &AuditEvent) -> Result<(NhsNumber, AccessRecord), FhirError> {
    if event.resource_type != "AuditEvent" {
        return Err(FhirError::WrongResourceType {
            expected: "AuditEvent",
        });
    }
    let recorded = event.recorded.as_deref().ok_or(FhirError::MissingElement {
        element: "AuditEvent.recorded",
    })?;
    let accessed_at = parse_fhir_instant(recorded, "AuditEvent.recorded")?;
    let patient = event
        .entity
        .iter()
        .filter_map(|entity| entity.what.as_ref())
        .filter_map(|what| what.identifier.as_ref())
        .find(|identifier| identifier.system.as_deref() == Some(NHS_NUMBER_SYSTEM))
        .ok_or(FhirError::MissingElement {
            element: "AuditEvent.entity.what.identifier",
        })?;
    let nhs_number = parse_nhs_number(patient.value.as_ref(), "AuditEvent.entity.what.identifier")?;

    let person = event
        .agent
        .iter()
        .find(|agent| {
            agent
                .who
                .as_ref()
                .is_some_and(|who| who.reference_type.as_deref() == Some("PractitionerRole"))
        })
        .ok_or(FhirError::MissingElement {
            element: "AuditEvent.agent(PractitionerRole)",
        })?;
    let viewer_name = person
        .who
        .as_ref()
        .and_then(|who| non_empty(who.display.as_ref()))
        .ok_or(FhirError::MissingElement {
            element: "AuditEvent.agent(PractitionerRole).who.display",
        })?;
    let viewer_role = person
        .role
        .iter()
        .find_map(|role| {
            non_empty(role.text.as_ref()).or_else(|| {
                role.coding
                    .iter()
                    .find_map(|c| non_empty(c.display.as_ref()))
            })
        })
        .ok_or(FhirError::MissingElement {
            element: "AuditEvent.agent(PractitionerRole).role",
        })?;
    let organisation = event
        .agent
        .iter()
        .filter_map(|agent| agent.who.as_ref())
        .find(|who| who.reference_type.as_deref() == Some("Organization"))
        .ok_or(FhirError::MissingElement {
            element: "AuditEvent.agent(Organization)",
        })?;
    let organisation_ods = organisation
        .identifier
        .as_ref()
        .filter(|identifier| identifier.system.as_deref() == Some(ODS_ORGANIZATION_SYSTEM))
        .and_then(|identifier| non_empty(identifier.value.as_ref()))
        .ok_or(FhirError::MissingElement {
            element: "AuditEvent.agent(Organization).who.identifier",
        })?;
    let organisation_name =
        non_empty(organisation.display.as_ref()).ok_or(FhirError::MissingElement {
            element: "AuditEvent.agent(Organization).who.display",
        })?;
    Ok((
        nhs_number,
        AccessRecord {
            accessed_at,
            viewer_name: viewer_name.to_owned(),
            viewer_role: viewer_role.to_owned(),
            organisation_name: organisation_name.to_owned(),
            organisation_ods: organisation_ods.to_owned(),
        },
    ))
}

/// Parse the access history for `asked`: a searchset Bundle of AuditEvent, in the server's
/// order (newest first). Empty is allowed. Every event must be about `asked`.
pub fn parse_access_history(
    body: &[u8],
    asked: &NhsNumber,
) -> Result<Vec<AccessRecord>, FhirError> {
    searchset_resources(body)?
        .into_iter()
        .map(|raw| {
            let event: AuditEvent = decode_raw(raw, "AuditEvent")?;
            let (nhs_number, access) = audit_event_to_access(&event)?;
            check_asked(&nhs_number, asked)?;
            Ok(access)
        })
        .collect()
}

/// Parse a local authority's Access to Service Notifications: `(id, NHS number, access)`.
pub fn parse_access_notifications(
    body: &[u8],
) -> Result<Vec<(String, NhsNumber, AccessRecord)>, FhirError> {
    searchset_resources(body)?
        .into_iter()
        .map(|raw| {
            let event: AuditEvent = decode_raw(raw, "AuditEvent")?;
            let id = non_empty(event.id.as_ref())
                .ok_or(FhirError::MissingElement {
                    element: "AuditEvent.id",
                })?
                .to_owned();
            let (nhs_number, access) = audit_event_to_access(&event)?;
            Ok((id, nhs_number, access))
        })
        .collect()
}

/// Parse a PDS Patient for `asked`: the NHS number must match and be verified (`01`); a family
/// name, a gender and a full birth date are required.
pub fn parse_patient(body: &[u8], asked: &NhsNumber) -> Result<PatientDemographics, FhirError> {
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
    Ok(PatientDemographics {
        nhs_number,
        family_name: family_name.to_owned(),
        given_names,
        date_of_birth,
        gender,
    })
}

/// Parse an OperationOutcome: the first issue's Spine code, type, severity and diagnostics.
pub fn parse_operation_outcome(body: &[u8]) -> Result<OperationOutcomeSummary, FhirError> {
    expect_resource_type(body, "OperationOutcome")?;
    let outcome: OperationOutcome = decode(body)?;
    let issue = outcome.issue.first().ok_or(FhirError::MissingElement {
        element: "OperationOutcome.issue",
    })?;
    let spine_code = issue
        .details
        .iter()
        .flat_map(|details| &details.coding)
        .find(|coding| coding.system.as_deref() == Some(SPINE_ERROR_CODE_SYSTEM))
        .and_then(|coding| coding.code.as_deref())
        .map(SpineErrorCode::parse);
    Ok(OperationOutcomeSummary {
        spine_code,
        issue_type: issue.code.clone(),
        severity: issue.severity.clone(),
        diagnostics: issue.diagnostics.clone(),
    })
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
