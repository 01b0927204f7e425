//! Fuzz target: any bytes as a local authority's CSV upload (`cpis_fhir::upload_csv::
//! parse_csv_upload`, what the reference service reads at `POST /la/csv`).
//!
//! Properties: no panic; a file is refused whole only with one of its two fixed messages (never
//! echoing the input); every accepted row is a valid plan (ends on or after its start, no empty
//! or untrimmed field, the social worker both named and reachable or absent), and the FHIR
//! upload accepts the same record unchanged: the two ways in agree.

#![no_main]

use cpis_fhir::upload::{UploadRejectCode, parse_upload_bundle};
use cpis_fhir::upload_csv::parse_csv_upload;
use libfuzzer_sys::fuzz_target;
use time::macros::date;

fuzz_target!(|body: &[u8]| {
    let rows = match parse_csv_upload(body) {
        Ok(rows) => rows,
        Err(message) => {
            assert!(message.starts_with("The CSV header"));
            return;
        }
    };
    for row in rows {
        match row {
            Ok((nhs_number, plan)) => {
                assert!(plan.end.is_none_or(|end| end >= plan.start));
                let authority = &plan.local_authority;
                let mut fields = vec![
                    &authority.name,
                    &authority.ods_code,
                    &authority.office_hours_phone,
                    &authority.emergency_duty_phone,
                ];
                if let Some(worker) = &plan.social_worker {
                    fields.push(&worker.name);
                    fields.push(&worker.phone);
                }
                for field in fields {
                    assert!(!field.is_empty());
                    assert_eq!(field.trim(), field.as_str());
                }
                let record = (nhs_number, plan);
                let as_fhir = cpis_fhir::to_json_bytes(&cpis_fhir::upload_bundle(
                    std::slice::from_ref(&record),
                    date!(2025 - 06 - 01),
                ))
                .expect("built Bundle serialises");
                let reread = parse_upload_bundle(&as_fhir).expect("a Bundle we built reads back");
                assert_eq!(reread.len(), 1);
                assert!(
                    reread[0].as_ref() == Ok(&record),
                    "the FHIR upload accepts what the CSV upload accepts, unchanged"
                );
            }
            Err(rejection) => {
                assert!(UploadRejectCode::ALL.contains(&rejection.code));
            }
        }
    }
});
