//! Seeding: deterministic, every scenario present, and each scenario answers as its name says
//! through the API, on SQLite and PostgreSQL.

use axum::http::StatusCode;
use cpis_domain::NhsNumber;
use cpis_fhir::{CareTeamSearch, parse_care_team_search};
use cpis_service::seed::{SCENARIOS, SeedOptions, seed};
use cpis_service::store::StoreError;

use super::support::*;
use crate::on_both_backends;

on_both_backends!(seeded_scenarios_answer_as_named);

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
