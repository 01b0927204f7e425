//! What `cpis` prints: the stable JSON objects (documented in README.md) and the plain-text
//! forms for people, one module per command. Serialisation lives here, at the edge, not in the
//! domain.

mod config;
mod lookup;
mod whoami;

pub use config::{ConfigJson, config_text};
pub use lookup::{LookupJson, lookup_text};
pub use whoami::{WhoamiJson, whoami_text};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn rfc3339(moment: OffsetDateTime) -> String {
    moment
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// "6 August 2018".
pub fn nhs_date(date: time::Date) -> String {
    cpis_domain::display_date(date)
}

/// "6 August 2018 at 6.30pm BST", "25 November 2026 at 6.01am GMT": the UK clock at `moment`,
/// as the app shows it, marked with the UK's time then (never UTC).
pub fn nhs_date_time(moment: OffsetDateTime) -> String {
    cpis_domain::display_date_time_with_zone(moment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn dates_and_times_follow_the_nhs_style() {
        assert_eq!(nhs_date(date!(2018 - 08 - 06)), "6 August 2018");
        assert_eq!(
            nhs_date_time(datetime!(2026-11-25 17:30 UTC)),
            "25 November 2026 at 5.30pm GMT"
        );
        assert_eq!(
            nhs_date_time(datetime!(2026-11-25 00:00 UTC)),
            "25 November 2026 at 12am GMT"
        );
    }

    #[test]
    fn times_are_uk_local_time_marked_gmt_or_bst_never_utc() {
        // Summer: 06:01 UTC is 7.01am BST; 23:30 UTC on 30 June is already 1 July in the UK.
        assert_eq!(
            nhs_date_time(datetime!(2026-07-25 06:01 UTC)),
            "25 July 2026 at 7.01am BST"
        );
        assert_eq!(
            nhs_date_time(datetime!(2026-06-30 23:30 UTC)),
            "1 July 2026 at 12.30am BST"
        );
        // Either side of the clock changes of 2026.
        assert_eq!(
            nhs_date_time(datetime!(2026-03-29 00:59 UTC)),
            "29 March 2026 at 12.59am GMT"
        );
        assert_eq!(
            nhs_date_time(datetime!(2026-03-29 01:00 UTC)),
            "29 March 2026 at 2am BST"
        );
        assert_eq!(
            nhs_date_time(datetime!(2026-10-25 00:30 UTC)),
            "25 October 2026 at 1.30am BST"
        );
        assert_eq!(
            nhs_date_time(datetime!(2026-10-25 01:30 UTC)),
            "25 October 2026 at 1.30am GMT"
        );
        assert!(!nhs_date_time(datetime!(2026-07-25 06:01 UTC)).contains("UTC"));
    }
}
