//! CareTeam: a CP-IS plan, alone (the LA upload) or in a search answer.

use cpis_domain::{LocalAuthority, NhsNumber, PlanRecord, PlanType, ProtectionPlan, SocialWorker};

use super::{
    check_asked, decode_raw, non_empty, parse_fhir_date, parse_nhs_number, searchset_resources,
};
use crate::wire::CareTeam;
use crate::{
    FhirError, NHS_NUMBER_SYSTEM, ODS_ORGANIZATION_SYSTEM, SNOMED_SYSTEM,
    SOCIAL_WORKER_EXTENSION_URL,
};

/// The answer to a CareTeam search, once it has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CareTeamSearch {
    /// One or more plans, all for the NHS number asked about.
    Plans(Vec<PlanRecord>),
    /// A valid searchset Bundle with `total: 0` and no entries.
    NoPlans,
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
        plans.push(PlanRecord::from(plan));
    }
    Ok(CareTeamSearch::Plans(plans))
}
