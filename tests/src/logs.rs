//! Where the output of every process the tests start goes: a log file per process start under
//! `CPIS_E2E_LOG_DIR` (which `cargo xtask test` scans for patient data afterwards), or nowhere;
//! and the list of seeded people that scan looks for.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result};
use cpis_supervisor::Sink;

/// Where every process the tests start writes its logs, when `CPIS_E2E_LOG_DIR` is set
/// (`cargo xtask test` sets it, with `RUST_LOG=trace`, and afterwards scans every file there for
/// synthetic patient data and tokens). Without it, logs go nowhere.
pub fn log_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("CPIS_E2E_LOG_DIR")?);
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

/// A new log file in [`log_dir`] named after `what` (unique per process start), or `None`.
pub fn log_file(what: &str) -> Option<(std::fs::File, PathBuf)> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = log_dir()?;
    let number = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("{what}-{}-{number}.log", std::process::id()));
    let file = std::fs::File::create(&path).ok()?;
    Some((file, path))
}

/// Stdio for a child's stdout or stderr: its own log file under [`log_dir`], or nowhere.
pub fn log_stdio(what: &str) -> Stdio {
    match log_file(what) {
        Some((file, _)) => Stdio::from(file),
        None => Stdio::null(),
    }
}

/// A [`Sink`] for a supervised child's stdout or stderr: its own log file under [`log_dir`],
/// or nowhere.
pub(crate) fn log_sink(what: &str) -> Sink {
    match log_file(what) {
        Some((file, _)) => Sink::File(file),
        None => Sink::Null,
    }
}

/// With a [`log_dir`], write the SHA-256 of each of `tokens` (opaque tokens the app held) to
/// `<log dir>/token-hashes/<n>.txt`: the log scan fails on any log holding one of them. Only
/// the hashes are written, never a token.
pub(crate) fn write_token_hashes(tokens: &[&str]) -> Result<()> {
    use sha2::Digest as _;
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let Some(dir) = log_dir() else {
        return Ok(());
    };
    let dir = dir.join("token-hashes");
    std::fs::create_dir_all(&dir)?;
    let number = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let text: String = tokens
        .iter()
        .map(|token| format!("{}\n", hex::encode(sha2::Sha256::digest(token.as_bytes()))))
        .collect();
    std::fs::write(
        dir.join(format!("{}-{number}.txt", std::process::id())),
        text,
    )
    .context("writing token hashes")?;
    Ok(())
}

/// With a [`log_dir`], write every seeded person's NHS number, names and date of birth to
/// `<log dir>/people/<n>.ndjson`: what the log scan looks for. (Synthetic people only.)
pub(crate) fn write_people(database: &Path) -> Result<()> {
    use std::io::Write;
    let Some(dir) = log_dir() else {
        return Ok(());
    };
    let dir = dir.join("people");
    std::fs::create_dir_all(&dir)?;
    let connection = rusqlite::Connection::open(database).context("opening the seeded database")?;
    let mut statement = connection
        .prepare("SELECT nhs_number, family_name, given_names, date_of_birth FROM people")?;
    let rows = statement.query_map([], |row| {
        Ok(serde_json::json!({
            "nhs_number": row.get::<_, String>(0)?,
            "family_name": row.get::<_, String>(1)?,
            "given_names": row.get::<_, String>(2)?,
            "date_of_birth": row.get::<_, String>(3)?,
        }))
    })?;
    let path = dir.join(format!(
        "{}-{}.ndjson",
        std::process::id(),
        database
            .parent()
            .and_then(Path::file_name)
            .map(|name| name.to_string_lossy().to_string())
            .unwrap_or_default()
    ));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    for row in rows {
        writeln!(file, "{}", row?)?;
    }
    file.flush()?;
    Ok(())
}
