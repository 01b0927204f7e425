//! AuditEvent: the access history and the local authority's Access to Service Notifications.
//!
//! The access history is read as the CP-IS consumer guide defines it: a searchset of
//! AuditEvents (`search.mode=match`, counted by `total`) with the PractitionerRole of each
//! viewer included (`search.mode=include`, not counted). An AuditEvent's patient is its agent of
//! type v3-RoleClass `PAT` or its `entity.what` (both NHS number identifiers; they must agree
//! when both are given); the viewer is the agent whose `who.reference` names an included
//! PractitionerRole, from which come the name (`practitioner.display`), the role
//! (`code.coding.display`) and the organisation (`organization.display`, its ODS code from
//! `organization.identifier` or a trailing `(CODE)`). Without an included PractitionerRole the
//! inline shape is read: the viewer's `who.display` and `role`, and an Organization agent. A
//! role that comes as CIS2's hierarchy (`"Clinical":"Clinical Provision":"Nurse Access
//! Role"`) is read as the role's own name (`Nurse Access Role`).

use std::collections::HashMap;

use cpis_domain::{AccessRecord, NhsNumber};

use super::{
    Included, check_asked, decode_raw, non_empty, parse_fhir_instant, parse_nhs_number, searchset,
    searchset_resources,
};
use crate::wire::{AuditEvent, AuditEventAgent, PractitionerRole, Reference};
use crate::{FhirError, NHS_NUMBER_SYSTEM, ODS_ORGANIZATION_SYSTEM, ROLE_CLASS_SYSTEM};

/// Included PractitionerRoles by id (the resource's `id` and the id its `fullUrl` ends with).
type Roles = HashMap<String, PractitionerRole>;

/// The id of a `PractitionerRole/<id>` reference or full URL (relative or absolute).
fn practitioner_role_id(reference: &str) -> Option<&str> {
    let (before, id) = reference.trim_end_matches('/').rsplit_once('/')?;
    let resource_type = before.rsplit('/').next().unwrap_or(before);
    (resource_type == "PractitionerRole" && !id.is_empty()).then_some(id)
}

fn included_roles(included: Vec<Included<'_>>) -> Result<Roles, FhirError> {
    let mut roles = Roles::new();
    for entry in included {
        // Only PractitionerRoles are used; anything else a server includes is ignored.
        let Ok(role) = decode_raw::<PractitionerRole>(entry.resource, "PractitionerRole") else {
            if super::expect_resource_type(entry.resource.get().as_bytes(), "PractitionerRole")
                .is_ok()
            {
                // A PractitionerRole that does not decode is a broken answer.
                return Err(FhirError::InvalidElement {
                    element: "Bundle.entry:PractitionerRole",
                });
            }
            continue;
        };
        if let Some(id) = entry.full_url.as_deref().and_then(practitioner_role_id) {
            roles.insert(id.to_owned(), role.clone());
        }
        if let Some(id) = non_empty(role.id.as_ref()) {
            roles.insert(id.to_owned(), role);
        }
    }
    Ok(roles)
}

fn has_role_class(agent: &AuditEventAgent, code: &str) -> bool {
    agent
        .agent_type
        .iter()
        .flat_map(|concept| &concept.coding)
        .any(|coding| {
            coding.system.as_deref() == Some(ROLE_CLASS_SYSTEM)
                && coding.code.as_deref() == Some(code)
        })
}

/// The patient's NHS number: from the `PAT` agent and from `entity.what`, which must agree.
fn patient_nhs_number(event: &AuditEvent) -> Result<NhsNumber, FhirError> {
    let nhs_identifier = |reference: &Reference| {
        reference
            .identifier
            .as_ref()
            .filter(|identifier| identifier.system.as_deref() == Some(NHS_NUMBER_SYSTEM))
            .cloned()
    };
    let from_agent = event
        .agent
        .iter()
        .filter(|agent| has_role_class(agent, "PAT"))
        .filter_map(|agent| agent.who.as_ref())
        .find_map(nhs_identifier)
        .map(|identifier| {
            parse_nhs_number(
                identifier.value.as_ref(),
                "AuditEvent.agent:PAT.who.identifier",
            )
        })
        .transpose()?;
    let from_entity = event
        .entity
        .iter()
        .filter_map(|entity| entity.what.as_ref())
        .find_map(nhs_identifier)
        .map(|identifier| {
            parse_nhs_number(
                identifier.value.as_ref(),
                "AuditEvent.entity.what.identifier",
            )
        })
        .transpose()?;
    match (from_agent, from_entity) {
        (Some(agent), Some(entity)) if agent != entity => Err(FhirError::InvalidElement {
            element: "AuditEvent.agent:PAT.who.identifier",
        }),
        (Some(number), _) | (None, Some(number)) => Ok(number),
        (None, None) => Err(FhirError::MissingElement {
            element: "AuditEvent.entity.what.identifier",
        }),
    }
}

/// A trailing `(CODE)` in an organisation's name, as the published example writes it
/// ("... MEDICAL TEAM (RKEAA)"): 3 to 6 capital letters or digits.
fn ods_code_in_brackets(name: &str) -> Option<&str> {
    let inner = name.trim().strip_suffix(')')?;
    let (_, code) = inner.rsplit_once('(')?;
    let is_code = (3..=6).contains(&code.len())
        && code
            .bytes()
            .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit());
    is_code.then_some(code)
}

fn ods_identifier(reference: &Reference) -> Option<&str> {
    reference
        .identifier
        .as_ref()
        .filter(|identifier| identifier.system.as_deref() == Some(ODS_ORGANIZATION_SYSTEM))
        .and_then(|identifier| non_empty(identifier.value.as_ref()))
}

/// Who viewed, from an included PractitionerRole: `(name, role, organisation, ODS code)`.
fn viewer_from_role(
    role: &PractitionerRole,
) -> Result<(String, String, String, Option<String>), FhirError> {
    let name = role
        .practitioner
        .as_ref()
        .and_then(|practitioner| non_empty(practitioner.display.as_ref()))
        .ok_or(FhirError::MissingElement {
            element: "PractitionerRole.practitioner.display",
        })?;
    let role_name = role
        .code
        .iter()
        .find_map(|concept| {
            concept
                .coding
                .iter()
                .find_map(|coding| non_empty(coding.display.as_ref()))
                .or_else(|| non_empty(concept.text.as_ref()))
        })
        .ok_or(FhirError::MissingElement {
            element: "PractitionerRole.code",
        })?;
    let organisation = role.organization.as_ref();
    let organisation_name = organisation
        .and_then(|organisation| non_empty(organisation.display.as_ref()))
        .ok_or(FhirError::MissingElement {
            element: "PractitionerRole.organization.display",
        })?;
    let ods = organisation
        .and_then(ods_identifier)
        .or_else(|| ods_code_in_brackets(organisation_name));
    Ok((
        name.to_owned(),
        cpis_domain::role_display_name(role_name).to_owned(),
        organisation_name.to_owned(),
        ods.map(str::to_owned),
    ))
}

/// Who viewed, from the AuditEvent alone: the PractitionerRole agent's `who.display` and `role`,
/// and the Organization agent.
fn viewer_inline(
    event: &AuditEvent,
) -> Result<(String, String, String, Option<String>), FhirError> {
    let names_type = |who: &Reference, wanted: &str| {
        who.reference_type.as_deref() == Some(wanted)
            || who.reference.as_deref().is_some_and(|reference| {
                reference
                    .strip_prefix(wanted)
                    .is_some_and(|rest| rest.starts_with('/'))
            })
    };
    let person = event
        .agent
        .iter()
        .find(|agent| {
            agent
                .who
                .as_ref()
                .is_some_and(|who| names_type(who, "PractitionerRole"))
        })
        .ok_or(FhirError::MissingElement {
            element: "AuditEvent.agent:PractitionerRole",
        })?;
    let viewer_name = person
        .who
        .as_ref()
        .and_then(|who| non_empty(who.display.as_ref()))
        .ok_or(FhirError::MissingElement {
            element: "AuditEvent.agent:PractitionerRole.who.display",
        })?;
    let viewer_role = person
        .role
        .iter()
        .find_map(|role| {
            non_empty(role.text.as_ref()).or_else(|| {
                role.coding
                    .iter()
                    .find_map(|coding| non_empty(coding.display.as_ref()))
            })
        })
        .ok_or(FhirError::MissingElement {
            element: "AuditEvent.agent:PractitionerRole.role",
        })?;
    let organisation = event
        .agent
        .iter()
        .filter_map(|agent| agent.who.as_ref())
        .find(|who| names_type(who, "Organization"))
        .ok_or(FhirError::MissingElement {
            element: "AuditEvent.agent:Organization",
        })?;
    let organisation_name =
        non_empty(organisation.display.as_ref()).ok_or(FhirError::MissingElement {
            element: "AuditEvent.agent:Organization.who.display",
        })?;
    let ods = ods_identifier(organisation).or_else(|| ods_code_in_brackets(organisation_name));
    Ok((
        viewer_name.to_owned(),
        cpis_domain::role_display_name(viewer_role).to_owned(),
        organisation_name.to_owned(),
        ods.map(str::to_owned),
    ))
}

fn event_to_access(
    event: &AuditEvent,
    roles: &Roles,
) -> Result<(NhsNumber, AccessRecord), FhirError> {
    if event.resource_type != "AuditEvent" {
        return Err(FhirError::WrongResourceType {
            expected: "AuditEvent",
        });
    }
    let recorded = event.recorded.as_deref().ok_or(FhirError::MissingElement {
        element: "AuditEvent.recorded",
    })?;
    let accessed_at = parse_fhir_instant(recorded, "AuditEvent.recorded")?;
    let nhs_number = patient_nhs_number(event)?;
    // The viewer: an included PractitionerRole the requesting (or any) agent names.
    let mut agents: Vec<&AuditEventAgent> = event.agent.iter().collect();
    agents.sort_by_key(|agent| agent.requestor != Some(true));
    let included = agents
        .iter()
        .filter_map(|agent| agent.who.as_ref()?.reference.as_deref())
        .filter_map(practitioner_role_id)
        .find_map(|id| roles.get(id));
    let (viewer_name, viewer_role, organisation_name, organisation_ods) = match included {
        Some(role) => viewer_from_role(role)?,
        None => viewer_inline(event)?,
    };
    Ok((
        nhs_number,
        AccessRecord {
            accessed_at,
            viewer_name,
            viewer_role,
            organisation_name,
            organisation_ods,
        },
    ))
}

/// An AuditEvent on its own (no included resources) as `(NHS number, access)`.
pub fn audit_event_to_access(event: &AuditEvent) -> Result<(NhsNumber, AccessRecord), FhirError> {
    event_to_access(event, &Roles::new())
}

/// Parse the access history for `asked`: a searchset Bundle of AuditEvent, in the server's
/// order (newest first), with the viewers' PractitionerRoles included. Empty is allowed. Every
/// event must be about `asked`, and a `self` link that names an NHS number must name `asked`.
pub fn parse_access_history(
    body: &[u8],
    asked: &NhsNumber,
) -> Result<Vec<AccessRecord>, FhirError> {
    let found = searchset(body, Some(asked), true)?;
    let roles = included_roles(found.included)?;
    found
        .matches
        .into_iter()
        .map(|raw| {
            let event: AuditEvent = decode_raw(raw, "AuditEvent")?;
            let (nhs_number, access) = event_to_access(&event, &roles)?;
            check_asked(&nhs_number, asked)?;
            Ok(access)
        })
        .collect()
}

/// Parse a local authority's Access to Service Notifications: `(id, NHS number, access)`.
pub fn parse_access_notifications(
    body: &[u8],
) -> Result<Vec<(String, NhsNumber, AccessRecord)>, FhirError> {
    searchset_resources(body, None)?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practitioner_role_ids_come_from_relative_and_absolute_references() {
        assert_eq!(practitioner_role_id("PractitionerRole/abc"), Some("abc"));
        assert_eq!(
            practitioner_role_id("https://example.org/FHIR/R4/PractitionerRole/abc"),
            Some("abc")
        );
        assert_eq!(practitioner_role_id("Organization/abc"), None);
        assert_eq!(practitioner_role_id("PractitionerRole/"), None);
        assert_eq!(practitioner_role_id("abc"), None);
    }

    /// Issue 16: `cpis lookup` and the app listed the viewer's role as CIS2's hierarchy
    /// (`"Clinical":"Clinical Provision":"Nurse Access Role"`), as the service stored it.
    #[test]
    fn a_viewer_role_in_cis2_form_is_read_as_the_roles_own_name() {
        let asked = NhsNumber::parse("9990000018").expect("valid");
        let access = AccessRecord {
            accessed_at: time::macros::datetime!(2026-11-24 21:15 UTC),
            viewer_name: "Tess Triage-Test".into(),
            viewer_role: "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"".into(),
            organisation_name: "Northshire General Hospital".into(),
            organisation_ods: Some("ZZ1ED".into()),
        };
        let body = serde_json::to_vec(&crate::build::access_history_bundle(&asked, &[access]))
            .expect("json");
        let read = parse_access_history(&body, &asked).expect("history");
        assert_eq!(read[0].viewer_role, "Nurse Access Role");
        let raw = AccessRecord {
            viewer_role: "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"".into(),
            ..read[0].clone()
        };
        let answer = serde_json::to_vec(&crate::build::access_history_answer(
            "https://cpis.example",
            &asked,
            &[crate::build::ServedAccess {
                id: "access-1",
                nhs_number: &asked,
                access: &raw,
                role_profile_id: Some("555021935107"),
                trace_id: None,
            }],
            Some("AuditEvent:agent"),
        ))
        .expect("json");
        let included = parse_access_history(&answer, &asked).expect("history");
        assert_eq!(included[0].viewer_role, "Nurse Access Role");
    }

    #[test]
    fn an_ods_code_in_brackets_ends_the_organisation_name() {
        assert_eq!(
            ods_code_in_brackets("NORTHSHIRE TRUST - CHILDREN'S TEAM (ZZ1AA)"),
            Some("ZZ1AA")
        );
        assert_eq!(ods_code_in_brackets("Northshire (East)"), None);
        assert_eq!(ods_code_in_brackets("Northshire"), None);
        assert_eq!(ods_code_in_brackets("(ZZ)"), None);
    }
}
