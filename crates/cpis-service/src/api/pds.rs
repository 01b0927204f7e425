//! The demographics stand-in: `GET /personal-demographics/FHIR/R4/Patient/{nhs}`, a PDS
//! Patient read for any role that may look up CP-IS, review views or act for a local authority,
//! with PDS's `X-Request-ID` (a UUID) required. Its errors are written as PDS writes them (the
//! R4 Spine code system). Every read of a valid number, found or not, is recorded
//! ([`crate::reads`]) before the answer.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use cpis_domain::{ACTIVITY_LOCAL_AUTHORITY, ACTIVITY_SAFEGUARDING_REVIEW, NhsNumber};
use cpis_fhir::SpineErrorCode;

use crate::auth::Principal;
use crate::error::{ApiError, fhir_response};
use crate::extract::{Caller, request_id};
use crate::reads::{ReadInteraction, record_read};
use crate::state::AppState;

/// The demographics route, merged by the router in `api/mod.rs`.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/personal-demographics/FHIR/R4/Patient/{nhs_number}",
        get(patient_read),
    )
}

async fn patient_read(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    Path(nhs_number): Path<String>,
) -> Result<Response, ApiError> {
    patient_answer(&state, &principal, &headers, &nhs_number)
        .await
        .map_err(ApiError::in_pds)
}

async fn patient_answer(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    nhs_number: &str,
) -> Result<Response, ApiError> {
    let request_id = request_id(headers)?;
    let permitted = principal.may_look_up()
        || principal.has_activity(ACTIVITY_SAFEGUARDING_REVIEW)
        || principal.has_activity(ACTIVITY_LOCAL_AUTHORITY);
    if !permitted {
        return Err(ApiError::forbidden(
            "The selected role has no activity that permits a demographics read",
        ));
    }
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            SpineErrorCode::InvalidResourceId,
            "The NHS number is not valid",
        )
    };
    if nhs_number.len() != 10 || !nhs_number.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid());
    }
    let nhs_number = NhsNumber::parse(nhs_number).map_err(|_| invalid())?;
    let person = state.store.person(&nhs_number).await?;
    // A read, found or not: recorded before the answer, or the answer is 503.
    record_read(
        state,
        principal,
        nhs_number.as_str(),
        &request_id,
        ReadInteraction::PdsRead,
        person.is_some(),
    )
    .await?;
    match person {
        Some(person) => Ok(fhir_response(StatusCode::OK, &cpis_fhir::patient(&person))),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            SpineErrorCode::ResourceNotFound,
            "No patient with this NHS number",
        )),
    }
}
