//! The CP-IS FHIR API: `GET /cpis/FHIR/R4/CareTeam` (the protection plans visible today, and
//! the access and its notifications recorded when the access is unscheduled) and
//! `GET /cpis/FHIR/R4/AuditEvent` (the access history), both searched by
//! `patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs}`.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use cpis_domain::{NhsNumber, ProtectionPlan, visible_plans};

use crate::auth::Principal;
use crate::error::{ApiError, fhir_response};
use crate::extract::{Caller, patient_identifier, require_lookup, trace_id, unscheduled_header};
use crate::history::{access_history, record_access, unscheduled_access};
use crate::state::AppState;

/// How far back the access history looks before de-duplication.
const HISTORY_SCAN_LIMIT: i64 = 1000;

/// The CP-IS routes, merged by the router in `api/mod.rs`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cpis/FHIR/R4/CareTeam", get(care_team_search))
        .route("/cpis/FHIR/R4/AuditEvent", get(access_history_search))
}

/// What both searches check, in this order: the role, the `TraceID` and
/// `IsUnscheduledAccessEvent` headers, then the `patient:identifier` search.
struct LookupRequest {
    trace_id: String,
    header_unscheduled: bool,
    nhs_number: NhsNumber,
}

fn lookup_request(
    principal: &Principal,
    headers: &HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<LookupRequest, ApiError> {
    require_lookup(principal)?;
    Ok(LookupRequest {
        trace_id: trace_id(headers)?,
        header_unscheduled: unscheduled_header(headers)?,
        nhs_number: patient_identifier(query)?,
    })
}

async fn care_team_search(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let LookupRequest {
        trace_id,
        header_unscheduled,
        nhs_number,
    } = lookup_request(&principal, &headers, query)?;
    let now = state.now();
    let today = crate::uk_time::uk_date(now);
    let plans: Vec<ProtectionPlan> = match state.store.person_plans(&nhs_number).await? {
        None => Vec::new(),
        Some((date_of_birth, plans)) => visible_plans(&plans, date_of_birth, today),
    };
    if let Some(access) = unscheduled_access(
        &principal,
        header_unscheduled,
        &nhs_number,
        &plans,
        trace_id,
        now,
    ) {
        record_access(&state.store, &state.metrics, &access).await;
    }
    state.metrics.lookup(if plans.is_empty() {
        "no_plan"
    } else {
        "plan_found"
    });
    Ok(fhir_response(
        StatusCode::OK,
        &cpis_fhir::care_team_search_bundle(&nhs_number, &plans, today),
    ))
}

async fn access_history_search(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let LookupRequest { nhs_number, .. } = lookup_request(&principal, &headers, query)?;
    let accesses = state
        .store
        .recent_accesses(&nhs_number, HISTORY_SCAN_LIMIT)
        .await?;
    let history = access_history(accesses, &principal.actor.user_id);
    Ok(fhir_response(
        StatusCode::OK,
        &cpis_fhir::access_history_bundle(&nhs_number, &history),
    ))
}
