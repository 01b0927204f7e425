//! The central audit log's routes (the `cpis-audit-log` crate over the service's database):
//!
//! - `POST /audit/FHIR/R4`: a `batch` Bundle of AuditEvent from an app's local queue. Any
//!   signed-in user whose selected role may look up CP-IS may send (a shared workstation's
//!   queue can hold records of earlier users, so the agents need not be the sender). The
//!   answer is a `batch-response`, sent only after the batch is committed.
//! - `GET /audit/FHIR/R4/AuditEvent?since=...&until=...&_count=...`: the views at the caller's
//!   own organisation, newest first, for the safeguarding lead (activity `B1234`) only, in pages
//!   of at most 2,000: `total` counts the matches of the whole search, `link` `self` is the
//!   page served (with `until` made explicit, so every page searches the same window) and
//!   `next`, when there are more, the same search with a `cursor` after this page's last event.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use cpis_audit_log::{AuditLogError, MAX_SEARCH_PAGE, SearchCursor, SearchQuery};
use cpis_domain::ACTIVITY_SAFEGUARDING_REVIEW;
use cpis_fhir::SpineErrorCode;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{ApiError, fhir_response};
use crate::extract::Caller;
use crate::state::AppState;

/// The most events one page of the review search returns (`_count` may ask for fewer).
pub const REVIEW_PAGE_LIMIT: u32 = MAX_SEARCH_PAGE;

/// The routes, merged by the router in `api/mod.rs`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit/FHIR/R4", post(ingest))
        .route("/audit/FHIR/R4/AuditEvent", get(review_search))
}

async fn ingest(
    State(state): State<AppState>,
    Caller(principal): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    if !principal.may_look_up() {
        return Err(ApiError::forbidden(
            "Only users whose role may look up CP-IS send audit records",
        ));
    }
    let body = body.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            SpineErrorCode::MessageTooLarge,
            "The batch is too large",
        )
    })?;
    match state.audit_log.ingest(&body).await {
        Ok(response) => Ok(fhir_response(StatusCode::OK, &response)),
        Err(AuditLogError::BadBundle(_)) => Err(ApiError::invalid_value(
            "The body must be a FHIR Bundle of type batch holding AuditEvent resources",
        )),
        Err(AuditLogError::TooLarge) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            SpineErrorCode::MessageTooLarge,
            "A batch may hold at most 5000 events",
        )),
        Err(error) => {
            tracing::error!(%error, "central audit log could not store a batch");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                SpineErrorCode::ServiceUnavailable,
                "The audit log could not store the batch; nothing was stored; send it again",
            ))
        }
    }
}

async fn review_search(
    State(state): State<AppState>,
    Caller(principal): Caller,
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
