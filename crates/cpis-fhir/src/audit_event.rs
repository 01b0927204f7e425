//! The audit trail's AuditEvent in the shape of the national Patient Audit Record Service (IHE
//! Basic Audit "PatientRead"): its code systems and identifier systems, small constructors and
//! look-ups over the typed [`crate::wire`] structs, and the `batch` and `batch-response`
//! Bundles that carry AuditEvents to the central audit log. The mapping from an audit queue
//! record is `cpis_audit::wire`.
//!
//! Byte order: the audit trail's JSON has always been written with every object's keys in
//! sorted order (it was built as a `serde_json::Value`, whose maps sort). The central log
//! stores that text for ever, so [`to_sorted_value`] keeps it: build with the typed structs,
//! then turn them into a `Value` before writing.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

pub use crate::build::raw_resource;
use crate::wire::{
    AuditEvent, AuditEventAgent, AuditEventEntity, AuditEventEntityDetail, Bundle, BundleEntry,
    BundleEntryResponse, CodeableConcept, Coding, Identifier, Reference,
};

/// Identifier systems and code systems of the audit trail's AuditEvent.
pub mod system {
    /// ODS organisation code.
    pub const ODS: &str = crate::ODS_ORGANIZATION_SYSTEM;
    /// The user's id (the token's `sub`; the SDS user id in production).
    pub const USER: &str = crate::SDS_USER_ID_SYSTEM;
    /// The role profile id (`selected_roleid`).
    pub const ROLE_PROFILE: &str = crate::SDS_ROLE_PROFILE_ID_SYSTEM;
    /// The role code.
    pub const ROLE_CODE: &str = "https://fhir.nhs.uk/Id/sds-job-role-code";
    /// NHS number.
    pub const NHS_NUMBER: &str = crate::NHS_NUMBER_SYSTEM;
    /// TraceID (transaction).
    pub const TRANSACTION: &str = crate::TRANSACTION_SYSTEM;
    /// The device id of the app installation.
    pub const DEVICE: &str = "https://cpis-viewer.dev/Id/device";
    /// The chain entity's type.
    pub const CHAIN: &str = "https://cpis-viewer.dev/CodeSystem/audit-chain";
    /// The type of an entity for a plan a view found (recorded with the view).
    pub const PLAN: &str = "https://cpis-viewer.dev/CodeSystem/audit-plan";
    /// Outcome codes of a lookup (`plan_found`, `no_plan`, ...).
    pub const OUTCOME: &str = "https://cpis-viewer.dev/CodeSystem/lookup-outcome";
    /// `AuditEvent.type`.
    pub const AUDIT_EVENT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-event-type";
    /// `AuditEvent.subtype`: the REST interaction.
    pub const RESTFUL_INTERACTION: &str = "http://hl7.org/fhir/restful-interaction";
    /// `AuditEvent.source.type`.
    pub const SECURITY_SOURCE_TYPE: &str =
        "http://terminology.hl7.org/CodeSystem/security-source-type";
    /// `AuditEvent.entity.type` of the patient.
    pub const AUDIT_ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
    /// `AuditEvent.entity.role` of the patient.
    pub const OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";
    /// `AuditEvent.entity.type` of the transaction (IHE Basic Audit).
    pub const BASIC_AUDIT_ENTITY_TYPE: &str =
        "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType";
}

/// The product name in `source.observer` and the device agent.
pub const PRODUCT: &str = "CP-IS Viewer";
/// `source.site`.
pub const SITE: &str = "cpis-viewer";
/// The chain entity's type code.
pub const CHAIN_CODE: &str = "chain";
/// The type code of a plan entity (in [`system::PLAN`]).
pub const PLAN_CODE: &str = "plan";
/// `agent.who.type` of the organisation.
pub const ORGANIZATION: &str = "Organization";
/// `agent.who.type` of the user.
pub const PRACTITIONER: &str = "Practitioner";
/// `agent.who.type` of the device.
pub const DEVICE: &str = "Device";

/// A coding with a system and a code.
pub fn coding(system: &str, code: &str) -> Coding {
    Coding {
        system: Some(system.to_owned()),
        code: Some(code.to_owned()),
        ..Coding::default()
    }
}

/// A coding with a system, a code and a display.
pub fn coding_with_display(system: &str, code: &str, display: &str) -> Coding {
    Coding {
        display: Some(display.to_owned()),
        ..coding(system, code)
    }
}

/// A logical reference by identifier, with no type or display.
pub fn identified(system: &str, value: &str) -> Reference {
    Reference {
        identifier: Some(Identifier {
            system: Some(system.to_owned()),
            value: Some(value.to_owned()),
            ..Identifier::default()
        }),
        ..Reference::default()
    }
}

/// An agent: `who` of `who_type`, identified by `identifier` (see [`identified`]), with a
/// display and roles.
pub fn agent(
    who_type: &str,
    identifier: Reference,
    display: &str,
    role: Vec<CodeableConcept>,
    requestor: bool,
) -> AuditEventAgent {
    AuditEventAgent {
        role,
        who: Some(Reference {
            reference_type: Some(who_type.to_owned()),
            display: Some(display.to_owned()),
            ..identifier
        }),
        requestor: Some(requestor),
        ..AuditEventAgent::default()
    }
}

/// An entity detail with a string value.
pub fn detail(name: &str, value: &str) -> AuditEventEntityDetail {
    AuditEventEntityDetail {
        detail_type: name.to_owned(),
        value_string: Some(value.to_owned()),
    }
}

impl Reference {
    /// `identifier.value`.
    pub fn identifier_value(&self) -> Option<&str> {
        self.identifier.as_ref()?.value.as_deref()
    }

    /// `identifier.system`.
    pub fn identifier_system(&self) -> Option<&str> {
        self.identifier.as_ref()?.system.as_deref()
    }
}

impl AuditEvent {
    /// The first agent whose `who.type` is `who_type`.
    pub fn agent_of_type(&self, who_type: &str) -> Option<&AuditEventAgent> {
        self.agent.iter().find(|agent| {
            agent
                .who
                .as_ref()
                .and_then(|who| who.reference_type.as_deref())
                == Some(who_type)
        })
    }

    /// The first entity whose `what` is identified in `system` (and, when given, whose
    /// `type.code` is `type_code`).
    pub fn entity_identified_in(
        &self,
        system: &str,
        type_code: Option<&str>,
    ) -> Option<&AuditEventEntity> {
        self.entity.iter().find(|entity| {
            entity.what.as_ref().and_then(Reference::identifier_system) == Some(system)
                && type_code.is_none_or(|wanted| {
                    entity
                        .entity_type
                        .as_ref()
                        .and_then(|coding| coding.code.as_deref())
                        == Some(wanted)
                })
        })
    }

    /// Every entity whose `type` is `code` in `system`, in order.
    pub fn entities_of_type<'a>(
        &'a self,
        system: &'a str,
        code: &'a str,
    ) -> impl Iterator<Item = &'a AuditEventEntity> + 'a {
        self.entity.iter().filter(move |entity| {
            entity.entity_type.as_ref().is_some_and(|coding| {
                coding.system.as_deref() == Some(system) && coding.code.as_deref() == Some(code)
            })
        })
    }
}

impl AuditEventAgent {
    /// The first coding of the first role whose system is `system`.
    pub fn role_coding(&self, system: &str) -> Option<&Coding> {
        self.role
            .first()?
            .coding
            .iter()
            .find(|coding| coding.system.as_deref() == Some(system))
    }
}

impl AuditEventEntity {
    /// The `valueString` of the first detail named `name`.
    pub fn detail_value(&self, name: &str) -> Option<&str> {
        self.detail
            .iter()
            .find(|detail| detail.detail_type == name)?
            .value_string
            .as_deref()
    }
}

/// A typed wire value as JSON with every object's keys sorted: the form the audit trail has
/// always been written in (see the module's note). Serialising these plain structs (string
/// keys, derived `Serialize`) cannot fail, so the `null` fallback is never taken.
pub fn to_sorted_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A `batch` Bundle: one `POST` entry of each resource, keyed by its `urn:uuid:` full URL.
pub fn batch_bundle(entries: impl IntoIterator<Item = (String, Box<RawValue>)>) -> Bundle {
    Bundle {
        resource_type: "Bundle".into(),
        bundle_type: "batch".into(),
        entry: Some(
            entries
                .into_iter()
                .map(|(full_url, resource)| BundleEntry {
                    full_url: Some(full_url),
                    resource: Some(resource),
                    request: Some(crate::wire::BundleEntryRequest {
                        method: "POST".into(),
                        url: "AuditEvent".into(),
                    }),
                    ..BundleEntry::default()
                })
                .collect(),
        ),
        ..Bundle::default()
    }
}

/// A `batch-response` Bundle, one status line per entry.
pub fn batch_response_bundle(statuses: &[String]) -> Bundle {
    Bundle {
        resource_type: "Bundle".into(),
        bundle_type: "batch-response".into(),
        entry: Some(
            statuses
                .iter()
                .map(|status| BundleEntry {
                    response: Some(BundleEntryResponse {
                        status: status.clone(),
                        ..BundleEntryResponse::default()
                    }),
                    ..BundleEntry::default()
                })
                .collect(),
        ),
        ..Bundle::default()
    }
}

/// One page of a `searchset` Bundle: the given resources, each a `match`; `total` the number
/// of matches of the whole search (every page); `link` `self` (this page) and, when there are
/// more pages, `next`.
pub fn searchset_page(
    resources: Vec<Box<RawValue>>,
    total: u64,
    self_url: String,
    next_url: Option<String>,
) -> Bundle {
    let link = std::iter::once(("self", self_url))
        .chain(next_url.map(|url| ("next", url)))
        .map(|(relation, url)| crate::wire::BundleLink {
            relation: relation.into(),
            url,
        })
        .collect();
    Bundle {
        resource_type: "Bundle".into(),
        bundle_type: "searchset".into(),
        total: Some(total),
        link,
        entry: Some(
            resources
                .into_iter()
                .map(|resource| BundleEntry {
                    resource: Some(resource),
                    search: Some(crate::wire::BundleEntrySearch {
                        mode: Some("match".into()),
                    }),
                    ..BundleEntry::default()
                })
                .collect(),
        ),
        ..Bundle::default()
    }
}

/// A Bundle read only as far as its type, with each entry left raw so that one bad entry is
/// refused on its own and never sinks the rest. `resourceType` and `type` read as text when
/// they are text, else as absent. Read it with [`read_raw_bundle`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawEntriesBundle {
    /// `Bundle`, when it is one.
    #[serde(default, deserialize_with = "text_or_none")]
    pub resource_type: Option<String>,
    /// `batch`, `batch-response`, ...
    #[serde(rename = "type", default, deserialize_with = "text_or_none")]
    pub bundle_type: Option<String>,
    /// The entries, unread (`null` is present, and not an array).
    #[serde(default, deserialize_with = "raw_present")]
    pub entry: Option<Box<RawValue>>,
    /// For a searchset: `total`, unread.
    #[serde(default, deserialize_with = "raw_present")]
    pub total: Option<Box<RawValue>>,
    /// `link`, unread.
    #[serde(default, deserialize_with = "raw_present")]
    pub link: Option<Box<RawValue>>,
}

impl RawEntriesBundle {
    /// Whether this is a Bundle of `bundle_type`.
    pub fn is(&self, bundle_type: &str) -> bool {
        self.resource_type.as_deref() == Some("Bundle")
            && self.bundle_type.as_deref() == Some(bundle_type)
    }

    /// `total`: `Ok(None)` when absent, an error when it is not a non-negative integer.
    pub fn total(&self) -> Result<Option<u64>, RawBundleError> {
        self.total
            .as_ref()
            .map(|total| serde_json::from_str(total.get()).map_err(|_| RawBundleError::BadTotal))
            .transpose()
    }

    /// The URL of the one `link` whose relation is `relation`; `Ok(None)` when there is none,
    /// an error when `link` is not an array of links or names the relation twice.
    pub fn link(&self, relation: &str) -> Result<Option<String>, RawBundleError> {
        let Some(link) = &self.link else {
            return Ok(None);
        };
        let links: Vec<crate::wire::BundleLink> =
            serde_json::from_str(link.get()).map_err(|_| RawBundleError::BadLink)?;
        let mut named = links.into_iter().filter(|link| link.relation == relation);
        match (named.next(), named.next()) {
            (first, None) => Ok(first.map(|link| link.url)),
            (_, Some(_)) => Err(RawBundleError::BadLink),
        }
    }

    /// The entries, each still raw; `None` when there is no `entry`.
    pub fn entries(&self) -> Result<Option<Vec<Box<RawValue>>>, RawBundleError> {
        self.entry
            .as_ref()
            .map(|entry| {
                serde_json::from_str(entry.get()).map_err(|_| RawBundleError::EntryNotAnArray)
            })
            .transpose()
    }
}

/// Why [`read_raw_bundle`] read no Bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawBundleError {
    /// The body is not JSON.
    NotJson,
    /// The body is JSON, but not an object.
    NotAnObject,
    /// `entry` is there but not an array.
    EntryNotAnArray,
    /// `total` is there but not a non-negative integer.
    BadTotal,
    /// `link` is there but not an array of links, or names a relation twice.
    BadLink,
}

/// Read a body as a [`RawEntriesBundle`]: an object, whatever its type.
pub fn read_raw_bundle(body: &[u8]) -> Result<RawEntriesBundle, RawBundleError> {
    let starts_an_object = body
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| *byte == b'{');
    if !starts_an_object {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Err(RawBundleError::NotAnObject),
            Err(_) => Err(RawBundleError::NotJson),
        };
    }
    serde_json::from_slice(body).map_err(|_| RawBundleError::NotJson)
}

/// Whether raw JSON is an object (a typed struct would also read an array, by position).
pub fn is_object(raw: &RawValue) -> bool {
    raw.get().trim_start().starts_with('{')
}

/// One raw `batch` entry, read only for its resource (left raw).
#[derive(Debug, Default, Deserialize)]
pub struct RawResourceEntry {
    /// The resource, unread.
    #[serde(default, deserialize_with = "raw_present")]
    pub resource: Option<Box<RawValue>>,
}

/// One raw `searchset` entry, read for its resource (left raw) and its `search.mode`.
#[derive(Debug, Default, Deserialize)]
pub struct RawSearchEntry {
    /// The resource, unread.
    #[serde(default, deserialize_with = "raw_present")]
    pub resource: Option<Box<RawValue>>,
    /// `search`, read only for its mode.
    #[serde(default)]
    pub search: Option<RawEntrySearch>,
}

impl RawSearchEntry {
    /// Whether the entry is not a match of the search: an `include` or an `outcome` (which
    /// `total` does not count).
    pub fn is_not_a_match(&self) -> bool {
        matches!(
            self.search
                .as_ref()
                .and_then(|search| search.mode.as_deref()),
            Some("include" | "outcome")
        )
    }
}

/// `Bundle.entry.search`, read only for its mode.
#[derive(Debug, Default, Deserialize)]
pub struct RawEntrySearch {
    /// `match`, `include` or `outcome`, when it is text.
    #[serde(default, deserialize_with = "text_or_none")]
    pub mode: Option<String>,
}

/// One raw `batch-response` entry, read only for its response's status.
#[derive(Debug, Default, Deserialize)]
pub struct RawResponseEntry {
    /// The response, read only for its status.
    #[serde(default)]
    pub response: Option<RawEntryResponse>,
}

/// `Bundle.entry.response`, read only for its status text.
#[derive(Debug, Default, Deserialize)]
pub struct RawEntryResponse {
    /// The status line, when it is text.
    #[serde(default, deserialize_with = "text_or_none")]
    pub status: Option<String>,
}

fn text_or_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => Some(text),
        _ => None,
    })
}

fn raw_present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_values_sort_every_object() {
        let bundle = batch_response_bundle(&["201 Created".into()]);
        assert_eq!(
            to_sorted_value(&bundle).to_string(),
            r#"{"entry":[{"response":{"status":"201 Created"}}],"resourceType":"Bundle","type":"batch-response"}"#
        );
    }

    #[test]
    fn a_raw_bundle_reads_only_its_type_and_leaves_entries_raw() {
        let bundle = read_raw_bundle(
            br#" {"resourceType":"Bundle","type":"batch","entry":[5,{"resource":{"x":1}}]}"#,
        )
        .expect("bundle");
        assert!(bundle.is("batch"));
        let entries = bundle.entries().expect("array").expect("entry");
        assert_eq!(entries.len(), 2);
        assert!(!is_object(&entries[0]));
        assert!(is_object(&entries[1]));
        let second: RawResourceEntry = serde_json::from_str(entries[1].get()).expect("entry");
        assert_eq!(second.resource.expect("resource").get(), r#"{"x":1}"#);
        let odd = read_raw_bundle(br#"{"resourceType":5,"type":"batch"}"#).expect("bundle");
        assert!(!odd.is("batch"));
        assert!(matches!(odd.entries(), Ok(None)));
        let null = read_raw_bundle(br#"{"entry":null}"#).expect("bundle");
        assert!(matches!(
            null.entries(),
            Err(RawBundleError::EntryNotAnArray)
        ));
        assert_eq!(
            read_raw_bundle(br#"["Bundle","batch",[]]"#).err(),
            Some(RawBundleError::NotAnObject)
        );
        assert_eq!(
            read_raw_bundle(b"not json").err(),
            Some(RawBundleError::NotJson)
        );
        assert_eq!(read_raw_bundle(b"{").err(), Some(RawBundleError::NotJson));
    }

    #[test]
    fn look_ups_find_agents_entities_and_details() {
        let event = AuditEvent {
            resource_type: "AuditEvent".into(),
            agent: vec![
                agent(
                    ORGANIZATION,
                    identified(system::ODS, "ZZ1ED"),
                    "",
                    vec![],
                    true,
                ),
                agent(
                    PRACTITIONER,
                    identified(system::USER, "u"),
                    "",
                    vec![CodeableConcept {
                        coding: vec![coding(system::ROLE_PROFILE, "1")],
                        ..CodeableConcept::default()
                    }],
                    true,
                ),
            ],
            entity: vec![AuditEventEntity {
                what: Some(identified(system::DEVICE, "d")),
                entity_type: Some(coding(system::CHAIN, CHAIN_CODE)),
                detail: vec![detail("sequence", "1")],
                ..AuditEventEntity::default()
            }],
            ..AuditEvent::default()
        };
        let practitioner = event.agent_of_type(PRACTITIONER).expect("practitioner");
        assert_eq!(
            practitioner
                .role_coding(system::ROLE_PROFILE)
                .and_then(|coding| coding.code.as_deref()),
            Some("1")
        );
        assert!(event.agent_of_type(DEVICE).is_none());
        let chain = event
            .entity_identified_in(system::DEVICE, Some(CHAIN_CODE))
            .expect("chain");
        assert_eq!(chain.detail_value("sequence"), Some("1"));
        assert!(
            event
                .entity_identified_in(system::DEVICE, Some("other"))
                .is_none()
        );
    }
}
