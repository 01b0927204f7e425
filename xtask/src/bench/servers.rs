//! What the service and audit parts share: building `cpis-service` and `cpis-bench`, their
//! work folders, the service and the bare axum server started under `cpis-supervisor` (each
//! announces its URL on its first stdout line; stderr goes to a log file), and `cpis-bench`'s
//! one-shot commands (its JWKS, the TEST-ONLY RS256 token for the bare route, and the service's
//! opaque token through its token exchange).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use cpis_supervisor::{Launch, Ready, Sink, Supervised};

use super::Scale;

/// The CIS2 issuer the bench ID token carries (see `crates/cpis-bench/src/keys.rs`); the
/// service's other settings (CIS2 client id, API key) are its defaults.
const ISSUER: &str = "https://idp.bench.invalid";
/// The broker's DEV-ONLY public JWKS, registered with the bench service explicitly as the
/// platform app's keys (`cpis-bench` signs its client assertions with the matching key).
const APP_JWKS: &str = "crates/cpis-broker/dev-keys/DEV-ONLY-broker.jwks.public.json";
/// How long a server has to announce its URL.
const READY_DEADLINE: Duration = Duration::from_secs(120);

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

/// A server process, stopped (SIGTERM, then killed) when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    /// Held for its `Drop`, which stops the server.
    _process: Supervised,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

/// Start `command`, which announces `<prefix>http://ADDR` on stdout; stderr goes to `log`.
fn start_server(name: &str, command: Command, prefix: &str, log: &Path) -> Result<Server> {
    let process = Launch::new(name, command)
        .stdout(Sink::Null)
        .stderr(Sink::file(log)?)
        .ready_when(Ready::StdoutLine(prefix.to_owned()), READY_DEADLINE)
        .start()
        .with_context(|| format!("starting {name}; see {}", log.display()))?;
    let base = process
        .announced()
        .map(str::to_owned)
        .context("the server announced no URL")?;
    Ok(Server {
        _process: process,
        base,
    })
}

/// Start the reference service on `database` with the bench JWKS as its CIS2 keys and the
/// broker's DEV-ONLY JWKS as the platform app's, on a free port. The synthetic users' roles
/// are written into the role directory first (a database seeded before the directory existed,
/// or never seeded, has none).
pub(crate) fn start_service(
    binaries: &Binaries,
    database: &str,
    dir: &Path,
    log: &Path,
) -> Result<Server> {
    let jwks = dir.join("jwks.json");
    std::fs::write(&jwks, bench_output(binaries, &["jwks"])?)?;
    let roles = Command::new(&binaries.service)
        .args(["seed-roles", "--database", database])
        .env_remove("CPIS_CONFIG")
        .stderr(Stdio::inherit())
        .status()
        .context("could not run cpis-service seed-roles")?;
    if !roles.success() {
        bail!("cpis-service seed-roles failed ({roles})");
    }
    let mut command = Command::new(&binaries.service);
    command
        .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
        .args(["--issuer", ISSUER, "--jwks-file"])
        .arg(&jwks)
        .arg("--app-jwks-file")
        .arg(crate::root().join(APP_JWKS))
        .env_remove("CPIS_CONFIG")
        .env_remove("CPIS_APP_JWKS_URL")
        .env_remove("CPIS_PUBLIC_URL");
    start_server("cpis-service", command, "cpis-service listening on ", log)
}

/// Start the bare axum server.
pub(crate) fn start_bare(binaries: &Binaries, log: &Path) -> Result<Server> {
    let mut command = Command::new(&binaries.bench);
    command.args(["bare", "--listen", "127.0.0.1:0"]);
    start_server(
        "cpis-bench bare",
        command,
        "cpis-bench bare listening on ",
        log,
    )
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

/// A TEST-ONLY RS256 token for the bare RS256 route, valid for two hours (the service
/// accepts no JWT: see [`service_token`]).
pub(crate) fn token(binaries: &Binaries) -> Result<String> {
    bench_output(binaries, &["token", "--expires-in", "7200"])
}

/// An opaque access token of the service at `base` for the bench nurse, through its token
/// exchange; it lives about 10 minutes, so take a fresh one for each run.
pub(crate) fn service_token(binaries: &Binaries, base: &str) -> Result<String> {
    bench_output(binaries, &["service-token", "--service", base])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_announces_its_url_and_its_stderr_goes_to_the_log() {
        let dir = std::env::temp_dir().join(format!("xtask-servers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let log = dir.join("server.log");
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "echo starting >&2; echo 'fake listening on http://127.0.0.1:1'; sleep 30",
        ]);
        let server = start_server("fake", command, "fake listening on ", &log).expect("started");
        assert_eq!(server.base, "http://127.0.0.1:1");
        drop(server);
        assert_eq!(
            std::fs::read_to_string(&log).expect("log"),
            "starting\n",
            "stderr is in the log"
        );

        let mut silent = Command::new("sh");
        silent.args(["-c", "echo something else"]);
        let error = start_server("silent", silent, "fake listening on ", &log)
            .expect_err("never announces");
        assert!(
            format!("{error:#}").contains("see"),
            "the error names the log: {error:#}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
