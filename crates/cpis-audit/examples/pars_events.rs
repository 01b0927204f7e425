//! Writes one AuditEvent JSON file per shape our events take, for the PARS profile check
//! (`tools/fhir-validate/pars.py`): every client action, every outcome class, no plans / no
//! plan found / two plans (one of an unknown type under an authority without an ODS code), a
//! record without a role or outcome, and one server read event per [`ReadInteraction`].
//!
//! `cargo run -q -p cpis-audit --example pars_events -- <out-dir>`

use std::path::PathBuf;

use cpis_audit::wire::audit_event_json;
use cpis_audit::{AuditAction, GENESIS_HASH, QueuedRecord, RecordedPlan};
use cpis_domain::{Actor, PlanType, RoleRef};
use cpis_fhir::audit_event::{ReadEvent, ReadInteraction, read_event};
use time::macros::datetime;
use uuid::Uuid;

fn actor() -> Actor {
    Actor {
        user_id: "900000000001".into(),
        user_name: "Tess Triage-Test".into(),
        role: RoleRef {
            role_profile_id: "555021935107".into(),
            role_code: "R8001".into(),
            role_name: "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"".into(),
            organisation_ods: "ZZ1ED".into(),
            organisation_name: "Northshire General Hospital".into(),
        },
    }
}

fn record(
    number: u128,
    action: AuditAction,
    outcome: &str,
    plans: Option<Vec<RecordedPlan>>,
) -> QueuedRecord {
    let mut record = QueuedRecord {
        event_id: Uuid::from_u128(0x8d0b_6a3e_5f7c_4a51_9d0e_2b9a_3c1f_0000 + number),
        device_id: Uuid::from_u128(0x0f4c_2a7e_1b3d_4e5f_8a9b_0c1d_2e3f_4a5b),
        sequence: u64::try_from(number).unwrap_or(1),
        occurred_at: datetime!(2026-11-25 10:00:00.123456 UTC),
        action,
        actor: actor(),
        patient_nhs_number: "9990000018".into(),
        outcome: outcome.into(),
        trace_id: Uuid::from_u128(0x3c2f_1e0d_4b5a_4c6d_8e7f_9a0b_1c2d_0000 + number),
        unscheduled: action == AuditAction::View,
        detail: match (action, outcome) {
            (AuditAction::LocalAuthorityContacted, _) => "method=phone".into(),
            (_, "could_not_check") => "reason=timeout".into(),
            _ => String::new(),
        },
        plans,
        previous_hash: GENESIS_HASH.into(),
        record_hash: String::new(),
    };
    record.record_hash = record.recompute_hash();
    record
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args_os()
            .nth(1)
            .ok_or("usage: pars_events <out-dir>")?,
    );
    std::fs::create_dir_all(&out)?;
    let two_plans = vec![
        RecordedPlan::new(
            Some(PlanType::ChildProtectionPlan),
            "Testshire County Council",
            Some("Z9L01"),
        ),
        RecordedPlan::new(None, "Elsewhere Borough Council", None),
    ];
    let mut client = vec![
        (
            "view-plan-found-no-plans",
            record(1, AuditAction::View, "plan_found", None),
        ),
        (
            "view-plan-found-two-plans",
            record(2, AuditAction::View, "plan_found", Some(two_plans)),
        ),
        (
            "view-no-plan-empty-plans",
            record(3, AuditAction::View, "no_plan", Some(Vec::new())),
        ),
        (
            "view-could-not-check",
            record(4, AuditAction::View, "could_not_check", None),
        ),
        (
            "view-sensitive-record",
            record(5, AuditAction::View, "sensitive_record", None),
        ),
        (
            "la-contacted",
            record(6, AuditAction::LocalAuthorityContacted, "plan_found", None),
        ),
    ];
    let mut no_role = record(7, AuditAction::View, "no_plan", Some(Vec::new()));
    no_role.actor.role = RoleRef::default();
    no_role.outcome = String::new();
    no_role.record_hash = no_role.recompute_hash();
    client.push(("view-no-role", no_role));
    for (name, record) in &client {
        std::fs::write(
            out.join(format!("client-{name}.json")),
            audit_event_json(record),
        )?;
    }
    let actor = actor();
    for (index, interaction) in ReadInteraction::ALL.into_iter().enumerate() {
        let name = match interaction {
            ReadInteraction::PdsRead => "pds-read",
            ReadInteraction::CareTeamSearch { silent: false } => "care-team-search",
            ReadInteraction::CareTeamSearch { silent: true } => "care-team-search-silent",
            ReadInteraction::AccessHistorySearch => "access-history-search",
            ReadInteraction::ReviewSearch => "review-search",
        };
        let event = read_event(&ReadEvent {
            event_id: Uuid::from_u128(0x5e7e_0000_0000_4000_8000_0000_0000_0000 + index as u128),
            recorded: datetime!(2026-11-25 10:00:01 UTC),
            actor: &actor,
            nhs_number: "9990000018",
            request_id: "3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
            interaction,
            outcome_ok: index % 2 == 0,
            service_url: "https://cpis-service.example/",
        });
        std::fs::write(
            out.join(format!("server-{name}.json")),
            serde_json::to_vec(&event)?,
        )?;
    }
    Ok(())
}
