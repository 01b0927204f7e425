//! What the `.deb` installs, read from the package `cargo xtask test` built (`CPIS_E2E_DEB`):
//! exactly the expected files with Debian's modes, the configuration example as a conffile, no
//! maintainer scripts (so removing the package can never touch a user's audit queue), the
//! control fields, and an example configuration that is complete and valid once uncommented.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The package, from `CPIS_E2E_DEB`; without it the test fails and says how to run it.
fn deb() -> Result<PathBuf> {
    let path = std::env::var_os("CPIS_E2E_DEB").context(
        "CPIS_E2E_DEB is not set: run `cargo xtask test`, which builds the .deb and sets it",
    )?;
    let path = PathBuf::from(path);
    if !path.is_file() {
        bail!("CPIS_E2E_DEB names {}, which is not a file", path.display());
    }
    Ok(path)
}

fn dpkg_deb(args: &[&str]) -> Result<String> {
    let output = Command::new("dpkg-deb")
        .args(args)
        .output()
        .context("running dpkg-deb")?;
    if !output.status.success() {
        bail!(
            "dpkg-deb {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// One member of a tar listing: mode string, owner, path (directories end in `/`).
#[derive(Debug)]
struct Member {
    mode: String,
    owner: String,
    path: String,
}

fn members(listing: &str) -> Vec<Member> {
    listing
        .lines()
        .filter_map(|line| {
            // drwxr-xr-x root/root 0 2026-11-27 08:00 ./usr/bin/
            let mut fields = line.split_whitespace();
            let mode = fields.next()?.to_owned();
            let owner = fields.next()?.to_owned();
            let rest: Vec<&str> = fields.skip(3).collect();
            let path = rest.join(" ");
            let path = path
                .split(" -> ")
                .next()?
                .trim_start_matches('.')
                .to_owned();
            Some(Member { mode, owner, path })
        })
        .collect()
}

/// The files the package installs (directories are implied), and their modes.
const EXPECTED_FILES: &[(&str, &str)] = &[
    ("/etc/cpis-viewer/config.toml.example", "-rw-r--r--"),
    ("/usr/bin/cpis", "-rwxr-xr-x"),
    ("/usr/bin/cpis-viewer", "-rwxr-xr-x"),
    ("/usr/share/applications/CP-IS Viewer.desktop", "-rw-r--r--"),
    ("/usr/share/doc/cp-is-viewer/changelog.gz", "-rw-r--r--"),
    ("/usr/share/doc/cp-is-viewer/copyright", "-rw-r--r--"),
    ("/usr/share/doc/cp-is-viewer/deployment.md", "-rw-r--r--"),
    (
        "/usr/share/icons/hicolor/512x512/apps/cpis-viewer.png",
        "-rw-r--r--",
    ),
    (
        "/usr/share/icons/hicolor/128x128/apps/cpis-viewer.png",
        "-rw-r--r--",
    ),
    (
        "/usr/share/icons/hicolor/256x256@2/apps/cpis-viewer.png",
        "-rw-r--r--",
    ),
    (
        "/usr/share/icons/hicolor/32x32/apps/cpis-viewer.png",
        "-rw-r--r--",
    ),
];

#[test]
fn the_deb_installs_exactly_the_expected_files_owned_by_root() -> Result<()> {
    let deb = deb()?;
    let listing = dpkg_deb(&["--contents", &deb.to_string_lossy()])?;
    let all = members(&listing);
    for member in &all {
        assert_eq!(member.owner, "root/root", "{} must be root's", member.path);
        if member.path.ends_with('/') {
            assert_eq!(member.mode, "drwxr-xr-x", "{}", member.path);
        }
    }
    let mut files: Vec<(String, String)> = all
        .iter()
        .filter(|member| !member.path.ends_with('/'))
        .map(|member| (member.path.clone(), member.mode.clone()))
        .collect();
    files.sort();
    let mut expected: Vec<(String, String)> = EXPECTED_FILES
        .iter()
        .map(|(path, mode)| ((*path).to_owned(), (*mode).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(files, expected, "the package's files and modes");
    // Nothing under a home folder, /var or /srv: removing the package removes only its own files.
    for member in &all {
        for forbidden in ["/home", "/root", "/var", "/srv", "/tmp"] {
            assert!(
                !member.path.starts_with(forbidden),
                "{} is outside the package's own folders",
                member.path
            );
        }
    }
    Ok(())
}

#[test]
fn the_configuration_example_is_a_conffile_and_there_are_no_maintainer_scripts() -> Result<()> {
    let deb = deb()?;
    let control = tempfile::tempdir()?;
    dpkg_deb(&[
        "--control",
        &deb.to_string_lossy(),
        &control.path().to_string_lossy(),
    ])?;
    let mut names: Vec<String> = std::fs::read_dir(control.path())?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_>>()?;
    names.sort();
    assert_eq!(
        names,
        ["conffiles", "control", "md5sums"],
        "no preinst, postinst, prerm or postrm: the package never touches users' data"
    );
    let conffiles = std::fs::read_to_string(control.path().join("conffiles"))?;
    assert_eq!(conffiles, "/etc/cpis-viewer/config.toml.example\n");
    Ok(())
}

#[test]
fn the_control_fields_name_the_package_and_what_it_needs() -> Result<()> {
    let deb = deb()?;
    let deb = deb.to_string_lossy();
    let field = |name: &str| -> Result<String> {
        Ok(dpkg_deb(&["--field", &deb, name])?.trim().to_owned())
    };
    assert_eq!(field("Package")?, "cp-is-viewer");
    assert_eq!(field("Architecture")?, "amd64");
    let depends = field("Depends")?;
    for needed in [
        "libc6 (>=",
        "libwebkit2gtk-4.1-0 (>=",
        "libgtk-3-0 (>=",
        "xdg-utils",
    ] {
        assert!(depends.contains(needed), "Depends {depends} lacks {needed}");
    }
    assert!(field("Recommends")?.contains("gnome-keyring"));
    assert!(field("Description")?.starts_with("Check child protection information"));
    Ok(())
}

/// Uncomment the example's settings: a line `#key = value`, `#[table]` or a line inside a
/// commented multi-line string loses its `#`; prose comments (`# text`) stay.
fn uncomment(example: &str) -> String {
    example
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if !rest.starts_with(' ') => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_packaged_example_configuration_uncommented_is_complete_and_valid() -> Result<()> {
    let deb = deb()?;
    let cli = PathBuf::from(std::env::var_os("CPIS_E2E_RELEASE_CLI").context(
        "CPIS_E2E_RELEASE_CLI is not set: run `cargo xtask test`, which builds the release cpis",
    )?);
    let unpacked = tempfile::tempdir()?;
    dpkg_deb(&[
        "--extract",
        &deb.to_string_lossy(),
        &unpacked.path().to_string_lossy(),
    ])?;
    let example =
        std::fs::read_to_string(unpacked.path().join("etc/cpis-viewer/config.toml.example"))?;
    // The example's CA file does not exist here: point it at a real certificate.
    let work = tempfile::tempdir()?;
    let ca = work.path().join("trust-ca.pem");
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=CP-IS Viewer test CA (synthetic)"])
        .arg("-keyout")
        .arg(work.path().join("ca.key"))
        .arg("-out")
        .arg(&ca)
        .output()
        .context("running openssl")?;
    assert!(status.status.success(), "openssl made a CA certificate");
    let config =
        uncomment(&example).replace("/etc/cpis-viewer/trust-ca.pem", &ca.to_string_lossy());
    for setting in [
        "cpis_url",
        "demographics_url",
        "audit_url",
        "broker_url",
        "extra_ca_file",
        "allow_http_loopback",
        "lookup_deadline_ms",
        "lock_minutes",
        "data_dir",
        "organisation_name",
        "downtime_procedure",
        "safeguarding_in_hours_phone",
        "safeguarding_in_hours_times",
        "safeguarding_out_of_hours_phone",
    ] {
        assert!(
            config
                .lines()
                .any(|line| line.starts_with(&format!("{setting} = "))),
            "the example documents {setting}"
        );
    }
    let file = work.path().join("config.toml");
    std::fs::write(&file, &config)?;
    let home = tempfile::tempdir()?;
    let output = Command::new(&cli)
        .arg("config")
        .arg("--json")
        .arg("--config")
        .arg(&file)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .context("running the release cpis")?;
    assert!(
        output.status.success(),
        "the uncommented example is a valid configuration: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("Example Hospitals NHS Foundation Trust"));
    assert!(shown.contains("496 0999"));
    Ok(())
}
