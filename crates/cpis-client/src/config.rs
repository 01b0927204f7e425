//! The client's configuration: one TOML file, every field optional, defaults pointing at the
//! local demo. An invalid file gives an error naming the field, and nothing is changed.
//!
//! ```toml
//! lookup_deadline_ms = 3000
//! lock_minutes = 15
//! data_dir = "/home/me/.local/share/cpis-viewer"
//!
//! [services]
//! cpis_url = "http://127.0.0.1:8080/cpis/FHIR/R4"
//! demographics_url = "http://127.0.0.1:8080/personal-demographics/FHIR/R4"
//! audit_url = "http://127.0.0.1:8080/audit/FHIR/R4"
//!
//! [oidc]
//! issuer = "http://127.0.0.1:9090"
//! client_id = "cpis-viewer"
//! ```
//!
//! Ports of the local demo: the reference service (`cpis-service serve`) on 8080, the
//! development identity provider (`dev-idp/`) on 9090, both on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::time::Duration;

use openidconnect::url::Url;

/// Environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "CPIS_CONFIG";
/// The reference service's CP-IS base URL in the local demo.
pub const DEFAULT_CPIS_URL: &str = "http://127.0.0.1:8080/cpis/FHIR/R4";
/// The reference service's demographics base URL in the local demo.
pub const DEFAULT_DEMOGRAPHICS_URL: &str = "http://127.0.0.1:8080/personal-demographics/FHIR/R4";
/// The reference service's central audit base URL in the local demo.
pub const DEFAULT_AUDIT_URL: &str = "http://127.0.0.1:8080/audit/FHIR/R4";
/// The development identity provider.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:9090";
/// The client id registered for the app and the CLI.
pub const DEFAULT_CLIENT_ID: &str = "cpis-viewer";
/// A lookup ends in an answer within this time unless configured otherwise.
pub const DEFAULT_LOOKUP_DEADLINE_MS: u64 = 3000;
/// Inactivity lock after this many minutes unless configured otherwise.
pub const DEFAULT_LOCK_MINUTES: u64 = 15;
/// The range a lookup deadline may take.
pub const LOOKUP_DEADLINE_RANGE_MS: std::ops::RangeInclusive<u64> = 200..=30_000;
/// The range the inactivity lock may take (at most the 12 hour session).
pub const LOCK_MINUTES_RANGE: std::ops::RangeInclusive<u64> = 1..=720;

/// FHIR base URLs of the services, to which `/CareTeam`, `/AuditEvent` or `/Patient/{nhs}` is
/// appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUrls {
    /// CP-IS FHIR base.
    pub cpis_url: Url,
    /// Demographics (PDS) FHIR base.
    pub demographics_url: Url,
    /// Central audit FHIR base.
    pub audit_url: Url,
}

/// The OpenID Connect provider and this client's id there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// Issuer URL, exactly as the provider's discovery document states it (kept as written:
    /// a trailing slash matters when the issuer is compared).
    pub issuer: String,
    /// Client id.
    pub client_id: String,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Service base URLs.
    pub services: ServiceUrls,
    /// Identity provider.
    pub oidc: OidcConfig,
    /// Hard deadline for one lookup, from start to answer.
    pub lookup_deadline: Duration,
    /// Inactivity lock.
    pub lock_after: Duration,
    /// The user's local data folder (the audit queue lives here).
    pub data_dir: PathBuf,
}

/// A configuration problem. It names the field; it never includes secrets.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("could not read configuration file {path}: {source}")]
    Read {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax {
        /// Which file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A field has a bad value.
    #[error("configuration field `{field}` {problem}")]
    Field {
        /// Dotted field name, such as `services.cpis_url`.
        field: String,
        /// What is wrong, in words.
        problem: String,
    },
    /// No platform folder could be found for the default data folder or config file.
    #[error("could not find the user's home folder for the default {what}")]
    NoHomeFolder {
        /// What was being looked for.
        what: &'static str,
    },
}

fn field_error(field: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Field {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("uk.nhs", "CP-IS", "cpis-viewer")
}

/// The default configuration file: `config.toml` in the platform config folder.
pub fn default_config_path() -> Option<PathBuf> {
    project_dirs().map(|dirs| dirs.config_dir().join("config.toml"))
}

fn default_data_dir() -> Result<PathBuf, ConfigError> {
    project_dirs()
        .map(|dirs| dirs.data_local_dir().to_path_buf())
        .ok_or(ConfigError::NoHomeFolder {
            what: "data folder",
        })
}

fn parse_default_url(text: &str) -> Url {
    // Only ever called with the constants above, which a unit test parses.
    #[allow(clippy::expect_used)]
    Url::parse(text).expect("default URL constants are valid")
}

impl Config {
    /// The defaults, pointing at the local demo, with the given data folder.
    pub fn defaults_with_data_dir(data_dir: PathBuf) -> Config {
        Config {
            services: ServiceUrls {
                cpis_url: parse_default_url(DEFAULT_CPIS_URL),
                demographics_url: parse_default_url(DEFAULT_DEMOGRAPHICS_URL),
                audit_url: parse_default_url(DEFAULT_AUDIT_URL),
            },
            oidc: OidcConfig {
                issuer: DEFAULT_ISSUER.to_owned(),
                client_id: DEFAULT_CLIENT_ID.to_owned(),
            },
            lookup_deadline: Duration::from_millis(DEFAULT_LOOKUP_DEADLINE_MS),
            lock_after: Duration::from_secs(DEFAULT_LOCK_MINUTES * 60),
            data_dir,
        }
    }

    /// The defaults, with the platform's local data folder.
    pub fn defaults() -> Result<Config, ConfigError> {
        Ok(Config::defaults_with_data_dir(default_data_dir()?))
    }

    /// Load the configuration: `explicit` (from `--config`), else `CPIS_CONFIG`, else the
    /// platform config file if it exists, else the defaults. A file named explicitly or by the
    /// environment must exist.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let from_env = std::env::var_os(CONFIG_ENV)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        if let Some(path) = explicit.map(Path::to_path_buf).or(from_env) {
            return Config::from_file(&path);
        }
        match default_config_path() {
            Some(path) if path.is_file() => Config::from_file(&path),
            _ => Config::defaults(),
        }
    }

    /// Read and validate one file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_toml(&text, path)
    }

    /// Parse and validate TOML text; `path` is only used in messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let table: toml::Table =
            text.parse()
                .map_err(|error: toml::de::Error| ConfigError::Syntax {
                    path: path.to_path_buf(),
                    message: error.message().to_owned(),
                })?;
        let mut config = match table.get("data_dir") {
            Some(_) => Config::defaults_with_data_dir(PathBuf::new()),
            None => Config::defaults()?,
        };
        for (key, value) in &table {
            match key.as_str() {
                "services" => {
                    let services = expect_table(value, "services")?;
                    for (service_key, service_value) in services {
                        let field = format!("services.{service_key}");
                        let slot = match service_key.as_str() {
                            "cpis_url" => &mut config.services.cpis_url,
                            "demographics_url" => &mut config.services.demographics_url,
                            "audit_url" => &mut config.services.audit_url,
                            _ => return Err(field_error(&field, "is not a known setting")),
                        };
                        *slot = fhir_base_url(service_value, &field)?;
                    }
                }
                "oidc" => {
                    let oidc = expect_table(value, "oidc")?;
                    for (oidc_key, oidc_value) in oidc {
                        let field = format!("oidc.{oidc_key}");
                        match oidc_key.as_str() {
                            "issuer" => config.oidc.issuer = issuer_url(oidc_value, &field)?,
                            "client_id" => {
                                let client_id = expect_string(oidc_value, &field)?;
                                if client_id.is_empty()
                                    || !client_id.chars().all(|c| c.is_ascii_graphic())
                                {
                                    return Err(field_error(
                                        &field,
                                        "must be a non-empty client id without spaces",
                                    ));
                                }
                                config.oidc.client_id = client_id.to_owned();
                            }
                            _ => return Err(field_error(&field, "is not a known setting")),
                        }
                    }
                }
                "lookup_deadline_ms" => {
                    let millis = expect_in_range(value, key, &LOOKUP_DEADLINE_RANGE_MS)?;
                    config.lookup_deadline = Duration::from_millis(millis);
                }
                "lock_minutes" => {
                    let minutes = expect_in_range(value, key, &LOCK_MINUTES_RANGE)?;
                    config.lock_after = Duration::from_secs(minutes * 60);
                }
                "data_dir" => {
                    let text = expect_string(value, key)?;
                    let data_dir = PathBuf::from(text);
                    if !data_dir.is_absolute() {
                        return Err(field_error(key, "must be an absolute path"));
                    }
                    config.data_dir = data_dir;
                }
                _ => return Err(field_error(key, "is not a known setting")),
            }
        }
        Ok(config)
    }
}

fn expect_table<'a>(value: &'a toml::Value, field: &str) -> Result<&'a toml::Table, ConfigError> {
    value
        .as_table()
        .ok_or_else(|| field_error(field, "must be a table, such as [services]"))
}

fn expect_string<'a>(value: &'a toml::Value, field: &str) -> Result<&'a str, ConfigError> {
    value
        .as_str()
        .ok_or_else(|| field_error(field, "must be a string in quotes"))
}

fn expect_in_range(
    value: &toml::Value,
    field: &str,
    range: &std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let problem = format!(
        "must be a whole number from {} to {}",
        range.start(),
        range.end()
    );
    let number = value
        .as_integer()
        .and_then(|number| u64::try_from(number).ok())
        .ok_or_else(|| field_error(field, problem.clone()))?;
    if range.contains(&number) {
        Ok(number)
    } else {
        Err(field_error(field, problem))
    }
}

fn http_url(value: &toml::Value, field: &str) -> Result<Url, ConfigError> {
    let text = expect_string(value, field)?;
    let url = Url::parse(text).map_err(|_| field_error(field, "must be an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(field_error(field, "must be an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(field_error(field, "must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(field_error(
            field,
            "must not contain a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(field_error(field, "must not have a query or fragment"));
    }
    Ok(url)
}

/// A FHIR base URL; a trailing slash is removed so paths can be appended.
fn fhir_base_url(value: &toml::Value, field: &str) -> Result<Url, ConfigError> {
    let mut url = http_url(value, field)?;
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

fn issuer_url(value: &toml::Value, field: &str) -> Result<String, ConfigError> {
    http_url(value, field)?;
    Ok(expect_string(value, field)?.to_owned())
}

/// A URL for `base` with `segments` appended as path segments (each percent-encoded).
pub fn join_path(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        path.extend(segments);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("test.toml"))
    }

    fn field_of(result: Result<Config, ConfigError>) -> String {
        match result {
            Err(ConfigError::Field { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn empty_file_gives_the_local_demo_defaults() {
        let config = parse("data_dir = \"/tmp/cpis\"").expect("valid");
        assert_eq!(config.services.cpis_url.as_str(), DEFAULT_CPIS_URL);
        assert_eq!(
            config.services.demographics_url.as_str(),
            DEFAULT_DEMOGRAPHICS_URL
        );
        assert_eq!(config.services.audit_url.as_str(), DEFAULT_AUDIT_URL);
        assert_eq!(config.oidc.issuer, "http://127.0.0.1:9090");
        assert_eq!(config.oidc.client_id, "cpis-viewer");
        assert_eq!(config.lookup_deadline, Duration::from_millis(3000));
        assert_eq!(config.lock_after, Duration::from_secs(15 * 60));
        assert_eq!(config.data_dir, PathBuf::from("/tmp/cpis"));
    }

    #[test]
    fn every_field_can_be_set() {
        let config = parse(
            r#"
            lookup_deadline_ms = 1500
            lock_minutes = 5
            data_dir = "/var/lib/cpis"
            [services]
            cpis_url = "https://cpis.example.test/cpis/FHIR/R4/"
            demographics_url = "https://pds.example.test/personal-demographics/FHIR/R4"
            audit_url = "https://audit.example.test/audit/FHIR/R4"
            [oidc]
            issuer = "https://idp.example.test/openam/oauth2/realms/root/realms/oidc"
            client_id = "another-client"
            "#,
        )
        .expect("valid");
        assert_eq!(
            config.services.cpis_url.as_str(),
            "https://cpis.example.test/cpis/FHIR/R4"
        );
        assert_eq!(
            join_path(&config.services.cpis_url, &["CareTeam"]).as_str(),
            "https://cpis.example.test/cpis/FHIR/R4/CareTeam"
        );
        assert_eq!(
            join_path(
                &config.services.demographics_url,
                &["Patient", "9990000018"]
            )
            .as_str(),
            "https://pds.example.test/personal-demographics/FHIR/R4/Patient/9990000018"
        );
        assert_eq!(config.oidc.client_id, "another-client");
        assert_eq!(config.lookup_deadline, Duration::from_millis(1500));
        assert_eq!(config.lock_after, Duration::from_secs(300));
    }

    #[test]
    fn bad_values_name_the_field() {
        let cases = [
            ("[services]\ncpis_url = \"not a url\"", "services.cpis_url"),
            (
                "[services]\ndemographics_url = \"ftp://x/y\"",
                "services.demographics_url",
            ),
            ("[services]\naudit_url = 42", "services.audit_url"),
            (
                "[services]\ncpis_url = \"http://h/x?y=1\"",
                "services.cpis_url",
            ),
            (
                "[services]\ncpis_url = \"http://user:pw@h/x\"",
                "services.cpis_url",
            ),
            (
                "[services]\nunknown_url = \"http://h/\"",
                "services.unknown_url",
            ),
            ("[oidc]\nissuer = \"nope\"", "oidc.issuer"),
            ("[oidc]\nclient_id = \"\"", "oidc.client_id"),
            ("[oidc]\nclient_id = \"has space\"", "oidc.client_id"),
            ("lookup_deadline_ms = 0", "lookup_deadline_ms"),
            ("lookup_deadline_ms = -5", "lookup_deadline_ms"),
            ("lookup_deadline_ms = \"3000\"", "lookup_deadline_ms"),
            ("lookup_deadline_ms = 999999", "lookup_deadline_ms"),
            ("lock_minutes = 0", "lock_minutes"),
            ("lock_minutes = 721", "lock_minutes"),
            ("data_dir = \"relative/path\"", "data_dir"),
            ("data_dir = 1", "data_dir"),
            ("services = 1", "services"),
            ("colour = \"blue\"", "colour"),
        ];
        for (text, field) in cases {
            assert_eq!(field_of(parse(text)), field, "{text}");
        }
    }

    #[test]
    fn field_errors_say_what_is_wrong() {
        let error = parse("lock_minutes = 0").expect_err("invalid");
        assert_eq!(
            error.to_string(),
            "configuration field `lock_minutes` must be a whole number from 1 to 720"
        );
    }

    #[test]
    fn invalid_toml_is_a_syntax_error() {
        assert!(matches!(
            parse("[services\ncpis_url ="),
            Err(ConfigError::Syntax { .. })
        ));
    }

    #[test]
    fn a_missing_named_file_is_an_error_not_the_defaults() {
        let directory = tempfile::tempdir().expect("temp dir");
        let missing = directory.path().join("absent.toml");
        assert!(matches!(
            Config::load(Some(&missing)),
            Err(ConfigError::Read { .. })
        ));
    }

    #[test]
    fn a_file_on_disk_is_read() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("config.toml");
        std::fs::write(&path, "lookup_deadline_ms = 2500\ndata_dir = \"/tmp/x\"\n").expect("write");
        let config = Config::load(Some(&path)).expect("valid");
        assert_eq!(config.lookup_deadline, Duration::from_millis(2500));
    }
}
