//! Every read the service answers leaves a record (issue 17): who (user id and name), in which
//! role, at which organisation, what (the interaction and the patient), when, and the request's
//! TraceID / X-Request-ID, as a PARS AuditEvent in the central audit log's `audit_log_reads`,
//! committed before the answer is sent. When it cannot be committed the read answers 503 with
//! the usual OperationOutcome and no data (fail closed).
//!
//! - [`record_read`]: one read of one patient (a demographics read, a CareTeam search, an
//!   access-history search).
//! - [`record_review`]: a page of the named nurse review: one record per distinct patient on
//!   the page, all with the request's id.
//!
//! Requests refused before any data is read (bad NHS number, no token, wrong role) are not
//! reads and record nothing: the handlers call these only after their checks.

use std::collections::BTreeSet;

use axum::http::HeaderMap;
use cpis_audit_log::reads::ReadRecord;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

pub use cpis_fhir::audit_event::ReadInteraction;
use cpis_fhir::audit_event::{ReadEvent, read_event};

/// The `interaction` column of each kind of read.
pub fn interaction_code(interaction: ReadInteraction) -> &'static str {
    match interaction {
        ReadInteraction::PdsRead => "pds_read",
        ReadInteraction::CareTeamSearch { silent: false } => "care_team_search",
        ReadInteraction::CareTeamSearch { silent: true } => "care_team_search_silent",
        ReadInteraction::AccessHistorySearch => "access_history_search",
        ReadInteraction::ReviewSearch => "review_search",
    }
}

/// The request's id as the client sent it (`X-Request-ID`, else `TraceID`, when a UUID), else
/// a new UUID.
pub fn client_request_id(headers: &HeaderMap) -> String {
    ["X-Request-ID", "TraceID"]
        .iter()
        .filter_map(|name| headers.get(*name))
        .filter_map(|value| value.to_str().ok())
        .find_map(|text| uuid::Uuid::parse_str(text.trim()).ok())
        .unwrap_or_else(uuid::Uuid::new_v4)
        .to_string()
}

fn record(
    state: &AppState,
    principal: &Principal,
    nhs_number: &str,
    request_id: &str,
    interaction: ReadInteraction,
    outcome_ok: bool,
) -> ReadRecord {
    let event = ReadEvent {
        event_id: uuid::Uuid::new_v4(),
        recorded: state.now(),
        actor: &principal.actor,
        nhs_number,
        request_id,
        interaction,
        outcome_ok,
        service_url: state.public_url(),
    };
    let resource = cpis_fhir::audit_event::to_sorted_value(&read_event(&event)).to_string();
    ReadRecord {
        event_id: event.event_id,
        occurred_at_micros: crate::store::to_micros(event.recorded),
        organisation_ods: principal.actor.role.organisation_ods.clone(),
        user_id: principal.actor.user_id.clone(),
        interaction: interaction_code(interaction),
        nhs_number: nhs_number.to_owned(),
        trace_id: request_id.to_owned(),
        resource,
    }
}

async fn commit(state: &AppState, reads: Vec<ReadRecord>) -> Result<(), ApiError> {
    state.reads.record(reads).await.map_err(|error| {
        tracing::error!(%error, "a read could not be recorded: answering 503 with no data");
        ApiError::unavailable()
    })
}

/// Record that `principal` read `nhs_number`'s record (`outcome_ok` false when the answer was
/// that there is none), committed before this returns; else the 503 to answer instead.
pub async fn record_read(
    state: &AppState,
    principal: &Principal,
    nhs_number: &str,
    request_id: &str,
    interaction: ReadInteraction,
    outcome_ok: bool,
) -> Result<(), ApiError> {
    let read = record(
        state,
        principal,
        nhs_number,
        request_id,
        interaction,
        outcome_ok,
    );
    commit(state, vec![read]).await
}

/// The patient entity of a stored AuditEvent, read leniently (only what is needed).
#[derive(Deserialize)]
struct Patients {
    #[serde(default)]
    entity: Vec<Entity>,
}

#[derive(Deserialize)]
struct Entity {
    #[serde(default)]
    what: Option<What>,
}

#[derive(Deserialize)]
struct What {
    #[serde(default)]
    identifier: Option<Identifier>,
}

#[derive(Deserialize)]
struct Identifier {
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

/// The distinct NHS numbers the events of a review page name (their patient entities).
pub fn patients_on_page(resources: &[Box<RawValue>]) -> BTreeSet<String> {
    resources
        .iter()
        .filter_map(|resource| serde_json::from_str::<Patients>(resource.get()).ok())
        .flat_map(|event| event.entity)
        .filter_map(|entity| entity.what?.identifier)
        .filter(|identifier| identifier.system.as_deref() == Some(cpis_fhir::NHS_NUMBER_SYSTEM))
        .filter_map(|identifier| identifier.value)
        .collect()
}

/// Record a page of the named nurse review served to `principal`: one read per distinct
/// patient whose access records the page shows (PARS names one patient an event), all with the
/// request's id ([`client_request_id`]), committed before this returns; else the 503 to answer.
pub async fn record_review(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    resources: &[Box<RawValue>],
) -> Result<(), ApiError> {
    let request_id = client_request_id(headers);
    let reads = patients_on_page(resources)
        .iter()
        .map(|nhs_number| {
            record(
                state,
                principal,
                nhs_number,
                &request_id,
                ReadInteraction::ReviewSearch,
                true,
            )
        })
        .collect();
    commit(state, reads).await
}
