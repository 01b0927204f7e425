//! The LA contact follow-up: after a lookup that found plans, the clinician records how and when
//! the local authority was contacted, audited like a view. [`LaContactDetail`] is the one place
//! its stored form (the audit record's `detail`) is written and read.

use cpis_audit::{AuditAction, NewAuditEntry};
use cpis_ipc::{ContactMethod, IpcError, IpcErrorCode, LaContactRequest, display_date_time};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

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

    /// In words, with the time in `offset`: "Phoned the emergency duty team, 25 November 2026
    /// at 2.30pm".
    pub fn describe(&self, offset: UtcOffset) -> String {
        let method = match self.method {
            ContactMethod::PhoneOfficeHours => "Phoned the office-hours number",
            ContactMethod::PhoneEmergencyDutyTeam => "Phoned the emergency duty team",
            ContactMethod::PhoneSocialWorker => "Phoned the social worker",
            ContactMethod::SecureEmail => "Secure email",
        };
        format!("{method}, {}", display_date_time(self.contacted_at, offset))
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
            Some(text) => parse_today_time(text, now, self.offset)
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

/// Parse `HH:MM` as a time today in `offset`, not after `now`.
fn parse_today_time(text: &str, now: OffsetDateTime, offset: UtcOffset) -> Option<OffsetDateTime> {
    let (hours, minutes) = text.trim().split_once(':')?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return None;
    }
    let hour: u8 = hours.parse().ok()?;
    let minute: u8 = minutes.parse().ok()?;
    let local_now = now.to_offset(offset);
    let at = local_now
        .replace_time(time::Time::from_hms(hour, minute, 0).ok()?)
        .to_offset(UtcOffset::UTC);
    (at <= now).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn contact_times_are_today_and_not_in_the_future() {
        let now = datetime!(2026-11-25 15:00 UTC);
        assert_eq!(
            parse_today_time("14:30", now, offset!(UTC)),
            Some(datetime!(2026-11-25 14:30 UTC))
        );
        assert_eq!(parse_today_time("15:01", now, offset!(UTC)), None);
        assert_eq!(parse_today_time("25:00", now, offset!(UTC)), None);
        assert_eq!(parse_today_time("1430", now, offset!(UTC)), None);
        assert_eq!(parse_today_time("ab:cd", now, offset!(UTC)), None);
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
            detail.describe(offset!(UTC)),
            "Phoned the emergency duty team, 25 November 2026 at 2.30pm"
        );
    }
}
