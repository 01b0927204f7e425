//! Reading a request: the verified [`Caller`] (an axum extractor), the checks on the caller's
//! role, the CP-IS headers (`TraceID`, `IsUnscheduledAccessEvent`), the `patient:identifier`
//! search, and request bodies with their media type.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequestParts, Query};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use cpis_domain::{ACTIVITY_LOCAL_AUTHORITY, NhsNumber};
use cpis_fhir::{NHS_NUMBER_SYSTEM, SpineErrorCode};

use crate::auth::{AuthError, Principal};
use crate::error::ApiError;
use crate::state::AppState;

/// The verified caller of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<Principal>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let result = async {
            let header = parts.headers.get(AUTHORIZATION).ok_or(AuthError::Missing)?;
            let value = header.to_str().map_err(|_| AuthError::Malformed)?;
            let token = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|token| !token.is_empty())
                .ok_or(AuthError::Missing)?;
            state.verifier.verify(token).await
        }
        .await;
        match result {
            Ok(principal) => Ok(Caller(principal)),
            Err(error) => {
                state.metrics.auth_failure(error.code());
                Err(ApiError::unauthorised(error))
            }
        }
    }
}

/// The caller's role may look up CP-IS (`B0107` or `B0170`).
pub fn require_lookup(principal: &Principal) -> Result<(), ApiError> {
    if principal.may_look_up() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "The selected role has no CP-IS activity (B0107 or B0170)",
        ))
    }
}

/// The caller's role is a local authority's (`B1235`): its ODS code.
pub fn require_local_authority(principal: &Principal) -> Result<String, ApiError> {
    if principal.has_activity(ACTIVITY_LOCAL_AUTHORITY) {
        Ok(principal.actor.role.organisation_ods.clone())
    } else {
        Err(ApiError::forbidden(
            "The selected role has no local authority activity (B1235)",
        ))
    }
}

/// `TraceID` must be a UUID.
pub fn trace_id(headers: &HeaderMap) -> Result<String, ApiError> {
    let precondition = |message| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            SpineErrorCode::PreconditionFailed,
            message,
        )
    };
    let value = headers
        .get("TraceID")
        .ok_or_else(|| precondition("TraceID header is missing"))?;
    let text = value
        .to_str()
        .map_err(|_| precondition("TraceID header is not a UUID"))?;
    uuid::Uuid::parse_str(text.trim())
        .map(|uuid| uuid.to_string())
        .map_err(|_| precondition("TraceID header is not a UUID"))
}

/// `IsUnscheduledAccessEvent`: `true` (the default when absent) or `false`.
pub fn unscheduled_header(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers.get("IsUnscheduledAccessEvent") {
        None => Ok(true),
        Some(value) => match value.to_str().map(|text| text.trim().to_ascii_lowercase()) {
            Ok(text) if text == "true" => Ok(true),
            Ok(text) if text == "false" => Ok(false),
            _ => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                SpineErrorCode::PreconditionFailed,
                "IsUnscheduledAccessEvent header must be true or false",
            )),
        },
    }
}

/// The one `patient:identifier` search parameter: `{NHS system}|{10 digits}`.
pub fn patient_identifier(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<NhsNumber, ApiError> {
    let Query(parameters) =
        query.map_err(|_| ApiError::invalid_search("The query string is not valid"))?;
    let mut found: Option<&str> = None;
    for (name, value) in &parameters {
        if name != "patient:identifier" {
            return Err(ApiError::invalid_search(
                "Only the patient:identifier search parameter is supported",
            ));
        }
        if found.is_some() {
            return Err(ApiError::invalid_search(
                "patient:identifier is given more than once",
            ));
        }
        found = Some(value);
    }
    let value = found.ok_or_else(|| ApiError::invalid_search("patient:identifier is missing"))?;
    let digits = value
        .strip_prefix(NHS_NUMBER_SYSTEM)
        .and_then(|rest| rest.strip_prefix('|'))
        .ok_or_else(|| {
            ApiError::invalid_search(
                "patient:identifier must be https://fhir.nhs.uk/Id/nhs-number|{NHS number}",
            )
        })?;
    if digits.len() != 10 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(ApiError::invalid_search("The NHS number must be 10 digits"));
    }
    NhsNumber::parse(digits).map_err(|_| ApiError::invalid_search("The NHS number is not valid"))
}

/// The body, or 413 when it is over the limit and 400 when it could not be read.
pub fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                SpineErrorCode::MessageTooLarge,
                "The request body is too large",
            )
        } else {
            ApiError::invalid_value("The request body could not be read")
        }
    })
}

/// The `Content-Type` (without parameters) is one of `accepted`, else 415.
pub fn require_content_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), ApiError> {
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    match media_type {
        Some(media_type) if accepted.contains(&media_type.as_str()) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            SpineErrorCode::InvalidValue,
            "Unsupported Content-Type for this endpoint",
        )),
    }
}
