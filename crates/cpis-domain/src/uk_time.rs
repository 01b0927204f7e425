//! The UK clock: the calendar date, offset and zone name in the UK at an instant, from the IANA
//! time-zone rules for `Europe/London` bundled into the binary (jiff's `tzdb-bundle-always`).
//! Nothing here depends on the machine's zoneinfo files or time-zone setting, or on an offset
//! read once at start-up: every answer is worked out for the instant asked about, so the date
//! and the times shown stay right across a change of the clocks in a running app.
//!
//! Visibility windows, plan status, the 18th birthday and "today" for a time the clinician
//! types all turn over at midnight UK time, which is 23:00 UTC during British Summer Time.

use std::sync::OnceLock;

use jiff::tz::{AmbiguousOffset, Offset, TimeZone, TimeZoneDatabase};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The UK's rule since 1996 as a POSIX TZ string: GMT, and BST from 01:00 UTC on the last Sunday
/// of March to 01:00 UTC on the last Sunday of October. Used only if the bundled database
/// somehow lacks `Europe/London`, so that the clock is never silently UTC.
const UK_POSIX_RULE: &str = "GMT0BST,M3.5.0/1,M10.5.0";

/// `Europe/London` from the bundled tz database.
fn london() -> &'static TimeZone {
    static ZONE: OnceLock<TimeZone> = OnceLock::new();
    ZONE.get_or_init(|| {
        TimeZoneDatabase::bundled()
            .get("Europe/London")
            .or_else(|_| TimeZone::posix(UK_POSIX_RULE))
            .unwrap_or(TimeZone::UTC)
    })
}

fn timestamp(moment: OffsetDateTime) -> jiff::Timestamp {
    // Whole seconds decide the offset; an instant outside jiff's range (beyond the years
    // -9999..=9999) is clamped to its ends.
    let seconds = moment.unix_timestamp();
    jiff::Timestamp::from_second(seconds).unwrap_or(if seconds < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    })
}

fn utc_offset(offset: Offset) -> UtcOffset {
    // Every offset London has had is well within the ±25:59:59 `time` allows.
    UtcOffset::from_whole_seconds(offset.seconds()).unwrap_or(UtcOffset::UTC)
}

/// The UK offset from UTC at `moment`: +00:00 (GMT) or +01:00 (BST).
pub fn uk_offset(moment: OffsetDateTime) -> UtcOffset {
    utc_offset(london().to_offset(timestamp(moment)))
}

/// `moment` as the UK clock shows it.
pub fn uk_local(moment: OffsetDateTime) -> OffsetDateTime {
    let offset = uk_offset(moment);
    moment.checked_to_offset(offset).unwrap_or(moment)
}

/// The calendar date in the UK at `moment`.
pub fn uk_date(moment: OffsetDateTime) -> Date {
    uk_local(moment).date()
}

/// The name of the UK's time at `moment`: `"GMT"` or `"BST"` (and, for the war years, `"BDST"`).
pub fn uk_zone_name(moment: OffsetDateTime) -> &'static str {
    let info = london().to_offset_info(timestamp(moment));
    match info.abbreviation() {
        "BST" => "BST",
        "BDST" => "BDST",
        "GMT" => "GMT",
        // Not a name the UK has used since 1847; say what the offset is instead of guessing.
        _ if info.offset().seconds() == 0 => "GMT",
        _ => "UK time",
    }
}

/// The UK date now, read from the system clock at each call. This is the domain's one clock
/// read: everything else here takes the instant as an argument, and callers that can should
/// pass theirs to [`uk_date`].
pub fn uk_today() -> Date {
    uk_date(OffsetDateTime::now_utc())
}

/// What a time on the UK clock on a given day means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UkLocalTime {
    /// The clock showed this time once, at this instant.
    Single(OffsetDateTime),
    /// The autumn change: the clock showed this time twice, first in BST and an hour later
    /// in GMT (01:00 to 01:59 on the last Sunday of October).
    Repeated {
        /// The first time, in BST.
        first: OffsetDateTime,
        /// The second time, in GMT.
        second: OffsetDateTime,
    },
    /// The spring change: the clock never showed this time (01:00 to 01:59 on the last
    /// Sunday of March went straight from GMT to 02:00 BST).
    Skipped,
}

/// What `time` on the UK clock on `date` means: once, twice (autumn) or never (spring).
pub fn uk_local_time(date: Date, time: Time) -> UkLocalTime {
    let at = |offset: Offset| PrimitiveDateTime::new(date, time).assume_offset(utc_offset(offset));
    let civil = i16::try_from(date.year()).ok().and_then(|year| {
        jiff::civil::DateTime::new(
            year,
            i8::try_from(u8::from(date.month())).ok()?,
            i8::try_from(date.day()).ok()?,
            i8::try_from(time.hour()).ok()?,
            i8::try_from(time.minute()).ok()?,
            i8::try_from(time.second()).ok()?,
            i32::try_from(time.nanosecond()).ok()?,
        )
        .ok()
    });
    let Some(civil) = civil else {
        return UkLocalTime::Skipped;
    };
    match london().to_ambiguous_timestamp(civil).offset() {
        AmbiguousOffset::Unambiguous { offset } => UkLocalTime::Single(at(offset)),
        AmbiguousOffset::Fold { before, after } => UkLocalTime::Repeated {
            first: at(before),
            second: at(after),
        },
        AmbiguousOffset::Gap { .. } => UkLocalTime::Skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, offset, time};

    #[test]
    fn the_uk_date_around_the_spring_change_2026() {
        // 29 March 2026: GMT until 01:00 UTC, then BST.
        let cases = [
            (
                datetime!(2026-03-28 23:59:59 UTC),
                date!(2026 - 03 - 28),
                "GMT",
            ),
            (
                datetime!(2026-03-29 00:00 UTC),
                date!(2026 - 03 - 29),
                "GMT",
            ),
            (
                datetime!(2026-03-29 00:30 UTC),
                date!(2026 - 03 - 29),
                "GMT",
            ),
            (
                datetime!(2026-03-29 00:59:59 UTC),
                date!(2026 - 03 - 29),
                "GMT",
            ),
            (
                datetime!(2026-03-29 01:00 UTC),
                date!(2026 - 03 - 29),
                "BST",
            ),
            (
                datetime!(2026-03-29 22:59 UTC),
                date!(2026 - 03 - 29),
                "BST",
            ),
            (
                datetime!(2026-03-29 23:00 UTC),
                date!(2026 - 03 - 30),
                "BST",
            ),
            (
                datetime!(2026-03-30 00:30 UTC),
                date!(2026 - 03 - 30),
                "BST",
            ),
        ];
        for (moment, date, zone) in cases {
            assert_eq!(uk_date(moment), date, "{moment}");
            assert_eq!(uk_zone_name(moment), zone, "{moment}");
        }
        assert_eq!(uk_offset(datetime!(2026-03-29 00:59 UTC)), offset!(UTC));
        assert_eq!(uk_offset(datetime!(2026-03-29 01:00 UTC)), offset!(+1));
    }

    #[test]
    fn the_uk_date_around_the_autumn_change_2026() {
        // 25 October 2026: BST until 01:00 UTC, then GMT.
        let cases = [
            (
                datetime!(2026-10-24 22:59 UTC),
                date!(2026 - 10 - 24),
                "BST",
            ),
            (
                datetime!(2026-10-24 23:00 UTC),
                date!(2026 - 10 - 25),
                "BST",
            ),
            (
                datetime!(2026-10-25 00:00 UTC),
                date!(2026 - 10 - 25),
                "BST",
            ),
            (
                datetime!(2026-10-25 00:30 UTC),
                date!(2026 - 10 - 25),
                "BST",
            ),
            (
                datetime!(2026-10-25 00:59:59 UTC),
                date!(2026 - 10 - 25),
                "BST",
            ),
            (
                datetime!(2026-10-25 01:00 UTC),
                date!(2026 - 10 - 25),
                "GMT",
            ),
            (
                datetime!(2026-10-25 23:30 UTC),
                date!(2026 - 10 - 25),
                "GMT",
            ),
            (
                datetime!(2026-10-26 00:00 UTC),
                date!(2026 - 10 - 26),
                "GMT",
            ),
        ];
        for (moment, date, zone) in cases {
            assert_eq!(uk_date(moment), date, "{moment}");
            assert_eq!(uk_zone_name(moment), zone, "{moment}");
        }
    }

    #[test]
    fn the_uk_date_at_month_and_year_ends() {
        // BST: 23:30 UTC on 30 June is 00:30 on 1 July in the UK.
        assert_eq!(
            uk_date(datetime!(2026-06-30 23:30 UTC)),
            date!(2026 - 07 - 01)
        );
        // GMT: 23:30 UTC on 31 December is still 31 December.
        assert_eq!(
            uk_date(datetime!(2026-12-31 23:30 UTC)),
            date!(2026 - 12 - 31)
        );
        assert_eq!(
            uk_date(datetime!(2027-01-01 00:00 UTC)),
            date!(2027 - 01 - 01)
        );
        // An instant written in another offset is the same instant.
        assert_eq!(
            uk_date(datetime!(2026-07-02 00:30 +02:00)),
            date!(2026 - 07 - 01)
        );
        assert_eq!(
            uk_local(datetime!(2026-06-30 23:30 UTC)),
            datetime!(2026-07-01 00:30 +01:00)
        );
    }

    #[test]
    fn the_rules_are_the_uk_ones_in_other_years_too() {
        // 2027: 28 March and 31 October. 2030: 31 March and 27 October.
        for (before, after) in [
            (
                datetime!(2027-03-28 00:59 UTC),
                datetime!(2027-03-28 01:00 UTC),
            ),
            (
                datetime!(2030-03-31 00:59 UTC),
                datetime!(2030-03-31 01:00 UTC),
            ),
        ] {
            assert_eq!(uk_zone_name(before), "GMT");
            assert_eq!(uk_zone_name(after), "BST");
        }
        for (before, after) in [
            (
                datetime!(2027-10-31 00:59 UTC),
                datetime!(2027-10-31 01:00 UTC),
            ),
            (
                datetime!(2030-10-27 00:59 UTC),
                datetime!(2030-10-27 01:00 UTC),
            ),
        ] {
            assert_eq!(uk_zone_name(before), "BST");
            assert_eq!(uk_zone_name(after), "GMT");
        }
    }

    #[test]
    fn a_uk_clock_time_is_single_repeated_or_skipped() {
        assert_eq!(
            uk_local_time(date!(2026 - 07 - 01), time!(09:45)),
            UkLocalTime::Single(datetime!(2026-07-01 08:45 UTC))
        );
        assert_eq!(
            uk_local_time(date!(2026 - 12 - 01), time!(09:45)),
            UkLocalTime::Single(datetime!(2026-12-01 09:45 UTC))
        );
        // Spring: 01:30 never happened on 29 March 2026.
        assert_eq!(
            uk_local_time(date!(2026 - 03 - 29), time!(01:30)),
            UkLocalTime::Skipped
        );
        assert_eq!(
            uk_local_time(date!(2026 - 03 - 29), time!(02:00)),
            UkLocalTime::Single(datetime!(2026-03-29 01:00 UTC))
        );
        // Autumn: 01:30 happened twice on 25 October 2026.
        assert_eq!(
            uk_local_time(date!(2026 - 10 - 25), time!(01:30)),
            UkLocalTime::Repeated {
                first: datetime!(2026-10-25 00:30 UTC),
                second: datetime!(2026-10-25 01:30 UTC),
            }
        );
    }
}
