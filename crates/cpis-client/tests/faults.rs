//! The fault matrix: the real alert client against a misbehaving server. Every fault is "could
//! not check" with a reason; only a valid empty Bundle for the asked number is "no plan"; every
//! lookup ends within the deadline and reaches the audit sink.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cpis_client::{
    AlertClient, AuditRecord, AuditSink, AuditSinkError, Config, LookupOutcome, LookupReport,
    LookupSequencer, Secret, SignedInUser,
};
use cpis_domain::{CouldNotCheckReason, PlanRecord, PlanType};
use cpis_fhir::SpineErrorCode;
use tracing::instrument::WithSubscriber;

use crate::support::fault_server::{FHIR_JSON, FaultServer, Reply, Script};
use crate::support::synthetic::*;

/// The deadline for faults that are not timeouts: long, so that a starved runtime on a busy
/// 2-core machine (40 lookups at once beside the other tests) never turns them into one.
const DEADLINE: Duration = Duration::from_secs(10);
/// The deadline for the cases that must time out (they wait this long, in parallel).
const SHORT_DEADLINE: Duration = Duration::from_millis(1000);

/// The deadline to test a case with: short only where a timeout is the expected answer.
fn deadline_for(expected: CouldNotCheckReason) -> Duration {
    if expected == CouldNotCheckReason::Timeout {
        SHORT_DEADLINE
    } else {
        DEADLINE
    }
}
/// How far past the deadline an answer may come (scheduling on a busy machine).
const SLACK: Duration = Duration::from_millis(1000);

#[derive(Default)]
struct RecordingSink {
    records: Mutex<Vec<AuditRecord>>,
    fail: bool,
}

impl AuditSink for RecordingSink {
    fn record_lookup(&self, record: &AuditRecord) -> Result<(), AuditSinkError> {
        self.records.lock().expect("lock").push(record.clone());
        if self.fail {
            Err(AuditSinkError {
                message: "disk full (simulated)".into(),
            })
        } else {
            Ok(())
        }
    }
}

pub(crate) fn healthy_script() -> Script {
    Script {
        patient: vec![Reply::fhir(patient_body(&asked()))],
        care_team: vec![Reply::fhir(empty_bundle(&asked()))],
        history: vec![Reply::fhir(history_bundle(&asked()))],
    }
}

fn client_for(base: &str, sink: Arc<dyn AuditSink>) -> AlertClient {
    client_with_deadline(base, sink, DEADLINE)
}

fn client_with_deadline(base: &str, sink: Arc<dyn AuditSink>, deadline: Duration) -> AlertClient {
    let directory = std::env::temp_dir();
    let mut config = Config::defaults_with_data_dir(directory);
    config.services.demographics_url = format!("{base}/pds").parse().expect("url");
    config.services.cpis_url = format!("{base}/cpis").parse().expect("url");
    config.services.audit_url = format!("{base}/audit").parse().expect("url");
    config.lookup_deadline = deadline;
    AlertClient::new(&config, sink, "cpis-client-tests").expect("client")
}

async fn look_up_as(
    script: Script,
    user: &SignedInUser,
    scheduled: bool,
) -> (LookupReport, FaultServer, Arc<RecordingSink>) {
    look_up_within(script, user, scheduled, DEADLINE).await
}

async fn look_up_within(
    script: Script,
    user: &SignedInUser,
    scheduled: bool,
    deadline: Duration,
) -> (LookupReport, FaultServer, Arc<RecordingSink>) {
    let server = FaultServer::start(script).await;
    let sink = Arc::new(RecordingSink::default());
    let client = client_with_deadline(&server.base, sink.clone(), deadline);
    let started = Instant::now();
    let report = client
        .lookup(&Secret::new("test-access-token"), user, &asked(), scheduled)
        .await;
    assert!(
        started.elapsed() < deadline + SLACK,
        "lookup took {:?}, past the deadline",
        started.elapsed()
    );
    assert_eq!(
        sink.records.lock().expect("lock").len(),
        1,
        "every lookup is audited exactly once"
    );
    (report, server, sink)
}

pub(crate) async fn look_up(script: Script) -> LookupReport {
    look_up_as(script, &user_with(&["B0107"]), false).await.0
}

fn reason_of(report: &LookupReport) -> CouldNotCheckReason {
    match &report.outcome {
        LookupOutcome::CouldNotCheck { reason, .. } => *reason,
        other => panic!("expected could not check, got {}", other.code()),
    }
}

fn care_team_fault(reply: Reply) -> Script {
    Script {
        care_team: vec![reply],
        ..healthy_script()
    }
}

#[tokio::test]
async fn a_valid_empty_bundle_for_the_asked_number_is_no_plan() {
    let (report, server, sink) = look_up_as(healthy_script(), &user_with(&["B0107"]), false).await;
    assert!(matches!(report.outcome, LookupOutcome::NoPlan { .. }));
    assert_eq!(
        server.count("/cpis/AuditEvent"),
        0,
        "no history without a plan"
    );
    let records = sink.records.lock().expect("lock");
    assert_eq!(records[0].outcome, "no_plan");
    assert_eq!(records[0].nhs_number, asked());
    assert_eq!(records[0].actor.role.organisation_ods, "ZZ1ED");
    assert_eq!(Some(records[0].trace_id), report.trace_id);
}

#[tokio::test]
async fn plans_come_with_the_access_history() {
    let script = Script {
        care_team: vec![Reply::fhir(plans_bundle(&asked()))],
        ..healthy_script()
    };
    let report = look_up(script).await;
    match &report.outcome {
        LookupOutcome::PlansFound {
            plans,
            access_history,
            patient,
            ..
        } => {
            assert_eq!(plans, &vec![PlanRecord::from_plan_on(plan(), today())]);
            assert_eq!(access_history, &vec![access()]);
            assert_eq!(patient.family_name.as_deref(), Some("Testchild"));
        }
        other => panic!("expected plans, got {}", other.code()),
    }
    assert_eq!(report.access_history_unavailable, None);
}

#[tokio::test]
async fn plans_are_still_shown_when_the_history_fails() {
    for history in [
        Reply::Hang,
        Reply::status(500, Vec::new()),
        Reply::fhir(b"{}".to_vec()),
    ] {
        let script = Script {
            care_team: vec![Reply::fhir(plans_bundle(&asked()))],
            history: vec![history],
            ..healthy_script()
        };
        let (report, _, _) =
            look_up_within(script, &user_with(&["B0107"]), false, SHORT_DEADLINE).await;
        assert!(matches!(report.outcome, LookupOutcome::PlansFound { .. }));
        assert!(report.access_history_unavailable.is_some());
        // Which step and what: for support staff.
        let detail = report.access_history_detail.expect("a detail code");
        assert!(detail.starts_with("access_history/"), "{detail}");
        assert_eq!(report.detail, None);
    }
}

#[tokio::test]
async fn an_unknown_plan_code_is_a_found_record_of_unknown_type_not_could_not_check() {
    let body = String::from_utf8_lossy(&plans_bundle(&asked()))
        .replace(
            PlanType::ChildProtectionPlan.snomed_code(),
            "123456789000100",
        )
        .into_bytes();
    let script = Script {
        care_team: vec![Reply::fhir(body)],
        ..healthy_script()
    };
    let report = look_up(script).await;
    match &report.outcome {
        LookupOutcome::PlansFound { plans, .. } => {
            let expected = PlanRecord {
                plan_type: None,
                ..PlanRecord::from_plan_on(plan(), today())
            };
            assert_eq!(plans, &vec![expected]);
        }
        other => panic!("expected a found record, got {}", other.code()),
    }
    assert_eq!(report.detail, None);
}

#[tokio::test]
async fn the_access_history_search_includes_the_viewers_practitioner_roles() {
    let script = Script {
        care_team: vec![Reply::fhir(plans_bundle(&asked()))],
        ..healthy_script()
    };
    let server = FaultServer::start(script).await;
    let sink = Arc::new(RecordingSink::default());
    let client = client_for(&server.base, sink);
    let report = client
        .lookup(
            &Secret::new("test-access-token"),
            &user_with(&["B0107"]),
            &asked(),
            false,
        )
        .await;
    assert!(matches!(report.outcome, LookupOutcome::PlansFound { .. }));
    let history = server
        .received()
        .into_iter()
        .find(|request| request.path.starts_with("/cpis/AuditEvent"))
        .expect("the history was asked for");
    let url: reqwest::Url = format!("http://localhost{}", history.path)
        .parse()
        .expect("url");
    let includes: Vec<String> = url
        .query_pairs()
        .filter(|(name, _)| name == "_include")
        .map(|(_, value)| value.into_owned())
        .collect();
    assert_eq!(includes, [cpis_fhir::ACCESS_HISTORY_INCLUDE]);
    // The CareTeam search asks for no include.
    let care_team = server
        .received()
        .into_iter()
        .find(|request| request.path.starts_with("/cpis/CareTeam"))
        .expect("the search was sent");
    assert!(!care_team.path.contains("_include"));
}

#[tokio::test]
async fn every_care_team_fault_is_could_not_check() {
    let empty = empty_bundle(&asked());
    let cases: Vec<(&str, Reply, CouldNotCheckReason)> = vec![
        (
            "hang past the deadline",
            Reply::Hang,
            CouldNotCheckReason::Timeout,
        ),
        (
            "slow body past the deadline",
            Reply::SlowBody {
                body: empty.clone(),
                pause: Duration::from_secs(20),
            },
            CouldNotCheckReason::Timeout,
        ),
        (
            "answer after the deadline",
            Reply::Delayed {
                pause: Duration::from_secs(20),
                reply: Box::new(Reply::fhir(empty.clone())),
            },
            CouldNotCheckReason::Timeout,
        ),
        (
            "connection reset",
            Reply::Reset,
            CouldNotCheckReason::ServiceError,
        ),
        (
            "closed without a response",
            Reply::CloseWithoutResponse,
            CouldNotCheckReason::ServiceError,
        ),
        (
            "500",
            Reply::status(500, operation_outcome(SpineErrorCode::ServerError)),
            CouldNotCheckReason::ServiceError,
        ),
        (
            "502 empty",
            Reply::status(502, Vec::new()),
            CouldNotCheckReason::ServiceError,
        ),
        (
            "503 with an empty bundle",
            Reply::status(503, empty.clone()),
            CouldNotCheckReason::ServiceError,
        ),
        (
            "504",
            Reply::status(504, Vec::new()),
            CouldNotCheckReason::ServiceError,
        ),
        (
            "undocumented 418",
            Reply::status(418, empty.clone()),
            CouldNotCheckReason::ServiceError,
        ),
        (
            "undocumented 409",
            Reply::status(409, Vec::new()),
            CouldNotCheckReason::ServiceError,
        ),
        (
            "404 from a proxy",
            Reply::Full {
                status: 404,
                content_type: Some("text/html"),
                body: b"<h1>Not Found</h1>".to_vec(),
            },
            CouldNotCheckReason::ServiceError,
        ),
        (
            "400 invalid search data",
            Reply::status(400, operation_outcome(SpineErrorCode::InvalidSearchData)),
            CouldNotCheckReason::ServiceError,
        ),
        (
            "400 precondition failed",
            Reply::status(400, operation_outcome(SpineErrorCode::PreconditionFailed)),
            CouldNotCheckReason::ServiceError,
        ),
        (
            "401",
            Reply::status(401, operation_outcome(SpineErrorCode::AccessDenied)),
            CouldNotCheckReason::SignInRequired,
        ),
        (
            "403",
            Reply::status(403, operation_outcome(SpineErrorCode::AccessDenied)),
            CouldNotCheckReason::AccessDenied,
        ),
        (
            "302 redirect",
            Reply::Full {
                status: 302,
                content_type: None,
                body: Vec::new(),
            },
            CouldNotCheckReason::ServiceError,
        ),
        (
            "empty bundle as text/html",
            Reply::Full {
                status: 200,
                content_type: Some("text/html"),
                body: empty.clone(),
            },
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "empty bundle as application/json",
            Reply::Full {
                status: 200,
                content_type: Some("application/json"),
                body: empty.clone(),
            },
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "empty bundle without a content type",
            Reply::Full {
                status: 200,
                content_type: None,
                body: empty.clone(),
            },
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "truncated empty bundle",
            Reply::Truncated {
                body: empty[..empty.len() / 2].to_vec(),
            },
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "whole empty bundle but a longer declared length",
            Reply::Truncated {
                body: empty.clone(),
            },
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "oversized, declared",
            Reply::fhir(vec![b' '; 2 * 1024 * 1024]),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "oversized, undeclared",
            Reply::UndeclaredLength {
                bytes: 3 * 1024 * 1024,
            },
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "empty body",
            Reply::fhir(Vec::new()),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "not JSON",
            Reply::fhir(b"<Bundle/>".to_vec()),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "JSON null",
            Reply::fhir(b"null".to_vec()),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "JSON array",
            Reply::fhir(b"[]".to_vec()),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "empty object",
            Reply::fhir(b"{}".to_vec()),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "bundle without a type",
            Reply::fhir(br#"{"resourceType":"Bundle","total":0}"#.to_vec()),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "bundle without a total",
            Reply::fhir(br#"{"resourceType":"Bundle","type":"searchset"}"#.to_vec()),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "collection bundle",
            Reply::fhir(br#"{"resourceType":"Bundle","type":"collection","total":0}"#.to_vec()),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "total as a string",
            Reply::fhir(br#"{"resourceType":"Bundle","type":"searchset","total":"0"}"#.to_vec()),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "total 0 with an entry",
            Reply::fhir(
                br#"{"resourceType":"Bundle","type":"searchset","total":0,"entry":[{}]}"#.to_vec(),
            ),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "total 1 without entries",
            Reply::fhir(br#"{"resourceType":"Bundle","type":"searchset","total":1}"#.to_vec()),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "an OperationOutcome with 200",
            Reply::fhir(operation_outcome(SpineErrorCode::ServerError)),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "a Patient instead of a Bundle",
            Reply::fhir(patient_body(&asked())),
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "a bundle about another NHS number",
            Reply::fhir(plans_bundle(&someone_else())),
            CouldNotCheckReason::ResponseForAnotherPatient,
        ),
        (
            "connection reset mid-body",
            Reply::ResetMidBody {
                body: plans_bundle(&asked()),
            },
            // As for a truncated body: the answer could not be read whole.
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "503 with Retry-After",
            Reply::WithHeader {
                status: 503,
                content_type: Some(FHIR_JSON),
                header: ("Retry-After", "1"),
                body: operation_outcome(SpineErrorCode::ServerError),
            },
            CouldNotCheckReason::ServiceError,
        ),
        (
            "429 with Retry-After",
            Reply::WithHeader {
                status: 429,
                content_type: Some("text/plain"),
                header: ("Retry-After", "30"),
                body: b"Too Many Requests".to_vec(),
            },
            CouldNotCheckReason::ServiceError,
        ),
        (
            "403 without an OperationOutcome",
            Reply::Full {
                status: 403,
                content_type: Some("text/plain"),
                body: b"Forbidden".to_vec(),
            },
            CouldNotCheckReason::AccessDenied,
        ),
        (
            "an HTML error page with 200",
            Reply::Full {
                status: 200,
                content_type: Some("text/html"),
                body: b"<html><body><h1>Service temporarily unavailable</h1></body></html>"
                    .to_vec(),
            },
            CouldNotCheckReason::InvalidResponse,
        ),
        (
            "an HTML error page with 502",
            Reply::Full {
                status: 502,
                content_type: Some("text/html"),
                body: b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
            },
            CouldNotCheckReason::ServiceError,
        ),
        (
            "a record entered in error",
            Reply::fhir(
                String::from_utf8_lossy(&plans_bundle(&asked()))
                    .replace(r#""status":"active""#, r#""status":"entered-in-error""#)
                    .into_bytes(),
            ),
            CouldNotCheckReason::InvalidResponse,
        ),
    ];
    // Every log line the client writes while handling these faults, at TRACE, is captured and
    // must carry no NHS number, name or token.
    let captured = LogCapture::default();
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(captured.clone())
            .finish(),
    );
    // tracing-core treats a lone scoped dispatcher like the global one: while it is the only
    // one, a log callsite first reached on another test's thread (which has no subscriber) is
    // cached as "never" for everyone, and this capture came out empty. A second, silent
    // dispatcher alive for the whole test makes every callsite's interest "sometimes", so each
    // event asks the subscriber of the task that logs it.
    let _second_dispatcher = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    // Run them concurrently: the timeout cases wait for their (short) deadline.
    let mut tasks = Vec::new();
    for (name, reply, expected) in cases {
        tasks.push(tokio::spawn(
            async move {
                let (report, _, _) = look_up_within(
                    care_team_fault(reply),
                    &user_with(&["B0107"]),
                    false,
                    deadline_for(expected),
                )
                .await;
                (name, reason_of(&report), expected, report.detail)
            }
            .with_subscriber(dispatch.clone()),
        ));
    }
    for task in tasks {
        let (name, reason, expected, detail) = task.await.expect("task");
        assert_eq!(reason, expected, "{name}");
        // Each says which step refused it and why, as a code with no value in it.
        let detail = detail.unwrap_or_else(|| panic!("{name}: no detail code"));
        if expected == CouldNotCheckReason::Timeout {
            // On a busy machine the short deadline may pass before CP-IS is even asked.
            assert!(detail.ends_with("/timeout"), "{name}: {detail}");
        } else {
            assert!(detail.starts_with("care_team/"), "{name}: {detail}");
        }
        assert!(
            detail
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || "_:./-".contains(character)),
            "{name}: {detail}"
        );
    }
    let logs = captured.text();
    assert!(!logs.is_empty(), "the client logged nothing at TRACE");
    // Each refusal is logged with its step and detail code, for support staff.
    assert!(
        logs.contains("answer refused") && logs.contains("detail=care_team/content_type"),
        "no refusal logged with its detail code"
    );
    let patient = patient(&asked());
    for needle in [
        asked().as_str().to_string(),
        someone_else().as_str().to_string(),
        asked().to_string(),
        patient.family_name.clone(),
        "eyJ".to_string(),
        "test-access-token".to_string(),
    ] {
        assert!(
            !logs.contains(&needle),
            "a fault's log carries patient data or a token"
        );
    }
}

/// A `MakeWriter` that keeps everything written, for the log assertions.
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> LogCapture {
        self.clone()
    }
}

#[tokio::test]
async fn a_service_that_is_down_is_unreachable_not_no_plan() {
    // Bind then drop a listener: its port now refuses connections.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let sink = Arc::new(RecordingSink::default());
    let client = client_for(&format!("http://127.0.0.1:{port}"), sink.clone());
    let report = client
        .lookup(&Secret::new("t"), &user_with(&["B0107"]), &asked(), false)
        .await;
    assert_eq!(
        reason_of(&report),
        CouldNotCheckReason::DemographicsUnavailable
    );
    assert_eq!(sink.records.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn demographics_faults_stop_the_lookup_before_cp_is() {
    let cases: Vec<(&str, Reply, CouldNotCheckReason)> = vec![
        ("hang", Reply::Hang, CouldNotCheckReason::Timeout),
        (
            "500",
            Reply::status(500, Vec::new()),
            CouldNotCheckReason::DemographicsUnavailable,
        ),
        (
            "404 without an OperationOutcome",
            Reply::Full {
                status: 404,
                content_type: Some("text/html"),
                body: b"not found".to_vec(),
            },
            CouldNotCheckReason::DemographicsUnavailable,
        ),
        (
            "404 with another code",
            Reply::status(404, operation_outcome(SpineErrorCode::UnsupportedService)),
            CouldNotCheckReason::DemographicsUnavailable,
        ),
        (
            "a Patient for another NHS number",
            Reply::fhir(patient_body(&someone_else())),
            CouldNotCheckReason::ResponseForAnotherPatient,
        ),
        (
            "wrong content type",
            Reply::Full {
                status: 200,
                content_type: Some("application/json"),
                body: patient_body(&asked()),
            },
            CouldNotCheckReason::DemographicsUnavailable,
        ),
        (
            "401",
            Reply::status(401, Vec::new()),
            CouldNotCheckReason::SignInRequired,
        ),
        (
            "reset",
            Reply::Reset,
            CouldNotCheckReason::DemographicsUnavailable,
        ),
    ];
    let mut tasks = Vec::new();
    for (name, reply, expected) in cases {
        tasks.push(tokio::spawn(async move {
            let script = Script {
                patient: vec![reply],
                ..healthy_script()
            };
            let (report, server, _) = look_up_within(
                script,
                &user_with(&["B0107"]),
                false,
                deadline_for(expected),
            )
            .await;
            (name, reason_of(&report), expected, server.count("/cpis/"))
        }));
    }
    for task in tasks {
        let (name, reason, expected, cpis_requests) = task.await.expect("task");
        assert_eq!(reason, expected, "{name}");
        assert_eq!(cpis_requests, 0, "{name}: CP-IS must not be asked");
    }
}

#[tokio::test]
async fn an_unknown_patient_is_patient_not_found() {
    let script = Script {
        patient: vec![Reply::status(
            404,
            operation_outcome(SpineErrorCode::ResourceNotFound),
        )],
        ..healthy_script()
    };
    let (report, server, sink) = look_up_as(script, &user_with(&["B0107"]), false).await;
    assert!(matches!(
        report.outcome,
        LookupOutcome::PatientNotFound { .. }
    ));
    assert_eq!(server.count("/cpis/"), 0);
    assert_eq!(
        sink.records.lock().expect("lock")[0].outcome,
        "patient_not_found"
    );
}

#[tokio::test]
async fn headers_carry_a_request_id_the_role_and_the_access_kind_per_api() {
    let script = Script {
        care_team: vec![Reply::fhir(plans_bundle(&asked()))],
        ..healthy_script()
    };
    let (report, server, sink) = look_up_as(script.clone(), &user_with(&["B0107"]), false).await;
    let received = server.received();
    assert_eq!(received.len(), 3);
    assert!(received[0].path.starts_with("/pds/Patient/9990000018"));
    assert_eq!(
        received[1].path,
        "/cpis/CareTeam?patient%3Aidentifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9990000018"
    );
    let mut trace_ids = Vec::new();
    for (index, request) in received.iter().enumerate() {
        assert_eq!(
            request.header("authorization"),
            Some("Bearer test-access-token")
        );
        assert_eq!(request.header("accept"), Some(FHIR_JSON));
        assert_eq!(
            request.header("nhsd-session-urid"),
            Some("555000000101"),
            "every request names the selected role"
        );
        // PDS: X-Request-ID and no CP-IS headers; CP-IS: TraceID and the access kind.
        let (id_header, other) = if index == 0 {
            ("x-request-id", "traceid")
        } else {
            ("traceid", "x-request-id")
        };
        let trace_id = request.header(id_header).expect(id_header);
        uuid::Uuid::parse_str(trace_id).expect("a UUID");
        assert_eq!(request.header(other), None, "{other} on request {index}");
        if index == 0 {
            assert_eq!(request.header("isunscheduledaccessevent"), None);
        }
        trace_ids.push(trace_id.to_owned());
    }
    trace_ids.sort();
    trace_ids.dedup();
    assert_eq!(trace_ids.len(), 3, "a fresh id per request");
    assert_eq!(received[1].header("isunscheduledaccessevent"), Some("true"));
    assert_eq!(
        report.trace_id.map(|id| id.to_string()).as_deref(),
        received[1].header("traceid"),
        "the audit transaction id is the CP-IS request's TraceID"
    );
    assert!(sink.records.lock().expect("lock")[0].unscheduled);

    for (user, scheduled) in [
        (user_with(&["B0170"]), false),
        (user_with(&["B0107"]), true),
    ] {
        let (report, server, _) = look_up_as(script.clone(), &user, scheduled).await;
        assert!(!report.unscheduled);
        assert_eq!(
            server.received()[1].header("isunscheduledaccessevent"),
            Some("false")
        );
    }
}

#[tokio::test]
async fn a_role_without_b0107_or_b0170_sends_nothing_and_is_audited() {
    for user in [
        user_with(&["B1235"]),
        SignedInUser {
            selected_roleid: None,
            ..user_with(&["B0107"])
        },
    ] {
        let (report, server, sink) = look_up_as(healthy_script(), &user, false).await;
        assert_eq!(reason_of(&report), CouldNotCheckReason::RoleNotPermitted);
        assert!(server.received().is_empty());
        assert_eq!(
            sink.records.lock().expect("lock")[0].outcome,
            "could_not_check"
        );
    }
}

#[tokio::test]
async fn retries_only_where_safe() {
    // Demographics is a read: one retry on 503.
    let script = Script {
        patient: vec![
            Reply::status(503, Vec::new()),
            Reply::fhir(patient_body(&asked())),
        ],
        ..healthy_script()
    };
    let (report, server, _) = look_up_as(script, &user_with(&["B0107"]), false).await;
    assert!(matches!(report.outcome, LookupOutcome::NoPlan { .. }));
    assert_eq!(server.count("/pds/"), 2);

    // The CP-IS search notifies the local authority: never repeated once it may have arrived.
    let script = Script {
        care_team: vec![
            Reply::status(503, Vec::new()),
            Reply::fhir(empty_bundle(&asked())),
        ],
        ..healthy_script()
    };
    let (report, server, _) = look_up_as(script, &user_with(&["B0107"]), false).await;
    assert_eq!(reason_of(&report), CouldNotCheckReason::ServiceError);
    assert_eq!(server.count("/cpis/CareTeam"), 1);

    let script = Script {
        care_team: vec![Reply::Reset, Reply::fhir(empty_bundle(&asked()))],
        ..healthy_script()
    };
    let (report, server, _) = look_up_as(script, &user_with(&["B0107"]), false).await;
    assert_eq!(reason_of(&report), CouldNotCheckReason::ServiceError);
    assert_eq!(server.count("/cpis/CareTeam"), 1);
}

#[tokio::test]
async fn an_audit_failure_still_gives_the_answer_and_says_so() {
    let server = FaultServer::start(healthy_script()).await;
    let sink = Arc::new(RecordingSink {
        fail: true,
        ..RecordingSink::default()
    });
    let client = client_for(&server.base, sink);
    let report = client
        .lookup(&Secret::new("t"), &user_with(&["B0107"]), &asked(), false)
        .await;
    assert!(matches!(report.outcome, LookupOutcome::NoPlan { .. }));
    assert!(report.audit.is_err());
}

#[tokio::test]
async fn a_late_answer_for_an_earlier_lookup_is_dropped() {
    // The first lookup is slow; a second is started meanwhile. Only the second is shown.
    let slow = FaultServer::start(Script {
        care_team: vec![Reply::Delayed {
            pause: Duration::from_millis(300),
            reply: Box::new(Reply::fhir(plans_bundle(&asked()))),
        }],
        ..healthy_script()
    })
    .await;
    let fast = FaultServer::start(healthy_script()).await;
    let sink: Arc<dyn AuditSink> = Arc::new(RecordingSink::default());
    let slow_client = client_for(&slow.base, sink.clone());
    let fast_client = client_for(&fast.base, sink);
    let sequencer = LookupSequencer::new();
    let user = user_with(&["B0107"]);

    let first_ticket = sequencer.begin();
    let first = {
        let sequencer = sequencer.clone();
        let user = user.clone();
        tokio::spawn(async move {
            let report = slow_client
                .lookup(&Secret::new("t"), &user, &asked(), false)
                .await;
            sequencer.accept(first_ticket, report)
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second_ticket = sequencer.begin();
    let second = fast_client
        .lookup(&Secret::new("t"), &user, &asked(), false)
        .await;
    let shown = sequencer.accept(second_ticket, second).expect("current");
    assert!(matches!(shown.outcome, LookupOutcome::NoPlan { .. }));
    assert_eq!(
        first.await.expect("task"),
        None,
        "the late answer is dropped"
    );
}

#[tokio::test]
async fn the_probe_tells_reachable_from_down() {
    let server = FaultServer::start(healthy_script()).await;
    let client = client_for(&server.base, Arc::new(RecordingSink::default()));
    // The fault server answers /metadata with a 404: still an answer, so reachable.
    assert_eq!(
        client.probe().await,
        cpis_client::ServiceReachability {
            cpis: true,
            demographics: true
        }
    );
    for request in server.received() {
        assert!(
            request.header("authorization").is_none(),
            "no token on a probe"
        );
        assert!(!request.path.contains("999"), "no NHS number on a probe");
    }
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let down = client_for(
        &format!("http://127.0.0.1:{port}"),
        Arc::new(RecordingSink::default()),
    );
    assert_eq!(
        down.probe().await,
        cpis_client::ServiceReachability {
            cpis: false,
            demographics: false
        }
    );
}
