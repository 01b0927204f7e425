//! Fuzz target: any bytes as a CP-IS CareTeam search answer (200, FHIR JSON) are classified
//! exactly as a lookup classifies them, never panic, and are "no plan" only when they are a
//! valid searchset Bundle with `total: 0` and no entries.

#![no_main]

use cpis_fhir::CareTeamSearch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let asked = cpis_domain::NhsNumber::parse("9990000018").expect("synthetic number is valid");
    let classified = cpis_client::alert::classify_care_team_response(
        200,
        Some("application/fhir+json"),
        body,
        &asked,
    );
    match classified {
        Ok(CareTeamSearch::NoPlans) => {
            let bundle: serde_json::Value =
                serde_json::from_slice(body).expect("no plan only from JSON");
            assert_eq!(bundle["resourceType"], "Bundle");
            assert_eq!(bundle["type"], "searchset");
            assert_eq!(bundle["total"].as_u64(), Some(0));
            assert!(
                bundle
                    .get("entry")
                    .is_none_or(|entry| entry == &serde_json::json!([]))
            );
        }
        Ok(CareTeamSearch::Plans(plans)) => assert!(!plans.is_empty()),
        Err(_) => {}
    }
});
