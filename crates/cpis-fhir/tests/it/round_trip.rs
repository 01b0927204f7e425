//! Builder then parser gives back what went in.

use cpis_domain::{PlanRecord, PlanType, TracedPatient};
use cpis_fhir::{
    CareTeamSearch, SpineErrorCode, access_history_bundle, access_notification_bundle,
    care_team_search_bundle, operation_outcome, parse_access_history, parse_care_team_search,
    parse_operation_outcome, parse_patient, patient,
};
use time::macros::date;

use super::{access, asked, demographics, json, other, plan, today};

#[test]
fn several_plans_round_trip_with_and_without_social_worker() {
    let plans = vec![
        plan(PlanType::ChildProtectionPlan, None, true),
        plan(
            PlanType::LookedAfterChild,
            Some(date!(2026 - 01 - 31)),
            false,
        ),
        plan(
            PlanType::UnbornChildProtectionPlan,
            Some(date!(2026 - 11 - 20)),
            true,
        ),
    ];
    let body = json(&care_team_search_bundle(&asked(), &plans, today()));
    assert_eq!(
        parse_care_team_search(&body, &asked()),
        Ok(CareTeamSearch::Plans(
            plans
                .into_iter()
                .map(|plan| PlanRecord::from_plan_on(plan, today()))
                .collect()
        ))
    );
}

#[test]
fn empty_search_is_no_plans_and_has_total_zero_without_entries() {
    let bundle = care_team_search_bundle(&asked(), &[], today());
    let value = serde_json::to_value(&bundle).expect("value");
    assert_eq!(value["total"], 0);
    assert!(value.get("entry").is_none());
    assert_eq!(
        parse_care_team_search(&json(&bundle), &asked()),
        Ok(CareTeamSearch::NoPlans)
    );
}

#[test]
fn care_team_json_has_the_documented_shape() {
    let bundle = care_team_search_bundle(
        &asked(),
        &[plan(PlanType::ChildProtectionPlan, None, true)],
        today(),
    );
    let value = serde_json::to_value(&bundle).expect("value");
    assert_eq!(value["resourceType"], "Bundle");
    assert_eq!(value["type"], "searchset");
    let team = &value["entry"][0]["resource"];
    assert_eq!(team["resourceType"], "CareTeam");
    assert_eq!(team["status"], "active");
    assert_eq!(team["name"], "Northshire County Council");
    assert_eq!(
        team["managingOrganization"][0]["identifier"]["system"],
        "https://fhir.nhs.uk/Id/ods-organization-code"
    );
    assert_eq!(
        team["managingOrganization"][0]["identifier"]["value"],
        "Z9A1B"
    );
    assert_eq!(team["telecom"][0]["use"], "work");
    assert_eq!(team["telecom"][0]["value"], "01632 960001");
    assert_eq!(team["telecom"][1]["use"], "mobile");
    assert_eq!(
        team["category"][0]["coding"][0]["system"],
        "http://snomed.info/sct"
    );
    assert_eq!(team["category"][0]["coding"][0]["code"], "342191000000101");
    assert_eq!(
        team["subject"]["identifier"]["system"],
        "https://fhir.nhs.uk/Id/nhs-number"
    );
    assert_eq!(team["subject"]["identifier"]["value"], "9990000018");
    assert_eq!(team["period"]["start"], "2025-02-03");
    assert_eq!(
        team["extension"][0]["url"],
        cpis_fhir::SOCIAL_WORKER_EXTENSION_URL
    );
    assert_eq!(team["extension"][0]["extension"][0]["url"], "name");
    assert_eq!(team["extension"][0]["extension"][1]["url"], "phone");
}

#[test]
fn ended_plan_is_inactive() {
    let bundle = care_team_search_bundle(
        &asked(),
        &[plan(
            PlanType::LookedAfterChild,
            Some(date!(2026 - 01 - 31)),
            false,
        )],
        today(),
    );
    let value = serde_json::to_value(&bundle).expect("value");
    assert_eq!(value["entry"][0]["resource"]["status"], "inactive");
    assert!(value["entry"][0]["resource"].get("extension").is_none());
}

#[test]
fn access_history_round_trips_in_order() {
    let records = vec![access(0), access(60), access(60 * 30)];
    let body = json(&access_history_bundle(&asked(), &records));
    assert_eq!(parse_access_history(&body, &asked()), Ok(records));
    let empty = json(&access_history_bundle(&asked(), &[]));
    assert_eq!(parse_access_history(&empty, &asked()), Ok(vec![]));
}

#[test]
fn notifications_round_trip_with_their_nhs_numbers() {
    let notifications = vec![
        ("n1".to_owned(), asked(), access(0)),
        ("n2".to_owned(), other(), access(5)),
    ];
    let body = json(&access_notification_bundle(&notifications));
    assert_eq!(
        cpis_fhir::parse::parse_access_notifications(&body),
        Ok(notifications)
    );
}

#[test]
fn patient_round_trips_and_is_marked_verified() {
    let demographics = demographics();
    let resource = patient(&demographics);
    let value = serde_json::to_value(&resource).expect("value");
    assert_eq!(
        value["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"],
        "01"
    );
    assert_eq!(value["birthDate"], "2015-06-01");
    assert_eq!(
        parse_patient(&json(&resource), &asked()),
        Ok(TracedPatient::from(demographics))
    );
}

#[test]
fn operation_outcomes_round_trip_for_every_code() {
    for code in [
        SpineErrorCode::InvalidSearchData,
        SpineErrorCode::PreconditionFailed,
        SpineErrorCode::AccessDenied,
        SpineErrorCode::ResourceNotFound,
        SpineErrorCode::InvalidResourceId,
        SpineErrorCode::InvalidValue,
        SpineErrorCode::MessageTooLarge,
        SpineErrorCode::UnsupportedService,
        SpineErrorCode::MethodNotAllowed,
        SpineErrorCode::Timeout,
        SpineErrorCode::ServerError,
        SpineErrorCode::ServiceUnavailable,
        SpineErrorCode::Other("SOMETHING_NEW".into()),
    ] {
        let body = json(&operation_outcome(&code, Some("diagnostic text")));
        let summary = parse_operation_outcome(&body).expect("parses");
        assert_eq!(summary.spine_code, Some(code.clone()));
        assert_eq!(summary.issue_type, code.issue_type());
        assert_eq!(summary.severity, "error");
        assert_eq!(summary.diagnostics.as_deref(), Some("diagnostic text"));
        assert_eq!(SpineErrorCode::parse(code.as_str()), code);
    }
}

#[test]
fn instants_keep_sub_second_precision() {
    let mut record = access(0);
    record.accessed_at += time::Duration::nanoseconds(123_456_789);
    let body = json(&access_history_bundle(
        &asked(),
        std::slice::from_ref(&record),
    ));
    let text = String::from_utf8(body.clone()).expect("utf8");
    assert!(text.contains("09:00:00.123456789Z"), "{text}");
    assert_eq!(parse_access_history(&body, &asked()), Ok(vec![record]));
}
