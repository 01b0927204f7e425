//! The date in the UK, where the rules are applied: visibility windows and the 18th birthday
//! turn over at midnight UK time, which is 23:00 UTC during British Summer Time. The service uses
//! the one UK clock the app and the CLI use ([`cpis_domain::uk_time`]: the IANA rules for
//! `Europe/London`, bundled), so the service, the app and the CLI agree on the date.

use time::{Date, OffsetDateTime};

/// Whether British Summer Time is in force at `moment`.
pub fn is_british_summer_time(moment: OffsetDateTime) -> bool {
    cpis_domain::uk_time::uk_offset(moment).whole_hours() == 1
}

/// The calendar date in the UK at `moment`.
pub fn uk_date(moment: OffsetDateTime) -> Date {
    cpis_domain::uk_time::uk_date(moment)
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
        // 2027: 28 March and 31 October.
        assert!(is_british_summer_time(datetime!(2027-03-28 01:00 UTC)));
        assert!(!is_british_summer_time(datetime!(2027-10-31 01:00 UTC)));
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
