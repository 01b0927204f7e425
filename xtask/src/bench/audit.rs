//! Audit benchmark: the latency of the local queue's append with fsync, beside a bare SQLite
//! insert on the same disk, and the drain of a 100,000-record backlog to the reference service
//! on the batch path and on the one-event-per-request PARS path.
//! The measuring runs in `cpis-bench` (release build; debug for the smoke run), which prints
//! JSON that this module reads and keeps under `target/bench/audit/<smoke|full>/`
//! (`append-N/append.json`, `drain-N/drain.json`).

use anyhow::{Context, Result};
use serde_json::Value;

use super::servers::{
    Binaries, bench_output, build, mode, service_token, start_bare, start_service, work_dir,
};
use super::{Figure, Goal, Scale, percentile};

const SECTION: &str = "Audit";

fn samples(report: &Value, key: &str) -> Result<Vec<f64>> {
    report[key]
        .as_array()
        .with_context(|| format!("cpis-bench append: no {key}"))?
        .iter()
        .map(|value| value.as_f64().context("a sample is not a number"))
        .collect()
}

struct AppendRuns {
    append_p50: Vec<f64>,
    append_p99: Vec<f64>,
    bare_p50: Vec<f64>,
    bare_p99: Vec<f64>,
    row_bytes: u64,
}

fn append_runs(scale: &Scale, binaries: &Binaries) -> Result<AppendRuns> {
    let (count, warmup) = if scale.smoke { (50, 5) } else { (2000, 100) };
    let mut runs = AppendRuns {
        append_p50: Vec::new(),
        append_p99: Vec::new(),
        bare_p50: Vec::new(),
        bare_p99: Vec::new(),
        row_bytes: 0,
    };
    for run in 1..=scale.runs.max(1) {
        eprintln!("bench: audit append, run {run} of {}", scale.runs);
        // On the repository's disk (target/), a fresh folder each run.
        let dir = work_dir(&format!("audit/{}/append-{run}", mode(scale)), true)?;
        let dir_text = dir.display().to_string();
        let output = bench_output(
            binaries,
            &[
                "append",
                "--dir",
                &dir_text,
                "--samples",
                &count.to_string(),
                "--warmup",
                &warmup.to_string(),
            ],
        )?;
        std::fs::write(dir.join("append.json"), &output)?;
        let report: Value = serde_json::from_str(&output).context("cpis-bench append: JSON")?;
        let append = samples(&report, "append_us")?;
        let bare = samples(&report, "bare_us")?;
        runs.append_p50.push(percentile(&append, 0.50) / 1000.0);
        runs.append_p99.push(percentile(&append, 0.99) / 1000.0);
        runs.bare_p50.push(percentile(&bare, 0.50) / 1000.0);
        runs.bare_p99.push(percentile(&bare, 0.99) / 1000.0);
        runs.row_bytes = report["row_bytes"].as_u64().unwrap_or(0);
    }
    Ok(runs)
}

/// One drain path's figures over the runs.
#[derive(Default)]
struct DrainPath {
    drain: Vec<f64>,
    baseline: Vec<f64>,
    body_bytes: u64,
    requests: u64,
}

impl DrainPath {
    fn push(&mut self, report: &Value, path: &str) -> Result<()> {
        let figures = &report[path];
        self.drain.push(
            figures["drain_s"]
                .as_f64()
                .with_context(|| format!("drain: no {path}.drain_s"))?,
        );
        self.baseline.push(
            figures["baseline_s"]
                .as_f64()
                .with_context(|| format!("drain: no {path}.baseline_s"))?,
        );
        self.body_bytes = figures["body_bytes"].as_u64().unwrap_or(0);
        self.requests = figures["requests"].as_u64().unwrap_or(0);
        Ok(())
    }
}

struct DrainRuns {
    batch: DrainPath,
    single: DrainPath,
    records: u64,
}

fn drain_runs(scale: &Scale, binaries: &Binaries) -> Result<DrainRuns> {
    let records: u64 = if scale.smoke { 1_000 } else { 100_000 };
    let mut runs = DrainRuns {
        batch: DrainPath::default(),
        single: DrainPath::default(),
        records,
    };
    for run in 1..=scale.runs.max(1) {
        eprintln!("bench: audit drain, run {run} of {}", scale.runs);
        let dir = work_dir(&format!("audit/{}/drain-{run}", mode(scale)), true)?;
        let central = dir.join("central.db");
        let database = format!("sqlite://{}", central.display());
        // A fresh service on a fresh SQLite database each run, and the bare sink.
        let service = start_service(binaries, &database, &dir, &dir.join("service.log"))?;
        let token = service_token(binaries, &service.base)?;
        let bare = start_bare(binaries, &dir.join("bare.log"))?;
        let dir_text = dir.display().to_string();
        let central_text = central.display().to_string();
        let output = std::process::Command::new(&binaries.bench)
            .args([
                "drain",
                "--dir",
                &dir_text,
                "--service",
                &service.base,
                "--bare",
                &bare.base,
                "--records",
                &records.to_string(),
                "--central-db",
                &central_text,
            ])
            .env("CPIS_BENCH_TOKEN", &token)
            .stderr(std::process::Stdio::inherit())
            .output()
            .context("could not run cpis-bench drain")?;
        drop(service);
        drop(bare);
        if !output.status.success() {
            anyhow::bail!("cpis-bench drain failed ({})", output.status);
        }
        std::fs::write(dir.join("drain.json"), &output.stdout)?;
        let report: Value = serde_json::from_slice(&output.stdout).context("drain: JSON")?;
        runs.batch.push(&report, "batch")?;
        runs.single.push(&report, "single")?;
    }
    Ok(runs)
}

/// Measure the audit append and drain; see the module documentation.
pub fn run(scale: &Scale) -> Result<Vec<Figure>> {
    let binaries = build(scale)?;
    let append = append_runs(scale, &binaries)?;
    let drain = drain_runs(scale, &binaries)?;
    let smoke = if scale.smoke {
        "smoke run: figures mean nothing; "
    } else {
        ""
    };
    let append_note = format!(
        "{smoke}{} build; samples per run: {}; the real queue append (IMMEDIATE transaction: read \
         the last hash, SHA-256 chain, insert into a table with two indexes, commit) beside a bare \
         insert of a {}-byte row in its own transaction into a one-column table; both in WAL mode \
         with synchronous=FULL, interleaved one for one, in fresh files under target/bench",
        binaries.profile,
        if scale.smoke { 50 } else { 2000 },
        append.row_bytes,
    );
    Ok(vec![
        Figure {
            section: SECTION.into(),
            name: "append p50".into(),
            unit: "ms".into(),
            values: append.append_p50,
            baseline_name: "bare SQLite insert, WAL, synchronous=FULL, p50".into(),
            baseline: append.bare_p50,
            goal: Goal::RatioAtMost(1.5),
            note: append_note.clone(),
        },
        Figure {
            section: SECTION.into(),
            name: "append p99".into(),
            unit: "ms".into(),
            values: append.append_p99,
            baseline_name: "bare SQLite insert, WAL, synchronous=FULL, p99".into(),
            baseline: append.bare_p99,
            goal: Goal::RatioAtMost(1.5),
            note: append_note,
        },
        Figure {
            section: SECTION.into(),
            name: format!("drain of {} queued records, batch path", drain.records),
            unit: "s".into(),
            values: drain.batch.drain,
            baseline_name: "the same number of equal-sized batch bodies POSTed to a bare axum sink"
                .into(),
            baseline: drain.batch.baseline,
            goal: Goal::ValueAtMost(10.0),
            note: format!(
                "{smoke}{} build; sync_until_empty with the real HttpAuditTransport on an \
                 encrypted queue; the service's CapabilityStatement advertises batch, so {} batch \
                 Bundles of 500 ({} bytes each), each read and sent while the last is marked, to \
                 the reference service on a fresh SQLite database over loopback, with token \
                 validation; the service checks each device's sequence and chain and commits \
                 before answering; afterwards the central log holds every event once and no \
                 chain finding",
                binaries.profile, drain.batch.requests, drain.batch.body_bytes
            ),
        },
        Figure {
            section: SECTION.into(),
            name: format!(
                "drain of {} queued records, one event per request (PARS)",
                drain.records
            ),
            unit: "s".into(),
            values: drain.single.drain,
            baseline_name:
                "the same number of equal-sized AuditEvent bodies POSTed one after another to a bare axum sink"
                    .into(),
            baseline: drain.single.baseline,
            goal: Goal::ValueAtMost(10.0),
            note: format!(
                "{smoke}{} build; as the batch path, but HttpAuditTransport::prefer_single_events: \
                 {} POST /AuditEvent requests ({} bytes each) over one keep-alive pool; one \
                 device's events go one after another in sequence order (the central log checks \
                 each device's sequence as events arrive, so two in flight could be stored as a \
                 false gap), so a one-device backlog has one request in flight",
                binaries.profile, drain.single.requests, drain.single.body_bytes
            ),
        },
    ])
}
