//! The central audit log's routes (the `cpis-audit-log` crate over the service's database),
//! under the base `{service}/audit/FHIR/R4`:
//!
//! - `GET {base}/metadata`: the CapabilityStatement (no token needed): AuditEvent `create` and
//!   `search-type` with the PARS profile, and the `batch` extension.
//! - `POST {base}/AuditEvent`: one AuditEvent (PARS's interface), idempotent by event id: `201`
//!   with `Location` when stored now, `200` when already held, `403` when the sender may not
//!   send it, `422` when invalid, `413` too large, `503` nothing stored. Committed before the
//!   answer.
//! - `POST {base}`: a `batch` Bundle of AuditEvent from an app's local queue; the answer is a
//!   `batch-response` (`201`/`200`/`403`/`422` per entry), sent only after the batch is
//!   committed.
//!
//! Senders are bound: any signed-in user whose selected role may look up CP-IS may send, but
//! only records of their own organisation (a shared workstation's queue holds records of
//! earlier users of the same organisation, so the user named in a record need not be the
//! sender), from a device first used by their organisation; each stored event keeps its
//! sender.
//!
//! - `GET {base}/AuditEvent?since=...&until=...&_count=...`: the views at the caller's own
//!   organisation sent from it, newest first, for the safeguarding lead (activity `B1234`)
//!   only, in pages of at most 2,000: `total` counts the matches of the whole search, `link`
//!   `self` is the page served (with `until` made explicit, so every page searches the same
//!   window) and `next`, when there are more, the same search with a `cursor` after this
//!   page's last event.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use cpis_audit_log::{
    AuditLogError, EntryStatus, MAX_SEARCH_PAGE, SearchCursor, SearchQuery, Sender,
};
use cpis_domain::ACTIVITY_SAFEGUARDING_REVIEW;
use cpis_fhir::SpineErrorCode;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::Principal;
use crate::error::{ApiError, fhir_response};
use crate::extract::Caller;
use crate::state::AppState;

/// The most events one page of the review search returns (`_count` may ask for fewer).
pub const REVIEW_PAGE_LIMIT: u32 = MAX_SEARCH_PAGE;

/// The routes, merged by the router in `api/mod.rs`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit/FHIR/R4", post(ingest))
        .route("/audit/FHIR/R4/metadata", get(metadata))
        .route(
            "/audit/FHIR/R4/AuditEvent",
            get(review_search).post(create_event),
        )
}

async fn metadata(State(state): State<AppState>) -> Response {
    let base = format!("{}/audit/FHIR/R4", state.public_url());
    fhir_response(
        StatusCode::OK,
        &cpis_audit_log::capability::capability_statement(&base),
    )
}

/// The authenticated sender, when the role may send audit records at all.
fn sender(principal: &Principal) -> Result<Sender, ApiError> {
    if !principal.may_look_up() {
        return Err(ApiError::forbidden(
            "Only users whose role may look up CP-IS send audit records",
        ));
    }
    Ok(Sender {
        user_id: principal.actor.user_id.clone(),
        role_profile_id: principal.actor.role.role_profile_id.clone(),
        organisation_ods: principal.actor.role.organisation_ods.clone(),
    })
}

fn too_large(diagnostics: &'static str) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        SpineErrorCode::MessageTooLarge,
        diagnostics,
    )
}

fn not_stored(error: &AuditLogError) -> ApiError {
    match error {
        AuditLogError::NotStored(message) => {
            tracing::error!(error = %message, "central audit log could not store events");
        }
        error => tracing::error!(%error, "central audit log could not store events"),
    }
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        SpineErrorCode::ServiceUnavailable,
        "The audit log could not store the events; nothing was stored; send them again",
    )
}

async fn ingest(
    State(state): State<AppState>,
    Caller(principal): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let sender = sender(&principal)?;
    let body = body.map_err(|_| too_large("The batch is too large"))?;
    match state.audit_log.ingest(&sender, &body).await {
        Ok(response) => Ok(fhir_response(StatusCode::OK, &response)),
        Err(AuditLogError::BadBundle(_)) => Err(ApiError::invalid_value(
            "The body must be a FHIR Bundle of type batch holding AuditEvent resources",
        )),
        Err(AuditLogError::TooLarge) => Err(too_large("A batch may hold at most 5000 events")),
        Err(error) => Err(not_stored(&error)),
    }
}

async fn create_event(
    State(state): State<AppState>,
    Caller(principal): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let sender = sender(&principal)?;
    let body = body.map_err(|_| too_large("The event is too large"))?;
    let outcome = state
        .audit_log
        .ingest_event(&sender, &body)
        .await
        .map_err(|error| not_stored(&error))?;
    let (status, resource, event_id) = match outcome.status {
        EntryStatus::Invalid => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                SpineErrorCode::InvalidValue,
                "The body must be one AuditEvent in the shape this log takes (PARS, with the audit chain)",
            ));
        }
        EntryStatus::Forbidden(refusal) => return Err(ApiError::forbidden(refusal.message())),
        EntryStatus::Created => (StatusCode::CREATED, outcome.resource, outcome.event_id),
        EntryStatus::AlreadyHeld => (StatusCode::OK, outcome.resource, outcome.event_id),
    };
    let (Some(resource), Some(event_id)) = (resource, event_id) else {
        return Err(not_stored(&AuditLogError::NotStored(
            "a stored event had no id".into(),
        )));
    };
    let mut response = fhir_response(status, &resource);
    if status == StatusCode::CREATED {
        let location = format!("{}/audit/FHIR/R4/AuditEvent/{event_id}", state.public_url());
        if let Ok(location) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(LOCATION, location);
        }
    }
    Ok(response)
}

async fn review_search(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: axum::http::HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    if !principal.has_activity(ACTIVITY_SAFEGUARDING_REVIEW) {
        return Err(ApiError::forbidden(
            "The audit review is for the safeguarding lead role (B1234) only",
        ));
    }
    let organisation = principal.actor.role.organisation_ods.clone();
    let Query(parameters) =
        query.map_err(|_| ApiError::invalid_value("The query string is not valid"))?;
    let now = state.now();
    let mut since = now - time::Duration::hours(24);
    let mut until = now;
    let mut count = REVIEW_PAGE_LIMIT;
    let mut after = None;
    let instant = |value: &str| {
        OffsetDateTime::parse(value, &Rfc3339)
            .map_err(|_| ApiError::invalid_value("since and until must be RFC 3339 instants"))
    };
    for (name, value) in &parameters {
        match name.as_str() {
            "since" => since = instant(value)?,
            "until" => until = instant(value)?,
            "_count" => {
                count = value
                    .parse::<u32>()
                    .ok()
                    .filter(|count| *count > 0)
                    .ok_or_else(|| ApiError::invalid_value("_count must be a positive number"))?
                    .min(REVIEW_PAGE_LIMIT);
            }
            "cursor" => {
                after = Some(SearchCursor::parse(value).ok_or_else(|| {
                    ApiError::invalid_value("cursor must be one this service gave in a next link")
                })?);
            }
            _ => {
                return Err(ApiError::invalid_value(
                    "Only since, until, _count and cursor are supported",
                ));
            }
        }
    }
    if since > until {
        return Err(ApiError::invalid_value("since must not be after until"));
    }
    let page = state
        .audit_log
        .search(&SearchQuery {
            organisation_ods: &organisation,
            since,
            until,
            count,
            after: after.clone(),
        })
        .await
        .map_err(|error| {
            tracing::error!(%error, "central audit log search failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                SpineErrorCode::ServiceUnavailable,
                "The audit log is unavailable",
            )
        })?;
    // Every character of these values is safe in a query string: RFC 3339 in UTC (digits,
    // `-`, `:`, `.`, `T`, `Z`) and the cursor (digits, `.`, `-`, hex).
    let utc = |moment: OffsetDateTime| {
        moment
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_default()
    };
    let search_url = |cursor: Option<&SearchCursor>| {
        let mut url = format!(
            "{}/audit/FHIR/R4/AuditEvent?since={}&until={}&_count={count}",
            state.public_url(),
            utc(since),
            utc(until)
        );
        if let Some(cursor) = cursor {
            url.push_str("&cursor=");
            url.push_str(&cursor.to_text());
        }
        url
    };
    crate::reads::record_review(&state, &principal, &headers, &page.resources).await?;
    let bundle = cpis_fhir::audit_event::searchset_page(
        page.resources,
        page.total,
        search_url(after.as_ref()),
        page.next.as_ref().map(|next| search_url(Some(next))),
    );
    Ok(fhir_response(
        StatusCode::OK,
        &cpis_fhir::audit_event::to_sorted_value(&bundle),
    ))
}
