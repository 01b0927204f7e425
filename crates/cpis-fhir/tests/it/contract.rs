//! The published contracts' shapes, in synthetic answers: the Bundle's `self` link, the access
//! history with included PractitionerRoles (the consumer guide's shape), PDS patients with
//! partial birth dates, restricted records and dates of death, OperationOutcomes in either Spine
//! code system, and the detail code of every refusal.

use cpis_domain::{AccessRecord, BirthDate};
use cpis_fhir::{
    CareTeamSearch, FhirError, SpineErrorCode, parse_access_history, parse_care_team_search,
    parse_operation_outcome, parse_patient, patient,
};
use serde_json::{Value, json};
use time::Month;
use time::macros::{date, datetime};

use super::{asked, demographics, edited_search, json, other};

fn self_link(resource: &str, number: &str) -> Value {
    json!([{"relation": "self", "url": format!(
        "https://cpis.example/FHIR/R4/{resource}?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{number}"
    )}])
}

fn empty_search(link: Value) -> Vec<u8> {
    json(&json!({"resourceType": "Bundle", "type": "searchset", "total": 0, "link": link}))
}

#[test]
fn no_plan_needs_a_self_link_for_the_asked_number_or_none() {
    assert_eq!(
        parse_care_team_search(
            &empty_search(self_link("CareTeam", asked().as_str())),
            &asked()
        ),
        Ok(CareTeamSearch::NoPlans)
    );
    let for_other = parse_care_team_search(
        &empty_search(self_link("CareTeam", other().as_str())),
        &asked(),
    );
    assert_eq!(for_other, Err(FhirError::SelfLinkAnotherPatient));
    let error = for_other.expect_err("refused");
    assert!(error.is_another_patient());
    assert_eq!(error.detail_code(), "self_link_another_patient");
    assert!(!error.to_string().contains(other().as_str()));
    // Percent-encoded, bare, or `identifier`: the same number is read.
    for url in [
        format!(
            "https://cpis.example/CareTeam?patient%3Aidentifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C{}",
            other().as_str()
        ),
        format!(
            "https://cpis.example/CareTeam?identifier={}",
            other().as_str()
        ),
        format!(
            "https://cpis.example/CareTeam?_count=10&patient.identifier=x|{}",
            other().as_str()
        ),
    ] {
        let body = empty_search(json!([{"relation": "self", "url": url}]));
        assert_eq!(
            parse_care_team_search(&body, &asked()),
            Err(FhirError::SelfLinkAnotherPatient),
            "{url}"
        );
    }
    // Links that name no NHS number, or are not `self`, say nothing.
    for link in [
        json!([{"relation": "self", "url": "https://cpis.example/CareTeam"}]),
        json!([{"relation": "self", "url": "https://cpis.example/CareTeam?patient:identifier=unknown"}]),
        json!([{"relation": "next", "url": format!("https://cpis.example/CareTeam?identifier={}", other().as_str())}]),
        json!([]),
    ] {
        assert_eq!(
            parse_care_team_search(&empty_search(link.clone()), &asked()),
            Ok(CareTeamSearch::NoPlans),
            "{link}"
        );
    }
    // A link must have its relation and url.
    assert!(matches!(
        parse_care_team_search(&empty_search(json!([{"relation": "self"}])), &asked()),
        Err(FhirError::InvalidJson { .. })
    ));
}

#[test]
fn a_care_team_without_subject_is_the_asked_patients_only_under_their_self_link() {
    let without_subject = |link: Value| {
        edited_search(|value| {
            value["entry"][0]["resource"]
                .as_object_mut()
                .expect("object")
                .remove("subject");
            value["link"] = link;
        })
    };
    let found = parse_care_team_search(&without_subject(json!([])), &asked());
    assert!(
        matches!(&found, Ok(CareTeamSearch::Plans(plans)) if plans.len() == 1),
        "{found:?}"
    );
    assert!(matches!(
        parse_care_team_search(
            &without_subject(self_link("CareTeam", asked().as_str())),
            &asked()
        ),
        Ok(CareTeamSearch::Plans(_))
    ));
    assert_eq!(
        parse_care_team_search(
            &without_subject(self_link("CareTeam", other().as_str())),
            &asked()
        ),
        Err(FhirError::SelfLinkAnotherPatient)
    );
    // With a subject, the subject decides too.
    let body = edited_search(|value| value["link"] = self_link("CareTeam", other().as_str()));
    assert_eq!(
        parse_care_team_search(&body, &asked()),
        Err(FhirError::SelfLinkAnotherPatient)
    );
}

/// An access history shaped like the consumer guide's published example: the patient as a
/// `PAT` agent, the viewer as a reference to an included PractitionerRole, `requestor` as
/// strings, an event type Coding without a code, and `total` counting the match only.
fn published_shape_history(patient_number: &str) -> Value {
    json!({
        "resourceType": "Bundle",
        "id": "b2f0c7a6-0000-4000-8000-000000000001",
        "type": "searchset",
        "total": 1,
        "link": self_link("AuditEvent", patient_number),
        "entry": [
            {
                "fullUrl": "https://cpis.example/FHIR/R4/AuditEvent/ae-1",
                "resource": {
                    "resourceType": "AuditEvent",
                    "id": "ae-1",
                    "type": {
                        "system": "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle",
                        "display": "Access/View Record Lifecycle Event"
                    },
                    "recorded": "2026-11-24T21:15:00+00:00",
                    "agent": [
                        {
                            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "PAT", "display": "patient"}]},
                            "who": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": patient_number}},
                            "requestor": "false"
                        },
                        {
                            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "ASSIGNED", "display": "assigned entity"}]},
                            "who": {"reference": "PractitionerRole/pr-1"},
                            "requestor": "true"
                        }
                    ],
                    "source": {"observer": {"reference": "PractitionerRole/pr-1"}}
                },
                "search": {"mode": "match"}
            },
            {
                "fullUrl": "https://cpis.example/FHIR/R4/PractitionerRole/pr-1",
                "resource": {
                    "resourceType": "PractitionerRole",
                    "id": "pr-1",
                    "identifier": [{"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "555000000101"}],
                    "practitioner": {"display": "Ms Tess TRIAGE-TEST"},
                    "organization": {"display": "NORTHSHIRE GENERAL HOSPITAL - EMERGENCY DEPARTMENT (ZZ1ED)"},
                    "code": [{"coding": [{"system": "http://snomed.info/sct", "code": "158992006", "display": "Staff nurse "}]}]
                },
                "search": {"mode": "include"}
            }
        ]
    })
}

fn expected_access() -> AccessRecord {
    AccessRecord {
        accessed_at: datetime!(2026-11-24 21:15 UTC),
        viewer_name: "Ms Tess TRIAGE-TEST".into(),
        viewer_role: "Staff nurse".into(),
        organisation_name: "NORTHSHIRE GENERAL HOSPITAL - EMERGENCY DEPARTMENT (ZZ1ED)".into(),
        organisation_ods: Some("ZZ1ED".into()),
    }
}

#[test]
fn the_access_history_is_read_in_the_consumer_guides_shape() {
    let history = published_shape_history(asked().as_str());
    assert_eq!(
        parse_access_history(&json(&history), &asked()),
        Ok(vec![expected_access()])
    );
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut value = history.clone();
        edit(&mut value);
        parse_access_history(&json(&value), &asked())
    };
    // An ODS identifier on the organisation wins over the bracket.
    let with_identifier = edited(&|value| {
        value["entry"][1]["resource"]["organization"]["identifier"] =
            json!({"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "ZZ1AB"});
    })
    .expect("read");
    assert_eq!(
        with_identifier[0].organisation_ods.as_deref(),
        Some("ZZ1AB")
    );
    // Resolved by fullUrl alone, and booleans read as booleans.
    let by_full_url = edited(&|value| {
        value["entry"][1]["resource"]
            .as_object_mut()
            .expect("object")
            .remove("id");
        value["entry"][0]["resource"]["agent"][1]["requestor"] = json!(true);
        value["entry"][0]["resource"]["agent"][0]["requestor"] = json!(false);
    });
    assert_eq!(by_full_url, Ok(vec![expected_access()]));
    // Other included resources are ignored, and never counted.
    let with_other_include = edited(&|value| {
        value["entry"].as_array_mut().expect("entries").push(json!({
            "fullUrl": "Organization/o-1",
            "resource": {"resourceType": "Organization", "id": "o-1"},
            "search": {"mode": "include"}
        }));
    });
    assert_eq!(with_other_include, Ok(vec![expected_access()]));
    // The patient from entity.what alone; and both, when they agree.
    let entity = json!([{"what": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": asked().as_str()}}}]);
    assert_eq!(
        edited(&|value| {
            value["entry"][0]["resource"]["entity"] = entity.clone();
            value["entry"][0]["resource"]["agent"]
                .as_array_mut()
                .expect("agents")
                .remove(0);
        }),
        Ok(vec![expected_access()])
    );
    assert_eq!(
        edited(&|value| value["entry"][0]["resource"]["entity"] = entity.clone()),
        Ok(vec![expected_access()])
    );
}

#[test]
fn the_access_history_refuses_what_the_guide_forbids() {
    let history = published_shape_history(asked().as_str());
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut value = history.clone();
        edit(&mut value);
        parse_access_history(&json(&value), &asked())
    };
    // Someone else's: by the PAT agent, by the self link, or by a disagreeing entity.
    assert_eq!(
        parse_access_history(&json(&published_shape_history(other().as_str())), &asked()),
        Err(FhirError::SelfLinkAnotherPatient)
    );
    assert_eq!(
        edited(&|value| {
            value["entry"][0]["resource"]["agent"][0]["who"]["identifier"]["value"] =
                json!(other().as_str());
        }),
        Err(FhirError::AnotherPatient)
    );
    assert_eq!(
        edited(&|value| {
            value["entry"][0]["resource"]["entity"] = json!([{"what": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": other().as_str()}}}]);
        }),
        Err(FhirError::InvalidElement {
            element: "AuditEvent.agent:PAT.who.identifier"
        })
    );
    // total counts matches only: counting the include too is a mismatch.
    assert!(matches!(
        edited(&|value| value["total"] = json!(2)),
        Err(FhirError::TotalMismatch { total: 2, .. })
    ));
    // A requestor that is neither a boolean nor "true"/"false".
    assert!(matches!(
        edited(&|value| value["entry"][0]["resource"]["agent"][1]["requestor"] = json!("yes")),
        Err(FhirError::InvalidJson { .. })
    ));
    // An included PractitionerRole without what the history shows.
    for (path, element) in [
        ("practitioner", "PractitionerRole.practitioner.display"),
        ("code", "PractitionerRole.code"),
        ("organization", "PractitionerRole.organization.display"),
    ] {
        let result = edited(&|value| {
            value["entry"][1]["resource"]
                .as_object_mut()
                .expect("object")
                .remove(path);
        });
        assert_eq!(result, Err(FhirError::MissingElement { element }), "{path}");
    }
    // Nothing included and nothing inline: no viewer.
    let result = edited(&|value| {
        value["entry"].as_array_mut().expect("entries").pop();
    });
    assert_eq!(
        result,
        Err(FhirError::MissingElement {
            element: "AuditEvent.agent:PractitionerRole.who.display"
        })
    );
    assert_eq!(
        result.expect_err("refused").detail_code(),
        "missing_element:AuditEvent.agent:PractitionerRole.who.display"
    );
    // An entry of another mode.
    assert_eq!(
        edited(&|value| value["entry"][1]["search"]["mode"] = json!("outcome")),
        Err(FhirError::InvalidElement {
            element: "Bundle.entry.search.mode"
        })
    );
}

fn pds_patient() -> Value {
    let mut value = serde_json::to_value(patient(&demographics())).expect("value");
    value["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["system"] =
        json!("https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus");
    value
}

#[test]
fn pds_patients_read_as_pds_writes_them() {
    let read = |edit: &dyn Fn(&mut Value)| {
        let mut value = pds_patient();
        edit(&mut value);
        parse_patient(&json(&value), &asked())
    };
    let plain = read(&|_| {}).expect("read");
    assert!(!plain.restricted);
    assert_eq!(plain.date_of_death, None);
    assert_eq!(
        plain.birth_date,
        Some(BirthDate::Day(date!(2015 - 06 - 01)))
    );
    let partial = read(&|value| value["birthDate"] = json!("2010-10")).expect("read");
    assert_eq!(
        partial.birth_date,
        Some(BirthDate::Month {
            year: 2010,
            month: Month::October
        })
    );
    let restricted = read(&|value| {
        value["meta"] = json!({"versionId": "2", "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R", "display": "restricted"}]});
    })
    .expect("read");
    assert!(restricted.restricted);
    let unrestricted = read(&|value| {
        value["meta"] = json!({"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "U"}]});
    })
    .expect("read");
    assert!(!unrestricted.restricted);
    let deceased = read(&|value| value["deceasedDateTime"] = json!("2024-03-05T23:30:00-01:00"))
        .expect("read");
    // The date in the answer's own offset.
    assert_eq!(deceased.date_of_death, Some(date!(2024 - 03 - 05)));
    assert_eq!(
        read(&|value| value["deceasedDateTime"] = json!("yesterday")),
        Err(FhirError::InvalidElement {
            element: "Patient.deceasedDateTime"
        })
    );
    // No name, gender or birth date: still the asked patient, with nothing invented.
    let bare = read(&|value| {
        let object = value.as_object_mut().expect("object");
        for key in ["name", "gender", "birthDate"] {
            object.remove(key);
        }
    })
    .expect("read");
    assert_eq!(bare.not_recorded(), ["name", "date of birth", "gender"]);
}

#[test]
fn operation_outcomes_carry_the_spine_code_in_either_system() {
    for system in [
        "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode",
        "https://fhir.nhs.uk/CodeSystem/England-SpineErrorOrWarningCode",
    ] {
        let body = json(&json!({"resourceType": "OperationOutcome", "issue": [{
            "severity": "error", "code": "forbidden",
            "details": {"coding": [{"system": system, "code": "ACCESS_DENIED", "display": "Access has been denied to process this request"}]}
        }]}));
        assert_eq!(
            parse_operation_outcome(&body).expect("read").spine_code,
            Some(SpineErrorCode::AccessDenied),
            "{system}"
        );
    }
    let body = json(&json!({"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": "not-found",
        "details": {"coding": [{"system": "urn:other", "code": "RESOURCE_NOT_FOUND"}]}
    }]}));
    assert_eq!(
        parse_operation_outcome(&body).expect("read").spine_code,
        None
    );
}

#[test]
fn every_refusal_has_a_stable_detail_code_without_values() {
    let cases = [
        (
            FhirError::InvalidJson {
                category: "syntax",
                line: 3,
                column: 9,
            },
            "invalid_json:syntax",
        ),
        (
            FhirError::WrongResourceType { expected: "Bundle" },
            "wrong_resource_type:Bundle",
        ),
        (
            FhirError::WrongBundleType {
                expected: "searchset",
            },
            "wrong_bundle_type:searchset",
        ),
        (FhirError::MissingTotal, "missing_total"),
        (
            FhirError::TotalMismatch {
                total: 2,
                entries: 1,
            },
            "total_mismatch",
        ),
        (
            FhirError::MissingElement {
                element: "CareTeam.name",
            },
            "missing_element:CareTeam.name",
        ),
        (
            FhirError::InvalidElement {
                element: "Patient.birthDate",
            },
            "invalid_element:Patient.birthDate",
        ),
        (FhirError::UnknownPlanCode, "unknown_plan_code"),
        (FhirError::InvalidNhsNumber, "invalid_nhs_number"),
        (FhirError::AnotherPatient, "another_patient"),
        (FhirError::PeriodEndsBeforeStart, "period_ends_before_start"),
        (FhirError::NhsNumberNotVerified, "nhs_number_not_verified"),
        (
            FhirError::SelfLinkAnotherPatient,
            "self_link_another_patient",
        ),
    ];
    for (error, code) in cases {
        assert_eq!(error.detail_code(), code);
        // Safe to log: no position, count or other value from the answer.
        assert!(!code.bytes().any(|byte| byte.is_ascii_digit()), "{code}");
    }
    // From a real refusal: the element that broke.
    let body = edited_search(|value| value["entry"][0]["resource"]["name"] = json!(" "));
    assert_eq!(
        parse_care_team_search(&body, &asked())
            .expect_err("refused")
            .detail_code(),
        "missing_element:CareTeam.name"
    );
}
