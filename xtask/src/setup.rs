//! `cargo xtask setup`: installs what the project needs and is safe to run again.
//!
//! Debian packages are installed when running as root; otherwise the exact `apt-get` line is
//! printed and setup stops. npm packages come from the committed lockfiles (`npm ci`). Test
//! tools built from crates.io (tauri-driver, cargo-deny, cargo-fuzz) are installed with
//! `cargo install --locked`.

use std::process::Command;

use anyhow::{Result, bail};

use crate::{root, run as run_command};

/// Debian packages: the first group builds the app, the second runs its tests.
const DEBIAN_PACKAGES: &[&str] = &[
    // build
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libwebkit2gtk-4.1-dev",
    "librsvg2-dev",
    // the Linux keyring (Secret Service over D-Bus)
    "libdbus-1-dev",
    // test
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "dbus",
    "dbus-x11",
    "gnome-keyring",
    // xdg-open, through which the app and the CLI open the system browser to sign in (the
    // tests point $BROWSER at a headless stand-in).
    "xdg-utils",
    // schemathesis (PyPI) runs in a virtual environment; the script mints tokens with openssl
    "python3-venv",
    "openssl",
];

/// The oldest Node.js that Vite 8 runs on.
const MINIMUM_NODE: (u32, u32) = (20, 19);

const TAURI_DRIVER_VERSION: &str = "2.0.6";
/// cargo-deny, for the dependency policy in `deny.toml` (checked offline by the tests).
const CARGO_DENY_VERSION: &str = "0.20.2";
/// cargo-fuzz, for `cargo xtask fuzz` (run on the stable toolchain; see `xtask/src/fuzz.rs`).
const CARGO_FUZZ_VERSION: &str = "0.13.2";

pub fn run() -> Result<()> {
    debian_packages()?;
    node()?;
    npm_ci()?;
    tauri_driver()?;
    cargo_deny()?;
    cargo_fuzz()?;
    Ok(())
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

fn debian_packages() -> Result<()> {
    let missing: Vec<&str> = DEBIAN_PACKAGES
        .iter()
        .copied()
        .filter(|package| !is_installed(package))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let line = format!(
        "apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    if !is_root() {
        bail!("missing Debian packages; run as root:\n  sudo apt-get update && sudo {line}");
    }
    let root = root();
    run_command(&root, "apt-get", &["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(missing.iter().copied());
    crate::run_env(
        &root,
        "apt-get",
        &args,
        &[("DEBIAN_FRONTEND", "noninteractive")],
    )
}

fn node_version() -> Option<(u32, u32)> {
    let output = Command::new("node").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn node() -> Result<()> {
    if node_version().is_some_and(|version| version >= MINIMUM_NODE) {
        return Ok(());
    }
    if is_root() {
        // Debian 13 and Ubuntu 24.10+ package a new enough Node.js; older releases do not.
        let root = root();
        run_command(&root, "apt-get", &["update", "-qq"])?;
        let _ = crate::run_env(
            &root,
            "apt-get",
            &["install", "-y", "-qq", "nodejs", "npm"],
            &[("DEBIAN_FRONTEND", "noninteractive")],
        );
        if node_version().is_some_and(|version| version >= MINIMUM_NODE) {
            return Ok(());
        }
    }
    bail!(
        "Node.js {}.{} or newer is needed (found {:?}); install it from your distribution or nodejs.org",
        MINIMUM_NODE.0,
        MINIMUM_NODE.1,
        node_version()
    )
}

fn npm_ci() -> Result<()> {
    let root = root();
    for dir in ["ui", "dev-idp"] {
        let dir = root.join(dir);
        let stamp = dir.join("node_modules/.package-lock.json");
        let lock = dir.join("package-lock.json");
        let fresh = match (std::fs::metadata(&stamp), std::fs::metadata(&lock)) {
            (Ok(stamp), Ok(lock)) => match (stamp.modified(), lock.modified()) {
                (Ok(stamp), Ok(lock)) => stamp >= lock,
                _ => false,
            },
            _ => false,
        };
        if !fresh {
            run_command(&dir, "npm", &["ci", "--no-audit", "--no-fund"])?;
        }
    }
    Ok(())
}

fn tauri_driver() -> Result<()> {
    cargo_install(
        "tauri-driver",
        TAURI_DRIVER_VERSION,
        &["tauri-driver", "--help"],
        None,
    )
}

fn cargo_deny() -> Result<()> {
    cargo_install(
        "cargo-deny",
        CARGO_DENY_VERSION,
        &["cargo", "deny", "--version"],
        None,
    )
}

/// Install cargo-fuzz at [`CARGO_FUZZ_VERSION`] unless `cargo fuzz --version` already says so.
pub fn cargo_fuzz() -> Result<()> {
    cargo_install(
        "cargo-fuzz",
        CARGO_FUZZ_VERSION,
        &["cargo", "fuzz", "--version"],
        Some(CARGO_FUZZ_VERSION),
    )
}

/// `cargo install <name> --version <version> --locked`, unless `probe` (a command line) already
/// succeeds and, when `must_print` is given, prints that word on stdout.
fn cargo_install(
    name: &str,
    version: &str,
    probe: &[&str],
    must_print: Option<&str>,
) -> Result<()> {
    let installed = probe.split_first().is_some_and(|(program, args)| {
        Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|output| {
                output.status.success()
                    && must_print.is_none_or(|word| {
                        String::from_utf8_lossy(&output.stdout)
                            .split_whitespace()
                            .any(|printed| printed == word)
                    })
            })
    });
    if installed {
        return Ok(());
    }
    run_command(
        &root(),
        "cargo",
        &["install", name, "--version", version, "--locked"],
    )
}
