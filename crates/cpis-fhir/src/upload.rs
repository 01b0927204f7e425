//! Local authority uploads: a batch Bundle of CareTeam in, a batch-response Bundle out, with an
//! accept or reject code per record. Each record stands alone (all-or-nothing per record).

use cpis_domain::{NhsNumber, ProtectionPlan};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::FhirError;
use crate::parse::care_team_to_plan;
use crate::wire::{
    Bundle, BundleEntry, BundleEntryResponse, CareTeam, CodeableConcept, Coding, OperationOutcome,
    OperationOutcomeIssue,
};

/// The code system of the per-record reject codes (defined by this project).
pub const UPLOAD_REJECT_CODE_SYSTEM: &str =
    "https://cpis-viewer.example.org/fhir/CodeSystem/cpis-upload-reject-code";

/// Why one uploaded record was refused. Nothing of it was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UploadRejectCode {
    /// The NHS number is missing or fails the Modulus 11 check.
    InvalidNhsNumber,
    /// The NHS number is valid but not known to the demographics service.
    UnknownPerson,
    /// The plan ends before it starts.
    DateOrder,
    /// The plan type is not one of the three SNOMED CT codes (or CSV short codes).
    UnknownPlanType,
    /// The record names a local authority other than the uploader's organisation.
    WrongLocalAuthority,
    /// Anything else: a required field missing or malformed.
    InvalidRecord,
}

impl UploadRejectCode {
    /// Every code.
    pub const ALL: [UploadRejectCode; 6] = [
        UploadRejectCode::InvalidNhsNumber,
        UploadRejectCode::UnknownPerson,
        UploadRejectCode::DateOrder,
        UploadRejectCode::UnknownPlanType,
        UploadRejectCode::WrongLocalAuthority,
        UploadRejectCode::InvalidRecord,
    ];

    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadRejectCode::InvalidNhsNumber => "INVALID_NHS_NUMBER",
            UploadRejectCode::UnknownPerson => "UNKNOWN_PERSON",
            UploadRejectCode::DateOrder => "DATE_ORDER",
            UploadRejectCode::UnknownPlanType => "UNKNOWN_PLAN_TYPE",
            UploadRejectCode::WrongLocalAuthority => "WRONG_LOCAL_AUTHORITY",
            UploadRejectCode::InvalidRecord => "INVALID_RECORD",
        }
    }

    /// Parse [`UploadRejectCode::as_str`].
    pub fn parse(code: &str) -> Option<UploadRejectCode> {
        UploadRejectCode::ALL
            .into_iter()
            .find(|candidate| candidate.as_str() == code)
    }

    /// A plain-English explanation for the uploader.
    pub fn message(self) -> &'static str {
        match self {
            UploadRejectCode::InvalidNhsNumber => "The NHS number is missing or not valid",
            UploadRejectCode::UnknownPerson => "No person with this NHS number is known",
            UploadRejectCode::DateOrder => "The plan end date is before its start date",
            UploadRejectCode::UnknownPlanType => "The plan type is not one CP-IS holds",
            UploadRejectCode::WrongLocalAuthority => {
                "The record names a local authority other than yours"
            }
            UploadRejectCode::InvalidRecord => "A required field is missing or not valid",
        }
    }
}

/// A refused record: the code and, where known, the element at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadRejection {
    /// Why.
    pub code: UploadRejectCode,
    /// The FHIR element (or CSV column) at fault.
    pub element: Option<&'static str>,
}

impl UploadRejection {
    /// A rejection with no element.
    pub fn new(code: UploadRejectCode) -> UploadRejection {
        UploadRejection {
            code,
            element: None,
        }
    }

    fn from_fhir(error: &FhirError) -> UploadRejection {
        let (code, element) = match error {
            FhirError::InvalidNhsNumber => (UploadRejectCode::InvalidNhsNumber, None),
            FhirError::MissingElement {
                element: element @ "CareTeam.subject.identifier",
            } => (UploadRejectCode::InvalidNhsNumber, Some(*element)),
            FhirError::PeriodEndsBeforeStart => {
                (UploadRejectCode::DateOrder, Some("CareTeam.period"))
            }
            FhirError::UnknownPlanCode => {
                (UploadRejectCode::UnknownPlanType, Some("CareTeam.category"))
            }
            FhirError::MissingElement { element } | FhirError::InvalidElement { element } => {
                (UploadRejectCode::InvalidRecord, Some(*element))
            }
            _ => (UploadRejectCode::InvalidRecord, None),
        };
        UploadRejection { code, element }
    }
}

/// What happened to one accepted or refused record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadRecordOutcome {
    /// A new plan was stored.
    Created,
    /// An existing plan (same person, authority, type and start) was updated.
    Updated,
    /// Refused; nothing stored.
    Rejected(UploadRejection),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawUploadBundle<'a> {
    resource_type: String,
    #[serde(rename = "type")]
    bundle_type: String,
    #[serde(default, borrow)]
    entry: Option<Vec<RawUploadEntry<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawUploadEntry<'a> {
    #[serde(default, borrow)]
    resource: Option<&'a RawValue>,
}

/// Parse an upload: a Bundle of type `batch`, `transaction` or `collection` whose entries are
/// CareTeams. The outer error is for a body that is not such a Bundle at all; each record gets
/// its own result.
#[allow(clippy::type_complexity)]
pub fn parse_upload_bundle(
    body: &[u8],
) -> Result<Vec<Result<(NhsNumber, ProtectionPlan), UploadRejection>>, FhirError> {
    let bundle: RawUploadBundle<'_> =
        serde_json::from_slice(body).map_err(|error| FhirError::from_json(&error))?;
    if bundle.resource_type != "Bundle" {
        return Err(FhirError::WrongResourceType { expected: "Bundle" });
    }
    if !matches!(
        bundle.bundle_type.as_str(),
        "batch" | "transaction" | "collection"
    ) {
        return Err(FhirError::WrongBundleType { expected: "batch" });
    }
    Ok(bundle
        .entry
        .unwrap_or_default()
        .into_iter()
        .map(|entry| {
            let raw = entry.resource.ok_or(UploadRejection {
                code: UploadRejectCode::InvalidRecord,
                element: Some("Bundle.entry.resource"),
            })?;
            let team: CareTeam = serde_json::from_str(raw.get())
                .map_err(|_| UploadRejection::new(UploadRejectCode::InvalidRecord))?;
            care_team_to_plan(&team).map_err(|error| UploadRejection::from_fhir(&error))
        })
        .collect())
}

fn rejection_outcome(rejection: &UploadRejection) -> OperationOutcome {
    OperationOutcome {
        resource_type: "OperationOutcome".into(),
        meta: None,
        issue: vec![OperationOutcomeIssue {
            severity: "error".into(),
            code: "invalid".into(),
            details: Some(CodeableConcept {
                coding: vec![Coding {
                    system: Some(UPLOAD_REJECT_CODE_SYSTEM.into()),
                    version: None,
                    code: Some(rejection.code.as_str().into()),
                    display: Some(rejection.code.message().into()),
                }],
                text: None,
            }),
            diagnostics: None,
            expression: rejection.element.iter().map(|e| (*e).to_owned()).collect(),
        }],
    }
}

/// The answer to an upload: a `batch-response` Bundle with one entry per record, in order:
/// `201 Created`, `200 OK` (updated) or `422 Unprocessable Entity` with an OperationOutcome
/// whose coding is the reject code.
pub fn upload_response_bundle(outcomes: &[UploadRecordOutcome]) -> Bundle {
    let entries = outcomes
        .iter()
        .map(|outcome| {
            let response = match outcome {
                UploadRecordOutcome::Created => BundleEntryResponse {
                    status: "201 Created".into(),
                    location: None,
                    outcome: None,
                },
                UploadRecordOutcome::Updated => BundleEntryResponse {
                    status: "200 OK".into(),
                    location: None,
                    outcome: None,
                },
                UploadRecordOutcome::Rejected(rejection) => BundleEntryResponse {
                    status: "422 Unprocessable Entity".into(),
                    location: None,
                    outcome: serde_json::to_value(rejection_outcome(rejection)).ok(),
                },
            };
            BundleEntry {
                response: Some(response),
                ..BundleEntry::default()
            }
        })
        .collect();
    Bundle {
        resource_type: "Bundle".into(),
        id: None,
        meta: None,
        bundle_type: "batch-response".into(),
        total: None,
        link: Vec::new(),
        entry: Some(entries),
    }
}

/// Read an upload response back: per record, `Ok(status)` or `Err(reject code)`.
pub fn parse_upload_response(body: &[u8]) -> Result<Vec<Result<u16, UploadRejectCode>>, FhirError> {
    let bundle: Bundle =
        serde_json::from_slice(body).map_err(|error| FhirError::from_json(&error))?;
    if bundle.resource_type != "Bundle" {
        return Err(FhirError::WrongResourceType { expected: "Bundle" });
    }
    if bundle.bundle_type != "batch-response" {
        return Err(FhirError::WrongBundleType {
            expected: "batch-response",
        });
    }
    bundle
        .entry
        .unwrap_or_default()
        .into_iter()
        .map(|entry| {
            let response = entry.response.ok_or(FhirError::MissingElement {
                element: "Bundle.entry.response",
            })?;
            let status: u16 = response
                .status
                .split(' ')
                .next()
                .and_then(|code| code.parse().ok())
                .ok_or(FhirError::InvalidElement {
                    element: "Bundle.entry.response.status",
                })?;
            if status < 300 {
                return Ok(Ok(status));
            }
            let outcome: OperationOutcome = response
                .outcome
                .and_then(|value| serde_json::from_value(value).ok())
                .ok_or(FhirError::MissingElement {
                    element: "Bundle.entry.response.outcome",
                })?;
            let code = outcome
                .issue
                .iter()
                .filter_map(|issue| issue.details.as_ref())
                .flat_map(|details| &details.coding)
                .find(|coding| coding.system.as_deref() == Some(UPLOAD_REJECT_CODE_SYSTEM))
                .and_then(|coding| coding.code.as_deref())
                .and_then(UploadRejectCode::parse)
                .ok_or(FhirError::InvalidElement {
                    element: "Bundle.entry.response.outcome",
                })?;
            Ok(Err(code))
        })
        .collect()
}
