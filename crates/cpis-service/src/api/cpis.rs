//! The CP-IS FHIR API: `GET /cpis/FHIR/R4/CareTeam` (the protection plans visible today, and
//! the access and its notifications recorded when the access is unscheduled) and
//! `GET /cpis/FHIR/R4/AuditEvent` (the access history), both searched by
//! `patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs}`; the access history also takes
//! the consumer guide's `_include` and then carries each viewer's PractitionerRole.
//! Both answers name the search in `link` self and each entry by its `fullUrl`. Every search
//! that passes its checks is a read, recorded ([`crate::reads`]) before the answer: a
//! CareTeam search silent or not, an access-history search.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use cpis_domain::{NhsNumber, ProtectionPlan, visible_plans};
use cpis_fhir::build::{ACCESS_HISTORY_INCLUDES, ServedAccess};

use crate::auth::Principal;
use crate::error::{ApiError, fhir_response};
use crate::extract::{
    Caller, PatientSearch, patient_search, require_lookup, trace_id, unscheduled_header,
};
use crate::history::{access_history, is_unscheduled, record_access, unscheduled_access};
use crate::reads::{ReadInteraction, record_read};
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
    include: Option<&'static str>,
}

/// The request's checks; `includes` are the `_include` values the search accepts.
fn lookup_request(
    principal: &Principal,
    headers: &HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    includes: &[&'static str],
) -> Result<LookupRequest, ApiError> {
    require_lookup(principal)?;
    let trace_id = trace_id(headers)?;
    let header_unscheduled = unscheduled_header(headers)?;
    let PatientSearch {
        nhs_number,
        include,
    } = patient_search(query, includes)?;
    Ok(LookupRequest {
        trace_id,
        header_unscheduled,
        nhs_number,
        include,
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
        ..
    } = lookup_request(&principal, &headers, query, &[])?;
    let now = state.now();
    let today = crate::uk_time::uk_date(now);
    let plans: Vec<ProtectionPlan> = match state.store.person_plans(&nhs_number).await? {
        None => Vec::new(),
        Some((date_of_birth, plans)) => visible_plans(&plans, date_of_birth, today),
    };
    // The read is recorded (silent or not) before the access and its notifications, so a read
    // that cannot be recorded answers 503 and notifies no one.
    let silent = !is_unscheduled(header_unscheduled, &principal);
    record_read(
        &state,
        &principal,
        nhs_number.as_str(),
        &trace_id,
        ReadInteraction::CareTeamSearch { silent },
        true,
    )
    .await?;
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
        &cpis_fhir::build::care_team_search_answer(state.public_url(), &nhs_number, &plans, today),
    ))
}

async fn access_history_search(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let LookupRequest {
        trace_id,
        nhs_number,
        include,
        ..
    } = lookup_request(&principal, &headers, query, &ACCESS_HISTORY_INCLUDES)?;
    let accesses = state
        .store
        .recent_accesses(&nhs_number, HISTORY_SCAN_LIMIT)
        .await?;
    record_read(
        &state,
        &principal,
        nhs_number.as_str(),
        &trace_id,
        ReadInteraction::AccessHistorySearch,
        true,
    )
    .await?;
    let history = access_history(accesses, &principal.actor.user_id);
    let ids: Vec<String> = (1..=history.len())
        .map(|index| format!("access-{index}"))
        .collect();
    let served: Vec<ServedAccess<'_>> = history
        .iter()
        .zip(&ids)
        .map(|(access, id)| ServedAccess {
            id,
            nhs_number: &nhs_number,
            access: &access.record,
            role_profile_id: Some(&access.role_profile_id),
            trace_id: Some(&access.trace_id),
        })
        .collect();
    Ok(fhir_response(
        StatusCode::OK,
        &cpis_fhir::build::access_history_answer(state.public_url(), &nhs_number, &served, include),
    ))
}
