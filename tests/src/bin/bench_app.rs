//! `bench_app`: the in-app half of `cargo xtask bench` (run by it under Xvfb and a D-Bus session
//! with a real keyring, as the end-to-end tests are). It writes one JSON object to `--out`:
//!
//! - `lookup_ms`: per run, Enter pressed to result rendered, from the `cpis-lookup` User Timing
//!   measures the UI takes (ui/src/pageTiming.ts), read back over WebDriver;
//! - `ipc_ms`: per run, Enter pressed to the IPC answer arriving in the page (before React
//!   renders it), from the `cpis-lookup-ipc` measures;
//! - `bare_ms`: per run, the bare HTTP round trip of the same CP-IS CareTeam search with the
//!   same access token (the app's own, read from the keyring) and the same headers;
//! - `start_ms` / `empty_start_ms`: per run, WebDriver new-session request to the NHS number
//!   field present and focused (for the empty Tauri app: its text field);
//! - `rss_mib` / `pss_mib` and `empty_rss_mib` / `empty_pss_mib`: per run, resident and
//!   proportional memory summed over the app process and all its descendants (WebKit's web and
//!   network processes), after ten lookups (the empty app: once its field is focused);
//! - `outcomes`: how many lookups ended in each result, as a check that they were real.
//!
//! Usage: `CPIS_E2E_SERVICE=PATH CPIS_E2E_BROKER=PATH bench_app --out FILE --app PATH
//! --empty-app PATH --runs R --lookups N`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cpis_e2e::{Driver, Stack, WAIT, wait_for};
use fantoccini::{Client, key::Key};
use serde_json::{Value, json};

struct Args {
    out: PathBuf,
    app: PathBuf,
    empty_app: PathBuf,
    runs: usize,
    lookups: usize,
}

fn parse_args() -> Result<Args> {
    let mut app = None;
    let mut out = None;
    let mut empty_app = None;
    let mut runs = 3;
    let mut lookups = 100;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--app" => app = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            "--empty-app" => empty_app = Some(PathBuf::from(value)),
            "--runs" => runs = value.parse().context("--runs")?,
            "--lookups" => lookups = value.parse().context("--lookups")?,
            _ => bail!("unknown flag {flag}"),
        }
    }
    let app = app.context("--app is required")?;
    if std::env::var_os("CPIS_E2E_SERVICE").is_none()
        || std::env::var_os("CPIS_E2E_BROKER").is_none()
    {
        bail!(
            "set CPIS_E2E_SERVICE and CPIS_E2E_BROKER to the reference service and token broker binaries (the harness reads them)"
        );
    }
    if runs == 0 || lookups < 10 {
        bail!("--runs must be at least 1 and --lookups at least 10");
    }
    Ok(Args {
        out: out.context("--out is required")?,
        app,
        empty_app: empty_app.context("--empty-app is required")?,
        runs,
        lookups,
    })
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let report = runtime.block_on(bench(&args))?;
    std::fs::write(&args.out, report.to_string())
        .with_context(|| format!("writing {}", args.out.display()))?;
    Ok(())
}

/// Every NHS number of every seed scenario, in a fixed order, so lookups cover them all.
fn scenario_numbers(stack: &Stack) -> Result<Vec<String>> {
    let scenarios = stack.manifest["scenarios"]
        .as_object()
        .context("the manifest has no scenarios")?;
    let mut numbers = Vec::new();
    for list in scenarios.values() {
        for number in list.as_array().into_iter().flatten() {
            if let Some(number) = number.as_str() {
                numbers.push(number.to_string());
            }
        }
    }
    if numbers.is_empty() {
        bail!("the manifest names no NHS numbers");
    }
    Ok(numbers)
}

async fn bench(args: &Args) -> Result<Value> {
    let stack = Stack::start()?;
    let numbers = scenario_numbers(&stack)?;
    let env = stack.app_env("ed-nurse");

    // Sign in once (not timed): later starts restore the session from the keyring, which is
    // how a clinician meets the app after the first sign-in of a shift.
    {
        let driver = Driver::start_with_env(&env)?;
        let client = driver.open_binary(&args.app).await?;
        wait_for(&client, "[data-testid='sign-in-button']")
            .await?
            .send_keys(&String::from(char::from(Key::Enter)))
            .await?;
        wait_for(&client, "#nhs-number").await?;
        client.close().await?;
    }

    let per_run = args.lookups.div_ceil(args.runs);
    let mut report = json!({
        "lookup_ms": [], "ipc_ms": [], "bare_ms": [], "start_ms": [], "empty_start_ms": [],
        "rss_mib": [], "pss_mib": [], "empty_rss_mib": [], "empty_pss_mib": [],
        "lookups_per_run": per_run, "scenario_numbers": numbers.len(),
    });
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let token = stack.app_access_token("ed-nurse")?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("HTTP client")?;
    for run in 0..args.runs {
        // The empty app first, then the app, in every run: the same conditions for both.
        let (empty_start, empty_memory) = empty_app_run(&args.empty_app).await?;
        push(&mut report, "empty_start_ms", json!(empty_start));
        push(&mut report, "empty_rss_mib", json!(empty_memory.0));
        push(&mut report, "empty_pss_mib", json!(empty_memory.1));

        let driver = Driver::start_with_env(&env)?;
        let started = Instant::now();
        let client = driver.open_binary(&args.app).await?;
        wait_focused(&client, "nhs-number").await?;
        push(&mut report, "start_ms", json!(millis(started.elapsed())));
        let mut durations = Vec::with_capacity(per_run);
        let mut ipc_durations = Vec::with_capacity(per_run);
        for index in 0..per_run {
            let number = &numbers[(run * per_run + index) % numbers.len()];
            let (duration, ipc, outcome) = timed_lookup(&client, number).await?;
            durations.push(duration);
            ipc_durations.push(ipc);
            *outcomes.entry(outcome).or_default() += 1;
            if index == 9 {
                let memory = tree_memory(driver.pid())?;
                push(&mut report, "rss_mib", json!(memory.0));
                push(&mut report, "pss_mib", json!(memory.1));
            }
        }
        client.close().await?;
        drop(driver);
        push(&mut report, "lookup_ms", json!(durations));
        push(&mut report, "ipc_ms", json!(ipc_durations));

        let mut bare = Vec::with_capacity(per_run);
        for index in 0..per_run {
            let number = &numbers[(run * per_run + index) % numbers.len()];
            bare.push(bare_round_trip(&http, &stack.service_url, &token, number).await?);
        }
        push(&mut report, "bare_ms", json!(bare));
    }
    report["outcomes"] = json!(outcomes);
    Ok(report)
}

fn push(report: &mut Value, key: &str, value: Value) {
    if let Some(list) = report[key].as_array_mut() {
        list.push(value);
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Poll (as fast as WebDriver answers) until the element with `id` has the keyboard focus.
async fn wait_focused(client: &Client, id: &str) -> Result<()> {
    let started = Instant::now();
    loop {
        let focused = client
            .execute(
                "const e = document.activeElement; return e !== null && e.id === arguments[0];",
                vec![json!(id)],
            )
            .await?;
        if focused == Value::Bool(true) {
            return Ok(());
        }
        if started.elapsed() > WAIT {
            bail!("#{id} never took the focus");
        }
    }
}

const MEASURES: &str =
    "return performance.getEntriesByName('cpis-lookup', 'measure').map(m => m.duration);";
const IPC_MEASURES: &str =
    "return performance.getEntriesByName('cpis-lookup-ipc', 'measure').map(m => m.duration);";

/// Type the number, press Enter, and wait for the UI's next `cpis-lookup` measure. Returns the
/// measure (ms), the `cpis-lookup-ipc` measure (to the IPC answer, before rendering) and which
/// result is on screen.
async fn timed_lookup(client: &Client, number: &str) -> Result<(f64, f64, String)> {
    let before = measures(client).await?.0.len();
    let field = wait_for(client, "#nhs-number").await?;
    field.clear().await?;
    field
        .send_keys(&format!("{number}{}", char::from(Key::Enter)))
        .await?;
    let started = Instant::now();
    loop {
        let (all, ipc) = measures(client).await?;
        if all.len() > before
            && let Some(last) = all.last()
        {
            let ipc = ipc.last().copied().unwrap_or(f64::NAN);
            let outcome = client
                .execute(
                    "const e = document.querySelector('[data-testid^=\"result-\"]'); return e === null ? 'none' : e.getAttribute('data-testid');",
                    vec![],
                )
                .await?;
            return Ok((*last, ipc, outcome.as_str().unwrap_or("none").to_string()));
        }
        if started.elapsed() > WAIT {
            cpis_e2e::save_artifacts(client, "bench-app").await;
            bail!("no lookup measure appeared");
        }
        // Not faster: each poll runs script in the page, on the thread that renders.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn measures(client: &Client) -> Result<(Vec<f64>, Vec<f64>)> {
    let list = |value: Value| -> Vec<f64> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_f64)
            .collect()
    };
    let all = list(client.execute(MEASURES, vec![]).await?);
    let ipc = list(client.execute(IPC_MEASURES, vec![]).await?);
    Ok((all, ipc))
}

/// Start the empty Tauri app, time it to its focused field, and measure its memory.
async fn empty_app_run(binary: &Path) -> Result<(f64, (f64, f64))> {
    let driver = Driver::start()?;
    let started = Instant::now();
    let client = driver.open_binary(binary).await?;
    wait_focused(&client, "field").await?;
    let start = millis(started.elapsed());
    // Let it settle as long as ten lookups would take the app, roughly.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let memory = tree_memory(driver.pid())?;
    client.close().await?;
    Ok((start, memory))
}

/// One CP-IS CareTeam search exactly as the app's client sends it (same token and headers).
async fn bare_round_trip(
    http: &reqwest::Client,
    service_url: &str,
    token: &str,
    number: &str,
) -> Result<f64> {
    let trace = uuid::Uuid::new_v4().to_string();
    let url = format!(
        "{service_url}/cpis/FHIR/R4/CareTeam?patient:identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C{number}"
    );
    let started = Instant::now();
    let response = http
        .get(url)
        .bearer_auth(token)
        .header("Accept", "application/fhir+json")
        .header("TraceID", &trace)
        .header("X-Request-ID", &trace)
        .header("IsUnscheduledAccessEvent", "true")
        .send()
        .await
        .context("bare CareTeam search")?;
    let status = response.status();
    let body = response.bytes().await?;
    let elapsed = millis(started.elapsed());
    if !status.is_success() || body.is_empty() {
        bail!("the bare CareTeam search answered {status}");
    }
    Ok(elapsed)
}

/// Resident and proportional memory (MiB) of every process under the driver that is not a
/// driver itself: the app and its WebKit processes.
fn tree_memory(driver_pid: u32) -> Result<(f64, f64)> {
    let (mut rss, mut pss) = (0u64, 0u64);
    let mut counted = 0;
    for process in cpis_supervisor::descendants(driver_pid) {
        if process.name == "tauri-driver" || process.name.starts_with("WebKitWebDriver") {
            continue;
        }
        let pid = process.pid;
        rss += kib_field(&format!("/proc/{pid}/status"), "VmRSS:");
        pss += kib_field(&format!("/proc/{pid}/smaps_rollup"), "Pss:");
        counted += 1;
    }
    if counted == 0 {
        bail!("found no app process under the driver");
    }
    Ok((rss as f64 / 1024.0, pss as f64 / 1024.0))
}

fn kib_field(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|value| value.parse().ok())
        })
        .unwrap_or(0)
}
