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

/// "6 August 2018 at 5.30pm UTC".
pub fn nhs_date_time(moment: OffsetDateTime) -> String {
    format!(
        "{} UTC",
        cpis_domain::display_date_time(moment, time::UtcOffset::UTC)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn dates_and_times_follow_the_nhs_style() {
        assert_eq!(nhs_date(date!(2018 - 08 - 06)), "6 August 2018");
        assert_eq!(
            nhs_date_time(datetime!(2018-08-06 17:30 UTC)),
            "6 August 2018 at 5.30pm UTC"
        );
        assert_eq!(
            nhs_date_time(datetime!(2018-08-06 00:00 UTC)),
            "6 August 2018 at 12am UTC"
        );
        assert_eq!(
            nhs_date_time(datetime!(2018-08-06 12:05 UTC)),
            "6 August 2018 at 12.05pm UTC"
        );
    }
}
