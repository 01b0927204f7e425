//! The shapes of the service's answers, as the CP-IS consumer guide, its error handling page
//! and PDS show them: `link` self and `fullUrl`s, the ValueSet's display texts, the access
//! history's `_include` of each viewer's PractitionerRole, PDS's `meta` and verification code
//! system, and the OperationOutcomes' issue codes and Spine code systems.

use axum::http::StatusCode;
use cpis_domain::{Gender, PlanType};
use serde_json::Value;
use time::Duration;

use super::support::*;
use crate::on_both_backends;

on_both_backends!(
    care_team_answers_carry_self_link_full_urls_and_valueset_displays,
    access_history_includes_each_viewers_practitioner_role_when_asked,
    notifications_carry_a_self_link_and_the_patient_agent,
);

/// The service's public URL in these tests (the token URL without `/oauth2/token`).
const BASE: &str = "http://cpis.test.invalid";
const NHS_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
const ENGLAND_SPINE: &str = "https://fhir.nhs.uk/CodeSystem/England-SpineErrorOrWarningCode";
const PDS_SPINE: &str = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode";
const ROLE_CLASS: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleClass";
/// The consumer guide's `_include`, URL-encoded as a client sends it.
const GUIDE_INCLUDE_ENCODED: &str = "AuditEvent%3Aentity-type%3Dhttp%3A%2F%2Fterminology.hl7.org%2FCodeSystem%2Fv3-RoleClass%7CASSIGNED";

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)))
}

fn trace() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn self_link(bundle: &Value) -> &str {
    let links = bundle["link"].as_array().expect("link array");
    assert_eq!(links.len(), 1, "{bundle}");
    assert_eq!(links[0]["relation"], "self");
    links[0]["url"].as_str().expect("url")
}

fn entries_with_mode<'a>(bundle: &'a Value, mode: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|entry| entry["search"]["mode"] == mode)
                .collect()
        })
        .unwrap_or_default()
}

fn history_uri(nhs_digits: &str, include: Option<&str>) -> String {
    let mut uri = format!(
        "/cpis/FHIR/R4/AuditEvent?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C{nhs_digits}"
    );
    if let Some(include) = include {
        uri.push_str("&_include=");
        uri.push_str(include);
    }
    uri
}

async fn care_team_answers_carry_self_link_full_urls_and_valueset_displays(app: TestApp) {
    let [child, other] = <[_; 2]>::try_from(numbers(2)).expect("2");
    let today = app.today();
    app.person(&child, years_ago(today, 5), Gender::Female)
        .await;
    app.person(&other, years_ago(today, 6), Gender::Male).await;
    for (plan_type, days) in [
        (PlanType::ChildProtectionPlan, 30),
        (PlanType::LookedAfterChild, 20),
        (PlanType::UnbornChildProtectionPlan, 10),
    ] {
        app.add_plan(
            &child,
            &plan(plan_type, today - Duration::days(days), None, "ZL001"),
        )
        .await;
    }
    let token = app.scheduled_user().await;
    let (status, body) = app.care_team(&child, &token, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let bundle = json(&body);
    assert_eq!(bundle["type"], "searchset");
    assert_eq!(bundle["total"], 3);
    assert_eq!(
        self_link(&bundle),
        format!(
            "{BASE}/cpis/FHIR/R4/CareTeam?patient:identifier={NHS_SYSTEM}|{}",
            child.as_str()
        )
    );
    let matches = entries_with_mode(&bundle, "match");
    assert_eq!(matches.len(), 3);
    let mut displays = Vec::new();
    for entry in matches {
        let care_team = &entry["resource"];
        let id = care_team["id"].as_str().expect("id");
        assert_eq!(
            entry["fullUrl"],
            format!("{BASE}/cpis/FHIR/R4/CareTeam/{id}")
        );
        // The consumer guide's search examples claim no profile.
        assert!(care_team.get("meta").is_none(), "{care_team}");
        assert_eq!(care_team["subject"]["identifier"]["system"], NHS_SYSTEM);
        assert_eq!(care_team["subject"]["identifier"]["value"], child.as_str());
        assert_eq!(care_team["name"], "ZL001 Council (synthetic)");
        assert_eq!(
            care_team["managingOrganization"][0]["identifier"]["value"],
            "ZL001"
        );
        assert_eq!(care_team["telecom"][0]["use"], "work");
        assert_eq!(care_team["telecom"][1]["use"], "mobile");
        let coding = &care_team["category"][0]["coding"][0];
        assert_eq!(coding["system"], "http://snomed.info/sct");
        displays.push((
            coding["code"].as_str().expect("code").to_owned(),
            coding["display"].as_str().expect("display").to_owned(),
        ));
    }
    displays.sort();
    assert_eq!(
        displays,
        [
            (
                "342191000000101".to_owned(),
                "Subject to child protection plan".to_owned()
            ),
            (
                "764841000000100".to_owned(),
                "Looked after child".to_owned()
            ),
            (
                "818901000000100".to_owned(),
                "Unborn child subject to child protection plan".to_owned()
            ),
        ]
    );

    // No plan: total 0, no entries, and the self link names the asked number.
    let (status, body) = app.care_team(&other, &token, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let empty = json(&body);
    assert_eq!(empty["total"], 0);
    assert!(empty.get("entry").is_none(), "{empty}");
    assert!(self_link(&empty).ends_with(&format!("|{}", other.as_str())));
}

async fn access_history_includes_each_viewers_practitioner_role_when_asked(app: TestApp) {
    let [child] = <[_; 1]>::try_from(numbers(1)).expect("1");
    let today = app.today();
    app.person(&child, years_ago(today, 5), Gender::Female)
        .await;
    app.add_plan(
        &child,
        &plan(
            PlanType::ChildProtectionPlan,
            today - Duration::days(30),
            None,
            "ZL001",
        ),
    )
    .await;
    let nurse = app.ed_nurse().await;
    let other = app.other_nurse().await;
    let nurse_trace = trace();
    app.get(
        &care_team_uri(child.as_str()),
        Some(&nurse),
        &[("TraceID", &nurse_trace)],
    )
    .await;
    app.advance(Duration::hours(1));
    app.care_team(&child, &other, &[]).await;

    // With the guide's _include: two AuditEvents (counted) and two PractitionerRoles (not).
    let (status, _, body) = app
        .get(
            &history_uri(child.as_str(), Some(GUIDE_INCLUDE_ENCODED)),
            Some(&nurse),
            &[("TraceID", &trace())],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let bundle = json(&body);
    assert_eq!(bundle["total"], 2);
    let link = self_link(&bundle);
    assert!(
        link.starts_with(&format!(
            "{BASE}/cpis/FHIR/R4/AuditEvent?patient:identifier={NHS_SYSTEM}|{}&_include=",
            child.as_str()
        )),
        "{link}"
    );
    let events = entries_with_mode(&bundle, "match");
    let roles = entries_with_mode(&bundle, "include");
    assert_eq!((events.len(), roles.len()), (2, 2));
    assert_eq!(bundle["entry"].as_array().map(Vec::len), Some(4));
    let mut viewers = Vec::new();
    for entry in &events {
        let event = &entry["resource"];
        assert_eq!(event["resourceType"], "AuditEvent");
        assert_eq!(
            entry["fullUrl"],
            format!(
                "{BASE}/cpis/FHIR/R4/AuditEvent/{}",
                event["id"].as_str().expect("id")
            )
        );
        let agents = event["agent"].as_array().expect("agents");
        let patient = agents
            .iter()
            .find(|agent| agent["type"]["coding"][0]["code"] == "PAT")
            .expect("PAT agent");
        assert_eq!(patient["type"]["coding"][0]["system"], ROLE_CLASS);
        assert_eq!(patient["who"]["identifier"]["value"], child.as_str());
        assert_eq!(patient["requestor"], false);
        let viewer = agents
            .iter()
            .find(|agent| agent["type"]["coding"][0]["code"] == "ASSIGNED")
            .expect("ASSIGNED agent");
        assert_eq!(viewer["requestor"], true);
        let reference = viewer["who"]["reference"].as_str().expect("reference");
        assert_eq!(event["source"]["observer"]["reference"], reference);
        // The included PractitionerRole the agent names: its fullUrl ends in the reference.
        let role = roles
            .iter()
            .find(|role| {
                role["fullUrl"]
                    .as_str()
                    .is_some_and(|url| url.ends_with(&format!("/{reference}")))
            })
            .map(|role| &role["resource"])
            .unwrap_or_else(|| panic!("no included {reference}"));
        assert_eq!(role["resourceType"], "PractitionerRole");
        assert_eq!(role["practitioner"]["display"], viewer["who"]["display"]);
        assert_eq!(
            role["identifier"][0]["system"],
            "https://fhir.nhs.uk/Id/sds-role-profile-id"
        );
        assert_eq!(role["code"][0]["coding"][0]["display"], "Nurse Access Role");
        viewers.push((
            role["practitioner"]["display"]
                .as_str()
                .expect("name")
                .to_owned(),
            role["organization"]["identifier"]["value"]
                .as_str()
                .expect("ODS")
                .to_owned(),
        ));
        let transaction = event["entity"]
            .as_array()
            .expect("entities")
            .iter()
            .find(|entity| {
                entity["what"]["identifier"]["system"] == "https://fhir.nhs.uk/Id/transaction"
            })
            .map(|entity| entity["what"]["identifier"]["value"].clone());
        if viewer["who"]["display"] == "Tess Triage-Test" {
            assert_eq!(transaction, Some(Value::from(nurse_trace.as_str())));
        }
    }
    // Newest first.
    assert_eq!(
        viewers,
        [
            ("Ola Other-Test".to_owned(), "ZZ2ED".to_owned()),
            ("Tess Triage-Test".to_owned(), "ZZ1ED".to_owned()),
        ]
    );

    // The other accepted spellings.
    for include in ["AuditEvent:agent", "AuditEvent%3Aagent%3APractitionerRole"] {
        let (status, _, body) = app
            .get(
                &history_uri(child.as_str(), Some(include)),
                Some(&nurse),
                &[("TraceID", &trace())],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{include}");
        assert_eq!(entries_with_mode(&json(&body), "include").len(), 2);
    }

    // Without _include: the same events and no PractitionerRole; the agents still carry the
    // viewer inline (who.display, role) for a client that does not ask.
    let (status, _, body) = app
        .get(
            &history_uri(child.as_str(), None),
            Some(&nurse),
            &[("TraceID", &trace())],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let plain = json(&body);
    assert_eq!(plain["total"], 2);
    assert_eq!(plain["entry"].as_array().map(Vec::len), Some(2));
    assert!(entries_with_mode(&plain, "include").is_empty());
    assert!(!self_link(&plain).contains("_include"));

    // Any other _include is refused as an unknown search parameter is.
    for include in ["AuditEvent:patient", "CareTeam:subject"] {
        let (status, _, body) = app
            .get(
                &history_uri(child.as_str(), Some(include)),
                Some(&nurse),
                &[("TraceID", &trace())],
            )
            .await;
        assert_eq!(
            (status, spine_code(&body).as_str()),
            (StatusCode::BAD_REQUEST, "INVALID_SEARCH_DATA"),
            "{include}"
        );
    }
    // And the CareTeam search takes no _include.
    let (status, _, body) = app
        .get(
            &format!(
                "{}&_include={GUIDE_INCLUDE_ENCODED}",
                care_team_uri(child.as_str())
            ),
            Some(&nurse),
            &[("TraceID", &trace())],
        )
        .await;
    assert_eq!(
        (status, spine_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "INVALID_SEARCH_DATA")
    );
}

async fn notifications_carry_a_self_link_and_the_patient_agent(app: TestApp) {
    let [child] = <[_; 1]>::try_from(numbers(1)).expect("1");
    let today = app.today();
    app.person(&child, years_ago(today, 5), Gender::Female)
        .await;
    app.add_plan(
        &child,
        &plan(
            PlanType::LookedAfterChild,
            today - Duration::days(3),
            None,
            "ZL001",
        ),
    )
    .await;
    let before = app.now() - Duration::minutes(1);
    app.care_team(&child, &app.ed_nurse().await, &[]).await;
    let since = before
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let (status, _, body) = app
        .get(
            &format!("/la/FHIR/R4/AuditEvent?since={}", since.replace('+', "%2B")),
            Some(&app.la_user("ZL001").await),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let bundle = json(&body);
    assert_eq!(bundle["total"], 1);
    assert!(
        self_link(&bundle).starts_with(&format!("{BASE}/la/FHIR/R4/AuditEvent?since=")),
        "{bundle}"
    );
    let matches = entries_with_mode(&bundle, "match");
    assert_eq!(matches.len(), 1);
    assert!(entries_with_mode(&bundle, "include").is_empty());
    let event = &matches[0]["resource"];
    assert_eq!(event["agent"][0]["type"]["coding"][0]["code"], "PAT");
    assert_eq!(
        event["agent"][0]["who"]["identifier"]["value"],
        child.as_str()
    );
}

#[tokio::test]
async fn pds_patient_carries_version_security_and_pds_verification_system() {
    let app = TestApp::sqlite().await;
    let [child] = <[_; 1]>::try_from(numbers(1)).expect("1");
    app.person(&child, years_ago(app.today(), 5), Gender::Female)
        .await;
    let (status, _, body) = app
        .get(
            &format!("/personal-demographics/FHIR/R4/Patient/{}", child.as_str()),
            Some(&app.ed_nurse().await),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let patient = json(&body);
    assert_eq!(patient["meta"]["versionId"], "1");
    assert_eq!(
        patient["meta"]["security"][0]["system"],
        "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
    );
    assert_eq!(patient["meta"]["security"][0]["code"], "U");
    assert!(patient["meta"].get("profile").is_none());
    let status = &patient["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0];
    assert_eq!(
        status["system"],
        "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus"
    );
    assert_eq!(status["code"], "01");
}

/// `(HTTP status, issue code, Spine system, Spine code, display)` of an OperationOutcome.
fn outcome(status: StatusCode, body: &[u8]) -> (u16, String, String, String, String) {
    let outcome = json(body);
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
    let issue = &outcome["issue"][0];
    let coding = &issue["details"]["coding"][0];
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    assert_eq!(issue["severity"], "error");
    (
        status.as_u16(),
        text(&issue["code"]),
        text(&coding["system"]),
        text(&coding["code"]),
        text(&coding["display"]),
    )
}

#[tokio::test]
async fn errors_carry_the_issue_codes_and_code_systems_the_guides_list() {
    let app = TestApp::sqlite().await;
    let [known, unknown] = <[_; 2]>::try_from(numbers(2)).expect("2");
    app.person(&known, years_ago(app.today(), 5), Gender::Female)
        .await;
    let nurse = app.ed_nurse().await;
    let la = app.la_user("ZL001").await;
    let owned = |(status, code, system, spine, display): (u16, &str, &str, &str, &str)| {
        (
            status,
            code.to_owned(),
            system.to_owned(),
            spine.to_owned(),
            display.to_owned(),
        )
    };

    // CP-IS, as its error handling page lists them, in the England code system.
    let (status, _, body) = app
        .get(
            &care_team_uri("9990000019"),
            Some(&nurse),
            &[("TraceID", &trace())],
        )
        .await;
    assert_eq!(
        outcome(status, &body),
        owned((
            400,
            "invalid",
            ENGLAND_SPINE,
            "INVALID_SEARCH_DATA",
            "Invalid search data"
        ))
    );
    let (status, _, body) = app
        .get(&care_team_uri(known.as_str()), Some(&nurse), &[])
        .await;
    assert_eq!(
        outcome(status, &body),
        owned((
            400,
            "invalid",
            ENGLAND_SPINE,
            "PRECONDITION_FAILED",
            "Precondition failed"
        ))
    );
    let (status, _, body) = app
        .get(
            &care_team_uri(known.as_str()),
            Some(&la),
            &[("TraceID", &trace())],
        )
        .await;
    assert_eq!(
        outcome(status, &body),
        owned((
            403,
            "forbidden",
            ENGLAND_SPINE,
            "ACCESS_DENIED",
            "Access has been denied to process this request"
        ))
    );

    // PDS, as PDS answers, in the R4 Spine code system.
    let pds = |digits: &str| format!("/personal-demographics/FHIR/R4/Patient/{digits}");
    let (status, _, body) = app.get(&pds("9990000019"), Some(&nurse), &[]).await;
    assert_eq!(
        outcome(status, &body),
        owned((
            400,
            "value",
            PDS_SPINE,
            "INVALID_RESOURCE_ID",
            "Resource Id is invalid"
        ))
    );
    let (status, _, body) = app.get(&pds(unknown.as_str()), Some(&nurse), &[]).await;
    assert_eq!(
        outcome(status, &body),
        owned((
            404,
            "not-found",
            PDS_SPINE,
            "RESOURCE_NOT_FOUND",
            "Resource not found"
        ))
    );
    // Refused before the handler (no token): still PDS's code system on PDS's path.
    let (status, _, body) = app.get(&pds(known.as_str()), None, &[]).await;
    let (status, code, system, spine, _) = outcome(status, &body);
    assert_eq!(
        (status, code.as_str(), system.as_str(), spine.as_str()),
        (401, "forbidden", PDS_SPINE, "ACCESS_DENIED")
    );
    let (status, _, body) = app
        .get(
            &care_team_uri(known.as_str()),
            None,
            &[("TraceID", &trace())],
        )
        .await;
    assert_eq!(outcome(status, &body).2, ENGLAND_SPINE);
}

#[test]
fn openapi_document_shows_the_include_the_self_link_and_the_practitioner_role() {
    let document: Value = serde_json::from_str(cpis_service::api::OPENAPI_JSON).expect("JSON");
    let parameters = document["paths"]["/cpis/FHIR/R4/AuditEvent"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let include = parameters
        .iter()
        .find(|parameter| parameter["name"] == "_include")
        .expect("_include parameter");
    assert!(
        include["schema"]["enum"]
            .as_array()
            .expect("enum")
            .contains(&Value::from(cpis_fhir::ACCESS_HISTORY_INCLUDE))
    );
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["Bundle"]["properties"]["link"]["items"]["$ref"],
        "#/components/schemas/BundleLink"
    );
    assert_eq!(
        schemas["BundleEntry"]["properties"]["search"]["properties"]["mode"]["enum"],
        serde_json::json!(["match", "include"])
    );
    for schema in ["PractitionerRole", "AuditEvent", "CareTeam", "Patient"] {
        assert!(schemas[schema].is_object(), "{schema}");
    }
}
