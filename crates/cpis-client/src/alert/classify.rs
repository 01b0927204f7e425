//! Turning each step's answer into the lookup's outcome: strict parsing of the demographics,
//! CareTeam and access-history responses (`cpis-fhir`), "no plan" only from a valid empty
//! searchset Bundle for the asked number (checked again independently), and the reason for
//! every "could not check".

use cpis_domain::{AccessRecord, CouldNotCheckReason, LookupOutcome, NhsNumber};
use cpis_fhir::{CareTeamSearch, SpineErrorCode};
use reqwest::StatusCode;
use time::OffsetDateTime;

use super::fetch::{Fetched, Transport, is_fhir_json_content_type};

/// Where one step of a lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Demographics,
    CareTeam,
    AccessHistory,
}

pub(super) fn could_not_check(reason: CouldNotCheckReason) -> LookupOutcome {
    LookupOutcome::CouldNotCheck {
        reason,
        attempted_at: OffsetDateTime::now_utc(),
    }
}

pub(super) fn transport_reason(transport: Transport, step: Step) -> CouldNotCheckReason {
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
pub(super) enum NoPatient {
    /// The demographics service says the number is unknown.
    NotFound,
    /// It could not be checked.
    CouldNotCheck(CouldNotCheckReason),
}

pub(super) fn demographics_answer(
    fetched: Fetched,
    asked: &NhsNumber,
) -> Result<cpis_domain::TracedPatient, NoPatient> {
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

pub(super) fn care_team_answer(
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

pub(super) fn access_history_answer(
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
