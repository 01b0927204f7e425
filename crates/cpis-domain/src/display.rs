//! Dates and times as the NHS content style writes them: "6 August 2018", "5.30pm".

use time::{Date, OffsetDateTime, UtcOffset};

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

/// `5.30pm`, `9am`, `12pm` (midday), `12am` (midnight), in the given offset.
pub fn display_time(time: OffsetDateTime, offset: UtcOffset) -> String {
    let local = time.to_offset(offset);
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

/// `25 November 2026 at 5.30pm`.
pub fn display_date_time(time: OffsetDateTime, offset: UtcOffset) -> String {
    let local = time.to_offset(offset);
    format!(
        "{} at {}",
        display_date(local.date()),
        display_time(local, offset)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, offset};

    #[test]
    fn dates_follow_the_nhs_style() {
        assert_eq!(display_date(date!(2018 - 08 - 06)), "6 August 2018");
        assert_eq!(display_date(date!(2026 - 12 - 25)), "25 December 2026");
    }

    #[test]
    fn times_follow_the_nhs_style() {
        let utc = offset!(UTC);
        assert_eq!(display_time(datetime!(2026-11-25 17:30 UTC), utc), "5.30pm");
        assert_eq!(display_time(datetime!(2026-11-25 09:00 UTC), utc), "9am");
        assert_eq!(display_time(datetime!(2026-11-25 12:00 UTC), utc), "12pm");
        assert_eq!(
            display_time(datetime!(2026-11-25 00:05 UTC), utc),
            "12.05am"
        );
        assert_eq!(
            display_date_time(datetime!(2026-06-01 23:30 UTC), offset!(+1)),
            "2 June 2026 at 12.30am"
        );
    }
}
