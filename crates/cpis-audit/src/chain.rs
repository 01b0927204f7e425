//! The hash chain: a canonical byte encoding of an audit record and the SHA-256 that links it
//! to the record before it. Shared by the local queue and the central audit log, which must
//! agree on it byte for byte.

use cpis_domain::{Actor, RoleRef};
use sha2::{Digest, Sha256};

use crate::plan::RecordedPlan;

/// The `previous_hash` of a device's first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Tag that starts the canonical encoding of a record without recorded plans (every record
/// written before plans were recorded, and follow-ups): its bytes never change.
const ENCODING_VERSION: &str = "cpis-audit-record-v1";
/// Tag that starts the canonical encoding of a record with its plans recorded: the v1 fields,
/// then the plans.
const ENCODING_VERSION_WITH_PLANS: &str = "cpis-audit-record-v2";

/// The fields of a record that the chain covers, in their stored text forms.
#[derive(Clone, Copy)]
pub struct CanonicalRecord<'a> {
    /// UUID of the event.
    pub event_id: &'a str,
    /// UUID of the device.
    pub device_id: &'a str,
    /// Per-device sequence number, from 1.
    pub sequence: u64,
    /// RFC 3339 time of the view.
    pub occurred_at: &'a str,
    /// `view` or `la_contacted`.
    pub action: &'a str,
    /// Who: the user and their role, encoded as [`actor_texts`] orders them.
    pub actor: &'a Actor,
    /// The ten-digit NHS number viewed.
    pub patient_nhs_number: &'a str,
    /// Outcome code (`plan_found`, `no_plan`, `could_not_check`, ...).
    pub outcome: &'a str,
    /// The TraceID sent with the lookup.
    pub trace_id: &'a str,
    /// Whether this was an unscheduled-care access.
    pub unscheduled: bool,
    /// Action detail (for `la_contacted`: how and when), or empty.
    pub detail: &'a str,
    /// The plans a view found, when recorded.
    pub plans: Option<&'a [RecordedPlan]>,
}

impl std::fmt::Debug for CanonicalRecord<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CanonicalRecord")
            .field("event_id", &self.event_id)
            .field("device_id", &self.device_id)
            .field("sequence", &self.sequence)
            .finish_non_exhaustive()
    }
}

impl CanonicalRecord<'_> {
    /// The canonical encoding: a version tag, then each field as a 4-byte big-endian length
    /// followed by its UTF-8 bytes, in a fixed order. Unambiguous whatever the field values.
    /// Without recorded plans this is the v1 encoding, byte for byte, so every record written
    /// before plans were recorded keeps its hash; with them, the v2 tag and, after the v1
    /// fields, the number of plans and each plan's type code (empty when not known), local
    /// authority and ODS code (empty when not given).
    pub fn encode(&self) -> Vec<u8> {
        let sequence = self.sequence.to_string();
        let unscheduled = if self.unscheduled { "true" } else { "false" };
        let version = match self.plans {
            None => ENCODING_VERSION,
            Some(_) => ENCODING_VERSION_WITH_PLANS,
        };
        let head = [
            version,
            self.event_id,
            self.device_id,
            &sequence,
            self.occurred_at,
            self.action,
        ];
        let tail = [
            self.patient_nhs_number,
            self.outcome,
            self.trace_id,
            unscheduled,
            self.detail,
        ];
        let plan_count = self.plans.map(|plans| plans.len().to_string());
        let plans = plan_count.as_deref().into_iter().chain(
            self.plans.unwrap_or_default().iter().flat_map(|plan| {
                [
                    plan.plan_type_code(),
                    plan.local_authority.as_str(),
                    plan.local_authority_ods.as_deref().unwrap_or_default(),
                ]
            }),
        );
        let fields = head
            .into_iter()
            .chain(actor_texts(self.actor))
            .chain(tail)
            .chain(plans);
        let mut out = Vec::new();
        for field in fields {
            let length = u32::try_from(field.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&length.to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }
}

/// The actor's texts in the order the chain encodes them and the queue stores them: user id,
/// user name, role profile id, role code, role name, organisation ODS code, organisation name.
/// The inverse of [`actor_from_texts`].
pub fn actor_texts(actor: &Actor) -> [&str; 7] {
    let Actor {
        user_id,
        user_name,
        role:
            RoleRef {
                role_profile_id,
                role_code,
                role_name,
                organisation_ods,
                organisation_name,
            },
    } = actor;
    [
        user_id,
        user_name,
        role_profile_id,
        role_code,
        role_name,
        organisation_ods,
        organisation_name,
    ]
}

/// The actor named by texts in [`actor_texts`]'s order.
pub fn actor_from_texts(texts: [String; 7]) -> Actor {
    let [
        user_id,
        user_name,
        role_profile_id,
        role_code,
        role_name,
        organisation_ods,
        organisation_name,
    ] = texts;
    Actor {
        user_id,
        user_name,
        role: RoleRef {
            role_profile_id,
            role_code,
            role_name,
            organisation_ods,
            organisation_name,
        },
    }
}

/// The record's hash: lowercase hex SHA-256 of the previous record's hash (hex text) followed
/// by the record's canonical encoding.
pub fn record_hash(previous_hash: &str, record: &CanonicalRecord<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous_hash.as_bytes());
    hasher.update(record.encode());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nurse() -> Actor {
        actor_from_texts(
            [
                "user-1",
                "Test Nurse",
                "555021935107",
                "R8000",
                "Clinical Practitioner",
                "Z9X1Y",
                "Testshire Hospital",
            ]
            .map(String::from),
        )
    }

    fn sample(actor: &Actor) -> CanonicalRecord<'_> {
        CanonicalRecord {
            event_id: "8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11",
            device_id: "0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b",
            sequence: 1,
            occurred_at: "2026-11-25T10:00:00Z",
            action: "view",
            actor,
            patient_nhs_number: "9990000018",
            outcome: "no_plan",
            trace_id: "3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
            unscheduled: true,
            detail: "",
            plans: None,
        }
    }

    #[test]
    fn hash_is_stable_and_covers_every_field() {
        let nurse = nurse();
        let sample = || sample(&nurse);
        let base = record_hash(GENESIS_HASH, &sample());
        assert_eq!(base, record_hash(GENESIS_HASH, &sample()));
        assert_eq!(base.len(), 64);
        let mut changed = sample();
        changed.patient_nhs_number = "9990000026";
        assert_ne!(base, record_hash(GENESIS_HASH, &changed));
        let mut changed = sample();
        changed.sequence = 2;
        assert_ne!(base, record_hash(GENESIS_HASH, &changed));
        let mut changed = sample();
        changed.unscheduled = false;
        assert_ne!(base, record_hash(GENESIS_HASH, &changed));
        assert_ne!(base, record_hash(&base, &sample()));
    }

    #[test]
    fn the_actor_is_encoded_in_the_stored_column_order() {
        let nurse = nurse();
        let encoded = sample(&nurse).encode();
        let mut expected = Vec::new();
        for field in [
            "cpis-audit-record-v1",
            "8d0b6a3e-5f7c-4a51-9d0e-2b9a3c1f0a11",
            "0f4c2a7e-1b3d-4e5f-8a9b-0c1d2e3f4a5b",
            "1",
            "2026-11-25T10:00:00Z",
            "view",
            "user-1",
            "Test Nurse",
            "555021935107",
            "R8000",
            "Clinical Practitioner",
            "Z9X1Y",
            "Testshire Hospital",
            "9990000018",
            "no_plan",
            "3c2f1e0d-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
            "true",
            "",
        ] {
            expected.extend_from_slice(&u32::try_from(field.len()).expect("short").to_be_bytes());
            expected.extend_from_slice(field.as_bytes());
        }
        assert_eq!(encoded, expected);
        assert_eq!(
            actor_from_texts(actor_texts(&nurse).map(String::from)),
            nurse
        );
        let mut elsewhere = nurse.clone();
        elsewhere.role.organisation_name = "Elsewhere Hospital".into();
        assert_ne!(sample(&elsewhere).encode(), encoded);
    }

    #[test]
    fn recorded_plans_change_the_tag_and_follow_the_v1_fields() {
        let nurse = nurse();
        let without = sample(&nurse).encode();
        let plans = [
            RecordedPlan::new(
                Some(cpis_domain::PlanType::ChildProtectionPlan),
                "Testshire County Council",
                Some("Z9L01"),
            ),
            RecordedPlan::new(None, "Elsewhere Council", None),
        ];
        let with = CanonicalRecord {
            plans: Some(&plans),
            ..sample(&nurse)
        }
        .encode();
        let v1_tag = 4 + "cpis-audit-record-v1".len();
        let mut expected = Vec::new();
        expected.extend_from_slice(&20u32.to_be_bytes());
        expected.extend_from_slice(b"cpis-audit-record-v2");
        expected.extend_from_slice(&without[v1_tag..]);
        for field in [
            "2",
            "342191000000101",
            "Testshire County Council",
            "Z9L01",
            "",
            "Elsewhere Council",
            "",
        ] {
            expected.extend_from_slice(&u32::try_from(field.len()).expect("short").to_be_bytes());
            expected.extend_from_slice(field.as_bytes());
        }
        assert_eq!(with, expected);
        let none_found = CanonicalRecord {
            plans: Some(&[]),
            ..sample(&nurse)
        };
        assert_ne!(
            none_found.encode(),
            without,
            "no plans found is not 'not recorded'"
        );
        let mut other = plans.clone();
        other[0].local_authority = "Testshire Council".into();
        assert_ne!(
            record_hash(
                GENESIS_HASH,
                &CanonicalRecord {
                    plans: Some(&other),
                    ..sample(&nurse)
                }
            ),
            record_hash(
                GENESIS_HASH,
                &CanonicalRecord {
                    plans: Some(&plans),
                    ..sample(&nurse)
                }
            )
        );
    }

    #[test]
    fn encoding_is_unambiguous_when_text_moves_between_fields() {
        let mut first = nurse();
        first.user_id = "ab".into();
        first.user_name = "c".into();
        let mut second = nurse();
        second.user_id = "a".into();
        second.user_name = "bc".into();
        assert_ne!(sample(&first).encode(), sample(&second).encode());
    }
}
