//! Test modules and shared sample data.

mod contract;
mod fixtures;
mod properties;
mod round_trip;
mod strict;
mod upload;

use cpis_domain::{
    AccessRecord, Gender, LocalAuthority, NhsNumber, PatientDemographics, PlanType, ProtectionPlan,
    SocialWorker,
};
use time::Date;
use time::macros::{date, datetime};

pub fn nhs(text: &str) -> NhsNumber {
    NhsNumber::parse(text).expect("valid test NHS number")
}

pub fn asked() -> NhsNumber {
    nhs("9990000018")
}

pub fn other() -> NhsNumber {
    nhs("9990000026")
}

pub fn today() -> Date {
    date!(2026 - 11 - 25)
}

pub fn authority() -> LocalAuthority {
    LocalAuthority {
        name: "Northshire County Council".into(),
        ods_code: "Z9A1B".into(),
        office_hours_phone: "01632 960001".into(),
        emergency_duty_phone: "07700 900001".into(),
    }
}

pub fn plan(plan_type: PlanType, end: Option<Date>, social_worker: bool) -> ProtectionPlan {
    ProtectionPlan {
        plan_type,
        start: date!(2025 - 02 - 03),
        end,
        local_authority: authority(),
        social_worker: social_worker.then(|| SocialWorker {
            name: "Sam Testworker".into(),
            phone: "07700 900123".into(),
        }),
    }
}

pub fn access(minutes: i64) -> AccessRecord {
    AccessRecord {
        accessed_at: datetime!(2026-11-25 09:00 UTC) - time::Duration::minutes(minutes),
        viewer_name: "Jo Testnurse".into(),
        viewer_role: "Staff Nurse".into(),
        organisation_name: "Testshire Hospitals NHS Trust".into(),
        organisation_ods: Some("ZZT01".into()),
    }
}

pub fn demographics() -> PatientDemographics {
    PatientDemographics {
        nhs_number: asked(),
        family_name: "Testchild".into(),
        given_names: vec!["Robin".into(), "Lee".into()],
        date_of_birth: date!(2015 - 06 - 01),
        gender: Gender::Other,
    }
}

pub fn json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("serialise")
}

/// Apply `edit` to the JSON of a one-plan search answer and return the bytes.
pub fn edited_search(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let bundle = cpis_fhir::care_team_search_bundle(
        &asked(),
        &[plan(PlanType::ChildProtectionPlan, None, true)],
        today(),
    );
    let mut value = serde_json::to_value(&bundle).expect("to value");
    edit(&mut value);
    serde_json::to_vec(&value).expect("serialise")
}
