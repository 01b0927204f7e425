//! Seeding: deterministic, every scenario present, and each scenario answers as its name says
//! through the API, on SQLite and PostgreSQL.

use axum::http::StatusCode;
use cpis_domain::NhsNumber;
use cpis_fhir::{CareTeamSearch, parse_care_team_search};
use cpis_service::seed::{SCENARIOS, SeedOptions, seed};
use cpis_service::store::StoreError;

use super::support::*;
use crate::on_both_backends;

on_both_backends!(
    seeded_scenarios_answer_as_named,
    the_seeded_mother_past_her_due_date_reads_due_date_passed_never_ended
);

fn options(app: &TestApp) -> SeedOptions {
    SeedOptions {
        children: 3000,
        seed: 42,
        today: app.today(),
        examples_per_scenario: 8,
    }
}

async fn seeded_scenarios_answer_as_named(app: TestApp) {
    let manifest = seed(&app.store, options(&app)).await.expect("seed");
    assert_eq!(manifest.children, 3000);
    assert_eq!(manifest.mothers, 75);
    for scenario in SCENARIOS {
        let list = &manifest.scenarios[scenario];
        assert!(!list.is_empty(), "scenario {scenario} is empty");
        assert!(
            list.iter()
                .all(|number| number.starts_with("999") && NhsNumber::parse(number).is_ok())
        );
    }
    let json = serde_json::to_value(&manifest).expect("json");
    assert!(json["scenarios"]["cpp"].is_array());

    let token = app.scheduled_user().await;
    for (scenario, list) in &manifest.scenarios {
        for number in list {
            let nhs_number = nhs(number);
            let (status, body) = app.care_team(&nhs_number, &token, &[]).await;
            assert_eq!(status, StatusCode::OK);
            let answer = parse_care_team_search(&body, &nhs_number).expect("answer");
            let plans = match &answer {
                CareTeamSearch::Plans(plans) => plans.clone(),
                CareTeamSearch::NoPlans => Vec::new(),
            };
            match scenario.as_str() {
                "cpp"
                | "lac"
                | "ended_within_window"
                | "aged_17"
                | "unborn"
                | "unborn_ended_within_window" => {
                    assert_eq!(plans.len(), 1, "{scenario}")
                }
                "multiple" => assert!(plans.len() >= 2, "{scenario}"),
                "social_worker" => assert!(
                    plans.iter().any(|plan| plan.social_worker.is_some()),
                    "{scenario}"
                ),
                "no_social_worker" => {
                    assert!(
                        !plans.is_empty() && plans.iter().all(|plan| plan.social_worker.is_none()),
                        "{scenario}"
                    )
                }
                _ => assert_eq!(answer, CareTeamSearch::NoPlans, "{scenario}"),
            }
            for plan in &plans {
                assert!(
                    plan.local_authority
                        .office_hours_phone
                        .as_deref()
                        .is_some_and(|phone| phone.starts_with("01632 960"))
                );
                assert!(
                    plan.local_authority
                        .emergency_duty_phone
                        .as_deref()
                        .is_some_and(|phone| phone.starts_with("07700 900"))
                );
                if let Some(worker) = &plan.social_worker {
                    assert!(worker.phone.starts_with("07700 900"));
                }
            }
            let (status, _, _) = app
                .get(
                    &format!("/personal-demographics/FHIR/R4/Patient/{number}"),
                    Some(&token),
                    &[],
                )
                .await;
            let expected = if scenario == "not_in_pds" {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            assert_eq!(status, expected, "{scenario}");
        }
    }
    // Seeding again is refused rather than doubling the data.
    assert!(matches!(
        seed(&app.store, options(&app)).await,
        Err(StoreError::AlreadySeeded)
    ));
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_another_seed_does_not() {
    let first = TestApp::sqlite().await;
    let second = TestApp::sqlite().await;
    let third = TestApp::sqlite().await;
    let mut options = options(&first);
    options.children = 400;
    let a = seed(&first.store, options).await.expect("seed");
    let b = seed(&second.store, options).await.expect("seed");
    options.seed = 43;
    let c = seed(&third.store, options).await.expect("seed");
    assert_eq!(a, b);
    assert_ne!(a.scenarios, c.scenarios);
}

/// The seeded `unborn_ended_within_window` mothers (due 0 to 28 days before the seed's day) read
/// "Due date passed N days ago" (or "Due date is today"), never "Ended": the status the app and
/// the CLI show, from the record the service answers, on the UK date. Looked up at 23:30 UTC on
/// 30 June 2026, which is already 1 July in the UK (BST), and at midday.
async fn the_seeded_mother_past_her_due_date_reads_due_date_passed_never_ended(app: TestApp) {
    use time::macros::{date, datetime};
    app.set_now(datetime!(2026-06-30 23:30 UTC));
    let today = app.today();
    assert_eq!(today, date!(2026 - 07 - 01));
    let manifest = seed(
        &app.store,
        SeedOptions {
            children: 400,
            seed: 42,
            today,
            examples_per_scenario: 8,
        },
    )
    .await
    .expect("seed");
    let mothers = &manifest.scenarios["unborn_ended_within_window"];
    assert!(!mothers.is_empty());
    let token = app.scheduled_user().await;
    for now in [
        datetime!(2026-06-30 23:30 UTC),
        datetime!(2026-07-01 12:00 UTC),
    ] {
        app.set_now(now);
        let mut past_due = 0;
        for number in mothers {
            let nhs_number = nhs(number);
            let (status, body) = app.care_team(&nhs_number, &token, &[]).await;
            assert_eq!(status, StatusCode::OK);
            let Ok(CareTeamSearch::Plans(plans)) = parse_care_team_search(&body, &nhs_number)
            else {
                panic!("the mother's plan was not found");
            };
            assert_eq!(plans.len(), 1);
            let due = plans[0].end.expect("a due date");
            let days = (today - due).whole_days();
            assert!((0..=28).contains(&days), "{days}");
            let text = plans[0]
                .status_on(cpis_domain::uk_time::uk_date(now))
                .text();
            let expected = match days {
                0 => "Due date is today".to_owned(),
                1 => "Due date passed 1 day ago".to_owned(),
                days => format!("Due date passed {days} days ago"),
            };
            assert_eq!(text, expected, "at {now}");
            assert!(!text.contains("Ended"), "{text}");
            past_due += usize::from(days > 0);
        }
        assert!(past_due > 0, "no mother past her due date in the seed");
    }
}
