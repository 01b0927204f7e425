//! A throwaway PostgreSQL server for the storage tests: installs Debian's `postgresql` when run
//! as root and it is missing, creates and starts a cluster under /tmp listening on 127.0.0.1
//! only (port 55432, trust authentication: local tests only), creates a database and returns
//! its `postgres://` URL. Idempotent: a cluster that is already running is reused.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::setup::is_root;

/// The port the test cluster listens on.
pub const POSTGRES_PORT: u16 = 55432;
/// The database created for tests (tests make their own databases beside it).
pub const POSTGRES_DATABASE: &str = "cpis_test";
const BASE_DIR: &str = "/tmp/cpis-test-postgres";

/// Make sure the test PostgreSQL server is running and return the URL of its test database.
pub fn ensure_postgres() -> Result<String> {
    let bin = match find_bin_dir() {
        Some(bin) => bin,
        None => {
            install_postgres()?;
            find_bin_dir().context("PostgreSQL was installed but pg_ctl was not found")?
        }
    };
    let base = Path::new(BASE_DIR);
    let data = base.join("data");
    if !accepting_connections() {
        std::fs::create_dir_all(base).with_context(|| format!("creating {BASE_DIR}"))?;
        let as_root = is_root();
        if as_root {
            run(Command::new("chown").args(["-R", "postgres:postgres", BASE_DIR]))?;
        }
        if !data.join("PG_VERSION").exists() {
            let initdb = bin.join("initdb");
            let mut command = postgres_user_command(&initdb, as_root);
            command.args([
                "-D",
                &data.display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ]);
            run(&mut command).context("initdb failed")?;
        }
        let pg_ctl = bin.join("pg_ctl");
        let log = base.join("server.log");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {POSTGRES_PORT} -k {BASE_DIR} -c max_connections=200"
        );
        let mut command = postgres_user_command(&pg_ctl, as_root);
        command.args([
            "-D",
            &data.display().to_string(),
            "-l",
            &log.display().to_string(),
            "-o",
            &options,
            "-w",
            "-t",
            "60",
            "start",
        ]);
        run(&mut command).with_context(|| format!("pg_ctl start failed; see {}", log.display()))?;
        if !accepting_connections() {
            bail!("PostgreSQL did not start on 127.0.0.1:{POSTGRES_PORT}");
        }
    }
    ensure_database(&bin)?;
    Ok(format!(
        "postgres://postgres@127.0.0.1:{POSTGRES_PORT}/{POSTGRES_DATABASE}"
    ))
}

/// A command that runs as the `postgres` user when we are root (initdb refuses root).
fn postgres_user_command(program: &Path, as_root: bool) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) -> Result<()> {
    let output = command
        .output()
        .with_context(|| format!("could not run {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// The newest `/usr/lib/postgresql/*/bin` with `pg_ctl`, or the directory of `pg_ctl` on PATH.
fn find_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("pg_ctl").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let output = Command::new("sh")
        .args(["-c", "command -v pg_ctl"])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    path.parent()
        .filter(|_| output.status.success())
        .map(Path::to_path_buf)
}

fn install_postgres() -> Result<()> {
    if !is_root() {
        bail!(
            "PostgreSQL is not installed and this is not root: install Debian's postgresql package (apt-get install postgresql)"
        );
    }
    eprintln!("$ apt-get install -y postgresql");
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends", "postgresql"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn accepting_connections() -> bool {
    let address = SocketAddr::from(([127, 0, 0, 1], POSTGRES_PORT));
    TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok()
}

fn ensure_database(bin: &Path) -> Result<()> {
    let psql = bin.join("psql");
    let port = POSTGRES_PORT.to_string();
    // Where the test cluster is, and as whom: the same for psql and createdb.
    let server = ["-h", "127.0.0.1", "-p", &port, "-U", "postgres"];
    let output = Command::new(&psql)
        .args(server)
        .args(["-d", "postgres", "-tAc"])
        .arg(format!(
            "SELECT 1 FROM pg_database WHERE datname = '{POSTGRES_DATABASE}'"
        ))
        .output()
        .context("could not run psql")?;
    if !output.status.success() {
        bail!("psql failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    if String::from_utf8_lossy(&output.stdout).trim() != "1" {
        run(Command::new(bin.join("createdb"))
            .args(server)
            .arg(POSTGRES_DATABASE))?;
    }
    Ok(())
}
