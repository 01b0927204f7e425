//! Errors from the strict parsers, and the Spine error codes that OperationOutcomes carry.
//! No error holds input text or patient data: only field names and small numbers.

use cpis_domain::CouldNotCheckReason;

/// Why a FHIR body was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirError {
    /// Not JSON, or JSON of the wrong shape for the wire types (wrong types, duplicate keys,
    /// truncated). Only the position and category are kept, never the text.
    #[error("body is not valid FHIR JSON ({category} at line {line} column {column})")]
    InvalidJson {
        /// `syntax`, `data`, `eof` or `io`.
        category: &'static str,
        /// Line of the problem.
        line: usize,
        /// Column of the problem.
        column: usize,
    },
    /// The `resourceType` was not the one expected.
    #[error("expected a {expected} resource")]
    WrongResourceType {
        /// The expected resource type.
        expected: &'static str,
    },
    /// A Bundle of the wrong `type`.
    #[error("expected a Bundle of type {expected}")]
    WrongBundleType {
        /// The expected bundle type.
        expected: &'static str,
    },
    /// A searchset Bundle without `total`.
    #[error("searchset Bundle has no total")]
    MissingTotal,
    /// `total` disagrees with the number of entries.
    #[error("Bundle total {total} does not match its {entries} entries")]
    TotalMismatch {
        /// The `total` given.
        total: u64,
        /// How many entries there were.
        entries: usize,
    },
    /// A required element is missing or empty.
    #[error("missing required element {element}")]
    MissingElement {
        /// FHIRPath-like name of the element.
        element: &'static str,
    },
    /// An element is present but its value is not acceptable.
    #[error("invalid value in element {element}")]
    InvalidElement {
        /// FHIRPath-like name of the element.
        element: &'static str,
    },
    /// A CareTeam's plan category is not one of the three CP-IS SNOMED codes.
    #[error("unknown plan type code")]
    UnknownPlanCode,
    /// The NHS number in the response is not a valid NHS number.
    #[error("NHS number in the response is not valid")]
    InvalidNhsNumber,
    /// The response is about a different NHS number from the one asked about.
    #[error("response is about a different NHS number")]
    AnotherPatient,
    /// A plan ends before it starts.
    #[error("period ends before it starts")]
    PeriodEndsBeforeStart,
    /// The NHS number has not been verified by PDS.
    #[error("NHS number is not verified")]
    NhsNumberNotVerified,
    /// A search answer's `self` link names a different NHS number from the one asked about:
    /// the answer is for another search.
    #[error("search answer's self link names a different NHS number")]
    SelfLinkAnotherPatient,
}

impl FhirError {
    pub(crate) fn from_json(error: &serde_json::Error) -> FhirError {
        let category = match error.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        };
        FhirError::InvalidJson {
            category,
            line: error.line(),
            column: error.column(),
        }
    }

    /// What the client should tell the clinician: another patient, or an unreadable answer.
    pub fn could_not_check_reason(&self) -> CouldNotCheckReason {
        match self {
            FhirError::AnotherPatient | FhirError::SelfLinkAnotherPatient => {
                CouldNotCheckReason::ResponseForAnotherPatient
            }
            _ => CouldNotCheckReason::InvalidResponse,
        }
    }

    /// Whether the answer is about another patient (by its content or its `self` link).
    pub fn is_another_patient(&self) -> bool {
        matches!(
            self,
            FhirError::AnotherPatient | FhirError::SelfLinkAnotherPatient
        )
    }

    /// A stable code for support staff saying what was refused, such as `missing_total`,
    /// `invalid_json:syntax` or `missing_element:CareTeam.name`: the kind of refusal and, where
    /// there is one, the expected type or the element path. Never a value from the answer.
    pub fn detail_code(&self) -> String {
        match self {
            FhirError::InvalidJson { category, .. } => format!("invalid_json:{category}"),
            FhirError::WrongResourceType { expected } => format!("wrong_resource_type:{expected}"),
            FhirError::WrongBundleType { expected } => format!("wrong_bundle_type:{expected}"),
            FhirError::MissingTotal => "missing_total".into(),
            FhirError::TotalMismatch { .. } => "total_mismatch".into(),
            FhirError::MissingElement { element } => format!("missing_element:{element}"),
            FhirError::InvalidElement { element } => format!("invalid_element:{element}"),
            FhirError::UnknownPlanCode => "unknown_plan_code".into(),
            FhirError::InvalidNhsNumber => "invalid_nhs_number".into(),
            FhirError::AnotherPatient => "another_patient".into(),
            FhirError::PeriodEndsBeforeStart => "period_ends_before_start".into(),
            FhirError::NhsNumberNotVerified => "nhs_number_not_verified".into(),
            FhirError::SelfLinkAnotherPatient => "self_link_another_patient".into(),
        }
    }
}

/// Spine error codes used in OperationOutcomes. The first three are the CP-IS API's; the rest
/// are those of PDS and of this service's LA upload and operations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SpineErrorCode {
    /// 400: the NHS number or search parameter is invalid.
    InvalidSearchData,
    /// 400: a required header is missing or invalid.
    PreconditionFailed,
    /// 401 (no or bad token) or 403 (role without the activity).
    AccessDenied,
    /// 404: no such resource (PDS: unknown NHS number).
    ResourceNotFound,
    /// 400: the id in the path is invalid (PDS: invalid NHS number).
    InvalidResourceId,
    /// 400 or 422: a value in the request body is invalid.
    InvalidValue,
    /// 413: the request body is too large.
    MessageTooLarge,
    /// 404: no such endpoint.
    UnsupportedService,
    /// 405: method not allowed.
    MethodNotAllowed,
    /// 408 or 504: the request took too long.
    Timeout,
    /// 500: the service failed.
    ServerError,
    /// 503: the service is unavailable (for example its database is down).
    ServiceUnavailable,
    /// Any other code, kept verbatim.
    Other(String),
}

impl SpineErrorCode {
    /// The code as written in the OperationOutcome.
    pub fn as_str(&self) -> &str {
        match self {
            SpineErrorCode::InvalidSearchData => "INVALID_SEARCH_DATA",
            SpineErrorCode::PreconditionFailed => "PRECONDITION_FAILED",
            SpineErrorCode::AccessDenied => "ACCESS_DENIED",
            SpineErrorCode::ResourceNotFound => "RESOURCE_NOT_FOUND",
            SpineErrorCode::InvalidResourceId => "INVALID_RESOURCE_ID",
            SpineErrorCode::InvalidValue => "INVALID_VALUE",
            SpineErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
            SpineErrorCode::UnsupportedService => "UNSUPPORTED_SERVICE",
            SpineErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            SpineErrorCode::Timeout => "TIMEOUT",
            SpineErrorCode::ServerError => "SERVER_ERROR",
            SpineErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            SpineErrorCode::Other(code) => code,
        }
    }

    /// Parse a code; unknown codes become [`SpineErrorCode::Other`].
    pub fn parse(code: &str) -> SpineErrorCode {
        match code {
            "INVALID_SEARCH_DATA" => SpineErrorCode::InvalidSearchData,
            "PRECONDITION_FAILED" => SpineErrorCode::PreconditionFailed,
            "ACCESS_DENIED" => SpineErrorCode::AccessDenied,
            "RESOURCE_NOT_FOUND" => SpineErrorCode::ResourceNotFound,
            "INVALID_RESOURCE_ID" => SpineErrorCode::InvalidResourceId,
            "INVALID_VALUE" => SpineErrorCode::InvalidValue,
            "MESSAGE_TOO_LARGE" => SpineErrorCode::MessageTooLarge,
            "UNSUPPORTED_SERVICE" => SpineErrorCode::UnsupportedService,
            "METHOD_NOT_ALLOWED" => SpineErrorCode::MethodNotAllowed,
            "TIMEOUT" => SpineErrorCode::Timeout,
            "SERVER_ERROR" => SpineErrorCode::ServerError,
            "SERVICE_UNAVAILABLE" => SpineErrorCode::ServiceUnavailable,
            other => SpineErrorCode::Other(other.to_owned()),
        }
    }

    /// The FHIR `IssueType` code that goes with it: for the CP-IS codes, as the CP-IS error
    /// handling page lists them (`INVALID_SEARCH_DATA` and `PRECONDITION_FAILED` are `invalid`,
    /// `ACCESS_DENIED` is `forbidden`); for PDS's, as PDS answers (`INVALID_RESOURCE_ID` and
    /// `INVALID_VALUE` are `value`, `MISSING_VALUE` is `required`, `RESOURCE_NOT_FOUND` is
    /// `not-found`).
    pub fn issue_type(&self) -> &'static str {
        match self {
            SpineErrorCode::InvalidSearchData | SpineErrorCode::PreconditionFailed => "invalid",
            SpineErrorCode::InvalidResourceId | SpineErrorCode::InvalidValue => "value",
            SpineErrorCode::Other(code) if code == "MISSING_VALUE" => "required",
            SpineErrorCode::AccessDenied => "forbidden",
            SpineErrorCode::ResourceNotFound => "not-found",
            SpineErrorCode::MessageTooLarge => "too-costly",
            SpineErrorCode::UnsupportedService | SpineErrorCode::MethodNotAllowed => {
                "not-supported"
            }
            SpineErrorCode::Timeout => "timeout",
            SpineErrorCode::ServerError
            | SpineErrorCode::ServiceUnavailable
            | SpineErrorCode::Other(_) => "exception",
        }
    }

    /// A display text for the code (the CP-IS guide's for `ACCESS_DENIED`, PDS's for its codes).
    pub fn display(&self) -> &'static str {
        match self {
            SpineErrorCode::InvalidSearchData => "Invalid search data",
            SpineErrorCode::PreconditionFailed => "Precondition failed",
            SpineErrorCode::AccessDenied => "Access has been denied to process this request",
            SpineErrorCode::ResourceNotFound => "Resource not found",
            SpineErrorCode::InvalidResourceId => "Resource Id is invalid",
            SpineErrorCode::InvalidValue => "Provided value is invalid",
            SpineErrorCode::Other(code) if code == "MISSING_VALUE" => "Required value is missing",
            SpineErrorCode::MessageTooLarge => "Message too large",
            SpineErrorCode::UnsupportedService => "Unsupported service",
            SpineErrorCode::MethodNotAllowed => "Method not allowed",
            SpineErrorCode::Timeout => "Timeout",
            SpineErrorCode::ServerError => "Server error",
            SpineErrorCode::ServiceUnavailable => "Service unavailable",
            SpineErrorCode::Other(_) => "Other error",
        }
    }
}
