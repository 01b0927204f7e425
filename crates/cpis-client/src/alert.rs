//! The alert client: one lookup is a demographics trace (PDS), then the CP-IS CareTeam search,
//! then (when plans are found) the access history, all inside one hard deadline that always
//! ends in an answer. Answers are read as the published contracts define them (`cpis-fhir`):
//! only a valid searchset Bundle with `total: 0` for the NHS number asked about is "no plan";
//! every fault is "could not check" with a reason and a detail code for support staff. Every lookup is handed to the [`AuditSink`] in [`AlertClient::lookup`], the one
//! call site.

mod classify;
mod fetch;

use std::sync::Arc;
use std::time::Duration;

use cpis_domain::{CouldNotCheckReason, LookupOutcome, NhsNumber};
use cpis_fhir::{
    ACCESS_HISTORY_INCLUDE, CareTeamSearch, FHIR_JSON_CONTENT_TYPE, NHS_NUMBER_SYSTEM,
};
use time::OffsetDateTime;
use tokio::time::Instant;
use uuid::Uuid;

use crate::audit::{AuditRecord, AuditSink, AuditSinkError};
use crate::config::{Config, ServiceUrls, join_path};
use crate::identity::{LookupPermission, SignedInUser};
use crate::redact::Secret;

pub use classify::classify_care_team_response;
use classify::{
    NoPatient, Step, access_history_answer, care_team_answer, could_not_check, demographics_answer,
    transport_refusal,
};
use fetch::{Api, RequestContext};

/// The most a service response may be. A CP-IS answer is a few kilobytes.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The answer to one lookup, with what the app needs beside the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupReport {
    /// The outcome to show.
    pub outcome: LookupOutcome,
    /// When plans were found but the access history could not be fetched: why. The plans are
    /// still shown; the history is shown as unavailable, never as empty.
    pub access_history_unavailable: Option<CouldNotCheckReason>,
    /// For support staff, when the outcome is "could not check": which step refused the
    /// answer and why, as a stable code such as `care_team/missing_element:CareTeam.name`
    /// or `demographics/http_status:503`. Never holds a value from the answer.
    pub detail: Option<String>,
    /// The same, for an access history that could not be read.
    pub access_history_detail: Option<String>,
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
        let probe = |base: &reqwest::Url| {
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
        self.lookup_until(
            Instant::now() + self.deadline,
            access_token,
            user,
            nhs_number,
            scheduled,
        )
        .await
    }

    /// [`AlertClient::lookup`] with a deadline that started earlier: the app starts the
    /// deadline when the user asks, before getting credentials (a refresh included), so the
    /// whole lookup, from the request to the answer, fits in it.
    pub async fn lookup_until(
        &self,
        deadline_at: Instant,
        access_token: &Secret,
        user: &SignedInUser,
        nhs_number: &NhsNumber,
        scheduled: bool,
    ) -> LookupReport {
        let permission = user.lookup_permission();
        let unscheduled = permission == LookupPermission::Unscheduled && !scheduled;
        let mut report = if permission == LookupPermission::NotPermitted {
            tracing::debug!(detail = "role_not_permitted", "lookup not sent");
            LookupReport {
                outcome: could_not_check(CouldNotCheckReason::RoleNotPermitted),
                access_history_unavailable: None,
                detail: Some("role_not_permitted".into()),
                access_history_detail: None,
                trace_id: None,
                unscheduled: false,
                audit: Ok(()),
            }
        } else {
            let context = RequestContext {
                access_token,
                role_id: user.selected_roleid.as_deref(),
            };
            self.run(deadline_at, context, nhs_number, unscheduled)
                .await
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
        let record = AuditRecord::new(
            user.actor(),
            nhs_number.clone(),
            OffsetDateTime::now_utc(),
            &report.outcome,
            report.unscheduled,
            self.device.clone(),
            // A fresh id when nothing was sent, so every record has a transaction id.
            report.trace_id.unwrap_or_else(Uuid::new_v4),
        );
        let result = self.audit_sink.record_lookup(&record);
        if let Err(error) = &result {
            tracing::error!(%error, "audit record not saved");
        }
        result
    }

    async fn run(
        &self,
        deadline_at: Instant,
        context: RequestContext<'_>,
        nhs_number: &NhsNumber,
        unscheduled: bool,
    ) -> LookupReport {
        let mut report = LookupReport {
            outcome: could_not_check(CouldNotCheckReason::Timeout),
            access_history_unavailable: None,
            detail: None,
            access_history_detail: None,
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
                context,
                demographics_trace,
                Api::Pds,
                true,
            )
            .await;
        let patient = match fetched
            .map_err(|transport| {
                NoPatient::CouldNotCheck(transport_refusal(transport, Step::Demographics))
            })
            .and_then(|fetched| demographics_answer(fetched, nhs_number))
        {
            Ok(patient) => patient,
            Err(NoPatient::NotFound) => {
                report.outcome = LookupOutcome::PatientNotFound {
                    checked_at: OffsetDateTime::now_utc(),
                };
                return report;
            }
            Err(NoPatient::CouldNotCheck(refusal)) => {
                report.outcome = could_not_check(refusal.reason);
                report.detail = Some(refusal.detail);
                return report;
            }
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
                context,
                care_team_trace,
                Api::Cpis { unscheduled },
                false,
            )
            .await;
        let search = match fetched
            .map_err(|transport| transport_refusal(transport, Step::CareTeam))
            .and_then(|fetched| care_team_answer(fetched, nhs_number))
        {
            Ok(search) => search,
            Err(refusal) => {
                report.outcome = could_not_check(refusal.reason);
                report.detail = Some(refusal.detail);
                return report;
            }
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
        // happens here; a failure marks the history unavailable. The consumer guide requires
        // the viewers' PractitionerRoles to be included.
        let mut history_url = join_path(&self.services.cpis_url, &["AuditEvent"]);
        history_url
            .query_pairs_mut()
            .append_pair(
                "patient:identifier",
                &format!("{NHS_NUMBER_SYSTEM}|{}", nhs_number.as_str()),
            )
            .append_pair("_include", ACCESS_HISTORY_INCLUDE);
        let history_trace = Uuid::new_v4();
        let access_history = match self
            .fetch(
                deadline_at,
                history_url,
                context,
                history_trace,
                Api::Cpis { unscheduled },
                true,
            )
            .await
        {
            Err(transport) => Err(transport_refusal(transport, Step::AccessHistory)),
            Ok(fetched) => access_history_answer(fetched, nhs_number),
        };
        let access_history = access_history.unwrap_or_else(|refusal| {
            report.access_history_unavailable = Some(refusal.reason);
            report.access_history_detail = Some(refusal.detail);
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
}
