//! Deterministic synthetic data: people (the demographics stand-in), local authorities and plans,
//! with a manifest naming NHS numbers for each scenario.
//!
//! Everything is invented: NHS numbers are in the synthetic `999` range and pass Modulus 11;
//! phone numbers are in Ofcom's drama ranges (`01632 960xxx`, `07700 900xxx`); names are made
//! of invented syllables. The same `--seed`, `--children` and `--today` give the same data.
//!
//! The `999` range has 1,000,000 nine-digit prefixes of which about 1 in 11 cannot take a
//! check digit, so it holds 909,091 valid numbers: that is the most people one seed can write.
//!
//! The platform's role directory gets the synthetic users of `dev-idp/users.json` ([`roles`]).
//!
//! This module writes; [`synthetic`] invents the people, authorities and plans.

pub mod roles;
mod synthetic;

use std::collections::BTreeMap;

use cpis_domain::NhsNumber;
use serde::Serialize;
use time::Date;

use crate::seed::synthetic::{NhsNumbers, SplitMix, child, mother, visible_with_social_worker};
use crate::store::{Cell, Store, StoreError, date_text, to_micros};

pub use crate::seed::roles::{seed_role_directory, synthetic_directory_roles};
pub use crate::seed::synthetic::{LOCAL_AUTHORITY_COUNT, local_authorities, synthetic_capacity};

/// The scenarios every manifest has.
pub const SCENARIOS: [&str; 14] = [
    "cpp",
    "lac",
    "multiple",
    "ended_within_window",
    "ended_outside_window",
    "aged_17",
    "aged_18",
    "unborn",
    "unborn_ended_within_window",
    "unborn_ended_outside_window",
    "social_worker",
    "no_social_worker",
    "no_plan",
    "not_in_pds",
];

/// How many people rows go into one INSERT.
const BATCH_ROWS: usize = 1000;
/// How many batches go into one transaction.
const BATCHES_PER_TRANSACTION: usize = 50;
/// Valid synthetic numbers kept unused, for the `not_in_pds` scenario.
const NOT_IN_PDS_RESERVE: u64 = 100;

/// What to seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    /// How many children (people under 19 with or without plans).
    pub children: u64,
    /// The random seed.
    pub seed: u64,
    /// The day the scenarios are relative to (ages, windows).
    pub today: Date,
    /// How many NHS numbers each scenario lists.
    pub examples_per_scenario: usize,
}

/// The manifest: `{"scenarios": {"cpp": ["999..."], ...}, ...}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Manifest {
    /// NHS numbers (ten digits) per scenario.
    pub scenarios: BTreeMap<String, Vec<String>>,
    /// The seed used.
    pub seed: u64,
    /// The day the data is relative to.
    pub today: String,
    /// Children written.
    pub children: u64,
    /// Pregnant women (unborn plans) written.
    pub mothers: u64,
    /// Plans written.
    pub plans: u64,
}

/// Seed an empty database. Returns the manifest.
pub async fn seed(store: &Store, options: SeedOptions) -> Result<Manifest, StoreError> {
    if store.count_people().await? > 0 {
        return Err(StoreError::AlreadySeeded);
    }
    let mothers = (options.children / 40).max(3);
    let total = options.children + mothers;
    let capacity = synthetic_capacity() - NOT_IN_PDS_RESERVE;
    if total > capacity {
        return Err(StoreError::TooManyPeople {
            asked: total,
            capacity,
            max_children: capacity * 40 / 41,
        });
    }
    seed_role_directory(store).await?;
    let authorities = local_authorities();
    let now = to_micros(time::OffsetDateTime::now_utc());
    let mut connection = store.pool().acquire().await?;
    {
        let rows: Vec<Vec<Cell>> = authorities
            .iter()
            .map(|(ods, name, office, edt)| {
                vec![
                    Cell::Text(Some(ods.clone())),
                    Cell::Text(Some(name.clone())),
                    Cell::Text(Some(office.clone())),
                    Cell::Text(Some(edt.clone())),
                ]
            })
            .collect();
        store
            .insert_rows(
                &mut connection,
                "local_authorities (ods_code, name, office_hours_phone, emergency_duty_phone)",
                4,
                &rows,
            )
            .await?;
    }

    let mut scenarios: BTreeMap<String, Vec<String>> = SCENARIOS
        .iter()
        .map(|name| ((*name).to_owned(), Vec::new()))
        .collect();
    let mut note = |scenario: &str, number: &NhsNumber| {
        if let Some(list) = scenarios.get_mut(scenario)
            && list.len() < options.examples_per_scenario
        {
            list.push(number.as_str().to_owned());
        }
    };

    let mut numbers = NhsNumbers::new(options.seed);
    let mut people_rows: Vec<Vec<Cell>> = Vec::with_capacity(BATCH_ROWS);
    let mut plan_rows: Vec<Vec<Cell>> = Vec::with_capacity(BATCH_ROWS * 2);
    let mut plan_count: u64 = 0;
    let mut batches_in_transaction = 0usize;
    let mut transaction = sqlx::Connection::begin(&mut *connection).await?;
    for index in 0..total {
        let Some(nhs_number) = numbers.next() else {
            break;
        };
        let mut mix = SplitMix::new(options.seed, index + 1);
        let person = if index < options.children {
            child(&mut mix, options.today)
        } else {
            mother(&mut mix, options.today)
        };
        note(person.scenario, &nhs_number);
        match visible_with_social_worker(&person, options.today) {
            Some(true) => note("social_worker", &nhs_number),
            Some(false) => note("no_social_worker", &nhs_number),
            None => {}
        }
        people_rows.push(vec![
            Cell::Text(Some(nhs_number.as_str().to_owned())),
            Cell::Text(Some(person.family)),
            Cell::Text(Some(
                serde_json::to_string(&person.given).unwrap_or_else(|_| "[]".into()),
            )),
            Cell::Text(Some(date_text(person.date_of_birth))),
            Cell::Text(Some(person.gender.to_owned())),
        ]);
        for (plan_index, row) in person.plans.iter().enumerate() {
            plan_count += 1;
            let (worker_name, worker_phone) = match &row.social_worker {
                Some((name, phone)) => (Some(name.clone()), Some(phone.clone())),
                None => (None, None),
            };
            plan_rows.push(vec![
                Cell::Text(Some(format!(
                    "seed-{}-{}-{}",
                    options.seed, index, plan_index
                ))),
                Cell::Text(Some(nhs_number.as_str().to_owned())),
                Cell::Text(authorities.get(row.la).map(|la| la.0.clone())),
                Cell::Text(Some(row.plan_type.short_code().to_owned())),
                Cell::Text(Some(date_text(row.start))),
                Cell::Text(row.end.map(date_text)),
                Cell::Text(worker_name),
                Cell::Text(worker_phone),
                Cell::Integer(now),
            ]);
        }
        if people_rows.len() >= BATCH_ROWS {
            flush(store, &mut transaction, &mut people_rows, &mut plan_rows).await?;
            batches_in_transaction += 1;
            if batches_in_transaction >= BATCHES_PER_TRANSACTION {
                transaction.commit().await?;
                transaction = sqlx::Connection::begin(&mut *connection).await?;
                batches_in_transaction = 0;
            }
        }
    }
    flush(store, &mut transaction, &mut people_rows, &mut plan_rows).await?;
    transaction.commit().await?;
    let reserve = usize::try_from(NOT_IN_PDS_RESERVE).unwrap_or(1);
    for number in numbers.take(options.examples_per_scenario.clamp(1, reserve)) {
        note("not_in_pds", &number);
    }
    Ok(Manifest {
        scenarios,
        seed: options.seed,
        today: date_text(options.today),
        children: options.children,
        mothers,
        plans: plan_count,
    })
}

async fn flush(
    store: &Store,
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    people: &mut Vec<Vec<Cell>>,
    plans: &mut Vec<Vec<Cell>>,
) -> Result<(), StoreError> {
    store
        .insert_rows(
            transaction,
            "people (nhs_number, family_name, given_names, date_of_birth, gender)",
            5,
            people,
        )
        .await?;
    for chunk in plans.chunks(BATCH_ROWS) {
        store
            .insert_rows(
                transaction,
                "plans (id, nhs_number, la_ods_code, plan_type, start_date, end_date, \
                 social_worker_name, social_worker_phone, updated_at)",
                9,
                chunk,
            )
            .await?;
    }
    people.clear();
    plans.clear();
    Ok(())
}
