//! LA upload Bundles: per-record accept or reject codes.

use cpis_domain::PlanType;
use cpis_fhir::FhirError;
use cpis_fhir::upload::{
    UploadRecordOutcome, UploadRejectCode, UploadRejection, parse_upload_bundle,
    parse_upload_response, upload_response_bundle,
};
use cpis_fhir::upload_bundle;
use serde_json::json;
use time::macros::date;

use super::{asked, json, other, plan, today};

#[test]
fn each_record_gets_its_own_result() {
    let good = plan(PlanType::ChildProtectionPlan, None, true);
    let mut bundle = serde_json::to_value(upload_bundle(
        &[
            (asked(), good.clone()),
            (other(), good.clone()),
            (asked(), good.clone()),
            (asked(), good.clone()),
            (asked(), good.clone()),
        ],
        today(),
    ))
    .expect("value");
    bundle["entry"][1]["resource"]["subject"]["identifier"]["value"] = json!("9990000019");
    bundle["entry"][2]["resource"]["period"]["end"] = json!("2020-01-01");
    bundle["entry"][3]["resource"]["category"][0]["coding"][0]["code"] = json!("1234");
    bundle["entry"][4]["resource"]["telecom"] = json!([]);
    let results = parse_upload_bundle(&json(&bundle)).expect("bundle");
    assert_eq!(results.len(), 5);
    assert_eq!(results[0], Ok((asked(), good)));
    let codes: Vec<_> = results[1..]
        .iter()
        .map(|result| result.as_ref().expect_err("rejected").code)
        .collect();
    assert_eq!(
        codes,
        [
            UploadRejectCode::InvalidNhsNumber,
            UploadRejectCode::DateOrder,
            UploadRejectCode::UnknownPlanType,
            UploadRejectCode::InvalidRecord,
        ]
    );
}

#[test]
fn a_body_that_is_not_an_upload_bundle_is_refused_whole() {
    assert!(matches!(
        parse_upload_bundle(b"nope"),
        Err(FhirError::InvalidJson { .. })
    ));
    let body = json(&json!({"resourceType": "Bundle", "type": "searchset"}));
    assert!(matches!(
        parse_upload_bundle(&body),
        Err(FhirError::WrongBundleType { .. })
    ));
    let body = json(&json!({"resourceType": "Patient", "type": "batch"}));
    assert!(matches!(
        parse_upload_bundle(&body),
        Err(FhirError::WrongResourceType { .. })
    ));
    let body =
        json(&json!({"resourceType": "Bundle", "type": "batch", "entry": [{}, {"resource": 3}]}));
    let results = parse_upload_bundle(&body).expect("bundle");
    assert!(results.iter().all(|result| matches!(
        result,
        Err(UploadRejection {
            code: UploadRejectCode::InvalidRecord,
            ..
        })
    )));
}

#[test]
fn response_round_trips() {
    let outcomes = [
        UploadRecordOutcome::Created,
        UploadRecordOutcome::Updated,
        UploadRecordOutcome::Rejected(UploadRejection::new(UploadRejectCode::UnknownPerson)),
        UploadRecordOutcome::Rejected(UploadRejection {
            code: UploadRejectCode::DateOrder,
            element: Some("CareTeam.period"),
        }),
    ];
    let body = json(&upload_response_bundle(&outcomes));
    assert_eq!(
        parse_upload_response(&body),
        Ok(vec![
            Ok(201),
            Ok(200),
            Err(UploadRejectCode::UnknownPerson),
            Err(UploadRejectCode::DateOrder)
        ])
    );
    for code in UploadRejectCode::ALL {
        assert_eq!(UploadRejectCode::parse(code.as_str()), Some(code));
    }
    let _ = date!(2020 - 01 - 01);
}
