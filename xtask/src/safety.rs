//! `cargo xtask safety`: the hazard log's traceability table (hazard → control → test → result).
//!
//! `docs/safety/hazard-log.md` names, for each control, the tests that verify it, in tables
//! whose header is `| hazard | control | test |`. A test is named by an id:
//!
//! - `rust:<package>::<test path>`, the path as `cargo test -- --list` prints it;
//! - `e2e:<test path>`, short for `rust:cpis-e2e::<test path>`;
//! - `ui:<file under ui/> > <describe> > <it>`, as `vitest list` names it;
//! - `no test yet`, which always fails the check.
//!
//! [`run_after_tests`] is called at the end of a complete, green `cargo xtask test`: every test
//! it lists then has passed (the run stops at the first failure), except those marked ignored.
//! It writes `target/safety/last-run.tsv` and then checks the log. `cargo xtask safety` reads
//! that file; without one it lists the named packages' tests itself and reports them as not run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::root;

/// The hazard log, relative to the workspace root.
const HAZARD_LOG: &str = "docs/safety/hazard-log.md";
/// The tests that existed at the end of the last complete `cargo xtask test`, and their results.
const RESULTS: &str = "target/safety/last-run.tsv";
/// The generated traceability table.
const REPORT: &str = "target/safety/traceability.md";

/// The `cargo test` invocations of `cargo xtask test`, so that listing them rebuilds nothing.
const XTASK_TEST_CARGO_ARGS: [&[&str]; 2] = [
    &["test", "--workspace", "--exclude", "cpis-e2e"],
    &["test", "--package", "cpis-e2e", "--test", "e2e"],
];

/// One row of the hazard log's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    hazard: String,
    control: String,
    /// The test id as written, or `None` for "no test yet".
    test: Option<String>,
}

/// What is known of one named test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Passed,
    Ignored,
    NotRun,
    Missing,
    NoTest,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Passed => "pass",
            Status::Ignored => "FAIL (ignored, did not run)",
            Status::NotRun => "FAIL (exists, no result: run cargo xtask test)",
            Status::Missing => "FAIL (missing)",
            Status::NoTest => "FAIL (no test yet)",
        }
    }

    fn from_results(word: &str) -> Option<Status> {
        match word {
            "passed" => Some(Status::Passed),
            "ignored" => Some(Status::Ignored),
            "listed" => Some(Status::NotRun),
            _ => None,
        }
    }
}

/// `cargo xtask safety`: check the hazard log against the last run's results.
pub fn run() -> Result<()> {
    let root = root();
    let log = read_log(&root)?;
    let results_path = root.join(RESULTS);
    let (known, origin) = if results_path.exists() {
        let text = std::fs::read_to_string(&results_path)
            .with_context(|| format!("reading {}", results_path.display()))?;
        let origin = text
            .lines()
            .find_map(|line| line.strip_prefix("# "))
            .unwrap_or("results of unknown origin")
            .to_string();
        (parse_results(&text), origin)
    } else {
        eprintln!(
            "no {RESULTS}: listing the named tests (a complete `cargo xtask test` records results)"
        );
        let packages = rust_packages(&log);
        let mut args = vec!["test"];
        for package in &packages {
            if package != "cpis-e2e" {
                args.extend(["--package", package.as_str()]);
            }
        }
        let mut listed = Vec::new();
        if args.len() > 1 {
            listed.extend(rust_tests(&args)?);
        }
        if packages.contains("cpis-e2e") {
            listed.extend(rust_tests(XTASK_TEST_CARGO_ARGS[1])?);
        }
        if log
            .iter()
            .any(|row| row.test.as_deref().is_some_and(|t| t.starts_with("ui:")))
        {
            listed.extend(ui_tests(&root)?);
        }
        let known = listed
            .into_iter()
            .map(|(id, _)| (id, Status::NotRun))
            .collect();
        (known, "tests listed now, not run".to_string())
    };
    check(&root, &log, &known, &origin)
}

/// Record that every test of a complete, green `cargo xtask test` passed (ignored ones did not
/// run), then check the hazard log. Call it at the end of `test()`, before its closing line.
#[allow(
    dead_code,
    reason = "called from test() once the lead adds the call; then remove this"
)]
pub fn run_after_tests() -> Result<()> {
    let root = root();
    let mut tests = Vec::new();
    for args in XTASK_TEST_CARGO_ARGS {
        tests.extend(rust_tests(args)?);
    }
    tests.extend(ui_tests(&root)?);
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(&root)
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_default();
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.as_secs())
        .unwrap_or_default();
    let mut text = format!(
        "# a complete cargo xtask test at commit {commit} (plus uncommitted changes, if any), \
         finished {seconds} seconds after the Unix epoch\n"
    );
    for (id, ignored) in &tests {
        let word = if *ignored { "ignored" } else { "passed" };
        let _ = writeln!(text, "{word}\t{id}");
    }
    let path = root.join(RESULTS);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("recorded {} test results in {RESULTS}", tests.len());
    run()
}

fn read_log(root: &Path) -> Result<Vec<Row>> {
    let path = root.join(HAZARD_LOG);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let rows = parse_log(&text)?;
    if rows.is_empty() {
        bail!("{HAZARD_LOG} has no `| hazard | control | test |` table rows");
    }
    Ok(rows)
}

/// Split a markdown table line into its trimmed cells.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner
        .split('|')
        .map(|cell| cell.trim().to_string())
        .collect()
}

/// The rows of every `| hazard | control | test |` table. An empty hazard or control cell
/// repeats the one above it.
fn parse_log(text: &str) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut in_table = false;
    let mut previous: Option<(String, String)> = None;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if !trimmed.starts_with('|') {
            in_table = false;
            previous = None;
            continue;
        }
        let row = cells(trimmed);
        let lower: Vec<String> = row.iter().map(|cell| cell.to_lowercase()).collect();
        if lower == ["hazard", "control", "test"] {
            in_table = true;
            continue;
        }
        if !in_table
            || row
                .iter()
                .all(|cell| cell.chars().all(|c| "-: ".contains(c)))
        {
            continue;
        }
        let [hazard, control, test] = row.as_slice() else {
            bail!(
                "{HAZARD_LOG}:{}: expected 3 cells, found {}",
                number + 1,
                row.len()
            );
        };
        let (last_hazard, last_control) = previous.clone().unwrap_or_default();
        let hazard = if hazard.is_empty() {
            last_hazard
        } else {
            hazard.clone()
        };
        let control = if control.is_empty() {
            last_control
        } else {
            control.clone()
        };
        if hazard.is_empty() || control.is_empty() {
            bail!(
                "{HAZARD_LOG}:{}: a row needs a hazard and a control",
                number + 1
            );
        }
        let test = test.trim_matches('`').trim().to_string();
        let test = if test.eq_ignore_ascii_case("no test yet") {
            None
        } else if ["rust:", "e2e:", "ui:"].iter().any(|p| test.starts_with(p)) {
            Some(test)
        } else {
            bail!(
                "{HAZARD_LOG}:{}: a test is `rust:<package>::<path>`, `e2e:<path>`, \
                 `ui:<file> > <describe> > <it>` or `no test yet`, not {test:?}",
                number + 1
            );
        };
        previous = Some((hazard.clone(), control.clone()));
        rows.push(Row {
            hazard,
            control,
            test,
        });
    }
    Ok(rows)
}

/// The id a test is recorded under: `e2e:x` is `rust:cpis-e2e::x`.
fn canonical(id: &str) -> String {
    match id.strip_prefix("e2e:") {
        Some(path) => format!("rust:cpis-e2e::{path}"),
        None => id.to_string(),
    }
}

fn rust_packages(rows: &[Row]) -> BTreeSet<String> {
    rows.iter()
        .filter_map(|row| row.test.as_deref())
        .map(canonical)
        .filter_map(|id| {
            let rest = id.strip_prefix("rust:")?;
            rest.split_once("::")
                .map(|(package, _)| package.to_string())
        })
        .collect()
}

fn parse_results(text: &str) -> BTreeMap<String, Status> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t'))
        .filter_map(|(word, id)| Some((id.to_string(), Status::from_results(word)?)))
        .collect()
}

/// Every test of the test binaries `cargo <args>` builds, as `(rust:<package>::<path>,
/// ignored)`. Uses `--no-run`, so with the same arguments as the run just made it builds nothing.
fn rust_tests(args: &[&str]) -> Result<Vec<(String, bool)>> {
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["--no-run", "--message-format=json"]);
    eprintln!("$ cargo {}", full.join(" "));
    let output = Command::new("cargo")
        .args(&full)
        .current_dir(root())
        .stderr(Stdio::inherit())
        .output()
        .context("could not start cargo")?;
    if !output.status.success() {
        bail!("cargo {} failed ({})", full.join(" "), output.status);
    }
    let mut tests = Vec::new();
    for (package, executable) in test_executables(&String::from_utf8_lossy(&output.stdout)) {
        let all = list_binary(&executable, false)?;
        let ignored: BTreeSet<String> = list_binary(&executable, true)?.into_iter().collect();
        for path in all {
            let is_ignored = ignored.contains(&path);
            tests.push((format!("rust:{package}::{path}"), is_ignored));
        }
    }
    Ok(tests)
}

/// `(package, executable)` for each test binary in cargo's JSON messages.
fn test_executables(messages: &str) -> Vec<(String, String)> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["profile"]["test"] == true
        })
        .filter_map(|message| {
            let executable = message["executable"].as_str()?.to_string();
            let package = package_name(message["package_id"].as_str()?)?;
            Some((package, executable))
        })
        .collect()
}

/// The package name in a cargo package id: `path+file:///dir/name#1.0.0` or
/// `path+file:///dir/other#name@1.0.0` (or the older `name 1.0.0 (path+file:///...)`).
fn package_name(package_id: &str) -> Option<String> {
    if let Some((location, fragment)) = package_id.rsplit_once('#') {
        if let Some((name, _version)) = fragment.split_once('@') {
            return Some(name.to_string());
        }
        return location.rsplit('/').next().map(str::to_string);
    }
    package_id.split_whitespace().next().map(str::to_string)
}

/// The test paths a libtest binary lists (only the ignored ones with `ignored`).
fn list_binary(executable: &str, ignored: bool) -> Result<Vec<String>> {
    let mut command = Command::new(executable);
    command.arg("--list");
    if ignored {
        command.arg("--ignored");
    }
    let output = command
        .stderr(Stdio::null())
        .output()
        .with_context(|| format!("could not start {executable}"))?;
    if !output.status.success() {
        bail!("{executable} --list failed ({})", output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect())
}

/// Every Vitest test, as `(ui:<file under ui/> > <describe> > <it>, false)`.
fn ui_tests(root: &Path) -> Result<Vec<(String, bool)>> {
    let ui = root.join("ui");
    eprintln!("$ npx vitest list --json");
    let output = Command::new("npx")
        .args(["vitest", "list", "--json"])
        .current_dir(&ui)
        .stderr(Stdio::inherit())
        .output()
        .context("could not start npx vitest list")?;
    if !output.status.success() {
        bail!("npx vitest list --json failed ({})", output.status);
    }
    parse_vitest_list(&String::from_utf8_lossy(&output.stdout), &ui)
}

fn parse_vitest_list(stdout: &str, ui: &Path) -> Result<Vec<(String, bool)>> {
    let start = stdout
        .find('[')
        .context("vitest list printed no JSON array")?;
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(&stdout[start..]).context("reading vitest list's JSON")?;
    let prefix = format!("{}/", ui.display());
    Ok(entries
        .iter()
        .filter_map(|entry| {
            let name = entry["name"].as_str()?;
            let file = entry["file"].as_str()?;
            let file = file.strip_prefix(&prefix).unwrap_or(file);
            Some((format!("ui:{file} > {name}"), false))
        })
        .collect())
}

/// Print and write the traceability table; fail if any row's test did not pass.
fn check(root: &Path, rows: &[Row], known: &BTreeMap<String, Status>, origin: &str) -> Result<()> {
    let mut table = String::from("| hazard | control | test | result |\n|---|---|---|---|\n");
    let mut failures = 0;
    for row in rows {
        let status = match &row.test {
            None => Status::NoTest,
            Some(id) => known
                .get(&canonical(id))
                .copied()
                .unwrap_or(Status::Missing),
        };
        if status != Status::Passed {
            failures += 1;
        }
        let test = row.test.as_deref().unwrap_or("no test yet");
        let _ = writeln!(
            table,
            "| {} | {} | `{}` | {} |",
            row.hazard,
            row.control,
            test,
            status.label()
        );
    }
    let hazards: BTreeSet<&str> = rows.iter().map(|row| row.hazard.as_str()).collect();
    let summary = format!(
        "{} hazards, {} control-test rows, {} passed, {failures} not passed ({origin})",
        hazards.len(),
        rows.len(),
        rows.len() - failures
    );
    let report = format!(
        "# Traceability: hazard → control → test → result\n\nGenerated by `cargo xtask safety` \
         from `{HAZARD_LOG}`.\n\n{summary}\n\n{table}"
    );
    println!("{table}\nsafety: {summary}");
    let path = root.join(REPORT);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&path, report).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    if failures > 0 {
        bail!("{failures} hazard-log rows have no passing test (see {REPORT})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
# Hazard log

| hazard | control | test |
|---|---|---|
| H1 wrong patient | C1 check digit | `rust:cpis-domain::nhs_number::tests::a` |
| | | `ui:src/App.test.tsx > App > b` |
| | C2 banner | no test yet |
| H2 missed | C3 callout | `e2e:journeys::c` |

| not | this | table |
|---|---|---|
| x | y | z |
";

    #[test]
    fn the_log_is_read_with_repeated_cells_filled_in() {
        let rows = parse_log(LOG).expect("the example log parses");
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[1].hazard, "H1 wrong patient");
        assert_eq!(rows[1].control, "C1 check digit");
        assert_eq!(rows[2].control, "C2 banner");
        assert_eq!(rows[2].test, None);
        assert_eq!(rows[3].test.as_deref(), Some("e2e:journeys::c"));
        assert_eq!(
            rust_packages(&rows).into_iter().collect::<Vec<_>>(),
            ["cpis-domain", "cpis-e2e"]
        );
    }

    #[test]
    fn a_test_that_is_not_an_id_is_an_error() {
        let log = "| hazard | control | test |\n|---|---|---|\n| h | c | some test |\n";
        assert!(parse_log(log).is_err());
    }

    #[test]
    fn missing_ignored_and_untested_rows_fail_and_passing_ones_do_not() {
        let rows = parse_log(LOG).expect("the example log parses");
        let dir = std::env::temp_dir().join(format!("xtask-safety-{}", std::process::id()));
        let mut known = parse_results(
            "# run\npassed\trust:cpis-domain::nhs_number::tests::a\n\
             ignored\tui:src/App.test.tsx > App > b\npassed\trust:cpis-e2e::journeys::c\n",
        );
        assert!(check(&dir, &rows, &known, "test").is_err());
        known.insert("ui:src/App.test.tsx > App > b".into(), Status::Passed);
        let only_tested: Vec<Row> = rows.into_iter().filter(|row| row.test.is_some()).collect();
        assert!(check(&dir, &only_tested, &known, "test").is_ok());
        known.remove("rust:cpis-e2e::journeys::c");
        assert!(check(&dir, &only_tested, &known, "test").is_err());
        let report = std::fs::read_to_string(dir.join(REPORT)).expect("the report was written");
        assert!(report.contains("| `e2e:journeys::c` | FAIL (missing) |"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn package_names_come_from_either_package_id_form() {
        assert_eq!(
            package_name("path+file:///work/main/crates/cpis-domain#0.1.0").as_deref(),
            Some("cpis-domain")
        );
        assert_eq!(
            package_name("path+file:///work/main/tests#cpis-e2e@0.1.0").as_deref(),
            Some("cpis-e2e")
        );
        assert_eq!(
            package_name("xtask 0.1.0 (path+file:///work/main/xtask)").as_deref(),
            Some("xtask")
        );
    }

    #[test]
    fn vitest_list_json_becomes_ui_ids() {
        let stdout = "[{\"name\":\"App > b\",\"file\":\"/r/ui/src/App.test.tsx\"}]";
        let tests = parse_vitest_list(stdout, Path::new("/r/ui")).expect("the JSON parses");
        assert_eq!(
            tests,
            [("ui:src/App.test.tsx > App > b".to_string(), false)]
        );
    }
}
