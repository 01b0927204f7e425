//! Fuzz target: any bytes as an answer from CP-IS or the demographics service, classified as the
//! client classifies them. The first byte picks the answer: `C` a CareTeam search answer (200,
//! `application/fhir+json`), `H` the access history, `P` a Patient, `O` an OperationOutcome,
//! `N` a local authority's Access to Service Notifications, and any other byte a CareTeam answer
//! with another status or content type. The rest is the body.
//!
//! - CareTeam search (`cpis_client::alert::classify_care_team_response`, exactly what a lookup
//!   runs): "no plan" only from a 200 `application/fhir+json` answer that is a valid searchset
//!   Bundle with `total: 0` and no entries (checked here independently); plans only from a 200
//!   FHIR answer, never empty, each ending on or after its start.
//! - Access history (`parse_access_history`): every event is about the NHS number asked, its
//!   time can be shown in any UTC offset (as the app shows it in UK time), and what is read is
//!   read back the same from the Bundle we build of it.
//! - Patient (`parse_patient`): only for the NHS number asked; a complete record read back the
//!   same.
//! - OperationOutcome (`parse_operation_outcome`, from which a 404 becomes "patient not found"):
//!   `RESOURCE_NOT_FOUND` only when the body says so in the Spine code system; a Patient is never
//!   an OperationOutcome and the other way round.
//! - Notifications (`parse_access_notifications`, the local authority's side): read back the same
//!   from the Bundle we build of them.

#![no_main]

use cpis_domain::{BirthDate, NhsNumber, PatientDemographics};
use cpis_fhir::{CareTeamSearch, SpineErrorCode};
use libfuzzer_sys::fuzz_target;
use time::UtcOffset;
use time::macros::offset;

/// The synthetic NHS number every seed is about.
const ASKED: &str = "9990000018";

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let asked = NhsNumber::parse(ASKED).expect("synthetic number is valid");
    match selector {
        b'C' => care_team(200, Some("application/fhir+json"), body, &asked),
        b'H' => access_history(body, &asked),
        b'P' => patient(body, &asked),
        b'O' => operation_outcome(body, &asked),
        b'N' => access_notifications(body),
        // Any other first byte: a CareTeam answer with some other status or content type.
        other => {
            let status = match other % 8 {
                0..=3 => 200,
                4 => 404,
                5 => 500,
                6 => 204,
                _ => 100 + u16::from(other) * 4,
            };
            let content_type = match (other / 8) % 8 {
                0 => None,
                1 => Some("application/json"),
                2 => Some("text/html"),
                3 => Some("application/fhir+json; charset=utf-8"),
                4 => Some("APPLICATION/FHIR+JSON"),
                5 => Some("application/fhir+jsonx"),
                _ => Some("application/fhir+json"),
            };
            care_team(status, content_type, body, &asked);
        }
    }
});

fn care_team(status: u16, content_type: Option<&str>, body: &[u8], asked: &NhsNumber) {
    let is_fhir_json = content_type.is_some_and(|value| {
        value
            .split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/fhir+json"))
    });
    let classified =
        cpis_client::alert::classify_care_team_response(status, content_type, body, asked);
    if classified.is_ok() {
        assert_eq!(status, 200, "a definitive answer only from a 200");
        assert!(is_fhir_json, "a definitive answer only from FHIR JSON");
    }
    match classified {
        Ok(CareTeamSearch::NoPlans) => {
            let bundle: serde_json::Value =
                serde_json::from_slice(body).expect("no plan only from JSON");
            let object = bundle.as_object().expect("no plan only from a JSON object");
            assert_eq!(bundle["resourceType"], "Bundle");
            assert_eq!(bundle["type"], "searchset");
            assert_eq!(bundle["total"].as_u64(), Some(0));
            assert!(
                bundle
                    .get("entry")
                    .is_none_or(|entry| entry == &serde_json::json!([]))
            );
            assert!(object.values().all(|value| !value.is_null()));
        }
        Ok(CareTeamSearch::Plans(plans)) => {
            assert!(!plans.is_empty());
            for plan in &plans {
                assert!(
                    plan.start
                        .zip(plan.end)
                        .is_none_or(|(start, end)| end >= start)
                );
                let authority = &plan.local_authority;
                assert!(!authority.name.trim().is_empty());
                for optional in [
                    &authority.ods_code,
                    &authority.office_hours_phone,
                    &authority.emergency_duty_phone,
                ] {
                    assert!(optional.as_ref().is_none_or(|text| !text.trim().is_empty()));
                }
            }
            // The parser agrees with the classification.
            assert_eq!(
                cpis_fhir::parse_care_team_search(body, asked),
                Ok(CareTeamSearch::Plans(plans))
            );
        }
        Err(_) => {}
    }
}

fn access_history(body: &[u8], asked: &NhsNumber) {
    let Ok(records) = cpis_fhir::parse_access_history(body, asked) else {
        return;
    };
    // The app and the CLI show each access in UK time (GMT or BST) and write it in UTC: any
    // instant read must convert to every offset without overflowing (a panic there would take
    // the lookup down after the answer was read).
    for record in &records {
        for offset in [
            UtcOffset::UTC,
            offset!(+1),
            offset!(+25:59:59),
            offset!(-25:59:59),
        ] {
            assert!(record.accessed_at.checked_to_offset(offset).is_some());
        }
        cpis_domain::display_date_time(record.accessed_at);
        cpis_domain::display_date_time_with_zone(record.accessed_at);
    }
    // What was read is read back the same from the Bundle we would build of it. Instants are
    // compared as instants (the builder writes them in UTC).
    let rebuilt = cpis_fhir::to_json_bytes(&cpis_fhir::access_history_bundle(asked, &records))
        .expect("built Bundle serialises");
    assert_eq!(
        cpis_fhir::parse_access_history(&rebuilt, asked).as_ref(),
        Ok(&records)
    );
    // Someone else's history is never taken for this patient's.
    let other = NhsNumber::parse("9990000026").expect("synthetic number is valid");
    if !records.is_empty() {
        assert!(cpis_fhir::parse_access_history(&rebuilt, &other).is_err());
    }
}

fn access_notifications(body: &[u8]) {
    let Ok(notifications) = cpis_fhir::parse::parse_access_notifications(body) else {
        return;
    };
    for (id, _, access) in &notifications {
        assert!(!id.is_empty());
        assert!(
            access
                .accessed_at
                .checked_to_offset(offset!(+25:59:59))
                .is_some()
        );
    }
    let rebuilt = cpis_fhir::to_json_bytes(&cpis_fhir::access_notification_bundle(&notifications))
        .expect("built Bundle serialises");
    assert_eq!(
        cpis_fhir::parse::parse_access_notifications(&rebuilt).as_ref(),
        Ok(&notifications)
    );
}

fn patient(body: &[u8], asked: &NhsNumber) {
    let Ok(patient) = cpis_fhir::parse_patient(body, asked) else {
        return;
    };
    assert_eq!(&patient.nhs_number, asked);
    assert!(
        patient
            .family_name
            .as_ref()
            .is_none_or(|family| !family.trim().is_empty())
    );
    assert!(cpis_fhir::parse_operation_outcome(body).is_err());
    // A complete, unrestricted record is read back the same from the Patient we build of it.
    if let (Some(family_name), Some(BirthDate::Day(date_of_birth)), Some(gender), false, None) = (
        patient.family_name.clone(),
        patient.birth_date,
        patient.gender,
        patient.restricted,
        patient.date_of_death,
    ) {
        let demographics = PatientDemographics {
            nhs_number: patient.nhs_number.clone(),
            family_name,
            given_names: patient.given_names.clone(),
            date_of_birth,
            gender,
        };
        let rebuilt = cpis_fhir::to_json_bytes(&cpis_fhir::patient(&demographics))
            .expect("built Patient serialises");
        assert_eq!(
            cpis_fhir::parse_patient(&rebuilt, asked).as_ref(),
            Ok(&patient)
        );
    }
}

fn operation_outcome(body: &[u8], asked: &NhsNumber) {
    let Ok(summary) = cpis_fhir::parse_operation_outcome(body) else {
        return;
    };
    assert!(cpis_fhir::parse_patient(body, asked).is_err());
    if summary.spine_code == Some(SpineErrorCode::ResourceNotFound) {
        // Independently: the first issue has a coding in the Spine system with that code
        // (where `Value` reads the body too: serde_json does not check the fields a typed parser
        // skips, so the typed parser can accept a body that `Value` refuses).
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return;
        };
        let codings = value["issue"][0]["details"]["coding"]
            .as_array()
            .expect("a coding array");
        let first_spine = codings
            .iter()
            .find(|coding| {
                coding["system"] == cpis_fhir::SPINE_ERROR_CODE_SYSTEM
                    || coding["system"] == cpis_fhir::ENGLAND_SPINE_ERROR_CODE_SYSTEM
            })
            .expect("a Spine coding");
        assert_eq!(first_spine["code"], "RESOURCE_NOT_FOUND");
    }
}
