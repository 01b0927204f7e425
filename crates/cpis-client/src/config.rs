//! The client's configuration: a machine-wide TOML file that a trust's IT team manages and a
//! user's own file, layered over built-in defaults that exist only in development builds.
//! An invalid file gives an error naming the field and the file, and nothing is changed.
//!
//! ```toml
//! lookup_deadline_ms = 3000
//! lock_minutes = 15
//! data_dir = "/home/me/.local/share/cpis-viewer"
//!
//! [services]
//! cpis_url = "https://cpis.example.nhs.uk/cpis/FHIR/R4"
//! demographics_url = "https://pds.example.nhs.uk/personal-demographics/FHIR/R4"
//! audit_url = "https://audit.example.nhs.uk/audit/FHIR/R4"
//!
//! [oidc]
//! issuer = "https://idp.example.nhs.uk/openam/oauth2/realms/root/realms/oidc"
//! client_id = "cpis-viewer"
//!
//! [tls]
//! extra_ca_file = "/etc/cpis-viewer/trust-ca.pem"   # added to the system's roots
//! allow_http_loopback = false                        # plain http, to this computer only
//!
//! [trust]
//! organisation_name = "Northshire Hospitals NHS Foundation Trust"
//! downtime_procedure = """
//! Use the paper safeguarding checklist in the department folder.
//! Phone the safeguarding team before the patient leaves."""
//! safeguarding_in_hours_phone = "0114 496 0000"
//! safeguarding_in_hours_times = "Monday to Friday, 9am to 5pm"
//! safeguarding_out_of_hours_phone = "0114 496 0999"
//! ```
//!
//! Where the files are and who wins:
//! - the machine-wide file, at a fixed path per platform ([`machine_config_path`]; no
//!   environment variable moves it, so a user cannot step out of it);
//! - the user's file: `--config`, else `CPIS_CONFIG`, else `config.toml` in the platform
//!   config folder ([`user_config_path`]);
//! - built-in defaults ([`Defaults`]): the local demo in development builds, nothing in
//!   release builds, which then say which settings are missing and where the file goes.
//!
//! When a machine-wide file exists, everything that decides where data goes or who signs in
//! (`services.*`, `oidc.*`, `tls.*`, `data_dir`, `trust.*`) comes only from it: the user's
//! value is ignored and recorded in [`ConfigOrigin::ignored`], never an error that stops a
//! clinician. `lock_minutes` can only be shortened by the user's file (below the machine-wide
//! value, or below the built-in 15 minutes when the machine-wide file leaves it out);
//! `lookup_deadline_ms` may be set by either (the user's wins). Without a machine-wide file the
//! user's file may set everything.
//!
//! Plain `http://` is allowed only to this computer (127.0.0.0/8, `::1`, `localhost`), and
//! outside the local demo only with `[tls] allow_http_loopback = true`.
//!
//! Ports of the local demo: the reference service (`cpis-service serve`) on 8080, the
//! development identity provider (`dev-idp/`) on 9090, both on 127.0.0.1.

pub mod trust;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use openidconnect::url::{Host, Url};

pub use trust::{PhoneNumber, TrustConfig};

/// Environment variable naming the user's configuration file.
pub const CONFIG_ENV: &str = "CPIS_CONFIG";
/// The reference service's CP-IS base URL in the local demo.
pub const DEFAULT_CPIS_URL: &str = "http://127.0.0.1:8080/cpis/FHIR/R4";
/// The reference service's demographics base URL in the local demo.
pub const DEFAULT_DEMOGRAPHICS_URL: &str = "http://127.0.0.1:8080/personal-demographics/FHIR/R4";
/// The reference service's central audit base URL in the local demo.
pub const DEFAULT_AUDIT_URL: &str = "http://127.0.0.1:8080/audit/FHIR/R4";
/// The development identity provider.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:9090";
/// The client id registered for the app and the CLI (a default in every build).
pub const DEFAULT_CLIENT_ID: &str = "cpis-viewer";
/// A lookup ends in an answer within this time unless configured otherwise.
pub const DEFAULT_LOOKUP_DEADLINE_MS: u64 = 3000;
/// Inactivity lock after this many minutes unless configured otherwise.
pub const DEFAULT_LOCK_MINUTES: u64 = 15;
/// The range a lookup deadline may take.
pub const LOOKUP_DEADLINE_RANGE_MS: std::ops::RangeInclusive<u64> = 200..=30_000;
/// The range the inactivity lock may take (at most the 12 hour session).
pub const LOCK_MINUTES_RANGE: std::ops::RangeInclusive<u64> = 1..=720;
/// The largest extra CA bundle read.
const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// The settings without which nothing can be contacted, in the order they are reported.
pub const REQUIRED_SETTINGS: [&str; 4] = [
    "services.cpis_url",
    "services.demographics_url",
    "services.audit_url",
    "oidc.issuer",
];

/// Which built-in defaults apply. The binaries choose with [`Defaults::for_this_build`]; tests
/// pass either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defaults {
    /// Development builds: the local demo's services and identity provider, and plain http to
    /// this computer without `[tls] allow_http_loopback`.
    LocalDemo,
    /// Release builds: no services and no identity provider; without a configuration nothing
    /// is contacted. Plain http to this computer only with `[tls] allow_http_loopback = true`.
    None,
}

impl Defaults {
    /// [`Defaults::LocalDemo`] in a debug build, [`Defaults::None`] in a release build.
    pub fn for_this_build() -> Defaults {
        if cfg!(debug_assertions) {
            Defaults::LocalDemo
        } else {
            Defaults::None
        }
    }
}

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

/// How every HTTP client of the app and `cpis` treats TLS and plain http.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// Whether plain http (to this computer only) is allowed: `[tls] allow_http_loopback`, or
    /// the local demo's default.
    pub allow_http_loopback: bool,
    /// Extra certificate authorities trusted on top of the system's (`[tls] extra_ca_file`).
    pub extra_ca: Option<ExtraCaBundle>,
}

impl TlsConfig {
    /// No extra roots, plain http to this computer allowed (the local demo and tests).
    pub fn local_demo() -> TlsConfig {
        TlsConfig {
            allow_http_loopback: true,
            extra_ca: None,
        }
    }

    /// The extra roots, ready for a reqwest client builder.
    pub fn extra_root_certificates(&self) -> Vec<reqwest::Certificate> {
        self.extra_ca
            .as_ref()
            .map(ExtraCaBundle::certificates)
            .unwrap_or_default()
    }
}

/// A PEM bundle of certificate authorities read from `[tls] extra_ca_file`.
#[derive(Clone, PartialEq, Eq)]
pub struct ExtraCaBundle {
    path: PathBuf,
    pem: Vec<u8>,
    count: usize,
}

impl std::fmt::Debug for ExtraCaBundle {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ExtraCaBundle")
            .field("path", &self.path)
            .field("certificates", &self.count)
            .finish()
    }
}

impl ExtraCaBundle {
    /// Read a PEM file with at least one certificate that works as a trust anchor. `Err` is the
    /// problem in words, for a field error.
    pub fn read(path: &Path) -> Result<ExtraCaBundle, String> {
        let unreadable =
            |error: std::io::Error| format!("names a file that could not be read ({error})");
        let metadata = std::fs::metadata(path).map_err(unreadable)?;
        if !metadata.is_file() {
            return Err("must name a file".to_owned());
        }
        if metadata.len() > MAX_CA_FILE_BYTES {
            return Err("names a file too large for a CA bundle (over 1 MiB)".to_owned());
        }
        let pem = std::fs::read(path).map_err(unreadable)?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|_| "names a file that is not a valid PEM certificate bundle".to_owned())?;
        if certificates.is_empty() {
            return Err(
                "names a file with no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned(),
            );
        }
        let count = certificates.len();
        // Each must be usable as a root: a client trusting only these must build.
        reqwest::Client::builder()
            .tls_certs_only(certificates)
            .build()
            .map_err(|_| {
                "names a file with a certificate that cannot be used as a CA".to_owned()
            })?;
        Ok(ExtraCaBundle {
            path: path.to_path_buf(),
            pem,
            count,
        })
    }

    /// The file it came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many certificates it holds (at least one).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds none (never, once read).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The certificates, for a reqwest client builder.
    pub fn certificates(&self) -> Vec<reqwest::Certificate> {
        // Parsed once already when the file was read.
        reqwest::Certificate::from_pem_bundle(&self.pem).unwrap_or_default()
    }
}

/// Which kind of configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFileKind {
    /// The trust's machine-wide file.
    MachineWide,
    /// The user's own file (`--config`, `CPIS_CONFIG` or the platform config folder).
    User,
}

/// Why a user's setting was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoredBecause {
    /// Only the machine-wide file may set it.
    MachineWideOnly,
    /// It would lengthen the machine-wide inactivity lock, which a user may only shorten.
    LongerThanMachineWide,
}

/// A setting in the user's file that was not used. Holds no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredSetting {
    /// The dotted name, such as `services.cpis_url`.
    pub field: String,
    /// Why.
    pub because: IgnoredBecause,
}

/// Which files the configuration came from, and what in them was not used.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigOrigin {
    /// The machine-wide file, when one was read.
    pub machine_file: Option<PathBuf>,
    /// The user's file, when one was read.
    pub user_file: Option<PathBuf>,
    /// Settings of the user's file that were not used.
    pub ignored: Vec<IgnoredSetting>,
}

impl ConfigOrigin {
    /// The files in use, in the words the status area shows: "/etc/cpis-viewer/config.toml
    /// (machine-wide)", "/home/x/.config/cpis-viewer/config.toml (your own)". Empty when only
    /// built-in development settings are in use.
    pub fn describe_files(&self) -> Vec<String> {
        let mut files = Vec::new();
        if let Some(path) = &self.machine_file {
            files.push(format!("{} (machine-wide)", path.display()));
        }
        if let Some(path) = &self.user_file {
            files.push(format!("{} (your own)", path.display()));
        }
        files
    }

    /// One sentence per ignored setting, naming the field and the files, never the value.
    pub fn notices(&self) -> Vec<String> {
        let user = self
            .user_file
            .as_ref()
            .map(|path| path.display().to_string())
            .unwrap_or_else(|| "your own configuration file".to_owned());
        let machine = self
            .machine_file
            .as_ref()
            .map(|path| path.display().to_string())
            .unwrap_or_else(|| "the machine-wide configuration file".to_owned());
        self.ignored
            .iter()
            .map(|ignored| match ignored.because {
                IgnoredBecause::MachineWideOnly => format!(
                    "the setting `{}` in {user} is ignored: on this computer only {machine} may set it",
                    ignored.field
                ),
                IgnoredBecause::LongerThanMachineWide => format!(
                    "the setting `{}` in {user} is ignored: it may only shorten the inactivity lock of {machine} (15 minutes when that file does not set it)",
                    ignored.field
                ),
            })
            .collect()
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Service base URLs.
    pub services: ServiceUrls,
    /// Identity provider.
    pub oidc: OidcConfig,
    /// TLS and plain http.
    pub tls: TlsConfig,
    /// The trust's own words.
    pub trust: TrustConfig,
    /// Hard deadline for one lookup, from start to answer.
    pub lookup_deadline: Duration,
    /// Inactivity lock.
    pub lock_after: Duration,
    /// The user's local data folder (the audit queue lives here).
    pub data_dir: PathBuf,
    /// Which files were used and what was ignored.
    pub origin: ConfigOrigin,
}

/// A configuration problem. It names the field and the file; it never includes secrets (the
/// configuration holds none).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("could not read configuration file {path}: {source}")]
    Read {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not valid TOML.
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax {
        /// Which file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A field has a bad value.
    #[error("configuration field `{field}` in {} {problem}", .file.display())]
    Field {
        /// Dotted field name, such as `services.cpis_url`.
        field: String,
        /// The file that set it.
        file: PathBuf,
        /// What is wrong, in words.
        problem: String,
    },
    /// Settings without which nothing can be contacted are missing (a release build with no
    /// configuration, or one without them).
    #[error("{}", not_configured_message(.missing, .machine_file, .user_file.as_deref()))]
    NotConfigured {
        /// The missing settings, such as `services.cpis_url`.
        missing: Vec<&'static str>,
        /// Where the machine-wide file goes.
        machine_file: PathBuf,
        /// Where the user's own file goes, when the platform has one.
        user_file: Option<PathBuf>,
    },
    /// No platform folder could be found for the default data folder.
    #[error("could not find the user's home folder for the default {what}; set `data_dir`")]
    NoHomeFolder {
        /// What was being looked for.
        what: &'static str,
    },
}

impl ConfigError {
    /// The problems one by one, as a setup screen lists them: one per missing setting, else
    /// the one error.
    pub fn problems(&self) -> Vec<String> {
        match self {
            ConfigError::NotConfigured { missing, .. } => missing
                .iter()
                .map(|field| format!("The setting `{field}` is missing."))
                .collect(),
            other => vec![other.to_string()],
        }
    }
}

fn not_configured_message(
    missing: &[&'static str],
    machine_file: &Path,
    user_file: Option<&Path>,
) -> String {
    let (verb, pronoun) = if missing.len() == 1 {
        ("is", "it")
    } else {
        ("are", "them")
    };
    let user = user_file
        .map(|path| format!(" (or, for one user only, in {})", path.display()))
        .unwrap_or_default();
    format!(
        "CP-IS Viewer is not set up on this computer: {} {verb} missing. Your IT team sets {pronoun} in the machine-wide configuration file {}{user}",
        list_fields(missing),
        machine_file.display()
    )
}

fn list_fields(fields: &[&str]) -> String {
    let quoted: Vec<String> = fields.iter().map(|field| format!("`{field}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => format!("the setting {last}"),
        Some((last, rest)) => format!("the settings {} and {last}", rest.join(", ")),
    }
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("uk.nhs", "CP-IS", "cpis-viewer")
}

/// The machine-wide configuration file: a fixed path per platform, which no environment
/// variable can move (a user could otherwise step out of the trust's settings).
pub fn machine_config_path() -> PathBuf {
    #[cfg(target_os = "windows")]
    {
        // `%ProgramData%` on every standard installation. Read as a fixed path, not from the
        // environment variable, which a user can change for their own processes.
        PathBuf::from(r"C:\ProgramData\CP-IS Viewer\config.toml")
    }
    #[cfg(target_os = "macos")]
    {
        PathBuf::from("/Library/Application Support/CP-IS Viewer/config.toml")
    }
    #[cfg(not(any(target_os = "windows", target_os = "macos")))]
    {
        PathBuf::from("/etc/cpis-viewer/config.toml")
    }
}

/// The user's own configuration file: `config.toml` in the platform config folder
/// (`~/.config/cpis-viewer/config.toml` on Linux).
pub fn user_config_path() -> Option<PathBuf> {
    project_dirs().map(|dirs| dirs.config_dir().join("config.toml"))
}

fn default_data_dir() -> Result<PathBuf, ConfigError> {
    project_dirs()
        .map(|dirs| dirs.data_local_dir().to_path_buf())
        .ok_or(ConfigError::NoHomeFolder {
            what: "data folder",
        })
}

/// Where to look for the configuration files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigLocations {
    /// The machine-wide file; read when it exists.
    pub machine_file: PathBuf,
    /// The user's file; read when it exists.
    pub user_file: Option<PathBuf>,
    /// Whether the user's file was named (`--config`, `CPIS_CONFIG`) and so must exist.
    pub user_file_named: bool,
}

impl ConfigLocations {
    /// The binaries' locations: the fixed machine-wide path, and the user's file from
    /// `explicit` (`--config`), else `CPIS_CONFIG`, else the platform config folder.
    pub fn for_this_computer(explicit: Option<&Path>) -> ConfigLocations {
        let from_env = std::env::var_os(CONFIG_ENV)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        let named = explicit.map(Path::to_path_buf).or(from_env);
        ConfigLocations {
            machine_file: machine_config_path(),
            user_file_named: named.is_some(),
            user_file: named.or_else(user_config_path),
        }
    }
}

fn parse_default_url(text: &str) -> Url {
    // Only ever called with the constants above, which a unit test parses.
    #[allow(clippy::expect_used)]
    Url::parse(text).expect("default URL constants are valid")
}

/// Who may set a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Where data goes or who signs in: only the machine-wide file when there is one.
    MachineWideOnly,
    /// The inactivity lock: the user's file may only shorten it.
    UserMayShorten,
    /// Either file; the user's wins.
    UserWins,
}

/// Every setting, by dotted name, and who may set it.
const SETTINGS: [(&str, Rule); 15] = [
    ("services.cpis_url", Rule::MachineWideOnly),
    ("services.demographics_url", Rule::MachineWideOnly),
    ("services.audit_url", Rule::MachineWideOnly),
    ("oidc.issuer", Rule::MachineWideOnly),
    ("oidc.client_id", Rule::MachineWideOnly),
    ("tls.extra_ca_file", Rule::MachineWideOnly),
    ("tls.allow_http_loopback", Rule::MachineWideOnly),
    ("data_dir", Rule::MachineWideOnly),
    ("trust.organisation_name", Rule::MachineWideOnly),
    ("trust.downtime_procedure", Rule::MachineWideOnly),
    ("trust.safeguarding_in_hours_phone", Rule::MachineWideOnly),
    ("trust.safeguarding_in_hours_times", Rule::MachineWideOnly),
    (
        "trust.safeguarding_out_of_hours_phone",
        Rule::MachineWideOnly,
    ),
    ("lock_minutes", Rule::UserMayShorten),
    ("lookup_deadline_ms", Rule::UserWins),
];

/// The tables of the file; every one holds only machine-wide settings.
const TABLES: [&str; 4] = ["services", "oidc", "tls", "trust"];

fn rule_of(field: &str) -> Option<Rule> {
    SETTINGS
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, rule)| *rule)
}

/// The names in [`SETTINGS`] as `'static` strings.
fn static_name(field: &str) -> Option<&'static str> {
    SETTINGS
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(name, _)| *name)
}

/// One file's settings, by dotted name, not yet validated.
#[derive(Debug, Default)]
struct FileValues {
    path: PathBuf,
    values: BTreeMap<&'static str, toml::Value>,
}

fn field_error(field: &str, file: &Path, problem: impl Into<String>) -> ConfigError {
    ConfigError::Field {
        field: field.to_owned(),
        file: file.to_path_buf(),
        problem: problem.into(),
    }
}

/// Split a file into its settings. With `machine_wide_elsewhere`, this is a user's file on a
/// computer with a machine-wide file: every machine-wide-only setting (known or not, valid or
/// not) is set aside as ignored instead of read.
fn read_values(
    text: &str,
    path: &Path,
    machine_wide_elsewhere: bool,
    ignored: &mut Vec<IgnoredSetting>,
) -> Result<FileValues, ConfigError> {
    let table: toml::Table =
        text.parse()
            .map_err(|error: toml::de::Error| ConfigError::Syntax {
                path: path.to_path_buf(),
                message: error.message().to_owned(),
            })?;
    let mut file = FileValues {
        path: path.to_path_buf(),
        values: BTreeMap::new(),
    };
    let mut ignore = |field: String| {
        ignored.push(IgnoredSetting {
            field,
            because: IgnoredBecause::MachineWideOnly,
        });
    };
    for (key, value) in table {
        if TABLES.contains(&key.as_str()) {
            let Some(inner) = value.as_table() else {
                if machine_wide_elsewhere {
                    ignore(key);
                    continue;
                }
                return Err(field_error(
                    &key,
                    path,
                    format!("must be a table, such as [{key}]"),
                ));
            };
            for (inner_key, inner_value) in inner {
                let field = format!("{key}.{inner_key}");
                if machine_wide_elsewhere {
                    ignore(field);
                    continue;
                }
                let name = static_name(&field)
                    .ok_or_else(|| field_error(&field, path, "is not a known setting"))?;
                file.values.insert(name, inner_value.clone());
            }
            continue;
        }
        let Some(name) = static_name(&key).filter(|name| !name.contains('.')) else {
            return Err(field_error(&key, path, "is not a known setting"));
        };
        if machine_wide_elsewhere && rule_of(name) == Some(Rule::MachineWideOnly) {
            ignore(key);
            continue;
        }
        file.values.insert(name, value);
    }
    Ok(file)
}

/// The chosen value of each setting and the file it came from.
#[derive(Debug, Default)]
struct Chosen<'a> {
    values: BTreeMap<&'static str, (&'a toml::Value, &'a Path)>,
}

impl<'a> Chosen<'a> {
    fn get(&self, field: &str) -> Option<(&'a toml::Value, &'a Path)> {
        self.values.get(field).copied()
    }
}

impl Config {
    /// The local demo's settings with the given data folder (tests and development).
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
            tls: TlsConfig::local_demo(),
            trust: TrustConfig::default(),
            lookup_deadline: Duration::from_millis(DEFAULT_LOOKUP_DEADLINE_MS),
            lock_after: Duration::from_secs(DEFAULT_LOCK_MINUTES * 60),
            data_dir,
            origin: ConfigOrigin::default(),
        }
    }

    /// Load the configuration as the binaries do: the machine-wide file at its fixed path,
    /// the user's file from `explicit` (`--config`), else `CPIS_CONFIG`, else the platform
    /// config folder, and the defaults of this build ([`Defaults::for_this_build`]).
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_from(
            &ConfigLocations::for_this_computer(explicit),
            Defaults::for_this_build(),
        )
    }

    /// Load from the given locations with the given defaults. A user's file that was named
    /// must exist; the others are read when they exist.
    pub fn load_from(
        locations: &ConfigLocations,
        defaults: Defaults,
    ) -> Result<Config, ConfigError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        // A file that is absent is not used; one that is there but cannot be read (say, in a
        // folder a user cannot enter) is an error, never a silent fall-back to the next layer.
        let existing = |path: &Path| match std::fs::metadata(path) {
            Ok(_) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        };
        let machine = if existing(&locations.machine_file)? {
            Some(read(&locations.machine_file)?)
        } else {
            None
        };
        let user = match &locations.user_file {
            Some(path) if locations.user_file_named || existing(path)? => Some(read(path)?),
            _ => None,
        };
        Config::layered(
            machine
                .as_deref()
                .map(|text| (text, locations.machine_file.as_path())),
            user.as_deref().zip(locations.user_file.as_deref()),
            defaults,
            locations,
        )
    }

    /// Parse and validate one user-level file's text over the local demo's defaults (tests and
    /// tools); `path` is only used in messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        Config::layered(
            None,
            Some((text, path)),
            Defaults::LocalDemo,
            &ConfigLocations {
                machine_file: machine_config_path(),
                user_file: Some(path.to_path_buf()),
                user_file_named: true,
            },
        )
    }

    /// The layering: `machine` and `user` are (text, path) of the files that exist.
    fn layered(
        machine: Option<(&str, &Path)>,
        user: Option<(&str, &Path)>,
        defaults: Defaults,
        locations: &ConfigLocations,
    ) -> Result<Config, ConfigError> {
        let mut ignored = Vec::new();
        let machine_values = machine
            .map(|(text, path)| read_values(text, path, false, &mut ignored))
            .transpose()?;
        let user_values = user
            .map(|(text, path)| read_values(text, path, machine_values.is_some(), &mut ignored))
            .transpose()?;

        let mut chosen = Chosen::default();
        for file in machine_values.iter().chain(user_values.iter()) {
            for (name, value) in &file.values {
                chosen.values.insert(name, (value, file.path.as_path()));
            }
        }
        // The inactivity lock: with a machine-wide file, its value (or the built-in 15
        // minutes the trust left in place) is a ceiling the user's file may only shorten.
        let lock = |file: &FileValues| {
            file.values
                .get("lock_minutes")
                .map(|value| {
                    expect_in_range(value, "lock_minutes", &file.path, &LOCK_MINUTES_RANGE)
                })
                .transpose()
        };
        let mut lock_minutes = match &machine_values {
            Some(file) => Some(lock(file)?.unwrap_or(DEFAULT_LOCK_MINUTES)),
            None => None,
        };
        if let Some(minutes) = user_values.as_ref().map(lock).transpose()?.flatten() {
            match lock_minutes {
                Some(ceiling) if minutes > ceiling => ignored.push(IgnoredSetting {
                    field: "lock_minutes".to_owned(),
                    because: IgnoredBecause::LongerThanMachineWide,
                }),
                _ => lock_minutes = Some(minutes),
            }
        }

        let mut config = Config::defaults_with_data_dir(PathBuf::new());
        config.tls.allow_http_loopback = match chosen.get("tls.allow_http_loopback") {
            Some((value, path)) => value.as_bool().ok_or_else(|| {
                field_error("tls.allow_http_loopback", path, "must be true or false")
            })?,
            None => defaults == Defaults::LocalDemo,
        };
        let allow_http = config.tls.allow_http_loopback;
        let mut missing = Vec::new();
        let mut url = |field: &'static str, slot: &mut Url| -> Result<(), ConfigError> {
            match chosen.get(field) {
                Some((value, path)) => {
                    *slot = fhir_base_url(value, field, path, allow_http)?;
                }
                None if defaults == Defaults::None => missing.push(field),
                None => {}
            }
            Ok(())
        };
        url("services.cpis_url", &mut config.services.cpis_url)?;
        url(
            "services.demographics_url",
            &mut config.services.demographics_url,
        )?;
        url("services.audit_url", &mut config.services.audit_url)?;
        match chosen.get("oidc.issuer") {
            Some((value, path)) => {
                config.oidc.issuer = issuer_url(value, "oidc.issuer", path, allow_http)?;
            }
            None if defaults == Defaults::None => missing.push("oidc.issuer"),
            None => {}
        }
        if !missing.is_empty() {
            return Err(ConfigError::NotConfigured {
                missing,
                machine_file: locations.machine_file.clone(),
                user_file: locations.user_file.clone(),
            });
        }
        if let Some((value, path)) = chosen.get("oidc.client_id") {
            let client_id = expect_string(value, "oidc.client_id", path)?;
            if client_id.is_empty() || !client_id.chars().all(|c| c.is_ascii_graphic()) {
                return Err(field_error(
                    "oidc.client_id",
                    path,
                    "must be a non-empty client id without spaces",
                ));
            }
            config.oidc.client_id = client_id.to_owned();
        }
        if let Some((value, path)) = chosen.get("tls.extra_ca_file") {
            let file = absolute_path(value, "tls.extra_ca_file", path)?;
            config.tls.extra_ca = Some(
                ExtraCaBundle::read(&file)
                    .map_err(|problem| field_error("tls.extra_ca_file", path, problem))?,
            );
        }
        if let Some((value, path)) = chosen.get("lookup_deadline_ms") {
            let millis =
                expect_in_range(value, "lookup_deadline_ms", path, &LOOKUP_DEADLINE_RANGE_MS)?;
            config.lookup_deadline = Duration::from_millis(millis);
        }
        if let Some(minutes) = lock_minutes {
            config.lock_after = Duration::from_secs(minutes * 60);
        }
        config.data_dir = match chosen.get("data_dir") {
            Some((value, path)) => absolute_path(value, "data_dir", path)?,
            None => default_data_dir()?,
        };
        config.trust = trust_config(&chosen)?;
        config.origin = ConfigOrigin {
            machine_file: machine.map(|(_, path)| path.to_path_buf()),
            user_file: user.map(|(_, path)| path.to_path_buf()),
            ignored,
        };
        Ok(config)
    }
}

fn trust_config(chosen: &Chosen<'_>) -> Result<TrustConfig, ConfigError> {
    let text = |field: &'static str| -> Result<Option<(String, &Path)>, ConfigError> {
        chosen
            .get(field)
            .map(|(value, path)| Ok((expect_string(value, field, path)?.to_owned(), path)))
            .transpose()
    };
    let checked = |field: &'static str,
                   check: &dyn Fn(&str) -> Result<String, String>|
     -> Result<Option<String>, ConfigError> {
        text(field)?
            .map(|(value, path)| check(&value).map_err(|problem| field_error(field, path, problem)))
            .transpose()
    };
    let phone = |field: &'static str| -> Result<Option<PhoneNumber>, ConfigError> {
        text(field)?
            .map(|(value, path)| {
                PhoneNumber::parse(&value).map_err(|problem| field_error(field, path, problem))
            })
            .transpose()
    };
    let downtime_procedure = match text("trust.downtime_procedure")? {
        Some((value, path)) => trust::downtime_paragraphs(&value)
            .map_err(|problem| field_error("trust.downtime_procedure", path, problem))?,
        None => Vec::new(),
    };
    Ok(TrustConfig {
        organisation_name: checked("trust.organisation_name", &|value| {
            trust::single_line_text(value, trust::ORGANISATION_NAME_MAX_CHARS)
        })?,
        downtime_procedure,
        safeguarding_in_hours_phone: phone("trust.safeguarding_in_hours_phone")?,
        safeguarding_in_hours_times: checked("trust.safeguarding_in_hours_times", &|value| {
            trust::single_line_text(value, trust::HOURS_TEXT_MAX_CHARS)
        })?,
        safeguarding_out_of_hours_phone: phone("trust.safeguarding_out_of_hours_phone")?,
    })
}

fn expect_string<'a>(
    value: &'a toml::Value,
    field: &str,
    file: &Path,
) -> Result<&'a str, ConfigError> {
    value
        .as_str()
        .ok_or_else(|| field_error(field, file, "must be a string in quotes"))
}

fn absolute_path(value: &toml::Value, field: &str, file: &Path) -> Result<PathBuf, ConfigError> {
    let path = PathBuf::from(expect_string(value, field, file)?);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(field_error(field, file, "must be an absolute path"))
    }
}

fn expect_in_range(
    value: &toml::Value,
    field: &str,
    file: &Path,
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
        .ok_or_else(|| field_error(field, file, problem.clone()))?;
    if range.contains(&number) {
        Ok(number)
    } else {
        Err(field_error(field, file, problem))
    }
}

/// Whether `url` names this computer: 127.0.0.0/8, `::1` or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn http_url(
    value: &toml::Value,
    field: &str,
    file: &Path,
    allow_http_loopback: bool,
) -> Result<Url, ConfigError> {
    let text = expect_string(value, field, file)?;
    let url = Url::parse(text).map_err(|_| field_error(field, file, "must be an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(field_error(field, file, "must be an https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(field_error(field, file, "must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(field_error(
            field,
            file,
            "must not contain a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(field_error(
            field,
            file,
            "must not have a query or fragment",
        ));
    }
    if url.scheme() == "http" {
        if !is_loopback(&url) {
            return Err(field_error(
                field,
                file,
                "must be an https URL: plain http is allowed only to this computer (127.0.0.1, ::1 or localhost)",
            ));
        }
        if !allow_http_loopback {
            return Err(field_error(
                field,
                file,
                "uses plain http, which is allowed only with `allow_http_loopback = true` in the [tls] table",
            ));
        }
    }
    Ok(url)
}

/// A FHIR base URL; a trailing slash is removed so paths can be appended.
fn fhir_base_url(
    value: &toml::Value,
    field: &str,
    file: &Path,
    allow_http_loopback: bool,
) -> Result<Url, ConfigError> {
    let mut url = http_url(value, field, file, allow_http_loopback)?;
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

fn issuer_url(
    value: &toml::Value,
    field: &str,
    file: &Path,
    allow_http_loopback: bool,
) -> Result<String, ConfigError> {
    http_url(value, field, file, allow_http_loopback)?;
    Ok(expect_string(value, field, file)?.to_owned())
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
    fn the_default_url_constants_parse() {
        for url in [
            DEFAULT_CPIS_URL,
            DEFAULT_DEMOGRAPHICS_URL,
            DEFAULT_AUDIT_URL,
            DEFAULT_ISSUER,
        ] {
            assert!(Url::parse(url).is_ok(), "{url}");
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
        assert!(config.tls.allow_http_loopback);
        assert_eq!(config.tls.extra_ca, None);
        assert_eq!(config.trust, TrustConfig::default());
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
            [tls]
            allow_http_loopback = false
            [trust]
            organisation_name = "Northshire Hospitals NHS Foundation Trust (synthetic)"
            downtime_procedure = "Use the paper checklist.\nPhone the safeguarding team."
            safeguarding_in_hours_phone = "0114 496 0000"
            safeguarding_in_hours_times = "Monday to Friday, 9am to 5pm"
            safeguarding_out_of_hours_phone = "+44 (0)161 496 0999"
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
        assert!(!config.tls.allow_http_loopback);
        assert_eq!(
            config.trust.organisation_name.as_deref(),
            Some("Northshire Hospitals NHS Foundation Trust (synthetic)")
        );
        assert_eq!(
            config.trust.downtime_procedure,
            ["Use the paper checklist.", "Phone the safeguarding team."]
        );
        assert_eq!(
            config
                .trust
                .safeguarding_in_hours_phone
                .as_ref()
                .map(PhoneNumber::tel),
            Some("+441144960000")
        );
        assert_eq!(
            config
                .trust
                .safeguarding_out_of_hours_phone
                .as_ref()
                .map(PhoneNumber::display),
            Some("+44 (0)161 496 0999")
        );
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
                "[services]\ncpis_url = \"https://h/x?y=1\"",
                "services.cpis_url",
            ),
            (
                "[services]\ncpis_url = \"https://user:pw@h/x\"",
                "services.cpis_url",
            ),
            (
                "[services]\nunknown_url = \"https://h/\"",
                "services.unknown_url",
            ),
            ("[oidc]\nissuer = \"nope\"", "oidc.issuer"),
            ("[oidc]\nclient_id = \"\"", "oidc.client_id"),
            ("[oidc]\nclient_id = \"has space\"", "oidc.client_id"),
            (
                "[tls]\nallow_http_loopback = \"yes\"",
                "tls.allow_http_loopback",
            ),
            (
                "[tls]\nextra_ca_file = \"relative.pem\"",
                "tls.extra_ca_file",
            ),
            ("[tls]\nverify = false", "tls.verify"),
            (
                "[trust]\norganisation_name = \"\"",
                "trust.organisation_name",
            ),
            ("[trust]\nmotto = \"x\"", "trust.motto"),
            ("lookup_deadline_ms = 0", "lookup_deadline_ms"),
            ("lookup_deadline_ms = -5", "lookup_deadline_ms"),
            ("lookup_deadline_ms = \"3000\"", "lookup_deadline_ms"),
            ("lookup_deadline_ms = 999999", "lookup_deadline_ms"),
            ("lock_minutes = 0", "lock_minutes"),
            ("lock_minutes = 721", "lock_minutes"),
            ("data_dir = \"relative/path\"", "data_dir"),
            ("data_dir = 1", "data_dir"),
            ("services = 1", "services"),
            ("trust = \"ours\"", "trust"),
            ("colour = \"blue\"", "colour"),
        ];
        for (text, field) in cases {
            assert_eq!(field_of(parse(text)), field, "{text}");
        }
    }

    #[test]
    fn field_errors_say_what_is_wrong_and_where() {
        let error = parse("lock_minutes = 0").expect_err("invalid");
        assert_eq!(
            error.to_string(),
            "configuration field `lock_minutes` in test.toml must be a whole number from 1 to 720"
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
        let locations = ConfigLocations {
            machine_file: directory.path().join("no-machine.toml"),
            user_file: Some(missing),
            user_file_named: true,
        };
        assert!(matches!(
            Config::load_from(&locations, Defaults::LocalDemo),
            Err(ConfigError::Read { .. })
        ));
    }

    #[test]
    fn a_file_on_disk_is_read_and_recorded() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("config.toml");
        std::fs::write(&path, "lookup_deadline_ms = 2500\ndata_dir = \"/tmp/x\"\n").expect("write");
        let locations = ConfigLocations {
            machine_file: directory.path().join("no-machine.toml"),
            user_file: Some(path.clone()),
            user_file_named: true,
        };
        let config = Config::load_from(&locations, Defaults::LocalDemo).expect("valid");
        assert_eq!(config.lookup_deadline, Duration::from_millis(2500));
        assert_eq!(config.origin.user_file, Some(path.clone()));
        assert_eq!(config.origin.machine_file, None);
        assert_eq!(
            config.origin.describe_files(),
            [format!("{} (your own)", path.display())]
        );
    }

    #[test]
    fn an_unnamed_user_file_that_does_not_exist_is_not_an_error() {
        let directory = tempfile::tempdir().expect("temp dir");
        let locations = ConfigLocations {
            machine_file: directory.path().join("no-machine.toml"),
            user_file: Some(directory.path().join("no-user.toml")),
            user_file_named: false,
        };
        let config = Config::load_from(&locations, Defaults::LocalDemo).expect("defaults");
        assert_eq!(config.services.cpis_url.as_str(), DEFAULT_CPIS_URL);
        assert!(config.origin.describe_files().is_empty());
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for (url, loopback) in [
            ("http://127.0.0.1:8080/", true),
            ("http://127.5.6.7/", true),
            ("http://[::1]:9090/", true),
            ("http://localhost/", true),
            ("http://LOCALHOST/", true),
            ("http://localhost.example.test/", false),
            ("http://128.0.0.1/", false),
            ("http://[::ffff:127.0.0.1]/", false),
            ("http://10.0.0.1/", false),
        ] {
            assert_eq!(
                is_loopback(&Url::parse(url).expect("url")),
                loopback,
                "{url}"
            );
        }
    }

    #[test]
    fn the_machine_file_path_is_fixed_per_platform() {
        #[cfg(target_os = "linux")]
        assert_eq!(
            machine_config_path(),
            PathBuf::from("/etc/cpis-viewer/config.toml")
        );
        let locations = ConfigLocations::for_this_computer(Some(Path::new("/tmp/mine.toml")));
        assert_eq!(locations.machine_file, machine_config_path());
        assert_eq!(locations.user_file, Some(PathBuf::from("/tmp/mine.toml")));
        assert!(locations.user_file_named);
    }
}
