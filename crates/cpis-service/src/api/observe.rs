//! The middleware that times, counts, logs and bounds every request. Labels and log fields are
//! route templates, methods and status codes: never a URI, query, header or body.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cpis_fhir::SpineErrorCode;

use crate::error::ApiError;
use crate::state::AppState;

/// Time, count, log and bound one request.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    // The caller's TraceID (a UUID, so never patient data) ties a log line to a client's record.
    let trace_id = request
        .headers()
        .get("TraceID")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| uuid::Uuid::parse_str(text.trim()).ok())
        .map(|uuid| uuid.to_string())
        .unwrap_or_default();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = match tokio::time::timeout(state.limits.request_timeout, next.run(request)).await
    {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            SpineErrorCode::Timeout,
            "The request took too long",
        )
        .into_response(),
    };
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state.metrics.request(&method, &route, status, elapsed);
    tracing::info!(
        method,
        route,
        status,
        trace_id,
        latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}
