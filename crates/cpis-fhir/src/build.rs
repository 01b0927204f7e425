//! Builders: domain types to FHIR resources, in the shapes documented on the crate.

use cpis_domain::{AccessRecord, NhsNumber, PatientDemographics, ProtectionPlan};
use serde::Serialize;
use serde_json::value::RawValue;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::wire::{
    AuditEvent, AuditEventAgent, AuditEventEntity, AuditEventSource, Bundle, BundleEntry,
    BundleEntryRequest, BundleEntrySearch, CareTeam, CodeableConcept, Coding, ContactPoint,
    Extension, HumanName, Identifier, Meta, OperationOutcome, OperationOutcomeIssue, Patient,
    Period, Reference,
};
use crate::{
    ACCESS_EVENT_SUBTYPE, ACCESS_NOTIFICATION_SUBTYPE, CARE_TEAM_PROFILE,
    CPIS_EVENT_SUBTYPE_SYSTEM, NHS_NUMBER_SYSTEM, NHS_NUMBER_VERIFICATION_STATUS_SYSTEM,
    NHS_NUMBER_VERIFICATION_STATUS_URL, NHS_NUMBER_VERIFIED_CODE, ODS_ORGANIZATION_SYSTEM,
    SNOMED_SYSTEM, SOCIAL_WORKER_EXTENSION_URL, SPINE_ERROR_CODE_SYSTEM, SpineErrorCode,
};

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

/// One CareTeam for one plan. `status` is `active` while the plan is open on `today`, else
/// `inactive`. `id` must not contain patient data.
pub fn care_team(subject: &NhsNumber, plan: &ProtectionPlan, id: &str, today: Date) -> CareTeam {
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
        meta: Some(Meta {
            profile: vec![CARE_TEAM_PROFILE.into()],
            ..Meta::default()
        }),
        extension,
        status: Some(
            if plan.is_active_on(today) {
                "active"
            } else {
                "inactive"
            }
            .into(),
        ),
        category: vec![CodeableConcept {
            coding: vec![Coding {
                system: Some(SNOMED_SYSTEM.into()),
                version: None,
                code: Some(plan.plan_type.snomed_code().into()),
                display: Some(plan.plan_type.display_name().into()),
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

fn searchset(entries: Vec<BundleEntry>) -> Bundle {
    Bundle {
        resource_type: "Bundle".into(),
        id: None,
        meta: None,
        bundle_type: "searchset".into(),
        total: Some(entries.len() as u64),
        link: Vec::new(),
        entry: if entries.is_empty() {
            None
        } else {
            Some(entries)
        },
    }
}

fn match_entry(resource_type: &str, id: &str, resource: Box<RawValue>) -> BundleEntry {
    BundleEntry {
        full_url: Some(format!("{resource_type}/{id}")),
        resource: Some(resource),
        search: Some(BundleEntrySearch {
            mode: Some("match".into()),
        }),
        request: None,
        response: None,
    }
}

/// The CareTeam search answer for `asked`: a searchset Bundle with one CareTeam per plan, or
/// `total: 0` and no entries when `plans` is empty. The caller has already applied the
/// visibility rules. CareTeam ids are `careteam-{n}` in order.
pub fn care_team_search_bundle(asked: &NhsNumber, plans: &[ProtectionPlan], today: Date) -> Bundle {
    let entries = plans
        .iter()
        .enumerate()
        .map(|(index, plan)| {
            let id = format!("careteam-{}", index + 1);
            let resource = raw_resource(&care_team(asked, plan, &id, today));
            match_entry("CareTeam", &id, resource)
        })
        .collect();
    searchset(entries)
}

/// One access (or notification) as an AuditEvent: action `R`, the viewer as a PractitionerRole
/// agent (display = name, role text = role), the organisation as an Organization agent (ODS
/// identifier, display = name), the patient as entity with the NHS number.
pub fn access_event(
    nhs_number: &NhsNumber,
    access: &AccessRecord,
    id: &str,
    subtype_code: &str,
) -> AuditEvent {
    AuditEvent {
        resource_type: "AuditEvent".into(),
        id: Some(id.into()),
        meta: None,
        extension: Vec::new(),
        event_type: Some(Coding {
            system: Some("http://terminology.hl7.org/CodeSystem/audit-event-type".into()),
            version: None,
            code: Some("rest".into()),
            display: Some("RESTful Operation".into()),
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
                agent_type: None,
                role: vec![CodeableConcept {
                    coding: Vec::new(),
                    text: Some(access.viewer_role.clone()),
                }],
                who: Some(Reference {
                    reference_type: Some("PractitionerRole".into()),
                    display: Some(access.viewer_name.clone()),
                    ..Reference::default()
                }),
                requestor: Some(true),
            },
            AuditEventAgent {
                agent_type: None,
                role: Vec::new(),
                who: Some(Reference {
                    reference_type: Some("Organization".into()),
                    identifier: access.organisation_ods.as_ref().map(|ods| Identifier {
                        extension: Vec::new(),
                        system: Some(ODS_ORGANIZATION_SYSTEM.into()),
                        value: Some(ods.clone()),
                    }),
                    display: Some(access.organisation_name.clone()),
                    reference: None,
                }),
                requestor: Some(false),
            },
        ],
        source: Some(AuditEventSource {
            site: Some("cpis-service".into()),
            observer: Some(Reference {
                display: Some("CP-IS reference service".into()),
                ..Reference::default()
            }),
            source_type: vec![Coding {
                system: Some("http://terminology.hl7.org/CodeSystem/security-source-type".into()),
                version: None,
                code: Some("4".into()),
                display: Some("Application Server".into()),
            }],
        }),
        entity: vec![AuditEventEntity {
            what: Some(Reference {
                identifier: Some(nhs_identifier(nhs_number)),
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
        }],
    }
}

/// The access history for `asked`: a searchset Bundle of AuditEvent, in the order given
/// (newest first). Ids are `access-{n}`.
pub fn access_history_bundle(asked: &NhsNumber, records: &[AccessRecord]) -> Bundle {
    let entries = records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let id = format!("access-{}", index + 1);
            let resource = raw_resource(&access_event(asked, record, &id, ACCESS_EVENT_SUBTYPE));
            match_entry("AuditEvent", &id, resource)
        })
        .collect();
    searchset(entries)
}

/// Access to Service Notifications for a local authority: a searchset Bundle of AuditEvent, one
/// per `(id, NHS number, access)`, with the notification subtype.
pub fn access_notification_bundle(notifications: &[(String, NhsNumber, AccessRecord)]) -> Bundle {
    let entries = notifications
        .iter()
        .map(|(id, nhs_number, access)| {
            let resource = raw_resource(&access_event(
                nhs_number,
                access,
                id,
                ACCESS_NOTIFICATION_SUBTYPE,
            ));
            match_entry("AuditEvent", id, resource)
        })
        .collect();
    searchset(entries)
}

/// A PDS-shaped Patient, with the NHS number marked verified (`01`).
pub fn patient(demographics: &PatientDemographics) -> Patient {
    let mut identifier = nhs_identifier(&demographics.nhs_number);
    identifier.extension.push(Extension {
        url: NHS_NUMBER_VERIFICATION_STATUS_URL.into(),
        value_codeable_concept: Some(CodeableConcept {
            coding: vec![Coding {
                system: Some(NHS_NUMBER_VERIFICATION_STATUS_SYSTEM.into()),
                version: None,
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
        meta: None,
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

/// An OperationOutcome with one error issue carrying `code`. `diagnostics` must hold no
/// patient data.
pub fn operation_outcome(code: &SpineErrorCode, diagnostics: Option<&str>) -> OperationOutcome {
    OperationOutcome {
        resource_type: "OperationOutcome".into(),
        meta: None,
        issue: vec![OperationOutcomeIssue {
            severity: "error".into(),
            code: code.issue_type().into(),
            details: Some(CodeableConcept {
                coding: vec![Coding {
                    system: Some(SPINE_ERROR_CODE_SYSTEM.into()),
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
