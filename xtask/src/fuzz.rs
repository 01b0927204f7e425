//! `cargo xtask fuzz --seconds N [target...]`: builds the cargo-fuzz targets in `fuzz/` (their
//! own workspace) and runs each for N seconds, failing on any crash, hang or property failure.
//!
//! Built with cargo-fuzz on the machine's stable toolchain: cargo-fuzz passes `-Z` flags
//! (AddressSanitizer, SanitizerCoverage), which `RUSTC_BOOTSTRAP=1` allows on stable, so no
//! nightly toolchain is needed. The build goes to `target/fuzz-build/`; the working corpora to
//! `target/fuzz/corpus/<target>/` (seeded from `fuzz/seeds/<target>/` and, when it exists,
//! `../shared/fixtures/`); crashing inputs to `target/fuzz/artifacts/<target>/`; the summary to
//! `target/fuzz/summary.json`. See `docs/fuzzing.md`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::root;

/// Every fuzz target, in the order they run.
pub const TARGETS: [&str; 5] = [
    "nhs_number",
    "cpis_response",
    "audit_batch",
    "la_upload_fhir",
    "la_upload_csv",
];

/// Seconds per target when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 60;
/// Seconds per target in the short pass the test command runs.
const SMOKE_SECONDS: u64 = 15;
/// A single input taking longer than this is reported as a hang (a failure).
const INPUT_TIMEOUT_SECONDS: u64 = 10;
/// The target triple cargo-fuzz builds for (its default); the binaries land under it.
const TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// What one target's run gave.
#[derive(Debug)]
struct TargetRun {
    target: &'static str,
    seconds: u64,
    executions: Option<u64>,
    corpus_files: usize,
    coverage: Option<u64>,
    /// `None` when it passed; the crashing input's path (or what went wrong) otherwise.
    failure: Option<String>,
}

/// `cargo xtask fuzz [--seconds N] [target...]` (the arguments after `fuzz`).
pub fn run(args: &[String]) -> Result<()> {
    let mut seconds = DEFAULT_SECONDS;
    let mut targets: Vec<&'static str> = Vec::new();
    let mut args = args.iter().map(String::as_str).peekable();
    if args.peek() == Some(&"fuzz") {
        args.next();
    }
    while let Some(arg) = args.next() {
        let value = if arg == "--seconds" {
            Some(args.next().context("--seconds needs a number")?)
        } else {
            arg.strip_prefix("--seconds=")
        };
        if let Some(value) = value {
            seconds = value
                .parse()
                .ok()
                .filter(|seconds| *seconds > 0)
                .with_context(|| format!("--seconds needs a positive number, not {value:?}"))?;
            continue;
        }
        match TARGETS.iter().find(|target| **target == arg) {
            Some(target) => targets.push(target),
            None => bail!(
                "unknown fuzz target or option {arg:?}; targets: {}",
                TARGETS.join(", ")
            ),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    fuzz(&targets, seconds)
}

/// The short pass `cargo xtask test` runs: the fuzz workspace's formatting (the root's
/// `cargo fmt --all` does not reach it), then every target for a few seconds.
pub fn smoke() -> Result<()> {
    crate::run(
        &root(),
        "cargo",
        &[
            "fmt",
            "--manifest-path",
            "fuzz/Cargo.toml",
            "--all",
            "--check",
        ],
    )?;
    fuzz(&TARGETS, SMOKE_SECONDS)
}

fn fuzz(targets: &[&'static str], seconds: u64) -> Result<()> {
    crate::setup::cargo_fuzz()?;
    let root = root();
    build(&root)?;
    let mut runs = Vec::new();
    for target in targets {
        runs.push(run_target(&root, target, seconds)?);
    }
    let summary_path = write_summary(&root, &runs)?;
    print_table(&runs);
    println!("summary: {}", summary_path.display());
    let failed: Vec<&TargetRun> = runs.iter().filter(|run| run.failure.is_some()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    for run in &failed {
        eprintln!(
            "fuzz target {} failed: {}",
            run.target,
            run.failure.as_deref().unwrap_or_default()
        );
    }
    bail!(
        "{} of {} fuzz targets failed; reproduce with {} <input>",
        failed.len(),
        runs.len(),
        binary(&root, failed[0].target).display()
    )
}

/// Build every target with cargo-fuzz (release, debug assertions, AddressSanitizer).
fn build(root: &Path) -> Result<()> {
    let target_dir = root.join("target/fuzz-build");
    let target_dir = target_dir.to_string_lossy();
    crate::run_env(
        root,
        "cargo",
        &[
            "fuzz",
            "build",
            "--fuzz-dir",
            "fuzz",
            "--target-dir",
            &target_dir,
        ],
        &[
            // cargo-fuzz passes -Z flags; this lets the stable toolchain take them.
            ("RUSTC_BOOTSTRAP", "1"),
        ],
    )
    .context("building the fuzz targets (is cargo-fuzz installed? `cargo xtask setup`)")
}

fn binary(root: &Path, target: &str) -> PathBuf {
    root.join("target/fuzz-build")
        .join(TRIPLE)
        .join("release")
        .join(target)
}

/// The inputs that `../shared/fixtures/` (next to the repository) gives a target, if it exists:
/// every JSON file as it is and wrapped in the Bundle the target reads; CSV files for the CSV
/// upload. `cpis_response` takes a first byte that picks the answer (see its target).
fn fixture_inputs(root: &Path, target: &str) -> Vec<(String, Vec<u8>)> {
    let Some(fixtures) = root.parent().map(|parent| parent.join("shared/fixtures")) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    collect_files(&fixtures, &mut files);
    files.sort();
    let mut inputs = Vec::new();
    for path in files {
        let extension = path
            .extension()
            .and_then(|extension| extension.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let stem: String = path
            .strip_prefix(&fixtures)
            .unwrap_or(&path)
            .to_string_lossy()
            .chars()
            .map(|character| {
                if character.is_ascii_alphanumeric() || character == '.' {
                    character
                } else {
                    '-'
                }
            })
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        let searchset = format!(
            r#"{{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{{"resource":{text}}}]}}"#
        );
        let batch = format!(
            r#"{{"resourceType":"Bundle","type":"batch","entry":[{{"resource":{text}}}]}}"#
        );
        match (target, extension.as_str()) {
            ("cpis_response", "json") => {
                for selector in ["C", "H", "P", "O"] {
                    inputs.push((
                        format!("{stem}-{selector}"),
                        [selector.as_bytes(), &bytes].concat(),
                    ));
                }
                inputs.push((
                    format!("{stem}-C-searchset"),
                    format!("C{searchset}").into(),
                ));
                inputs.push((
                    format!("{stem}-H-searchset"),
                    format!("H{searchset}").into(),
                ));
            }
            ("audit_batch" | "la_upload_fhir", "json") => {
                inputs.push((stem.clone(), bytes.clone()));
                inputs.push((format!("{stem}-batch"), batch.into_bytes()));
            }
            ("la_upload_csv", "csv") | ("nhs_number", "txt") => {
                inputs.push((stem, bytes));
            }
            _ => {}
        }
    }
    inputs
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, files);
        } else if path.is_file() {
            files.push(path);
        }
    }
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| entry.path().is_file())
                .count()
        })
        .unwrap_or(0)
}

fn run_target(root: &Path, target: &'static str, seconds: u64) -> Result<TargetRun> {
    let fuzz_dir = root.join("target/fuzz");
    let corpus = fuzz_dir.join("corpus").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let fixture_dir = fuzz_dir.join("fixture-seeds").join(target);
    let seeds = root.join("fuzz/seeds").join(target);
    for dir in [&corpus, &artifacts] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // The fixture inputs are made afresh each run, so a changed fixture is picked up.
    if fixture_dir.exists() {
        std::fs::remove_dir_all(&fixture_dir)
            .with_context(|| format!("clearing {}", fixture_dir.display()))?;
    }
    std::fs::create_dir_all(&fixture_dir)
        .with_context(|| format!("creating {}", fixture_dir.display()))?;
    for (name, bytes) in fixture_inputs(root, target) {
        let path = fixture_dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    let before: Vec<PathBuf> = list(&artifacts);

    let binary = binary(root, target);
    // libFuzzer writes new inputs to the first directory and only reads the others.
    let mut args = vec![
        format!("-max_total_time={seconds}"),
        format!("-timeout={INPUT_TIMEOUT_SECONDS}"),
        format!("-artifact_prefix={}/", artifacts.display()),
        "-print_final_stats=1".to_string(),
        corpus.display().to_string(),
    ];
    if seeds.is_dir() {
        args.push(seeds.display().to_string());
    }
    args.push(fixture_dir.display().to_string());
    eprintln!("$ {} {}", binary.display(), args.join(" "));
    let started = Instant::now();
    let mut child = Command::new(&binary)
        .args(&args)
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {}", binary.display()))?;
    let log_path = fuzz_dir.join(format!("{target}.log"));
    let mut log = String::new();
    let mut executions = None;
    let mut coverage = None;
    let mut crash_file = None;
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(value) = line.strip_prefix("stat::number_of_executed_units:") {
                executions = value.trim().parse().ok();
            }
            if line.starts_with('#')
                && let Some(value) = line.split_whitespace().skip_while(|w| *w != "cov:").nth(1)
            {
                coverage = value.parse().ok().or(coverage);
            }
            if let Some(path) = line
                .split_once("Test unit written to ")
                .map(|(_, path)| path.trim().to_string())
            {
                crash_file = Some(path);
            }
            // Progress lines, new-function notes and the recommended dictionary are many (all
            // in the log); show the rest (reports, stack traces, final stats).
            let noise = line.starts_with('#')
                || line.starts_with('"')
                || line.trim_start().starts_with("NEW_FUNC");
            if !noise {
                eprintln!("[{target}] {line}");
            }
            log.push_str(&line);
            log.push('\n');
        }
    }
    let status = child.wait().context("waiting for the fuzz target")?;
    std::fs::write(&log_path, &log).with_context(|| format!("writing {}", log_path.display()))?;
    let elapsed = started.elapsed().as_secs();
    let failure = if status.success() {
        None
    } else {
        let new_artifacts: Vec<PathBuf> = list(&artifacts)
            .into_iter()
            .filter(|path| !before.contains(path))
            .collect();
        Some(match (crash_file, new_artifacts.first()) {
            (Some(path), _) => format!(
                "crashing input saved to {path} (log: {})",
                log_path.display()
            ),
            (None, Some(path)) => format!(
                "crashing input saved to {} (log: {})",
                path.display(),
                log_path.display()
            ),
            (None, None) => format!("{status}; see {}", log_path.display()),
        })
    };
    Ok(TargetRun {
        target,
        seconds: elapsed,
        executions,
        corpus_files: count_files(&corpus),
        coverage,
        failure,
    })
}

fn list(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default()
}

fn write_summary(root: &Path, runs: &[TargetRun]) -> Result<PathBuf> {
    let path = root.join("target/fuzz/summary.json");
    let targets: Vec<serde_json::Value> = runs
        .iter()
        .map(|run| {
            serde_json::json!({
                "target": run.target,
                "seconds": run.seconds,
                "executions": run.executions,
                "corpus_files": run.corpus_files,
                "coverage": run.coverage,
                "result": if run.failure.is_some() { "failed" } else { "passed" },
                "failure": run.failure,
            })
        })
        .collect();
    let summary = serde_json::json!({ "targets": targets });
    let text = serde_json::to_string_pretty(&summary).context("summary as JSON")?;
    std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

fn print_table(runs: &[TargetRun]) {
    println!(
        "{:<16} {:>8} {:>12} {:>8} {:>6}  result",
        "target", "seconds", "executions", "corpus", "cov"
    );
    for run in runs {
        let number = |value: Option<u64>| value.map_or("-".to_string(), |value| value.to_string());
        println!(
            "{:<16} {:>8} {:>12} {:>8} {:>6}  {}",
            run.target,
            run.seconds,
            number(run.executions),
            run.corpus_files,
            number(run.coverage),
            if run.failure.is_some() {
                "FAILED"
            } else {
                "passed"
            }
        );
    }
}
