//! The synthetic people, local authorities and plans that [`seed`](super) writes: a
//! platform-independent random stream (SplitMix64), NHS numbers in the `999` range in a
//! seed-dependent order, invented names, and a child's or mother's plans for each scenario.

use cpis_domain::{NhsNumber, PlanType};
use time::{Date, Duration};

/// How many local authorities are invented.
pub const LOCAL_AUTHORITY_COUNT: usize = 152;

/// SplitMix64: small, fast, and the same on every platform and version.
#[derive(Debug, Clone)]
pub(super) struct SplitMix(u64);

impl SplitMix {
    pub(super) fn new(seed: u64, stream: u64) -> SplitMix {
        let mut mix = SplitMix(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        mix.next();
        mix
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.next() % bound }
    }

    fn days(&mut self, low: i64, high_inclusive: i64) -> Duration {
        let span = u64::try_from(high_inclusive - low + 1).unwrap_or(1);
        Duration::days(low + i64::try_from(self.below(span)).unwrap_or(0))
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        let index = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items.get(index).copied().unwrap_or_default()
    }
}

/// Synthetic NHS numbers in the `999` range, in a seed-dependent order, each valid.
#[derive(Debug)]
pub(super) struct NhsNumbers {
    multiplier: u64,
    offset: u64,
    next_index: u64,
}

const PREFIXES: u64 = 1_000_000;

impl NhsNumbers {
    pub(super) fn new(seed: u64) -> NhsNumbers {
        let mut mix = SplitMix::new(seed, 0xA11CE);
        // An odd multiplier not divisible by 5 is coprime with 10^6: a permutation.
        let mut multiplier = (mix.below(PREFIXES / 2) * 2) + 1;
        if multiplier.is_multiple_of(5) {
            multiplier += 2;
        }
        NhsNumbers {
            multiplier,
            offset: mix.below(PREFIXES),
            next_index: 0,
        }
    }
}

impl Iterator for NhsNumbers {
    type Item = NhsNumber;
    fn next(&mut self) -> Option<NhsNumber> {
        while self.next_index < PREFIXES {
            let prefix = (self.multiplier * self.next_index + self.offset) % PREFIXES;
            self.next_index += 1;
            let mut digits = [9u8, 9, 9, 0, 0, 0, 0, 0, 0];
            let mut rest = prefix;
            for slot in digits[3..].iter_mut().rev() {
                *slot = u8::try_from(rest % 10).unwrap_or(0);
                rest /= 10;
            }
            if let Some(number) = NhsNumber::from_first_nine(digits) {
                return Some(number);
            }
        }
        None
    }
}

/// How many valid synthetic NHS numbers exist (the most people a seed can write).
pub fn synthetic_capacity() -> u64 {
    NhsNumbers::new(0).count() as u64
}

const SYLLABLES_START: [&str; 24] = [
    "Ab", "Bel", "Cor", "Dun", "Esk", "Fal", "Gar", "Hol", "Ith", "Jun", "Kel", "Lorr", "Mav",
    "Nex", "Orr", "Pim", "Quen", "Rav", "Sorr", "Tull", "Umb", "Vex", "Wen", "Yarr",
];
const SYLLABLES_END: [&str; 14] = [
    "by", "cote", "dell", "fold", "garth", "holm", "ington", "ley", "mere", "rick", "stead",
    "thorne", "ward", "wick",
];
const GIVEN_NAMES: [&str; 24] = [
    "Aro", "Bexa", "Cai", "Dessa", "Elio", "Fenna", "Gabe", "Hollis", "Isla", "Jory", "Kit",
    "Lumi", "Milo", "Nell", "Oren", "Pip", "Quin", "Rue", "Sol", "Tamsin", "Uma", "Vale", "Wren",
    "Yara",
];
const SOCIAL_WORKER_GIVEN: [&str; 8] = [
    "Sam", "Jo", "Alex", "Robin", "Charlie", "Frankie", "Lee", "Max",
];

fn family_name(mix: &mut SplitMix) -> String {
    format!("{}{}", mix.pick(&SYLLABLES_START), mix.pick(&SYLLABLES_END))
}

/// The invented local authorities: `(ODS code, name, office phone, emergency duty phone)`.
pub fn local_authorities() -> Vec<(String, String, String, String)> {
    let kinds = [
        "County Council",
        "City Council",
        "Borough Council",
        "Metropolitan Borough Council",
    ];
    (0..LOCAL_AUTHORITY_COUNT)
        .map(|index| {
            let start = SYLLABLES_START[index % SYLLABLES_START.len()];
            let end = SYLLABLES_END[(index / SYLLABLES_START.len() + index) % SYLLABLES_END.len()];
            let kind = kinds[index % kinds.len()];
            (
                format!("ZL{:03}", index + 1),
                format!("{start}{end}shire {kind} (synthetic)"),
                format!("01632 960{:03}", index),
                format!("07700 900{:03}", index),
            )
        })
        .collect()
}

fn years_before(today: Date, years: i32) -> Date {
    let year = today.year() - years;
    today
        .replace_year(year)
        .or_else(|_| Date::from_calendar_date(year, today.month(), 28))
        .unwrap_or(today)
}

pub(super) struct PlanRow {
    pub(super) plan_type: PlanType,
    pub(super) start: Date,
    pub(super) end: Option<Date>,
    pub(super) la: usize,
    pub(super) social_worker: Option<(String, String)>,
}

pub(super) struct Generated {
    pub(super) family: String,
    pub(super) given: Vec<String>,
    pub(super) date_of_birth: Date,
    pub(super) gender: &'static str,
    pub(super) plans: Vec<PlanRow>,
    pub(super) scenario: &'static str,
}

fn plan(
    mix: &mut SplitMix,
    plan_type: PlanType,
    start: Date,
    end: Option<Date>,
    la: Option<usize>,
) -> PlanRow {
    let la =
        la.unwrap_or_else(|| usize::try_from(mix.below(LOCAL_AUTHORITY_COUNT as u64)).unwrap_or(0));
    let social_worker = (mix.below(10) < 6).then(|| {
        (
            format!("{} {}", mix.pick(&SOCIAL_WORKER_GIVEN), family_name(mix)),
            format!("07700 900{:03}", mix.below(1000)),
        )
    });
    PlanRow {
        plan_type,
        start,
        end,
        la,
        social_worker,
    }
}

pub(super) fn child(mix: &mut SplitMix, today: Date) -> Generated {
    let bucket = mix.below(1000);
    let scenario = match bucket {
        0..300 => "no_plan",
        300..550 => "cpp",
        550..750 => "lac",
        750..820 => "multiple",
        820..880 => "ended_within_window",
        880..930 => "ended_outside_window",
        930..965 => "aged_17",
        _ => "aged_18",
    };
    let date_of_birth = match scenario {
        "aged_17" => years_before(today, 17) - mix.days(1, 300),
        "aged_18" => years_before(today, 18) - mix.days(0, 300),
        _ => today - mix.days(1, 17 * 365 - 10),
    };
    let start_between = |mix: &mut SplitMix, latest: Date| {
        let room = (latest - date_of_birth).whole_days().max(0);
        date_of_birth + mix.days(0, room)
    };
    let open_type = |mix: &mut SplitMix| {
        if mix.below(2) == 0 {
            PlanType::ChildProtectionPlan
        } else {
            PlanType::LookedAfterChild
        }
    };
    let mut plans = Vec::new();
    match scenario {
        "no_plan" => {}
        "cpp" => {
            let start = start_between(mix, today);
            plans.push(plan(mix, PlanType::ChildProtectionPlan, start, None, None));
        }
        "lac" => {
            let start = start_between(mix, today);
            plans.push(plan(mix, PlanType::LookedAfterChild, start, None, None));
        }
        "multiple" => {
            let start = start_between(mix, today);
            plans.push(plan(mix, PlanType::ChildProtectionPlan, start, None, None));
            let start = start_between(mix, today);
            plans.push(plan(mix, PlanType::LookedAfterChild, start, None, None));
        }
        "ended_within_window" | "ended_outside_window" => {
            let ago = if scenario == "ended_within_window" {
                mix.days(1, 364)
            } else {
                mix.days(366, 1500)
            };
            let end = (today - ago).max(date_of_birth);
            let start = start_between(mix, end);
            let plan_type = open_type(mix);
            plans.push(plan(mix, plan_type, start, Some(end), None));
        }
        _ => {
            let start = start_between(mix, today);
            let plan_type = open_type(mix);
            plans.push(plan(mix, plan_type, start, None, None));
        }
    }
    let gender = match mix.below(100) {
        0..49 => "female",
        49..98 => "male",
        98 => "other",
        _ => "unknown",
    };
    Generated {
        family: family_name(mix),
        given: vec![
            mix.pick(&GIVEN_NAMES).to_owned(),
            mix.pick(&GIVEN_NAMES).to_owned(),
        ],
        date_of_birth,
        gender,
        plans,
        scenario,
    }
}

pub(super) fn mother(mix: &mut SplitMix, today: Date) -> Generated {
    let age = 16 + i32::try_from(mix.below(29)).unwrap_or(0);
    let date_of_birth = years_before(today, age) - mix.days(0, 360);
    let (scenario, due) = match mix.below(100) {
        0..70 => ("unborn", today + mix.days(1, 250)),
        70..85 => ("unborn_ended_within_window", today - mix.days(0, 28)),
        _ => ("unborn_ended_outside_window", today - mix.days(29, 400)),
    };
    let start = due - mix.days(60, 240);
    let plans = vec![plan(
        mix,
        PlanType::UnbornChildProtectionPlan,
        start,
        Some(due),
        None,
    )];
    Generated {
        family: family_name(mix),
        given: vec![mix.pick(&GIVEN_NAMES).to_owned()],
        date_of_birth,
        gender: "female",
        plans,
        scenario,
    }
}

pub(super) fn visible_with_social_worker(person: &Generated, today: Date) -> Option<bool> {
    let visible: Vec<&PlanRow> = person
        .plans
        .iter()
        .filter(|plan| {
            let domain = cpis_domain::ProtectionPlan {
                plan_type: plan.plan_type,
                start: plan.start,
                end: plan.end,
                local_authority: cpis_domain::LocalAuthority {
                    name: String::new(),
                    ods_code: String::new(),
                    office_hours_phone: String::new(),
                    emergency_duty_phone: String::new(),
                },
                social_worker: None,
            };
            !cpis_domain::visible_plans(&[domain], person.date_of_birth, today).is_empty()
        })
        .collect();
    if visible.is_empty() {
        None
    } else {
        Some(visible.iter().any(|plan| plan.social_worker.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_numbers_are_valid_distinct_and_in_the_999_range() {
        let numbers: Vec<NhsNumber> = NhsNumbers::new(7).take(5000).collect();
        let distinct: std::collections::BTreeSet<&str> =
            numbers.iter().map(NhsNumber::as_str).collect();
        assert_eq!(distinct.len(), numbers.len());
        assert!(numbers.iter().all(NhsNumber::is_synthetic));
        let again: Vec<NhsNumber> = NhsNumbers::new(7).take(5000).collect();
        assert_eq!(numbers, again);
        let other: Vec<NhsNumber> = NhsNumbers::new(8).take(5000).collect();
        assert_ne!(numbers, other);
    }

    #[test]
    fn capacity_is_the_valid_numbers_of_the_999_range() {
        assert_eq!(synthetic_capacity(), 909_091);
    }

    #[test]
    fn phone_numbers_are_in_the_drama_ranges() {
        for (_, name, office, edt) in local_authorities() {
            assert!(office.starts_with("01632 960"), "{office}");
            assert!(edt.starts_with("07700 900"), "{edt}");
            assert!(name.ends_with("(synthetic)"));
        }
    }
}
