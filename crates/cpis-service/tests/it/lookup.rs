//! The CP-IS consumer API and demographics: the three outcomes, every error, the visibility,
//! de-duplication and notification rules, on SQLite and PostgreSQL.

use axum::http::StatusCode;
use cpis_domain::{Gender, PlanType};
use cpis_fhir::{CareTeamSearch, parse_care_team_search, parse_patient};
use time::Duration;

use super::support::*;
use crate::on_both_backends;

on_both_backends!(
    three_outcomes_and_search_errors,
    visibility_windows_and_age_rules,
    unscheduled_access_notifies_each_responsible_authority,
    silent_reads_record_nothing,
    access_history_keeps_the_same_viewer_once_a_day,
    demographics_read_found_unknown_and_invalid,
    concurrent_unscheduled_lookups_are_each_recorded_once,
);

fn plans(body: &[u8], asked: &cpis_domain::NhsNumber) -> Vec<cpis_domain::PlanRecord> {
    match parse_care_team_search(body, asked).expect("valid search answer") {
        CareTeamSearch::Plans(plans) => plans,
        CareTeamSearch::NoPlans => Vec::new(),
    }
}

async fn three_outcomes_and_search_errors(app: TestApp) {
    let [with_plan, without_plan, unknown] = <[_; 3]>::try_from(numbers(3)).expect("3");
    let today = app.today();
    app.person(&with_plan, years_ago(today, 5), Gender::Female)
        .await;
    app.person(&without_plan, years_ago(today, 6), Gender::Male)
        .await;
    app.add_plan(
        &with_plan,
        &plan(
            PlanType::ChildProtectionPlan,
            today - Duration::days(30),
            None,
            "ZL001",
        ),
    )
    .await;
    let token = app.ed_nurse().await;

    // Record found.
    let (status, _, body) = app
        .get(
            &care_team_uri(with_plan.as_str()),
            Some(&token),
            &[("TraceID", "6f1c7a52-9e62-4d8e-8a3f-1b2c3d4e5f60")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let found = plans(&body, &with_plan);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].local_authority.ods_code.as_deref(), Some("ZL001"));
    assert!(found[0].social_worker.is_some());

    // No record, for a known person and for one the service has never heard of.
    for nhs_number in [&without_plan, &unknown] {
        let (status, body) = app.care_team(nhs_number, &token, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            parse_care_team_search(&body, nhs_number),
            Ok(CareTeamSearch::NoPlans)
        );
    }

    // Errors.
    let headers_ok = [("TraceID", "6f1c7a52-9e62-4d8e-8a3f-1b2c3d4e5f60")];
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            care_team_uri("9990000019"),
            headers_ok.to_vec(),
            StatusCode::BAD_REQUEST,
            "INVALID_SEARCH_DATA",
        ),
        (
            care_team_uri("999000001"),
            headers_ok.to_vec(),
            StatusCode::BAD_REQUEST,
            "INVALID_SEARCH_DATA",
        ),
        (
            care_team_uri("999%20000%200018"),
            headers_ok.to_vec(),
            StatusCode::BAD_REQUEST,
            "INVALID_SEARCH_DATA",
        ),
        (
            "/cpis/FHIR/R4/CareTeam".into(),
            headers_ok.to_vec(),
            StatusCode::BAD_REQUEST,
            "INVALID_SEARCH_DATA",
        ),
        (
            "/cpis/FHIR/R4/CareTeam?patient:identifier=9990000018".into(),
            headers_ok.to_vec(),
            StatusCode::BAD_REQUEST,
            "INVALID_SEARCH_DATA",
        ),
        (
            format!("{}&_count=5", care_team_uri(with_plan.as_str())),
            headers_ok.to_vec(),
            StatusCode::BAD_REQUEST,
            "INVALID_SEARCH_DATA",
        ),
        (
            format!("{}&patient:identifier=x", care_team_uri(with_plan.as_str())),
            headers_ok.to_vec(),
            StatusCode::BAD_REQUEST,
            "INVALID_SEARCH_DATA",
        ),
        (
            care_team_uri(with_plan.as_str()),
            vec![],
            StatusCode::BAD_REQUEST,
            "PRECONDITION_FAILED",
        ),
        (
            care_team_uri(with_plan.as_str()),
            vec![("TraceID", "not-a-uuid")],
            StatusCode::BAD_REQUEST,
            "PRECONDITION_FAILED",
        ),
        (
            care_team_uri(with_plan.as_str()),
            vec![headers_ok[0], ("IsUnscheduledAccessEvent", "maybe")],
            StatusCode::BAD_REQUEST,
            "PRECONDITION_FAILED",
        ),
    ];
    for (uri, headers, expected_status, expected_code) in cases {
        let (status, response_headers, body) = app.get(&uri, Some(&token), &headers).await;
        assert_eq!(status, expected_status, "{uri} {headers:?}");
        assert_eq!(spine_code(&body), expected_code, "{uri} {headers:?}");
        assert_eq!(response_headers["content-type"], "application/fhir+json");
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("999000001"),
            "error echoes the NHS number: {text}"
        );
    }
    // The same errors on the access history endpoint.
    let (status, _, body) = app
        .get("/cpis/FHIR/R4/AuditEvent?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C9990000019", Some(&token), &headers_ok)
        .await;
    assert_eq!(
        (status, spine_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "INVALID_SEARCH_DATA")
    );
    let uri = format!(
        "/cpis/FHIR/R4/AuditEvent?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C{}",
        with_plan.as_str()
    );
    let (status, _, body) = app.get(&uri, Some(&token), &[]).await;
    assert_eq!(
        (status, spine_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "PRECONDITION_FAILED")
    );
}

async fn visibility_windows_and_age_rules(app: TestApp) {
    let today = app.today();
    let people = numbers(12);
    let cases: Vec<(
        cpis_domain::NhsNumber,
        time::Date,
        Vec<cpis_domain::ProtectionPlan>,
        usize,
    )> = vec![
        // CPP and LAC: visible 365 days after the end, not 366.
        (
            people[0].clone(),
            years_ago(today, 10),
            vec![plan(
                PlanType::ChildProtectionPlan,
                today - Duration::days(900),
                Some(today - Duration::days(365)),
                "ZL001",
            )],
            1,
        ),
        (
            people[1].clone(),
            years_ago(today, 10),
            vec![plan(
                PlanType::ChildProtectionPlan,
                today - Duration::days(900),
                Some(today - Duration::days(366)),
                "ZL001",
            )],
            0,
        ),
        (
            people[2].clone(),
            years_ago(today, 10),
            vec![plan(
                PlanType::LookedAfterChild,
                today - Duration::days(900),
                Some(today - Duration::days(365)),
                "ZL001",
            )],
            1,
        ),
        (
            people[3].clone(),
            years_ago(today, 10),
            vec![plan(
                PlanType::LookedAfterChild,
                today - Duration::days(900),
                Some(today - Duration::days(366)),
                "ZL001",
            )],
            0,
        ),
        // Unborn: 28 days after the due date, not 29; shown whatever the mother's age.
        (
            people[4].clone(),
            years_ago(today, 30),
            vec![plan(
                PlanType::UnbornChildProtectionPlan,
                today - Duration::days(200),
                Some(today - Duration::days(28)),
                "ZL002",
            )],
            1,
        ),
        (
            people[5].clone(),
            years_ago(today, 30),
            vec![plan(
                PlanType::UnbornChildProtectionPlan,
                today - Duration::days(200),
                Some(today - Duration::days(29)),
                "ZL002",
            )],
            0,
        ),
        (
            people[6].clone(),
            years_ago(today, 17),
            vec![plan(
                PlanType::UnbornChildProtectionPlan,
                today - Duration::days(100),
                Some(today + Duration::days(90)),
                "ZL002",
            )],
            1,
        ),
        // Nothing at 18 or over; 17 is shown.
        (
            people[7].clone(),
            years_ago(today, 18),
            vec![plan(
                PlanType::LookedAfterChild,
                today - Duration::days(900),
                None,
                "ZL001",
            )],
            0,
        ),
        (
            people[8].clone(),
            years_ago(today, 18) + Duration::days(1),
            vec![plan(
                PlanType::LookedAfterChild,
                today - Duration::days(900),
                None,
                "ZL001",
            )],
            1,
        ),
        // Several plans at once, from two authorities.
        (
            people[9].clone(),
            years_ago(today, 8),
            vec![
                plan(
                    PlanType::ChildProtectionPlan,
                    today - Duration::days(100),
                    None,
                    "ZL001",
                ),
                plan(
                    PlanType::LookedAfterChild,
                    today - Duration::days(50),
                    None,
                    "ZL003",
                ),
                plan(
                    PlanType::ChildProtectionPlan,
                    today - Duration::days(3000),
                    Some(today - Duration::days(2000)),
                    "ZL001",
                ),
            ],
            2,
        ),
        // A plan that has not ended is visible from its start.
        (
            people[10].clone(),
            years_ago(today, 2),
            vec![plan(PlanType::ChildProtectionPlan, today, None, "ZL001")],
            1,
        ),
    ];
    for (nhs_number, date_of_birth, stored, _) in &cases {
        app.person(nhs_number, *date_of_birth, Gender::Female).await;
        for stored_plan in stored {
            app.add_plan(nhs_number, stored_plan).await;
        }
    }
    let token = app.scheduled_user().await;
    for (index, (nhs_number, _, _, expected)) in cases.iter().enumerate() {
        let (status, body) = app.care_team(nhs_number, &token, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(plans(&body, nhs_number).len(), *expected, "case {index}");
    }
    // Newest start first.
    let (_, body) = app.care_team(&people[9], &token, &[]).await;
    let several = plans(&body, &people[9]);
    assert_eq!(several[0].plan_type, Some(PlanType::LookedAfterChild));
    assert_eq!(several[1].plan_type, Some(PlanType::ChildProtectionPlan));
}

async fn unscheduled_access_notifies_each_responsible_authority(app: TestApp) {
    let today = app.today();
    let [child, no_plan] = <[_; 2]>::try_from(numbers(2)).expect("2");
    app.person(&child, years_ago(today, 4), Gender::Male).await;
    app.person(&no_plan, years_ago(today, 4), Gender::Male)
        .await;
    app.add_plan(
        &child,
        &plan(
            PlanType::ChildProtectionPlan,
            today - Duration::days(10),
            None,
            "ZL001",
        ),
    )
    .await;
    app.add_plan(
        &child,
        &plan(
            PlanType::LookedAfterChild,
            today - Duration::days(5),
            None,
            "ZL002",
        ),
    )
    .await;
    let before = app.now() - Duration::seconds(1);

    let (status, _) = app.care_team(&child, &app.ed_nurse().await, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .care_team(
            &child,
            &app.ed_nurse().await,
            &[("IsUnscheduledAccessEvent", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // No plan: nothing to notify.
    app.care_team(&no_plan, &app.ed_nurse().await, &[]).await;

    for ods in ["ZL001", "ZL002"] {
        let notifications = app.notifications(&app.la_user(ods).await, before).await;
        assert_eq!(notifications.len(), 2, "{ods}");
        let (_, nhs_number, access) = &notifications[0];
        assert_eq!(nhs_number, &child);
        assert_eq!(access.viewer_name, "Tess Triage-Test");
        assert_eq!(access.viewer_role, "Nurse Access Role");
        assert_eq!(access.organisation_ods.as_deref(), Some("ZZ1ED"));
        assert_eq!(access.organisation_name, "ZZ1ED Hospital (synthetic)");
    }
    assert!(
        app.notifications(&app.la_user("ZL009").await, before)
            .await
            .is_empty()
    );
    // `since` is inclusive and later times see nothing.
    assert!(
        app.notifications(
            &app.la_user("ZL001").await,
            app.now() + Duration::seconds(1)
        )
        .await
        .is_empty()
    );
    // The LA endpoint refuses bad `since` values.
    for uri in [
        "/la/FHIR/R4/AuditEvent",
        "/la/FHIR/R4/AuditEvent?since=yesterday",
        "/la/FHIR/R4/AuditEvent?since=2026-01-01T00:00:00Z&x=1",
    ] {
        let (status, _, body) = app.get(uri, Some(&app.la_user("ZL001").await), &[]).await;
        assert_eq!(
            (status, spine_code(&body).as_str()),
            (StatusCode::BAD_REQUEST, "INVALID_SEARCH_DATA"),
            "{uri}"
        );
    }
    // The viewer is in the access history.
    let history = app.history(&child, &app.ed_nurse().await).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].viewer_name, "Tess Triage-Test");
}

async fn silent_reads_record_nothing(app: TestApp) {
    let today = app.today();
    let child = numbers(1).remove(0);
    app.person(&child, years_ago(today, 4), Gender::Male).await;
    app.add_plan(
        &child,
        &plan(
            PlanType::ChildProtectionPlan,
            today - Duration::days(10),
            None,
            "ZL001",
        ),
    )
    .await;
    let before = app.now() - Duration::seconds(1);
    // Header false with B0107; B0170 only with the header true or absent.
    let (status, _) = app
        .care_team(
            &child,
            &app.ed_nurse().await,
            &[("IsUnscheduledAccessEvent", "false")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.care_team(
        &child,
        &app.scheduled_user().await,
        &[("IsUnscheduledAccessEvent", "true")],
    )
    .await;
    app.care_team(&child, &app.scheduled_user().await, &[])
        .await;
    assert!(
        app.notifications(&app.la_user("ZL001").await, before)
            .await
            .is_empty()
    );
    assert!(
        app.history(&child, &app.scheduled_user().await)
            .await
            .is_empty()
    );
}

async fn access_history_keeps_the_same_viewer_once_a_day(app: TestApp) {
    let today = app.today();
    let child = numbers(1).remove(0);
    app.person(&child, years_ago(today, 4), Gender::Male).await;
    app.add_plan(
        &child,
        &plan(
            PlanType::ChildProtectionPlan,
            today - Duration::days(10),
            None,
            "ZL001",
        ),
    )
    .await;
    let first = app.now();
    app.care_team(&child, &app.ed_nurse().await, &[]).await;
    app.advance(Duration::hours(2));
    app.care_team(&child, &app.ed_nurse().await, &[]).await;
    app.care_team(&child, &app.other_nurse().await, &[]).await;
    let history = app.history(&child, &app.ed_nurse().await).await;
    let names: Vec<&str> = history
        .iter()
        .map(|record| record.viewer_name.as_str())
        .collect();
    assert_eq!(names, ["Ola Other-Test", "Tess Triage-Test"]);
    // The first of the repeated views is the one kept.
    assert_eq!(
        cpis_service::store::to_micros(history[1].accessed_at),
        cpis_service::store::to_micros(first)
    );
    app.advance(Duration::hours(23));
    app.care_team(&child, &app.ed_nurse().await, &[]).await;
    let history = app.history(&child, &app.ed_nurse().await).await;
    let names: Vec<&str> = history
        .iter()
        .map(|record| record.viewer_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["Tess Triage-Test", "Ola Other-Test", "Tess Triage-Test"]
    );
    // Notifications are not de-duplicated: every unscheduled access notifies.
    assert_eq!(
        app.notifications(&app.la_user("ZL001").await, first - Duration::seconds(1))
            .await
            .len(),
        4
    );
    // At most 25, the current viewer always included.
    for index in 0..30 {
        app.advance(Duration::minutes(1));
        let token = app
            .token_for(&claims(
                &format!("viewer-{index}"),
                &format!("Viewer {index}"),
                "ZZ5ED",
                &["B0107"],
            ))
            .await;
        app.care_team(&child, &token, &[]).await;
    }
    let history = app.history(&child, &app.ed_nurse().await).await;
    assert_eq!(history.len(), 25);
    assert_eq!(history[0].viewer_name, "Viewer 29");
    assert_eq!(history[24].viewer_name, "Tess Triage-Test");
}

async fn demographics_read_found_unknown_and_invalid(app: TestApp) {
    let today = app.today();
    let [known, unknown] = <[_; 2]>::try_from(numbers(2)).expect("2");
    app.person(&known, years_ago(today, 7), Gender::Other).await;
    let token = app.ed_nurse().await;
    let (status, headers, body) = app
        .get(
            &format!("/personal-demographics/FHIR/R4/Patient/{}", known.as_str()),
            Some(&token),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/fhir+json");
    let patient = parse_patient(&body, &known).expect("patient");
    assert_eq!(patient.family_name.as_deref(), Some("Quenthorne"));
    assert_eq!(patient.given_names, ["Wren", "Isla"]);
    assert_eq!(patient.gender, Some(Gender::Other));
    assert_eq!(
        patient.birth_date,
        Some(cpis_domain::BirthDate::Day(years_ago(today, 7)))
    );

    let (status, _, body) = app
        .get(
            &format!(
                "/personal-demographics/FHIR/R4/Patient/{}",
                unknown.as_str()
            ),
            Some(&token),
            &[],
        )
        .await;
    assert_eq!(
        (status, spine_code(&body).as_str()),
        (StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND")
    );
    for bad in ["9990000019", "12345", "999%20000%200018", "abcdefghij"] {
        let (status, _, body) = app
            .get(
                &format!("/personal-demographics/FHIR/R4/Patient/{bad}"),
                Some(&token),
                &[],
            )
            .await;
        assert_eq!(
            (status, spine_code(&body).as_str()),
            (StatusCode::BAD_REQUEST, "INVALID_RESOURCE_ID"),
            "{bad}"
        );
    }
    // The LA role may read demographics; a role with no activity may not.
    let (status, _, _) = app
        .get(
            &format!("/personal-demographics/FHIR/R4/Patient/{}", known.as_str()),
            Some(&app.la_user("ZL001").await),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let none = app
        .token_for(&claims("x", "No Activity", "ZZ1ED", &[]))
        .await;
    let (status, _, body) = app
        .get(
            &format!("/personal-demographics/FHIR/R4/Patient/{}", known.as_str()),
            Some(&none),
            &[],
        )
        .await;
    assert_eq!(
        (status, spine_code(&body).as_str()),
        (StatusCode::FORBIDDEN, "ACCESS_DENIED")
    );
}

async fn concurrent_unscheduled_lookups_are_each_recorded_once(app: TestApp) {
    use tower::ServiceExt;
    let today = app.today();
    let child = numbers(1).remove(0);
    app.person(&child, years_ago(today, 4), Gender::Male).await;
    app.add_plan(
        &child,
        &plan(
            PlanType::ChildProtectionPlan,
            today - Duration::days(10),
            None,
            "ZL001",
        ),
    )
    .await;
    let before = app.now() - Duration::seconds(1);
    let router = app.router();
    let mut handles = Vec::new();
    for index in 0..60 {
        let router = router.clone();
        let token = app
            .token_for(&claims(
                &format!("viewer-{index}"),
                &format!("Viewer {index}"),
                "ZZ1ED",
                &["B0107"],
            ))
            .await;
        let uri = care_team_uri(child.as_str());
        handles.push(tokio::spawn(async move {
            let request = axum::http::Request::builder()
                .uri(uri)
                .header("Authorization", format!("Bearer {token}"))
                .header("TraceID", uuid::Uuid::new_v4().to_string())
                .body(axum::body::Body::empty())
                .expect("request");
            router.oneshot(request).await.expect("infallible").status()
        }));
    }
    for handle in handles {
        assert_eq!(handle.await.expect("task"), StatusCode::OK);
    }
    // Group commit: every access answered is stored, once.
    assert_eq!(
        app.notifications(&app.la_user("ZL001").await, before)
            .await
            .len(),
        60
    );
    assert_eq!(app.history(&child, &app.ed_nurse().await).await.len(), 25);
}

#[tokio::test]
async fn windows_turn_over_at_uk_midnight_not_utc_midnight() {
    let app = TestApp::sqlite().await;
    let child = numbers(1).remove(0);
    app.person(&child, time::macros::date!(2016 - 01 - 01), Gender::Female)
        .await;
    // Ended 1 July 2025: visible to the end of 1 July 2026 (365 days), UK time.
    app.add_plan(
        &child,
        &plan(
            PlanType::ChildProtectionPlan,
            time::macros::date!(2024 - 01 - 01),
            Some(time::macros::date!(2025 - 07 - 01)),
            "ZL001",
        ),
    )
    .await;
    app.set_now(time::macros::datetime!(2026-07-01 22:59 UTC)); // 23:59 BST, 1 July
    let (_, body) = app
        .care_team(&child, &app.scheduled_user().await, &[])
        .await;
    assert_eq!(plans(&body, &child).len(), 1);
    app.set_now(time::macros::datetime!(2026-07-01 23:00 UTC)); // 00:00 BST, 2 July
    let (_, body) = app
        .care_team(&child, &app.scheduled_user().await, &[])
        .await;
    assert_eq!(plans(&body, &child).len(), 0);
}
