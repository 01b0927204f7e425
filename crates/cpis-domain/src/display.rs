//! Dates and times as the NHS content style writes them: "6 August 2018", "5.30pm".

use time::{Date, OffsetDateTime};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `6 August 2018`.
pub fn display_date(date: Date) -> String {
    let month = MONTHS
        .get(usize::from(u8::from(date.month())) - 1)
        .copied()
        .unwrap_or("");
    format!("{} {month} {}", date.day(), date.year())
}

/// `5.30pm`, `9am`, `12pm` (midday), `12am` (midnight): the UK clock at `moment`.
pub fn display_time(moment: OffsetDateTime) -> String {
    clock_time(crate::uk_time::uk_local(moment))
}

/// `25 November 2026 at 5.30pm`: the UK date and clock at `moment`.
pub fn display_date_time(moment: OffsetDateTime) -> String {
    let local = crate::uk_time::uk_local(moment);
    format!("{} at {}", display_date(local.date()), clock_time(local))
}

/// `5.30pm GMT`, `9am BST`: the UK clock at `moment`, marked with the UK's time then, for text
/// read away from the app (the CLI).
pub fn display_time_with_zone(moment: OffsetDateTime) -> String {
    format!(
        "{} {}",
        display_time(moment),
        crate::uk_time::uk_zone_name(moment)
    )
}

/// `25 November 2026 at 5.30pm GMT`.
pub fn display_date_time_with_zone(moment: OffsetDateTime) -> String {
    format!(
        "{} {}",
        display_date_time(moment),
        crate::uk_time::uk_zone_name(moment)
    )
}

/// The clock time of `local` as it stands (no conversion).
fn clock_time(local: OffsetDateTime) -> String {
    let hour = local.hour();
    let minute = local.minute();
    let suffix = if hour < 12 { "am" } else { "pm" };
    let hour12 = match hour % 12 {
        0 => 12,
        other => other,
    };
    if minute == 0 {
        format!("{hour12}{suffix}")
    } else {
        format!("{hour12}.{minute:02}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn dates_follow_the_nhs_style() {
        assert_eq!(display_date(date!(2018 - 08 - 06)), "6 August 2018");
        assert_eq!(display_date(date!(2026 - 12 - 25)), "25 December 2026");
    }

    #[test]
    fn times_follow_the_nhs_style_on_the_uk_clock() {
        // GMT in November.
        assert_eq!(display_time(datetime!(2026-11-25 17:30 UTC)), "5.30pm");
        assert_eq!(display_time(datetime!(2026-11-25 09:00 UTC)), "9am");
        assert_eq!(display_time(datetime!(2026-11-25 12:00 UTC)), "12pm");
        assert_eq!(display_time(datetime!(2026-11-25 00:05 UTC)), "12.05am");
        // BST in June: 23:30 UTC is 12.30am the next day in the UK.
        assert_eq!(
            display_date_time(datetime!(2026-06-01 23:30 UTC)),
            "2 June 2026 at 12.30am"
        );
        // The offset an instant is written in makes no difference.
        assert_eq!(
            display_date_time(datetime!(2026-06-02 01:30 +02:00)),
            "2 June 2026 at 12.30am"
        );
    }

    #[test]
    fn times_for_the_cli_are_marked_gmt_or_bst() {
        assert_eq!(
            display_date_time_with_zone(datetime!(2026-11-25 06:01 UTC)),
            "25 November 2026 at 6.01am GMT"
        );
        assert_eq!(
            display_date_time_with_zone(datetime!(2026-07-25 06:01 UTC)),
            "25 July 2026 at 7.01am BST"
        );
        // Either side of the autumn change: the same clock time, an hour apart.
        assert_eq!(
            display_time_with_zone(datetime!(2026-10-25 00:30 UTC)),
            "1.30am BST"
        );
        assert_eq!(
            display_time_with_zone(datetime!(2026-10-25 01:30 UTC)),
            "1.30am GMT"
        );
    }
}
