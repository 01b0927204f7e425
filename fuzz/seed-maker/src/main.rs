//! Writes `fuzz/seeds/<target>/` from the project's own builders (`cpis_fhir::build`,
//! `cpis_audit::wire`), with plans, people and local authorities shaped like the reference
//! service's synthetic seed data (999-range NHS numbers, `ZL0nn` authorities, Ofcom drama-range
//! phone numbers, invented names). Deterministic: the same code writes the same files.

use std::path::{Path, PathBuf};

use cpis_audit::{AuditAction, GENESIS_HASH, QueuedRecord, RecordedPlan};
use cpis_domain::{
    AccessRecord, Actor, Gender, LocalAuthority, NhsNumber, PatientDemographics, PlanType,
    ProtectionPlan, RoleRef, SocialWorker,
};
use cpis_fhir::SpineErrorCode;
use time::macros::{date, datetime};
use uuid::Uuid;

const TODAY: time::Date = date!(2025 - 06 - 01);
const CSV_HEADER: &str = "nhs_number,plan_type,start_date,end_date,la_ods_code,la_name,office_hours_phone,emergency_duty_phone,social_worker_name,social_worker_phone";

fn nhs(text: &str) -> NhsNumber {
    NhsNumber::parse(text).expect("a valid synthetic NHS number")
}

fn authority(index: u32) -> LocalAuthority {
    LocalAuthority {
        name: format!("Testshire County Council {index} (synthetic)"),
        ods_code: format!("ZL{index:03}"),
        office_hours_phone: format!("01632 960{index:03}"),
        emergency_duty_phone: format!("07700 900{index:03}"),
    }
}

fn plans() -> Vec<ProtectionPlan> {
    vec![
        ProtectionPlan {
            plan_type: PlanType::ChildProtectionPlan,
            start: date!(2025 - 01 - 15),
            end: None,
            local_authority: authority(1),
            social_worker: Some(SocialWorker {
                name: "Sam Test".into(),
                phone: "07700 900101".into(),
            }),
        },
        ProtectionPlan {
            plan_type: PlanType::LookedAfterChild,
            start: date!(2023 - 03 - 01),
            end: Some(date!(2024 - 11 - 30)),
            local_authority: authority(2),
            social_worker: None,
        },
        ProtectionPlan {
            plan_type: PlanType::UnbornChildProtectionPlan,
            start: date!(2025 - 05 - 01),
            end: None,
            local_authority: authority(3),
            social_worker: None,
        },
    ]
}

fn accesses() -> Vec<AccessRecord> {
    vec![
        AccessRecord {
            accessed_at: datetime!(2025 - 05 - 31 17:30:00 UTC),
            viewer_name: "Alex Nurse".into(),
            viewer_role: "Staff Nurse".into(),
            organisation_name: "Synthetic General Hospital".into(),
            organisation_ods: Some("ZH001".into()),
        },
        AccessRecord {
            accessed_at: datetime!(2025 - 04 - 02 09:05:07.25 +01:00),
            viewer_name: "Jo Doctor".into(),
            viewer_role: "Emergency Medicine Consultant".into(),
            organisation_name: "Synthetic Walk-in Centre".into(),
            organisation_ods: Some("ZH002".into()),
        },
    ]
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("serialises")
}

fn with_selector(selector: u8, body: Vec<u8>) -> Vec<u8> {
    let mut bytes = vec![selector];
    bytes.extend(body);
    bytes
}

fn audit_records() -> Vec<QueuedRecord> {
    let device_id = Uuid::from_u128(0x5eed_0000_0000_4000_8000_0000_0000_0001);
    let mut previous_hash = GENESIS_HASH.to_string();
    let outcomes = [
        ("plan_found", AuditAction::View, "9990000018"),
        ("no_plan", AuditAction::View, "9990000026"),
        ("could_not_check", AuditAction::View, "9990000034"),
        (
            "plan_found",
            AuditAction::LocalAuthorityContacted,
            "9990000018",
        ),
    ];
    outcomes
        .iter()
        .enumerate()
        .map(|(index, (outcome, action, patient))| {
            let number = u64::try_from(index).expect("small") + 1;
            let mut record = QueuedRecord {
                event_id: Uuid::from_u128(
                    0x5eed_0000_0000_4000_8000_0000_0001_0000 + u128::from(number),
                ),
                device_id,
                sequence: number,
                occurred_at: datetime!(2025 - 05 - 31 17:30:00 UTC)
                    + time::Duration::minutes(i64::try_from(number).expect("small")),
                action: *action,
                actor: Actor {
                    user_id: "555021935107".into(),
                    user_name: "Alex Nurse".into(),
                    role: RoleRef {
                        role_profile_id: "555021936108".into(),
                        role_code: "S0030:G0100:R0570".into(),
                        role_name: "Staff Nurse".into(),
                        organisation_ods: "ZH001".into(),
                        organisation_name: "Synthetic General Hospital".into(),
                    },
                },
                patient_nhs_number: (*patient).into(),
                outcome: (*outcome).into(),
                trace_id: Uuid::from_u128(
                    0x5eed_0000_0000_4000_8000_0000_0002_0000 + u128::from(number),
                ),
                unscheduled: index % 2 == 0,
                detail: if *action == AuditAction::LocalAuthorityContacted {
                    "ZL001".into()
                } else {
                    String::new()
                },
                // Plans recorded: two (one of an unknown type under an authority without an
                // ODS code), none found, and not recorded.
                plans: match index {
                    0 => Some(vec![
                        RecordedPlan::new(
                            Some(PlanType::ChildProtectionPlan),
                            "Testshire County Council 1 (synthetic)",
                            Some("ZL001"),
                        ),
                        RecordedPlan::new(None, "Testshire County Council 2 (synthetic)", None),
                    ]),
                    1 => Some(Vec::new()),
                    _ => None,
                },
                previous_hash: previous_hash.clone(),
                record_hash: String::new(),
            };
            record.record_hash = record.recompute_hash();
            previous_hash = record.record_hash.clone();
            record
        })
        .collect()
}

fn csv_line(nhs_number: &str, plan: &ProtectionPlan, plan_code: &str) -> String {
    let authority = &plan.local_authority;
    let (worker_name, worker_phone) = plan
        .social_worker
        .as_ref()
        .map_or((String::new(), String::new()), |worker| {
            (worker.name.clone(), worker.phone.clone())
        });
    format!(
        "{nhs_number},{plan_code},{},{},{},{},{},{},{worker_name},{worker_phone}",
        cpis_fhir::build::fhir_date(plan.start),
        plan.end
            .map(cpis_fhir::build::fhir_date)
            .unwrap_or_default(),
        authority.ods_code,
        authority.name,
        authority.office_hours_phone,
        authority.emergency_duty_phone,
    )
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../seeds");
    let asked = nhs("9990000018");
    let plans = plans();
    let mut seeds: Vec<(&str, String, Vec<u8>)> = Vec::new();

    // nhs_number: what people type or scan, valid and not.
    for (name, text) in [
        ("wire", "9990000018"),
        ("spaced", "999 000 0018"),
        ("dashed", "999-000-0018"),
        ("padded", "  9434765919\t"),
        ("display", "943 476 5919"),
        ("check-digit-wrong", "9990000017"),
        ("check-digit-ten", "9990000069"),
        ("short", "99900"),
        ("long", "99900000180"),
        ("letters", "999O000018"),
        ("empty", ""),
        ("non-ascii-digits", "٩٩٩٠٠٠٠٠١٨"),
    ] {
        seeds.push(("nhs_number", name.into(), text.into()));
    }

    // cpis_response: C/H/P/O + the body (see the target).
    let care =
        |plans: &[ProtectionPlan]| json(&cpis_fhir::care_team_search_bundle(&asked, plans, TODAY));
    seeds.push((
        "cpis_response",
        "care-team-none".into(),
        with_selector(b'C', care(&[])),
    ));
    seeds.push((
        "cpis_response",
        "care-team-one".into(),
        with_selector(b'C', care(&plans[..1])),
    ));
    seeds.push((
        "cpis_response",
        "care-team-three".into(),
        with_selector(b'C', care(&plans)),
    ));
    seeds.push((
        "cpis_response",
        "care-team-another-patient".into(),
        with_selector(
            b'C',
            json(&cpis_fhir::care_team_search_bundle(
                &nhs("9990000026"),
                &plans[..1],
                TODAY,
            )),
        ),
    ));
    seeds.push((
        "cpis_response",
        "care-team-404-json".into(),
        with_selector(4, care(&[])),
    ));
    seeds.push((
        "cpis_response",
        "history-two".into(),
        with_selector(
            b'H',
            json(&cpis_fhir::access_history_bundle(&asked, &accesses())),
        ),
    ));
    seeds.push((
        "cpis_response",
        "history-none".into(),
        with_selector(b'H', json(&cpis_fhir::access_history_bundle(&asked, &[]))),
    ));
    let notifications: Vec<(String, NhsNumber, AccessRecord)> = accesses()
        .into_iter()
        .zip(["9990000018", "9990000026"])
        .enumerate()
        .map(|(index, (access, number))| {
            (format!("notification-{}", index + 1), nhs(number), access)
        })
        .collect();
    seeds.push((
        "cpis_response",
        "notifications-two".into(),
        with_selector(
            b'N',
            json(&cpis_fhir::access_notification_bundle(&notifications)),
        ),
    ));
    let person = PatientDemographics {
        nhs_number: asked.clone(),
        family_name: "Testerton".into(),
        given_names: vec!["Robin".into(), "Lee".into()],
        date_of_birth: date!(2015 - 02 - 28),
        gender: Gender::Female,
    };
    seeds.push((
        "cpis_response",
        "patient".into(),
        with_selector(b'P', json(&cpis_fhir::patient(&person))),
    ));
    for (name, code, diagnostics) in [
        ("outcome-not-found", SpineErrorCode::ResourceNotFound, None),
        (
            "outcome-invalid-id",
            SpineErrorCode::InvalidResourceId,
            Some("Invalid NHS number"),
        ),
        ("outcome-server-error", SpineErrorCode::ServerError, None),
    ] {
        let body = json(&cpis_fhir::operation_outcome(&code, diagnostics));
        seeds.push((
            "cpis_response",
            name.into(),
            with_selector(b'O', body.clone()),
        ));
        // The same OperationOutcome as a CareTeam answer with an error status.
        seeds.push((
            "cpis_response",
            format!("{name}-as-care-team-404"),
            with_selector(4, body),
        ));
    }

    // audit_batch: batches the app sends, and the central log's answers.
    let records = audit_records();
    seeds.push((
        "audit_batch",
        "batch-one".into(),
        json(&cpis_audit::wire::to_batch_bundle(&records[..1])),
    ));
    seeds.push((
        "audit_batch",
        "batch-four".into(),
        json(&cpis_audit::wire::to_batch_bundle(&records)),
    ));
    seeds.push((
        "audit_batch",
        "batch-empty".into(),
        json(&cpis_audit::wire::to_batch_bundle(&[])),
    ));
    seeds.push((
        "audit_batch",
        "single-event".into(),
        cpis_audit::wire::audit_event_json(&records[1]),
    ));
    seeds.push((
        "audit_batch",
        "batch-response".into(),
        json(&cpis_audit::wire::to_batch_response(&[
            "201 Created".into(),
            "200 OK".into(),
            "422 Unprocessable Entity".into(),
        ])),
    ));

    // la_upload_fhir: uploads as a local authority sends them, and a record the service refuses.
    let records: Vec<(NhsNumber, ProtectionPlan)> = plans
        .iter()
        .zip(["9990000018", "9990000026", "9990000034"])
        .map(|(plan, number)| (nhs(number), plan.clone()))
        .collect();
    seeds.push((
        "la_upload_fhir",
        "upload-one".into(),
        json(&cpis_fhir::upload_bundle(&records[..1], TODAY)),
    ));
    seeds.push((
        "la_upload_fhir",
        "upload-three".into(),
        json(&cpis_fhir::upload_bundle(&records, TODAY)),
    ));
    let mut ends_before_start = records[1].clone();
    ends_before_start.1.end = Some(date!(2020 - 01 - 01));
    seeds.push((
        "la_upload_fhir",
        "upload-date-order".into(),
        json(&cpis_fhir::upload_bundle(&[ends_before_start], TODAY)),
    ));

    // la_upload_csv: the same plans as CSV, by short code and by SNOMED CT code, and bad rows.
    let mut csv = format!("{CSV_HEADER}\n");
    for (nhs_number, plan) in &records {
        csv.push_str(&csv_line(
            nhs_number.as_str(),
            plan,
            plan.plan_type.short_code(),
        ));
        csv.push('\n');
    }
    seeds.push(("la_upload_csv", "upload-three".into(), csv.into_bytes()));
    let mut csv = format!("{CSV_HEADER}\r\n");
    csv.push_str(&csv_line(
        "9990000018",
        &plans[1],
        plans[1].plan_type.snomed_code(),
    ));
    csv.push_str("\r\n");
    seeds.push((
        "la_upload_csv",
        "upload-snomed-crlf".into(),
        csv.into_bytes(),
    ));
    seeds.push((
        "la_upload_csv",
        "upload-bad-rows".into(),
        format!(
            "{CSV_HEADER}\n\
9990000019,CPP,2025-01-01,,ZL001,Testshire Council,01632 960001,07700 900001,,\n\
9990000018,XYZ,2025-01-01,,ZL001,Testshire Council,01632 960001,07700 900001,,\n\
9990000018,LAC,2025-01-01,2024-01-01,ZL001,Testshire Council,01632 960001,07700 900001,,\n\
9990000018,LAC,2025-13-01,,ZL001,Testshire Council,01632 960001,07700 900001,,\n\
9990000018,LAC,2025-01-01,,ZL001,Testshire Council,01632 960001,07700 900001,Sam Test,\n\
\"9990000018\",\"UCPP\",\"2025-01-01\",,\"ZL001\",\"Testshire, Council\",01632 960001,07700 900001,,\n\
9990000018,LAC\n"
        )
        .into_bytes(),
    ));
    seeds.push((
        "la_upload_csv",
        "wrong-header".into(),
        b"nhs,type\n9990000018,CPP\n".to_vec(),
    ));

    for (target, name, bytes) in seeds {
        write(&root.join(target), &name, &bytes);
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("seed folder");
    std::fs::write(dir.join(name), bytes).expect("seed written");
}
