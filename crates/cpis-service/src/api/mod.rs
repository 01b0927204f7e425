//! The HTTP API: [`router`] assembles the routes of each area, one module each, with the
//! fallbacks and layers. Paths (see `openapi.json`):
//!
//! - [`cpis`]: `GET /cpis/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs}`
//!   and `GET /cpis/FHIR/R4/AuditEvent?patient:identifier=...` (access history)
//! - [`pds`]: `GET /personal-demographics/FHIR/R4/Patient/{nhs}`
//! - [`la`]: `POST /la/FHIR/R4` (batch Bundle of CareTeam), `POST /la/csv` (CSV upload),
//!   `GET /la/FHIR/R4/AuditEvent?since={instant}` (Access to Service Notifications)
//! - [`audit`]: `POST /audit/FHIR/R4`, `GET /audit/FHIR/R4/AuditEvent` (the central audit log)
//! - [`oauth`]: `POST /oauth2/token` (token exchange, refresh) and `POST /oauth2/revoke`: the
//!   API platform's token endpoint (no bearer token; the client authenticates itself)
//! - [`ops`]: `GET /healthz`, `/readyz`, `/metrics`, `/openapi.json` (no token needed, no
//!   patient data)
//!
//! The area modules build on [`crate::state`], [`crate::error`] and [`crate::extract`], never
//! on this module or on each other. Nothing here logs a URI, a query, a header value or a body:
//! the request log ([`observe`]) names the matched route template only.

pub mod audit;
pub mod cpis;
pub mod la;
pub mod oauth;
pub mod observe;
pub mod ops;
pub mod pds;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::{Router, middleware};
use cpis_fhir::SpineErrorCode;

use crate::error::ApiError;
use crate::state::AppState;

pub use ops::OPENAPI_JSON;

/// Build the router with every route and layer.
pub fn router(state: AppState) -> Router {
    let limits = state.limits;
    Router::new()
        .merge(cpis::routes())
        .merge(pds::routes())
        .merge(la::routes())
        .merge(audit::routes())
        .merge(oauth::routes())
        .merge(ops::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        SpineErrorCode::UnsupportedService,
        "No such endpoint",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        SpineErrorCode::MethodNotAllowed,
        "Method not allowed on this endpoint",
    )
}
