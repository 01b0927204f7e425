//! Turning each step's answer into the lookup's outcome: parsing of the demographics, CareTeam
//! and access-history responses as the published contracts define them (`cpis-fhir`), "no
//! plan" only from a valid empty searchset Bundle for the asked number (checked again
//! independently), and for every "could not check" the reason and a stable detail code
//! (`{step}/{code}`) for support staff, logged at debug level without any value.

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

impl Step {
    /// The step as it starts a detail code.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Step::Demographics => "demographics",
            Step::CareTeam => "care_team",
            Step::AccessHistory => "access_history",
        }
    }
}

/// Why a step's answer was not used: the reason the clinician sees, and the detail code
/// (`{step}/{code}`, such as `care_team/missing_element:CareTeam.name` or
/// `demographics/http_status:503`) support staff see. The code never holds a value from the
/// answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub(super) reason: CouldNotCheckReason,
    pub(super) detail: String,
}

impl Refusal {
    /// A refusal at `step`, logged (step and code only) at debug level.
    pub(super) fn new(step: Step, reason: CouldNotCheckReason, code: &str) -> Refusal {
        let detail = format!("{}/{code}", step.as_str());
        tracing::debug!(step = step.as_str(), detail = %detail, "answer refused");
        Refusal { reason, detail }
    }

    fn parse(step: Step, error: &cpis_fhir::FhirError, reason: CouldNotCheckReason) -> Refusal {
        Refusal::new(step, reason, &error.detail_code())
    }
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

/// A transport failure at `step` as a refusal: `timeout`, `not_sent` or `transport`.
pub(super) fn transport_refusal(transport: Transport, step: Step) -> Refusal {
    let code = match transport {
        Transport::Timeout => "timeout",
        Transport::NotSent => "not_sent",
        Transport::Failed => "transport",
    };
    Refusal::new(step, transport_reason(transport, step), code)
}

/// An answer that is not a 200 with a FHIR JSON body that could be read, as a refusal; `None`
/// when it is one.
fn unusable(fetched: &Fetched, step: Step) -> Option<Refusal> {
    let otherwise = if step == Step::Demographics {
        CouldNotCheckReason::DemographicsUnavailable
    } else {
        CouldNotCheckReason::InvalidResponse
    };
    if fetched.status != StatusCode::OK {
        return Some(Refusal::new(
            step,
            status_reason(fetched.status, step),
            &format!("http_status:{}", fetched.status.as_u16()),
        ));
    }
    if !fetched.is_fhir_json {
        return Some(Refusal::new(step, otherwise, "content_type"));
    }
    if fetched.body.is_err() {
        return Some(Refusal::new(step, otherwise, "body_unreadable"));
    }
    None
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NoPatient {
    /// The demographics service says the number is unknown.
    NotFound,
    /// It could not be checked.
    CouldNotCheck(Refusal),
}

pub(super) fn demographics_answer(
    fetched: Fetched,
    asked: &NhsNumber,
) -> Result<cpis_domain::TracedPatient, NoPatient> {
    const STEP: Step = Step::Demographics;
    if fetched.status == StatusCode::NOT_FOUND
        && spine_code(&fetched) == Some(SpineErrorCode::ResourceNotFound)
    {
        // "Not found" only when the demographics service says so in its own words; a 404 from
        // a wrong URL or a proxy is "could not check".
        return Err(NoPatient::NotFound);
    }
    if let Some(refusal) = unusable(&fetched, STEP) {
        return Err(NoPatient::CouldNotCheck(refusal));
    }
    let body = fetched.body.unwrap_or_default();
    cpis_fhir::parse_patient(&body, asked).map_err(|error| {
        let reason = if error.is_another_patient() {
            CouldNotCheckReason::ResponseForAnotherPatient
        } else {
            CouldNotCheckReason::DemographicsUnavailable
        };
        NoPatient::CouldNotCheck(Refusal::parse(STEP, &error, reason))
    })
}

pub(super) fn care_team_answer(
    fetched: Fetched,
    asked: &NhsNumber,
) -> Result<CareTeamSearch, Refusal> {
    const STEP: Step = Step::CareTeam;
    if let Some(refusal) = unusable(&fetched, STEP) {
        return Err(refusal);
    }
    let body = fetched.body.unwrap_or_default();
    match cpis_fhir::parse_care_team_search(&body, asked) {
        // "No plan" is the answer that can hurt most if wrong: a second, independent check
        // must agree before it is believed.
        Ok(CareTeamSearch::NoPlans) if !is_plainly_empty_searchset(&body, asked) => {
            Err(Refusal::new(
                STEP,
                CouldNotCheckReason::InvalidResponse,
                "no_plan_not_confirmed",
            ))
        }
        Ok(search) => Ok(search),
        Err(error) => Err(Refusal::parse(STEP, &error, error.could_not_check_reason())),
    }
}

/// An independent statement of an empty answer: a JSON object with `resourceType` `Bundle`,
/// `type` `searchset`, `total` the integer 0, `entry` absent or `[]` (FHIR JSON allows no
/// `null`), and `link` absent or an array of links (`relation` and `url` strings) in which no
/// `self` link's query, once its `%XX` escapes are undone, holds a run of ten digits other than
/// the asked NHS number. Used only to confirm [`CareTeamSearch::NoPlans`], never to make it.
fn is_plainly_empty_searchset(body: &[u8], asked: &NhsNumber) -> bool {
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
        && links_name_only(bundle.get("link"), asked)
        && bundle.values().all(|value| !value.is_null())
}

/// Whether `link` is absent or an array of `{relation, url}` links whose `self` URLs' queries
/// name no ten-digit number but `asked`.
fn links_name_only(link: Option<&serde_json::Value>, asked: &NhsNumber) -> bool {
    let Some(link) = link else {
        return true;
    };
    let Some(links) = link.as_array() else {
        return false;
    };
    links.iter().all(|link| {
        let (Some(relation), Some(url)) = (
            link.get("relation").and_then(serde_json::Value::as_str),
            link.get("url").and_then(serde_json::Value::as_str),
        ) else {
            return false;
        };
        if relation != "self" {
            return true;
        }
        let query = url.split_once('?').map_or("", |(_, query)| query);
        ten_digit_runs(&unescape(query)).all(|run| run == asked.as_str())
    })
}

/// `%XX` escapes undone (anything else kept as it is).
fn unescape(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Every maximal run of exactly ten ASCII digits.
fn ten_digit_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|character: char| !character.is_ascii_digit())
        .filter(|run| run.len() == 10)
}

pub(super) fn access_history_answer(
    fetched: Fetched,
    asked: &NhsNumber,
) -> Result<Vec<AccessRecord>, Refusal> {
    const STEP: Step = Step::AccessHistory;
    if let Some(refusal) = unusable(&fetched, STEP) {
        return Err(refusal);
    }
    let body = fetched.body.unwrap_or_default();
    cpis_fhir::parse_access_history(&body, asked)
        .map_err(|error| Refusal::parse(STEP, &error, error.could_not_check_reason()))
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
    .map_err(|refusal| refusal.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked() -> NhsNumber {
        NhsNumber::parse("9990000018").expect("valid")
    }

    #[test]
    fn the_independent_empty_check_refuses_nulls_and_entries() {
        assert!(is_plainly_empty_searchset(
            br#"{"resourceType":"Bundle","type":"searchset","total":0}"#,
            &asked()
        ));
        assert!(is_plainly_empty_searchset(
            br#"{"resourceType":"Bundle","type":"searchset","total":0,"entry":[]}"#,
            &asked()
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
                !is_plainly_empty_searchset(body, &asked()),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn the_independent_empty_check_reads_self_links_for_itself() {
        let with_link = |link: &str| {
            format!(
                r#"{{"resourceType":"Bundle","type":"searchset","total":0,"link":{link},"entry":[]}}"#
            )
        };
        for link in [
            r#"[]"#,
            r#"[{"relation":"self","url":"https://cpis.example/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018"}]"#,
            r#"[{"relation":"self","url":"https://cpis.example/CareTeam?patient%3Aidentifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9990000018"}]"#,
            r#"[{"relation":"self","url":"https://cpis.example/CareTeam"}]"#,
            r#"[{"relation":"next","url":"https://cpis.example/CareTeam?identifier=9990000026"}]"#,
        ] {
            assert!(
                is_plainly_empty_searchset(with_link(link).as_bytes(), &asked()),
                "{link}"
            );
        }
        for link in [
            r#"null"#,
            r#"{}"#,
            r#"[null]"#,
            r#"[{"relation":"self"}]"#,
            r#"[{"relation":"self","url":"https://cpis.example/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|9990000026"}]"#,
            r#"[{"relation":"self","url":"https://cpis.example/CareTeam?patient%3Aidentifier=x%7C9990000026"}]"#,
            r#"[{"relation":"self","url":"https://cpis.example/CareTeam?identifier=9990000018,9990000026"}]"#,
        ] {
            assert!(
                !is_plainly_empty_searchset(with_link(link).as_bytes(), &asked()),
                "{link}"
            );
        }
    }

    #[test]
    fn a_no_plan_for_another_patients_search_is_refused_with_its_detail() {
        let body = br#"{"resourceType":"Bundle","type":"searchset","total":0,"link":[{"relation":"self","url":"https://cpis.example/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|9990000026"}]}"#;
        let refusal = care_team_answer(
            Fetched {
                status: StatusCode::OK,
                is_fhir_json: true,
                body: Ok(body.to_vec()),
            },
            &asked(),
        )
        .expect_err("refused");
        assert_eq!(
            refusal,
            Refusal {
                reason: CouldNotCheckReason::ResponseForAnotherPatient,
                detail: "care_team/self_link_another_patient".into(),
            }
        );
    }

    #[test]
    fn every_unusable_answer_names_its_step_and_what_was_wrong() {
        let fetched = |status: StatusCode, is_fhir_json: bool, body: &[u8]| Fetched {
            status,
            is_fhir_json,
            body: Ok(body.to_vec()),
        };
        let detail = |result: Result<CareTeamSearch, Refusal>| result.expect_err("refused").detail;
        assert_eq!(
            detail(care_team_answer(
                fetched(StatusCode::SERVICE_UNAVAILABLE, true, b"{}"),
                &asked()
            )),
            "care_team/http_status:503"
        );
        assert_eq!(
            detail(care_team_answer(
                fetched(StatusCode::OK, false, b"{}"),
                &asked()
            )),
            "care_team/content_type"
        );
        assert_eq!(
            detail(care_team_answer(
                fetched(StatusCode::OK, true, b"{"),
                &asked()
            )),
            "care_team/invalid_json:eof"
        );
        let history = access_history_answer(
            fetched(
                StatusCode::OK,
                true,
                br#"{"resourceType":"Bundle","type":"searchset"}"#,
            ),
            &asked(),
        )
        .expect_err("refused");
        assert_eq!(history.detail, "access_history/missing_total");
        let patient = demographics_answer(fetched(StatusCode::NOT_FOUND, true, b"{}"), &asked());
        assert_eq!(
            patient,
            Err(NoPatient::CouldNotCheck(Refusal {
                reason: CouldNotCheckReason::DemographicsUnavailable,
                detail: "demographics/http_status:404".into(),
            }))
        );
        assert_eq!(
            transport_refusal(Transport::NotSent, Step::CareTeam).detail,
            "care_team/not_sent"
        );
        assert_eq!(
            transport_refusal(Transport::Timeout, Step::Demographics),
            Refusal {
                reason: CouldNotCheckReason::Timeout,
                detail: "demographics/timeout".into(),
            }
        );
        assert_eq!(
            transport_refusal(Transport::Failed, Step::AccessHistory).detail,
            "access_history/transport"
        );
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
