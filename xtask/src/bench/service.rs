//! Service benchmark: silent CareTeam lookups per second and latency percentiles, with token
//! checks on (the service's own opaque access tokens, obtained through its token exchange
//! for each run), against the seeded reference service on SQLite and on PostgreSQL, measured
//! with `oha` (closed loop for the most requests per second; open loop with latency correction at
//! fixed rates), beside the bare axum server in `cpis-bench` (a JSON route, and a route that
//! verifies an RS256 JWT on every request) measured the same way in the same run. Every oha
//! report is kept under `target/bench/service/<smoke|full>/oha-<database>/`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::servers::{
    Binaries, Server, build, mode, service_token, start_bare, start_service, token, work_dir,
};
use super::{Figure, Goal, Scale, median};

mod oha;
mod seed;

use oha::{CLOSED_CONNECTIONS, Drive, OPEN_CONNECTIONS, Target, UrlSource, run_oha};
use seed::{Seeded, postgres_database, seed};

/// The 999 test range holds at most this many children beside the `not_in_pds` reserve and the
/// mothers the seed adds (`cpis-service seed` refuses more).
const FULL_CHILDREN: u64 = 886_820;
const SMOKE_CHILDREN: u64 = 2_000;
/// Open-loop rates, requests per second.
const RATES: [u32; 3] = [500, 1000, 2000];
/// The rate the p99 goal is judged at, and the goal in ms.
const GOAL_RATE: u32 = 2000;
const GOAL_P99_MS: f64 = 2.0;

fn care_team_url(base: &str, number: &str) -> String {
    format!(
        "{base}/cpis/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C{number}"
    )
}

fn write_urls(path: &Path, base: &str, numbers: &[String]) -> Result<()> {
    let text: String = numbers
        .iter()
        .map(|number| care_team_url(base, number) + "\n")
        .collect();
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Per-run values of every figure for one database.
#[derive(Debug, Default)]
struct Runs {
    service_max: Vec<f64>,
    bare_json_max: Vec<f64>,
    bare_rs256_max: Vec<f64>,
    unscheduled_max: Vec<f64>,
    /// Per rate: service p50, service p99, bare p50, bare p99.
    open: Vec<[Vec<f64>; 4]>,
}

#[allow(clippy::too_many_arguments)]
fn measure_database(
    scale: &Scale,
    binaries: &Binaries,
    oha: &Path,
    bare: &Server,
    bare_token: &str,
    dir: &Path,
    label: &str,
    seeded: &Seeded,
) -> Result<Runs> {
    let service = start_service(
        binaries,
        &seeded.url,
        dir,
        &dir.join(format!("service-{label}.log")),
    )?;
    let silent_urls = dir.join(format!("urls-silent-{label}.txt"));
    write_urls(&silent_urls, &service.base, &seeded.numbers)?;
    let plan_urls = dir.join(format!("urls-plans-{label}.txt"));
    write_urls(&plan_urls, &service.base, &seeded.numbers_with_plans)?;
    // The service's opaque access tokens live about 10 minutes: a fresh one for each run.
    let trace = "TraceID: 6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b".to_owned();
    let service_targets = || -> Result<(Target, Target)> {
        let authorization = format!(
            "Authorization: Bearer {}",
            service_token(binaries, &service.base)?
        );
        let silent = Target {
            urls: UrlSource::File(silent_urls.clone()),
            headers: vec![
                authorization.clone(),
                trace.clone(),
                "IsUnscheduledAccessEvent: false".into(),
            ],
        };
        let unscheduled = Target {
            urls: UrlSource::File(plan_urls.clone()),
            headers: vec![
                authorization,
                trace.clone(),
                "IsUnscheduledAccessEvent: true".into(),
            ],
        };
        Ok((silent, unscheduled))
    };
    let (silent, _) = service_targets()?;
    let authorization = format!("Authorization: Bearer {bare_token}");
    let bare_json = Target {
        urls: UrlSource::One(format!("{}/json", bare.base)),
        headers: vec![authorization.clone()],
    };
    let bare_rs256 = Target {
        urls: UrlSource::One(format!("{}/rs256", bare.base)),
        headers: vec![authorization],
    };
    let (seconds, warmup) = if scale.smoke { (2, 1) } else { (10, 5) };
    // Warm the service (page cache, pool) and the bare server.
    let raw = dir.join(format!("oha-{label}"));
    std::fs::create_dir_all(&raw)?;
    run_oha(oha, &silent, Drive::Closed, warmup, &raw, "warmup-service")?;
    run_oha(
        oha,
        &bare_json,
        Drive::Closed,
        warmup.min(2),
        &raw,
        "warmup-bare",
    )?;

    let mut runs = Runs {
        open: RATES.iter().map(|_| Default::default()).collect(),
        ..Runs::default()
    };
    for run in 1..=scale.runs.max(1) {
        eprintln!("bench: service on {label}, run {run} of {}", scale.runs);
        let (silent, unscheduled) = service_targets()?;
        let tag = |what: &str| format!("run{run}-{what}");
        runs.service_max.push(
            run_oha(
                oha,
                &silent,
                Drive::Closed,
                seconds,
                &raw,
                &tag("silent-max"),
            )?
            .requests_per_second,
        );
        runs.bare_json_max.push(
            run_oha(
                oha,
                &bare_json,
                Drive::Closed,
                seconds,
                &raw,
                &tag("bare-json-max"),
            )?
            .requests_per_second,
        );
        runs.bare_rs256_max.push(
            run_oha(
                oha,
                &bare_rs256,
                Drive::Closed,
                seconds,
                &raw,
                &tag("bare-rs256-max"),
            )?
            .requests_per_second,
        );
        for (index, rate) in RATES.iter().enumerate() {
            let service_tag = tag(&format!("silent-{rate}"));
            let service_load = run_oha(
                oha,
                &silent,
                Drive::Open(*rate),
                seconds,
                &raw,
                &service_tag,
            )?;
            let bare_tag = tag(&format!("bare-json-{rate}"));
            let bare_load = run_oha(
                oha,
                &bare_json,
                Drive::Open(*rate),
                seconds,
                &raw,
                &bare_tag,
            )?;
            let [service_p50, service_p99, bare_p50, bare_p99] = &mut runs.open[index];
            service_p50.push(service_load.p50_ms);
            service_p99.push(service_load.p99_ms);
            bare_p50.push(bare_load.p50_ms);
            bare_p99.push(bare_load.p99_ms);
        }
        runs.unscheduled_max.push(
            run_oha(
                oha,
                &unscheduled,
                Drive::Closed,
                seconds,
                &raw,
                &tag("unscheduled-max"),
            )?
            .requests_per_second,
        );
    }
    drop(service);
    Ok(runs)
}

fn figures_for(
    section: &str,
    runs: Runs,
    setup_note: &str,
    seconds: u32,
    numbers: usize,
    plan_numbers: usize,
) -> Vec<Figure> {
    let mut figures = vec![
        Figure {
            section: section.to_owned(),
            name: "silent lookup, most requests per second".into(),
            unit: "req/s".into(),
            values: runs.service_max.clone(),
            baseline_name: "bare axum JSON route, same load".into(),
            baseline: runs.bare_json_max.clone(),
            goal: Goal::RatioAtLeast(0.5),
            note: format!(
                "oha closed loop, {CLOSED_CONNECTIONS} connections, {seconds} s; CareTeam search \
                 with IsUnscheduledAccessEvent: false each to one of {numbers} seeded NHS numbers drawn at random; \
                 {setup_note}"
            ),
        },
        Figure {
            section: section.to_owned(),
            name: "silent lookup, most requests per second, vs RS256 check".into(),
            unit: "req/s".into(),
            values: runs.service_max,
            baseline_name: "bare axum route verifying an RS256 JWT on every request".into(),
            baseline: runs.bare_rs256_max,
            goal: Goal::None,
            note: "the service looks its opaque access token up by SHA-256 in its database (and \
                   the role in its role directory) on every request; the bare route verifies an \
                   RS256 signature every time"
                .into(),
        },
    ];
    for (rate, [service_p50, service_p99, bare_p50, bare_p99]) in RATES.iter().zip(runs.open) {
        let note = format!(
            "oha open loop at {rate}/s with latency correction, {OPEN_CONNECTIONS} connections, \
             {seconds} s"
        );
        figures.push(Figure {
            section: section.to_owned(),
            name: format!("silent lookup p50 at {rate}/s"),
            unit: "ms".into(),
            values: service_p50,
            baseline_name: format!("bare axum JSON route p50 at {rate}/s"),
            baseline: bare_p50,
            goal: Goal::None,
            note: note.clone(),
        });
        figures.push(Figure {
            section: section.to_owned(),
            name: format!("silent lookup p99 at {rate}/s"),
            unit: "ms".into(),
            values: service_p99,
            baseline_name: format!("bare axum JSON route p99 at {rate}/s"),
            baseline: bare_p99,
            goal: if *rate == GOAL_RATE {
                Goal::ValueAtMost(GOAL_P99_MS)
            } else {
                Goal::None
            },
            note,
        });
    }
    figures.push(Figure {
        section: section.to_owned(),
        name: "unscheduled lookup, most requests per second".into(),
        unit: "req/s".into(),
        values: runs.unscheduled_max,
        baseline_name: "bare axum JSON route, same load".into(),
        baseline: runs.bare_json_max,
        goal: Goal::None,
        note: format!(
            "oha closed loop, {CLOSED_CONNECTIONS} connections, {seconds} s; \
             IsUnscheduledAccessEvent: true over {plan_numbers} NHS numbers with a plan, so each \
             lookup commits an access and its notifications before answering"
        ),
    });
    figures
}

/// Measure the service on SQLite and on PostgreSQL; see the module documentation.
pub fn run(scale: &Scale) -> Result<Vec<Figure>> {
    let binaries = build(scale)?;
    let oha = oha::installed()?;
    // Seeded databases are kept in `target/bench/service` and reused; everything else of this
    // run goes in its mode's own folder, made afresh.
    let dir = work_dir("service", false)?;
    let run_dir = work_dir(&format!("service/{}", mode(scale)), true)?;
    let children = if scale.smoke {
        SMOKE_CHILDREN
    } else {
        FULL_CHILDREN
    };
    let seconds = if scale.smoke { 2 } else { 10 };
    // The bare RS256 route's token; the service's come from its token exchange.
    let token = token(&binaries)?;
    let bare = start_bare(&binaries, &run_dir.join("bare.log"))?;
    let today = time_today()?;
    let children_note = if scale.smoke {
        format!("{children} children (smoke run: figures mean nothing)")
    } else {
        format!(
            "{children} seeded children (the most the 999 test range holds; the issue asks for \
             1,000,000)"
        )
    };
    let setup_note = format!(
        "{children_note}; service and oha share the machine's cores; {} build; \
         the service logs each request at info to a file",
        binaries.profile
    );
    // One database's runs, as figures under `section`.
    let measure = |section: &str, label: &str, seeded: &Seeded| -> Result<Vec<Figure>> {
        let runs = measure_database(
            scale, &binaries, &oha, &bare, &token, &run_dir, label, seeded,
        )?;
        Ok(figures_for(
            section,
            runs,
            &setup_note,
            seconds,
            seeded.numbers.len(),
            seeded.numbers_with_plans.len(),
        ))
    };

    let mut figures = Vec::new();

    let sqlite_file = dir.join(format!("sqlite-{children}-{today}.db"));
    let sqlite_manifest = dir.join(format!("sqlite-{children}-{today}.manifest.json"));
    if !sqlite_manifest.exists() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", sqlite_file.display()));
        }
    }
    let sqlite = seed(
        &binaries,
        &format!("sqlite://{}", sqlite_file.display()),
        &sqlite_manifest,
        children,
        true,
    )?;
    figures.extend(measure("Service (SQLite)", "sqlite", &sqlite)?);

    let postgres_manifest = dir.join(format!("postgres-{children}-{today}.manifest.json"));
    let postgres_url = postgres_database(children, &postgres_manifest)?;
    let postgres = seed(&binaries, &postgres_url, &postgres_manifest, children, true)?;
    figures.extend(measure("Service (PostgreSQL)", "postgres", &postgres)?);
    drop(bare);

    for figure in &figures {
        if figure.values.is_empty() || median(&figure.values).is_none() {
            bail!("{}: {} has no values", figure.section, figure.name);
        }
    }
    Ok(figures)
}

/// Today's date (UTC) as YYYY-MM-DD, naming the seeded databases (the seed's scenarios are
/// relative to the day).
fn time_today() -> Result<String> {
    let output = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .context("could not run date")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
