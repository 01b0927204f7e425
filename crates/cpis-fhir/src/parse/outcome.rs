//! OperationOutcome: the parts of an error answer a client acts on.

use super::{decode, expect_resource_type};
use crate::wire::OperationOutcome;
use crate::{ENGLAND_SPINE_ERROR_CODE_SYSTEM, FhirError, SPINE_ERROR_CODE_SYSTEM, SpineErrorCode};

/// The parts of an OperationOutcome a client acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationOutcomeSummary {
    /// The Spine error code of the first issue, if it had one.
    pub spine_code: Option<SpineErrorCode>,
    /// The FHIR issue type of the first issue.
    pub issue_type: String,
    /// The severity of the first issue.
    pub severity: String,
    /// Diagnostics of the first issue (text from the server: do not show or log it unfiltered).
    pub diagnostics: Option<String>,
}

/// Parse an OperationOutcome: the first issue's Spine code, type, severity and diagnostics.
/// The Spine code is read from `details.coding` in either Spine code system: PDS's
/// ([`SPINE_ERROR_CODE_SYSTEM`]) or the one the CP-IS guide's example uses
/// ([`ENGLAND_SPINE_ERROR_CODE_SYSTEM`]).
pub fn parse_operation_outcome(body: &[u8]) -> Result<OperationOutcomeSummary, FhirError> {
    expect_resource_type(body, "OperationOutcome")?;
    let outcome: OperationOutcome = decode(body)?;
    let issue = outcome.issue.first().ok_or(FhirError::MissingElement {
        element: "OperationOutcome.issue",
    })?;
    let spine_code = issue
        .details
        .iter()
        .flat_map(|details| &details.coding)
        .find(|coding| {
            matches!(
                coding.system.as_deref(),
                Some(SPINE_ERROR_CODE_SYSTEM | ENGLAND_SPINE_ERROR_CODE_SYSTEM)
            )
        })
        .and_then(|coding| coding.code.as_deref())
        .map(SpineErrorCode::parse);
    Ok(OperationOutcomeSummary {
        spine_code,
        issue_type: issue.code.clone(),
        severity: issue.severity.clone(),
        diagnostics: issue.diagnostics.clone(),
    })
}
