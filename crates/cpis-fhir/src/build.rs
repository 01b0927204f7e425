//! Builders: domain types to FHIR resources, in the shapes documented on the crate.

use std::collections::HashMap;

use cpis_domain::{AccessRecord, NhsNumber, PatientDemographics, PlanType, ProtectionPlan};
use serde::Serialize;
use serde_json::value::RawValue;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::wire::{
    AuditEvent, AuditEventAgent, AuditEventEntity, AuditEventSource, Bundle, BundleEntry,
    BundleEntryRequest, BundleEntrySearch, BundleLink, CareTeam, CodeableConcept, Coding,
    ContactPoint, Extension, HumanName, Identifier, Meta, OperationOutcome, OperationOutcomeIssue,
    Patient, Period, PractitionerRole, Reference,
};
use crate::{
    ACCESS_EVENT_SUBTYPE, ACCESS_NOTIFICATION_SUBTYPE, CARE_TEAM_PROFILE, CONFIDENTIALITY_SYSTEM,
    CPIS_EVENT_SUBTYPE_SYSTEM, ENGLAND_SPINE_ERROR_CODE_SYSTEM, NHS_NUMBER_SYSTEM,
    NHS_NUMBER_VERIFICATION_STATUS_URL, NHS_NUMBER_VERIFIED_CODE, ODS_ORGANIZATION_SYSTEM,
    PDS_NHS_NUMBER_VERIFICATION_STATUS_SYSTEM, ROLE_CLASS_SYSTEM, SDS_ROLE_PROFILE_ID_SYSTEM,
    SNOMED_SYSTEM, SOCIAL_WORKER_EXTENSION_URL, SPINE_ERROR_CODE_SYSTEM, SpineErrorCode,
    TRANSACTION_SYSTEM,
};

/// Where the CP-IS FHIR API lives under a service's base URL.
pub const CPIS_API_PATH: &str = "/cpis/FHIR/R4";
/// Where the local authority API lives under a service's base URL.
pub const LA_API_PATH: &str = "/la/FHIR/R4";
/// The `_include` values the AuditEvent search accepts: the consumer guide's literal
/// ([`crate::ACCESS_HISTORY_INCLUDE`]) and the two common spellings of "the agents'
/// PractitionerRole".
pub const ACCESS_HISTORY_INCLUDES: [&str; 3] = [
    crate::ACCESS_HISTORY_INCLUDE,
    "AuditEvent:agent",
    "AuditEvent:agent:PractitionerRole",
];
/// The ISO 21089 lifecycle code system of `AuditEvent.type` in the CP-IS access history.
pub const LIFECYCLE_EVENT_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle";

/// The display text the England-ChildProtectionPlan ValueSet gives a plan type's SNOMED CT
/// code (what `CareTeam.category.coding.display` carries).
pub fn plan_category_display(plan_type: PlanType) -> &'static str {
    match plan_type {
        PlanType::ChildProtectionPlan => "Subject to child protection plan",
        PlanType::LookedAfterChild => "Looked after child",
        PlanType::UnbornChildProtectionPlan => "Unborn child subject to child protection plan",
    }
}

/// The code system an OperationOutcome's Spine code is written in: the CP-IS API's
/// (`England-SpineErrorOrWarningCode`, as its published example) or PDS's (`R4` Spine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpineErrorSystem {
    /// CP-IS (and this service's own APIs).
    England,
    /// The Personal Demographics Service.
    Pds,
}

impl SpineErrorSystem {
    /// The code system URL.
    pub fn url(self) -> &'static str {
        match self {
            SpineErrorSystem::England => ENGLAND_SPINE_ERROR_CODE_SYSTEM,
            SpineErrorSystem::Pds => SPINE_ERROR_CODE_SYSTEM,
        }
    }
}

/// Serialise any wire type to JSON bytes.
pub fn to_json_bytes<T: Serialize>(resource: &T) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(resource)
}

/// A resource as raw JSON for a Bundle entry, in field order (`resourceType` first).
/// Serialising these plain structs (string keys, derived `Serialize`) cannot fail, so the
/// `null` fallback is never taken.
pub fn raw_resource<T: Serialize>(resource: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(resource).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// A FHIR `date`: `YYYY-MM-DD`.
pub fn fhir_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// A FHIR `instant` in UTC: `YYYY-MM-DDThh:mm:ss[.fffffffff]Z`.
pub fn fhir_instant(moment: OffsetDateTime) -> String {
    let utc = moment.to_offset(UtcOffset::UTC);
    let mut text = format!(
        "{}T{:02}:{:02}:{:02}",
        fhir_date(utc.date()),
        utc.hour(),
        utc.minute(),
        utc.second()
    );
    let nanos = utc.nanosecond();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

fn nhs_identifier(nhs_number: &NhsNumber) -> Identifier {
    Identifier {
        extension: Vec::new(),
        system: Some(NHS_NUMBER_SYSTEM.into()),
        value: Some(nhs_number.as_str().into()),
    }
}

fn phone(value: &str, contact_use: &str) -> ContactPoint {
    ContactPoint {
        system: Some("phone".into()),
        value: Some(value.into()),
        contact_use: Some(contact_use.into()),
    }
}

/// One CareTeam for one plan, as the LA upload sends it (claiming the England-CareTeam-Flag
/// profile). `status` is `active` while the plan is open on the UK date `today` (an unborn plan
/// past its due date included), else `inactive` ([`ProtectionPlan::care_team_status_on`]). `id`
/// must not contain patient data.
pub fn care_team(subject: &NhsNumber, plan: &ProtectionPlan, id: &str, today: Date) -> CareTeam {
    let mut care_team = care_team_resource(subject, plan, id, today);
    care_team.meta = Some(Meta {
        profile: vec![CARE_TEAM_PROFILE.into()],
        ..Meta::default()
    });
    care_team
}

/// One CareTeam for one plan as a search answer carries it: no `meta.profile` (the consumer
/// guide's search examples carry none), the category coded with the ValueSet's display text,
/// `name`, `subject.identifier`, `telecom`, `period`, and the authority's ODS code as
/// `managingOrganization.identifier`.
fn care_team_resource(
    subject: &NhsNumber,
    plan: &ProtectionPlan,
    id: &str,
    today: Date,
) -> CareTeam {
    let authority = &plan.local_authority;
    let extension = plan
        .social_worker
        .iter()
        .map(|worker| Extension {
            url: SOCIAL_WORKER_EXTENSION_URL.into(),
            extension: vec![
                Extension {
                    url: "name".into(),
                    value_string: Some(worker.name.clone()),
                    ..Extension::default()
                },
                Extension {
                    url: "phone".into(),
                    value_contact_point: Some(phone(&worker.phone, "work")),
                    ..Extension::default()
                },
            ],
            ..Extension::default()
        })
        .collect();
    CareTeam {
        resource_type: "CareTeam".into(),
        id: Some(id.into()),
        meta: None,
        extension,
        status: Some(plan.care_team_status_on(today).code().into()),
        category: vec![CodeableConcept {
            coding: vec![Coding {
                system: Some(SNOMED_SYSTEM.into()),
                version: None,
                code: Some(plan.plan_type.snomed_code().into()),
                display: Some(plan_category_display(plan.plan_type).into()),
            }],
            text: None,
        }],
        name: Some(authority.name.clone()),
        subject: Some(Reference {
            reference_type: Some("Patient".into()),
            identifier: Some(nhs_identifier(subject)),
            ..Reference::default()
        }),
        period: Some(Period {
            start: Some(fhir_date(plan.start)),
            end: plan.end.map(fhir_date),
        }),
        managing_organization: vec![Reference {
            reference_type: Some("Organization".into()),
            identifier: Some(Identifier {
                extension: Vec::new(),
                system: Some(ODS_ORGANIZATION_SYSTEM.into()),
                value: Some(authority.ods_code.clone()),
            }),
            display: Some(authority.name.clone()),
            reference: None,
        }],
        telecom: vec![
            phone(&authority.office_hours_phone, "work"),
            phone(&authority.emergency_duty_phone, "mobile"),
        ],
    }
}

/// A searchset: `total` counts the entries with `search.mode=match` only (included resources
/// are not counted), `link` self is the search that was run.
fn searchset(self_url: String, entries: Vec<BundleEntry>) -> Bundle {
    let matches = entries
        .iter()
        .filter(|entry| {
            entry
                .search
                .as_ref()
                .is_some_and(|search| search.mode.as_deref() == Some("match"))
        })
        .count();
    Bundle {
        resource_type: "Bundle".into(),
        id: None,
        meta: None,
        bundle_type: "searchset".into(),
        total: Some(matches as u64),
        link: vec![BundleLink {
            relation: "self".into(),
            url: self_url,
        }],
        entry: if entries.is_empty() {
            None
        } else {
            Some(entries)
        },
    }
}

fn search_entry(
    api_base: &str,
    resource_type: &str,
    id: &str,
    resource: Box<RawValue>,
    mode: &str,
) -> BundleEntry {
    BundleEntry {
        full_url: Some(format!("{api_base}/{resource_type}/{id}")),
        resource: Some(resource),
        search: Some(BundleEntrySearch {
            mode: Some(mode.into()),
        }),
        request: None,
        response: None,
    }
}

/// The search URL of a search by `patient:identifier` for `nhs_number`, as the guide writes it.
fn patient_search_url(api_base: &str, resource_type: &str, nhs_number: &NhsNumber) -> String {
    format!(
        "{api_base}/{resource_type}?patient:identifier={NHS_NUMBER_SYSTEM}|{}",
        nhs_number.as_str()
    )
}

/// The CareTeam search answer for `asked`: a searchset Bundle with one CareTeam per plan, or
/// `total: 0` and no entries when `plans` is empty. The caller has already applied the
/// visibility rules. CareTeam ids are `careteam-{n}` in order. URLs are relative to the API
/// (`/cpis/FHIR/R4/...`); a service names its base with [`care_team_search_answer`].
pub fn care_team_search_bundle(asked: &NhsNumber, plans: &[ProtectionPlan], today: Date) -> Bundle {
    care_team_search_answer("", asked, plans, today)
}

/// [`care_team_search_bundle`] as served at `base_url` (the service's public URL, no trailing
/// slash): `link` self is `{base_url}/cpis/FHIR/R4/CareTeam?patient:identifier=...|{asked}` and
/// each entry's `fullUrl` is `{base_url}/cpis/FHIR/R4/CareTeam/{id}` with `search.mode=match`.
pub fn care_team_search_answer(
    base_url: &str,
    asked: &NhsNumber,
    plans: &[ProtectionPlan],
    today: Date,
) -> Bundle {
    let api_base = format!("{base_url}{CPIS_API_PATH}");
    let entries = plans
        .iter()
        .enumerate()
        .map(|(index, plan)| {
            let id = format!("careteam-{}", index + 1);
            let resource = raw_resource(&care_team_resource(asked, plan, &id, today));
            search_entry(&api_base, "CareTeam", &id, resource, "match")
        })
        .collect();
    searchset(patient_search_url(&api_base, "CareTeam", asked), entries)
}

/// One access as the service serves it in an AuditEvent.
#[derive(Debug, Clone, Copy)]
pub struct ServedAccess<'a> {
    /// The AuditEvent's id (no patient data).
    pub id: &'a str,
    /// Whose record was viewed.
    pub nhs_number: &'a NhsNumber,
    /// Who viewed it, when, in which role and organisation.
    pub access: &'a AccessRecord,
    /// The viewer's SDS role profile id, where known.
    pub role_profile_id: Option<&'a str>,
    /// The lookup's `TraceID`, where known.
    pub trace_id: Option<&'a str>,
}

fn role_class(code: &str, display: &str) -> CodeableConcept {
    CodeableConcept {
        coding: vec![Coding {
            system: Some(ROLE_CLASS_SYSTEM.into()),
            version: None,
            code: Some(code.into()),
            display: Some(display.into()),
        }],
        text: None,
    }
}

fn ods_identifier(ods: &str) -> Identifier {
    Identifier {
        extension: Vec::new(),
        system: Some(ODS_ORGANIZATION_SYSTEM.into()),
        value: Some(ods.into()),
    }
}

/// One access (or notification) as an AuditEvent shaped like the CP-IS guide's access history
/// example: `type` ISO 21089 `access`, `recorded`, the patient as agent (v3-RoleClass `PAT`,
/// `who.identifier` NHS number, `requestor` false), the viewer as agent (v3-RoleClass
/// `ASSIGNED`, `who.reference` `PractitionerRole/{practitioner_role_id}` with `who.display` =
/// name and `role` text = role, `requestor` true), the organisation as an Organization agent
/// (ODS identifier where known, display = name), `source.observer` the viewer's
/// PractitionerRole; and as entities the patient (NHS number) and, where known, the lookup's
/// transaction (`TraceID`). `action` `R`, `outcome` `0` and the CP-IS `subtype` are kept.
pub fn served_access_event(
    served: &ServedAccess<'_>,
    practitioner_role_id: &str,
    subtype_code: &str,
) -> AuditEvent {
    let access = served.access;
    let practitioner_role = format!("PractitionerRole/{practitioner_role_id}");
    let mut entity = vec![AuditEventEntity {
        what: Some(Reference {
            identifier: Some(nhs_identifier(served.nhs_number)),
            ..Reference::default()
        }),
        entity_type: Some(Coding {
            system: Some("http://terminology.hl7.org/CodeSystem/audit-entity-type".into()),
            version: None,
            code: Some("1".into()),
            display: Some("Person".into()),
        }),
        role: Some(Coding {
            system: Some("http://terminology.hl7.org/CodeSystem/object-role".into()),
            version: None,
            code: Some("1".into()),
            display: Some("Patient".into()),
        }),
        name: None,
        detail: Vec::new(),
    }];
    if let Some(trace_id) = served.trace_id {
        entity.push(AuditEventEntity {
            what: Some(Reference {
                identifier: Some(Identifier {
                    extension: Vec::new(),
                    system: Some(TRANSACTION_SYSTEM.into()),
                    value: Some(trace_id.into()),
                }),
                ..Reference::default()
            }),
            entity_type: Some(Coding {
                system: Some("http://terminology.hl7.org/CodeSystem/audit-entity-type".into()),
                version: None,
                code: Some("2".into()),
                display: Some("System Object".into()),
            }),
            role: None,
            name: None,
            detail: Vec::new(),
        });
    }
    AuditEvent {
        resource_type: "AuditEvent".into(),
        id: Some(served.id.into()),
        meta: None,
        extension: Vec::new(),
        event_type: Some(Coding {
            system: Some(LIFECYCLE_EVENT_SYSTEM.into()),
            version: None,
            code: Some("access".into()),
            display: Some("Access/View Record Lifecycle Event".into()),
        }),
        subtype: vec![Coding {
            system: Some(CPIS_EVENT_SUBTYPE_SYSTEM.into()),
            version: None,
            code: Some(subtype_code.into()),
            display: None,
        }],
        action: Some("R".into()),
        recorded: Some(fhir_instant(access.accessed_at)),
        outcome: Some("0".into()),
        outcome_desc: None,
        agent: vec![
            AuditEventAgent {
                agent_type: Some(role_class("PAT", "patient")),
                role: Vec::new(),
                who: Some(Reference {
                    identifier: Some(nhs_identifier(served.nhs_number)),
                    ..Reference::default()
                }),
                requestor: Some(false),
            },
            AuditEventAgent {
                agent_type: Some(role_class("ASSIGNED", "assigned entity")),
                role: vec![CodeableConcept {
                    coding: Vec::new(),
                    text: Some(access.viewer_role.clone()),
                }],
                who: Some(Reference {
                    reference: Some(practitioner_role.clone()),
                    reference_type: Some("PractitionerRole".into()),
                    identifier: None,
                    display: Some(access.viewer_name.clone()),
                }),
                requestor: Some(true),
            },
            AuditEventAgent {
                agent_type: None,
                role: Vec::new(),
                who: Some(Reference {
                    reference_type: Some("Organization".into()),
                    identifier: access.organisation_ods.as_deref().map(ods_identifier),
                    display: Some(access.organisation_name.clone()),
                    reference: None,
                }),
                requestor: Some(false),
            },
        ],
        source: Some(AuditEventSource {
            site: Some("cpis-service".into()),
            observer: Some(Reference {
                reference: Some(practitioner_role),
                ..Reference::default()
            }),
            source_type: vec![Coding {
                system: Some("http://terminology.hl7.org/CodeSystem/security-source-type".into()),
                version: None,
                code: Some("4".into()),
                display: Some("Application Server".into()),
            }],
        }),
        entity,
    }
}

/// One access as an AuditEvent ([`served_access_event`]) with no role profile id or
/// transaction, its viewer's PractitionerRole named `practitionerrole-1`.
pub fn access_event(
    nhs_number: &NhsNumber,
    access: &AccessRecord,
    id: &str,
    subtype_code: &str,
) -> AuditEvent {
    let served = ServedAccess {
        id,
        nhs_number,
        access,
        role_profile_id: None,
        trace_id: None,
    };
    served_access_event(&served, "practitionerrole-1", subtype_code)
}

/// The viewer's PractitionerRole, as an included entry carries it: `identifier` the SDS role
/// profile id (where known), `practitioner.display` the name, `organization` the organisation
/// (display = name, ODS identifier where known), `code[0].coding[0].display` (and `text`) the
/// role.
pub fn practitioner_role(
    access: &AccessRecord,
    id: &str,
    role_profile_id: Option<&str>,
) -> PractitionerRole {
    PractitionerRole {
        resource_type: "PractitionerRole".into(),
        id: Some(id.into()),
        meta: None,
        identifier: role_profile_id
            .map(|role_profile_id| Identifier {
                extension: Vec::new(),
                system: Some(SDS_ROLE_PROFILE_ID_SYSTEM.into()),
                value: Some(role_profile_id.into()),
            })
            .into_iter()
            .collect(),
        practitioner: Some(Reference {
            display: Some(access.viewer_name.clone()),
            ..Reference::default()
        }),
        organization: Some(Reference {
            identifier: access.organisation_ods.as_deref().map(ods_identifier),
            display: Some(access.organisation_name.clone()),
            ..Reference::default()
        }),
        code: vec![CodeableConcept {
            coding: vec![Coding {
                display: Some(access.viewer_role.clone()),
                ..Coding::default()
            }],
            text: Some(access.viewer_role.clone()),
        }],
    }
}

/// What identifies one viewer's PractitionerRole within an answer.
type RoleKey<'a> = (Option<&'a str>, &'a str, &'a str, &'a str, Option<&'a str>);

/// AuditEvent entries (`search.mode=match`) for `accesses` in order and, when `include`, one
/// PractitionerRole entry (`search.mode=include`) per distinct viewer role after them. The
/// PractitionerRole ids are `practitionerrole-{n}` in order of first appearance.
fn access_entries(
    api_base: &str,
    accesses: &[ServedAccess<'_>],
    subtype_code: &str,
    include: bool,
) -> Vec<BundleEntry> {
    let mut role_ids: HashMap<RoleKey<'_>, String> = HashMap::new();
    let mut roles: Vec<BundleEntry> = Vec::new();
    let mut entries: Vec<BundleEntry> = Vec::with_capacity(accesses.len());
    for served in accesses {
        let access = served.access;
        let key = (
            served.role_profile_id,
            access.viewer_name.as_str(),
            access.viewer_role.as_str(),
            access.organisation_name.as_str(),
            access.organisation_ods.as_deref(),
        );
        let next = role_ids.len() + 1;
        let role_id = role_ids.entry(key).or_insert_with(|| {
            let id = format!("practitionerrole-{next}");
            roles.push(search_entry(
                api_base,
                "PractitionerRole",
                &id,
                raw_resource(&practitioner_role(access, &id, served.role_profile_id)),
                "include",
            ));
            id
        });
        let event = served_access_event(served, role_id, subtype_code);
        entries.push(search_entry(
            api_base,
            "AuditEvent",
            served.id,
            raw_resource(&event),
            "match",
        ));
    }
    if include {
        entries.extend(roles);
    }
    entries
}

/// The access history for `asked`: a searchset Bundle of AuditEvent, in the order given
/// (newest first), without included PractitionerRoles. Ids are `access-{n}`. URLs are relative
/// to the API; a service uses [`access_history_answer`].
pub fn access_history_bundle(asked: &NhsNumber, records: &[AccessRecord]) -> Bundle {
    let ids: Vec<String> = (1..=records.len())
        .map(|index| format!("access-{index}"))
        .collect();
    let served: Vec<ServedAccess<'_>> = records
        .iter()
        .zip(&ids)
        .map(|(access, id)| ServedAccess {
            id,
            nhs_number: asked,
            access,
            role_profile_id: None,
            trace_id: None,
        })
        .collect();
    access_history_answer("", asked, &served, None)
}

/// The access history for `asked` as served at `base_url`: AuditEvent entries
/// (`search.mode=match`, counted by `total`) in the order given and, when `include` names the
/// `_include` asked for (one of [`ACCESS_HISTORY_INCLUDES`]), each distinct viewer's
/// PractitionerRole (`search.mode=include`, not counted). `link` self is the search with its
/// `_include`.
pub fn access_history_answer(
    base_url: &str,
    asked: &NhsNumber,
    accesses: &[ServedAccess<'_>],
    include: Option<&str>,
) -> Bundle {
    let api_base = format!("{base_url}{CPIS_API_PATH}");
    let mut self_url = patient_search_url(&api_base, "AuditEvent", asked);
    if let Some(include) = include {
        self_url.push_str("&_include=");
        self_url.push_str(&include.replace('=', "%3D"));
    }
    let entries = access_entries(&api_base, accesses, ACCESS_EVENT_SUBTYPE, include.is_some());
    searchset(self_url, entries)
}

/// Access to Service Notifications for a local authority: a searchset Bundle of AuditEvent, one
/// per `(id, NHS number, access)`, with the notification subtype. URLs are relative to the API
/// and the self link has no `since`; a service uses [`access_notification_answer`].
pub fn access_notification_bundle(notifications: &[(String, NhsNumber, AccessRecord)]) -> Bundle {
    let served: Vec<ServedAccess<'_>> = notifications
        .iter()
        .map(|(id, nhs_number, access)| ServedAccess {
            id,
            nhs_number,
            access,
            role_profile_id: None,
            trace_id: None,
        })
        .collect();
    access_notification_answer("", None, &served)
}

/// Access to Service Notifications as served at `base_url` for the search `since` (an RFC 3339
/// instant as the search gave it, written into the self link).
pub fn access_notification_answer(
    base_url: &str,
    since: Option<&str>,
    notifications: &[ServedAccess<'_>],
) -> Bundle {
    let api_base = format!("{base_url}{LA_API_PATH}");
    let self_url = match since {
        Some(since) => format!("{api_base}/AuditEvent?since={}", since.replace('+', "%2B")),
        None => format!("{api_base}/AuditEvent"),
    };
    let entries = access_entries(&api_base, notifications, ACCESS_NOTIFICATION_SUBTYPE, false);
    searchset(self_url, entries)
}

/// A PDS-shaped Patient: `meta.versionId` `1` and `meta.security` v3-Confidentiality `U`
/// (unrestricted), as PDS writes them, and the NHS number marked verified (`01`) in PDS's
/// verification status code system.
pub fn patient(demographics: &PatientDemographics) -> Patient {
    let mut identifier = nhs_identifier(&demographics.nhs_number);
    identifier.extension.push(Extension {
        url: NHS_NUMBER_VERIFICATION_STATUS_URL.into(),
        value_codeable_concept: Some(CodeableConcept {
            coding: vec![Coding {
                system: Some(PDS_NHS_NUMBER_VERIFICATION_STATUS_SYSTEM.into()),
                version: Some("1.0.0".into()),
                code: Some(NHS_NUMBER_VERIFIED_CODE.into()),
                display: Some("Number present and verified".into()),
            }],
            text: None,
        }),
        ..Extension::default()
    });
    Patient {
        resource_type: "Patient".into(),
        id: Some(demographics.nhs_number.as_str().into()),
        meta: Some(Meta {
            version_id: Some("1".into()),
            security: vec![Coding {
                system: Some(CONFIDENTIALITY_SYSTEM.into()),
                version: None,
                code: Some("U".into()),
                display: Some("unrestricted".into()),
            }],
            ..Meta::default()
        }),
        identifier: vec![identifier],
        name: vec![HumanName {
            name_use: Some("usual".into()),
            family: Some(demographics.family_name.clone()),
            given: demographics.given_names.clone(),
            prefix: Vec::new(),
            period: None,
        }],
        gender: Some(crate::gender_code(demographics.gender).into()),
        birth_date: Some(fhir_date(demographics.date_of_birth)),
        deceased_date_time: None,
        deceased_boolean: None,
    }
}

/// An OperationOutcome with one error issue carrying `code` in the CP-IS code system
/// (`England-SpineErrorOrWarningCode`). `diagnostics` must hold no patient data.
pub fn operation_outcome(code: &SpineErrorCode, diagnostics: Option<&str>) -> OperationOutcome {
    operation_outcome_in(SpineErrorSystem::England, code, diagnostics)
}

/// An OperationOutcome with one error issue carrying `code` in `system`'s code system, with
/// the issue type ([`SpineErrorCode::issue_type`]) and display ([`SpineErrorCode::display`])
/// the CP-IS error handling page and PDS give it. `diagnostics` must hold no patient data.
pub fn operation_outcome_in(
    system: SpineErrorSystem,
    code: &SpineErrorCode,
    diagnostics: Option<&str>,
) -> OperationOutcome {
    OperationOutcome {
        resource_type: "OperationOutcome".into(),
        meta: None,
        issue: vec![OperationOutcomeIssue {
            severity: "error".into(),
            code: code.issue_type().into(),
            details: Some(CodeableConcept {
                coding: vec![Coding {
                    system: Some(system.url().into()),
                    version: Some("1".into()),
                    code: Some(code.as_str().into()),
                    display: Some(code.display().into()),
                }],
                text: None,
            }),
            diagnostics: diagnostics.map(str::to_owned),
            expression: Vec::new(),
        }],
    }
}

/// A local authority upload: a `batch` Bundle of CareTeam, one `POST CareTeam` per plan.
pub fn upload_bundle(records: &[(NhsNumber, ProtectionPlan)], today: Date) -> Bundle {
    let entries = records
        .iter()
        .enumerate()
        .map(|(index, (nhs_number, plan))| {
            let id = format!("upload-{}", index + 1);
            BundleEntry {
                full_url: Some(format!("urn:cpis-upload:{id}")),
                resource: Some(raw_resource(&care_team(nhs_number, plan, &id, today))),
                search: None,
                request: Some(BundleEntryRequest {
                    method: "POST".into(),
                    url: "CareTeam".into(),
                }),
                response: None,
            }
        })
        .collect();
    Bundle {
        resource_type: "Bundle".into(),
        id: None,
        meta: None,
        bundle_type: "batch".into(),
        total: None,
        link: Vec::new(),
        entry: Some(entries),
    }
}
