//! Fuzz target: any bytes as a local authority's FHIR upload (`cpis_fhir::upload::
//! parse_upload_bundle`, what the reference service reads at `POST /la/FHIR/R4`).
//!
//! Properties: no panic; one result per entry of the Bundle (counted independently); every
//! accepted record is a valid plan (ends on or after its start, no empty contact fields) and
//! reads back the same from the upload Bundle we build of it.

#![no_main]

use cpis_fhir::upload::{UploadRejectCode, parse_upload_bundle};
use libfuzzer_sys::fuzz_target;
use time::macros::date;

fuzz_target!(|body: &[u8]| {
    let Ok(results) = parse_upload_bundle(body) else {
        return;
    };
    // Counted independently, where `serde_json::Value` reads the body too: serde_json skips the
    // fields a typed parser ignores without checking them (their UTF-8 or escapes), so the
    // typed parser can accept a body that `Value` refuses (see docs/fuzzing.md).
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let entries = value
            .get("entry")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len);
        assert_eq!(results.len(), entries, "one result per entry");
    }
    for result in results {
        match result {
            Ok((nhs_number, plan)) => {
                assert!(plan.end.is_none_or(|end| end >= plan.start));
                let authority = &plan.local_authority;
                for field in [
                    &authority.name,
                    &authority.ods_code,
                    &authority.office_hours_phone,
                    &authority.emergency_duty_phone,
                ] {
                    assert!(!field.is_empty());
                    assert_eq!(field.trim(), field.as_str());
                }
                let record = (nhs_number, plan);
                let rebuilt = cpis_fhir::to_json_bytes(&cpis_fhir::upload_bundle(
                    std::slice::from_ref(&record),
                    date!(2025 - 06 - 01),
                ))
                .expect("built Bundle serialises");
                let reread = parse_upload_bundle(&rebuilt).expect("a Bundle we built reads back");
                assert_eq!(reread.len(), 1);
                assert!(
                    reread[0].as_ref() == Ok(&record),
                    "an accepted record reads back the same"
                );
            }
            Err(rejection) => {
                assert!(UploadRejectCode::ALL.contains(&rejection.code));
                assert_eq!(
                    UploadRejectCode::parse(rejection.code.as_str()),
                    Some(rejection.code)
                );
            }
        }
    }
});
