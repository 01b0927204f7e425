//! FHIR R4 wire types: the subset of the resources CP-IS, PDS and the audit service exchange.
//!
//! These mirror the JSON exactly (camelCase names, `resourceType`) and carry no rules: they are
//! deserialised leniently about unknown elements (FHIR servers add `meta`, `text` and extensions)
//! but strictly about types, and then checked by [`crate::parse`]. Hand-written rather than taken
//! from a full FHIR model crate: five resources do not justify compiling all of R4 on every build.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use cpis_domain::REDACTED;

/// `Coding`: a code from a code system.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coding {
    /// Code system URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Code system version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Human-readable display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// `CodeableConcept`: codings plus text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeableConcept {
    /// Codings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    /// Plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `Extension`, limited to the value types used here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// What the extension means.
    pub url: String,
    /// Nested extensions (complex extensions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// `valueString`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_string: Option<String>,
    /// `valueInteger` (also used for unsigned values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_integer: Option<i64>,
    /// `valueCodeableConcept`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept>,
    /// `valueContactPoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_contact_point: Option<ContactPoint>,
    /// `valueCode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_code: Option<String>,
    /// `valueBoolean`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_boolean: Option<bool>,
    /// `valueUnsignedInt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_unsigned_int: Option<u32>,
    /// `valueIdentifier`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_identifier: Option<Identifier>,
    /// `valueReference`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_reference: Option<Reference>,
    /// `valueCoding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_coding: Option<Coding>,
}

/// `Identifier`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identifier {
    /// Extensions (PDS puts the NHS number verification status here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// Namespace URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `Reference`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    /// Literal reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Type the reference refers to.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub reference_type: Option<String>,
    /// Logical reference by identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier>,
    /// Text alternative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// `Period`: `start` and `end` as FHIR `dateTime` strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// `ContactPoint`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactPoint {
    /// `phone`, `email`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The number or address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `work`, `mobile`, ...
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub contact_use: Option<String>,
}

/// `Meta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Version of the resource (PDS sends it; its `ETag` matches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Profiles claimed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<String>,
    /// Last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// Security labels: PDS marks a restricted (sensitive) record with the v3-Confidentiality
    /// code `R` ([`crate::CONFIDENTIALITY_SYSTEM`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<Coding>,
}

/// `Bundle`. Entry resources stay raw JSON until their type is known (and keep their element
/// order, `resourceType` first, when built here).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// Always `Bundle`.
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// `searchset`, `batch`, `batch-response`, `transaction`, `collection`, ...
    #[serde(rename = "type")]
    pub bundle_type: String,
    /// For a searchset: how many matches in total (entries with `search.mode=match`; included
    /// resources are not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Links; for a searchset, `relation=self` is the search that was run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<BundleLink>,
    /// The entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<Vec<BundleEntry>>,
}

/// `Bundle.link`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleLink {
    /// `self`, `next`, ...
    pub relation: String,
    /// The URL.
    pub url: String,
}

/// `Bundle.entry`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    /// Absolute URL or `urn:uuid:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_url: Option<String>,
    /// The resource, still as raw JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Box<RawValue>>,
    /// Search information (`mode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<BundleEntrySearch>,
    /// For a batch: the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<BundleEntryRequest>,
    /// For a batch-response: the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<BundleEntryResponse>,
}

/// `Bundle.entry.search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntrySearch {
    /// `match`, `include` or `outcome`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// `Bundle.entry.request`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntryRequest {
    /// HTTP method.
    pub method: String,
    /// URL relative to the base.
    pub url: String,
}

/// `Bundle.entry.response`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntryResponse {
    /// HTTP status line, e.g. `201 Created`.
    pub status: String,
    /// Where the stored resource lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Why it failed, as an OperationOutcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Value>,
}

/// `CareTeam`, shaped like `England-CareTeam-Flag` plus the CP-IS search fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CareTeam {
    /// Always `CareTeam`.
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Metadata (profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Extensions (the LA-shared allocated social worker).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// `active` or `inactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The plan type, SNOMED CT coded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<CodeableConcept>,
    /// The local authority's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The child (or, for an unborn plan, the mother) by NHS number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Reference>,
    /// Plan start and end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// The local authority by ODS code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managing_organization: Vec<Reference>,
    /// Office-hours (`work`) and emergency duty team (`mobile`) phones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telecom: Vec<ContactPoint>,
}

/// `HumanName`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HumanName {
    /// `usual`, `official`, ...
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub name_use: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Given names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    /// Prefixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix: Vec<String>,
    /// When the name applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
}

/// `Patient`, in the PDS shape.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    /// Always `Patient`.
    pub resource_type: String,
    /// Logical id (PDS uses the NHS number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The NHS number, with its verification status extension.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier>,
    /// Names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name: Vec<HumanName>,
    /// `male`, `female`, `other` or `unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// `YYYY-MM-DD`; PDS may also give `YYYY-MM` or `YYYY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    /// When the patient died (a FHIR `dateTime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deceased_date_time: Option<String>,
    /// Whether the patient has died, when no date is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deceased_boolean: Option<bool>,
}

/// `OperationOutcome`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    /// Always `OperationOutcome`.
    pub resource_type: String,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The issues, at least one.
    #[serde(default)]
    pub issue: Vec<OperationOutcomeIssue>,
}

/// `OperationOutcome.issue`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcomeIssue {
    /// `fatal`, `error`, `warning`, `information`.
    pub severity: String,
    /// FHIR issue type code.
    pub code: String,
    /// The Spine error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<CodeableConcept>,
    /// Extra text for a developer. Never holds patient data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<String>,
    /// Where the problem is (FHIRPath or CSV line).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
}

/// `AuditEvent`, in the IHE Basic Audit / PARS shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Always `AuditEvent`.
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Extensions (for example a sequence number and previous hash).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// Event type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<Coding>,
    /// Event subtypes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtype: Vec<Coding>,
    /// `C`, `R`, `U`, `D`, `E`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// When, as a FHIR `instant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<String>,
    /// `0` success, `4` minor failure, `8` serious failure, `12` major failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Outcome description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_desc: Option<String>,
    /// Who took part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agent: Vec<AuditEventAgent>,
    /// Which system reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<AuditEventSource>,
    /// What was involved (the patient, the transaction).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entity: Vec<AuditEventEntity>,
}

/// `AuditEvent.agent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventAgent {
    /// Agent type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub agent_type: Option<CodeableConcept>,
    /// Roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role: Vec<CodeableConcept>,
    /// Who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<Reference>,
    /// Whether this agent asked. Read from a JSON boolean or, as the published CP-IS example
    /// writes it, the string `"true"` or `"false"`; always written as a boolean.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "bool_or_bool_string"
    )]
    pub requestor: Option<bool>,
}

/// A boolean given as JSON `true`/`false` or as the string `"true"`/`"false"`.
fn bool_or_bool_string<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flexible {
        Bool(bool),
        Text(String),
    }
    match Option::<Flexible>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Flexible::Bool(value)) => Ok(Some(value)),
        Some(Flexible::Text(text)) => match text.as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(serde::de::Error::custom("requestor is not a boolean")),
        },
    }
}

/// `PractitionerRole`: who viewed, as the CP-IS access history includes it
/// (`_include=AuditEvent:entity-type=...|ASSIGNED`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PractitionerRole {
    /// Always `PractitionerRole`.
    pub resource_type: String,
    /// Logical id (what `AuditEvent.agent.who.reference` names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The SDS role profile id ([`crate::SDS_ROLE_PROFILE_ID_SYSTEM`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier>,
    /// The person (`display` = their name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practitioner: Option<Reference>,
    /// The organisation (`display` = its name; an ODS `identifier` where given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Reference>,
    /// The role (`coding.display` = its name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<CodeableConcept>,
}

/// `AuditEvent.source`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventSource {
    /// Site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// The reporting system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observer: Option<Reference>,
    /// Source types.
    #[serde(rename = "type", default, skip_serializing_if = "Vec::is_empty")]
    pub source_type: Vec<Coding>,
}

/// `AuditEvent.entity`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventEntity {
    /// What.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what: Option<Reference>,
    /// Entity type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<Coding>,
    /// Entity role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Coding>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Extra details.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<AuditEventEntityDetail>,
}

/// `AuditEvent.entity.detail`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventEntityDetail {
    /// Name of the detail.
    #[serde(rename = "type")]
    pub detail_type: String,
    /// String value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_string: Option<String>,
}

// A patient's name, NHS number and date of birth never reach a log: these wire types write
// their own `Debug`.

impl fmt::Debug for HumanName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HumanName")
            .field("name_use", &self.name_use)
            .field("family", &REDACTED)
            .field("given", &REDACTED)
            .field("prefix", &REDACTED)
            .field("period", &self.period)
            .finish()
    }
}

impl fmt::Debug for Patient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Patient")
            .field("resource_type", &self.resource_type)
            .field("id", &REDACTED)
            .field("meta", &self.meta)
            .field("identifier", &REDACTED)
            .field("name", &REDACTED)
            .field("gender", &REDACTED)
            .field("birth_date", &REDACTED)
            .field(
                "deceased_date_time",
                &self.deceased_date_time.as_ref().map(|_| REDACTED),
            )
            .field("deceased_boolean", &self.deceased_boolean)
            .finish()
    }
}

impl fmt::Debug for AuditEventEntity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AuditEventEntity")
            .field("what", &REDACTED)
            .field("entity_type", &self.entity_type)
            .field("role", &self.role)
            .field("name", &REDACTED)
            .field("detail", &self.detail.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_types_with_patient_data_redact_debug() {
        let patient = Patient {
            resource_type: "Patient".into(),
            id: Some("9990000018".into()),
            identifier: vec![Identifier {
                value: Some("9990000018".into()),
                ..Identifier::default()
            }],
            name: vec![HumanName {
                family: Some("Smythe-Test".into()),
                given: vec!["Ada".into()],
                ..HumanName::default()
            }],
            gender: Some("female".into()),
            birth_date: Some("2018-08-06".into()),
            deceased_date_time: Some("2024-03-05T00:00:00+00:00".into()),
            ..Patient::default()
        };
        let entity = AuditEventEntity {
            what: Some(Reference {
                identifier: patient.identifier.first().cloned(),
                ..Reference::default()
            }),
            name: Some("Ada Smythe-Test".into()),
            ..AuditEventEntity::default()
        };
        let debug = format!("{patient:?} {entity:?} {:?}", patient.name);
        for secret in ["999", "Smythe", "Ada", "female", "2018", "2024"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}
