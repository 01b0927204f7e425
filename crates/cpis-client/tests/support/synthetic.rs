//! Synthetic patients, plans and users for the tests. Invented; NHS numbers in the 999 range.

use cpis_client::{Organisation, Role, SignedInUser};
use cpis_domain::{
    AccessRecord, Gender, LocalAuthority, NhsNumber, PatientDemographics, PlanType, ProtectionPlan,
};
use time::macros::{date, datetime};

pub fn nhs(text: &str) -> NhsNumber {
    NhsNumber::parse(text).expect("synthetic NHS number is valid")
}

/// The patient every fault test asks about.
pub fn asked() -> NhsNumber {
    nhs("9990000018")
}

/// Another valid synthetic NHS number.
pub fn someone_else() -> NhsNumber {
    nhs("9990000026")
}

pub fn patient(nhs_number: &NhsNumber) -> PatientDemographics {
    PatientDemographics {
        nhs_number: nhs_number.clone(),
        family_name: "Testchild".into(),
        given_names: vec!["Robin".into()],
        date_of_birth: date!(2019 - 03 - 14),
        gender: Gender::Unknown,
    }
}

pub fn plan() -> ProtectionPlan {
    ProtectionPlan {
        plan_type: PlanType::ChildProtectionPlan,
        start: date!(2026 - 01 - 10),
        end: None,
        local_authority: LocalAuthority {
            name: "Northshire County Council".into(),
            ods_code: "ZZ9LA".into(),
            office_hours_phone: "01632 960001".into(),
            emergency_duty_phone: "01632 960999".into(),
        },
        social_worker: None,
    }
}

pub fn access() -> AccessRecord {
    AccessRecord {
        accessed_at: datetime!(2026-11-24 21:15 UTC),
        viewer_name: "Tess Triage-Test".into(),
        viewer_role: "Nurse Access Role".into(),
        organisation_name: "Northshire General Hospital".into(),
        organisation_ods: Some("ZZ1ED".into()),
    }
}

pub fn user_with(activity_codes: &[&str]) -> SignedInUser {
    SignedInUser {
        subject: "900000000001".into(),
        name: "Tess Triage-Test".into(),
        selected_roleid: Some("555000000101".into()),
        roles: vec![Role {
            person_roleid: "555000000101".into(),
            org_code: "ZZ1ED".into(),
            role_code: "R8001".into(),
            role_name: "Nurse Access Role".into(),
            activity_codes: activity_codes
                .iter()
                .map(|code| (*code).to_owned())
                .collect(),
        }],
        organisations: vec![Organisation {
            org_code: "ZZ1ED".into(),
            org_name: "Northshire General Hospital".into(),
        }],
    }
}

/// The UK date: the day the reference service judges plans on (not the UTC date).
pub fn today() -> time::Date {
    cpis_domain::uk_time::uk_today()
}

/// JSON bytes of a FHIR resource.
pub fn json<T: serde::Serialize>(resource: &T) -> Vec<u8> {
    cpis_fhir::to_json_bytes(resource).expect("serialise")
}

pub fn patient_body(nhs_number: &NhsNumber) -> Vec<u8> {
    json(&cpis_fhir::patient(&patient(nhs_number)))
}

pub fn empty_bundle(nhs_number: &NhsNumber) -> Vec<u8> {
    json(&cpis_fhir::care_team_search_bundle(
        nhs_number,
        &[],
        today(),
    ))
}

pub fn plans_bundle(nhs_number: &NhsNumber) -> Vec<u8> {
    json(&cpis_fhir::care_team_search_bundle(
        nhs_number,
        &[plan()],
        today(),
    ))
}

pub fn history_bundle(nhs_number: &NhsNumber) -> Vec<u8> {
    json(&cpis_fhir::access_history_bundle(nhs_number, &[access()]))
}

pub fn operation_outcome(code: cpis_fhir::SpineErrorCode) -> Vec<u8> {
    json(&cpis_fhir::operation_outcome(&code, None))
}
