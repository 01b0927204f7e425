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
    Serve(Box<ServeArgs>),
    /// Write deterministic synthetic people, authorities and plans into an empty database (and
    /// the synthetic users' roles into the role directory).
    Seed(SeedArgs),
    /// Write (or refresh) only the role directory's synthetic users (`dev-idp/users.json`):
    /// for a database seeded before the directory existed, or one never seeded.
    SeedRoles(SeedRolesArgs),
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
    /// Print every stored AuditEvent as NDJSON, by device and sequence, then every read the
    /// service recorded itself, oldest first.
    Export(AuditArgs),
    /// Report per device the count, gaps and chain breaks, and the findings recorded at
    /// ingest; exit non-zero on any.
    Verify(AuditArgs),
    /// Who read one patient's record: every read the service recorded of it, oldest first.
    Reads(AuditReadsArgs),
}

/// `audit reads`: the database and the patient. Its `Debug` leaves the NHS number out.
#[derive(Args)]
pub struct AuditReadsArgs {
    /// `sqlite://PATH` or `postgres://...`.
    #[arg(long, env = "CPIS_DATABASE")]
    pub database: String,
    /// The patient's NHS number (10 digits).
    #[arg(long)]
    pub nhs_number: String,
}

impl std::fmt::Debug for AuditReadsArgs {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AuditReadsArgs")
            .field("nhs_number", &"<redacted>")
            .finish_non_exhaustive()
    }
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
    /// The CIS2 issuer whose ID tokens the token exchange accepts (`iss`); its discovery
    /// document gives the JWKS unless --jwks-file is set.
    #[arg(long, env = "CPIS_ISSUER")]
    pub issuer: Option<String>,
    /// The registered CIS2 client id: the `aud` of accepted ID tokens [default: cpis-broker].
    #[arg(long, env = "CPIS_CIS2_CLIENT_ID")]
    pub cis2_client_id: Option<String>,
    /// JWKS file with the CIS2 keys, for offline sites (no discovery).
    #[arg(long, env = "CPIS_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,
    /// The registered platform app's API key (`iss` = `sub` of its client assertions, its
    /// `client_id`) [default: cpis-broker-dev].
    #[arg(long, env = "CPIS_APP_API_KEY")]
    pub app_api_key: Option<String>,
    /// The platform app's public keys, a JWKS file (this or --app-jwks-url is required).
    #[arg(long, env = "CPIS_APP_JWKS_FILE")]
    pub app_jwks_file: Option<PathBuf>,
    /// The platform app's public keys, a JWKS URL (this or --app-jwks-file is required).
    #[arg(long, env = "CPIS_APP_JWKS_URL")]
    pub app_jwks_url: Option<String>,
    /// A file holding the platform app's client secret (for `refresh_token` grants and
    /// revocation; both are refused without one).
    #[arg(long, env = "CPIS_APP_CLIENT_SECRET_FILE")]
    pub app_client_secret_file: Option<PathBuf>,
    /// The public base URL of this service; the token URL, the `aud` of client assertions, is
    /// `{public_url}/oauth2/token` [default: http:// and the bound address].
    #[arg(long, env = "CPIS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long the platform's access tokens live, in seconds, 30 to 3600 [default: 600, as
    /// the API platform's]. Shorter only to exercise refresh in tests.
    #[arg(long, env = "CPIS_ACCESS_TOKEN_SECONDS")]
    pub access_token_seconds: Option<u32>,
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

/// `seed-roles` settings.
#[derive(Debug, Args)]
pub struct SeedRolesArgs {
    /// `sqlite://PATH` or `postgres://...`.
    #[arg(long, env = "CPIS_DATABASE")]
    pub database: String,
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
    cis2_client_id: Option<String>,
    jwks_file: Option<PathBuf>,
    app_api_key: Option<String>,
    app_jwks_file: Option<PathBuf>,
    app_jwks_url: Option<String>,
    app_client_secret_file: Option<PathBuf>,
    public_url: Option<String>,
    access_token_seconds: Option<u32>,
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
    /// The CIS2 issuer whose ID tokens are exchanged.
    pub issuer: String,
    /// The registered CIS2 client id: the `aud` of accepted ID tokens.
    pub cis2_client_id: String,
    /// The CIS2 JWKS file, or the issuer's discovery when `None`.
    pub jwks_file: Option<PathBuf>,
    /// The registered platform app's API key.
    pub app_api_key: String,
    /// Where the platform app's public keys are: a JWKS file or URL.
    pub app_jwks: AppJwks,
    /// The file holding the platform app's client secret; refresh and revocation are refused
    /// without one.
    pub app_client_secret_file: Option<PathBuf>,
    /// The public base URL (`{public_url}/oauth2/token` is the token URL); `None`: `http://`
    /// and the listen address (`serve` uses the address actually bound).
    pub public_url: Option<String>,
    /// How long access tokens live, in seconds.
    pub access_token_seconds: u32,
    /// Body limit.
    pub max_body_bytes: usize,
    /// Request timeout.
    pub request_timeout: Duration,
    /// Pool size.
    pub db_max_connections: u32,
}

/// Where the registered platform app's public keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppJwks {
    /// A JWKS file.
    File(PathBuf),
    /// A JWKS URL, refetched (at most once a minute) when an assertion names an unknown `kid`.
    Url(String),
}

/// The registered CIS2 client id when none is configured.
pub const DEFAULT_CIS2_CLIENT_ID: &str = "cpis-broker";
/// The platform app's API key when none is configured.
pub const DEFAULT_APP_API_KEY: &str = "cpis-broker-dev";

impl ServeConfig {
    /// The public base URL, without a trailing `/`.
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The token URL: `{public_url}/oauth2/token`, the `aud` of client assertions.
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.public_base_url())
    }
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
        let cis2_client_id = self
            .cis2_client_id
            .or(file.cis2_client_id)
            .map(|id| id.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_CIS2_CLIENT_ID.to_owned());
        if cis2_client_id.is_empty() {
            return Err(ConfigError::Invalid(
                "cis2_client_id",
                "must not be empty".into(),
            ));
        }
        let app_api_key = self
            .app_api_key
            .or(file.app_api_key)
            .map(|key| key.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_APP_API_KEY.to_owned());
        if app_api_key.is_empty() {
            return Err(ConfigError::Invalid(
                "app_api_key",
                "must not be empty".into(),
            ));
        }
        let app_jwks = match (
            self.app_jwks_file.or(file.app_jwks_file),
            self.app_jwks_url.or(file.app_jwks_url),
        ) {
            (Some(path), None) => AppJwks::File(path),
            (None, Some(url)) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(ConfigError::Invalid(
                        "app_jwks_url",
                        "must be an http:// or https:// URL".into(),
                    ));
                }
                AppJwks::Url(url)
            }
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid(
                    "app_jwks_file",
                    "give app_jwks_file or app_jwks_url, not both".into(),
                ));
            }
            (None, None) => {
                return Err(ConfigError::Missing(
                    "app_jwks_file or app_jwks_url",
                    "app-jwks-file",
                    "CPIS_APP_JWKS_FILE",
                    "app_jwks_file",
                ));
            }
        };
        let public_url = self.public_url.or(file.public_url);
        if let Some(url) = &public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(ConfigError::Invalid(
                "public_url",
                "must be an http:// or https:// URL".into(),
            ));
        }
        let access_token_seconds = self
            .access_token_seconds
            .or(file.access_token_seconds)
            .unwrap_or(600);
        if !(30..=3600).contains(&access_token_seconds) {
            return Err(ConfigError::Invalid(
                "access_token_seconds",
                "must be 30 to 3600".into(),
            ));
        }
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
            cis2_client_id,
            jwks_file: self.jwks_file.or(file.jwks_file),
            app_api_key,
            app_jwks,
            app_client_secret_file: self.app_client_secret_file.or(file.app_client_secret_file),
            public_url,
            access_token_seconds,
            max_body_bytes,
            request_timeout: Duration::from_millis(request_timeout_ms),
            db_max_connections,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(access_token_seconds: Option<u32>) -> ServeArgs {
        ServeArgs {
            database: Some("sqlite://service.sqlite3".to_owned()),
            issuer: Some("http://127.0.0.1:9090".to_owned()),
            app_jwks_file: Some(PathBuf::from("broker.jwks.json")),
            access_token_seconds,
            ..Default::default()
        }
    }

    #[test]
    fn access_tokens_live_ten_minutes_unless_set_within_bounds() {
        assert_eq!(
            args(None)
                .resolve()
                .map(|config| config.access_token_seconds),
            Ok(600)
        );
        assert_eq!(
            args(Some(70))
                .resolve()
                .map(|config| config.access_token_seconds),
            Ok(70)
        );
        for refused in [0, 29, 3601] {
            assert_eq!(
                args(Some(refused)).resolve(),
                Err(ConfigError::Invalid(
                    "access_token_seconds",
                    "must be 30 to 3600".into()
                ))
            );
        }
    }
}
