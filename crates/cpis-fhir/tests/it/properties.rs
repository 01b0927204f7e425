//! Properties over arbitrary input: no panics, and "no plans" only from a valid empty Bundle.

use cpis_domain::{
    AccessRecord, LocalAuthority, PlanRecord, PlanType, ProtectionPlan, SocialWorker,
};
use cpis_fhir::{
    CareTeamSearch, access_history_bundle, care_team_search_bundle, parse_access_history,
    parse_care_team_search, parse_operation_outcome, parse_patient,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime};

use super::{asked, json as to_bytes, plan, today};

/// Independent check of the only shape that may mean "no plans".
fn is_valid_empty_searchset(body: &[u8]) -> bool {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    map.get("resourceType") == Some(&json!("Bundle"))
        && map.get("type") == Some(&json!("searchset"))
        && map.get("total") == Some(&json!(0))
        && match map.get("entry") {
            None => true,
            Some(Value::Array(entries)) => entries.is_empty(),
            Some(_) => false,
        }
}

fn check_search(body: &[u8]) -> Result<(), TestCaseError> {
    match parse_care_team_search(body, &asked()) {
        Ok(CareTeamSearch::NoPlans) => {
            prop_assert!(
                is_valid_empty_searchset(body),
                "NoPlans from {:?}",
                String::from_utf8_lossy(body)
            );
            // Never from an answer whose self link names someone else.
            let value: Value = serde_json::from_slice(body).expect("json");
            let names_other = value["link"].as_array().into_iter().flatten().any(|link| {
                link["relation"] == "self"
                    && link["url"]
                        .as_str()
                        .is_some_and(|url| url.contains("9990000026"))
            });
            prop_assert!(!names_other, "NoPlans for another patient's search");
        }
        Ok(CareTeamSearch::Plans(plans)) => prop_assert!(!plans.is_empty()),
        Err(error) => {
            let text = error.to_string();
            prop_assert!(!text.contains(asked().as_str()), "{}", text);
        }
    }
    let _ = parse_access_history(body, &asked());
    let _ = parse_patient(body, &asked());
    let _ = parse_operation_outcome(body);
    let _ = cpis_fhir::upload::parse_upload_bundle(body);
    Ok(())
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Bundle",
            "searchset",
            "collection",
            "CareTeam",
            "OperationOutcome",
            "match",
            "include",
            "9990000018",
            "9990000026",
            "phone",
            "work",
            "mobile",
            "http://snomed.info/sct",
            "342191000000101",
            "https://fhir.nhs.uk/Id/nhs-number",
            "2025-01-01",
            "self",
            "CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|9990000026",
            "CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018",
            "",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,10}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "resourceType",
            "type",
            "total",
            "entry",
            "resource",
            "search",
            "mode",
            "subject",
            "identifier",
            "system",
            "value",
            "category",
            "coding",
            "code",
            "name",
            "telecom",
            "use",
            "period",
            "start",
            "end",
            "managingOrganization",
            "status",
            "link",
            "relation",
            "url",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z]{1,8}",
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|number| json!(number)),
        (0u64..3).prop_map(|number| json!(number)),
        any::<f64>().prop_map(|number| json!(number)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Bundle-like objects, to reach past the first checks.
fn bundle_like() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["Bundle", "bundle", "OperationOutcome"]),
        prop::sample::select(vec!["searchset", "collection", "batch"]),
        prop::option::of(prop_oneof![
            (0u64..3).prop_map(|n| json!(n)),
            arbitrary_json()
        ]),
        prop::option::of(prop::collection::vec(arbitrary_json(), 0..3)),
        prop::option::of(prop::sample::select(vec!["9990000018", "9990000026", "x"])),
    )
        .prop_map(|(resource_type, bundle_type, total, entry, self_link)| {
            let mut map = serde_json::Map::new();
            map.insert("resourceType".into(), json!(resource_type));
            map.insert("type".into(), json!(bundle_type));
            if let Some(total) = total {
                map.insert("total".into(), total);
            }
            if let Some(entry) = entry {
                map.insert("entry".into(), Value::Array(entry));
            }
            if let Some(number) = self_link {
                let url = format!("https://cpis.example/CareTeam?patient%3Aidentifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C{number}");
                map.insert("link".into(), json!([{"relation": "self", "url": url}]));
            }
            Value::Object(map)
        })
}

fn date_strategy() -> impl Strategy<Value = Date> {
    (0i64..20_000).prop_map(|days| {
        Date::from_calendar_date(1990, time::Month::January, 1).expect("date")
            + Duration::days(days)
    })
}

fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 '&().-]{0,30}[A-Za-z0-9)]".prop_map(|text| text)
}

fn plan_strategy() -> impl Strategy<Value = ProtectionPlan> {
    (
        prop::sample::select(PlanType::ALL.to_vec()),
        date_strategy(),
        prop::option::of(0i64..3000),
        (text(), "[A-Z0-9]{3,5}", text(), text()),
        prop::option::of((text(), text())),
    )
        .prop_map(
            |(plan_type, start, length, (name, ods_code, office, edt), worker)| ProtectionPlan {
                plan_type,
                start,
                end: length.map(|days| start + Duration::days(days)),
                local_authority: LocalAuthority {
                    name,
                    ods_code,
                    office_hours_phone: office,
                    emergency_duty_phone: edt,
                },
                social_worker: worker.map(|(name, phone)| SocialWorker { name, phone }),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_and_never_mean_no_plans(body in prop::collection::vec(any::<u8>(), 0..256)) {
        check_search(&body)?;
    }

    #[test]
    fn arbitrary_json_never_means_no_plans_unless_valid_and_empty(value in arbitrary_json()) {
        check_search(&to_bytes(&value))?;
    }

    #[test]
    fn bundle_like_json_never_means_no_plans_unless_valid_and_empty(value in bundle_like()) {
        check_search(&to_bytes(&value))?;
    }

    #[test]
    fn a_damaged_answer_with_plans_is_never_no_plans(
        cut in 0usize..4000,
        flip in 0usize..4000,
        byte in any::<u8>(),
    ) {
        let body = to_bytes(&care_team_search_bundle(
            &asked(),
            &[plan(PlanType::ChildProtectionPlan, None, true)],
            today(),
        ));
        let truncated = &body[..cut.min(body.len())];
        prop_assert_ne!(parse_care_team_search(truncated, &asked()), Ok(CareTeamSearch::NoPlans));
        let mut flipped = body.clone();
        let index = flip % flipped.len();
        flipped[index] = byte;
        prop_assert_ne!(parse_care_team_search(&flipped, &asked()), Ok(CareTeamSearch::NoPlans));
        check_search(&flipped)?;
    }

    #[test]
    fn plans_round_trip(plans in prop::collection::vec(plan_strategy(), 1..5)) {
        let body = to_bytes(&care_team_search_bundle(&asked(), &plans, today()));
        let records = plans
            .into_iter()
            .map(|plan| PlanRecord::from_plan_on(plan, today()))
            .collect();
        prop_assert_eq!(parse_care_team_search(&body, &asked()), Ok(CareTeamSearch::Plans(records)));
    }

    /// The reference service's `CareTeam.status`, read back by the client, never changes the
    /// status the plan has on the day it was sent.
    #[test]
    fn a_plan_read_back_has_the_status_the_service_gives_it(
        plan in plan_strategy(),
        day in -800i64..800,
    ) {
        let on = today() + Duration::days(day);
        let body = to_bytes(&care_team_search_bundle(&asked(), std::slice::from_ref(&plan), on));
        match parse_care_team_search(&body, &asked()) {
            Ok(CareTeamSearch::Plans(records)) => {
                prop_assert_eq!(records.len(), 1);
                prop_assert_eq!(records[0].status_on(on), plan.status_on(on));
            }
            other => prop_assert!(false, "not read back: {:?}", other),
        }
    }

    #[test]
    fn access_history_round_trips(
        entries in prop::collection::vec((0i64..4_000_000_000, 0u32..1_000_000_000, text(), text(), text(), "[A-Z0-9]{3,6}"), 0..5)
    ) {
        let records: Vec<AccessRecord> = entries
            .into_iter()
            .map(|(seconds, nanos, viewer_name, viewer_role, organisation_name, organisation_ods)| AccessRecord {
                accessed_at: OffsetDateTime::from_unix_timestamp(seconds).expect("time") + Duration::nanoseconds(i64::from(nanos)),
                viewer_name,
                viewer_role,
                organisation_name,
                organisation_ods: Some(organisation_ods),
            })
            .collect();
        let body = to_bytes(&access_history_bundle(&asked(), &records));
        prop_assert_eq!(parse_access_history(&body, &asked()), Ok(records));
    }
}
