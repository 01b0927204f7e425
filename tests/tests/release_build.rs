//! A release build with no configuration contacts nothing (issue 12). The release `cpis`
//! (from `CPIS_E2E_RELEASE_CLI`, which `cargo xtask test` builds and sets) runs with an empty
//! home and no `CPIS_CONFIG`, while listeners on 127.0.0.1:8080 and 127.0.0.1:9090 (where a
//! development build's defaults point) record every connection. Each command must stop with
//! the configuration exit status, name the missing settings and the machine-wide file, and no
//! connection may arrive. Without the variable the test fails with a message; it never skips.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};

/// `cpis`'s exit status for a missing or invalid configuration (and other bad input).
const EXIT_CONFIGURATION: i32 = 2;

/// Where the trust's machine-wide file goes on Linux.
const MACHINE_FILE: &str = "/etc/cpis-viewer/config.toml";

/// The settings a release build needs and has no default for.
const MISSING: [&str; 4] = [
    "services.cpis_url",
    "services.demographics_url",
    "services.audit_url",
    "sign_in.broker_url",
];

/// A listener that counts the connections made to it.
struct Recorder {
    address: &'static str,
    listener: TcpListener,
}

impl Recorder {
    fn bind(address: &'static str) -> Result<Recorder> {
        let listener = TcpListener::bind(address).with_context(|| {
            format!(
                "{address} is in use: stop whatever listens there (a running demo?) so that this \
                 test can see whether the release cpis connects to it"
            )
        })?;
        listener.set_nonblocking(true)?;
        Ok(Recorder { address, listener })
    }

    /// The connections that arrived so far (accepted from the backlog, even if closed since).
    fn connections(&self) -> Result<usize> {
        let mut count = 0;
        loop {
            match self.listener.accept() {
                Ok(_) => count += 1,
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return Ok(count),
                Err(error) => {
                    return Err(error).with_context(|| format!("accepting on {}", self.address));
                }
            }
        }
    }
}

fn release_cli() -> Result<PathBuf> {
    let cli = std::env::var("CPIS_E2E_RELEASE_CLI")
        .ok()
        .filter(|cli| !cli.is_empty())
        .context(
        "CPIS_E2E_RELEASE_CLI is not set: run the end-to-end tests with `cargo xtask test`, which \
         builds the release cpis (target/release/cpis) and sets it; or set it yourself after \
         `cargo build --release -p cpis-cli`",
    )?;
    // A relative path is taken from the workspace root, where `cargo xtask` and people run
    // cargo (the test itself runs in `tests/`).
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(cli);
    ensure!(
        cli.is_file(),
        "CPIS_E2E_RELEASE_CLI points at {}, which does not exist",
        cli.display()
    );
    Ok(cli)
}

/// Run the release `cpis` with `args` in an empty home: no configuration anywhere, no
/// `CPIS_*` variable. Its stderr also goes to the log folder for the log scan.
fn run(cli: &Path, home: &Path, args: &[&str]) -> Result<std::process::Output> {
    let mut command = Command::new(cli);
    command
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        // Should anything reach the keyring, it is not a real session's entry.
        .env("CPIS_KEYRING_SERVICE", "cpis-viewer-e2e-release-build")
        .stdin(Stdio::null());
    for kept in ["PATH", "RUST_LOG"] {
        if let Some(value) = std::env::var_os(kept) {
            command.env(kept, value);
        }
    }
    let output = command
        .output()
        .with_context(|| format!("running {} {}", cli.display(), args.join(" ")))?;
    if let Some((mut log, _)) = cpis_e2e::log_file("release-cli-stderr") {
        use std::io::Write;
        let _ = log.write_all(&output.stderr);
    }
    Ok(output)
}

#[test]
fn a_release_cpis_without_configuration_contacts_nothing_and_names_what_is_missing() -> Result<()> {
    let cli = release_cli()?;
    if Path::new(MACHINE_FILE).exists() {
        bail!(
            "{MACHINE_FILE} exists on this machine: this test needs a machine without the trust's \
             machine-wide configuration (move it away while the tests run)"
        );
    }
    let service = Recorder::bind("127.0.0.1:8080")?;
    let identity_provider = Recorder::bind("127.0.0.1:9090")?;
    let broker = Recorder::bind("127.0.0.1:9091")?;
    let home = tempfile::tempdir().context("temporary home")?;
    let user_file = home.path().join(".config/cpis-viewer/config.toml");

    let commands: [&[&str]; 9] = [
        &["login", "--no-browser"],
        &["lookup", "9990000026"],
        &["lookup", "9990000026", "--json"],
        &["whoami"],
        &["audit", "sync"],
        &["audit", "status"],
        &["logout"],
        &["config"],
        &["config", "--json"],
    ];
    for args in commands {
        let output = run(&cli, home.path(), args)?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        let shown = args.join(" ");
        assert_eq!(
            output.status.code(),
            Some(EXIT_CONFIGURATION),
            "`cpis {shown}` must stop with the configuration exit status; stderr: {stderr}"
        );
        for field in MISSING {
            assert!(
                stderr.contains(&format!("`{field}`")),
                "`cpis {shown}` must name `{field}`; stderr: {stderr}"
            );
        }
        assert!(
            stderr.contains(MACHINE_FILE),
            "`cpis {shown}` must say where the machine-wide file goes; stderr: {stderr}"
        );
        assert!(
            stderr.contains(&user_file.display().to_string()),
            "`cpis {shown}` must say where the user's own file goes; stderr: {stderr}"
        );
        assert!(
            !stderr.contains("127.0.0.1"),
            "`cpis {shown}` must not mention the demo's addresses; stderr: {stderr}"
        );
        if args.contains(&"--json") && args[0] == "config" {
            let json: serde_json::Value =
                serde_json::from_slice(&output.stdout).context("cpis config --json")?;
            assert_eq!(json["configured"], false);
            assert_eq!(json["machine_file"], MACHINE_FILE);
            assert_eq!(json["settings"], serde_json::Value::Null);
            assert_eq!(
                json["problems"].as_array().map(Vec::len),
                Some(MISSING.len()),
                "{json}"
            );
        }
    }
    // Give any connection attempt time to land in the backlog before counting.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        service.connections()?,
        0,
        "the release cpis connected to 127.0.0.1:8080 (the demo service's port)"
    );
    assert_eq!(
        identity_provider.connections()?,
        0,
        "the release cpis connected to 127.0.0.1:9090 (the demo identity provider's port)"
    );
    assert_eq!(
        broker.connections()?,
        0,
        "the release cpis connected to 127.0.0.1:9091 (the demo token broker's port)"
    );
    Ok(())
}
