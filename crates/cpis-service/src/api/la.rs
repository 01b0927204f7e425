//! The local authority side: uploads of plans (`POST /la/FHIR/R4`, a batch Bundle of CareTeam;
//! `POST /la/csv`, the CSV for authorities without FHIR tooling), each record stored on its own,
//! and the Access to Service Notifications (`GET /la/FHIR/R4/AuditEvent?since={instant}`).
//! Every route is for a local authority role (`B1235`), about its own authority only.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use cpis_domain::{NhsNumber, ProtectionPlan};
use cpis_fhir::build::ServedAccess;
use cpis_fhir::upload::{
    UploadRecordOutcome, UploadRejectCode, UploadRejection, parse_upload_bundle,
    upload_response_bundle,
};
use cpis_fhir::upload_csv::parse_csv_upload;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::Principal;
use crate::error::{ApiError, fhir_response};
use crate::extract::{Caller, body_or_error, require_content_type, require_local_authority};
use crate::state::AppState;
use crate::store::UpsertOutcome;

/// The most notifications one request returns (page with `since` = the last one's time).
pub const NOTIFICATION_PAGE_LIMIT: i64 = 1000;

/// The local authority routes, merged by the router in `api/mod.rs`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/la/FHIR/R4", post(upload_bundle))
        .route("/la/csv", post(upload_csv))
        .route("/la/FHIR/R4/AuditEvent", get(notifications_search))
}

/// Store each parsed record on its own; the answer lists every record's outcome in order.
async fn store_records(
    state: &AppState,
    organisation_ods: &str,
    records: Records,
) -> Result<Vec<UploadRecordOutcome>, ApiError> {
    let now = state.now();
    let mut outcomes = Vec::with_capacity(records.len());
    for record in records {
        let outcome = match record {
            Err(rejection) => UploadRecordOutcome::Rejected(rejection),
            Ok((_, plan)) if plan.local_authority.ods_code != organisation_ods => {
                UploadRecordOutcome::Rejected(UploadRejection {
                    code: UploadRejectCode::WrongLocalAuthority,
                    element: Some("CareTeam.managingOrganization.identifier"),
                })
            }
            Ok((nhs_number, plan)) => {
                if !state.store.person_exists(&nhs_number).await? {
                    UploadRecordOutcome::Rejected(UploadRejection::new(
                        UploadRejectCode::UnknownPerson,
                    ))
                } else {
                    match state.store.upsert_plan(&nhs_number, &plan, now).await? {
                        UpsertOutcome::Created => UploadRecordOutcome::Created,
                        UpsertOutcome::Updated => UploadRecordOutcome::Updated,
                    }
                }
            }
        };
        state.metrics.upload_record(match &outcome {
            UploadRecordOutcome::Created => "created",
            UploadRecordOutcome::Updated => "updated",
            UploadRecordOutcome::Rejected(rejection) => rejection.code.as_str(),
        });
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// One parsed upload: each record, or why it was refused.
type Records = Vec<Result<(NhsNumber, ProtectionPlan), UploadRejection>>;

/// What every upload does: check the role, the media type (one of `media_types`) and the body,
/// `parse` it, and store each record on its own.
async fn upload(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    media_types: &[&str],
    parse: impl FnOnce(&[u8]) -> Result<Records, ApiError>,
) -> Result<Response, ApiError> {
    let organisation_ods = require_local_authority(principal)?;
    require_content_type(headers, media_types)?;
    let body = body_or_error(body)?;
    let records = parse(&body)?;
    let outcomes = store_records(state, &organisation_ods, records).await?;
    Ok(fhir_response(
        StatusCode::OK,
        &upload_response_bundle(&outcomes),
    ))
}

async fn upload_bundle(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let media_types = ["application/fhir+json", "application/json"];
    upload(&state, &principal, &headers, body, &media_types, |body| {
        parse_upload_bundle(body).map_err(|_| {
            ApiError::invalid_value(
                "The body must be a FHIR Bundle of type batch, transaction or collection",
            )
        })
    })
    .await
}

async fn upload_csv(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    upload(&state, &principal, &headers, body, &["text/csv"], |body| {
        parse_csv_upload(body).map_err(ApiError::invalid_value)
    })
    .await
}

async fn notifications_search(
    State(state): State<AppState>,
    Caller(principal): Caller,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let organisation_ods = require_local_authority(&principal)?;
    let Query(parameters) =
        query.map_err(|_| ApiError::invalid_search("The query string is not valid"))?;
    let mut since: Option<OffsetDateTime> = None;
    for (name, value) in &parameters {
        match name.as_str() {
            "since" if since.is_none() => {
                since = Some(OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
                    ApiError::invalid_search(
                        "since must be an RFC 3339 instant, e.g. 2026-11-25T09:00:00Z",
                    )
                })?);
            }
            _ => {
                return Err(ApiError::invalid_search(
                    "Only one since parameter is supported",
                ));
            }
        }
    }
    let since = since.ok_or_else(|| ApiError::invalid_search("since is missing"))?;
    let notifications = state
        .store
        .notifications_since(&organisation_ods, since, NOTIFICATION_PAGE_LIMIT)
        .await?;
    let served: Vec<ServedAccess<'_>> = notifications
        .iter()
        .map(|(id, nhs_number, access)| ServedAccess {
            id,
            nhs_number,
            access: &access.record,
            role_profile_id: Some(&access.role_profile_id),
            trace_id: Some(&access.trace_id),
        })
        .collect();
    // The self link names the search as run, `since` in UTC.
    let since_text = since.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok();
    Ok(fhir_response(
        StatusCode::OK,
        &cpis_fhir::build::access_notification_answer(
            state.public_url(),
            since_text.as_deref(),
            &served,
        ),
    ))
}
