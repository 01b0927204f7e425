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
//! [sign_in]
//! broker_url = "https://cpis-broker.trust.example.nhs.uk"   # the trust's token broker
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
//! (`services.*`, `sign_in.*`, `tls.*`, `data_dir`, `trust.*`) comes only from it: the user's
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
//! development identity provider (`dev-idp/`) on 9090 and the token broker (`cpis-broker`) on
//! 9091, all on 127.0.0.1. The app signs in only through the broker (`docs/sign-in.md`).

mod error;
mod files;
mod locations;
mod origin;
mod tls;
pub mod trust;
mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;

pub use error::ConfigError;
use files::{Chosen, FileValues, field_error, read_values};
use locations::default_data_dir;
pub use locations::{ConfigLocations, machine_config_path, user_config_path};
pub use origin::{ConfigFileKind, ConfigOrigin, IgnoredBecause, IgnoredSetting};
pub use tls::{ExtraCaBundle, TlsConfig};
pub use trust::{PhoneNumber, TrustConfig};
use values::{absolute_path, expect_in_range, fhir_base_url, trust_config};
pub use values::{is_loopback, join_path};

/// Environment variable naming the user's configuration file.
pub const CONFIG_ENV: &str = "CPIS_CONFIG";
/// The reference service's CP-IS base URL in the local demo.
pub const DEFAULT_CPIS_URL: &str = "http://127.0.0.1:8080/cpis/FHIR/R4";
/// The reference service's demographics base URL in the local demo.
pub const DEFAULT_DEMOGRAPHICS_URL: &str = "http://127.0.0.1:8080/personal-demographics/FHIR/R4";
/// The reference service's central audit base URL in the local demo.
pub const DEFAULT_AUDIT_URL: &str = "http://127.0.0.1:8080/audit/FHIR/R4";
/// The local demo's token broker.
pub const DEFAULT_BROKER_URL: &str = "http://127.0.0.1:9091";
/// A lookup ends in an answer within this time unless configured otherwise.
pub const DEFAULT_LOOKUP_DEADLINE_MS: u64 = 3000;
/// Inactivity lock after this many minutes unless configured otherwise.
pub const DEFAULT_LOCK_MINUTES: u64 = 15;
/// The range a lookup deadline may take.
pub const LOOKUP_DEADLINE_RANGE_MS: std::ops::RangeInclusive<u64> = 200..=30_000;
/// The range the inactivity lock may take (at most the 12 hour session).
pub const LOCK_MINUTES_RANGE: std::ops::RangeInclusive<u64> = 1..=720;
/// The settings without which nothing can be contacted, in the order they are reported.
pub const REQUIRED_SETTINGS: [&str; 4] = [
    "services.cpis_url",
    "services.demographics_url",
    "services.audit_url",
    "sign_in.broker_url",
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

/// Where users sign in: the trust's token broker (`docs/sign-in.md`), which signs them in at
/// CIS2 and exchanges the ID token at the API platform. The app is `cpis-viewer` there
/// (`sign_in::CLIENT_ID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInConfig {
    /// The broker's base URL (no trailing slash); `/authorize`, `/token` and `/session/...`
    /// are appended.
    pub broker_url: Url,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Service base URLs.
    pub services: ServiceUrls,
    /// The token broker users sign in through.
    pub sign_in: SignInConfig,
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
fn parse_default_url(text: &str) -> Url {
    // Only ever called with the constants above, which a unit test parses.
    #[allow(clippy::expect_used)]
    Url::parse(text).expect("default URL constants are valid")
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
            sign_in: SignInConfig {
                broker_url: parse_default_url(DEFAULT_BROKER_URL),
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
        url("sign_in.broker_url", &mut config.sign_in.broker_url)?;
        if !missing.is_empty() {
            return Err(ConfigError::NotConfigured {
                missing,
                machine_file: locations.machine_file.clone(),
                user_file: locations.user_file.clone(),
            });
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
            DEFAULT_BROKER_URL,
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
        assert_eq!(
            config.sign_in.broker_url.as_str(),
            "http://127.0.0.1:9091/",
            "the demo's broker"
        );
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
            [sign_in]
            broker_url = "https://broker.example.test/cpis-broker/"
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
        assert_eq!(
            join_path(&config.sign_in.broker_url, &["session", "refresh"]).as_str(),
            "https://broker.example.test/cpis-broker/session/refresh"
        );
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
            ("[sign_in]\nbroker_url = \"nope\"", "sign_in.broker_url"),
            (
                "[sign_in]\nbroker_url = \"http://broker.example.test\"",
                "sign_in.broker_url",
            ),
            ("[oidc]\nissuer = \"https://idp.example.test\"", "oidc"),
            (
                "[sign_in]\nclient_id = \"cpis-viewer\"",
                "sign_in.client_id",
            ),
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
