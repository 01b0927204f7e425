//! The API's error type: [`ApiError`], answered as a FHIR OperationOutcome with a Spine error
//! code (in the CP-IS code system, or PDS's for the demographics API), and [`fhir_response`],
//! which every FHIR answer goes through.

use std::borrow::Cow;

use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cpis_fhir::build::SpineErrorSystem;
use cpis_fhir::{FHIR_JSON_CONTENT_TYPE, SpineErrorCode};
use serde::Serialize;

use crate::auth::AuthError;
use crate::store::StoreError;

/// An error answered as an OperationOutcome. `diagnostics` never holds patient data.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: SpineErrorCode,
    diagnostics: Cow<'static, str>,
    system: SpineErrorSystem,
}

/// Where the demographics (PDS) API lives: its errors are written in PDS's code system.
pub const PDS_PATH_PREFIX: &str = "/personal-demographics/";

impl ApiError {
    /// An error with a fixed diagnostic message.
    pub fn new(status: StatusCode, code: SpineErrorCode, diagnostics: &'static str) -> ApiError {
        ApiError {
            status,
            code,
            diagnostics: Cow::Borrowed(diagnostics),
            system: SpineErrorSystem::England,
        }
    }

    /// The same error as the demographics API (PDS) writes it: PDS's Spine code system.
    pub fn in_pds(mut self) -> ApiError {
        self.system = SpineErrorSystem::Pds;
        self
    }

    /// The same error as the API that owns `path` writes it ([`ApiError::in_pds`] under
    /// [`PDS_PATH_PREFIX`]).
    pub fn for_path(self, path: &str) -> ApiError {
        if path.starts_with(PDS_PATH_PREFIX) {
            self.in_pds()
        } else {
            self
        }
    }

    /// A refused access token (401, with `WWW-Authenticate`).
    pub fn unauthorised(error: AuthError) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: SpineErrorCode::AccessDenied,
            diagnostics: Cow::Owned(format!("Access token refused: {error}")),
            system: SpineErrorSystem::England,
        }
    }

    /// The selected role may not do this (403 `ACCESS_DENIED`).
    pub fn forbidden(diagnostics: &'static str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            SpineErrorCode::AccessDenied,
            diagnostics,
        )
    }

    /// A search parameter is wrong (400 `INVALID_SEARCH_DATA`).
    pub fn invalid_search(diagnostics: &'static str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            SpineErrorCode::InvalidSearchData,
            diagnostics,
        )
    }

    /// A value in the request is wrong (400 `INVALID_VALUE`).
    pub fn invalid_value(diagnostics: &'static str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            SpineErrorCode::InvalidValue,
            diagnostics,
        )
    }

    /// The database is unavailable (503).
    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            SpineErrorCode::ServiceUnavailable,
            "The service's database is unavailable",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        tracing::error!(%error, "storage failed");
        ApiError::unavailable()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let outcome = cpis_fhir::build::operation_outcome_in(
            self.system,
            &self.code,
            Some(&self.diagnostics),
        );
        let mut response = fhir_response(self.status, &outcome);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

/// A FHIR JSON response.
pub fn fhir_response<T: Serialize>(status: StatusCode, resource: &T) -> Response {
    match cpis_fhir::to_json_bytes(resource) {
        Ok(body) => (
            status,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static(FHIR_JSON_CONTENT_TYPE),
            )],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
