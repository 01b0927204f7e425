//! `oha`, the HTTP load generator the service part drives: installed once at a pinned version,
//! run closed loop (as fast as its connections go) or open loop (a fixed rate, latency
//! corrected), its JSON report kept and read.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The `oha` version installed under `target/bench/tools` (builds with rustc 1.88 and later).
const OHA_VERSION: &str = "1.16.0";
/// Connections for the closed-loop runs.
pub(super) const CLOSED_CONNECTIONS: u32 = 50;
/// Connections available to the open-loop runs (enough that none waits for a free one).
pub(super) const OPEN_CONNECTIONS: u32 = 32;

/// `oha`, installed once under `target/bench/tools` at a pinned version.
pub(super) fn installed() -> Result<PathBuf> {
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
pub(super) struct Load {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// How a load is driven.
#[derive(Debug, Clone, Copy)]
pub(super) enum Drive {
    /// As fast as `CLOSED_CONNECTIONS` connections go.
    Closed,
    /// At a fixed rate, latency measured from when each request was due.
    Open(u32),
}

/// What to request.
#[derive(Debug, Clone)]
pub(super) struct Target {
    /// A file of URLs, one a line, requested in turn, or one URL.
    pub urls: UrlSource,
    pub headers: Vec<String>,
}

#[derive(Debug, Clone)]
pub(super) enum UrlSource {
    File(PathBuf),
    One(String),
}

/// Run one load and keep oha's JSON report as `raw/<tag>.json`.
pub(super) fn run_oha(
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
}
