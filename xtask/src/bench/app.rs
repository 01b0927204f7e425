//! Parts 1, 2 and 5 of the benchmarks: lookup latency in the real window, start-up and memory
//! beside an empty Tauri app built the same way, and the sizes of what ships.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{Figure, Goal, Scale, median, percentile, profile_dir};

/// The binaries one run uses.
#[derive(Debug)]
pub struct Built {
    pub app: PathBuf,
    pub empty_app: PathBuf,
    pub service: PathBuf,
    /// The token broker the app signs in through.
    pub broker: PathBuf,
    pub bench_app: PathBuf,
}

/// Build the UI, the app, the empty Tauri app, the reference service, the token broker and the
/// in-app bench driver, all with the same profile (release; debug for a smoke run).
pub fn build(scale: &Scale) -> Result<Built> {
    crate::build_ui()?;
    let root = crate::root();
    let mut args = vec![
        "build",
        "--package",
        "cpis-viewer",
        "--package",
        "cpis-bench-empty-app",
        "--package",
        "cpis-service",
        "--package",
        "cpis-broker",
    ];
    if !scale.smoke {
        args.push("--release");
    }
    crate::run(&root, "cargo", &args)?;
    let mut args = vec!["build", "--package", "cpis-e2e", "--bin", "bench_app"];
    if !scale.smoke {
        args.push("--release");
    }
    crate::run(&root, "cargo", &args)?;
    let dir = profile_dir(scale);
    let built = Built {
        app: dir.join("cpis-viewer"),
        empty_app: dir.join("cpis-bench-empty-app"),
        service: dir.join("cpis-service"),
        broker: dir.join("cpis-broker"),
        bench_app: dir.join("bench_app"),
    };
    for path in [
        &built.app,
        &built.empty_app,
        &built.service,
        &built.broker,
        &built.bench_app,
    ] {
        if !path.is_file() {
            bail!("{} was not built", path.display());
        }
    }
    Ok(built)
}

fn runs_of(report: &Value, key: &str) -> Vec<Vec<f64>> {
    report[key]
        .as_array()
        .into_iter()
        .flatten()
        .map(|run| {
            run.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_f64)
                .collect()
        })
        .collect()
}

fn values_of(report: &Value, key: &str) -> Vec<f64> {
    report[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_f64)
        .collect()
}

/// Lookups in the real window and start-up/memory, under Xvfb with a real keyring.
pub fn run(scale: &Scale, built: &Built) -> Result<Vec<Figure>> {
    let lookups = if scale.smoke { 12 } else { 300 };
    let out = crate::root().join("target/bench/app.json");
    let _ = std::fs::remove_file(&out);
    let runs = scale.runs.to_string();
    let lookups_text = lookups.to_string();
    let bench_app = built.bench_app.to_string_lossy().to_string();
    let app = built.app.to_string_lossy().to_string();
    let empty_app = built.empty_app.to_string_lossy().to_string();
    let out_text = out.to_string_lossy().to_string();
    let service = built.service.to_string_lossy().to_string();
    let broker = built.broker.to_string_lossy().to_string();
    crate::in_test_session(
        &[
            "xvfb-run",
            "--auto-servernum",
            "--server-args=-screen 0 1280x1024x24",
            &bench_app,
            "--out",
            &out_text,
            "--app",
            &app,
            "--empty-app",
            &empty_app,
            "--runs",
            &runs,
            "--lookups",
            &lookups_text,
        ],
        &[("CPIS_E2E_SERVICE", &service), ("CPIS_E2E_BROKER", &broker)],
    )?;
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?,
    )
    .context("the in-app bench wrote no JSON")?;

    let lookup = runs_of(&report, "lookup_ms");
    let ipc = runs_of(&report, "ipc_ms");
    let bare = runs_of(&report, "bare_ms");
    let per_run = report["lookups_per_run"].as_u64().unwrap_or(0);
    let outcomes = report["outcomes"].to_string();
    let mut figures = Vec::new();
    for (name, q, goal) in [
        ("p50", 0.50, Goal::None),
        ("p95", 0.95, Goal::ValueAtMost(50.0)),
        ("p99", 0.99, Goal::None),
    ] {
        figures.push(Figure {
            section: "Lookup in the app".into(),
            name: format!("Enter to rendered result, {name}"),
            unit: "ms".into(),
            values: lookup.iter().map(|run| percentile(run, q)).collect(),
            baseline_name: format!("bare CareTeam round trip, same token, {name}"),
            baseline: bare.iter().map(|run| percentile(run, q)).collect(),
            goal,
            note: format!(
                "{per_run} lookups per run across every seed scenario (results: {outcomes}); the app makes three requests (PDS, CareTeam, history) and an fsynced audit append per lookup, the baseline one request"
            ),
        });
    }
    figures.push(Figure {
        section: "Lookup in the app".into(),
        name: "Enter to the IPC answer in the page (before rendering), p50".into(),
        unit: "ms".into(),
        values: ipc.iter().map(|run| percentile(run, 0.5)).collect(),
        baseline_name: "bare CareTeam round trip, same token, p50".into(),
        baseline: bare.iter().map(|run| percentile(run, 0.5)).collect(),
        goal: Goal::None,
        note:
            "the part of the lookup spent outside the renderer: IPC, three requests, audit append"
                .into(),
    });
    figures.push(Figure {
        section: "Start-up".into(),
        name: "start to a focused NHS number field".into(),
        unit: "ms".into(),
        values: values_of(&report, "start_ms"),
        baseline_name: "empty Tauri app to a focused field".into(),
        baseline: values_of(&report, "empty_start_ms"),
        goal: Goal::RatioAtMost(1.2),
        note: "WebDriver new-session request to the field focused; the session is restored from the keyring; warm file cache".into(),
    });
    figures.push(Figure {
        section: "Memory".into(),
        name: "resident (RSS), app + WebKit processes, after 10 lookups".into(),
        unit: "MiB".into(),
        values: values_of(&report, "rss_mib"),
        baseline_name: "empty Tauri app, RSS".into(),
        baseline: values_of(&report, "empty_rss_mib"),
        goal: Goal::RatioAtMost(1.3),
        note: "sum over the process tree; shared pages counted once per process".into(),
    });
    figures.push(Figure {
        section: "Memory".into(),
        name: "proportional (PSS), app + WebKit processes, after 10 lookups".into(),
        unit: "MiB".into(),
        values: values_of(&report, "pss_mib"),
        baseline_name: "empty Tauri app, PSS".into(),
        baseline: values_of(&report, "empty_pss_mib"),
        goal: Goal::RatioAtMost(1.3),
        note: "shared pages divided among the processes that map them".into(),
    });
    if lookup.iter().all(|run| median(run).is_none()) {
        bail!("the in-app bench measured no lookup");
    }
    Ok(figures)
}

fn mib(path: &std::path::Path) -> Result<f64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len() as f64
        / 1024.0
        / 1024.0)
}

/// The binary beside the empty app's, and (in a real run) the `.deb`.
pub fn sizes(scale: &Scale, built: &Built) -> Result<Vec<Figure>> {
    let mut figures = vec![Figure {
        section: "Size".into(),
        name: if scale.smoke {
            "app binary (debug)".into()
        } else {
            "app binary (release)".into()
        },
        unit: "MiB".into(),
        values: vec![mib(&built.app)?],
        baseline_name: "empty Tauri app binary".into(),
        baseline: vec![mib(&built.empty_app)?],
        goal: Goal::None,
        note: "the app embeds its UI (ui/dist) in the binary".into(),
    }];
    if !scale.smoke {
        let deb = crate::package::build_deb()?;
        figures.push(Figure {
            section: "Size".into(),
            name: ".deb package".into(),
            unit: "MiB".into(),
            values: vec![mib(&deb)?],
            baseline_name: String::new(),
            baseline: Vec::new(),
            goal: Goal::None,
            note: deb
                .file_name()
                .map(|name| name.to_string_lossy().to_string())
                .unwrap_or_default(),
        });
    }
    Ok(figures)
}
