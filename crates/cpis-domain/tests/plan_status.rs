//! The plan status a clinician sees, decided on the UK date, checked over every day of 2026 and
//! 2027 (both clock changes of each year) for each plan type and each edge (start, end or due
//! date yesterday, today or tomorrow), against an oracle written differently:
//! - the UK date from the statutory rule (BST from 01:00 UTC on the last Sunday of March to
//!   01:00 UTC on the last Sunday of October) on day numbers, not from tz data;
//! - day differences from jiff's span arithmetic, not `time`'s comparisons;
//! - the words from jiff's `strftime`, not the domain's date formatter.

use cpis_domain::uk_time::uk_date;
use cpis_domain::{CareTeamStatus, LaContact, PlanRecord, PlanStatus, PlanType};
use proptest::prelude::*;
use time::{Date, Duration, OffsetDateTime};

// ---- the oracle ----------------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day number (`civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day number of the last Sunday of `month` (31-day months only: March, October).
fn last_sunday_of_31_day_month(year: i64, month: i64) -> i64 {
    let last = days_from_civil(year, month, 31);
    // Day 0 (1 January 1970) was a Thursday: weekday 0 = Sunday is (days + 4) mod 7.
    last - (last + 4).rem_euclid(7)
}

/// The UK date at a Unix second, by the statutory rule.
fn oracle_uk_date(unix_second: i64) -> (i64, i64, i64) {
    let (year, _, _) = civil_from_days(unix_second.div_euclid(86_400));
    let bst_starts = last_sunday_of_31_day_month(year, 3) * 86_400 + 3_600;
    let bst_ends = last_sunday_of_31_day_month(year, 10) * 86_400 + 3_600;
    let offset = if (bst_starts..bst_ends).contains(&unix_second) {
        3_600
    } else {
        0
    };
    civil_from_days((unix_second + offset).div_euclid(86_400))
}

fn jiff_date(date: Date) -> jiff::civil::Date {
    jiff::civil::Date::new(
        i16::try_from(date.year()).expect("year"),
        i8::try_from(u8::from(date.month())).expect("month"),
        i8::try_from(date.day()).expect("day"),
    )
    .expect("date")
}

/// Signed days from `today` to `other`, by jiff's span arithmetic.
fn days_from(today: Date, other: Date) -> i64 {
    i64::from(
        jiff_date(today)
            .until(jiff_date(other))
            .expect("span")
            .get_days(),
    )
}

fn words(date: Date) -> String {
    jiff_date(date).strftime("%-d %B %Y").to_string()
}

/// The tag's words the clinician must see, from the rules as the issue states them.
fn oracle_text(record: &PlanRecord, today: Date) -> String {
    let unborn = record.plan_type == Some(PlanType::UnbornChildProtectionPlan);
    let start_in = record.start.map(|start| days_from(today, start));
    let end_in = record.end.map(|end| days_from(today, end));
    if let (Some(days), Some(start)) = (start_in, record.start)
        && days >= 1
    {
        return format!("Starts {}", words(start));
    }
    match (unborn, end_in) {
        (true, Some(0)) => return "Due date is today".to_owned(),
        (true, Some(-1)) => return "Due date passed 1 day ago".to_owned(),
        (true, Some(days)) if days < -1 => return format!("Due date passed {} days ago", -days),
        (false, Some(days)) if days <= -1 => {
            return format!("Ended {}", words(record.end.expect("end")));
        }
        _ => {}
    }
    match record.care_team_status {
        None | Some(CareTeamStatus::Active) => "Active",
        Some(CareTeamStatus::Inactive) => "Marked inactive in CP-IS",
        Some(CareTeamStatus::Suspended) => "Suspended in CP-IS",
        Some(CareTeamStatus::Proposed) => "Proposed in CP-IS",
    }
    .to_owned()
}

// ---- the cases -----------------------------------------------------------------------------

const FIRST_DAY: Date = time::macros::date!(2026 - 01 - 01);
const DAYS: i64 = 730; // to 31 December 2027

const TYPES: [Option<PlanType>; 4] = [
    Some(PlanType::ChildProtectionPlan),
    Some(PlanType::LookedAfterChild),
    Some(PlanType::UnbornChildProtectionPlan),
    None,
];

const STATUSES: [Option<CareTeamStatus>; 5] = [
    None,
    Some(CareTeamStatus::Active),
    Some(CareTeamStatus::Inactive),
    Some(CareTeamStatus::Suspended),
    Some(CareTeamStatus::Proposed),
];

fn record(
    plan_type: Option<PlanType>,
    start: Option<Date>,
    end: Option<Date>,
    care_team_status: Option<CareTeamStatus>,
) -> PlanRecord {
    PlanRecord {
        plan_type,
        start,
        end,
        care_team_status,
        local_authority: LaContact {
            name: "Testshire County Council".into(),
            ods_code: None,
            office_hours_phone: Some("01632 960001".into()),
            emergency_duty_phone: None,
        },
        social_worker: None,
    }
}

fn unix(moment: OffsetDateTime) -> i64 {
    moment.unix_timestamp()
}

fn as_date((year, month, day): (i64, i64, i64)) -> Date {
    Date::from_calendar_date(
        i32::try_from(year).expect("year"),
        time::Month::try_from(u8::try_from(month).expect("month")).expect("month"),
        u8::try_from(day).expect("day"),
    )
    .expect("date")
}

/// The status shown at `now`: decided on the UK date then.
fn shown_at(record: &PlanRecord, now: OffsetDateTime) -> PlanStatus {
    record.status_on(uk_date(now))
}

/// Times of a UTC day to look at: the hour after UTC midnight (a different UK date in BST, and
/// the hour the clocks change), midday, and late evening.
const UTC_MINUTES: [i64; 5] = [0, 30, 59, 12 * 60, 23 * 60 + 30];

#[test]
fn every_day_of_2026_and_2027_for_each_type_and_edge_matches_the_oracle() {
    let mut checked = 0_u32;
    for day in 0..DAYS {
        for minutes in UTC_MINUTES {
            let now = FIRST_DAY.midnight().assume_utc()
                + Duration::days(day)
                + Duration::minutes(minutes);
            let today = as_date(oracle_uk_date(unix(now)));
            assert_eq!(uk_date(now), today, "UK date at {now}");
            for plan_type in TYPES {
                for edge in [-1, 0, 1] {
                    let on_edge = today + Duration::days(edge);
                    for status in STATUSES {
                        let cases = [
                            // The start on the edge, open or ending later.
                            record(plan_type, Some(on_edge), None, status),
                            record(
                                plan_type,
                                Some(on_edge),
                                Some(on_edge + Duration::days(40)),
                                status,
                            ),
                            // The end (due date) on the edge, started earlier or not given.
                            record(
                                plan_type,
                                Some(on_edge - Duration::days(200)),
                                Some(on_edge),
                                status,
                            ),
                            record(plan_type, None, Some(on_edge), status),
                            // Start and end the same day.
                            record(plan_type, Some(on_edge), Some(on_edge), status),
                        ];
                        for case in cases {
                            let shown = shown_at(&case, now);
                            assert_eq!(
                                shown.text(),
                                oracle_text(&case, today),
                                "{case:?} at {now} (UK {today})"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 730 * 5 * 4 * 3 * 5 * 5);
}

#[test]
fn the_hour_after_utc_midnight_on_both_clock_change_days() {
    // A plan starting on the UK date is active from UK midnight, whatever the offset was at
    // start-up; and the due date passes at UK midnight.
    for (utc, uk) in [
        // Spring 2026: still GMT until 01:00 UTC.
        (
            time::macros::datetime!(2026-03-29 00:30 UTC),
            time::macros::date!(2026 - 03 - 29),
        ),
        // Summer: 00:30 UTC is 01:30 BST, the next UK day.
        (
            time::macros::datetime!(2026-07-01 00:30 UTC),
            time::macros::date!(2026 - 07 - 01),
        ),
        (
            time::macros::datetime!(2026-06-30 23:30 UTC),
            time::macros::date!(2026 - 07 - 01),
        ),
        // Autumn 2026: BST until 01:00 UTC.
        (
            time::macros::datetime!(2026-10-24 23:30 UTC),
            time::macros::date!(2026 - 10 - 25),
        ),
        (
            time::macros::datetime!(2026-10-25 00:30 UTC),
            time::macros::date!(2026 - 10 - 25),
        ),
        (
            time::macros::datetime!(2026-12-31 23:30 UTC),
            time::macros::date!(2026 - 12 - 31),
        ),
    ] {
        let starting = record(Some(PlanType::ChildProtectionPlan), Some(uk), None, None);
        assert_eq!(shown_at(&starting, utc), PlanStatus::Active, "{utc}");
        let due = record(
            Some(PlanType::UnbornChildProtectionPlan),
            None,
            Some(uk - Duration::days(1)),
            None,
        );
        assert_eq!(
            shown_at(&due, utc),
            PlanStatus::DuePassed { days: 1 },
            "{utc}"
        );
    }
}

fn plan_type() -> impl Strategy<Value = Option<PlanType>> {
    proptest::sample::select(TYPES.to_vec())
}

fn care_team_status() -> impl Strategy<Value = Option<CareTeamStatus>> {
    proptest::sample::select(STATUSES.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Any record, at any minute of 2026 or 2027: the tag says what the oracle says.
    #[test]
    fn any_record_at_any_minute_matches_the_oracle(
        minute in 0_i64..DAYS * 24 * 60,
        plan_type in plan_type(),
        start in proptest::option::of(-500_i64..500),
        length in proptest::option::of(0_i64..800),
        care_team_status in care_team_status(),
    ) {
        let now = FIRST_DAY.midnight().assume_utc() + Duration::minutes(minute);
        let today = as_date(oracle_uk_date(unix(now)));
        prop_assert_eq!(uk_date(now), today);
        let start = start.map(|offset| today + Duration::days(offset));
        // The end is after the start when both are given (the parser refuses the reverse).
        let end = match (start, length) {
            (Some(start), Some(length)) => Some(start + Duration::days(length)),
            (None, Some(length)) => Some(today + Duration::days(length - 400)),
            (_, None) => None,
        };
        let case = record(plan_type, start, end, care_team_status);
        prop_assert_eq!(shown_at(&case, now).text(), oracle_text(&case, today));
    }
}
