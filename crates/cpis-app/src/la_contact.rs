//! The LA contact follow-up: after a lookup that found plans, the clinician records how and when
//! the local authority was contacted, audited like a view. [`LaContactDetail`] is the one place
//! its stored form (the audit record's `detail`) is written and read.

use cpis_audit::{AuditAction, NewAuditEntry};
use cpis_domain::uk_time::{UkLocalTime, uk_local, uk_local_time};
use cpis_ipc::{ContactMethod, IpcError, IpcErrorCode, LaContactRequest, display_date_time};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppCore;

/// How and when the local authority was contacted, as the audit record's `detail` stores it:
/// `method=phone_emergency_duty_team;contacted_at=2026-11-25T14:30:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaContactDetail {
    /// How.
    pub method: ContactMethod,
    /// When (UTC).
    pub contacted_at: OffsetDateTime,
}

impl LaContactDetail {
    /// The stored form.
    pub fn to_detail(&self) -> String {
        format!(
            "method={};contacted_at={}",
            self.method.code(),
            self.contacted_at.format(&Rfc3339).unwrap_or_default()
        )
    }

    /// Read a stored detail back; `None` unless it names a known method and an RFC 3339 time.
    pub fn parse(detail: &str) -> Option<LaContactDetail> {
        let mut method = None;
        let mut contacted_at = None;
        for part in detail.split(';') {
            match part.split_once('=') {
                Some(("method", code)) => method = ContactMethod::from_code(code),
                Some(("contacted_at", at)) => {
                    contacted_at = OffsetDateTime::parse(at, &Rfc3339).ok()
                }
                _ => {}
            }
        }
        Some(LaContactDetail {
            method: method?,
            contacted_at: contacted_at?,
        })
    }

    /// In words, with the time on the UK clock: "Phoned the emergency duty team, 25 November
    /// 2026 at 2.30pm".
    pub fn describe(&self) -> String {
        let method = match self.method {
            ContactMethod::PhoneOfficeHours => "Phoned the office-hours number",
            ContactMethod::PhoneEmergencyDutyTeam => "Phoned the emergency duty team",
            ContactMethod::PhoneSocialWorker => "Phoned the social worker",
            ContactMethod::SecureEmail => "Secure email",
        };
        format!("{method}, {}", display_date_time(self.contacted_at))
    }
}

impl AppCore {
    /// Record that the local authority was contacted after a lookup that found plans. It is
    /// audited like a view.
    pub fn record_la_contact(&self, request: &LaContactRequest) -> Result<(), IpcError> {
        let context = self
            .lookups
            .lock()
            .ok()
            .and_then(|lookups| lookups.get(&request.lookup_id).cloned())
            .ok_or_else(|| IpcError::new(IpcErrorCode::UnknownLookup))?;
        let now = OffsetDateTime::now_utc();
        let contacted_at = match request.contacted_at.as_deref() {
            None | Some("") => now,
            Some(text) => parse_today_time(text, now)
                .ok_or_else(|| IpcError::new(IpcErrorCode::InvalidTime))?,
        };
        let mut entry = NewAuditEntry::new(
            now,
            AuditAction::LocalAuthorityContacted,
            context.user.actor(),
            context.nhs_number.clone(),
            context.trace_id,
        );
        entry.outcome = "plan_found".into();
        entry.unscheduled = context.unscheduled;
        entry.detail = LaContactDetail {
            method: request.method,
            contacted_at,
        }
        .to_detail();
        self.sink
            .append(&entry)
            .map_err(|_| IpcError::new(IpcErrorCode::AuditFailed))
    }
}

/// Parse `HH:MM` as a time on the UK clock today (the UK date at `now`), not after `now`. The
/// UK clock is read from the tz rules at `now`, so a time typed after the clocks change is read
/// in the new offset. On the two days the clocks change:
/// - spring: 01:00 to 01:59 never happened on the UK clock, so such a time is refused;
/// - autumn: 01:00 to 01:59 happened twice (BST, then GMT). The later of the two that is not
///   after `now` is taken: the contact has just happened, and a time in the future is refused.
fn parse_today_time(text: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let (hours, minutes) = text.trim().split_once(':')?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return None;
    }
    let hour: u8 = hours.parse().ok()?;
    let minute: u8 = minutes.parse().ok()?;
    let clock = time::Time::from_hms(hour, minute, 0).ok()?;
    let at = match uk_local_time(uk_local(now).date(), clock) {
        UkLocalTime::Single(at) => at,
        UkLocalTime::Repeated { first, second } => {
            if second <= now {
                second
            } else {
                first
            }
        }
        UkLocalTime::Skipped => return None,
    };
    let at = at.to_offset(time::UtcOffset::UTC);
    (at <= now).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn contact_times_are_today_and_not_in_the_future() {
        let now = datetime!(2026-11-25 15:00 UTC);
        assert_eq!(
            parse_today_time("14:30", now),
            Some(datetime!(2026-11-25 14:30 UTC))
        );
        assert_eq!(parse_today_time("15:01", now), None);
        assert_eq!(parse_today_time("25:00", now), None);
        assert_eq!(parse_today_time("1430", now), None);
        assert_eq!(parse_today_time("ab:cd", now), None);
    }

    #[test]
    fn contact_times_after_the_clocks_change_are_read_on_the_uk_clock() {
        // Summer (BST): at 10.00am UK time (09:00 UTC) a contact at 9.45am was 15 minutes ago,
        // not "in the future" as it was when the offset was read at start-up in winter.
        let now = datetime!(2026-07-01 09:00 UTC);
        assert_eq!(
            parse_today_time("09:45", now),
            Some(datetime!(2026-07-01 08:45 UTC))
        );
        assert_eq!(parse_today_time("10:01", now), None);
        // The day the clocks go forward, after the change: 02:15 BST is 01:15 UTC.
        let now = datetime!(2026-03-29 01:20 UTC);
        assert_eq!(
            parse_today_time("02:15", now),
            Some(datetime!(2026-03-29 01:15 UTC))
        );
        assert_eq!(
            parse_today_time("00:30", now),
            Some(datetime!(2026-03-29 00:30 UTC))
        );
        // ... and 01:30 never happened that day on the UK clock: refused, never guessed.
        assert_eq!(parse_today_time("01:30", now), None);
        // Just after UK midnight in summer (00:10 BST = 23:10 UTC the day before): "today" is
        // the UK date, so 00:05 is five minutes ago.
        let now = datetime!(2026-06-30 23:10 UTC);
        assert_eq!(
            parse_today_time("00:05", now),
            Some(datetime!(2026-06-30 23:05 UTC))
        );
        // Back in winter (GMT) the UK clock is UTC.
        let now = datetime!(2026-12-01 09:00 UTC);
        assert_eq!(
            parse_today_time("08:45", now),
            Some(datetime!(2026-12-01 08:45 UTC))
        );
    }

    #[test]
    fn a_contact_time_in_the_repeated_autumn_hour_is_the_latest_not_in_the_future() {
        // 25 October 2026: 01:00 to 01:59 happen twice, in BST (00:xx UTC) then GMT (01:xx UTC).
        // In the first pass (01:40 BST), 01:30 can only be the BST one.
        let first_pass = datetime!(2026-10-25 00:40 UTC);
        assert_eq!(
            parse_today_time("01:30", first_pass),
            Some(datetime!(2026-10-25 00:30 UTC))
        );
        assert_eq!(parse_today_time("01:50", first_pass), None);
        // In the second pass (01:40 GMT), 01:30 is ten minutes ago, not 70.
        let second_pass = datetime!(2026-10-25 01:40 UTC);
        assert_eq!(
            parse_today_time("01:30", second_pass),
            Some(datetime!(2026-10-25 01:30 UTC))
        );
        // 01:50 in the second pass has not happened yet; the BST 01:50 (00:50 UTC) has.
        assert_eq!(
            parse_today_time("01:50", second_pass),
            Some(datetime!(2026-10-25 00:50 UTC))
        );
        // After the change, 02:30 is GMT.
        assert_eq!(
            parse_today_time("02:30", datetime!(2026-10-25 03:00 UTC)),
            Some(datetime!(2026-10-25 02:30 UTC))
        );
    }

    #[test]
    fn the_stored_detail_reads_back_as_written() {
        for method in ContactMethod::ALL {
            let detail = LaContactDetail {
                method,
                contacted_at: datetime!(2026-11-25 14:30 UTC),
            };
            assert_eq!(LaContactDetail::parse(&detail.to_detail()), Some(detail));
        }
        assert_eq!(
            LaContactDetail {
                method: ContactMethod::PhoneEmergencyDutyTeam,
                contacted_at: datetime!(2026-11-25 14:30 UTC),
            }
            .to_detail(),
            "method=phone_emergency_duty_team;contacted_at=2026-11-25T14:30:00Z"
        );
        assert_eq!(
            LaContactDetail::parse("method=carrier_pigeon;contacted_at=2026-11-25T14:30:00Z"),
            None
        );
        assert_eq!(LaContactDetail::parse("method=secure_email"), None);
    }

    #[test]
    fn contact_details_are_described_in_words() {
        let detail = LaContactDetail::parse(
            "method=phone_emergency_duty_team;contacted_at=2026-11-25T14:30:00Z",
        )
        .expect("a stored detail");
        assert_eq!(
            detail.describe(),
            "Phoned the emergency duty team, 25 November 2026 at 2.30pm"
        );
        // In summer the time is on the UK clock (BST), as the clinician typed it.
        let summer =
            LaContactDetail::parse("method=secure_email;contacted_at=2026-07-25T14:30:00Z")
                .expect("a stored detail");
        assert_eq!(summer.describe(), "Secure email, 25 July 2026 at 3.30pm");
    }
}
