//! The Debian package: built by the Tauri bundler from `tauri.conf.json` (the app, its desktop
//! entry and icons, and the files under `bundle.linux.deb.files`: `cpis`, the commented
//! configuration example, the copyright file and `docs/deployment.md`), then finished here with
//! what the bundler cannot express: the configuration example marked as a conffile, so that a
//! trust's edits to it survive upgrades, and the Debian file name. `lintian` then checks it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{root, run, run_env};

/// The package name, as the Tauri bundler derives it from `productName` ("CP-IS Viewer").
pub const PACKAGE_NAME: &str = "cp-is-viewer";

/// Files under `/etc` that the package ships: each is a conffile.
const CONFFILES: &[&str] = &["/etc/cpis-viewer/config.toml.example"];

/// lintian tags suppressed, each for the reason given (docs/deployment.md repeats them).
const LINTIAN_SUPPRESSED: &[(&str, &str)] = &[(
    "no-manual-page",
    "cpis and cpis-viewer document themselves with --help",
)];

/// The Debian changelog, installed compressed as `/usr/share/doc/<package>/changelog.gz`; its
/// newest entry must name the version being packaged.
const CHANGELOG: &str = "packaging/changelog";

/// Build the UI, the release `cpis` and app, the `.deb`, finish it, and check it with lintian;
/// return the finished package's path.
pub fn build_deb() -> Result<PathBuf> {
    crate::build_ui()?;
    // The bundler copies target/release/cpis (bundle.linux.deb.files); it does not build it.
    run(
        &root(),
        "cargo",
        &["build", "--release", "--locked", "--package", "cpis-cli"],
    )?;
    let dir = root().join("target/release/bundle/deb");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    run_env(
        &root().join("ui"),
        "npx",
        &["tauri", "build", "--bundles", "deb", "--no-sign"],
        &[("TAURI_APP_PATH", "../src-tauri"), ("CI", "true")],
    )?;
    let raw = only_deb_in(&dir)?;
    let finished = finish(&raw, &dir)?;
    lintian(&finished)?;
    Ok(finished)
}

fn only_deb_in(dir: &Path) -> Result<PathBuf> {
    let found = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "deb"))
        .collect::<Vec<_>>();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("no .deb was produced in {}", dir.display()),
        _ => bail!("more than one .deb in {}: {found:?}", dir.display()),
    }
}

/// Unpack the bundler's package and do what `dh_strip`, `dh_shlibdeps` and `dh_installdeb`
/// would: strip the programs, compute `Depends` from the libraries they link (`dpkg-shlibdeps`),
/// add `DEBIAN/conffiles`; make the modes what Debian policy expects, and build
/// `<package>_<version>_<arch>.deb` beside it (the bundler's own file, whose name has a space,
/// is removed).
fn finish(raw: &Path, dir: &Path) -> Result<PathBuf> {
    let tree = dir.join("finish");
    if tree.exists() {
        std::fs::remove_dir_all(&tree).with_context(|| format!("clearing {}", tree.display()))?;
    }
    // dpkg-shlibdeps wants the layout of a source package: debian/control beside the files
    // under debian/<package>/.
    let work = tree.join("debian").join(PACKAGE_NAME);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    std::fs::write(
        tree.join("debian/control"),
        format!("Source: {PACKAGE_NAME}\n\nPackage: {PACKAGE_NAME}\nArchitecture: any\n"),
    )
    .context("writing debian/control for dpkg-shlibdeps")?;
    let raw_text = raw.to_string_lossy().to_string();
    let work_text = work.to_string_lossy().to_string();
    run(dir, "dpkg-deb", &["--raw-extract", &raw_text, &work_text])?;
    let programs = std::fs::read_dir(work.join("usr/bin"))
        .context("reading usr/bin in the package")?
        .map(|entry| Ok(entry?.path().to_string_lossy().to_string()))
        .collect::<Result<Vec<_>>>()?;
    for program in &programs {
        run(
            dir,
            "strip",
            &[
                "--strip-unneeded",
                "--remove-section=.comment",
                "--remove-section=.note",
                program,
            ],
        )?;
    }
    let control = work.join("DEBIAN");
    // Package, version and architecture as the bundler wrote them, read once from the control
    // file.
    let control_text =
        std::fs::read_to_string(control.join("control")).context("reading DEBIAN/control")?;
    let field = |name: &str| -> Result<&str> {
        control_text
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
            .with_context(|| format!("the bundler's control file has no {name}"))
    };
    let (package, version, architecture) =
        (field("Package")?, field("Version")?, field("Architecture")?);
    if package != PACKAGE_NAME {
        bail!("the bundler named the package {package}, expected {PACKAGE_NAME}");
    }
    set_depends(&tree, &control.join("control"), &programs)?;
    let mut conffiles = String::new();
    for conffile in CONFFILES {
        let relative = conffile.trim_start_matches('/');
        if !work.join(relative).is_file() {
            bail!("the package has no {conffile}: is it in bundle.linux.deb.files?");
        }
        conffiles.push_str(conffile);
        conffiles.push('\n');
    }
    std::fs::write(control.join("conffiles"), conffiles).context("writing DEBIAN/conffiles")?;
    install_changelog(&work, version)?;
    normalise_modes(&work)?;
    // The programs were stripped: list every file's checksum anew.
    run(
        &work,
        "sh",
        &[
            "-c",
            "find . -type f ! -path './DEBIAN/*' | sed 's|^\\./||' | LC_ALL=C sort \
             | xargs -d '\\n' md5sum > DEBIAN/md5sums",
        ],
    )?;
    let finished = dir.join(format!("{package}_{version}_{architecture}.deb"));
    let finished_text = finished.to_string_lossy().to_string();
    run(
        dir,
        "dpkg-deb",
        &[
            "--root-owner-group",
            "-Zxz",
            "--build",
            &work_text,
            &finished_text,
        ],
    )?;
    std::fs::remove_dir_all(&tree).with_context(|| format!("removing {}", tree.display()))?;
    std::fs::remove_file(raw).with_context(|| format!("removing {}", raw.display()))?;
    let leftover = dir.join(
        raw.file_stem()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("_")),
    );
    if leftover.is_dir() {
        std::fs::remove_dir_all(&leftover)
            .with_context(|| format!("removing {}", leftover.display()))?;
    }
    Ok(finished)
}

/// Install [`CHANGELOG`] as `usr/share/doc/<package>/changelog.gz` (gzip -9n, as dh_compress
/// does), after checking that its newest entry is this version.
fn install_changelog(work: &Path, version: &str) -> Result<()> {
    let source = root().join(CHANGELOG);
    let text = std::fs::read_to_string(&source)
        .with_context(|| format!("reading {}", source.display()))?;
    let expected = format!("{PACKAGE_NAME} ({version}) ");
    if !text.starts_with(&expected) {
        bail!("{CHANGELOG} must start with an entry for `{expected}`: add one for this version");
    }
    let doc = work.join("usr/share/doc").join(PACKAGE_NAME);
    std::fs::create_dir_all(&doc).with_context(|| format!("creating {}", doc.display()))?;
    let gzipped = Command::new("gzip")
        .args(["-9n", "-c"])
        .arg(&source)
        .output()
        .context("running gzip")?;
    if !gzipped.status.success() {
        bail!("gzip {CHANGELOG} failed");
    }
    std::fs::write(doc.join("changelog.gz"), gzipped.stdout).context("writing changelog.gz")
}

/// Packages the package needs that no program links: `xdg-open` opens the browser to sign in.
const EXTRA_DEPENDS: &[&str] = &["xdg-utils"];

/// Replace the bundler's `Depends` (unversioned) with the libraries the programs link, at the
/// versions `dpkg-shlibdeps` finds, plus [`EXTRA_DEPENDS`].
fn set_depends(tree: &Path, control: &Path, programs: &[String]) -> Result<()> {
    let mut args = vec!["-O".to_owned()];
    args.extend(programs.iter().map(|program| format!("-e{program}")));
    let output = Command::new("dpkg-shlibdeps")
        .args(&args)
        .current_dir(tree)
        .output()
        .context("running dpkg-shlibdeps (Debian's dpkg-dev)")?;
    if !output.status.success() {
        bail!(
            "dpkg-shlibdeps failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let linked = stdout
        .lines()
        .find_map(|line| line.strip_prefix("shlibs:Depends="))
        .context("dpkg-shlibdeps printed no shlibs:Depends")?;
    let mut depends = vec![linked.trim().to_owned()];
    depends.extend(EXTRA_DEPENDS.iter().map(|package| (*package).to_owned()));
    let depends = format!("Depends: {}", depends.join(", "));
    let text = std::fs::read_to_string(control).context("reading DEBIAN/control")?;
    let mut replaced = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.starts_with("Depends:") {
            lines.push(depends.clone());
            replaced = true;
        } else {
            lines.push(line.to_owned());
        }
    }
    if !replaced {
        bail!("the bundler's control file has no Depends line");
    }
    std::fs::write(control, lines.join("\n") + "\n").context("writing DEBIAN/control")
}

/// Directories 0755; files 0644 except programs (0755) and maintainer scripts; control files
/// 0644.
fn normalise_modes(work: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![work.to_path_buf()];
    while let Some(path) = stack.pop() {
        let metadata = std::fs::symlink_metadata(&path)?;
        if metadata.file_type().is_symlink() {
            continue;
        }
        let mode = if metadata.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
            0o755
        } else {
            let relative = path.strip_prefix(work).unwrap_or(&path);
            let executable = relative.starts_with("usr/bin")
                || ["preinst", "postinst", "prerm", "postrm"]
                    .iter()
                    .any(|script| relative == Path::new("DEBIAN").join(script));
            if executable { 0o755 } else { 0o644 }
        };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("setting the mode of {}", path.display()))?;
    }
    Ok(())
}

/// Run lintian on the package; any error or warning that is not suppressed (with its reason in
/// [`LINTIAN_SUPPRESSED`]) fails.
pub fn lintian(deb: &Path) -> Result<()> {
    let suppressed = LINTIAN_SUPPRESSED
        .iter()
        .map(|(tag, _)| *tag)
        .collect::<Vec<_>>()
        .join(",");
    let deb_text = deb.to_string_lossy().to_string();
    run(
        &root(),
        "lintian",
        &[
            "--fail-on",
            "error,warning",
            "--suppress-tags",
            &suppressed,
            "--tag-display-limit",
            "0",
            &deb_text,
        ],
    )
}
