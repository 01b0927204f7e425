//! The wire format of the central audit log: FHIR R4 `AuditEvent` resources in the shape of
//! the national Patient Audit Record Service (IHE Basic Audit "PatientRead": action `R`,
//! agents for the organisation, the user with their role, and the device; the patient's NHS
//! number; the TraceID as the transaction id), batched in a FHIR `batch` Bundle.
//!
//! The chain fields (device, sequence, previous and own hash) travel in one entity whose
//! `detail` carries them, so the central log can re-check every device's chain. Shared by the
//! client (to send) and the central log (to receive).

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::queue::{AuditAction, QueuedRecord};

/// Identifier systems used in the AuditEvent.
pub mod system {
    /// ODS organisation code.
    pub const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
    /// The user's id (the token's `sub`; the SDS user id in production).
    pub const USER: &str = "https://fhir.nhs.uk/Id/sds-user-id";
    /// The role profile id (`selected_roleid`).
    pub const ROLE_PROFILE: &str = "https://fhir.nhs.uk/Id/sds-role-profile-id";
    /// The role code.
    pub const ROLE_CODE: &str = "https://fhir.nhs.uk/Id/sds-job-role-code";
    /// NHS number.
    pub const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";
    /// TraceID (transaction).
    pub const TRANSACTION: &str = "https://fhir.nhs.uk/Id/transaction";
    /// The device id of the app installation.
    pub const DEVICE: &str = "https://cpis-viewer.dev/Id/device";
    /// The chain entity's type.
    pub const CHAIN: &str = "https://cpis-viewer.dev/CodeSystem/audit-chain";
    /// Outcome codes of a lookup (`plan_found`, `no_plan`, ...).
    pub const OUTCOME: &str = "https://cpis-viewer.dev/CodeSystem/lookup-outcome";
}

/// The product name in `source.observer` and the device agent.
pub const PRODUCT: &str = "CP-IS Viewer";

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

/// The AuditEvent for one queued record.
pub fn to_audit_event(record: &QueuedRecord) -> Value {
    let (subtype, action) = match record.action {
        AuditAction::View => ("search-type", "R"),
        AuditAction::LocalAuthorityContacted => ("create", "C"),
    };
    let definitive = matches!(record.outcome.as_str(), "plan_found" | "no_plan");
    json!({
        "resourceType": "AuditEvent",
        "id": record.event_id.to_string(),
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest"
        },
        "subtype": [{ "system": "http://hl7.org/fhir/restful-interaction", "code": subtype }],
        "action": action,
        "recorded": time_text(record.occurred_at),
        // 0 success; 4 minor failure (the check did not complete).
        "outcome": if definitive { "0" } else { "4" },
        "outcomeDesc": record.outcome,
        "agent": [
            {
                "who": {
                    "type": "Organization",
                    "identifier": { "system": system::ODS, "value": record.organisation_ods },
                    "display": record.organisation_name
                },
                "requestor": true
            },
            {
                "who": {
                    "type": "Practitioner",
                    "identifier": { "system": system::USER, "value": record.user_id },
                    "display": record.user_name
                },
                "role": [{
                    "coding": [
                        { "system": system::ROLE_PROFILE, "code": record.role_profile_id },
                        { "system": system::ROLE_CODE, "code": record.role_code, "display": record.role_name }
                    ]
                }],
                "requestor": true
            },
            {
                "who": {
                    "type": "Device",
                    "identifier": { "system": system::DEVICE, "value": record.device_id.to_string() },
                    "display": PRODUCT
                },
                "requestor": false
            }
        ],
        "source": {
            "site": "cpis-viewer",
            "observer": {
                "identifier": { "system": system::DEVICE, "value": record.device_id.to_string() },
                "display": PRODUCT
            },
            "type": [{
                "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                "code": "1",
                "display": "User Device"
            }]
        },
        "entity": [
            {
                "what": { "identifier": { "system": system::NHS_NUMBER, "value": record.patient_nhs_number } },
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "1",
                    "display": "Person"
                },
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                    "display": "Patient"
                }
            },
            {
                "what": { "identifier": { "system": system::TRANSACTION, "value": record.trace_id.to_string() } },
                "type": {
                    "system": "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType",
                    "code": "XrequestId"
                }
            },
            {
                "what": { "identifier": { "system": system::DEVICE, "value": record.device_id.to_string() } },
                "type": { "system": system::CHAIN, "code": "chain" },
                "detail": [
                    { "type": "sequence", "valueString": record.sequence.to_string() },
                    { "type": "previousHash", "valueString": record.previous_hash },
                    { "type": "recordHash", "valueString": record.record_hash },
                    { "type": "action", "valueString": record.action.code() },
                    { "type": "unscheduled", "valueString": if record.unscheduled { "true" } else { "false" } },
                    { "type": "detail", "valueString": record.detail }
                ]
            }
        ]
    })
}

/// A `batch` Bundle of AuditEvents, one POST entry each, keyed by event id.
pub fn to_batch_bundle(records: &[QueuedRecord]) -> Value {
    let entries: Vec<Value> = records
        .iter()
        .map(|record| {
            json!({
                "fullUrl": format!("urn:uuid:{}", record.event_id),
                "resource": to_audit_event(record),
                "request": { "method": "POST", "url": "AuditEvent" }
            })
        })
        .collect();
    json!({ "resourceType": "Bundle", "type": "batch", "entry": entries })
}

fn text<'a>(value: &'a Value, pointer: &str, name: &'static str) -> Result<&'a str, WireError> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or(WireError::Field(name))
}

fn agent<'a>(event: &'a Value, kind: &str) -> Result<&'a Value, WireError> {
    event
        .get("agent")
        .and_then(Value::as_array)
        .and_then(|agents| {
            agents
                .iter()
                .find(|agent| agent.pointer("/who/type").and_then(Value::as_str) == Some(kind))
        })
        .ok_or(WireError::Field("agent"))
}

fn entity<'a>(event: &'a Value, identifier_system: &str) -> Result<&'a Value, WireError> {
    event
        .get("entity")
        .and_then(Value::as_array)
        .and_then(|entities| {
            entities.iter().find(|entity| {
                entity
                    .pointer("/what/identifier/system")
                    .and_then(Value::as_str)
                    == Some(identifier_system)
                    && (identifier_system != system::DEVICE
                        || entity.pointer("/type/code").and_then(Value::as_str) == Some("chain"))
            })
        })
        .ok_or(WireError::Field("entity"))
}

fn detail<'a>(chain: &'a Value, name: &'static str) -> Result<&'a str, WireError> {
    chain
        .get("detail")
        .and_then(Value::as_array)
        .and_then(|details| {
            details
                .iter()
                .find(|detail| detail.get("type").and_then(Value::as_str) == Some(name))
        })
        .and_then(|detail| detail.get("valueString"))
        .and_then(Value::as_str)
        .ok_or(WireError::Field(name))
}

fn role_code<'a>(practitioner: &'a Value, code_system: &str) -> Result<&'a Value, WireError> {
    practitioner
        .pointer("/role/0/coding")
        .and_then(Value::as_array)
        .and_then(|codings| {
            codings
                .iter()
                .find(|coding| coding.get("system").and_then(Value::as_str) == Some(code_system))
        })
        .ok_or(WireError::Field("role"))
}

/// Read an AuditEvent back into a record (the central log's side). Checks shape and types,
/// not the chain: the caller recomputes the hash.
pub fn from_audit_event(event: &Value) -> Result<QueuedRecord, WireError> {
    if event.get("resourceType").and_then(Value::as_str) != Some("AuditEvent") {
        return Err(WireError::Field("resourceType"));
    }
    let event_id =
        Uuid::parse_str(text(event, "/id", "id")?).map_err(|_| WireError::Field("id"))?;
    let occurred_at = OffsetDateTime::parse(text(event, "/recorded", "recorded")?, &Rfc3339)
        .map_err(|_| WireError::Field("recorded"))?;
    let organisation = agent(event, "Organization")?;
    let practitioner = agent(event, "Practitioner")?;
    let chain = entity(event, system::DEVICE)?;
    let device_id = Uuid::parse_str(text(chain, "/what/identifier/value", "device")?)
        .map_err(|_| WireError::Field("device"))?;
    let sequence: u64 = detail(chain, "sequence")?
        .parse()
        .map_err(|_| WireError::Field("sequence"))?;
    if sequence == 0 {
        return Err(WireError::Field("sequence"));
    }
    let action = match detail(chain, "action")? {
        "view" => AuditAction::View,
        "la_contacted" => AuditAction::LocalAuthorityContacted,
        _ => return Err(WireError::Field("action")),
    };
    let unscheduled = match detail(chain, "unscheduled")? {
        "true" => true,
        "false" => false,
        _ => return Err(WireError::Field("unscheduled")),
    };
    let hash = |name: &'static str| -> Result<String, WireError> {
        let value = detail(chain, name)?;
        if value.len() == 64 && value.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            Ok(value.to_ascii_lowercase())
        } else {
            Err(WireError::Field(name))
        }
    };
    let patient = entity(event, system::NHS_NUMBER)?;
    let patient_nhs_number = text(patient, "/what/identifier/value", "patient")?;
    if cpis_domain::NhsNumber::parse(patient_nhs_number)
        .map(|nhs| nhs.as_str() != patient_nhs_number)
        .unwrap_or(true)
    {
        return Err(WireError::Field("patient"));
    }
    let trace_id = Uuid::parse_str(text(
        entity(event, system::TRANSACTION)?,
        "/what/identifier/value",
        "transaction",
    )?)
    .map_err(|_| WireError::Field("transaction"))?;
    let role_profile = role_code(practitioner, system::ROLE_PROFILE)?;
    let role = role_code(practitioner, system::ROLE_CODE)?;
    let string = |value: &Value, name: &'static str| -> Result<String, WireError> {
        value
            .as_str()
            .map(str::to_string)
            .ok_or(WireError::Field(name))
    };
    Ok(QueuedRecord {
        event_id,
        device_id,
        sequence,
        occurred_at,
        action,
        user_id: text(practitioner, "/who/identifier/value", "user")?.to_string(),
        user_name: text(practitioner, "/who/display", "user name")?.to_string(),
        role_profile_id: string(&role_profile["code"], "role profile")?,
        role_code: string(&role["code"], "role code")?,
        role_name: string(&role["display"], "role name")?,
        organisation_ods: text(organisation, "/who/identifier/value", "organisation")?.to_string(),
        organisation_name: text(organisation, "/who/display", "organisation name")?.to_string(),
        patient_nhs_number: patient_nhs_number.to_string(),
        outcome: text(event, "/outcomeDesc", "outcomeDesc")?.to_string(),
        trace_id,
        unscheduled,
        detail: detail(chain, "detail")?.to_string(),
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

/// Read a `batch-response` Bundle: one result per entry, in the order sent. Anything that does
/// not match (wrong type, wrong count, an unknown status) is an error, and the caller treats
/// the whole batch as not confirmed.
pub fn parse_batch_response(body: &[u8], sent: usize) -> Result<Vec<EntryResult>, WireError> {
    let bundle: Value = serde_json::from_slice(body).map_err(|_| WireError::NotJson)?;
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle")
        || bundle.get("type").and_then(Value::as_str) != Some("batch-response")
    {
        return Err(WireError::Field("type"));
    }
    let entries = bundle
        .get("entry")
        .and_then(Value::as_array)
        .ok_or(WireError::Field("entry"))?;
    if entries.len() != sent {
        return Err(WireError::Field("entry"));
    }
    entries
        .iter()
        .map(|entry| {
            let status = text(entry, "/response/status", "status")?;
            match status.split_whitespace().next() {
                Some("200" | "201") => Ok(EntryResult::Committed),
                Some("408" | "425" | "429") => Ok(EntryResult::Later {
                    status: status.to_string(),
                }),
                Some(code) if code.len() == 3 && code.starts_with('4') => {
                    Ok(EntryResult::Rejected {
                        status: status.to_string(),
                    })
                }
                _ => Err(WireError::Field("status")),
            }
        })
        .collect()
}

/// Build a `batch-response` Bundle (the central log's side), one status line per entry.
pub fn to_batch_response(statuses: &[String]) -> Value {
    let entries: Vec<Value> = statuses
        .iter()
        .map(|status| json!({ "response": { "status": status } }))
        .collect();
    json!({ "resourceType": "Bundle", "type": "batch-response", "entry": entries })
}

/// The entries of a `batch` Bundle of AuditEvents, each read or rejected on its own.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Result<QueuedRecord, WireError>>, WireError> {
    let bundle: Value = serde_json::from_slice(body).map_err(|_| WireError::NotJson)?;
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle")
        || bundle.get("type").and_then(Value::as_str) != Some("batch")
    {
        return Err(WireError::Field("type"));
    }
    let entries = match bundle.get("entry") {
        None => return Ok(Vec::new()),
        Some(entries) => entries.as_array().ok_or(WireError::Field("entry"))?,
    };
    Ok(entries
        .iter()
        .map(|entry| {
            entry
                .get("resource")
                .ok_or(WireError::Field("resource"))
                .and_then(from_audit_event)
        })
        .collect())
}
