//! The alert client: one lookup is a demographics trace (PDS), then the CP-IS CareTeam search,
//! then (when plans are found) the access history, all inside one hard deadline that always
//! ends in an answer. Parsing is strict (`cpis-fhir`): only a valid searchset Bundle with
//! `total: 0` for the NHS number asked about is "no plan"; every fault is "could not check"
//! with a reason. Every lookup is handed to the [`AuditSink`] in [`AlertClient::lookup`], the one
//! call site.

use std::sync::Arc;
use std::time::Duration;

use cpis_domain::{AccessRecord, CouldNotCheckReason, LookupOutcome, NhsNumber};
use cpis_fhir::{CareTeamSearch, FHIR_JSON_CONTENT_TYPE, NHS_NUMBER_SYSTEM, SpineErrorCode};
use reqwest::StatusCode;
use time::OffsetDateTime;
use tokio::time::Instant;
use uuid::Uuid;

use crate::audit::{AuditRecord, AuditSink, AuditSinkError};
use crate::config::{Config, ServiceUrls, join_path};
use crate::http_body::{BodyError, read_capped};
use crate::identity::{LookupPermission, SignedInUser};
use crate::redact::Secret;

/// The most a service response may be. A CP-IS answer is a few kilobytes.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Pause before the one retry of a request that never reached the service.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The answer to one lookup, with what the app needs beside the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupReport {
    /// The outcome to show.
    pub outcome: LookupOutcome,
    /// When plans were found but the access history could not be fetched: why. The plans are
    /// still shown; the history is shown as unavailable, never as empty.
    pub access_history_unavailable: Option<CouldNotCheckReason>,
    /// The `TraceID` of the CP-IS request (or of the demographics request, if it stopped
    /// there); `None` when nothing was sent.
    pub trace_id: Option<Uuid>,
    /// Whether it was sent as an unscheduled access (`IsUnscheduledAccessEvent: true`).
    pub unscheduled: bool,
    /// Whether the audit record was saved. On failure the result is still shown, with a
    /// visible warning.
    pub audit: Result<(), AuditSinkError>,
}

/// Which services answered a [`AlertClient::probe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceReachability {
    /// The CP-IS service answered.
    pub cpis: bool,
    /// The demographics service answered.
    pub demographics: bool,
}

/// A problem building the client.
#[derive(Debug, thiserror::Error)]
#[error("could not set up the HTTP client: {0}")]
pub struct AlertClientError(String);

/// The client for the CP-IS and demographics services.
#[derive(Clone)]
pub struct AlertClient {
    http: reqwest::Client,
    services: ServiceUrls,
    deadline: Duration,
    max_response_bytes: usize,
    audit_sink: Arc<dyn AuditSink>,
    device: String,
}

impl std::fmt::Debug for AlertClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AlertClient")
            .field("services", &self.services)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// Where one step of a lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Demographics,
    CareTeam,
    AccessHistory,
}

/// A response as fetched: status, whether it declared FHIR JSON, and its body.
struct Fetched {
    status: StatusCode,
    is_fhir_json: bool,
    body: Result<Vec<u8>, BodyError>,
}

/// A transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// The request never reached the service (connection refused, DNS): safe to retry.
    NotSent,
    /// Anything after the request may have been received.
    Failed,
    /// The deadline passed.
    Timeout,
}

impl AlertClient {
    /// A client for the configured services, with the configured deadline.
    pub fn new(
        config: &Config,
        audit_sink: Arc<dyn AuditSink>,
        device: impl Into<String>,
    ) -> Result<AlertClient, AlertClientError> {
        let http = crate::http::client_builder(&config.tls)
            .connect_timeout(config.lookup_deadline)
            .build()
            .map_err(|error| AlertClientError(error.to_string()))?;
        Ok(AlertClient {
            http,
            services: config.services.clone(),
            deadline: config.lookup_deadline,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            audit_sink,
            device: device.into(),
        })
    }

    /// Change the response size cap (tests).
    pub fn with_max_response_bytes(mut self, max_response_bytes: usize) -> AlertClient {
        self.max_response_bytes = max_response_bytes;
        self
    }

    /// The lookup deadline.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Whether the CP-IS and demographics services answer at all, for a status bar. Sends
    /// `GET {base}/metadata` (the FHIR capability statement) with no token and no patient data;
    /// any HTTP answer, even an error status, counts as reachable. Within the lookup deadline.
    pub async fn probe(&self) -> ServiceReachability {
        let probe = |base: &openidconnect::url::Url| {
            let url = join_path(base, &["metadata"]);
            let request = self
                .http
                .get(url)
                .header(reqwest::header::ACCEPT, FHIR_JSON_CONTENT_TYPE)
                .timeout(self.deadline)
                .send();
            async move { request.await.is_ok() }
        };
        let (cpis, demographics) = tokio::join!(
            probe(&self.services.cpis_url),
            probe(&self.services.demographics_url)
        );
        ServiceReachability { cpis, demographics }
    }

    /// Look up one NHS number and audit it. Always returns within the deadline (plus a few
    /// milliseconds), whatever the services do. `scheduled` forces a silent read
    /// (`IsUnscheduledAccessEvent: false`) even for a `B0107` role.
    ///
    /// This is the one place where lookups are handed to the audit sink.
    pub async fn lookup(
        &self,
        access_token: &Secret,
        user: &SignedInUser,
        nhs_number: &NhsNumber,
        scheduled: bool,
    ) -> LookupReport {
        let permission = user.lookup_permission();
        let unscheduled = permission == LookupPermission::Unscheduled && !scheduled;
        let mut report = if permission == LookupPermission::NotPermitted {
            LookupReport {
                outcome: could_not_check(CouldNotCheckReason::RoleNotPermitted),
                access_history_unavailable: None,
                trace_id: None,
                unscheduled: false,
                audit: Ok(()),
            }
        } else {
            self.run(access_token, nhs_number, unscheduled).await
        };
        report.audit = self.audit(user, nhs_number, &report);
        report
    }

    fn audit(
        &self,
        user: &SignedInUser,
        nhs_number: &NhsNumber,
        report: &LookupReport,
    ) -> Result<(), AuditSinkError> {
        let role = user.selected_role();
        let (outcome, could_not_check_reason) = AuditRecord::outcome_fields(&report.outcome);
        let record = AuditRecord {
            user_id: user.subject.clone(),
            user_name: user.name.clone(),
            role_profile_id: role.map(|role| role.person_roleid.clone()),
            role_code: role.map(|role| role.role_code.clone()),
            role_name: role.map(|role| role.role_name.clone()),
            organisation_ods: role.map(|role| role.org_code.clone()),
            organisation_name: user.selected_organisation_name().map(str::to_owned),
            nhs_number: nhs_number.clone(),
            recorded_at: OffsetDateTime::now_utc(),
            outcome,
            could_not_check_reason,
            unscheduled: report.unscheduled,
            device: self.device.clone(),
            // A fresh id when nothing was sent, so every record has a transaction id.
            trace_id: report.trace_id.unwrap_or_else(Uuid::new_v4),
        };
        let result = self.audit_sink.record_lookup(&record);
        if let Err(error) = &result {
            tracing::error!(%error, "audit record not saved");
        }
        result
    }

    async fn run(
        &self,
        access_token: &Secret,
        nhs_number: &NhsNumber,
        unscheduled: bool,
    ) -> LookupReport {
        let deadline_at = Instant::now() + self.deadline;
        let mut report = LookupReport {
            outcome: could_not_check(CouldNotCheckReason::Timeout),
            access_history_unavailable: None,
            trace_id: None,
            unscheduled,
            audit: Ok(()),
        };

        // 1. Demographics first: who the number belongs to.
        let demographics_trace = Uuid::new_v4();
        report.trace_id = Some(demographics_trace);
        let patient_url = join_path(
            &self.services.demographics_url,
            &["Patient", nhs_number.as_str()],
        );
        let fetched = self
            .fetch(
                deadline_at,
                patient_url,
                access_token,
                demographics_trace,
                None,
                true,
            )
            .await;
        let patient = match fetched {
            Err(transport) => {
                report.outcome = could_not_check(transport_reason(transport, Step::Demographics));
                return report;
            }
            Ok(fetched) => match demographics_answer(fetched, nhs_number) {
                Ok(patient) => patient,
                Err(NoPatient::NotFound) => {
                    report.outcome = LookupOutcome::PatientNotFound {
                        checked_at: OffsetDateTime::now_utc(),
                    };
                    return report;
                }
                Err(NoPatient::CouldNotCheck(reason)) => {
                    report.outcome = could_not_check(reason);
                    return report;
                }
            },
        };

        // 2. The CP-IS search. Not retried once it may have reached the service: a second
        // unscheduled access would be a second notification.
        let care_team_trace = Uuid::new_v4();
        report.trace_id = Some(care_team_trace);
        let mut search_url = join_path(&self.services.cpis_url, &["CareTeam"]);
        search_url.query_pairs_mut().append_pair(
            "patient:identifier",
            &format!("{NHS_NUMBER_SYSTEM}|{}", nhs_number.as_str()),
        );
        let fetched = self
            .fetch(
                deadline_at,
                search_url,
                access_token,
                care_team_trace,
                Some(unscheduled),
                false,
            )
            .await;
        let search = match fetched {
            Err(transport) => {
                report.outcome = could_not_check(transport_reason(transport, Step::CareTeam));
                return report;
            }
            Ok(fetched) => match care_team_answer(fetched, nhs_number) {
                Ok(search) => search,
                Err(reason) => {
                    report.outcome = could_not_check(reason);
                    return report;
                }
            },
        };
        let checked_at = OffsetDateTime::now_utc();
        let plans = match search {
            CareTeamSearch::NoPlans => {
                report.outcome = LookupOutcome::NoPlan {
                    patient,
                    checked_at,
                };
                return report;
            }
            CareTeamSearch::Plans(plans) => plans,
        };

        // 3. The access history, only when there is a plan. The plans are shown whatever
        // happens here; a failure marks the history unavailable.
        let mut history_url = join_path(&self.services.cpis_url, &["AuditEvent"]);
        history_url.query_pairs_mut().append_pair(
            "patient:identifier",
            &format!("{NHS_NUMBER_SYSTEM}|{}", nhs_number.as_str()),
        );
        let history_trace = Uuid::new_v4();
        let access_history = match self
            .fetch(
                deadline_at,
                history_url,
                access_token,
                history_trace,
                Some(unscheduled),
                true,
            )
            .await
        {
            Err(transport) => Err(transport_reason(transport, Step::AccessHistory)),
            Ok(fetched) => access_history_answer(fetched, nhs_number),
        };
        let access_history = access_history.unwrap_or_else(|reason| {
            report.access_history_unavailable = Some(reason);
            Vec::new()
        });
        report.outcome = LookupOutcome::PlansFound {
            patient,
            plans,
            access_history,
            checked_at,
        };
        report
    }

    /// One GET with the CP-IS headers, bounded by the deadline. Retries once when the request
    /// never reached the service; when `idempotent_read`, also once on 502, 503 or 504.
    async fn fetch(
        &self,
        deadline_at: Instant,
        url: openidconnect::url::Url,
        access_token: &Secret,
        trace_id: Uuid,
        unscheduled: Option<bool>,
        idempotent_read: bool,
    ) -> Result<Fetched, Transport> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = tokio::time::timeout_at(
                deadline_at,
                self.fetch_once(url.clone(), access_token, trace_id, unscheduled),
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
        url: openidconnect::url::Url,
        access_token: &Secret,
        trace_id: Uuid,
        unscheduled: Option<bool>,
    ) -> Result<Fetched, Transport> {
        let mut request = self
            .http
            .get(url)
            .bearer_auth(access_token.expose())
            .header(reqwest::header::ACCEPT, FHIR_JSON_CONTENT_TYPE)
            .header("TraceID", trace_id.to_string())
            .header("X-Request-ID", trace_id.to_string());
        if let Some(unscheduled) = unscheduled {
            request = request.header(
                "IsUnscheduledAccessEvent",
                if unscheduled { "true" } else { "false" },
            );
        }
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

fn could_not_check(reason: CouldNotCheckReason) -> LookupOutcome {
    LookupOutcome::CouldNotCheck {
        reason,
        attempted_at: OffsetDateTime::now_utc(),
    }
}

/// `application/fhir+json`, with any parameters (such as `charset=utf-8`).
fn is_fhir_json_content_type(value: &str) -> bool {
    value.split(';').next().is_some_and(|media_type| {
        media_type
            .trim()
            .eq_ignore_ascii_case(FHIR_JSON_CONTENT_TYPE)
    })
}

fn transport_reason(transport: Transport, step: Step) -> CouldNotCheckReason {
    match (transport, step) {
        (Transport::Timeout, _) => CouldNotCheckReason::Timeout,
        (_, Step::Demographics) => CouldNotCheckReason::DemographicsUnavailable,
        (Transport::NotSent, _) => CouldNotCheckReason::ServiceUnreachable,
        (Transport::Failed, _) => CouldNotCheckReason::ServiceError,
    }
}

/// The reason for an answer that is not a 200 with a FHIR body.
fn status_reason(status: StatusCode, step: Step) -> CouldNotCheckReason {
    match status {
        StatusCode::UNAUTHORIZED => CouldNotCheckReason::SignInRequired,
        StatusCode::FORBIDDEN => CouldNotCheckReason::AccessDenied,
        _ if step == Step::Demographics => CouldNotCheckReason::DemographicsUnavailable,
        _ => CouldNotCheckReason::ServiceError,
    }
}

/// The spine code of an OperationOutcome body, if the body is one.
fn spine_code(fetched: &Fetched) -> Option<SpineErrorCode> {
    let body = fetched.body.as_ref().ok()?;
    if !fetched.is_fhir_json {
        return None;
    }
    cpis_fhir::parse_operation_outcome(body).ok()?.spine_code
}

/// Why the demographics step did not give a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoPatient {
    /// The demographics service says the number is unknown.
    NotFound,
    /// It could not be checked.
    CouldNotCheck(CouldNotCheckReason),
}

fn demographics_answer(
    fetched: Fetched,
    asked: &NhsNumber,
) -> Result<cpis_domain::PatientDemographics, NoPatient> {
    if fetched.status == StatusCode::NOT_FOUND {
        // "Not found" only when the demographics service says so in its own words; a 404 from
        // a wrong URL or a proxy is "could not check".
        return if spine_code(&fetched) == Some(SpineErrorCode::ResourceNotFound) {
            Err(NoPatient::NotFound)
        } else {
            Err(NoPatient::CouldNotCheck(
                CouldNotCheckReason::DemographicsUnavailable,
            ))
        };
    }
    if fetched.status != StatusCode::OK {
        return Err(NoPatient::CouldNotCheck(status_reason(
            fetched.status,
            Step::Demographics,
        )));
    }
    if !fetched.is_fhir_json {
        return Err(NoPatient::CouldNotCheck(
            CouldNotCheckReason::DemographicsUnavailable,
        ));
    }
    let body = fetched
        .body
        .map_err(|_| NoPatient::CouldNotCheck(CouldNotCheckReason::DemographicsUnavailable))?;
    cpis_fhir::parse_patient(&body, asked).map_err(|error| {
        NoPatient::CouldNotCheck(match error {
            cpis_fhir::FhirError::AnotherPatient => CouldNotCheckReason::ResponseForAnotherPatient,
            _ => CouldNotCheckReason::DemographicsUnavailable,
        })
    })
}

fn care_team_answer(
    fetched: Fetched,
    asked: &NhsNumber,
) -> Result<CareTeamSearch, CouldNotCheckReason> {
    if fetched.status != StatusCode::OK {
        return Err(status_reason(fetched.status, Step::CareTeam));
    }
    if !fetched.is_fhir_json {
        return Err(CouldNotCheckReason::InvalidResponse);
    }
    let body = fetched
        .body
        .map_err(|_| CouldNotCheckReason::InvalidResponse)?;
    match cpis_fhir::parse_care_team_search(&body, asked) {
        // "No plan" is the answer that can hurt most if wrong: a second, independent check
        // must agree before it is believed.
        Ok(CareTeamSearch::NoPlans) if !is_plainly_empty_searchset(&body) => {
            Err(CouldNotCheckReason::InvalidResponse)
        }
        Ok(search) => Ok(search),
        Err(error) => Err(error.could_not_check_reason()),
    }
}

/// An independent statement of an empty answer: a JSON object with `resourceType` `Bundle`,
/// `type` `searchset`, `total` the integer 0, and `entry` absent or `[]` (FHIR JSON allows no
/// `null`). Used only to confirm [`CareTeamSearch::NoPlans`], never to make it.
fn is_plainly_empty_searchset(body: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(bundle)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return false;
    };
    let entries_empty = match bundle.get("entry") {
        None => true,
        Some(serde_json::Value::Array(entries)) => entries.is_empty(),
        Some(_) => false,
    };
    bundle
        .get("resourceType")
        .and_then(serde_json::Value::as_str)
        == Some("Bundle")
        && bundle.get("type").and_then(serde_json::Value::as_str) == Some("searchset")
        && bundle.get("total").and_then(serde_json::Value::as_u64) == Some(0)
        && entries_empty
        && bundle.values().all(|value| !value.is_null())
}

fn access_history_answer(
    fetched: Fetched,
    asked: &NhsNumber,
) -> Result<Vec<AccessRecord>, CouldNotCheckReason> {
    if fetched.status != StatusCode::OK {
        return Err(status_reason(fetched.status, Step::AccessHistory));
    }
    if !fetched.is_fhir_json {
        return Err(CouldNotCheckReason::InvalidResponse);
    }
    let body = fetched
        .body
        .map_err(|_| CouldNotCheckReason::InvalidResponse)?;
    cpis_fhir::parse_access_history(&body, asked).map_err(|error| error.could_not_check_reason())
}

/// Classify a CP-IS CareTeam search response from its parts, exactly as a lookup does. Exposed
/// for property tests and fuzzing: "no plan" must come only from a valid empty Bundle.
pub fn classify_care_team_response(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    asked: &NhsNumber,
) -> Result<CareTeamSearch, CouldNotCheckReason> {
    let status = StatusCode::from_u16(status).map_err(|_| CouldNotCheckReason::InvalidResponse)?;
    care_team_answer(
        Fetched {
            status,
            is_fhir_json: content_type.is_some_and(is_fhir_json_content_type),
            body: Ok(body.to_vec()),
        },
        asked,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_independent_empty_check_refuses_nulls_and_entries() {
        assert!(is_plainly_empty_searchset(
            br#"{"resourceType":"Bundle","type":"searchset","total":0}"#
        ));
        assert!(is_plainly_empty_searchset(
            br#"{"resourceType":"Bundle","type":"searchset","total":0,"entry":[]}"#
        ));
        for body in [
            &br#"{"resourceType":"Bundle","type":"searchset","total":0,"entry":null}"#[..],
            br#"{"resourceType":"Bundle","type":"searchset","total":0,"entry":[{}]}"#,
            br#"{"resourceType":"Bundle","type":"searchset","total":0,"meta":null}"#,
            br#"{"resourceType":"Bundle","type":"searchset","total":"0"}"#,
            br#"{"resourceType":"Bundle","type":"collection","total":0}"#,
            br#"[]"#,
        ] {
            assert!(
                !is_plainly_empty_searchset(body),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

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

    #[test]
    fn timeouts_are_timeouts_and_demographics_faults_say_so() {
        assert_eq!(
            transport_reason(Transport::Timeout, Step::CareTeam),
            CouldNotCheckReason::Timeout
        );
        assert_eq!(
            transport_reason(Transport::NotSent, Step::Demographics),
            CouldNotCheckReason::DemographicsUnavailable
        );
        assert_eq!(
            transport_reason(Transport::NotSent, Step::CareTeam),
            CouldNotCheckReason::ServiceUnreachable
        );
        assert_eq!(
            status_reason(StatusCode::UNAUTHORIZED, Step::CareTeam),
            CouldNotCheckReason::SignInRequired
        );
        assert_eq!(
            status_reason(StatusCode::IM_A_TEAPOT, Step::CareTeam),
            CouldNotCheckReason::ServiceError
        );
    }
}
