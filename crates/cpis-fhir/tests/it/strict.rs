//! Everything that is not exactly right is an error, and no error leaks patient data.

use cpis_domain::{BirthDate, CouldNotCheckReason, PlanRecord, PlanType, TracedPatient};
use cpis_fhir::{
    CareTeamSearch, FhirError, SpineErrorCode, access_history_bundle, operation_outcome,
    parse_access_history, parse_care_team_search, parse_operation_outcome, parse_patient, patient,
};
use serde_json::json;

use super::{access, asked, demographics, edited_search, json, other};

fn search(body: &[u8]) -> Result<CareTeamSearch, FhirError> {
    let result = parse_care_team_search(body, &asked());
    if let Err(error) = &result {
        let text = error.to_string();
        assert!(
            !text.contains(asked().as_str()) && !text.contains(other().as_str()),
            "error text leaks an NHS number: {text}"
        );
        assert!(
            !text.contains("Northshire"),
            "error text leaks data: {text}"
        );
    }
    result
}

#[test]
fn empty_entry_array_is_still_no_plans() {
    let body =
        json(&json!({"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}));
    assert_eq!(search(&body), Ok(CareTeamSearch::NoPlans));
}

#[test]
fn missing_total_is_an_error_not_no_plans() {
    let body = json(&json!({"resourceType": "Bundle", "type": "searchset"}));
    assert_eq!(search(&body), Err(FhirError::MissingTotal));
    let body = json(&json!({"resourceType": "Bundle", "type": "searchset", "total": null}));
    assert_eq!(search(&body), Err(FhirError::MissingTotal));
}

#[test]
fn total_must_agree_with_entries() {
    let body = json(&json!({"resourceType": "Bundle", "type": "searchset", "total": 1}));
    assert_eq!(
        search(&body),
        Err(FhirError::TotalMismatch {
            total: 1,
            entries: 0
        })
    );
    let body = edited_search(|value| value["total"] = json!(0));
    assert_eq!(
        search(&body),
        Err(FhirError::TotalMismatch {
            total: 0,
            entries: 1
        })
    );
    let body = edited_search(|value| value["total"] = json!(2));
    assert_eq!(
        search(&body),
        Err(FhirError::TotalMismatch {
            total: 2,
            entries: 1
        })
    );
}

#[test]
fn wrong_resource_or_bundle_type_is_an_error() {
    let outcome = json(&operation_outcome(&SpineErrorCode::InvalidSearchData, None));
    assert_eq!(
        search(&outcome),
        Err(FhirError::WrongResourceType { expected: "Bundle" })
    );
    let body = json(&json!({"resourceType": "Bundle", "type": "collection", "total": 0}));
    assert_eq!(
        search(&body),
        Err(FhirError::WrongBundleType {
            expected: "searchset"
        })
    );
    let body = json(&json!({"type": "searchset", "total": 0}));
    assert!(matches!(search(&body), Err(FhirError::InvalidJson { .. })));
    let body =
        edited_search(|value| value["entry"][0]["resource"]["resourceType"] = json!("Patient"));
    assert_eq!(
        search(&body),
        Err(FhirError::WrongResourceType {
            expected: "CareTeam"
        })
    );
}

#[test]
fn not_json_truncated_or_trailing_data_is_an_error() {
    let good = edited_search(|_| {});
    for body in [
        b"".to_vec(),
        b"<html>502 Bad Gateway</html>".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        good[..good.len() / 2].to_vec(),
        [good.as_slice(), b"{}"].concat(),
    ] {
        assert!(
            matches!(search(&body), Err(FhirError::InvalidJson { .. })),
            "{:?}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[test]
fn duplicate_keys_are_refused_at_every_level() {
    let top = br#"{"resourceType":"Bundle","type":"searchset","total":1,"total":0}"#;
    assert!(matches!(search(top), Err(FhirError::InvalidJson { .. })));
    let good = String::from_utf8(edited_search(|_| {})).expect("utf8");
    let nested = good.replacen(r#""name":"#, r#""name":"Other Council","name":"#, 1);
    assert!(matches!(
        search(nested.as_bytes()),
        Err(FhirError::InvalidJson { .. })
    ));
}

#[test]
fn a_plan_for_another_patient_is_refused_with_its_own_error() {
    let body = edited_search(|value| {
        value["entry"][0]["resource"]["subject"]["identifier"]["value"] = json!(other().as_str());
    });
    let error = search(&body).expect_err("another patient");
    assert_eq!(error, FhirError::AnotherPatient);
    assert_eq!(
        error.could_not_check_reason(),
        CouldNotCheckReason::ResponseForAnotherPatient
    );
    assert_eq!(
        FhirError::MissingTotal.could_not_check_reason(),
        CouldNotCheckReason::InvalidResponse
    );
}

#[test]
fn subject_must_be_a_valid_plain_nhs_number_in_the_nhs_system() {
    for value in ["9990000019", "999 000 0018", "", "abc"] {
        let body = edited_search(|bundle| {
            bundle["entry"][0]["resource"]["subject"]["identifier"]["value"] = json!(value);
        });
        assert!(
            matches!(
                search(&body),
                Err(FhirError::InvalidNhsNumber | FhirError::MissingElement { .. })
            ),
            "{value}"
        );
    }
    let body = edited_search(|bundle| {
        bundle["entry"][0]["resource"]["subject"]["identifier"]["system"] = json!("urn:other");
    });
    assert!(matches!(
        search(&body),
        Err(FhirError::MissingElement { .. })
    ));
}

/// The one record of a search answer, which must have been read as found.
fn the_record(body: &[u8]) -> PlanRecord {
    match search(body) {
        Ok(CareTeamSearch::Plans(mut plans)) if plans.len() == 1 => plans.remove(0),
        other => panic!("expected one found record, got {other:?}"),
    }
}

#[test]
fn an_unknown_missing_or_contradictory_plan_code_is_a_found_record_of_unknown_type() {
    let edits: [&dyn Fn(&mut serde_json::Value); 3] = [
        &|value| {
            value["entry"][0]["resource"]["category"][0]["coding"][0]["code"] = json!("123456789");
        },
        &|value| {
            value["entry"][0]["resource"]
                .as_object_mut()
                .expect("object")
                .remove("category");
        },
        &|value| {
            let coding = &mut value["entry"][0]["resource"]["category"][0]["coding"];
            let mut second = coding[0].clone();
            second["code"] = json!(PlanType::LookedAfterChild.snomed_code());
            coding.as_array_mut().expect("array").push(second);
        },
    ];
    for edit in edits {
        let record = the_record(&edited_search(edit));
        assert_eq!(record.plan_type, None);
        // Everything else is still shown: whom to phone above all.
        assert_eq!(record.local_authority.name, "Northshire County Council");
        assert_eq!(
            record.local_authority.office_hours_phone.as_deref(),
            Some("01632 960001")
        );
        assert_eq!(
            record.local_authority.emergency_duty_phone.as_deref(),
            Some("07700 900001")
        );
        assert!(record.start.is_some());
    }
    // The type is read when it is there.
    assert_eq!(
        the_record(&edited_search(|_| {})).plan_type,
        Some(PlanType::ChildProtectionPlan)
    );
}

#[test]
fn name_and_telecom_are_required_each_phone_and_the_ods_code_are_optional() {
    let body = edited_search(|value| value["entry"][0]["resource"]["name"] = json!(""));
    assert_eq!(
        search(&body),
        Err(FhirError::MissingElement {
            element: "CareTeam.name"
        })
    );
    let body = edited_search(|value| {
        value["entry"][0]["resource"]
            .as_object_mut()
            .expect("object")
            .remove("telecom");
    });
    assert_eq!(
        search(&body),
        Err(FhirError::MissingElement {
            element: "CareTeam.telecom"
        })
    );
    // Without the office-hours phone: still a found record, with the other number.
    let record = the_record(&edited_search(|value| {
        value["entry"][0]["resource"]["telecom"]
            .as_array_mut()
            .expect("array")
            .remove(0);
    }));
    assert_eq!(record.local_authority.office_hours_phone, None);
    assert_eq!(
        record.local_authority.emergency_duty_phone.as_deref(),
        Some("07700 900001")
    );
    let record = the_record(&edited_search(|value| {
        value["entry"][0]["resource"]["telecom"][1]["value"] = json!("  ");
    }));
    assert_eq!(record.local_authority.emergency_duty_phone, None);
    // The ODS code: from managingOrganization, else from a "CODE - NAME" team name, else none.
    assert_eq!(
        the_record(&edited_search(|_| {}))
            .local_authority
            .ods_code
            .as_deref(),
        Some("Z9A1B")
    );
    let record = the_record(&edited_search(|value| {
        value["entry"][0]["resource"]["managingOrganization"] = json!([{"display": "x"}]);
    }));
    assert_eq!(record.local_authority.ods_code, None);
    assert_eq!(record.local_authority.name, "Northshire County Council");
    let record = the_record(&edited_search(|value| {
        let team = value["entry"][0]["resource"]
            .as_object_mut()
            .expect("object");
        team.remove("managingOrganization");
        team.insert("name".into(), json!("ZZ9LA - NORTHSHIRE COUNTY COUNCIL"));
    }));
    assert_eq!(record.local_authority.ods_code.as_deref(), Some("ZZ9LA"));
    assert_eq!(
        record.local_authority.name,
        "ZZ9LA - NORTHSHIRE COUNTY COUNCIL"
    );
    for name in [
        "Z - NORTHSHIRE",
        "zz9la - Northshire",
        "ZZ9LA-NORTHSHIRE",
        "ZZ9LA - ",
    ] {
        assert_eq!(
            cpis_fhir::parse::ods_code_from_team_name(name),
            None,
            "{name}"
        );
    }
}

#[test]
fn dates_must_be_full_and_in_order() {
    let body =
        edited_search(|value| value["entry"][0]["resource"]["period"]["start"] = json!("2025-02"));
    assert!(matches!(
        search(&body),
        Err(FhirError::InvalidElement { .. })
    ));
    let body = edited_search(|value| {
        value["entry"][0]["resource"]["period"]["start"] = json!("2025-02-30")
    });
    assert!(matches!(
        search(&body),
        Err(FhirError::InvalidElement { .. })
    ));
    let body =
        edited_search(|value| value["entry"][0]["resource"]["period"]["end"] = json!("2025-01-01"));
    assert_eq!(search(&body), Err(FhirError::PeriodEndsBeforeStart));
    let body = edited_search(|value| {
        value["entry"][0]["resource"]["period"]["start"] = json!("2025-02-03T10:00:00+00:00");
    });
    assert!(matches!(search(&body), Ok(CareTeamSearch::Plans(_))));
    // A missing period or start is not a reason to hide the record.
    let record = the_record(&edited_search(|value| {
        value["entry"][0]["resource"]
            .as_object_mut()
            .expect("object")
            .remove("period");
    }));
    assert_eq!((record.start, record.end), (None, None));
    let record = the_record(&edited_search(|value| {
        value["entry"][0]["resource"]["period"] = json!({"end": "2025-01-01"});
    }));
    assert_eq!(record.start, None);
    assert!(record.end.is_some());
}

#[test]
fn entered_in_error_include_entries_and_broken_extension_are_refused() {
    let body =
        edited_search(|value| value["entry"][0]["resource"]["status"] = json!("entered-in-error"));
    assert!(matches!(
        search(&body),
        Err(FhirError::InvalidElement { .. })
    ));
    let body = edited_search(|value| value["entry"][0]["search"]["mode"] = json!("include"));
    assert!(matches!(
        search(&body),
        Err(FhirError::InvalidElement { .. })
    ));
    let body = edited_search(|value| {
        value["entry"][0]["resource"]["extension"][0]["extension"]
            .as_array_mut()
            .expect("array")
            .remove(1);
    });
    assert!(matches!(
        search(&body),
        Err(FhirError::InvalidElement { .. })
    ));
    let body = edited_search(|value| {
        value["entry"][0]
            .as_object_mut()
            .expect("object")
            .remove("resource");
    });
    assert!(matches!(
        search(&body),
        Err(FhirError::MissingElement { .. })
    ));
}

#[test]
fn wrong_json_types_are_errors() {
    for edit in [
        json!({"total": "1"}),
        json!({"total": -1}),
        json!({"entry": {}}),
        json!({"type": 1}),
    ] {
        let body = edited_search(|value| {
            for (key, replacement) in edit.as_object().expect("object") {
                value[key] = replacement.clone();
            }
        });
        assert!(
            matches!(search(&body), Err(FhirError::InvalidJson { .. })),
            "{edit}"
        );
    }
}

#[test]
fn patient_must_be_the_one_asked_and_verified_and_may_lack_the_rest() {
    let good = serde_json::to_value(patient(&demographics())).expect("value");
    let check = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut value = good.clone();
        edit(&mut value);
        let result = parse_patient(&json(&value), &asked());
        if let Err(error) = &result {
            assert!(!error.to_string().contains(asked().as_str()));
            assert!(!error.to_string().contains("Testchild"));
        }
        result
    };
    assert_eq!(check(&|_| {}), Ok(TracedPatient::from(demographics())));
    assert_eq!(
        parse_patient(&json(&good), &other()),
        Err(FhirError::AnotherPatient)
    );
    assert_eq!(
        check(
            &|value| value["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]
                ["code"] = json!("02")
        ),
        Err(FhirError::NhsNumberNotVerified)
    );
    assert_eq!(
        check(&|value| {
            value["identifier"][0]
                .as_object_mut()
                .expect("object")
                .remove("extension");
        }),
        Err(FhirError::NhsNumberNotVerified)
    );
    assert!(matches!(
        check(&|value| value["gender"] = json!("F")),
        Err(FhirError::InvalidElement { .. })
    ));
    assert_eq!(
        check(&|value| {
            value.as_object_mut().expect("object").remove("gender");
        })
        .map(|patient| patient.gender),
        Ok(None)
    );
    assert_eq!(
        check(&|value| value["birthDate"] = json!("2015")).map(|patient| patient.birth_date),
        Ok(Some(BirthDate::Year(2015)))
    );
    assert_eq!(
        check(&|value| value["birthDate"] = json!("2015-6")),
        Err(FhirError::InvalidElement {
            element: "Patient.birthDate"
        })
    );
    assert_eq!(
        check(&|value| value["name"] = json!([])).map(|patient| patient.banner_name()),
        Ok(None)
    );
    assert_eq!(
        check(&|value| value["name"][0]["family"] = json!(" ")).map(|patient| patient.family_name),
        Ok(None)
    );
    // The id is the NHS number and is required; an identifier must agree with it.
    assert_eq!(
        check(&|value| {
            value.as_object_mut().expect("object").remove("id");
        }),
        Err(FhirError::MissingElement {
            element: "Patient.id"
        })
    );
    assert_eq!(
        check(&|value| value["id"] = json!(other().as_str())),
        Err(FhirError::AnotherPatient)
    );
    assert_eq!(
        check(&|value| value["identifier"][0]["value"] = json!(other().as_str())),
        Err(FhirError::AnotherPatient)
    );
    assert_eq!(
        check(&|value| value["id"] = json!("9990000019")),
        Err(FhirError::InvalidNhsNumber)
    );
    // No NHS number identifier: nothing says the number was verified.
    assert_eq!(
        check(&|value| value["identifier"] = json!([])),
        Err(FhirError::NhsNumberNotVerified)
    );
    // Verified in a code system that is not the verification status one: not verified.
    assert_eq!(
        check(
            &|value| value["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]
                ["system"] = json!("urn:other")
        ),
        Err(FhirError::NhsNumberNotVerified)
    );
    assert_eq!(
        check(&|value| value["resourceType"] = json!("Bundle")),
        Err(FhirError::WrongResourceType {
            expected: "Patient"
        })
    );
}

#[test]
fn access_history_must_be_about_the_asked_patient_and_complete() {
    let good = serde_json::to_value(access_history_bundle(&asked(), &[access(0)])).expect("value");
    let check = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut value = good.clone();
        edit(&mut value);
        parse_access_history(&json(&value), &asked())
    };
    assert_eq!(check(&|_| {}), Ok(vec![access(0)]));
    // Every NHS number in the event (the patient agent and entity) made another patient's.
    fn replace_number(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) if text == asked().as_str() => {
                *text = other().as_str().to_owned();
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(replace_number),
            serde_json::Value::Object(map) => map.values_mut().for_each(replace_number),
            _ => {}
        }
    }
    assert_eq!(
        check(&|value| replace_number(&mut value["entry"][0]["resource"])),
        Err(FhirError::AnotherPatient)
    );
    assert!(matches!(
        check(&|value| {
            value["entry"][0]["resource"]
                .as_object_mut()
                .expect("object")
                .remove("recorded");
        }),
        Err(FhirError::MissingElement { .. })
    ));
    assert!(matches!(
        check(&|value| value["entry"][0]["resource"]["recorded"] = json!("2026-11-25T09:00:00")),
        Err(FhirError::InvalidElement { .. })
    ));
    assert!(matches!(
        check(&|value| value["entry"][0]["resource"]["agent"] = json!([])),
        Err(FhirError::MissingElement { .. })
    ));
    assert!(matches!(
        check(&|value| value["total"] = json!(2)),
        Err(FhirError::TotalMismatch { .. })
    ));
}

#[test]
fn operation_outcome_needs_an_issue() {
    let body = json(&json!({"resourceType": "OperationOutcome", "issue": []}));
    assert!(matches!(
        parse_operation_outcome(&body),
        Err(FhirError::MissingElement { .. })
    ));
    let body = json(&json!({"resourceType": "Bundle", "type": "searchset", "total": 0}));
    assert_eq!(
        parse_operation_outcome(&body),
        Err(FhirError::WrongResourceType {
            expected: "OperationOutcome"
        })
    );
    let body = json(
        &json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}),
    );
    assert_eq!(
        parse_operation_outcome(&body).expect("parses").spine_code,
        None
    );
}
