//! The wire format of the central audit log: FHIR R4 `AuditEvent` resources valid against the
//! national Patient Audit Record Service profile `England-AuditEvent-PARS` (issue 17), sent one
//! per `POST /AuditEvent` or, where the log advertises it, batched in a FHIR `batch` Bundle.
//!
//! The profile slices agents (by `who.type`) and entities (by `type.system` + `type.code`)
//! closed, so a client record is: agents organisation, user (`Practitioner`), userRole
//! (`PractitionerRole`, role profile id and role) and device (`Endpoint`, the app's product
//! id); entities patient, transaction (the TraceID) and endpoint (the interface used); the
//! observer the app's product id. The chain fields (device id, sequence, previous and own
//! hash) and our own fields (action, unscheduled, detail, how many plans) travel in one
//! extension ([`pars::CHAIN_EXTENSION`]), which the profile allows, so the central log can
//! re-check every device's chain; each plan a view found, when recorded, is one more extension
//! ([`pars::PLAN_EXTENSION`]: the local authority, by ODS code when given; the plan type's
//! SNOMED CT code when known). Shared by the client (to send) and the central log (to
//! receive); the reader is strict: an event outside the profile's slices, or lacking a piece
//! the record needs, is refused, naming the field and never its value.

use cpis_domain::{Actor, PlanType, RoleRef};
use cpis_fhir::audit_event::{
    self as pars, CHAIN_EXTENSION, ENDPOINT, Endpoint, EntitySlice, ORGANIZATION, PLAN_EXTENSION,
    PRACTITIONER, PRACTITIONER_ROLE, PRODUCT_ID, RawBundleError, RawResourceEntry,
    RawResponseEntry, SourceType, check_pars, coding, endpoint_entity, is_object, non_empty,
    organisation_agent, pars_meta, patient_entity, product_agent, read_raw_bundle, text_or_empty,
    transaction_entity, user_agent, user_role_agent,
};
use cpis_fhir::wire::{AuditEvent, Coding, Extension, Identifier, Reference};
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

/// The endpoint entity of a record's action: the CP-IS search of a view, the app's own
/// follow-up for a local authority contacted.
pub fn endpoint_of(action: AuditAction) -> Endpoint {
    match action {
        AuditAction::View => Endpoint {
            product_id: "cp-is",
            name: "Child Protection - Information Sharing",
            product: "CP-IS",
            interaction: "CP-IS - Get CareTeam",
        },
        AuditAction::LocalAuthorityContacted => Endpoint {
            product_id: PRODUCT_ID,
            name: PRODUCT,
            product: PRODUCT,
            interaction: "CP-IS Viewer - Local authority contacted",
        },
    }
}

fn subtype_and_action(action: AuditAction) -> (&'static str, &'static str) {
    match action {
        AuditAction::View => ("search-type", "R"),
        AuditAction::LocalAuthorityContacted => ("create", "C"),
    }
}

/// `outcome`: `0` success for a definitive answer, `4` minor failure (the check did not
/// complete) otherwise.
fn outcome_code(outcome: &str) -> &'static str {
    if matches!(outcome, "plan_found" | "no_plan") {
        "0"
    } else {
        "4"
    }
}

fn sub(url: &str) -> Extension {
    Extension {
        url: url.to_owned(),
        ..Extension::default()
    }
}

fn string_sub(url: &str, value: &str) -> Extension {
    Extension {
        value_string: Some(value.to_owned()),
        ..sub(url)
    }
}

/// The chain extension: device, sequence, hashes and our own fields.
fn chain_extension(record: &QueuedRecord) -> Extension {
    let mut fields = vec![
        Extension {
            value_identifier: Some(Identifier {
                system: Some(system::DEVICE.to_owned()),
                value: Some(record.device_id.to_string()),
                ..Identifier::default()
            }),
            ..sub("device")
        },
        string_sub("sequence", &record.sequence.to_string()),
        string_sub("previousHash", &record.previous_hash),
        string_sub("recordHash", &record.record_hash),
        Extension {
            value_code: Some(record.action.code().to_owned()),
            ..sub("action")
        },
        Extension {
            value_boolean: Some(record.unscheduled),
            ..sub("unscheduled")
        },
    ];
    if !record.detail.is_empty() {
        fields.push(string_sub("detail", &record.detail));
    }
    if let Some(plans) = &record.plans {
        fields.push(Extension {
            value_unsigned_int: Some(u32::try_from(plans.len()).unwrap_or(u32::MAX)),
            ..sub("plans")
        });
    }
    Extension {
        extension: fields,
        ..sub(CHAIN_EXTENSION)
    }
}

/// The extension of one plan a view found.
fn plan_extension(plan: &RecordedPlan) -> Extension {
    let mut fields = vec![Extension {
        value_reference: Some(Reference {
            identifier: plan
                .local_authority_ods
                .as_deref()
                .and_then(|ods| pars::identifier(system::ODS, ods)),
            display: non_empty(&plan.local_authority),
            ..Reference::default()
        }),
        ..sub("localAuthority")
    }];
    if let Some(plan_type) = plan.plan_type {
        fields.push(Extension {
            value_coding: Some(Coding {
                system: Some(system::SNOMED.to_owned()),
                code: Some(plan_type.snomed_code().to_owned()),
                display: Some(plan_type.display_name().to_owned()),
                ..Coding::default()
            }),
            ..sub("planType")
        });
    }
    Extension {
        extension: fields,
        ..sub(PLAN_EXTENSION)
    }
}

/// The typed AuditEvent for one queued record, valid against `England-AuditEvent-PARS`.
pub fn audit_event(record: &QueuedRecord) -> AuditEvent {
    let (subtype, action) = subtype_and_action(record.action);
    AuditEvent {
        resource_type: "AuditEvent".into(),
        id: Some(record.event_id.to_string()),
        meta: Some(pars_meta()),
        extension: std::iter::once(chain_extension(record))
            .chain(record.plans.iter().flatten().map(plan_extension))
            .collect(),
        event_type: Some(coding(system::AUDIT_EVENT_TYPE, "rest")),
        subtype: vec![coding(system::RESTFUL_INTERACTION, subtype)],
        action: Some(action.into()),
        recorded: Some(pars::instant_text(record.occurred_at)),
        outcome: Some(outcome_code(&record.outcome).into()),
        outcome_desc: non_empty(&record.outcome),
        agent: vec![
            organisation_agent(&record.actor.role),
            user_agent(&record.actor),
            user_role_agent(&record.actor.role),
            product_agent(PRODUCT_ID, PRODUCT),
        ],
        source: Some(pars::source(
            pars::SITE,
            PRODUCT_ID,
            PRODUCT,
            SourceType::UserDevice,
        )),
        entity: vec![
            patient_entity(&record.patient_nhs_number),
            transaction_entity(&record.trace_id.to_string()),
            endpoint_entity(&endpoint_of(record.action)),
        ],
    }
}

/// The AuditEvent for one queued record as JSON, in the form the central log stores it
/// (every object's keys sorted, as it has always been).
pub fn to_audit_event(record: &QueuedRecord) -> Value {
    pars::to_sorted_value(&audit_event(record))
}

/// The AuditEvent for one queued record as JSON bytes, serialised straight from the typed
/// struct (no `Value` in between): the body of one `POST /AuditEvent`.
pub fn audit_event_json(record: &QueuedRecord) -> Vec<u8> {
    // Serialising these plain structs (string keys, derived `Serialize`) cannot fail.
    serde_json::to_vec(&audit_event(record)).unwrap_or_default()
}

/// A `batch` Bundle of AuditEvents, one POST entry each, keyed by event id.
pub fn to_batch_bundle(records: &[QueuedRecord]) -> Value {
    pars::to_sorted_value(&batch(records))
}

fn batch(records: &[QueuedRecord]) -> cpis_fhir::wire::Bundle {
    pars::batch_bundle(records.iter().map(|record| {
        (
            format!("urn:uuid:{}", record.event_id),
            pars::raw_resource(&audit_event(record)),
        )
    }))
}

/// [`to_batch_bundle`] as JSON bytes, serialised straight from the typed structs: the body
/// the sync client posts when the log advertises batches.
pub fn batch_bundle_json(records: &[QueuedRecord]) -> Vec<u8> {
    pars::typed_batch_json(
        records
            .iter()
            .map(|record| (format!("urn:uuid:{}", record.event_id), audit_event(record))),
    )
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

/// Read the body of one `POST /AuditEvent` (one AuditEvent, not a Bundle) into a record.
pub fn parse_single(body: &[u8]) -> Result<QueuedRecord, WireError> {
    let starts_an_object = body
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| *byte == b'{');
    if !starts_an_object {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Err(WireError::Field("resourceType")),
            Err(_) => Err(WireError::NotJson),
        };
    }
    let event = serde_json::from_slice::<AuditEvent>(body).map_err(|error| {
        if error.is_syntax() || error.is_eof() {
            WireError::NotJson
        } else {
            WireError::Field("AuditEvent")
        }
    })?;
    record_from(&event)
}

/// The sub-extensions of one of our complex extensions, by name: each known name at most once,
/// no other name, no value on the outer extension.
fn fields<'a>(
    extension: &'a Extension,
    known: &[&'static str],
    what: &'static str,
) -> Result<Vec<Option<&'a Extension>>, WireError> {
    let mut found = vec![None; known.len()];
    let bare = Extension {
        extension: extension.extension.clone(),
        ..sub(&extension.url)
    };
    if extension != &bare {
        return Err(WireError::Field(what));
    }
    for field in &extension.extension {
        let index = known
            .iter()
            .position(|name| *name == field.url)
            .ok_or(WireError::Field(what))?;
        if found[index].replace(field).is_some() || !field.extension.is_empty() {
            return Err(WireError::Field(what));
        }
    }
    Ok(found)
}

/// The one value of a sub-extension: every other value absent.
fn only_value<'a, T>(
    field: Option<&'a Extension>,
    value: impl Fn(&'a Extension) -> Option<&'a T>,
    name: &'static str,
) -> Result<&'a T, WireError>
where
    T: ?Sized,
{
    let field = field.ok_or(WireError::Field(name))?;
    let set = [
        field.value_string.is_some(),
        field.value_integer.is_some(),
        field.value_codeable_concept.is_some(),
        field.value_contact_point.is_some(),
        field.value_code.is_some(),
        field.value_boolean.is_some(),
        field.value_unsigned_int.is_some(),
        field.value_identifier.is_some(),
        field.value_reference.is_some(),
        field.value_coding.is_some(),
    ]
    .into_iter()
    .filter(|set| *set)
    .count();
    if set != 1 {
        return Err(WireError::Field(name));
    }
    value(field).ok_or(WireError::Field(name))
}

/// The plans recorded in `event`: `None` when its chain has no `plans` (and it then holds no
/// plan extension); else exactly that many plan extensions, each readable.
fn plans_from(
    event: &AuditEvent,
    count: Option<u32>,
) -> Result<Option<Vec<RecordedPlan>>, WireError> {
    let extensions: Vec<&Extension> = event
        .extension
        .iter()
        .filter(|extension| extension.url == PLAN_EXTENSION)
        .collect();
    let Some(count) = count else {
        return if extensions.is_empty() {
            Ok(None)
        } else {
            Err(WireError::Field("plans"))
        };
    };
    if usize::try_from(count).ok() != Some(extensions.len()) {
        return Err(WireError::Field("plans"));
    }
    extensions
        .into_iter()
        .map(|extension| {
            let [authority, plan_type] =
                fields(extension, &["localAuthority", "planType"], "plan")?[..]
            else {
                return Err(WireError::Field("plan"));
            };
            let authority = only_value(authority, |field| field.value_reference.as_ref(), "plan")?;
            if authority.reference.is_some() || authority.reference_type.is_some() {
                return Err(WireError::Field("plan"));
            }
            let local_authority = authority
                .display
                .as_deref()
                .filter(|name| !name.is_empty())
                .ok_or(WireError::Field("plan"))?;
            let ods = match &authority.identifier {
                None => None,
                Some(_) if authority.identifier_system() == Some(system::ODS) => Some(
                    authority
                        .identifier_value()
                        .filter(|ods| !ods.is_empty())
                        .ok_or(WireError::Field("plan"))?,
                ),
                Some(_) => return Err(WireError::Field("plan")),
            };
            let plan_type = match plan_type {
                None => None,
                Some(_) => {
                    let coding =
                        only_value(plan_type, |field| field.value_coding.as_ref(), "planType")?;
                    if coding.system.as_deref() != Some(system::SNOMED) {
                        return Err(WireError::Field("planType"));
                    }
                    Some(
                        coding
                            .code
                            .as_deref()
                            .and_then(PlanType::from_snomed_code)
                            .ok_or(WireError::Field("planType"))?,
                    )
                }
            };
            Ok(RecordedPlan::new(plan_type, local_authority, ods))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The one agent of `who_type` (the slice check has refused a second), or an error naming it.
fn agent_who<'a>(
    event: &'a AuditEvent,
    who_type: &str,
    name: &'static str,
) -> Result<&'a cpis_fhir::wire::AuditEventAgent, WireError> {
    event.agent_of_type(who_type).ok_or(WireError::Field(name))
}

/// The value of an identifier in `system`; absent reads as empty text (see
/// [`pars::text_or_empty`]); another system, or a present empty value, is refused.
fn identifier_text(
    identifier: Option<&Identifier>,
    system: &str,
    name: &'static str,
) -> Result<String, WireError> {
    match identifier {
        None => Ok(String::new()),
        Some(identifier) if identifier.system.as_deref() == Some(system) => {
            text_or_empty(identifier.value.as_deref())
                .filter(|value| !value.is_empty())
                .ok_or(WireError::Field(name))
        }
        Some(_) => Err(WireError::Field(name)),
    }
}

fn optional_text(text: Option<&str>, name: &'static str) -> Result<String, WireError> {
    text_or_empty(text).ok_or(WireError::Field(name))
}

/// Read a typed AuditEvent into a record. Strict: the event must be within the PARS profile's
/// slices ([`check_pars`]), claim the profile, and carry every piece a record needs, in the
/// shape [`audit_event`] writes (the device agent, the observer and the endpoint of the
/// record's action included).
pub fn record_from(event: &AuditEvent) -> Result<QueuedRecord, WireError> {
    if event.resource_type != "AuditEvent" {
        return Err(WireError::Field("resourceType"));
    }
    check_pars(event).map_err(WireError::Field)?;
    if event.meta.as_ref() != Some(&pars_meta()) {
        return Err(WireError::Field("meta.profile"));
    }
    if event.event_type.as_ref() != Some(&coding(system::AUDIT_EVENT_TYPE, "rest")) {
        return Err(WireError::Field("type"));
    }
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

    // The chain and our own fields.
    let mut chains = event
        .extension
        .iter()
        .filter(|extension| extension.url == CHAIN_EXTENSION);
    let chain = chains.next().ok_or(WireError::Field("extension:chain"))?;
    if chains.next().is_some() {
        return Err(WireError::Field("extension:chain"));
    }
    let [
        device,
        sequence,
        previous_hash,
        record_hash,
        action,
        unscheduled,
        detail,
        plans,
    ] = fields(
        chain,
        &[
            "device",
            "sequence",
            "previousHash",
            "recordHash",
            "action",
            "unscheduled",
            "detail",
            "plans",
        ],
        "extension:chain",
    )?[..]
    else {
        return Err(WireError::Field("extension:chain"));
    };
    let device = only_value(device, |field| field.value_identifier.as_ref(), "device")?;
    if device.system.as_deref() != Some(system::DEVICE) {
        return Err(WireError::Field("device"));
    }
    let device_id = Uuid::parse_str(device.value.as_deref().ok_or(WireError::Field("device"))?)
        .map_err(|_| WireError::Field("device"))?;
    let sequence_text = only_value(sequence, |field| field.value_string.as_deref(), "sequence")?;
    let sequence: u64 = sequence_text
        .parse()
        .ok()
        .filter(|parsed: &u64| *parsed > 0 && parsed.to_string() == sequence_text)
        .ok_or(WireError::Field("sequence"))?;
    let action = match only_value(action, |field| field.value_code.as_deref(), "action")? {
        "view" => AuditAction::View,
        "la_contacted" => AuditAction::LocalAuthorityContacted,
        _ => return Err(WireError::Field("action")),
    };
    let unscheduled = *only_value(
        unscheduled,
        |field| field.value_boolean.as_ref(),
        "unscheduled",
    )?;
    // An empty detail is written as none; a present empty string is not valid FHIR.
    let detail = match detail {
        None => String::new(),
        Some(_) => only_value(detail, |field| field.value_string.as_deref(), "detail")?.to_owned(),
    };
    if detail.is_empty() && chain.extension.iter().any(|field| field.url == "detail") {
        return Err(WireError::Field("detail"));
    }
    let plans_count = match plans {
        None => None,
        Some(_) => Some(*only_value(
            plans,
            |field| field.value_unsigned_int.as_ref(),
            "plans",
        )?),
    };
    let hash = |field: Option<&Extension>, name: &'static str| -> Result<String, WireError> {
        let value = only_value(field, |field| field.value_string.as_deref(), name)?;
        if value.len() == 64 && value.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            Ok(value.to_ascii_lowercase())
        } else {
            Err(WireError::Field(name))
        }
    };

    // The interaction must be the one of the record's action.
    let (subtype, action_code) = subtype_and_action(action);
    if event.action.as_deref() != Some(action_code) {
        return Err(WireError::Field("action"));
    }
    if event.subtype != [coding(system::RESTFUL_INTERACTION, subtype)] {
        return Err(WireError::Field("subtype"));
    }
    // An empty outcome (none given) is written as none.
    let outcome = optional_text(event.outcome_desc.as_deref(), "outcomeDesc")?;
    if event.outcome.as_deref() != Some(outcome_code(&outcome)) {
        return Err(WireError::Field("outcome"));
    }

    // Agents: organisation, user, userRole, and the app as the device.
    let organisation = agent_who(event, ORGANIZATION, "agent:organisation")?;
    let user = agent_who(event, PRACTITIONER, "agent:user")?;
    let user_role = agent_who(event, PRACTITIONER_ROLE, "agent:userRole")?;
    if event
        .agent
        .iter()
        .filter(|agent| {
            agent
                .who
                .as_ref()
                .and_then(|who| who.reference_type.as_deref())
                == Some(ORGANIZATION)
        })
        .count()
        != 1
    {
        return Err(WireError::Field("agent:organisation"));
    }
    if event.agent_of_type(ENDPOINT) != Some(&product_agent(PRODUCT_ID, PRODUCT)) {
        return Err(WireError::Field("agent:device"));
    }
    let organisation_who = organisation
        .who
        .as_ref()
        .ok_or(WireError::Field("agent:organisation"))?;
    let user_who = user.who.as_ref().ok_or(WireError::Field("agent:user"))?;
    let role_who = user_role
        .who
        .as_ref()
        .ok_or(WireError::Field("agent:userRole"))?;
    let (role_code, role_name) = match &user_role.role[..] {
        [] => (String::new(), String::new()),
        [role] => match &role.coding[..] {
            [coding]
                if coding.system.as_deref() == Some(system::ROLE_CODE)
                    && coding.version.is_none()
                    && role.text.is_none() =>
            {
                (
                    optional_text(coding.code.as_deref(), "agent:userRole.role")?,
                    optional_text(coding.display.as_deref(), "agent:userRole.role")?,
                )
            }
            _ => return Err(WireError::Field("agent:userRole.role")),
        },
        _ => return Err(WireError::Field("agent:userRole.role")),
    };

    // Source and entities.
    if event.source
        != Some(pars::source(
            pars::SITE,
            PRODUCT_ID,
            PRODUCT,
            SourceType::UserDevice,
        ))
    {
        return Err(WireError::Field("source"));
    }
    if event.entity.len() != 3 {
        return Err(WireError::Field("entity"));
    }
    let patient = event
        .entity_in_slice(EntitySlice::Patient)
        .ok_or(WireError::Field("entity:patient"))?;
    let patient_nhs_number = patient
        .what
        .as_ref()
        .filter(|what| what.identifier_system() == Some(system::NHS_NUMBER))
        .and_then(Reference::identifier_value)
        .ok_or(WireError::Field("entity:patient"))?
        .to_owned();
    if cpis_domain::NhsNumber::parse(&patient_nhs_number)
        .map(|nhs| nhs.as_str() != patient_nhs_number)
        .unwrap_or(true)
    {
        return Err(WireError::Field("entity:patient"));
    }
    let transaction = event
        .entity_in_slice(EntitySlice::Transaction)
        .ok_or(WireError::Field("entity:transaction"))?;
    let trace_id = transaction
        .what
        .as_ref()
        .filter(|what| what.identifier_system() == Some(system::TRANSACTION))
        .and_then(Reference::identifier_value)
        .and_then(|value| Uuid::parse_str(value).ok())
        .ok_or(WireError::Field("entity:transaction"))?;
    if event.entity_in_slice(EntitySlice::Endpoint) != Some(&endpoint_entity(&endpoint_of(action)))
    {
        return Err(WireError::Field("entity:endpoint"));
    }

    Ok(QueuedRecord {
        event_id,
        device_id,
        sequence,
        occurred_at,
        action,
        actor: Actor {
            user_id: identifier_text(user_who.identifier.as_ref(), system::USER, "agent:user")?,
            user_name: optional_text(user_who.display.as_deref(), "agent:user.display")?,
            role: RoleRef {
                role_profile_id: identifier_text(
                    role_who.identifier.as_ref(),
                    system::ROLE_PROFILE,
                    "agent:userRole",
                )?,
                role_code,
                role_name,
                organisation_ods: identifier_text(
                    organisation_who.identifier.as_ref(),
                    system::ODS,
                    "agent:organisation",
                )?,
                organisation_name: optional_text(
                    organisation_who.display.as_deref(),
                    "agent:organisation.display",
                )?,
            },
        },
        patient_nhs_number,
        outcome,
        trace_id,
        unscheduled,
        detail,
        plans: plans_from(event, plans_count)?,
        previous_hash: hash(previous_hash, "previousHash")?,
        record_hash: hash(record_hash, "recordHash")?,
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
