//! HTTP API: routes, the bearer-token extractor, the OperationOutcome error type and every
//! handler. Paths (see `openapi.json`):
//!
//! - `GET /cpis/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs}`
//! - `GET /cpis/FHIR/R4/AuditEvent?patient:identifier=...` (access history)
//! - `GET /personal-demographics/FHIR/R4/Patient/{nhs}`
//! - `POST /la/FHIR/R4` (batch Bundle of CareTeam), `POST /la/csv` (CSV upload)
//! - `GET /la/FHIR/R4/AuditEvent?since={instant}` (Access to Service Notifications)
//! - `GET /healthz`, `/readyz`, `/metrics`, `/openapi.json` (no token needed, no patient data)
//!
//! Nothing here logs a URI, a query, a header value or a body: the request log (in
//! [`crate::metrics`]) names the matched route template only.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use cpis_domain::{NhsNumber, ProtectionPlan, visible_plans};
use cpis_fhir::upload::{
    UploadRecordOutcome, UploadRejectCode, UploadRejection, parse_upload_bundle,
    upload_response_bundle,
};
use cpis_fhir::{FHIR_JSON_CONTENT_TYPE, NHS_NUMBER_SYSTEM, SpineErrorCode};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::{
    ACTIVITY_LOCAL_AUTHORITY, ACTIVITY_SAFEGUARDING_REVIEW, AuthError, Principal, Verifier,
};
use crate::csv_upload::parse_csv_upload;
use crate::history::{access_history, is_unscheduled};
use crate::metrics::Metrics;
use crate::store::{NewAccess, Store, UpsertOutcome};

/// The OpenAPI document of this service, committed at `crates/cpis-service/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// How far back the access history looks before de-duplication.
const HISTORY_SCAN_LIMIT: i64 = 1000;
/// The most notifications one request returns (page with `since` = the last one's time).
pub const NOTIFICATION_PAGE_LIMIT: i64 = 1000;

/// A clock, so tests can move time.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Limits for the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body (uploads), in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before a 503 `TIMEOUT`.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub store: Store,
    /// Token verification.
    pub verifier: Arc<Verifier>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The clock.
    pub clock: Clock,
    /// HTTP limits.
    pub limits: Limits,
    /// The central audit log, on the same database.
    pub audit_log: cpis_audit_log::AuditLog,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AppState")
            .field("store", &self.store)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State with the system clock.
    pub fn new(store: Store, verifier: Arc<Verifier>, limits: Limits) -> AppState {
        let audit_log = cpis_audit_log::AuditLog::from_pool(
            store.pool().clone(),
            match store.backend() {
                crate::store::Backend::Sqlite => cpis_audit_log::Dialect::Sqlite,
                crate::store::Backend::Postgres => cpis_audit_log::Dialect::Postgres,
            },
        );
        AppState {
            audit_log,
            store,
            verifier,
            metrics: Arc::new(Metrics::new()),
            clock: Arc::new(OffsetDateTime::now_utc),
            limits,
        }
    }

    fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }
}

/// An error answered as an OperationOutcome. `diagnostics` never holds patient data.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: SpineErrorCode,
    diagnostics: Cow<'static, str>,
}

impl ApiError {
    /// An error with a fixed diagnostic message.
    pub fn new(status: StatusCode, code: SpineErrorCode, diagnostics: &'static str) -> ApiError {
        ApiError {
            status,
            code,
            diagnostics: Cow::Borrowed(diagnostics),
        }
    }

    fn unauthorised(error: AuthError) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: SpineErrorCode::AccessDenied,
            diagnostics: Cow::Owned(format!("Access token refused: {error}")),
        }
    }

    fn forbidden(diagnostics: &'static str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            SpineErrorCode::AccessDenied,
            diagnostics,
        )
    }

    fn unavailable() -> ApiError {
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

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> ApiError {
        tracing::error!(%error, "storage failed");
        ApiError::unavailable()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let outcome = cpis_fhir::operation_outcome(&self.code, Some(&self.diagnostics));
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

/// Build the router with every route and layer.
pub fn router(state: AppState) -> Router {
    let limits = state.limits;
    Router::new()
        .route("/cpis/FHIR/R4/CareTeam", get(care_team_search))
        .route("/cpis/FHIR/R4/AuditEvent", get(access_history_search))
        .route(
            "/personal-demographics/FHIR/R4/Patient/{nhs_number}",
            get(patient_read),
        )
        .route("/la/FHIR/R4", post(upload_bundle))
        .route("/la/csv", post(upload_csv))
        .route("/la/FHIR/R4/AuditEvent", get(notifications_search))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .merge(crate::central_audit::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::observe,
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

fn require_lookup(principal: &Principal) -> Result<(), ApiError> {
    if principal.may_look_up() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "The selected role has no CP-IS activity (B0107 or B0170)",
        ))
    }
}

/// `TraceID` must be a UUID.
fn trace_id(headers: &HeaderMap) -> Result<String, ApiError> {
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
fn unscheduled_header(headers: &HeaderMap) -> Result<bool, ApiError> {
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

fn invalid_search(message: &'static str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        SpineErrorCode::InvalidSearchData,
        message,
    )
}

/// The one `patient:identifier` search parameter: `{NHS system}|{10 digits}`.
fn patient_identifier(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<NhsNumber, ApiError> {
    let Query(parameters) = query.map_err(|_| invalid_search("The query string is not valid"))?;
    let mut found: Option<&str> = None;
    for (name, value) in &parameters {
        if name != "patient:identifier" {
            return Err(invalid_search(
                "Only the patient:identifier search parameter is supported",
            ));
        }
        if found.is_some() {
            return Err(invalid_search("patient:identifier is given more than once"));
        }
        found = Some(value);
    }
    let value = found.ok_or_else(|| invalid_search("patient:identifier is missing"))?;
    let digits = value
        .strip_prefix(NHS_NUMBER_SYSTEM)
        .and_then(|rest| rest.strip_prefix('|'))
        .ok_or_else(|| {
            invalid_search(
                "patient:identifier must be https://fhir.nhs.uk/Id/nhs-number|{NHS number}",
            )
        })?;
    if digits.len() != 10 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid_search("The NHS number must be 10 digits"));
    }
    NhsNumber::parse(digits).map_err(|_| invalid_search("The NHS number is not valid"))
}

async fn care_team_search(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    require_lookup(&principal)?;
    let trace_id = trace_id(&headers)?;
    let header_unscheduled = unscheduled_header(&headers)?;
    let nhs_number = patient_identifier(query)?;
    let now = state.now();
    let today = crate::uk_time::uk_date(now);
    let plans: Vec<ProtectionPlan> = match state.store.person_plans(&nhs_number).await? {
        None => Vec::new(),
        Some((date_of_birth, plans)) => visible_plans(&plans, date_of_birth, today),
    };
    if !plans.is_empty()
        && is_unscheduled(header_unscheduled, &principal)
        && let Some(role) = &principal.role
    {
        let notify: BTreeSet<String> = plans
            .iter()
            .map(|plan| plan.local_authority.ods_code.clone())
            .collect();
        let access = NewAccess {
            nhs_number: nhs_number.clone(),
            accessed_at: now,
            user_id: principal.user_id.clone(),
            user_name: principal.name.clone(),
            role_profile_id: role.role_profile_id.clone(),
            role_name: role.role_name.clone(),
            organisation_ods: role.organisation_ods.clone(),
            organisation_name: role.organisation_name.clone(),
            trace_id,
            notify: notify.into_iter().collect(),
        };
        // The alert matters more than the notification: a failed write is logged and
        // counted, and the plans are still returned.
        match state.store.record_access(&access).await {
            Ok(()) => state.metrics.notifications_recorded(access.notify.len()),
            Err(error) => {
                tracing::error!(%error, "could not record an access and its notifications");
                state.metrics.notification_failure();
            }
        }
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
    require_lookup(&principal)?;
    trace_id(&headers)?;
    unscheduled_header(&headers)?;
    let nhs_number = patient_identifier(query)?;
    let accesses = state
        .store
        .recent_accesses(&nhs_number, HISTORY_SCAN_LIMIT)
        .await?;
    let history = access_history(accesses, &principal.user_id);
    Ok(fhir_response(
        StatusCode::OK,
        &cpis_fhir::access_history_bundle(&nhs_number, &history),
    ))
}

async fn patient_read(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(nhs_number): Path<String>,
) -> Result<Response, ApiError> {
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
    let nhs_number = NhsNumber::parse(&nhs_number).map_err(|_| invalid())?;
    match state.store.person(&nhs_number).await? {
        Some(person) => Ok(fhir_response(StatusCode::OK, &cpis_fhir::patient(&person))),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            SpineErrorCode::ResourceNotFound,
            "No patient with this NHS number",
        )),
    }
}

fn require_local_authority(principal: &Principal) -> Result<String, ApiError> {
    match &principal.role {
        Some(role) if principal.has_activity(ACTIVITY_LOCAL_AUTHORITY) => {
            Ok(role.organisation_ods.clone())
        }
        _ => Err(ApiError::forbidden(
            "The selected role has no local authority activity (B1235)",
        )),
    }
}

fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                SpineErrorCode::MessageTooLarge,
                "The request body is too large",
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                SpineErrorCode::InvalidValue,
                "The request body could not be read",
            )
        }
    })
}

fn require_content_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), ApiError> {
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

/// Store each parsed record on its own; the answer lists every record's outcome in order.
async fn store_records(
    state: &AppState,
    organisation_ods: &str,
    records: Vec<Result<(NhsNumber, ProtectionPlan), UploadRejection>>,
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

async fn upload_bundle(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let organisation_ods = require_local_authority(&principal)?;
    require_content_type(&headers, &["application/fhir+json", "application/json"])?;
    let body = body_or_error(body)?;
    let records = parse_upload_bundle(&body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            SpineErrorCode::InvalidValue,
            "The body must be a FHIR Bundle of type batch, transaction or collection",
        )
    })?;
    let outcomes = store_records(&state, &organisation_ods, records).await?;
    Ok(fhir_response(
        StatusCode::OK,
        &upload_response_bundle(&outcomes),
    ))
}

async fn upload_csv(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let organisation_ods = require_local_authority(&principal)?;
    require_content_type(&headers, &["text/csv"])?;
    let body = body_or_error(body)?;
    let records = parse_csv_upload(&body).map_err(|message| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            SpineErrorCode::InvalidValue,
            message,
        )
    })?;
    let outcomes = store_records(&state, &organisation_ods, records).await?;
    Ok(fhir_response(
        StatusCode::OK,
        &upload_response_bundle(&outcomes),
    ))
}

async fn notifications_search(
    State(state): State<AppState>,
    Caller(principal): Caller,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let organisation_ods = require_local_authority(&principal)?;
    let Query(parameters) = query.map_err(|_| invalid_search("The query string is not valid"))?;
    let mut since: Option<OffsetDateTime> = None;
    for (name, value) in &parameters {
        match name.as_str() {
            "since" if since.is_none() => {
                since = Some(OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
                    invalid_search("since must be an RFC 3339 instant, e.g. 2026-11-25T09:00:00Z")
                })?);
            }
            _ => return Err(invalid_search("Only one since parameter is supported")),
        }
    }
    let since = since.ok_or_else(|| invalid_search("since is missing"))?;
    let notifications = state
        .store
        .notifications_since(&organisation_ods, since, NOTIFICATION_PAGE_LIMIT)
        .await?;
    Ok(fhir_response(
        StatusCode::OK,
        &cpis_fhir::access_notification_bundle(&notifications),
    ))
}

async fn healthz() -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    let ready = state.store.ping().await.is_ok();
    let (status, body) = if ready {
        (StatusCode::OK, r#"{"status":"ready"}"#)
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"database unavailable"}"#,
        )
    };
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        StatusCode::OK,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.render(state.verifier.cached_tokens()),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        OPENAPI_JSON,
    )
        .into_response()
}
