//! Service benchmark: silent CareTeam lookups per second and latency percentiles, with token
//! validation on, against the seeded reference service on SQLite and on PostgreSQL, measured
//! with `oha` (closed loop for the most requests per second; open loop with latency correction at
//! fixed rates), beside the bare axum server in `cpis-bench` (a JSON route, and a route that
//! verifies an RS256 JWT on every request) measured the same way in the same run. Every oha
//! report is kept under `target/bench/service/<smoke|full>/oha-<database>/`.
//!
//! Also the helpers the audit part shares: building the release binaries, starting the service
//! and the bare server, minting the TEST-ONLY token.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{Figure, Goal, Scale, median};

/// The `oha` version installed under `target/bench/tools` (builds with rustc 1.88 and later).
const OHA_VERSION: &str = "1.16.0";
/// The issuer and audience the bench token carries (see `crates/cpis-bench/src/keys.rs`).
const ISSUER: &str = "https://idp.bench.invalid";
const AUDIENCE: &str = "cpis-service";
/// The 999 test range holds at most this many children beside the `not_in_pds` reserve and the
/// mothers the seed adds (`cpis-service seed` refuses more).
const FULL_CHILDREN: u64 = 886_820;
const SMOKE_CHILDREN: u64 = 2_000;
/// Open-loop rates, requests per second.
const RATES: [u32; 3] = [500, 1000, 2000];
/// The rate the p99 goal is judged at, and the goal in ms.
const GOAL_RATE: u32 = 2000;
const GOAL_P99_MS: f64 = 2.0;
/// Connections for the closed-loop runs.
const CLOSED_CONNECTIONS: u32 = 50;
/// Connections available to the open-loop runs (enough that none waits for a free one).
const OPEN_CONNECTIONS: u32 = 32;

/// The binaries the bench runs, and which profile they were built with.
#[derive(Debug, Clone)]
pub(crate) struct Binaries {
    pub service: PathBuf,
    pub bench: PathBuf,
    pub profile: &'static str,
}

/// The bench's working folder, `target/bench/<part>`, made afresh when `fresh`.
pub(crate) fn work_dir(part: &str, fresh: bool) -> Result<PathBuf> {
    let dir = crate::root().join("target/bench").join(part);
    if fresh && dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// The folder for one mode's per-run files (logs, URL lists, raw reports): `smoke` or `full`,
/// so that the test command's smoke run never overwrites the files of a real run going on at
/// the same time (two real runs at once would spoil each other's figures anyway).
pub(crate) fn mode(scale: &Scale) -> &'static str {
    if scale.smoke { "smoke" } else { "full" }
}

/// Build `cpis-service` and `cpis-bench`: release for real figures, debug for the smoke run
/// (which only checks the harness works; the test command has the debug build already).
pub(crate) fn build(scale: &Scale) -> Result<Binaries> {
    let root = crate::root();
    let mut args = vec!["build", "-p", "cpis-service", "-p", "cpis-bench"];
    let profile = if scale.smoke {
        "debug"
    } else {
        args.push("--release");
        "release"
    };
    crate::run(&root, "cargo", &args)?;
    let dir = root.join("target").join(profile);
    Ok(Binaries {
        service: dir.join("cpis-service"),
        bench: dir.join("cpis-bench"),
        profile,
    })
}

/// A server process, killed when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `command`, whose first stdout line is `<prefix>http://ADDR`; stderr goes to `log`.
fn start_server(mut command: Command, prefix: &str, log: &Path) -> Result<Server> {
    let log_file =
        std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file);
    let mut child = command
        .spawn()
        .with_context(|| format!("could not start {command:?}"))?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut first_line = String::new();
    reader.read_line(&mut first_line)?;
    let Some(base) = first_line.trim().strip_prefix(prefix).map(str::to_owned) else {
        let _ = child.kill();
        let _ = child.wait();
        bail!(
            "{command:?} did not start (first line {first_line:?}); see {}",
            log.display()
        );
    };
    // Keep reading stdout so that the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    Ok(Server { child, base })
}

/// Start the reference service on `database` with the bench JWKS, on a free port.
pub(crate) fn start_service(
    binaries: &Binaries,
    database: &str,
    dir: &Path,
    log: &Path,
) -> Result<Server> {
    let jwks = dir.join("jwks.json");
    std::fs::write(&jwks, bench_output(binaries, &["jwks"])?)?;
    let mut command = Command::new(&binaries.service);
    command
        .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
        .args(["--issuer", ISSUER, "--audience", AUDIENCE, "--jwks-file"])
        .arg(&jwks)
        .env_remove("CPIS_CONFIG");
    start_server(command, "cpis-service listening on ", log)
}

/// Start the bare axum server.
pub(crate) fn start_bare(binaries: &Binaries, log: &Path) -> Result<Server> {
    let mut command = Command::new(&binaries.bench);
    command.args(["bare", "--listen", "127.0.0.1:0"]);
    start_server(command, "cpis-bench bare listening on ", log)
}

/// Run `cpis-bench` with `args` and return its stdout.
pub(crate) fn bench_output(binaries: &Binaries, args: &[&str]) -> Result<String> {
    let output = Command::new(&binaries.bench)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not run cpis-bench {}", args.join(" ")))?;
    if !output.status.success() {
        bail!("cpis-bench {} failed ({})", args.join(" "), output.status);
    }
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// A TEST-ONLY access token for the bench nurse, valid for two hours.
pub(crate) fn token(binaries: &Binaries) -> Result<String> {
    bench_output(binaries, &["token", "--expires-in", "7200"])
}

/// `oha`, installed once under `target/bench/tools` at a pinned version.
fn oha() -> Result<PathBuf> {
    let root = crate::root();
    let tools = root.join("target/bench/tools");
    let oha = tools.join("bin/oha");
    let version = Command::new(&oha)
        .arg("--version")
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned());
    if !version.is_some_and(|text| text.contains(OHA_VERSION)) {
        let tools_text = tools.display().to_string();
        crate::run(
            &root,
            "cargo",
            &[
                "install",
                "oha",
                "--version",
                OHA_VERSION,
                "--locked",
                "--root",
                &tools_text,
            ],
        )?;
    }
    Ok(oha)
}

/// One load: what oha reported.
#[derive(Debug, Clone, Copy)]
struct Load {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// How a load is driven.
#[derive(Debug, Clone, Copy)]
enum Drive {
    /// As fast as `CLOSED_CONNECTIONS` connections go.
    Closed,
    /// At a fixed rate, latency measured from when each request was due.
    Open(u32),
}

/// What to request.
#[derive(Debug, Clone)]
struct Target {
    /// A file of URLs, one a line, requested in turn, or one URL.
    urls: UrlSource,
    headers: Vec<String>,
}

#[derive(Debug, Clone)]
enum UrlSource {
    File(PathBuf),
    One(String),
}

/// Run one load and keep oha's JSON report as `raw/<tag>.json`.
fn run_oha(
    oha: &Path,
    target: &Target,
    drive: Drive,
    seconds: u32,
    raw: &Path,
    tag: &str,
) -> Result<Load> {
    let mut command = Command::new(oha);
    command.args(["--no-tui", "--output-format", "json", "-z"]);
    command.arg(format!("{seconds}s"));
    match drive {
        Drive::Closed => {
            command.args(["-c", &CLOSED_CONNECTIONS.to_string()]);
        }
        Drive::Open(rate) => {
            command.args(["-c", &OPEN_CONNECTIONS.to_string()]);
            command.args(["-q", &rate.to_string(), "--latency-correction"]);
        }
    }
    for header in &target.headers {
        command.args(["-H", header]);
    }
    match &target.urls {
        UrlSource::File(path) => {
            command.arg("--urls-from-file").arg(path);
        }
        UrlSource::One(url) => {
            command.arg(url);
        }
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .context("could not run oha")?;
    if !output.status.success() {
        bail!("oha failed ({})", output.status);
    }
    std::fs::write(raw.join(format!("{tag}.json")), &output.stdout)?;
    let report: Value = serde_json::from_slice(&output.stdout)
        .with_context(|| "oha's output is not JSON".to_string())?;
    parse_oha(&report)
}

fn parse_oha(report: &Value) -> Result<Load> {
    let statuses = report["statusCodeDistribution"]
        .as_object()
        .context("oha: no statusCodeDistribution")?;
    let bad: Vec<String> = statuses
        .iter()
        .filter(|(code, _)| !code.starts_with('2'))
        .map(|(code, count)| format!("{code}: {count}"))
        .collect();
    if !bad.is_empty() || statuses.is_empty() {
        bail!("oha saw non-2xx answers or none at all: {bad:?}");
    }
    // With `-z`, the requests still in flight at the deadline are cancelled and counted as
    // "aborted due to deadline": not a failure of the server.
    let errors: Vec<&String> = report["errorDistribution"]
        .as_object()
        .map(|errors| {
            errors
                .keys()
                .filter(|error| *error != "aborted due to deadline")
                .collect()
        })
        .unwrap_or_default();
    if !errors.is_empty() {
        bail!("oha saw errors: {}", report["errorDistribution"]);
    }
    let seconds = |key: &str| {
        report["latencyPercentiles"][key]
            .as_f64()
            .with_context(|| format!("oha: no latencyPercentiles.{key}"))
    };
    Ok(Load {
        requests_per_second: report["summary"]["requestsPerSec"]
            .as_f64()
            .context("oha: no summary.requestsPerSec")?,
        p50_ms: seconds("p50")? * 1000.0,
        p99_ms: seconds("p99")? * 1000.0,
    })
}

/// A seeded database and the URLs to look up.
#[derive(Debug)]
struct Seeded {
    url: String,
    /// NHS numbers from every scenario but `not_in_pds`.
    numbers: Vec<String>,
    /// NHS numbers with a current plan (an unscheduled lookup of one commits a write).
    numbers_with_plans: Vec<String>,
}

fn numbers_from_manifest(manifest: &Value) -> Result<(Vec<String>, Vec<String>)> {
    let scenarios = manifest["scenarios"]
        .as_object()
        .context("manifest: no scenarios")?;
    let mut all = Vec::new();
    let mut with_plans = Vec::new();
    for (scenario, numbers) in scenarios {
        let numbers: Vec<String> = numbers
            .as_array()
            .context("manifest: a scenario is not a list")?
            .iter()
            .filter_map(|number| number.as_str().map(str::to_owned))
            .collect();
        if scenario == "not_in_pds" {
            continue;
        }
        if matches!(scenario.as_str(), "cpp" | "lac" | "multiple" | "unborn") {
            with_plans.extend(numbers.iter().cloned());
        }
        all.extend(numbers);
    }
    if all.is_empty() || with_plans.is_empty() {
        bail!("the manifest lists no numbers to look up");
    }
    Ok((all, with_plans))
}

/// Seed `database` unless `manifest` says an earlier run already did.
fn seed(
    binaries: &Binaries,
    database: &str,
    manifest: &Path,
    children: u64,
    reuse: bool,
) -> Result<Seeded> {
    if !(reuse && manifest.exists()) {
        let _ = std::fs::remove_file(manifest);
        let children_text = children.to_string();
        let manifest_text = manifest.display().to_string();
        let started = std::time::Instant::now();
        crate::run(
            &crate::root(),
            &binaries.service.display().to_string(),
            &[
                "seed",
                "--database",
                database,
                "--children",
                &children_text,
                "--seed",
                "1",
                "--examples",
                "1000",
                "--manifest",
                &manifest_text,
            ],
        )?;
        eprintln!(
            "bench: seeded {children} children in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    } else {
        eprintln!("bench: reusing the database seeded earlier ({database})");
    }
    let manifest: Value = serde_json::from_slice(&std::fs::read(manifest)?)?;
    let (numbers, numbers_with_plans) = numbers_from_manifest(&manifest)?;
    Ok(Seeded {
        url: database.to_owned(),
        numbers,
        numbers_with_plans,
    })
}

fn psql() -> PathBuf {
    let on_path = Command::new("psql")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if on_path {
        return PathBuf::from("psql");
    }
    std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin/psql"))
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("psql"))
}

fn psql_query(server: &str, sql: &str) -> Result<String> {
    let output = Command::new(psql())
        .args([&format!("{server}/postgres"), "-tAc", sql])
        .output()
        .context("could not run psql")?;
    if !output.status.success() {
        bail!(
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The bench's own database on the throwaway PostgreSQL server: `cpis_bench_<children>`,
/// created when missing (and its manifest removed, so that it is seeded).
fn postgres_database(children: u64, manifest: &Path) -> Result<String> {
    let url = crate::postgres::ensure_postgres()?;
    let (server, _) = url
        .rsplit_once('/')
        .context("the PostgreSQL URL has no database")?;
    let name = format!("cpis_bench_{children}");
    let exists = psql_query(
        server,
        &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
    )? == "1";
    if !exists || !manifest.exists() {
        psql_query(server, &format!("DROP DATABASE IF EXISTS {name}"))?;
        psql_query(server, &format!("CREATE DATABASE {name}"))?;
        let _ = std::fs::remove_file(manifest);
    }
    Ok(format!("{server}/{name}"))
}

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
    token: &str,
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
    let authorization = format!("Authorization: Bearer {token}");
    let trace = "TraceID: 6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b".to_owned();
    let silent = Target {
        urls: UrlSource::File(silent_urls),
        headers: vec![
            authorization.clone(),
            trace.clone(),
            "IsUnscheduledAccessEvent: false".into(),
        ],
    };
    let unscheduled = Target {
        urls: UrlSource::File(plan_urls),
        headers: vec![
            authorization.clone(),
            trace,
            "IsUnscheduledAccessEvent: true".into(),
        ],
    };
    let bare_json = Target {
        urls: UrlSource::One(format!("{}/json", bare.base)),
        headers: vec![authorization.clone()],
    };
    let bare_rs256 = Target {
        urls: UrlSource::One(format!("{}/rs256", bare.base)),
        headers: vec![authorization],
    };
    let (seconds, warmup) = if scale.smoke { (2, 1) } else { (10, 5) };
    // Warm the service (page cache, pool, token cache) and the bare server.
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
            note: "the service verifies each distinct token once and then finds it in a cache \
                   keyed by its SHA-256; the bare route verifies the signature every time"
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
    let oha = oha()?;
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
    let runs = measure_database(
        scale, &binaries, &oha, &bare, &token, &run_dir, "sqlite", &sqlite,
    )?;
    figures.extend(figures_for(
        "Service (SQLite)",
        runs,
        &setup_note,
        seconds,
        sqlite.numbers.len(),
        sqlite.numbers_with_plans.len(),
    ));

    let postgres_manifest = dir.join(format!("postgres-{children}-{today}.manifest.json"));
    let postgres_url = postgres_database(children, &postgres_manifest)?;
    let postgres = seed(&binaries, &postgres_url, &postgres_manifest, children, true)?;
    let runs = measure_database(
        scale, &binaries, &oha, &bare, &token, &run_dir, "postgres", &postgres,
    )?;
    figures.extend(figures_for(
        "Service (PostgreSQL)",
        runs,
        &setup_note,
        seconds,
        postgres.numbers.len(),
        postgres.numbers_with_plans.len(),
    ));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oha_json_is_read_and_non_2xx_answers_are_refused() {
        let report = serde_json::json!({
            "summary": {"requestsPerSec": 1234.5},
            "latencyPercentiles": {"p50": 0.0005, "p99": 0.0021},
            "statusCodeDistribution": {"200": 10},
            "errorDistribution": {"aborted due to deadline": 3},
        });
        let load = parse_oha(&report).expect("load");
        assert_eq!(load.requests_per_second, 1234.5);
        assert!((load.p50_ms - 0.5).abs() < 1e-9);
        assert!((load.p99_ms - 2.1).abs() < 1e-9);
        let mut bad = report.clone();
        bad["statusCodeDistribution"] = serde_json::json!({"200": 10, "401": 1});
        assert!(parse_oha(&bad).is_err());
        let mut refused = report.clone();
        refused["errorDistribution"] = serde_json::json!({"connection refused": 1});
        assert!(parse_oha(&refused).is_err());
    }

    #[test]
    fn the_manifest_gives_numbers_without_not_in_pds() {
        let manifest = serde_json::json!({"scenarios": {
            "cpp": ["9990000018"], "no_plan": ["9990000026"], "not_in_pds": ["9990000034"],
        }});
        let (all, with_plans) = numbers_from_manifest(&manifest).expect("numbers");
        assert_eq!(all, vec!["9990000018", "9990000026"]);
        assert_eq!(with_plans, vec!["9990000018"]);
    }
}
