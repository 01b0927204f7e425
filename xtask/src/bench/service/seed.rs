//! The service part's databases: seeded once per size and day on SQLite, and in the bench's own
//! database on the throwaway PostgreSQL server, with the NHS numbers to look up from the seed
//! manifest.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::bench::servers::Binaries;

/// A seeded database and the URLs to look up.
#[derive(Debug)]
pub(super) struct Seeded {
    pub url: String,
    /// NHS numbers from every scenario but `not_in_pds`.
    pub numbers: Vec<String>,
    /// NHS numbers with a current plan (an unscheduled lookup of one commits a write).
    pub numbers_with_plans: Vec<String>,
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
pub(super) fn seed(
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
pub(super) fn postgres_database(children: u64, manifest: &Path) -> Result<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
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
