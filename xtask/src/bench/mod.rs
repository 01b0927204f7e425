//! `cargo xtask bench`: every figure beside a baseline measured in the same run, as a ratio,
//! with the median and spread over several runs. Prints a table and writes
//! `target/bench/report.json` and `docs/benchmarks.md`. `--smoke` runs each part briefly (the
//! test command uses it to check the harness works); its figures mean nothing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

mod app;
mod audit;
mod scale;
mod servers;
mod service;

/// How a figure is judged.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// Nothing to reach: reported for information.
    None,
    /// median(value) / median(baseline) must be at most this.
    RatioAtMost(f64),
    /// median(value) / median(baseline) must be at least this.
    RatioAtLeast(f64),
    /// median(value) must be at most this, in the figure's unit.
    ValueAtMost(f64),
}

/// One measured figure: one value per run, and its baseline's values from the same runs.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The part of the benchmark (e.g. "Audit append").
    pub section: String,
    /// What was measured (e.g. "append p99").
    pub name: String,
    /// "ms", "µs", "req/s", "MiB", "s".
    pub unit: String,
    /// One value per run.
    pub values: Vec<f64>,
    /// What the baseline is (e.g. "bare SQLite insert, synchronous=FULL, p99"); empty if none.
    pub baseline_name: String,
    /// The baseline's value per run; empty if none.
    pub baseline: Vec<f64>,
    /// The goal.
    pub goal: Goal,
    /// A short note shown in the report (e.g. how many samples, the load rate).
    pub note: String,
}

/// How long and how hard each part runs.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// True for the test command's smoke run: tiny sizes, one run, figures meaningless.
    pub smoke: bool,
    /// Repeated runs per figure (median and spread over these).
    pub runs: usize,
}

pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}

/// The `q` quantile (0..=1) of `samples` by nearest rank.
pub fn percentile(samples: &[f64], q: f64) -> f64 {
    let mut sorted: Vec<f64> = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The parts, in the order they run and print.
const PARTS: [&str; 6] = ["app", "startup", "audit", "service", "scale", "size"];

const USAGE: &str = "usage: cargo xtask bench [--smoke] [--runs N] [--only PART,...]

parts: app (lookup latency in the real window), startup (start-up and memory, run with app),
       audit (append and backlog drain), service (load on SQLite and PostgreSQL),
       scale (the review query over 10 million events on partitioned PostgreSQL), size";

/// `cargo xtask bench [--smoke] [--runs N] [--only app,audit,service,scale,size]`.
pub fn run(args: &[String]) -> Result<()> {
    let mut scale = Scale {
        smoke: false,
        runs: 3,
    };
    let mut only: Option<Vec<String>> = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => scale.smoke = true,
            "--runs" => {
                scale.runs = args
                    .next()
                    .and_then(|value| value.parse().ok())
                    .filter(|runs| *runs > 0)
                    .context("--runs needs a number above 0")?;
            }
            "--only" => {
                let parts: Vec<String> = args
                    .next()
                    .context("--only needs a list of parts")?
                    .split(',')
                    .map(str::to_string)
                    .collect();
                if let Some(unknown) = parts.iter().find(|part| !PARTS.contains(&part.as_str())) {
                    bail!("unknown part {unknown}\n{USAGE}");
                }
                only = Some(parts);
            }
            _ => bail!("unknown argument {arg}\n{USAGE}"),
        }
    }
    if scale.smoke {
        scale.runs = 1;
    }
    let wanted = |part: &str| {
        only.as_ref()
            .is_none_or(|parts| parts.iter().any(|p| p == part))
    };
    let dir = crate::root().join("target/bench");
    std::fs::create_dir_all(&dir).context("creating target/bench")?;

    let started = std::time::Instant::now();
    let now = command_line("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]);
    // (part, when measured, figure)
    let mut figures: Vec<(String, String, Figure)> = Vec::new();
    let mut add = |part: &str, measured: Vec<Figure>| {
        figures.extend(
            measured
                .into_iter()
                .map(|figure| (part.to_string(), now.clone(), figure)),
        );
    };
    if wanted("app") || wanted("startup") || wanted("size") {
        let built = app::build(&scale)?;
        if wanted("app") || wanted("startup") {
            add("app", app::run(&scale, &built)?);
        }
        if wanted("size") {
            add("size", app::sizes(&scale, &built)?);
        }
    }
    if wanted("audit") {
        add("audit", audit::run(&scale)?);
    }
    if wanted("service") {
        add("service", service::run(&scale)?);
    }
    if wanted("scale") {
        add("scale", scale::run(&scale)?);
    }
    let report_path = dir.join(if scale.smoke {
        "smoke-report.json"
    } else {
        "report.json"
    });
    // A real run of some parts keeps the other parts' figures from the last real run, each
    // with the time it was measured, so parts can be re-run one at a time on a busy machine.
    if !scale.smoke && only.is_some() {
        let measured: Vec<String> = figures.iter().map(|(part, _, _)| part.clone()).collect();
        for (part, at, figure) in previous_figures(&report_path) {
            if !measured.contains(&part) {
                figures.push((part, at, figure));
            }
        }
        let order = |part: &str| PARTS.iter().position(|p| *p == part).unwrap_or(PARTS.len());
        figures.sort_by_key(|(part, _, _)| order(part));
    }
    let machine = machine_description();
    let report = json!({
        "smoke": scale.smoke,
        "runs": scale.runs,
        "machine": machine,
        "seconds": started.elapsed().as_secs_f64(),
        "figures": figures
            .iter()
            .map(|(part, at, figure)| {
                let mut value = figure_json(figure);
                value["part"] = json!(part);
                value["measured_at"] = json!(at);
                value
            })
            .collect::<Vec<_>>(),
    });
    let when: Vec<String> = {
        let mut when: Vec<String> = figures
            .iter()
            .map(|(part, at, _)| format!("{part} {at}"))
            .collect();
        when.dedup();
        when
    };
    let figures: Vec<Figure> = figures.into_iter().map(|(_, _, figure)| figure).collect();
    let table = render_table(&figures);
    println!("\n{table}");
    std::fs::write(&report_path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", report_path.display()))?;
    eprintln!("wrote {}", report_path.display());
    if scale.smoke {
        // A smoke run checks the harness; its figures are meaningless and never recorded.
        check_smoke(&figures)?;
        eprintln!("smoke run: the harness works ({} figures)", figures.len());
    } else {
        let docs = crate::root().join("docs/benchmarks.md");
        write_docs(&docs, &machine, &table, &scale, &when)?;
        eprintln!("wrote {}", docs.display());
    }
    Ok(())
}

/// The figures of the last real run's report, with their part and measurement time.
fn previous_figures(path: &Path) -> Vec<(String, String, Figure)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let Ok(report) = serde_json::from_str::<Value>(&text) else {
        return Vec::new();
    };
    let numbers = |value: &Value| -> Vec<f64> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v.as_f64().unwrap_or(f64::NAN))
            .collect()
    };
    let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
    report["figures"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|figure| {
            let limit = figure["goal_limit"].as_f64().unwrap_or(f64::NAN);
            let goal = match figure["goal_kind"].as_str() {
                Some("ratio_at_most") => Goal::RatioAtMost(limit),
                Some("ratio_at_least") => Goal::RatioAtLeast(limit),
                Some("value_at_most") => Goal::ValueAtMost(limit),
                _ => Goal::None,
            };
            (
                text(&figure["part"]),
                text(&figure["measured_at"]),
                Figure {
                    section: text(&figure["section"]),
                    name: text(&figure["name"]),
                    unit: text(&figure["unit"]),
                    values: numbers(&figure["values"]),
                    baseline_name: text(&figure["baseline_name"]),
                    baseline: numbers(&figure["baseline"]),
                    goal,
                    note: text(&figure["note"]),
                },
            )
        })
        .collect()
}

/// Each figure's ratio (median value / median baseline), if it has a baseline.
pub fn ratio(figure: &Figure) -> Option<f64> {
    let value = median(&figure.values)?;
    let baseline = median(&figure.baseline)?;
    (baseline != 0.0).then_some(value / baseline)
}

/// Whether the figure meets its goal; `None` when it has none or cannot be judged.
pub fn met(figure: &Figure) -> Option<bool> {
    match figure.goal {
        Goal::None => None,
        Goal::RatioAtMost(limit) => ratio(figure).map(|r| r <= limit),
        Goal::RatioAtLeast(limit) => ratio(figure).map(|r| r >= limit),
        Goal::ValueAtMost(limit) => median(&figure.values).map(|v| v <= limit),
    }
}

fn goal_text(goal: Goal, unit: &str) -> String {
    match goal {
        Goal::None => String::new(),
        Goal::RatioAtMost(limit) => format!("≤ {limit}x"),
        Goal::RatioAtLeast(limit) => format!("≥ {limit}x"),
        Goal::ValueAtMost(limit) => format!("≤ {limit} {unit}"),
    }
}

fn number(value: f64) -> String {
    if !value.is_finite() {
        "–".into()
    } else if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn spread(values: &[f64]) -> String {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < 2 {
        return String::new();
    }
    let low = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let high = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{}–{}", number(low), number(high))
}

fn figure_json(figure: &Figure) -> Value {
    json!({
        "section": figure.section,
        "name": figure.name,
        "unit": figure.unit,
        "values": figure.values,
        "median": median(&figure.values),
        "baseline_name": figure.baseline_name,
        "baseline": figure.baseline,
        "baseline_median": median(&figure.baseline),
        "ratio": ratio(figure),
        "goal": goal_text(figure.goal, &figure.unit),
        "goal_kind": match figure.goal {
            Goal::None => "none",
            Goal::RatioAtMost(_) => "ratio_at_most",
            Goal::RatioAtLeast(_) => "ratio_at_least",
            Goal::ValueAtMost(_) => "value_at_most",
        },
        "goal_limit": match figure.goal {
            Goal::None => None,
            Goal::RatioAtMost(limit) | Goal::RatioAtLeast(limit) | Goal::ValueAtMost(limit) => Some(limit),
        },
        "met": met(figure),
        "note": figure.note,
    })
}

/// A Markdown table (also readable as plain text on a terminal).
pub fn render_table(figures: &[Figure]) -> String {
    let mut out = String::from(
        "| Part | Figure | Median | Spread (runs) | Baseline | Baseline median | Ratio | Goal | Met |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for figure in figures {
        let value = median(&figure.values).map_or("–".into(), number);
        let baseline = median(&figure.baseline)
            .map_or(String::new(), |b| format!("{} {}", number(b), figure.unit));
        let ratio = ratio(figure).map_or(String::new(), |r| format!("{r:.2}x"));
        let met = match met(figure) {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        out.push_str(&format!(
            "| {} | {} | {} {} | {} | {} | {} | {} | {} | {} |\n",
            figure.section,
            figure.name,
            value,
            figure.unit,
            spread(&figure.values),
            figure.baseline_name,
            baseline,
            ratio,
            goal_text(figure.goal, &figure.unit),
            met,
        ));
    }
    out
}

/// Every figure of a smoke run must have been measured (a finite median), and so must its
/// baseline if it names one.
fn check_smoke(figures: &[Figure]) -> Result<()> {
    if figures.is_empty() {
        bail!("the smoke run measured nothing");
    }
    for figure in figures {
        if median(&figure.values).is_none() {
            bail!(
                "{} / {}: no value was measured",
                figure.section,
                figure.name
            );
        }
        if !figure.baseline_name.is_empty() && median(&figure.baseline).is_none() {
            bail!(
                "{} / {}: no baseline was measured",
                figure.section,
                figure.name
            );
        }
    }
    Ok(())
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn command_line(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default()
}

/// What the run ran on: CPU, cores, memory, kernel, toolchain, the disk under target/.
pub fn machine_description() -> Value {
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_string())
        .unwrap_or_default();
    let memory_gib = read("/proc/meminfo")
        .lines()
        .find(|line| line.starts_with("MemTotal:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<f64>().ok())
        .map(|kib| kib / 1024.0 / 1024.0);
    let target = crate::root().join("target");
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gib": memory_gib,
        "kernel": command_line("uname", &["-sr"]),
        "os": read("/etc/os-release").lines().find(|l| l.starts_with("PRETTY_NAME=")).map(|l| l.trim_start_matches("PRETTY_NAME=").trim_matches('"').to_string()),
        "rustc": command_line("rustc", &["--version"]),
        "disk": command_line("df", &["-hT", &target.to_string_lossy()]).lines().last().unwrap_or("").to_string(),
        "date": command_line("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
    })
}

const BEGIN: &str =
    "<!-- bench:begin (written by cargo xtask bench; edit outside these markers) -->";
const END: &str = "<!-- bench:end -->";

/// Write the run into docs/benchmarks.md between the markers, keeping the hand-written notes
/// around them.
fn write_docs(
    path: &Path,
    machine: &Value,
    table: &str,
    scale: &Scale,
    when: &[String],
) -> Result<()> {
    let generated = format!(
        "{BEGIN}\n\nRun of {date} ({runs} runs per figure; median and min–max spread over the runs; \
         parts measured at: {when}).\n\n\
         Machine: {cpu}, {cores} cores, {memory:.1} GiB, {kernel}, {os}; {rustc}; target/ on `{disk}`.\n\n\
         {table}\n{END}",
        date = machine["date"].as_str().unwrap_or(""),
        runs = scale.runs,
        when = when.join(", "),
        cpu = machine["cpu"].as_str().unwrap_or("unknown CPU"),
        cores = machine["cores"],
        memory = machine["memory_gib"].as_f64().unwrap_or(0.0),
        kernel = machine["kernel"].as_str().unwrap_or(""),
        os = machine["os"].as_str().unwrap_or(""),
        rustc = machine["rustc"].as_str().unwrap_or(""),
        disk = machine["disk"].as_str().unwrap_or(""),
    );
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let text = match (existing.find(BEGIN), existing.find(END)) {
        (Some(begin), Some(end)) if end > begin => format!(
            "{}{generated}{}",
            &existing[..begin],
            &existing[end + END.len()..]
        ),
        _ => format!("# Benchmarks\n\n{generated}\n"),
    };
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Where the bench's binaries are: release for a real run, debug for the smoke run (which the
/// test command runs after building debug binaries anyway).
pub fn profile_dir(scale: &Scale) -> PathBuf {
    crate::root().join(if scale.smoke {
        "target/debug"
    } else {
        "target/release"
    })
}
