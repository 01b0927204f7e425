//! `cargo xtask`: the one place that knows how the whole project is set up, built, run and
//! tested. Commands: see `USAGE`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

mod bench;
mod fuzz;
mod logscan;
mod package;
mod postgres;
mod safety;
mod setup;
mod stack;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup     install what the project needs (Debian packages when root, npm packages, test tools)
  demo      build and start the app
  test      format check, clippy, Rust tests, UI lint and unit tests, end-to-end tests
  bundle    build the release app and its .deb package (target/release/bundle/deb/)
  codegen   regenerate ui/src/backend/bindings.ts from the IPC types
  postgres  start the throwaway PostgreSQL server the tests use and print its URL
  safety    the hazard log's traceability table, with results from the last `cargo xtask test`
  fuzz      run the cargo-fuzz targets in fuzz/ for N seconds each: fuzz [--seconds N] [target...]
  logscan   scan the last end-to-end run's logs (target/e2e-artifacts/logs) for patient data
  bench     benchmarks beside baselines from the same run (--smoke, --runs N, --only PARTS);
            prints a table, writes target/bench/report.json and docs/benchmarks.md";

/// Set in the environment of the re-executed xtask, whose `PATH` already leads with the
/// project's own tools (see [`tools_path`]).
const TOOLS_ON_PATH_ENV: &str = "CPIS_XTASK_TOOLS_ON_PATH";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Every command runs with the tools setup installs first on PATH: the pinned Node.js under
    // target/tools/bin and `$CARGO_HOME/bin` (where `cargo install` puts tauri-driver, even when
    // CARGO_HOME is not ~/.cargo). The process environment cannot be changed without `unsafe`,
    // so xtask runs itself once more with the new PATH and exits with its status.
    if std::env::var_os(TOOLS_ON_PATH_ENV).is_none() {
        return reexec_with_tools_path(&args);
    }
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(),
        Some("demo") => demo(),
        Some("test") => test(),
        Some("codegen") => codegen(),
        Some("bundle") => bundle(),
        Some("safety") => safety::run(),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("logscan") => logscan::run(
            &args
                .get(1)
                .map_or_else(|| root().join("target/e2e-artifacts/logs"), PathBuf::from),
        ),
        Some("postgres") => postgres::ensure_postgres().map(|url| println!("{url}")),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn reexec_with_tools_path(args: &[String]) -> ExitCode {
    let path = match tools_path() {
        Ok(path) => path,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let status = std::env::current_exe()
        .context("finding the xtask binary")
        .and_then(|exe| {
            let mut command = Command::new(exe);
            command
                .args(args)
                .env("PATH", path)
                .env(TOOLS_ON_PATH_ENV, "1");
            // The test command builds everything once, from scratch on CI: incremental caches
            // would only cost disk (over 2 GB of target/debug/incremental on a fresh clone, and CI
            // machines have run out of space). A developer's own setting is kept.
            if args.first().map(String::as_str) == Some("test")
                && std::env::var_os("CARGO_INCREMENTAL").is_none()
            {
                command.env("CARGO_INCREMENTAL", "0");
            }
            command
                .status()
                .context("running xtask with the project's tools on PATH")
        });
    match status {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::FAILURE,
        },
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `PATH` with the project's tools first: `target/tools/bin` (Node.js, npm and npx, which
/// setup installs) and `$CARGO_HOME/bin` (`~/.cargo/bin` when CARGO_HOME is not set).
fn tools_path() -> Result<std::ffi::OsString> {
    let mut entries = vec![setup::tools_bin_dir(), cargo_home()?.join("bin")];
    if let Some(path) = std::env::var_os("PATH") {
        entries.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(entries).context("building PATH")
}

/// Where cargo keeps its registry and installs binaries.
fn cargo_home() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|value| !value.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    std::env::var_os("HOME")
        .filter(|value| !value.is_empty())
        .map(|home| PathBuf::from(home).join(".cargo"))
        .context("neither CARGO_HOME nor HOME is set")
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Print and run a command in `dir`, failing on a non-zero exit.
pub fn run(dir: &Path, program: &str, args: &[&str]) -> Result<()> {
    run_env(dir, program, args, &[])
}

/// [`run`] with extra environment variables.
pub fn run_env(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("could not start {program}"))?;
    if !status.success() {
        bail!("{program} {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Tests counted across the runs of `cargo xtask test`, for its closing line.
static PASSED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Add the counts from one line of test-runner output (`cargo test`'s `test result:` lines and
/// Vitest's `Tests  N passed` line).
fn count_line(line: &str) {
    // Drop ANSI colour sequences (ESC [ ... letter) and other control characters.
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(character) = chars.next() {
        if character == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                for next in chars.by_ref() {
                    if next.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else if !character.is_control() {
            plain.push(character);
        }
    }
    let words: Vec<&str> = plain.split_whitespace().collect();
    let is_cargo = plain.trim_start().starts_with("test result:");
    let is_vitest = words.first() == Some(&"Tests") || plain.contains("Tests ");
    if !(is_cargo || is_vitest) {
        return;
    }
    for pair in words.windows(2) {
        if pair[1].trim_end_matches([';', ',']) == "passed"
            && let Ok(count) = pair[0].parse::<u64>()
        {
            PASSED.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// [`run_env`], echoing and counting the test results on stdout.
pub fn run_counting(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    use std::io::BufRead;
    eprintln!("$ {program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {program}"))?;
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            println!("{line}");
            count_line(&line);
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("waiting for {program}"))?;
    if !status.success() {
        bail!("{program} {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Write the generated TypeScript bindings for the IPC types.
fn codegen() -> Result<()> {
    let path = root().join(cpis_ipc::BINDINGS_PATH);
    std::fs::write(&path, cpis_ipc::render_typescript_bindings())
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// Build the web UI into ui/dist, which the app embeds at compile time.
fn build_ui() -> Result<()> {
    run(&root().join("ui"), "npm", &["run", "build"])
}

/// Build the desktop app (debug profile, UI embedded), the reference service and `cpis`, and return
/// the app binary's path.
fn build_app() -> Result<PathBuf> {
    build_ui()?;
    run(
        &root(),
        "cargo",
        &[
            "build",
            "--package",
            "cpis-viewer",
            "--package",
            "cpis-service",
            "--package",
            "cpis-broker",
            "--package",
            "cpis-cli",
        ],
    )?;
    Ok(root().join("target/debug/cpis-viewer"))
}

/// Build the release app and its `.deb` (see `package.rs`).
fn bundle() -> Result<()> {
    setup::run()?;
    let deb = package::build_deb()?;
    eprintln!("built {}", deb.display());
    Ok(())
}

/// Start the identity provider and the seeded reference service, then the app against them.
fn demo() -> Result<()> {
    setup::run()?;
    let root = root();
    let app = build_app()?;
    let service = root.join("target/debug/cpis-service");
    let dir = stack::demo_dir();
    let (database_url, manifest) = stack::seed_demo_database(&dir, &service)?;
    let config = stack::write_client_config(&dir)?;
    let _identity_provider = stack::start_identity_provider()?;
    let _service = stack::start_service(&service, &database_url)?;
    let _broker = stack::start_broker(&root.join("target/debug/cpis-broker"), &dir)?;
    stack::print_scenarios(&manifest)?;
    eprintln!(
        "Sign in as ed-nurse, midwife, named-nurse, scheduled-care or no-role (dev-idp/README.md):\n\
         the app signs in through the token broker (http://127.0.0.1:9091; docs/sign-in.md).\n\
         The identity provider's and the broker's keys are public: development only.\n"
    );
    let status = Command::new(&app)
        .current_dir(&root)
        .env("CPIS_CONFIG", &config)
        .status()
        .context("could not start the app")?;
    if !status.success() {
        bail!("the app exited with {status}");
    }
    Ok(())
}

fn test() -> Result<()> {
    setup::run()?;
    let root = root();
    let ui = root.join("ui");
    run(&root, "cargo", &["fmt", "--all", "--check"])?;
    // Dependency policy (licences, bans, sources), offline.
    run(
        &root,
        "cargo",
        &[
            "deny",
            "--offline",
            "check",
            "--hide-inclusion-graph",
            "licenses",
            "bans",
            "sources",
        ],
    )?;
    // The app embeds ui/dist at compile time, so the UI is built before anything compiles it.
    build_ui()?;
    run(&ui, "npm", &["run", "lint"])?;
    run_counting(&ui, "npm", &["test"], &[])?;
    run(
        &root,
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // Storage tests run on SQLite and on a real PostgreSQL server started here.
    let postgres_url = postgres::ensure_postgres()?;
    in_test_session(
        &["cargo", "test", "--workspace", "--exclude", "cpis-e2e"],
        &[("CPIS_TEST_DATABASE_URL_POSTGRES", &postgres_url)],
    )?;
    let app = build_app()?;
    // The release package (lintian-checked), whose contents and release `cpis` the end-to-end
    // tests check.
    let deb = package::build_deb()?;
    // Property-based API tests of the reference service against its own OpenAPI document.
    run(
        &root,
        "bash",
        &["crates/cpis-service/scripts/schemathesis.sh"],
    )?;
    // The reference service's answers against R4 (fhir.resources, pinned in
    // tools/fhir-validate/requirements.txt) and the published profiles, ValueSet, error page and
    // PDS examples in ../shared/fixtures: a validator that is not our own parser.
    run(&root, "bash", &["tools/fhir-validate/run.sh"])?;
    // Our AuditEvents (every client record shape, every server read) against the
    // England-AuditEvent-PARS profile read at run time (tools/fhir-validate/pars.py, same venv).
    run(&root, "bash", &["tools/fhir-validate/pars.sh"])?;
    end_to_end(&app, &deb)?;
    // The benchmark harness builds and runs (tiny sizes; its figures mean nothing and are not
    // judged: benchmarks are never timed assertions).
    bench::run(&["--smoke".to_string()])?;
    // Every fuzz target briefly (cargo xtask fuzz --seconds N runs them for longer).
    fuzz::smoke()?;
    // Hazard -> control -> test traceability from this run; fails on any missing test.
    safety::run_after_tests()?;
    // The plain closing line CI reads: every test counted above passed, none failed.
    println!(
        "tests: {} passed, 0 failed",
        PASSED.load(std::sync::atomic::Ordering::Relaxed)
    );
    Ok(())
}

/// Run `command` the way the tests need: inside a private D-Bus session with a real Secret
/// Service (gnome-keyring, unlocked with a throwaway password) whose files live under
/// `target/test-home`, never in the user's own keyring.
fn in_test_session(command: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let home = root().join("target/test-home");
    let data = home.join("data");
    std::fs::create_dir_all(&data).context("creating target/test-home")?;
    let data = data.to_string_lossy().to_string();
    let mut args = vec![
        "--",
        "sh",
        "-c",
        "printf cpis-test-keyring | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec \"$@\"",
        "sh",
    ];
    args.extend_from_slice(command);
    let mut env = env.to_vec();
    env.push(("XDG_DATA_HOME", &data));
    run_counting(&root(), "dbus-run-session", &args, &env)
}

/// Run the end-to-end tests against the built app in a virtual display, with a session bus,
/// every process logging at `RUST_LOG=trace` into `target/e2e-artifacts/logs/`; then scan those
/// logs for synthetic patient data and tokens.
fn end_to_end(app: &Path, deb: &Path) -> Result<()> {
    let app = app.to_string_lossy().to_string();
    let deb = deb.to_string_lossy().to_string();
    let release_cli = root()
        .join("target/release/cpis")
        .to_string_lossy()
        .to_string();
    let debug = root().join("target/debug");
    let service = debug.join("cpis-service").to_string_lossy().to_string();
    let broker = debug.join("cpis-broker").to_string_lossy().to_string();
    let cli = debug.join("cpis").to_string_lossy().to_string();
    let logs = root().join("target/e2e-artifacts/logs");
    if logs.exists() {
        std::fs::remove_dir_all(&logs).context("clearing target/e2e-artifacts/logs")?;
    }
    std::fs::create_dir_all(&logs).context("creating target/e2e-artifacts/logs")?;
    let logs_text = logs.to_string_lossy().to_string();
    in_test_session(
        &[
            "xvfb-run",
            "--auto-servernum",
            "--server-args=-screen 0 1280x1024x24",
            "cargo",
            "test",
            "--package",
            "cpis-e2e",
            "--test",
            "e2e",
            "--",
            "--test-threads=1",
        ],
        &[
            ("CPIS_E2E_APP", &app),
            ("CPIS_E2E_SERVICE", &service),
            ("CPIS_E2E_BROKER", &broker),
            ("CPIS_E2E_CLI", &cli),
            ("CPIS_E2E_DEB", &deb),
            ("CPIS_E2E_RELEASE_CLI", &release_cli),
            ("CPIS_E2E_LOG_DIR", &logs_text),
            ("RUST_LOG", "trace"),
        ],
    )?;
    logscan::run(&logs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_result_lines_are_counted() {
        let before = PASSED.load(std::sync::atomic::Ordering::Relaxed);
        count_line(
            "test result: ok. 43 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 4.26s",
        );
        count_line("      Tests  7 passed (7)");
        count_line(
            "\u{1b}[2m      Tests \u{1b}[22m \u{1b}[1m\u{1b}[32m88 passed\u{1b}[39m\u{1b}[22m\u{1b}[90m (88)\u{1b}[39m",
        );
        count_line(" Test Files  2 passed (2)");
        count_line("test it::passed_things ... ok");
        let after = PASSED.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(after - before, 138);
    }
}
