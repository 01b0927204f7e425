//! The inactivity lock's rule, one for the desktop app and `cpis`: a session whose clinician
//! has done nothing for `lock_minutes` is locked, whether the app stayed open, was closed and
//! opened again, crashed, or showed its error screen.
//!
//! The clinician's last activity is kept with the session: in memory by the running app, and in
//! the OS keyring beside the session ([`crate::KeyringTokenStore::record_activity`]), so it
//! survives a restart and a crash. It is a small entry of its own, not part of the session's
//! JSON: the session is several chunks that the app rewrites on every token refresh, and a
//! refresh is not activity. The app writes it at most once every [`PERSIST_EVERY`] (and at
//! sign-in); `cpis` writes it for each deliberate command that counts as activity. Because the
//! written time may lag the real last activity by up to [`PERSIST_EVERY`], a session restored
//! after a crash, or checked by `cpis`, locks up to that much early, never late.
//!
//! What counts as activity is the caller's business: a command the clinician triggers (a
//! lookup, recording LA contact, the review) and input in the window (reported by the UI's
//! timer, rate-limited); never background work (the status bar's refresh, the audit sync, a
//! token refresh) and never starting the app or reading who is signed in.

use time::{Duration, OffsetDateTime};

use crate::identity::Session;

/// The app writes the last activity to the keyring at most this often.
pub const PERSIST_EVERY: Duration = Duration::minutes(1);

/// A last activity this far or further in the future means the clock went back: how long the
/// session was left cannot be told, so it is locked (the safe way to be wrong).
pub const CLOCK_WENT_BACK: Duration = Duration::minutes(2);

/// Whether a session may still be used at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idleness {
    /// Used within the limit: it locks at `locks_at` unless used again before.
    Active {
        /// When it locks without further activity.
        locks_at: OffsetDateTime,
    },
    /// Nobody used it for the limit or longer (exactly at the limit included), or the clock
    /// went back past [`CLOCK_WENT_BACK`]: locked.
    PastLimit,
}

/// When the clinician last did something in `session`: the later of the sign-in (signing in
/// is activity) and the activity recorded for this session. A missing, unreadable or other
/// session's record counts as none.
pub fn last_activity(session: &Session, recorded: Option<OffsetDateTime>) -> OffsetDateTime {
    recorded.map_or(session.signed_in_at, |recorded| {
        recorded.max(session.signed_in_at)
    })
}

/// Whether a session last used at `last_activity` is past the limit `lock_after` at `now`.
pub fn idleness(
    last_activity: OffsetDateTime,
    now: OffsetDateTime,
    lock_after: std::time::Duration,
) -> Idleness {
    let limit = Duration::try_from(lock_after).unwrap_or(Duration::MAX);
    if last_activity - now >= CLOCK_WENT_BACK {
        return Idleness::PastLimit;
    }
    if now - last_activity >= limit {
        return Idleness::PastLimit;
    }
    Idleness::Active {
        locks_at: last_activity.saturating_add(limit),
    }
}

/// The limit in whole minutes, for messages ("idle for 15 minutes").
pub fn limit_minutes(lock_after: std::time::Duration) -> u64 {
    (lock_after.as_secs() / 60).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const FIFTEEN_MINUTES: std::time::Duration = std::time::Duration::from_secs(15 * 60);

    #[test]
    fn a_session_locks_exactly_at_the_limit_and_not_a_second_before() {
        let last = datetime!(2026-11-25 09:00 UTC);
        assert_eq!(
            idleness(last, last + Duration::minutes(15), FIFTEEN_MINUTES),
            Idleness::PastLimit,
            "exactly at the limit is locked, as the UI's timer locks"
        );
        assert_eq!(
            idleness(
                last,
                last + Duration::minutes(15) - Duration::SECOND,
                FIFTEEN_MINUTES
            ),
            Idleness::Active {
                locks_at: datetime!(2026-11-25 09:15 UTC)
            }
        );
        assert_eq!(
            idleness(last, last + Duration::hours(3), FIFTEEN_MINUTES),
            Idleness::PastLimit
        );
        assert_eq!(
            idleness(last, last, FIFTEEN_MINUTES),
            Idleness::Active {
                locks_at: datetime!(2026-11-25 09:15 UTC)
            }
        );
    }

    #[test]
    fn a_clock_that_went_back_locks_and_a_small_step_back_does_not() {
        let last = datetime!(2026-11-25 09:00 UTC);
        // An hour back (a wrong clock corrected): how long it was left is unknown.
        assert_eq!(
            idleness(last, last - Duration::hours(1), FIFTEEN_MINUTES),
            Idleness::PastLimit
        );
        assert_eq!(
            idleness(last, last - CLOCK_WENT_BACK, FIFTEEN_MINUTES),
            Idleness::PastLimit
        );
        // A few seconds back (the clock stepped by the time service): still in use.
        assert!(matches!(
            idleness(last, last - Duration::seconds(5), FIFTEEN_MINUTES),
            Idleness::Active { .. }
        ));
    }

    #[test]
    fn the_last_activity_is_the_later_of_the_sign_in_and_the_record() {
        let session = Session {
            user: crate::identity::SignedInUser {
                subject: "900000000001".into(),
                name: "Tess Triage-Test".into(),
                selected_roleid: None,
                roles: Vec::new(),
                organisations: Vec::new(),
            },
            tokens: crate::identity::Tokens {
                access_token: crate::Secret::new("a"),
                access_token_expires_at: None,
                session_handle: crate::Secret::new("h"),
            },
            assurance_level: None,
            signed_in_at: datetime!(2026-11-25 08:00 UTC),
        };
        assert_eq!(
            last_activity(&session, None),
            datetime!(2026-11-25 08:00 UTC),
            "no record: signing in was the last activity"
        );
        assert_eq!(
            last_activity(&session, Some(datetime!(2026-11-25 08:40 UTC))),
            datetime!(2026-11-25 08:40 UTC)
        );
        assert_eq!(
            last_activity(&session, Some(datetime!(2026-11-25 07:00 UTC))),
            datetime!(2026-11-25 08:00 UTC),
            "a record older than the sign-in is another session's"
        );
    }

    #[test]
    fn the_limit_reads_in_whole_minutes() {
        assert_eq!(limit_minutes(FIFTEEN_MINUTES), 15);
        assert_eq!(limit_minutes(std::time::Duration::from_secs(30)), 1);
    }
}
