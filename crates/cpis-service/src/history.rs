//! The access history and its notifications: which stored accesses a record's history shows,
//! when an access is unscheduled, and recording an unscheduled access with an Access to Service
//! Notification for each local authority whose plan was shown.

use std::collections::{BTreeSet, HashMap};

use cpis_domain::{ACTIVITY_VIEW_AND_NOTIFY, NhsNumber, ProtectionPlan};
use time::{Duration, OffsetDateTime};

use crate::auth::Principal;
use crate::metrics::Metrics;
use crate::store::{NewAccess, Store, StoredAccess};

/// How many accesses the history shows.
pub const HISTORY_LENGTH: usize = 25;
/// Within this window, the same viewer is kept once (the first access).
pub const SAME_VIEWER_WINDOW: Duration = Duration::hours(24);

/// Whether this access is unscheduled (records an access and notifies the local authority):
/// the `IsUnscheduledAccessEvent` header is true (the default) and the selected role has
/// `B0107`. A `B0170`-only role, or the header false, is a silent read.
pub fn is_unscheduled(header_unscheduled: bool, principal: &Principal) -> bool {
    header_unscheduled && principal.has_activity(ACTIVITY_VIEW_AND_NOTIFY)
}

/// The access to record when `principal` is shown `plans` (those visible today) of
/// `nhs_number`: `None` unless there are plans and the access [`is_unscheduled`] (which needs a
/// selected role with `B0107`); else one access notifying each plan's local authority once.
pub fn unscheduled_access(
    principal: &Principal,
    header_unscheduled: bool,
    nhs_number: &NhsNumber,
    plans: &[ProtectionPlan],
    trace_id: String,
    now: OffsetDateTime,
) -> Option<NewAccess> {
    if plans.is_empty() || !is_unscheduled(header_unscheduled, principal) {
        return None;
    }
    let notify: BTreeSet<String> = plans
        .iter()
        .map(|plan| plan.local_authority.ods_code.clone())
        .collect();
    Some(NewAccess {
        nhs_number: nhs_number.clone(),
        accessed_at: now,
        actor: principal.actor.clone(),
        trace_id,
        notify: notify.into_iter().collect(),
    })
}

/// Record `access` and its notifications. The alert matters more than the notification: a
/// failed write is logged and counted, never returned, so the plans are still shown.
pub async fn record_access(store: &Store, metrics: &Metrics, access: &NewAccess) {
    match store.record_access(access).await {
        Ok(()) => metrics.notifications_recorded(access.notify.len()),
        Err(error) => {
            tracing::error!(%error, "could not record an access and its notifications");
            metrics.notification_failure();
        }
    }
}

/// The history to show, newest first, at most [`HISTORY_LENGTH`]: from `accesses` (any order),
/// the same viewer (`user_id`) within [`SAME_VIEWER_WINDOW`] of their last kept access is kept
/// once, the first; and `current_user`'s latest kept access is always included.
pub fn access_history(mut accesses: Vec<StoredAccess>, current_user: &str) -> Vec<StoredAccess> {
    accesses.sort_by_key(|access| access.record.accessed_at);
    let mut last_kept: HashMap<&str, time::OffsetDateTime> = HashMap::new();
    let mut kept: Vec<&StoredAccess> = Vec::new();
    for access in &accesses {
        let at = access.record.accessed_at;
        let repeat = last_kept
            .get(access.user_id.as_str())
            .is_some_and(|previous| at - *previous < SAME_VIEWER_WINDOW);
        if !repeat {
            last_kept.insert(access.user_id.as_str(), at);
            kept.push(access);
        }
    }
    kept.reverse();
    let current_latest = kept
        .iter()
        .position(|access| access.user_id == current_user);
    let mut shown: Vec<&StoredAccess> = kept.iter().take(HISTORY_LENGTH).copied().collect();
    if let Some(position) = current_latest
        && position >= HISTORY_LENGTH
        && let Some(last) = shown.last_mut()
    {
        *last = kept[position];
    }
    shown.into_iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpis_domain::AccessRecord;
    use time::macros::datetime;

    fn access(user: &str, hours_ago: i64) -> StoredAccess {
        StoredAccess {
            user_id: user.into(),
            record: AccessRecord {
                accessed_at: datetime!(2026-11-25 12:00 UTC) - Duration::hours(hours_ago),
                viewer_name: format!("Viewer {user}"),
                viewer_role: "Nurse".into(),
                organisation_name: "Testshire Hospital".into(),
                organisation_ods: Some("ZZ1ED".into()),
            },
            role_profile_id: format!("role-{user}"),
            trace_id: "00000000-0000-4000-8000-000000000000".into(),
        }
    }

    fn users_and_hours(history: &[StoredAccess]) -> Vec<(String, i64)> {
        history
            .iter()
            .map(|access| &access.record)
            .map(|record| {
                (
                    record.viewer_name.trim_start_matches("Viewer ").to_owned(),
                    (datetime!(2026-11-25 12:00 UTC) - record.accessed_at).whole_hours(),
                )
            })
            .collect()
    }

    #[test]
    fn newest_first_and_same_viewer_within_24_hours_kept_once_the_first() {
        let history = access_history(
            vec![
                access("a", 1),
                access("a", 5),
                access("b", 3),
                access("a", 30),
            ],
            "b",
        );
        assert_eq!(
            users_and_hours(&history),
            [("b".into(), 3), ("a".into(), 5), ("a".into(), 30)]
        );
    }

    #[test]
    fn exactly_24_hours_later_counts_again() {
        let history = access_history(vec![access("a", 0), access("a", 24)], "a");
        assert_eq!(
            users_and_hours(&history),
            [("a".into(), 0), ("a".into(), 24)]
        );
    }

    #[test]
    fn at_most_25_and_current_viewer_always_included() {
        let mut accesses: Vec<StoredAccess> = (0..40)
            .map(|hour| access(&format!("u{hour}"), hour))
            .collect();
        accesses.push(access("me", 100));
        let history = access_history(accesses.clone(), "me");
        assert_eq!(history.len(), HISTORY_LENGTH);
        assert_eq!(users_and_hours(&history)[24], ("me".into(), 100));
        assert_eq!(users_and_hours(&history)[23], ("u23".into(), 23));
        let without_me = access_history(accesses, "someone-else");
        assert_eq!(users_and_hours(&without_me)[24], ("u24".into(), 24));
    }

    #[test]
    fn empty_history_is_empty() {
        assert!(access_history(Vec::new(), "me").is_empty());
    }

    fn principal(activities: &[&str]) -> Principal {
        Principal {
            actor: cpis_domain::Actor {
                user_id: "nurse-1".into(),
                user_name: "Tess Triage-Test".into(),
                role: cpis_domain::RoleRef {
                    role_profile_id: "role-1".into(),
                    role_code: "R8000".into(),
                    role_name: "Nurse Access Role".into(),
                    organisation_ods: "ZZ1ED".into(),
                    organisation_name: "Testshire Hospital".into(),
                },
            },
            activity_codes: activities.iter().map(|code| (*code).to_owned()).collect(),
        }
    }

    fn plan(ods: &str) -> ProtectionPlan {
        ProtectionPlan {
            plan_type: cpis_domain::PlanType::ChildProtectionPlan,
            start: time::macros::date!(2026 - 01 - 01),
            end: None,
            local_authority: cpis_domain::LocalAuthority {
                name: format!("{ods} Council"),
                ods_code: ods.into(),
                office_hours_phone: "01632 960000".into(),
                emergency_duty_phone: "07700 900000".into(),
            },
            social_worker: None,
        }
    }

    #[test]
    fn an_unscheduled_access_notifies_each_authority_once() {
        let nhs_number = NhsNumber::parse("9990000018").expect("valid");
        let plans = [plan("ZL002"), plan("ZL001"), plan("ZL002")];
        let now = datetime!(2026-11-25 12:00 UTC);
        let access = unscheduled_access(
            &principal(&[ACTIVITY_VIEW_AND_NOTIFY]),
            true,
            &nhs_number,
            &plans,
            "trace".into(),
            now,
        )
        .expect("an access to record");
        assert_eq!(access.notify, ["ZL001", "ZL002"]);
        assert_eq!(access.actor, principal(&[]).actor);
        assert_eq!(access.accessed_at, now);
    }

    #[test]
    fn silent_reads_empty_results_and_roles_without_b0107_record_nothing() {
        let nhs_number = NhsNumber::parse("9990000018").expect("valid");
        let plans = [plan("ZL001")];
        let now = datetime!(2026-11-25 12:00 UTC);
        let record = |activities: &[&str], header: bool, plans: &[ProtectionPlan]| {
            unscheduled_access(
                &principal(activities),
                header,
                &nhs_number,
                plans,
                "trace".into(),
                now,
            )
        };
        assert!(record(&[ACTIVITY_VIEW_AND_NOTIFY], false, &plans).is_none());
        assert!(record(&[ACTIVITY_VIEW_AND_NOTIFY], true, &[]).is_none());
        assert!(record(&[cpis_domain::ACTIVITY_VIEW_SILENTLY], true, &plans).is_none());
        assert!(record(&[], true, &plans).is_none());
    }
}
