//! Command line, environment and config file for `cpis-service`.
//!
//! Precedence for `serve`: a command-line flag, then its environment variable, then the TOML
//! config file (`--config` or `CPIS_CONFIG`), then the default. Unknown keys in the file are
//! errors, and every error names the setting.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

/// `cpis-service`: the reference CP-IS service.
#[derive(Debug, Parser)]
#[command(
    name = "cpis-service",
    version,
    about = "Reference CP-IS service: FHIR API, demographics, local authority side"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API.
    Serve(ServeArgs),
    /// Write deterministic synthetic people, authorities and plans into an empty database.
    Seed(SeedArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// The central audit log: export the stored events or verify every device's chain.
    Audit {
        /// What to do.
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// `cpis-service audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print every stored AuditEvent as NDJSON, by device and sequence.
    Export(AuditArgs),
    /// Report per device the count, gaps and chain breaks, and the findings recorded at
    /// ingest; exit non-zero on any.
    Verify(AuditArgs),
}

/// The database of the central audit log.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// `sqlite://PATH` or `postgres://...`.
    #[arg(long, env = "CPIS_DATABASE")]
    pub database: String,
}

/// `serve` settings, each also from the environment or the config file.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// TOML config file with any of the settings below (snake_case keys).
    #[arg(long, env = "CPIS_CONFIG")]
    pub config: Option<PathBuf>,
    /// `sqlite://PATH` (created if missing) or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    #[arg(long, env = "CPIS_DATABASE")]
    pub database: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "CPIS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Token issuer (`iss`); its discovery document gives the JWKS unless --jwks-file is set.
    #[arg(long, env = "CPIS_ISSUER")]
    pub issuer: Option<String>,
    /// Required token audience (`aud`).
    #[arg(long, env = "CPIS_AUDIENCE")]
    pub audience: Option<String>,
    /// JWKS file to verify tokens with, for offline sites (no discovery).
    #[arg(long, env = "CPIS_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,
    /// Largest request body in bytes [default: 8388608].
    #[arg(long, env = "CPIS_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Request timeout in milliseconds [default: 10000].
    #[arg(long, env = "CPIS_REQUEST_TIMEOUT_MS")]
    pub request_timeout_ms: Option<u64>,
    /// Database connections in the pool [default: 16].
    #[arg(long, env = "CPIS_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<u32>,
}

/// `seed` settings.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// `sqlite://PATH` or `postgres://...`; must hold no people yet.
    #[arg(long, env = "CPIS_DATABASE")]
    pub database: String,
    /// How many children to write (pregnant women with unborn plans are added: 1 per 40).
    #[arg(long)]
    pub children: u64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the scenario manifest (JSON) here.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// The day ages and visibility windows are relative to, YYYY-MM-DD [default: today in the UK].
    #[arg(long)]
    pub today: Option<String>,
    /// How many NHS numbers each manifest scenario lists.
    #[arg(long, default_value_t = 20)]
    pub examples: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    database: Option<String>,
    listen: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
    jwks_file: Option<PathBuf>,
    max_body_bytes: Option<usize>,
    request_timeout_ms: Option<u64>,
    db_max_connections: Option<u32>,
}

/// Resolved `serve` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// Database URL.
    pub database: String,
    /// Listen address.
    pub listen: SocketAddr,
    /// Issuer.
    pub issuer: String,
    /// Audience.
    pub audience: String,
    /// JWKS file, or discovery when `None`.
    pub jwks_file: Option<PathBuf>,
    /// Body limit.
    pub max_body_bytes: usize,
    /// Request timeout.
    pub request_timeout: Duration,
    /// Pool size.
    pub db_max_connections: u32,
}

/// A configuration problem, naming the setting.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("could not read the config file {path}: {detail}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
    /// The config file is not valid TOML of the right shape.
    #[error("the config file {path} is not valid: {detail}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong (names the key).
        detail: String,
    },
    /// A required setting is missing.
    #[error("{0} is required (flag --{1}, environment {2}, or key {3} in the config file)")]
    Missing(&'static str, &'static str, &'static str, &'static str),
    /// A setting has a bad value.
    #[error("{0} is not valid: {1}")]
    Invalid(&'static str, String),
}

impl ServeArgs {
    /// Merge flags, environment (already folded in by clap) and the config file.
    pub fn resolve(self) -> Result<ServeConfig, ConfigError> {
        let file = match &self.config {
            None => ConfigFile::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
                    path: path.display().to_string(),
                    detail: error.to_string(),
                })?;
                toml::from_str(&text).map_err(|error| ConfigError::Parse {
                    path: path.display().to_string(),
                    detail: error.message().to_owned(),
                })?
            }
        };
        let database = self.database.or(file.database).ok_or(ConfigError::Missing(
            "database",
            "database",
            "CPIS_DATABASE",
            "database",
        ))?;
        if !(database.starts_with("sqlite:")
            || database.starts_with("postgres://")
            || database.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid(
                "database",
                "use sqlite://PATH or postgres://USER@HOST/DB".into(),
            ));
        }
        let listen = match (self.listen, file.listen) {
            (Some(listen), _) => listen,
            (None, Some(text)) => text
                .parse()
                .map_err(|_| ConfigError::Invalid("listen", format!("{text} is not HOST:PORT")))?,
            (None, None) => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let issuer = self.issuer.or(file.issuer).ok_or(ConfigError::Missing(
            "issuer",
            "issuer",
            "CPIS_ISSUER",
            "issuer",
        ))?;
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            return Err(ConfigError::Invalid(
                "issuer",
                "must be an http:// or https:// URL".into(),
            ));
        }
        let audience = self
            .audience
            .or(file.audience)
            .filter(|audience| !audience.trim().is_empty())
            .ok_or(ConfigError::Missing(
                "audience",
                "audience",
                "CPIS_AUDIENCE",
                "audience",
            ))?;
        let max_body_bytes = self
            .max_body_bytes
            .or(file.max_body_bytes)
            .unwrap_or(8 * 1024 * 1024);
        if max_body_bytes < 1024 {
            return Err(ConfigError::Invalid(
                "max_body_bytes",
                "must be at least 1024".into(),
            ));
        }
        let request_timeout_ms = self
            .request_timeout_ms
            .or(file.request_timeout_ms)
            .unwrap_or(10_000);
        if request_timeout_ms == 0 {
            return Err(ConfigError::Invalid(
                "request_timeout_ms",
                "must be above 0".into(),
            ));
        }
        let db_max_connections = self
            .db_max_connections
            .or(file.db_max_connections)
            .unwrap_or(16);
        if db_max_connections == 0 {
            return Err(ConfigError::Invalid(
                "db_max_connections",
                "must be above 0".into(),
            ));
        }
        Ok(ServeConfig {
            database,
            listen,
            issuer,
            audience,
            jwks_file: self.jwks_file.or(file.jwks_file),
            max_body_bytes,
            request_timeout: Duration::from_millis(request_timeout_ms),
            db_max_connections,
        })
    }
}
