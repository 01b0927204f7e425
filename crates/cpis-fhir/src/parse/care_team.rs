//! CareTeam: a CP-IS plan, alone (the LA upload, read strictly into the complete
//! [`ProtectionPlan`]) or in a search answer (read as the published contract defines it into a
//! [`PlanRecord`]: what `England-CareTeam-Flag` requires is required, what it leaves optional
//! may be missing).

use cpis_domain::{
    CareTeamStatus, LaContact, LocalAuthority, NhsNumber, PlanRecord, PlanType, ProtectionPlan,
    SocialWorker,
};

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
    /// One or more records, all for the NHS number asked about.
    Plans(Vec<PlanRecord>),
    /// A valid searchset Bundle with `total: 0` and no entries.
    NoPlans,
}

/// The plan type a CareTeam's category says, read strictly: every SNOMED CT coding must be one
/// of the three plan codes, all the same, and there must be one.
fn strict_plan_type(team: &CareTeam) -> Result<PlanType, FhirError> {
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
    plan_type.ok_or(FhirError::MissingElement {
        element: "CareTeam.category",
    })
}

/// The plan type a search answer's CareTeam says, read leniently: the type when every SNOMED CT
/// coding names the same one of the three plan codes; `None` when there is no such coding, a
/// code outside the value set, or two different plan codes. The record is never dropped for it.
fn lenient_plan_type(team: &CareTeam) -> Option<PlanType> {
    let mut plan_type: Option<PlanType> = None;
    for coding in team.category.iter().flat_map(|category| &category.coding) {
        if coding.system.as_deref() != Some(SNOMED_SYSTEM) {
            continue;
        }
        let found = PlanType::from_snomed_code(coding.code.as_deref().unwrap_or_default())?;
        if plan_type.is_some_and(|already| already != found) {
            return None;
        }
        plan_type = Some(found);
    }
    plan_type
}

fn check_status(team: &CareTeam) -> Result<(), FhirError> {
    if team.resource_type != "CareTeam" {
        return Err(FhirError::WrongResourceType {
            expected: "CareTeam",
        });
    }
    match team.status.as_deref() {
        None | Some("proposed" | "active" | "suspended" | "inactive") => Ok(()),
        Some(_) => Err(FhirError::InvalidElement {
            element: "CareTeam.status",
        }),
    }
}

/// The NHS number of `subject.identifier`, which must be present (when `subject` is).
fn subject_nhs_number(team: &CareTeam) -> Result<NhsNumber, FhirError> {
    let subject = team
        .subject
        .as_ref()
        .and_then(|subject| subject.identifier.as_ref())
        .filter(|identifier| identifier.system.as_deref() == Some(NHS_NUMBER_SYSTEM))
        .ok_or(FhirError::MissingElement {
            element: "CareTeam.subject.identifier",
        })?;
    parse_nhs_number(subject.value.as_ref(), "CareTeam.subject.identifier.value")
}

/// The ODS code of `managingOrganization.identifier`, if given.
fn managing_ods_code(team: &CareTeam) -> Option<&str> {
    team.managing_organization
        .iter()
        .filter_map(|organisation| organisation.identifier.as_ref())
        .filter(|identifier| identifier.system.as_deref() == Some(ODS_ORGANIZATION_SYSTEM))
        .find_map(|identifier| non_empty(identifier.value.as_ref()))
}

/// The ODS code at the start of a team name written `CODE - NAME`, as the published Patient
/// Flags Bundle names the team ("SFD1 - SHEFFIELD CITY COUNCIL"): 3 to 6 capital letters or
/// digits before ` - `.
pub fn ods_code_from_team_name(name: &str) -> Option<&str> {
    let (code, rest) = name.trim().split_once(" - ")?;
    let is_code = (3..=6).contains(&code.len())
        && code
            .bytes()
            .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit());
    (is_code && !rest.trim().is_empty()).then_some(code)
}

/// The first phone of `telecom` with this `use`.
fn phone(team: &CareTeam, wanted: &str) -> Option<String> {
    team.telecom
        .iter()
        .filter(|contact| contact.system.as_deref() == Some("phone"))
        .filter(|contact| contact.contact_use.as_deref() == Some(wanted))
        .find_map(|contact| non_empty(contact.value.as_ref()))
        .map(str::to_owned)
}

/// The allocated social worker extension: absent, or complete.
fn social_worker(team: &CareTeam) -> Result<Option<SocialWorker>, FhirError> {
    let Some(extension) = team
        .extension
        .iter()
        .find(|extension| extension.url == SOCIAL_WORKER_EXTENSION_URL)
    else {
        return Ok(None);
    };
    const ELEMENT: &str = "CareTeam.extension:social-worker";
    let part = |url: &str| extension.extension.iter().find(|inner| inner.url == url);
    let name = part("name")
        .and_then(|inner| non_empty(inner.value_string.as_ref()))
        .ok_or(FhirError::InvalidElement { element: ELEMENT })?;
    let phone = part("phone")
        .and_then(|inner| inner.value_contact_point.as_ref())
        .and_then(|contact| non_empty(contact.value.as_ref()))
        .ok_or(FhirError::InvalidElement { element: ELEMENT })?;
    Ok(Some(SocialWorker {
        name: name.to_owned(),
        phone: phone.to_owned(),
    }))
}

/// `period.start` and `period.end`, each optional; a date that is given must be a full,
/// valid date, and the end may not come before the start.
fn period(team: &CareTeam) -> Result<(Option<time::Date>, Option<time::Date>), FhirError> {
    let Some(period) = team.period.as_ref() else {
        return Ok((None, None));
    };
    let start = match period.start.as_deref() {
        None => None,
        Some(text) => Some(parse_fhir_date(text, "CareTeam.period.start")?),
    };
    let end = match period.end.as_deref() {
        None => None,
        Some(text) => Some(parse_fhir_date(text, "CareTeam.period.end")?),
    };
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        return Err(FhirError::PeriodEndsBeforeStart);
    }
    Ok((start, end))
}

/// A CareTeam as a complete plan for an NHS number, with every rule of this service's LA upload
/// checked: subject, plan category, name, ODS code, both phones and a start date are required.
/// Used by the LA upload; a search answer is read with [`care_team_to_record`].
pub fn care_team_to_plan(team: &CareTeam) -> Result<(NhsNumber, ProtectionPlan), FhirError> {
    check_status(team)?;
    let nhs_number = subject_nhs_number(team)?;
    let plan_type = strict_plan_type(team)?;
    let name = non_empty(team.name.as_ref()).ok_or(FhirError::MissingElement {
        element: "CareTeam.name",
    })?;
    let ods_code = managing_ods_code(team).ok_or(FhirError::MissingElement {
        element: "CareTeam.managingOrganization.identifier",
    })?;
    let office_hours_phone = phone(team, "work").ok_or(FhirError::MissingElement {
        element: "CareTeam.telecom:work",
    })?;
    let emergency_duty_phone = phone(team, "mobile").ok_or(FhirError::MissingElement {
        element: "CareTeam.telecom:mobile",
    })?;
    if team
        .period
        .as_ref()
        .and_then(|period| non_empty(period.start.as_ref()))
        .is_none()
    {
        return Err(FhirError::MissingElement {
            element: if team.period.is_none() {
                "CareTeam.period"
            } else {
                "CareTeam.period.start"
            },
        });
    }
    let (start, end) = period(team)?;
    let start = start.ok_or(FhirError::MissingElement {
        element: "CareTeam.period.start",
    })?;
    let social_worker = social_worker(team)?;
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

/// A CareTeam of a search answer about `asked` as the record CP-IS holds, read as the published
/// contract (`England-CareTeam-Flag`) defines it. Required: `resourceType` CareTeam, `name`
/// and at least one `telecom`. `subject`, when present, must be `asked`
/// ([`FhirError::AnotherPatient`]); when absent the record is the asked patient's (the search
/// was by that number, and the caller has checked the Bundle's `self` link). Optional: the plan
/// type (`None` when missing or unreadable: the record is still shown), the period (a date that
/// is given must be valid and in order), the ODS code (from `managingOrganization`, else from a
/// `CODE - NAME` team name) and each phone.
pub fn care_team_to_record(team: &CareTeam, asked: &NhsNumber) -> Result<PlanRecord, FhirError> {
    check_status(team)?;
    if team.subject.is_some() {
        check_asked(&subject_nhs_number(team)?, asked)?;
    }
    let name = non_empty(team.name.as_ref()).ok_or(FhirError::MissingElement {
        element: "CareTeam.name",
    })?;
    if team.telecom.is_empty() {
        return Err(FhirError::MissingElement {
            element: "CareTeam.telecom",
        });
    }
    let (start, end) = period(team)?;
    let ods_code = managing_ods_code(team).or_else(|| ods_code_from_team_name(name));
    Ok(PlanRecord {
        plan_type: lenient_plan_type(team),
        start,
        end,
        care_team_status: team.status.as_deref().and_then(CareTeamStatus::from_code),
        local_authority: LaContact {
            name: name.to_owned(),
            ods_code: ods_code.map(str::to_owned),
            office_hours_phone: phone(team, "work"),
            emergency_duty_phone: phone(team, "mobile"),
        },
        social_worker: social_worker(team)?,
    })
}

/// Parse a CareTeam search answer about `asked`. [`CareTeamSearch::NoPlans`] only for a valid
/// searchset Bundle with `total: 0` and no entries whose `self` link, if it names an NHS
/// number, names `asked`; every CareTeam must be readable ([`care_team_to_record`]) and about
/// `asked`.
pub fn parse_care_team_search(body: &[u8], asked: &NhsNumber) -> Result<CareTeamSearch, FhirError> {
    let resources = searchset_resources(body, Some(asked))?;
    if resources.is_empty() {
        return Ok(CareTeamSearch::NoPlans);
    }
    let mut plans = Vec::with_capacity(resources.len());
    for raw in resources {
        let team: CareTeam = decode_raw(raw, "CareTeam")?;
        plans.push(care_team_to_record(&team, asked)?);
    }
    Ok(CareTeamSearch::Plans(plans))
}
