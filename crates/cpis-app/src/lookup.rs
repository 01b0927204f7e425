//! Looking a patient up: the NHS number checked, the alert client asked with the session's
//! token, a stale answer superseded, and what a lookup that found plans leaves for the follow-up.

use std::sync::atomic::Ordering;

use cpis_client::SignedInUser;
use cpis_domain::{CouldNotCheckReason, LookupOutcome, NhsNumber};
use cpis_ipc::{LookupResponse, LookupView, parse_for_lookup};
use time::OffsetDateTime;
use tokio::time::Instant;
use uuid::Uuid;

use crate::AppCore;

/// The message shown when a view could not be written to the local audit queue.
pub const AUDIT_INCIDENT_MESSAGE: &str = "This check could not be saved to the audit log on this computer. The result is still correct. Report this to your IT service desk as an incident.";

/// What is remembered about a lookup that found plans, for the follow-up.
#[derive(Clone)]
pub(crate) struct LookupContext {
    pub(crate) nhs_number: NhsNumber,
    pub(crate) trace_id: Uuid,
    pub(crate) user: SignedInUser,
    pub(crate) unscheduled: bool,
}

impl AppCore {
    /// Look up what the user typed.
    pub async fn lookup(&self, input: &str) -> LookupResponse {
        let nhs_number = match parse_for_lookup(input) {
            Ok(nhs_number) => nhs_number,
            Err(view) => {
                return LookupResponse {
                    lookup_id: 0,
                    view: *view,
                    audit_warning: None,
                };
            }
        };
        // The deadline runs from the request to the answer: getting credentials (a refresh at
        // the broker included) counts against it, so an unreachable broker cannot hold the
        // answer past it.
        let deadline_at = Instant::now() + self.alert.deadline();
        let ticket = self.sequencer.begin();
        let credentials = tokio::time::timeout_at(deadline_at, self.credentials()).await;
        let could_not_check = |reason| LookupResponse {
            lookup_id: 0,
            view: if !self.sequencer.is_current(ticket) {
                LookupView::Superseded
            } else {
                LookupView::from_outcome(
                    &LookupOutcome::CouldNotCheck {
                        reason,
                        attempted_at: OffsetDateTime::now_utc(),
                    },
                    None,
                    Some(&nhs_number),
                )
            },
            audit_warning: None,
        };
        let (token, user) = match credentials {
            Ok(Some(credentials)) => credentials,
            Ok(None) => return could_not_check(CouldNotCheckReason::SignInRequired),
            Err(_) => {
                tracing::warn!("the lookup's deadline passed while getting credentials");
                return could_not_check(CouldNotCheckReason::Timeout);
            }
        };
        let report = self
            .alert
            .lookup_until(deadline_at, &token, &user, &nhs_number, false)
            .await;
        self.note_reachability(&report.outcome);
        let audit_warning = report
            .audit
            .as_ref()
            .err()
            .map(|_| AUDIT_INCIDENT_MESSAGE.to_string());
        if !self.sequencer.is_current(ticket) {
            return LookupResponse {
                lookup_id: 0,
                view: LookupView::Superseded,
                audit_warning,
            };
        }
        let lookup_id = if matches!(report.outcome, LookupOutcome::PlansFound { .. }) {
            let id = self.next_lookup_id.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut lookups) = self.lookups.lock() {
                lookups.insert(
                    id,
                    LookupContext {
                        nhs_number: nhs_number.clone(),
                        trace_id: report.trace_id.unwrap_or_else(Uuid::new_v4),
                        user: user.clone(),
                        unscheduled: report.unscheduled,
                    },
                );
            }
            id
        } else {
            0
        };
        let trace_id = report.trace_id.map(|id| id.to_string());
        LookupResponse {
            lookup_id,
            view: LookupView::from_outcome(
                &report.outcome,
                report.access_history_unavailable,
                Some(&nhs_number),
            )
            .with_support_reference(trace_id.as_deref(), report.detail.as_deref()),
            audit_warning,
        }
    }

    fn note_reachability(&self, outcome: &LookupOutcome) {
        let reachable = match outcome {
            LookupOutcome::CouldNotCheck { reason, .. } => match reason {
                CouldNotCheckReason::Timeout
                | CouldNotCheckReason::ServiceUnreachable
                | CouldNotCheckReason::ServiceError => Some(false),
                CouldNotCheckReason::SignInRequired | CouldNotCheckReason::RoleNotPermitted => None,
                _ => Some(true),
            },
            LookupOutcome::InvalidInput(_) => None,
            _ => Some(true),
        };
        if let (Some(reachable), Ok(mut slot)) = (reachable, self.services_reachable.lock()) {
            *slot = Some(reachable);
        }
    }
}
