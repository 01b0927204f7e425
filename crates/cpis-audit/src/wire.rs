//! The wire format of the central audit log: FHIR R4 `AuditEvent` resources in the shape of
//! the national Patient Audit Record Service (IHE Basic Audit "PatientRead": action `R`,
//! agents for the organisation, the user with their role, and the device; the patient's NHS
//! number; the TraceID as the transaction id), batched in a FHIR `batch` Bundle.
//!
//! The chain fields (device, sequence, previous and own hash) travel in one entity whose
//! `detail` carries them, so the central log can re-check every device's chain. The plans a
//! view found, when recorded, travel as one entity each (type [`system::PLAN`]: `what` names
//! the local authority, by ODS code when given; `detail` `planType` the SNOMED CT code when
//! known), and the chain entity's `plans` detail says how many; a record without plans
//! recorded has neither, byte for byte as before. Shared by the
//! client (to send) and the central log (to receive). The FHIR shapes are the typed
//! [`cpis_fhir::wire`] structs and [`cpis_fhir::audit_event`]; this module maps a
//! [`QueuedRecord`] onto them and back.

use cpis_domain::{Actor, PlanType, RoleRef};
use cpis_fhir::audit_event::{
    self as pars, CHAIN_CODE, DEVICE, ORGANIZATION, PLAN_CODE, PRACTITIONER, RawBundleError,
    RawResourceEntry, RawResponseEntry, agent, coding, coding_with_display, detail, identified,
    is_object, read_raw_bundle,
};
use cpis_fhir::wire::{AuditEvent, AuditEventEntity, AuditEventSource, CodeableConcept};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::plan::RecordedPlan;
use crate::record::{AuditAction, QueuedRecord};

pub use cpis_fhir::audit_event::{PRODUCT, system};

/// Why an AuditEvent could not be read. Says which field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The body is not JSON.
    #[error("not JSON")]
    NotJson,
    /// A required field is missing or of the wrong type.
    #[error("missing or invalid field: {0}")]
    Field(&'static str),
}

fn time_text(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_default()
}

/// The typed AuditEvent for one queued record.
pub fn audit_event(record: &QueuedRecord) -> AuditEvent {
    let (subtype, action) = match record.action {
        AuditAction::View => ("search-type", "R"),
        AuditAction::LocalAuthorityContacted => ("create", "C"),
    };
    let definitive = matches!(record.outcome.as_str(), "plan_found" | "no_plan");
    let device_id = record.device_id.to_string();
    let device = || identified(system::DEVICE, &device_id);
    let Actor {
        user_id,
        user_name,
        role,
    } = &record.actor;
    let mut chain_details = vec![
        detail("sequence", &record.sequence.to_string()),
        detail("previousHash", &record.previous_hash),
        detail("recordHash", &record.record_hash),
        detail("action", record.action.code()),
        detail(
            "unscheduled",
            if record.unscheduled { "true" } else { "false" },
        ),
        detail("detail", &record.detail),
    ];
    if let Some(plans) = &record.plans {
        chain_details.push(detail("plans", &plans.len().to_string()));
    }
    let plan_entities = record.plans.iter().flatten().map(plan_entity);
    AuditEvent {
        resource_type: "AuditEvent".into(),
        id: Some(record.event_id.to_string()),
        event_type: Some(coding(system::AUDIT_EVENT_TYPE, "rest")),
        subtype: vec![coding(system::RESTFUL_INTERACTION, subtype)],
        action: Some(action.into()),
        recorded: Some(time_text(record.occurred_at)),
        // 0 success; 4 minor failure (the check did not complete).
        outcome: Some(if definitive { "0" } else { "4" }.into()),
        outcome_desc: Some(record.outcome.clone()),
        agent: vec![
            agent(
                ORGANIZATION,
                identified(system::ODS, &role.organisation_ods),
                &role.organisation_name,
                Vec::new(),
                true,
            ),
            agent(
                PRACTITIONER,
                identified(system::USER, user_id),
                user_name,
                vec![CodeableConcept {
                    coding: vec![
                        coding(system::ROLE_PROFILE, &role.role_profile_id),
                        coding_with_display(system::ROLE_CODE, &role.role_code, &role.role_name),
                    ],
                    ..CodeableConcept::default()
                }],
                true,
            ),
            agent(DEVICE, device(), PRODUCT, Vec::new(), false),
        ],
        source: Some(AuditEventSource {
            site: Some(pars::SITE.into()),
            observer: Some(cpis_fhir::wire::Reference {
                display: Some(PRODUCT.into()),
                ..device()
            }),
            source_type: vec![coding_with_display(
                system::SECURITY_SOURCE_TYPE,
                "1",
                "User Device",
            )],
        }),
        entity: vec![
            AuditEventEntity {
                what: Some(identified(system::NHS_NUMBER, &record.patient_nhs_number)),
                entity_type: Some(coding_with_display(
                    system::AUDIT_ENTITY_TYPE,
                    "1",
                    "Person",
                )),
                role: Some(coding_with_display(system::OBJECT_ROLE, "1", "Patient")),
                ..AuditEventEntity::default()
            },
            AuditEventEntity {
                what: Some(identified(
                    system::TRANSACTION,
                    &record.trace_id.to_string(),
                )),
                entity_type: Some(coding(system::BASIC_AUDIT_ENTITY_TYPE, "XrequestId")),
                ..AuditEventEntity::default()
            },
            AuditEventEntity {
                what: Some(device()),
                entity_type: Some(coding(system::CHAIN, CHAIN_CODE)),
                detail: chain_details,
                ..AuditEventEntity::default()
            },
        ]
        .into_iter()
        .chain(plan_entities)
        .collect(),
        ..AuditEvent::default()
    }
}

/// The entity of one plan a view found: the local authority in `what` (identified by its ODS
/// code when given), the plan type's SNOMED CT code in the `planType` detail when known.
fn plan_entity(plan: &RecordedPlan) -> AuditEventEntity {
    let authority = match &plan.local_authority_ods {
        Some(ods) => identified(system::ODS, ods),
        None => cpis_fhir::wire::Reference::default(),
    };
    AuditEventEntity {
        what: Some(cpis_fhir::wire::Reference {
            display: Some(plan.local_authority.clone()),
            ..authority
        }),
        entity_type: Some(coding(system::PLAN, PLAN_CODE)),
        detail: plan
            .plan_type
            .map(|plan_type| vec![detail("planType", plan_type.snomed_code())])
            .unwrap_or_default(),
        ..AuditEventEntity::default()
    }
}

/// The plans recorded in `event`: `None` when its chain entity has no `plans` detail (and it
/// then holds no plan entity); else exactly that many plan entities, each readable.
fn plans_from(
    event: &AuditEvent,
    chain: &AuditEventEntity,
) -> Result<Option<Vec<RecordedPlan>>, WireError> {
    let entities: Vec<&AuditEventEntity> =
        event.entities_of_type(system::PLAN, PLAN_CODE).collect();
    let Some(count) = chain.detail_value("plans") else {
        return if entities.is_empty() {
            Ok(None)
        } else {
            Err(WireError::Field("plans"))
        };
    };
    let count: usize = count
        .parse()
        .ok()
        .filter(|parsed: &usize| parsed.to_string() == count)
        .ok_or(WireError::Field("plans"))?;
    if entities.len() != count {
        return Err(WireError::Field("plans"));
    }
    entities
        .into_iter()
        .map(|entity| {
            let what = entity.what.as_ref().ok_or(WireError::Field("plan"))?;
            let local_authority = what
                .display
                .as_deref()
                .filter(|name| !name.is_empty())
                .ok_or(WireError::Field("plan"))?;
            let ods = match &what.identifier {
                None => None,
                Some(_) if what.identifier_system() == Some(system::ODS) => Some(
                    what.identifier_value()
                        .filter(|ods| !ods.is_empty())
                        .ok_or(WireError::Field("plan"))?,
                ),
                Some(_) => return Err(WireError::Field("plan")),
            };
            let plan_type = match entity.detail_value("planType") {
                None => None,
                Some(code) => {
                    Some(PlanType::from_snomed_code(code).ok_or(WireError::Field("planType"))?)
                }
            };
            Ok(RecordedPlan::new(plan_type, local_authority, ods))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The AuditEvent for one queued record as JSON, in the form it is sent and stored (every
/// object's keys sorted, as it has always been).
pub fn to_audit_event(record: &QueuedRecord) -> Value {
    pars::to_sorted_value(&audit_event(record))
}

/// A `batch` Bundle of AuditEvents, one POST entry each, keyed by event id.
pub fn to_batch_bundle(records: &[QueuedRecord]) -> Value {
    pars::to_sorted_value(&pars::batch_bundle(records.iter().map(|record| {
        (
            format!("urn:uuid:{}", record.event_id),
            pars::raw_resource(&audit_event(record)),
        )
    })))
}

/// Read an AuditEvent back into a record (the central log's side). Checks shape and types,
/// not the chain: the caller recomputes the hash.
pub fn from_audit_event(event: &Value) -> Result<QueuedRecord, WireError> {
    if !event.is_object() {
        return Err(WireError::Field("resourceType"));
    }
    let event = AuditEvent::deserialize(event).map_err(|_| WireError::Field("AuditEvent"))?;
    record_from(&event)
}

/// [`from_audit_event`] for raw JSON text (a stored event, a batch entry's resource).
pub fn from_audit_event_json(event: &RawValue) -> Result<QueuedRecord, WireError> {
    if !is_object(event) {
        return Err(WireError::Field("resourceType"));
    }
    let event = serde_json::from_str::<AuditEvent>(event.get())
        .map_err(|_| WireError::Field("AuditEvent"))?;
    record_from(&event)
}

/// Read a typed AuditEvent into a record.
pub fn record_from(event: &AuditEvent) -> Result<QueuedRecord, WireError> {
    if event.resource_type != "AuditEvent" {
        return Err(WireError::Field("resourceType"));
    }
    let text = |value: Option<&str>, name: &'static str| -> Result<String, WireError> {
        value.map(str::to_string).ok_or(WireError::Field(name))
    };
    let event_id = Uuid::parse_str(event.id.as_deref().ok_or(WireError::Field("id"))?)
        .map_err(|_| WireError::Field("id"))?;
    let occurred_at = OffsetDateTime::parse(
        event
            .recorded
            .as_deref()
            .ok_or(WireError::Field("recorded"))?,
        &Rfc3339,
    )
    .map_err(|_| WireError::Field("recorded"))?;
    let organisation = event
        .agent_of_type(ORGANIZATION)
        .and_then(|agent| agent.who.as_ref())
        .ok_or(WireError::Field("agent"))?;
    let practitioner = event
        .agent_of_type(PRACTITIONER)
        .ok_or(WireError::Field("agent"))?;
    let practitioner_who = practitioner.who.as_ref().ok_or(WireError::Field("agent"))?;
    let chain = event
        .entity_identified_in(system::DEVICE, Some(CHAIN_CODE))
        .ok_or(WireError::Field("entity"))?;
    let what = |entity: &AuditEventEntity, name: &'static str| {
        text(
            entity
                .what
                .as_ref()
                .and_then(cpis_fhir::wire::Reference::identifier_value),
            name,
        )
    };
    let chain_detail = |name: &'static str| text(chain.detail_value(name), name);
    let device_id =
        Uuid::parse_str(&what(chain, "device")?).map_err(|_| WireError::Field("device"))?;
    let sequence: u64 = chain_detail("sequence")?
        .parse()
        .map_err(|_| WireError::Field("sequence"))?;
    if sequence == 0 {
        return Err(WireError::Field("sequence"));
    }
    let action = match chain_detail("action")?.as_str() {
        "view" => AuditAction::View,
        "la_contacted" => AuditAction::LocalAuthorityContacted,
        _ => return Err(WireError::Field("action")),
    };
    let unscheduled = match chain_detail("unscheduled")?.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(WireError::Field("unscheduled")),
    };
    let hash = |name: &'static str| -> Result<String, WireError> {
        let value = chain_detail(name)?;
        if value.len() == 64 && value.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            Ok(value.to_ascii_lowercase())
        } else {
            Err(WireError::Field(name))
        }
    };
    let patient = event
        .entity_identified_in(system::NHS_NUMBER, None)
        .ok_or(WireError::Field("entity"))?;
    let patient_nhs_number = what(patient, "patient")?;
    if cpis_domain::NhsNumber::parse(&patient_nhs_number)
        .map(|nhs| nhs.as_str() != patient_nhs_number)
        .unwrap_or(true)
    {
        return Err(WireError::Field("patient"));
    }
    let transaction = event
        .entity_identified_in(system::TRANSACTION, None)
        .ok_or(WireError::Field("entity"))?;
    let trace_id = Uuid::parse_str(&what(transaction, "transaction")?)
        .map_err(|_| WireError::Field("transaction"))?;
    let role_profile = practitioner
        .role_coding(system::ROLE_PROFILE)
        .ok_or(WireError::Field("role"))?;
    let role = practitioner
        .role_coding(system::ROLE_CODE)
        .ok_or(WireError::Field("role"))?;
    Ok(QueuedRecord {
        event_id,
        device_id,
        sequence,
        occurred_at,
        action,
        actor: Actor {
            user_id: text(practitioner_who.identifier_value(), "user")?,
            user_name: text(practitioner_who.display.as_deref(), "user name")?,
            role: RoleRef {
                role_profile_id: text(role_profile.code.as_deref(), "role profile")?,
                role_code: text(role.code.as_deref(), "role code")?,
                role_name: text(role.display.as_deref(), "role name")?,
                organisation_ods: text(organisation.identifier_value(), "organisation")?,
                organisation_name: text(organisation.display.as_deref(), "organisation name")?,
            },
        },
        patient_nhs_number,
        outcome: text(event.outcome_desc.as_deref(), "outcomeDesc")?,
        trace_id,
        unscheduled,
        detail: chain_detail("detail")?,
        plans: plans_from(event, chain)?,
        previous_hash: hash("previousHash")?,
        record_hash: hash("recordHash")?,
    })
}

/// One entry's fate in a batch response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    /// Committed now (`201`) or already held from an earlier send (`200`).
    Committed,
    /// Rejected as invalid (`4xx`): quarantine it, never resend.
    Rejected {
        /// The status line, e.g. `422 Unprocessable Entity`.
        status: String,
    },
    /// Not taken now, but not refused either (`408`, `425`, `429`): leave it waiting and
    /// resend it on a later pass. Quarantining it would lose it from the central log.
    Later {
        /// The status line, e.g. `429 Too Many Requests`.
        status: String,
    },
}

/// The raw entries of a Bundle of `bundle_type`; `None` when it has no `entry`.
fn raw_entries(body: &[u8], bundle_type: &str) -> Result<Option<Vec<Box<RawValue>>>, WireError> {
    let bundle = read_raw_bundle(body).map_err(|error| match error {
        RawBundleError::NotJson => WireError::NotJson,
        RawBundleError::NotAnObject
        | RawBundleError::EntryNotAnArray
        | RawBundleError::BadTotal
        | RawBundleError::BadLink => WireError::Field("type"),
    })?;
    if !bundle.is(bundle_type) {
        return Err(WireError::Field("type"));
    }
    bundle.entries().map_err(|_| WireError::Field("entry"))
}

/// Read a `batch-response` Bundle: one result per entry, in the order sent. Anything that does
/// not match (wrong type, wrong count, an unknown status) is an error, and the caller treats
/// the whole batch as not confirmed.
pub fn parse_batch_response(body: &[u8], sent: usize) -> Result<Vec<EntryResult>, WireError> {
    let entries = raw_entries(body, "batch-response")?.ok_or(WireError::Field("entry"))?;
    if entries.len() != sent {
        return Err(WireError::Field("entry"));
    }
    entries
        .iter()
        .map(|entry| {
            let status = is_object(entry)
                .then(|| serde_json::from_str::<RawResponseEntry>(entry.get()).ok())
                .flatten()
                .and_then(|entry| entry.response)
                .and_then(|response| response.status)
                .ok_or(WireError::Field("status"))?;
            match status.split_whitespace().next() {
                Some("200" | "201") => Ok(EntryResult::Committed),
                Some("408" | "425" | "429") => Ok(EntryResult::Later { status }),
                Some(code) if code.len() == 3 && code.starts_with('4') => {
                    Ok(EntryResult::Rejected { status })
                }
                _ => Err(WireError::Field("status")),
            }
        })
        .collect()
}

/// Build a `batch-response` Bundle (the central log's side), one status line per entry.
pub fn to_batch_response(statuses: &[String]) -> Value {
    pars::to_sorted_value(&pars::batch_response_bundle(statuses))
}

/// The entries of a `batch` Bundle of AuditEvents, each read or rejected on its own.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Result<QueuedRecord, WireError>>, WireError> {
    let entries = raw_entries(body, "batch")?.unwrap_or_default();
    Ok(entries
        .iter()
        .map(|entry| {
            is_object(entry)
                .then(|| serde_json::from_str::<RawResourceEntry>(entry.get()).ok())
                .flatten()
                .and_then(|entry| entry.resource)
                .ok_or(WireError::Field("resource"))
                .and_then(|resource| from_audit_event_json(&resource))
        })
        .collect())
}

/// One page of the central log's search (the named nurse's review), read strictly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// The audit records of this page's matches, in the order served.
    pub records: Vec<QueuedRecord>,
    /// `Bundle.total`: how many events match the whole search (every page), when given.
    pub total: Option<u64>,
    /// The `next` link's URL, when there are more pages.
    pub next: Option<String>,
}

/// Why a page of the central log's search could not be read. Says where, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchPageError {
    /// The body is not JSON.
    #[error("not JSON")]
    NotJson,
    /// Not a `searchset` Bundle, or its `entry`, `total` or `link` has the wrong shape.
    #[error("not a searchset Bundle: {0}")]
    NotASearchset(&'static str),
    /// An entry that should be a match could not be read as an audit record.
    #[error("entry {index} could not be read: {error}")]
    UnreadableEntry {
        /// Its position in the page, from 0.
        index: usize,
        /// Which field.
        error: WireError,
    },
}

/// Read one page of the central log's search: a `searchset` Bundle of AuditEvents. Strict,
/// because a list that silently leaves events out looks complete to the named nurse: every
/// entry must read as an audit record, except an `include` or `outcome` entry (which `total`
/// does not count); `total` and `link`, when present, must have their FHIR shapes. A page
/// with no `entry` has no records (the caller compares the records with `total`).
pub fn read_search_page(body: &[u8]) -> Result<SearchPage, SearchPageError> {
    let bundle = read_raw_bundle(body).map_err(|error| match error {
        RawBundleError::NotJson => SearchPageError::NotJson,
        _ => SearchPageError::NotASearchset("resourceType"),
    })?;
    if !bundle.is("searchset") {
        return Err(SearchPageError::NotASearchset("type"));
    }
    let total = bundle
        .total()
        .map_err(|_| SearchPageError::NotASearchset("total"))?;
    let next = bundle
        .link("next")
        .map_err(|_| SearchPageError::NotASearchset("link"))?;
    let entries = bundle
        .entries()
        .map_err(|_| SearchPageError::NotASearchset("entry"))?
        .unwrap_or_default();
    let mut records = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let unreadable = |error| SearchPageError::UnreadableEntry { index, error };
        let entry = is_object(entry)
            .then(|| serde_json::from_str::<pars::RawSearchEntry>(entry.get()).ok())
            .flatten()
            .ok_or(unreadable(WireError::Field("entry")))?;
        if entry.is_not_a_match() {
            continue;
        }
        let resource = entry
            .resource
            .ok_or(unreadable(WireError::Field("resource")))?;
        records.push(from_audit_event_json(&resource).map_err(unreadable)?);
    }
    Ok(SearchPage {
        records,
        total,
        next,
    })
}
