//! The audit trail's AuditEvent in the shape of the national Patient Audit Record Service: the
//! `England-AuditEvent-PARS` profile (closed agent slicing by `who.type`, closed entity slicing
//! by `type.system` + `type.code`), its code systems and identifier systems, builders of its
//! agents and entities over the typed [`crate::wire`] structs, a structural check of its
//! slices ([`check_pars`]), the server's own read events ([`read_event`]), and the `batch` and
//! `batch-response` Bundles that carry AuditEvents to the central audit log. The mapping from
//! an audit queue record is `cpis_audit::wire`.
//!
//! Byte order: the audit trail's JSON stored by the central log has always been written with
//! every object's keys in sorted order (it was built as a `serde_json::Value`, whose maps
//! sort), and [`to_sorted_value`] keeps that form. What is sent may be the typed structs'
//! own order (`cpis_audit::wire::audit_event_json`): the central log stores its own rendering
//! of the record it read back, never the bytes it was sent.

use cpis_domain::{Actor, RoleRef};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use crate::build::raw_resource;
use crate::wire::{
    AuditEvent, AuditEventAgent, AuditEventEntity, AuditEventEntityDetail, AuditEventSource,
    Bundle, BundleEntry, BundleEntryResponse, CodeableConcept, Coding, Identifier, Meta, Reference,
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
    /// The device id of the app installation (in the chain extension, never an agent or the
    /// observer: the profile allows only product ids and accredited systems there).
    pub const DEVICE: &str = "https://cpis-viewer.dev/Id/device";
    /// A product id (`England-Identifier-Product-Id`): the observer, the device agent and the
    /// endpoint entity.
    pub const PRODUCT_ID: &str = "https://fhir.nhs.uk/Id/product-id";
    /// An accredited system id (`England-Identifier-Accredited-System`).
    pub const ACCREDITED_SYSTEM: &str = "https://fhir.nhs.uk/Id/accredited-system";
    /// Outcome codes of a lookup (`plan_found`, `no_plan`, ...).
    pub const OUTCOME: &str = "https://cpis-viewer.dev/CodeSystem/lookup-outcome";
    /// `AuditEvent.type`.
    pub const AUDIT_EVENT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-event-type";
    /// `AuditEvent.subtype`: the REST interaction.
    pub const RESTFUL_INTERACTION: &str = "http://hl7.org/fhir/restful-interaction";
    /// `AuditEvent.source.type`.
    pub const SECURITY_SOURCE_TYPE: &str =
        "http://terminology.hl7.org/CodeSystem/security-source-type";
    /// `AuditEvent.entity.type` of the patient (and of a submitted organisation).
    pub const AUDIT_ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
    /// `AuditEvent.entity.role` of the patient.
    pub const OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";
    /// `AuditEvent.entity.type` of the transaction (IHE Basic Audit).
    pub const BASIC_AUDIT_ENTITY_TYPE: &str =
        "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType";
    /// `AuditEvent.entity.type` of the endpoint: a FHIR resource type.
    pub const RESOURCE_TYPES: &str = "http://hl7.org/fhir/resource-types";
    /// SNOMED CT (a recorded plan's type).
    pub const SNOMED: &str = crate::SNOMED_SYSTEM;
}

/// The profile every event claims in `meta.profile`.
pub const PARS_PROFILE: &str =
    "https://fhir.nhs.uk/England/StructureDefinition/England-AuditEvent-PARS";
/// The extension that carries a client record's chain and own fields.
pub const CHAIN_EXTENSION: &str = "https://cpis-viewer.dev/fhir/StructureDefinition/audit-chain";
/// The extension of one plan a view found.
pub const PLAN_EXTENSION: &str = "https://cpis-viewer.dev/fhir/StructureDefinition/audit-plan";
/// The product name in `source.observer` and the device agent.
pub const PRODUCT: &str = "CP-IS Viewer";
/// The app's product id ([`system::PRODUCT_ID`]).
pub const PRODUCT_ID: &str = "cpis-viewer";
/// The reference service's name, the observer of its own read events.
pub const SERVICE_PRODUCT: &str = "CP-IS reference service";
/// The reference service's product id ([`system::PRODUCT_ID`]).
pub const SERVICE_PRODUCT_ID: &str = "cpis-reference-service";
/// `source.site` of a client record.
pub const SITE: &str = "cpis-viewer";
/// `agent.who.type` of the organisation.
pub const ORGANIZATION: &str = "Organization";
/// `agent.who.type` of the user.
pub const PRACTITIONER: &str = "Practitioner";
/// `agent.who.type` of the user's role.
pub const PRACTITIONER_ROLE: &str = "PractitionerRole";
/// `agent.who.type` of a patient acting for themselves (not used here; allowed by the profile).
pub const PATIENT: &str = "Patient";
/// `agent.who.type` of the device slice (the system used), and the endpoint entity's type code.
pub const ENDPOINT: &str = "Endpoint";

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

/// Text as a FHIR string: FHIR strings are never empty, so empty text is absent. Read back
/// with [`text_or_empty`].
pub fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// An absent optional string read back as empty text (the inverse of [`non_empty`]); a
/// present empty string is not valid FHIR and reads as `None`.
pub fn text_or_empty(text: Option<&str>) -> Option<String> {
    match text {
        None => Some(String::new()),
        Some("") => None,
        Some(text) => Some(text.to_owned()),
    }
}

/// An identifier; absent when `value` is empty.
pub fn identifier(system: &str, value: &str) -> Option<Identifier> {
    non_empty(value).map(|value| Identifier {
        system: Some(system.to_owned()),
        value: Some(value),
        ..Identifier::default()
    })
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
            display: non_empty(display),
            ..identifier
        }),
        requestor: Some(requestor),
        ..AuditEventAgent::default()
    }
}

/// The `organisation` agent: the role's organisation by ODS code, its name, requestor.
pub fn organisation_agent(role: &RoleRef) -> AuditEventAgent {
    agent(
        ORGANIZATION,
        Reference {
            identifier: identifier(system::ODS, &role.organisation_ods),
            ..Reference::default()
        },
        &role.organisation_name,
        Vec::new(),
        true,
    )
}

/// The `user` agent: the user id and name, requestor.
pub fn user_agent(actor: &Actor) -> AuditEventAgent {
    agent(
        PRACTITIONER,
        Reference {
            identifier: identifier(system::USER, &actor.user_id),
            ..Reference::default()
        },
        &actor.user_name,
        Vec::new(),
        true,
    )
}

/// The `userRole` agent: the role profile id, and the role code with its name as `role`;
/// requestor. With no role selected it names none.
pub fn user_role_agent(role: &RoleRef) -> AuditEventAgent {
    let coding = Coding {
        system: Some(system::ROLE_CODE.to_owned()),
        code: non_empty(&role.role_code),
        display: non_empty(&role.role_name),
        ..Coding::default()
    };
    let roles = if coding.code.is_none() && coding.display.is_none() {
        Vec::new()
    } else {
        vec![CodeableConcept {
            coding: vec![coding],
            ..CodeableConcept::default()
        }]
    };
    agent(
        PRACTITIONER_ROLE,
        Reference {
            identifier: identifier(system::ROLE_PROFILE, &role.role_profile_id),
            ..Reference::default()
        },
        "",
        roles,
        true,
    )
}

/// The `device` agent (`who.type` `Endpoint`): the system used, by product id; not requestor.
pub fn product_agent(product_id: &str, display: &str) -> AuditEventAgent {
    agent(
        ENDPOINT,
        identified(system::PRODUCT_ID, product_id),
        display,
        Vec::new(),
        false,
    )
}

/// `source`: the site, the observer by product id, and the source type
/// (security-source-type `1` User Device, `4` Application Server).
pub fn source(
    site: &str,
    product_id: &str,
    display: &str,
    source_type: SourceType,
) -> AuditEventSource {
    let (code, name) = match source_type {
        SourceType::UserDevice => ("1", "User Device"),
        SourceType::ApplicationServer => ("4", "Application Server"),
    };
    AuditEventSource {
        site: non_empty(site),
        observer: Some(Reference {
            display: non_empty(display),
            ..identified(system::PRODUCT_ID, product_id)
        }),
        source_type: vec![coding_with_display(
            system::SECURITY_SOURCE_TYPE,
            code,
            name,
        )],
    }
}

/// `AuditEvent.source.type`, as far as used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceType {
    /// `1` User Device: the app.
    UserDevice,
    /// `4` Application Server: the reference service.
    ApplicationServer,
}

/// The `patient` entity: the NHS number, audit-entity-type `1`, object-role `1`.
pub fn patient_entity(nhs_number: &str) -> AuditEventEntity {
    AuditEventEntity {
        what: Some(identified(system::NHS_NUMBER, nhs_number)),
        entity_type: Some(coding_with_display(
            system::AUDIT_ENTITY_TYPE,
            "1",
            "Person",
        )),
        role: Some(coding_with_display(system::OBJECT_ROLE, "1", "Patient")),
        ..AuditEventEntity::default()
    }
}

/// The `transaction` entity: the TraceID.
pub fn transaction_entity(trace_id: &str) -> AuditEventEntity {
    AuditEventEntity {
        what: Some(identified(system::TRANSACTION, trace_id)),
        entity_type: Some(coding(system::BASIC_AUDIT_ENTITY_TYPE, "XrequestId")),
        ..AuditEventEntity::default()
    }
}

/// What an `endpoint` entity names: the interface used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// Its product id ([`system::PRODUCT_ID`]).
    pub product_id: &'static str,
    /// `name`: the human-readable interaction.
    pub name: &'static str,
    /// The `productIdentifier` detail: the service.
    pub product: &'static str,
    /// The `interactionIdentifier` detail: the interaction.
    pub interaction: &'static str,
}

/// The `endpoint` entity: type resource-types `Endpoint`, the product id, a name and exactly
/// the two details the profile requires.
pub fn endpoint_entity(endpoint: &Endpoint) -> AuditEventEntity {
    AuditEventEntity {
        what: Some(identified(system::PRODUCT_ID, endpoint.product_id)),
        entity_type: Some(coding(system::RESOURCE_TYPES, ENDPOINT)),
        name: Some(endpoint.name.to_owned()),
        detail: vec![
            detail("productIdentifier", endpoint.product),
            detail("interactionIdentifier", endpoint.interaction),
        ],
        ..AuditEventEntity::default()
    }
}

/// `meta`: the PARS profile claimed.
pub fn pars_meta() -> Meta {
    Meta {
        profile: vec![PARS_PROFILE.to_owned()],
        ..Meta::default()
    }
}

/// An instant as FHIR writes it (RFC 3339).
pub fn instant_text(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_default()
}

/// A read the reference service answered, as it records it itself (issue 17: every read
/// leaves a record on the server). Build the event with [`read_event`]. Its `Debug` leaves the
/// NHS number out.
#[derive(Clone, Copy)]
pub struct ReadEvent<'a> {
    /// The event id.
    pub event_id: uuid::Uuid,
    /// When the read was answered.
    pub recorded: OffsetDateTime,
    /// Who read: the token's user, role and organisation.
    pub actor: &'a Actor,
    /// The patient read. PARS requires exactly one patient per event: a read not about one
    /// patient (the review) is recorded once per patient it showed; empty text leaves the
    /// patient out, and such an event does not conform to the profile.
    pub nhs_number: &'a str,
    /// The request's TraceID (`X-Request-ID`).
    pub request_id: &'a str,
    /// Which read.
    pub interaction: ReadInteraction,
    /// Whether it was answered (`outcome` `0`), or failed (`4`).
    pub outcome_ok: bool,
    /// The service's base URL (`source.site`).
    pub service_url: &'a str,
}

impl std::fmt::Debug for ReadEvent<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ReadEvent")
            .field("event_id", &self.event_id)
            .field("recorded", &self.recorded)
            .field("actor", &self.actor)
            .field("nhs_number", &"<redacted>")
            .field("interaction", &self.interaction)
            .finish_non_exhaustive()
    }
}

/// Which read the reference service answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadInteraction {
    /// A demographics read (PDS `Patient` read).
    PdsRead,
    /// A CP-IS `CareTeam` search; `silent` for a `B0170` read that notifies no one.
    CareTeamSearch {
        /// Whether it was a silent (`B0170`) read.
        silent: bool,
    },
    /// A CP-IS access-history (`AuditEvent`) search.
    AccessHistorySearch,
    /// A search of the central audit log (the named nurse's review).
    ReviewSearch,
}

impl ReadInteraction {
    /// Every interaction (for tests and the profile check's events).
    pub const ALL: [ReadInteraction; 5] = [
        ReadInteraction::PdsRead,
        ReadInteraction::CareTeamSearch { silent: false },
        ReadInteraction::CareTeamSearch { silent: true },
        ReadInteraction::AccessHistorySearch,
        ReadInteraction::ReviewSearch,
    ];

    /// The endpoint entity it names.
    pub fn endpoint(self) -> Endpoint {
        match self {
            ReadInteraction::PdsRead => Endpoint {
                product_id: "pds",
                name: "Personal Demographics Service",
                product: "PDS",
                interaction: "PDS Retrieval Query",
            },
            ReadInteraction::CareTeamSearch { silent: false } => Endpoint {
                product_id: "cp-is",
                name: "Child Protection - Information Sharing",
                product: "CP-IS",
                interaction: "CP-IS - Get CareTeam",
            },
            ReadInteraction::CareTeamSearch { silent: true } => Endpoint {
                product_id: "cp-is",
                name: "Child Protection - Information Sharing",
                product: "CP-IS",
                interaction: "CP-IS - Get CareTeam (silent)",
            },
            ReadInteraction::AccessHistorySearch => Endpoint {
                product_id: "cp-is",
                name: "Child Protection - Information Sharing",
                product: "CP-IS",
                interaction: "CP-IS - Get AuditEvent (access history)",
            },
            ReadInteraction::ReviewSearch => Endpoint {
                product_id: SERVICE_PRODUCT_ID,
                name: "CP-IS Viewer central audit log",
                product: "CP-IS Viewer audit log",
                interaction: "CP-IS Viewer audit log - Search AuditEvent (review)",
            },
        }
    }

    /// `subtype` (restful-interaction): `read` or `search-type`.
    pub fn subtype(self) -> &'static str {
        match self {
            ReadInteraction::PdsRead => "read",
            _ => "search-type",
        }
    }
}

/// The AuditEvent the reference service records for one read it answered: action `R`; agents
/// organisation, user and userRole (no device agent); the patient, the transaction and the
/// endpoint read; observed by the reference service (security-source-type `4`). No chain.
pub fn read_event(read: &ReadEvent<'_>) -> AuditEvent {
    let patient = (!read.nhs_number.is_empty()).then(|| patient_entity(read.nhs_number));
    AuditEvent {
        resource_type: "AuditEvent".into(),
        id: Some(read.event_id.to_string()),
        meta: Some(pars_meta()),
        event_type: Some(coding(system::AUDIT_EVENT_TYPE, "rest")),
        subtype: vec![coding(
            system::RESTFUL_INTERACTION,
            read.interaction.subtype(),
        )],
        action: Some("R".into()),
        recorded: Some(instant_text(read.recorded)),
        outcome: Some(if read.outcome_ok { "0" } else { "4" }.into()),
        agent: vec![
            organisation_agent(&read.actor.role),
            user_agent(read.actor),
            user_role_agent(&read.actor.role),
        ],
        source: Some(source(
            read.service_url,
            SERVICE_PRODUCT_ID,
            SERVICE_PRODUCT,
            SourceType::ApplicationServer,
        )),
        entity: patient
            .into_iter()
            .chain([
                transaction_entity(read.request_id),
                endpoint_entity(&read.interaction.endpoint()),
            ])
            .collect(),
        ..AuditEvent::default()
    }
}

/// An entity detail with a string value.
pub fn detail(name: &str, value: &str) -> AuditEventEntityDetail {
    AuditEventEntityDetail {
        detail_type: name.to_owned(),
        value_string: Some(value.to_owned()),
    }
}

/// Which entity slice of the profile an entity falls in, by `type.system` + `type.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntitySlice {
    /// The patient (audit-entity-type `1`).
    Patient,
    /// The transaction (BasicAuditEntityType `XrequestId`).
    Transaction,
    /// The submitted organisation (audit-entity-type `3`).
    SubmittedOrganisation,
    /// The endpoint (resource-types `Endpoint`).
    Endpoint,
}

impl AuditEventEntity {
    /// The profile's slice this entity falls in; `None` when none (the closed slicing refuses it).
    pub fn slice(&self) -> Option<EntitySlice> {
        let entity_type = self.entity_type.as_ref()?;
        match (entity_type.system.as_deref()?, entity_type.code.as_deref()?) {
            (system::AUDIT_ENTITY_TYPE, "1") => Some(EntitySlice::Patient),
            (system::BASIC_AUDIT_ENTITY_TYPE, "XrequestId") => Some(EntitySlice::Transaction),
            (system::AUDIT_ENTITY_TYPE, "3") => Some(EntitySlice::SubmittedOrganisation),
            (system::RESOURCE_TYPES, ENDPOINT) => Some(EntitySlice::Endpoint),
            _ => None,
        }
    }
}

/// Check an event against `England-AuditEvent-PARS` as far as its structure goes: the base
/// resource's required elements (`type`, `recorded`, `agent`, `source.observer`), the closed
/// agent slicing by `who.type` and each slice's count, the device agent's and the observer's
/// identifier systems (product id or accredited system; the observer's identifier required),
/// the closed entity slicing by `type.system` + `type.code` and each slice's count, the
/// patient's fixed role, and each endpoint's `name` and its exactly two details
/// `productIdentifier` and `interactionIdentifier`. Says which element failed, never a value.
/// (`tools/fhir-validate/pars.py` checks the same against the profile file itself.)
pub fn check_pars(event: &AuditEvent) -> Result<(), &'static str> {
    if event.resource_type != "AuditEvent" {
        return Err("resourceType");
    }
    if event.event_type.is_none() {
        return Err("type");
    }
    if event.recorded.is_none() {
        return Err("recorded");
    }
    let mut counts = [0_usize; 5];
    for agent in &event.agent {
        let who = agent.who.as_ref().ok_or("agent.who")?;
        let slice = match who.reference_type.as_deref() {
            Some(ORGANIZATION) => 0,
            Some(PATIENT) => 1,
            Some(PRACTITIONER) => 2,
            Some(PRACTITIONER_ROLE) => 3,
            Some(ENDPOINT) => 4,
            _ => return Err("agent.who.type"),
        };
        if slice == 4 && who.identifier.is_some() && !product_or_accredited(who) {
            return Err("agent:device.who.identifier");
        }
        counts[slice] += 1;
    }
    if !(1..=2).contains(&counts[0]) {
        return Err("agent:organisation");
    }
    if counts[1..].iter().any(|count| *count > 1) {
        return Err("agent");
    }
    let observer = event
        .source
        .as_ref()
        .and_then(|source| source.observer.as_ref())
        .ok_or("source.observer")?;
    if observer.identifier.is_none() || !product_or_accredited(observer) {
        return Err("source.observer.identifier");
    }
    let mut entities = [0_usize; 4];
    for entity in &event.entity {
        let slice = entity.slice().ok_or("entity.type")?;
        entities[slice as usize] += 1;
        match slice {
            EntitySlice::Patient => {
                let role = entity.role.as_ref().ok_or("entity:patient.role")?;
                if role.system.as_deref() != Some(system::OBJECT_ROLE)
                    || role.code.as_deref() != Some("1")
                {
                    return Err("entity:patient.role");
                }
            }
            EntitySlice::Endpoint => {
                if entity.name.as_deref().is_none_or(str::is_empty) {
                    return Err("entity:endpoint.name");
                }
                let named = |name: &str| {
                    entity
                        .detail
                        .iter()
                        .filter(|detail| {
                            detail.detail_type == name && detail.value_string.is_some()
                        })
                        .count()
                };
                if entity.detail.len() != 2
                    || named("productIdentifier") != 1
                    || named("interactionIdentifier") != 1
                {
                    return Err("entity:endpoint.detail");
                }
                if let Some(what) = &entity.what
                    && what.identifier.is_some()
                    && !product_or_accredited(what)
                {
                    return Err("entity:endpoint.what.identifier");
                }
            }
            EntitySlice::Transaction | EntitySlice::SubmittedOrganisation => {}
        }
    }
    if entities[EntitySlice::Patient as usize] != 1 {
        return Err("entity:patient");
    }
    if entities[EntitySlice::Transaction as usize] != 1 {
        return Err("entity:transaction");
    }
    if entities[EntitySlice::SubmittedOrganisation as usize] > 1 {
        return Err("entity:submittedOrganisation");
    }
    Ok(())
}

fn product_or_accredited(reference: &Reference) -> bool {
    matches!(
        reference.identifier_system(),
        Some(system::PRODUCT_ID | system::ACCREDITED_SYSTEM)
    ) && reference
        .identifier_value()
        .is_some_and(|value| !value.is_empty())
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

    /// The first entity of the profile's `slice`.
    pub fn entity_in_slice(&self, slice: EntitySlice) -> Option<&AuditEventEntity> {
        self.entity
            .iter()
            .find(|entity| entity.slice() == Some(slice))
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

/// A `batch` Bundle of typed AuditEvents as JSON bytes, serialised straight from the typed
/// structs (no `serde_json::Value`): one POST entry each, keyed by the given `fullUrl`.
pub fn typed_batch_json(entries: impl IntoIterator<Item = (String, AuditEvent)>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Entry {
        #[serde(rename = "fullUrl")]
        full_url: String,
        resource: AuditEvent,
        request: Request,
    }
    #[derive(Serialize)]
    struct Request {
        method: &'static str,
        url: &'static str,
    }
    #[derive(Serialize)]
    struct Batch {
        #[serde(rename = "resourceType")]
        resource_type: &'static str,
        #[serde(rename = "type")]
        bundle_type: &'static str,
        entry: Vec<Entry>,
    }
    let bundle = Batch {
        resource_type: "Bundle",
        bundle_type: "batch",
        entry: entries
            .into_iter()
            .map(|(full_url, resource)| Entry {
                full_url,
                resource,
                request: Request {
                    method: "POST",
                    url: "AuditEvent",
                },
            })
            .collect(),
    };
    serde_json::to_vec(&bundle).unwrap_or_default()
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

    fn actor() -> Actor {
        Actor {
            user_id: "900000000001".into(),
            user_name: "Tess Triage-Test".into(),
            role: RoleRef {
                role_profile_id: "555021935107".into(),
                role_code: "R8001".into(),
                role_name: "Nurse Access Role".into(),
                organisation_ods: "ZZ1ED".into(),
                organisation_name: "Northshire General Hospital".into(),
            },
        }
    }

    fn read(actor: &Actor, interaction: ReadInteraction) -> AuditEvent {
        read_event(&ReadEvent {
            event_id: uuid::Uuid::from_u128(7),
            recorded: time::macros::datetime!(2026-11-25 10:00:00 UTC),
            actor,
            nhs_number: "9990000018",
            request_id: "3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
            interaction,
            outcome_ok: true,
            service_url: "https://service.example/",
        })
    }

    #[test]
    fn read_events_have_the_pars_shape_for_every_interaction() {
        let actor = actor();
        let mut names = std::collections::HashSet::new();
        for interaction in ReadInteraction::ALL {
            let event = read(&actor, interaction);
            assert_eq!(check_pars(&event), Ok(()), "{interaction:?}");
            assert_eq!(event.action.as_deref(), Some("R"));
            assert_eq!(
                event.meta.as_ref().map(|meta| meta.profile.clone()),
                Some(vec![PARS_PROFILE.to_owned()])
            );
            assert!(event.agent_of_type(ENDPOINT).is_none(), "no device agent");
            assert!(event.extension.is_empty(), "no chain");
            let role = event.agent_of_type(PRACTITIONER_ROLE).expect("userRole");
            assert_eq!(
                role.who.as_ref().and_then(Reference::identifier_value),
                Some("555021935107")
            );
            assert_eq!(
                role.role_coding(system::ROLE_CODE)
                    .and_then(|coding| coding.code.as_deref()),
                Some("R8001")
            );
            let source = event.source.as_ref().expect("source");
            assert_eq!(source.source_type[0].code.as_deref(), Some("4"));
            assert_eq!(
                source
                    .observer
                    .as_ref()
                    .and_then(Reference::identifier_value),
                Some(SERVICE_PRODUCT_ID)
            );
            let endpoint = event
                .entity_in_slice(EntitySlice::Endpoint)
                .expect("endpoint");
            assert!(
                names.insert(
                    endpoint
                        .detail_value("interactionIdentifier")
                        .expect("interaction")
                        .to_owned()
                )
            );
            assert_eq!(
                event.subtype[0].code.as_deref(),
                Some(if interaction == ReadInteraction::PdsRead {
                    "read"
                } else {
                    "search-type"
                })
            );
        }
        let failed = read_event(&ReadEvent {
            outcome_ok: false,
            nhs_number: "",
            ..ReadEvent {
                event_id: uuid::Uuid::from_u128(8),
                recorded: time::macros::datetime!(2026-11-25 10:00:00 UTC),
                actor: &actor,
                nhs_number: "",
                request_id: "r",
                interaction: ReadInteraction::ReviewSearch,
                outcome_ok: false,
                service_url: "https://service.example/",
            }
        });
        assert_eq!(failed.outcome.as_deref(), Some("4"));
        assert_eq!(check_pars(&failed), Err("entity:patient"));
    }

    #[test]
    fn the_slice_check_refuses_what_the_profile_refuses() {
        let actor = actor();
        let good = read(&actor, ReadInteraction::PdsRead);
        assert_eq!(check_pars(&good), Ok(()));
        let broken = |change: &dyn Fn(&mut AuditEvent)| {
            let mut event = good.clone();
            change(&mut event);
            check_pars(&event)
        };
        assert_eq!(
            broken(&|event| event.agent.push(agent(
                crate_device(),
                identified(system::PRODUCT_ID, "x"),
                "",
                vec![],
                false
            ))),
            Err("agent.who.type")
        );
        assert_eq!(
            broken(&|event| event.agent.push(user_agent(&Actor::default()))),
            Err("agent")
        );
        assert_eq!(
            broken(&|event| event.agent.retain(|agent| agent
                .who
                .as_ref()
                .and_then(|who| who.reference_type.as_deref())
                != Some(ORGANIZATION))),
            Err("agent:organisation")
        );
        assert_eq!(
            broken(&|event| event.agent.push(agent(
                ENDPOINT,
                identified(system::DEVICE, "d"),
                "",
                vec![],
                false
            ))),
            Err("agent:device.who.identifier")
        );
        assert_eq!(
            broken(&|event| {
                if let Some(observer) = event
                    .source
                    .as_mut()
                    .and_then(|source| source.observer.as_mut())
                {
                    observer.identifier = Some(Identifier {
                        system: Some(system::DEVICE.into()),
                        value: Some("d".into()),
                        ..Identifier::default()
                    });
                }
            }),
            Err("source.observer.identifier")
        );
        assert_eq!(
            broken(&|event| {
                if let Some(observer) = event
                    .source
                    .as_mut()
                    .and_then(|source| source.observer.as_mut())
                {
                    observer.identifier = None;
                }
            }),
            Err("source.observer.identifier")
        );
        assert_eq!(
            broken(&|event| event.entity.push(AuditEventEntity {
                entity_type: Some(coding(
                    "https://cpis-viewer.dev/CodeSystem/audit-chain",
                    "chain"
                )),
                ..AuditEventEntity::default()
            })),
            Err("entity.type")
        );
        assert_eq!(
            broken(&|event| event.entity.push(patient_entity("9990000026"))),
            Err("entity:patient")
        );
        assert_eq!(
            broken(&|event| event
                .entity
                .retain(|entity| entity.slice() != Some(EntitySlice::Transaction))),
            Err("entity:transaction")
        );
        assert_eq!(
            broken(&|event| event.entity[0].role = Some(coding(system::OBJECT_ROLE, "4"))),
            Err("entity:patient.role")
        );
        assert_eq!(
            broken(&|event| event.entity[2].detail.truncate(1)),
            Err("entity:endpoint.detail")
        );
        assert_eq!(
            broken(&|event| event.entity[2].detail[1].detail_type = "productIdentifier".into()),
            Err("entity:endpoint.detail")
        );
        assert_eq!(
            broken(&|event| event.entity[2].name = None),
            Err("entity:endpoint.name")
        );
        assert_eq!(broken(&|event| event.recorded = None), Err("recorded"));
    }

    fn crate_device() -> &'static str {
        "Device"
    }

    #[test]
    fn empty_text_is_absent_and_reads_back_empty() {
        assert_eq!(non_empty(""), None);
        assert_eq!(text_or_empty(None), Some(String::new()));
        assert_eq!(text_or_empty(Some("")), None);
        assert_eq!(text_or_empty(Some("a")), Some("a".into()));
        let none = user_role_agent(&RoleRef::default());
        assert!(none.role.is_empty());
        assert_eq!(
            none.who.as_ref().and_then(|who| who.identifier.clone()),
            None
        );
        let organisation = organisation_agent(&RoleRef::default());
        assert_eq!(
            organisation
                .who
                .as_ref()
                .and_then(|who| who.display.clone()),
            None
        );
    }
}
