//! FHIR R4 for CP-IS: wire types, builders (domain to FHIR JSON) and strict parsers (FHIR JSON
//! to domain), shared by the reference service and the client.
//!
//! Architecture invariant: no IO here (no network, files, clock or logging); "today" and "now"
//! come in as arguments. Parsers never panic on any input and their errors never contain patient
//! data or raw input text. Only a valid searchset Bundle with `total: 0`, no entries, is
//! [`CareTeamSearch::NoPlans`].
//!
//! Shapes (documented here once, so a real server can be checked against them):
//! - CareTeam search: `Bundle` `type=searchset`, `total` = number of entries, each entry a
//!   `CareTeam` with `name` = LA name, `managingOrganization[0].identifier` = LA ODS code
//!   ([`ODS_ORGANIZATION_SYSTEM`]), `telecom` phone `use=work` (office hours) and `use=mobile`
//!   (emergency duty team), `period` (dates), `category[0].coding` SNOMED CT plan code
//!   ([`SNOMED_SYSTEM`]), `subject.identifier` NHS number ([`NHS_NUMBER_SYSTEM`]), and optionally
//!   the LA-shared allocated social worker as the extension [`SOCIAL_WORKER_EXTENSION_URL`].
//! - Access history: `Bundle` searchset of `AuditEvent` (see [`build::access_event`]).
//! - Demographics: PDS `Patient` with the NHS number verification status extension.
//! - Errors: `OperationOutcome` whose `issue[0].details.coding` carries a [`SpineErrorCode`].

pub mod audit_event;
pub mod build;
pub mod capability;
mod error;
mod gender;
pub mod parse;
pub mod upload;
pub mod upload_csv;
pub mod wire;

pub use build::{
    access_history_bundle, access_notification_bundle, care_team, care_team_search_bundle,
    operation_outcome, patient, to_json_bytes, upload_bundle,
};
pub use error::{FhirError, SpineErrorCode};
pub use gender::{gender_code, gender_from_code};
pub use parse::{
    CareTeamSearch, OperationOutcomeSummary, care_team_to_record, parse_access_history,
    parse_care_team_search, parse_operation_outcome, parse_patient,
};

/// The FHIR content type every endpoint answers with.
pub const FHIR_JSON_CONTENT_TYPE: &str = "application/fhir+json";
/// NHS number identifier system.
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
/// ODS organisation code identifier system.
pub const ODS_ORGANIZATION_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
/// SNOMED CT.
pub const SNOMED_SYSTEM: &str = "http://snomed.info/sct";
/// The CareTeam profile the CP-IS example claims.
pub const CARE_TEAM_PROFILE: &str =
    "https://fhir.nhs.uk/England/StructureDefinition/England-CareTeam-Flag";
/// Spine error codes, carried in `OperationOutcome.issue.details.coding`.
pub const SPINE_ERROR_CODE_SYSTEM: &str =
    "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode";
/// UK Core NHS number verification status extension on `Patient.identifier`.
pub const NHS_NUMBER_VERIFICATION_STATUS_URL: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus";
/// The code system of the verification status.
pub const NHS_NUMBER_VERIFICATION_STATUS_SYSTEM: &str =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland";
/// Verification status `01`: number present and verified. The only status the parser accepts.
pub const NHS_NUMBER_VERIFIED_CODE: &str = "01";
/// The v3 Confidentiality code system of `meta.security`: `R` (restricted) and `V` (very
/// restricted) mark a record PDS has restricted.
pub const CONFIDENTIALITY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
/// The v3 RoleClass code system of `AuditEvent.agent.type`: `PAT` (the patient) and `ASSIGNED`
/// (the person who viewed).
pub const ROLE_CLASS_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleClass";
/// The `_include` the consumer guide requires on the AuditEvent search, as written there (the
/// query builder URL-encodes it).
pub const ACCESS_HISTORY_INCLUDE: &str =
    "AuditEvent:entity-type=http://terminology.hl7.org/CodeSystem/v3-RoleClass|ASSIGNED";
/// Spine error codes as the CP-IS guide's OperationOutcome example writes them (PDS uses
/// [`SPINE_ERROR_CODE_SYSTEM`]); a client accepts both.
pub const ENGLAND_SPINE_ERROR_CODE_SYSTEM: &str =
    "https://fhir.nhs.uk/CodeSystem/England-SpineErrorOrWarningCode";
/// The NHS number verification status code system as PDS writes it (the `...England` variant,
/// [`NHS_NUMBER_VERIFICATION_STATUS_SYSTEM`], is also accepted).
pub const PDS_NHS_NUMBER_VERIFICATION_STATUS_SYSTEM: &str =
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus";
/// Transaction (TraceID) identifier system on an AuditEvent entity.
pub const TRANSACTION_SYSTEM: &str = "https://fhir.nhs.uk/Id/transaction";
/// SDS user id identifier system.
pub const SDS_USER_ID_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-user-id";
/// SDS role profile id identifier system.
pub const SDS_ROLE_PROFILE_ID_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-role-profile-id";

/// The extension on a CareTeam carrying the allocated social worker, where the local authority
/// chooses to share one. Not part of the national CP-IS data set (which holds no named social
/// worker); defined by this project. It is a complex extension with two sub-extensions:
/// `name` (`valueString`) and `phone` (`valueContactPoint`, `system=phone`, `use=work`).
pub const SOCIAL_WORKER_EXTENSION_URL: &str = "https://cpis-viewer.example.org/fhir/StructureDefinition/Extension-CPIS-LASharedAllocatedSocialWorker";

/// AuditEvent subtype code used for a CP-IS access history entry.
pub const ACCESS_EVENT_SUBTYPE: &str = "cpis-unscheduled-access";
/// AuditEvent subtype code used for an Access to Service Notification sent to an LA.
pub const ACCESS_NOTIFICATION_SUBTYPE: &str = "cpis-access-to-service-notification";
/// The code system of the two subtypes above (defined by this project).
pub const CPIS_EVENT_SUBTYPE_SYSTEM: &str =
    "https://cpis-viewer.example.org/fhir/CodeSystem/cpis-event-subtype";
