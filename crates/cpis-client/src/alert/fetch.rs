//! One GET of a lookup with the platform's headers (`NHSD-Session-URID` on every request;
//! `X-Request-ID` for the demographics service (PDS); `TraceID` and `IsUnscheduledAccessEvent`
//! for CP-IS), bounded by the lookup's deadline, retried once when the request never reached the service (and, for an
//! idempotent read, on 502, 503 or 504); what came back, or how the transport failed.

use std::time::Duration;

use cpis_fhir::FHIR_JSON_CONTENT_TYPE;
use reqwest::StatusCode;
use tokio::time::Instant;
use uuid::Uuid;

use crate::http_body::{BodyError, read_capped};
use crate::redact::Secret;

use super::AlertClient;

/// Pause before the one retry of a request that never reached the service.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// A response as fetched: status, whether it declared FHIR JSON, and its body.
pub(super) struct Fetched {
    pub(super) status: StatusCode,
    pub(super) is_fhir_json: bool,
    pub(super) body: Result<Vec<u8>, BodyError>,
}

/// Which API a request goes to, and so which headers it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Api {
    /// The demographics service (PDS): `X-Request-ID`.
    Pds,
    /// CP-IS: `TraceID` and `IsUnscheduledAccessEvent`.
    Cpis {
        /// `IsUnscheduledAccessEvent`.
        unscheduled: bool,
    },
}

/// What every request of one lookup carries.
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestContext<'a> {
    pub(super) access_token: &'a Secret,
    /// The selected role's id, sent as `NHSD-Session-URID` when there is one.
    pub(super) role_id: Option<&'a str>,
}

/// A transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    /// The request never reached the service (connection refused, DNS): safe to retry.
    NotSent,
    /// Anything after the request may have been received.
    Failed,
    /// The deadline passed.
    Timeout,
}

/// `application/fhir+json`, with any parameters (such as `charset=utf-8`).
pub(super) fn is_fhir_json_content_type(value: &str) -> bool {
    value.split(';').next().is_some_and(|media_type| {
        media_type
            .trim()
            .eq_ignore_ascii_case(FHIR_JSON_CONTENT_TYPE)
    })
}

impl AlertClient {
    /// One GET with the headers of `api`, bounded by the deadline. `trace_id` is sent as
    /// `X-Request-ID` to PDS and as `TraceID` to CP-IS. Retries once when the request never
    /// reached the service; when `idempotent_read`, also once on 502, 503 or 504.
    pub(super) async fn fetch(
        &self,
        deadline_at: Instant,
        url: reqwest::Url,
        context: RequestContext<'_>,
        trace_id: Uuid,
        api: Api,
        idempotent_read: bool,
    ) -> Result<Fetched, Transport> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = tokio::time::timeout_at(
                deadline_at,
                self.fetch_once(url.clone(), context, trace_id, api),
            )
            .await
            .unwrap_or(Err(Transport::Timeout));
            let retryable = match &result {
                Err(Transport::NotSent) => true,
                Ok(fetched) if idempotent_read => matches!(
                    fetched.status,
                    StatusCode::BAD_GATEWAY
                        | StatusCode::SERVICE_UNAVAILABLE
                        | StatusCode::GATEWAY_TIMEOUT
                ),
                _ => false,
            };
            let time_left = deadline_at.saturating_duration_since(Instant::now());
            if attempt >= 2 || !retryable || time_left <= RETRY_PAUSE * 2 {
                return result;
            }
            tracing::debug!(%trace_id, attempt, "retrying a request that is safe to retry");
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    async fn fetch_once(
        &self,
        url: reqwest::Url,
        context: RequestContext<'_>,
        trace_id: Uuid,
        api: Api,
    ) -> Result<Fetched, Transport> {
        let mut request = self
            .http
            .get(url)
            .bearer_auth(context.access_token.expose())
            .header(reqwest::header::ACCEPT, FHIR_JSON_CONTENT_TYPE);
        if let Some(role_id) = context.role_id {
            request = request.header("NHSD-Session-URID", role_id);
        }
        request = match api {
            Api::Pds => request.header("X-Request-ID", trace_id.to_string()),
            Api::Cpis { unscheduled } => request.header("TraceID", trace_id.to_string()).header(
                "IsUnscheduledAccessEvent",
                if unscheduled { "true" } else { "false" },
            ),
        };
        let response = request.send().await.map_err(|error| {
            if error.is_connect() {
                Transport::NotSent
            } else if error.is_timeout() {
                Transport::Timeout
            } else {
                Transport::Failed
            }
        })?;
        let status = response.status();
        let is_fhir_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(is_fhir_json_content_type);
        tracing::debug!(%trace_id, status = status.as_u16(), "service answered");
        let body = read_capped(response, self.max_response_bytes).await;
        Ok(Fetched {
            status,
            is_fhir_json,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_must_be_fhir_json() {
        assert!(is_fhir_json_content_type("application/fhir+json"));
        assert!(is_fhir_json_content_type(
            "application/fhir+json; charset=utf-8"
        ));
        assert!(is_fhir_json_content_type("Application/FHIR+JSON"));
        assert!(!is_fhir_json_content_type("application/json"));
        assert!(!is_fhir_json_content_type("text/html"));
        assert!(!is_fhir_json_content_type(""));
    }
}
