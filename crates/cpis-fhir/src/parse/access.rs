//! AuditEvent: the access history and the local authority's Access to Service Notifications.

use cpis_domain::{AccessRecord, NhsNumber};

use super::{
    check_asked, decode_raw, non_empty, parse_fhir_instant, parse_nhs_number, searchset_resources,
};
use crate::wire::AuditEvent;
use crate::{FhirError, NHS_NUMBER_SYSTEM, ODS_ORGANIZATION_SYSTEM};

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
            organisation_ods: Some(organisation_ods.to_owned()),
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
