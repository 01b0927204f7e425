//! The property that matters most: "no plan" comes only from a valid searchset Bundle with
//! `total: 0` and no entries, with status 200 and a FHIR JSON content type. Checked over
//! arbitrary bytes, over near-valid Bundles built from their parts, and over other statuses and
//! content types, through the same classification a lookup uses; and, with fewer cases, through
//! the whole client over a socket.

use cpis_client::alert::classify_care_team_response;
use cpis_fhir::CareTeamSearch;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::fault_server::{Reply, Script};
use crate::support::synthetic::{asked, empty_bundle, plans_bundle, someone_else};

/// An independent statement of what a valid empty Bundle is.
fn is_valid_empty_searchset(body: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let entries_empty = match value.get("entry") {
        None => true,
        Some(Value::Array(entries)) => entries.is_empty(),
        Some(_) => false,
    };
    value.get("resourceType") == Some(&json!("Bundle"))
        && value.get("type") == Some(&json!("searchset"))
        && value.get("total").and_then(Value::as_u64) == Some(0)
        && entries_empty
        && value
            .as_object()
            .is_some_and(|object| object.values().all(|value| !value.is_null()))
}

fn classify(status: u16, content_type: Option<&str>, body: &[u8]) -> Option<CareTeamSearch> {
    classify_care_team_response(status, content_type, body, &asked()).ok()
}

/// Near-valid Bundles: each part drawn from valid and invalid choices.
fn near_valid_bundle() -> impl Strategy<Value = Vec<u8>> {
    let resource_type = prop_oneof![
        Just(Some(json!("Bundle"))),
        Just(Some(json!("bundle"))),
        Just(Some(json!("OperationOutcome"))),
        Just(Some(json!(1))),
        Just(None),
    ];
    let bundle_type = prop_oneof![
        Just(Some(json!("searchset"))),
        Just(Some(json!("collection"))),
        Just(Some(json!("Searchset"))),
        Just(Some(Value::Null)),
        Just(None),
    ];
    let total = prop_oneof![
        Just(Some(json!(0))),
        Just(Some(json!(1))),
        Just(Some(json!(-1))),
        Just(Some(json!("0"))),
        Just(Some(json!(0.5))),
        Just(Some(Value::Null)),
        Just(None),
    ];
    let entry = prop_oneof![
        Just(None),
        Just(Some(json!([]))),
        Just(Some(json!([{}]))),
        Just(Some(Value::Null)),
        Just(Some(json!({}))),
        Just(Some(json!([{"resource": {"resourceType": "CareTeam"}}]))),
    ];
    let extra = prop_oneof![
        Just(None),
        Just(Some(("id", json!("x")))),
        Just(Some(("resourceType", json!("Bundle")))),
        Just(Some(("unknownElement", json!(true)))),
    ];
    (resource_type, bundle_type, total, entry, extra).prop_map(
        |(resource_type, bundle_type, total, entry, extra)| {
            let mut object = serde_json::Map::new();
            if let Some(value) = resource_type {
                object.insert("resourceType".into(), value);
            }
            if let Some(value) = bundle_type {
                object.insert("type".into(), value);
            }
            if let Some(value) = total {
                object.insert("total".into(), value);
            }
            if let Some(value) = entry {
                object.insert("entry".into(), value);
            }
            let mut text = Value::Object(object).to_string();
            if let Some((key, value)) = extra {
                // Appended as raw text so duplicate keys are possible.
                text.pop();
                let separator = if text.ends_with('{') { "" } else { "," };
                text.push_str(&format!("{separator}\"{key}\":{value}}}"));
            }
            text.into_bytes()
        },
    )
}

/// Real bodies, cut or corrupted at a random place.
fn mangled_real_body() -> impl Strategy<Value = Vec<u8>> {
    let bodies = [
        empty_bundle(&asked()),
        plans_bundle(&asked()),
        plans_bundle(&someone_else()),
    ];
    (0..bodies.len(), any::<usize>(), any::<u8>(), any::<bool>()).prop_map(
        move |(which, position, byte, cut)| {
            let mut body = bodies[which].clone();
            let position = position % (body.len() + 1);
            if cut {
                body.truncate(position);
            } else if position < body.len() {
                body[position] = byte;
            }
            body
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_are_never_no_plan_unless_valid_and_empty(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Some(CareTeamSearch::NoPlans) = classify(200, Some("application/fhir+json"), &body) {
            prop_assert!(is_valid_empty_searchset(&body));
        }
    }

    #[test]
    fn near_valid_bundles_are_no_plan_only_when_valid_and_empty(body in near_valid_bundle()) {
        let classified = classify(200, Some("application/fhir+json"), &body);
        if let Some(CareTeamSearch::NoPlans) = classified {
            prop_assert!(is_valid_empty_searchset(&body), "{}", String::from_utf8_lossy(&body));
        }
    }

    #[test]
    fn mangled_real_bodies_are_no_plan_only_when_valid_and_empty(body in mangled_real_body()) {
        match classify(200, Some("application/fhir+json"), &body) {
            Some(CareTeamSearch::NoPlans) => prop_assert!(is_valid_empty_searchset(&body)),
            Some(CareTeamSearch::Plans(plans)) => prop_assert!(!plans.is_empty()),
            None => {}
        }
    }

    #[test]
    fn a_valid_empty_bundle_is_no_plan_only_with_200_and_fhir_json(
        status in 100u16..600,
        content_type in prop_oneof![
            Just(None),
            Just(Some("application/fhir+json")),
            Just(Some("application/fhir+json; charset=utf-8")),
            Just(Some("application/json")),
            Just(Some("text/plain")),
            Just(Some("application/fhir+xml")),
        ],
    ) {
        let body = empty_bundle(&asked());
        let classified = classify(status, content_type, &body);
        let expected_no_plan = status == 200
            && content_type.is_some_and(|value| value.starts_with("application/fhir+json"));
        prop_assert_eq!(matches!(classified, Some(CareTeamSearch::NoPlans)), expected_no_plan);
        if !expected_no_plan {
            prop_assert!(classified.is_none());
        }
    }
}

#[test]
fn the_generators_reach_both_sides() {
    // Guards the property tests against testing nothing: the valid empty Bundle is no plan, and
    // a Bundle of plans about someone else is refused.
    assert!(matches!(
        classify(200, Some("application/fhir+json"), &empty_bundle(&asked())),
        Some(CareTeamSearch::NoPlans)
    ));
    assert!(
        classify(
            200,
            Some("application/fhir+json"),
            &plans_bundle(&someone_else())
        )
        .is_none()
    );
    assert!(is_valid_empty_searchset(
        br#"{"resourceType":"Bundle","type":"searchset","total":0}"#
    ));
}

proptest! {
    // Fewer cases: each one is a real lookup over a socket.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same property through the whole client over HTTP: arbitrary and near-valid bodies
    /// from the CP-IS endpoint never become "no plan" unless they are a valid empty Bundle.
    #[test]
    fn over_http_no_plan_only_from_a_valid_empty_bundle(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..256),
            near_valid_bundle(),
            mangled_real_body(),
        ],
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let script = Script {
            care_team: vec![Reply::fhir(body.clone())],
            ..crate::faults::healthy_script()
        };
        let report = runtime.block_on(crate::faults::look_up(script));
        if matches!(report.outcome, cpis_domain::LookupOutcome::NoPlan { .. }) {
            prop_assert!(is_valid_empty_searchset(&body), "{}", String::from_utf8_lossy(&body));
        }
    }
}
