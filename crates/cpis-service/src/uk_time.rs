//! The date in the UK, where the rules are applied: visibility windows and the 18th birthday
//! turn over at midnight UK time, which is 23:00 UTC during British Summer Time.

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

/// The last Sunday of `month` in `year`, at 01:00 UTC (when BST starts and ends).
fn last_sunday_0100_utc(year: i32, month: Month) -> Option<OffsetDateTime> {
    let next_month_first = match month {
        Month::December => Date::from_calendar_date(year + 1, Month::January, 1),
        _ => Date::from_calendar_date(year, month.next(), 1),
    }
    .ok()?;
    let mut day = next_month_first - Duration::days(1);
    while day.weekday() != Weekday::Sunday {
        day -= Duration::days(1);
    }
    Some(PrimitiveDateTime::new(day, Time::from_hms(1, 0, 0).ok()?).assume_utc())
}

/// Whether British Summer Time is in force at `moment`.
pub fn is_british_summer_time(moment: OffsetDateTime) -> bool {
    let utc = moment.to_offset(UtcOffset::UTC);
    match (
        last_sunday_0100_utc(utc.year(), Month::March),
        last_sunday_0100_utc(utc.year(), Month::October),
    ) {
        (Some(start), Some(end)) => start <= utc && utc < end,
        _ => false,
    }
}

/// The calendar date in the UK at `moment`.
pub fn uk_date(moment: OffsetDateTime) -> Date {
    let utc = moment.to_offset(UtcOffset::UTC);
    if is_british_summer_time(utc) {
        (utc + Duration::hours(1)).date()
    } else {
        utc.date()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn summer_time_starts_and_ends_at_0100_utc_on_the_last_sundays() {
        // 2026: 29 March and 25 October.
        assert!(!is_british_summer_time(datetime!(2026-03-29 00:59:59 UTC)));
        assert!(is_british_summer_time(datetime!(2026-03-29 01:00 UTC)));
        assert!(is_british_summer_time(datetime!(2026-10-25 00:59:59 UTC)));
        assert!(!is_british_summer_time(datetime!(2026-10-25 01:00 UTC)));
        assert!(!is_british_summer_time(datetime!(2026-12-31 23:00 UTC)));
    }

    #[test]
    fn the_uk_date_turns_at_uk_midnight() {
        assert_eq!(
            uk_date(datetime!(2026-07-01 22:59 UTC)),
            date!(2026 - 07 - 01)
        );
        assert_eq!(
            uk_date(datetime!(2026-07-01 23:00 UTC)),
            date!(2026 - 07 - 02)
        );
        assert_eq!(
            uk_date(datetime!(2026-01-01 23:30 UTC)),
            date!(2026 - 01 - 01)
        );
        assert_eq!(
            uk_date(datetime!(2026-01-02 00:00 UTC)),
            date!(2026 - 01 - 02)
        );
        assert_eq!(
            uk_date(datetime!(2026-07-02 00:30 +02:00)),
            date!(2026 - 07 - 01)
        );
    }
}
