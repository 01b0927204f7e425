//! The configuration as a trust deploys it: the machine-wide file beats the user's own file for
//! every setting that decides where data goes or who signs in (one test each), the inactivity
//! lock can only be shortened, a release build has no service or identity-provider defaults,
//! plain http goes only to this computer and only when allowed, and the trust's words are
//! checked with the field named. Files are passed explicitly to `Config::load_from`; nothing
//! reads the real `/etc/cpis-viewer/config.toml`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cpis_client::config::{
    ConfigOrigin, IgnoredBecause, IgnoredSetting, PhoneNumber, REQUIRED_SETTINGS,
};
use cpis_client::{Config, ConfigError, ConfigLocations, Defaults};

use crate::support::tls_server::TestPki;

/// A complete machine-wide configuration, as dotted keys (so a test can add any setting).
const MACHINE_BASE: [(&str, &str); 4] = [
    (
        "services.cpis_url",
        "\"https://cpis.machine.example.test/cpis/FHIR/R4\"",
    ),
    (
        "services.demographics_url",
        "\"https://pds.machine.example.test/personal-demographics/FHIR/R4\"",
    ),
    (
        "services.audit_url",
        "\"https://audit.machine.example.test/audit/FHIR/R4\"",
    ),
    (
        "sign_in.broker_url",
        "\"https://broker.machine.example.test\"",
    ),
];

/// Two configuration files in a temporary folder.
struct Files {
    directory: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            directory: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    fn machine_path(&self) -> PathBuf {
        self.path("machine.toml")
    }

    fn user_path(&self) -> PathBuf {
        self.path("user.toml")
    }

    fn write(&self, name: &str, settings: &[(&str, &str)]) -> PathBuf {
        let text: String = settings
            .iter()
            .map(|(key, value)| format!("{key} = {value}\n"))
            .collect();
        let path = self.path(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn machine(&self, extra: &[(&str, &str)]) -> PathBuf {
        self.write("machine.toml", &with(&MACHINE_BASE, extra))
    }

    fn user(&self, settings: &[(&str, &str)]) -> PathBuf {
        self.write("user.toml", settings)
    }

    fn locations(&self) -> ConfigLocations {
        ConfigLocations {
            machine_file: self.machine_path(),
            user_file: Some(self.user_path()),
            user_file_named: false,
        }
    }

    fn load(&self, defaults: Defaults) -> Result<Config, ConfigError> {
        Config::load_from(&self.locations(), defaults)
    }
}

/// `base` with `extra` added, an `extra` key replacing the same key of `base`.
fn with<'a>(base: &[(&'a str, &'a str)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = base
        .iter()
        .filter(|(key, _)| !extra.iter().any(|(extra_key, _)| extra_key == key))
        .copied()
        .collect();
    out.extend_from_slice(extra);
    out
}

fn ignored_fields(origin: &ConfigOrigin) -> Vec<&str> {
    origin
        .ignored
        .iter()
        .map(|ignored| ignored.field.as_str())
        .collect()
}

/// The machine-wide file sets `field` to `machine_value`, the user's file to `user_value`:
/// the machine-wide value is in effect, the user's is recorded as ignored, and loading does
/// not fail. Returns the configuration for the field's own check.
fn machine_wins(field: &str, machine_value: &str, user_value: &str) -> Config {
    let files = Files::new();
    files.machine(&[(field, machine_value)]);
    files.user(&[(field, user_value)]);
    let config = files
        .load(Defaults::None)
        .expect("a user's protected setting never stops the app");
    assert_eq!(config.origin.machine_file, Some(files.machine_path()));
    assert_eq!(config.origin.user_file, Some(files.user_path()));
    assert_eq!(
        config.origin.ignored,
        [IgnoredSetting {
            field: field.to_owned(),
            because: IgnoredBecause::MachineWideOnly,
        }]
    );
    config
}

#[test]
fn machine_file_beats_user_file_for_services_cpis_url() {
    let config = machine_wins(
        "services.cpis_url",
        "\"https://cpis.machine.example.test/cpis/FHIR/R4\"",
        "\"https://cpis.user.example.test/cpis/FHIR/R4\"",
    );
    assert_eq!(
        config.services.cpis_url.as_str(),
        "https://cpis.machine.example.test/cpis/FHIR/R4"
    );
}

#[test]
fn machine_file_beats_user_file_for_services_demographics_url() {
    let config = machine_wins(
        "services.demographics_url",
        "\"https://pds.machine.example.test/personal-demographics/FHIR/R4\"",
        "\"https://pds.user.example.test/personal-demographics/FHIR/R4\"",
    );
    assert_eq!(
        config.services.demographics_url.as_str(),
        "https://pds.machine.example.test/personal-demographics/FHIR/R4"
    );
}

#[test]
fn machine_file_beats_user_file_for_services_audit_url() {
    let config = machine_wins(
        "services.audit_url",
        "\"https://audit.machine.example.test/audit/FHIR/R4\"",
        "\"https://audit.user.example.test/audit/FHIR/R4\"",
    );
    assert_eq!(
        config.services.audit_url.as_str(),
        "https://audit.machine.example.test/audit/FHIR/R4"
    );
}

#[test]
fn machine_file_beats_user_file_for_the_broker_url() {
    let config = machine_wins(
        "sign_in.broker_url",
        "\"https://broker.machine.example.test\"",
        "\"https://broker.user.example.test\"",
    );
    assert_eq!(
        config.sign_in.broker_url.as_str(),
        "https://broker.machine.example.test/"
    );
}

#[test]
fn machine_file_beats_user_file_for_tls_extra_ca_file() {
    let files = Files::new();
    let machine_ca = files.path("machine-ca.pem");
    let user_ca = files.path("user-ca.pem");
    std::fs::write(&machine_ca, TestPki::new("machine").ca_pem).expect("write");
    std::fs::write(&user_ca, TestPki::new("user").ca_pem).expect("write");
    let machine_value = format!("{:?}", machine_ca.display().to_string());
    let user_value = format!("{:?}", user_ca.display().to_string());
    files.machine(&[("tls.extra_ca_file", &machine_value)]);
    files.user(&[("tls.extra_ca_file", &user_value)]);
    let config = files.load(Defaults::None).expect("valid");
    let bundle = config.tls.extra_ca.as_ref().expect("the machine's bundle");
    assert_eq!(bundle.path(), machine_ca);
    assert_eq!(bundle.len(), 1);
    assert_eq!(ignored_fields(&config.origin), ["tls.extra_ca_file"]);
}

#[test]
fn machine_file_beats_user_file_for_tls_allow_http_loopback() {
    let config = machine_wins("tls.allow_http_loopback", "false", "true");
    assert!(!config.tls.allow_http_loopback);
}

#[test]
fn machine_file_beats_user_file_for_data_dir() {
    let config = machine_wins(
        "data_dir",
        "\"/var/lib/cpis-viewer/machine\"",
        "\"/home/someone/cpis-data\"",
    );
    assert_eq!(config.data_dir, Path::new("/var/lib/cpis-viewer/machine"));
}

#[test]
fn machine_file_beats_user_file_for_trust_organisation_name() {
    let config = machine_wins(
        "trust.organisation_name",
        "\"Northshire Hospitals NHS Foundation Trust (synthetic)\"",
        "\"Somewhere Else (synthetic)\"",
    );
    assert_eq!(
        config.trust.organisation_name.as_deref(),
        Some("Northshire Hospitals NHS Foundation Trust (synthetic)")
    );
}

#[test]
fn machine_file_beats_user_file_for_trust_downtime_procedure() {
    let config = machine_wins(
        "trust.downtime_procedure",
        "\"Use the paper safeguarding checklist.\\nPhone the safeguarding team.\"",
        "\"Carry on as normal.\"",
    );
    assert_eq!(
        config.trust.downtime_procedure,
        [
            "Use the paper safeguarding checklist.",
            "Phone the safeguarding team."
        ]
    );
}

#[test]
fn machine_file_beats_user_file_for_trust_safeguarding_in_hours_phone() {
    let config = machine_wins(
        "trust.safeguarding_in_hours_phone",
        "\"0114 496 0000\"",
        "\"0161 496 0000\"",
    );
    assert_eq!(
        config
            .trust
            .safeguarding_in_hours_phone
            .as_ref()
            .map(PhoneNumber::tel),
        Some("+441144960000")
    );
}

#[test]
fn machine_file_beats_user_file_for_trust_safeguarding_in_hours_times() {
    let config = machine_wins(
        "trust.safeguarding_in_hours_times",
        "\"Monday to Friday, 9am to 5pm\"",
        "\"Never\"",
    );
    assert_eq!(
        config.trust.safeguarding_in_hours_times.as_deref(),
        Some("Monday to Friday, 9am to 5pm")
    );
}

#[test]
fn machine_file_beats_user_file_for_trust_safeguarding_out_of_hours_phone() {
    let config = machine_wins(
        "trust.safeguarding_out_of_hours_phone",
        "\"0114 496 0999\"",
        "\"07700 900999\"",
    );
    assert_eq!(
        config
            .trust
            .safeguarding_out_of_hours_phone
            .as_ref()
            .map(PhoneNumber::display),
        Some("0114 496 0999")
    );
}

#[test]
fn a_users_protected_settings_are_ignored_even_when_invalid_or_unknown() {
    let files = Files::new();
    files.machine(&[]);
    files.user(&[
        ("services.cpis_url", "\"http://10.0.0.1/not-allowed\""),
        ("tls.extra_ca_file", "\"/nowhere/ca.pem\""),
        ("tls.verify", "false"),
        ("trust.safeguarding_in_hours_phone", "\"999\""),
        ("data_dir", "\"relative\""),
        ("lookup_deadline_ms", "2000"),
    ]);
    let config = files
        .load(Defaults::None)
        .expect("never an error that stops a clinician");
    assert_eq!(
        config.services.cpis_url.as_str(),
        "https://cpis.machine.example.test/cpis/FHIR/R4"
    );
    assert_eq!(config.tls.extra_ca, None);
    assert_eq!(config.lookup_deadline, Duration::from_millis(2000));
    let mut ignored = ignored_fields(&config.origin);
    ignored.sort_unstable();
    assert_eq!(
        ignored,
        [
            "data_dir",
            "services.cpis_url",
            "tls.extra_ca_file",
            "tls.verify",
            "trust.safeguarding_in_hours_phone"
        ]
    );
    // The notices name the field and both files, never the value.
    let notices = config.origin.notices().join("\n");
    assert!(notices.contains("`services.cpis_url`"), "{notices}");
    assert!(
        notices.contains(&files.machine_path().display().to_string()),
        "{notices}"
    );
    assert!(!notices.contains("10.0.0.1"), "{notices}");
}

#[test]
fn the_user_file_may_only_shorten_the_inactivity_lock() {
    let files = Files::new();
    files.machine(&[("lock_minutes", "15")]);
    files.user(&[("lock_minutes", "5")]);
    let config = files.load(Defaults::None).expect("valid");
    assert_eq!(config.lock_after, Duration::from_secs(5 * 60));
    assert!(config.origin.ignored.is_empty());

    files.user(&[("lock_minutes", "60")]);
    let config = files.load(Defaults::None).expect("valid");
    assert_eq!(config.lock_after, Duration::from_secs(15 * 60));
    assert_eq!(
        config.origin.ignored,
        [IgnoredSetting {
            field: "lock_minutes".into(),
            because: IgnoredBecause::LongerThanMachineWide,
        }]
    );

    // A machine-wide file that leaves the lock out keeps the built-in 15 minutes as the
    // ceiling: a user cannot lengthen what the trust left in place.
    files.machine(&[]);
    files.user(&[("lock_minutes", "30")]);
    let config = files.load(Defaults::None).expect("valid");
    assert_eq!(config.lock_after, Duration::from_secs(15 * 60));
    assert_eq!(ignored_fields(&config.origin), ["lock_minutes"]);
    files.user(&[("lock_minutes", "10")]);
    let config = files.load(Defaults::None).expect("valid");
    assert_eq!(config.lock_after, Duration::from_secs(10 * 60));
}

#[test]
fn the_lookup_deadline_may_be_set_by_either_file_and_the_users_wins() {
    let files = Files::new();
    files.machine(&[("lookup_deadline_ms", "4000")]);
    files.user(&[]);
    let config = files.load(Defaults::None).expect("valid");
    assert_eq!(config.lookup_deadline, Duration::from_millis(4000));
    files.user(&[("lookup_deadline_ms", "2500")]);
    let config = files.load(Defaults::None).expect("valid");
    assert_eq!(config.lookup_deadline, Duration::from_millis(2500));
    assert!(config.origin.ignored.is_empty());
}

#[test]
fn without_a_machine_file_the_user_file_sets_everything() {
    let files = Files::new();
    files.user(&with(
        &MACHINE_BASE,
        &[
            ("sign_in.broker_url", "\"https://broker.user.example.test\""),
            ("data_dir", "\"/home/someone/cpis-data\""),
            ("trust.organisation_name", "\"My Practice (synthetic)\""),
            ("lock_minutes", "60"),
        ],
    ));
    let config = files.load(Defaults::None).expect("valid");
    assert_eq!(config.origin.machine_file, None);
    assert_eq!(
        config.sign_in.broker_url.as_str(),
        "https://broker.user.example.test/"
    );
    assert_eq!(config.data_dir, Path::new("/home/someone/cpis-data"));
    assert_eq!(
        config.trust.organisation_name.as_deref(),
        Some("My Practice (synthetic)")
    );
    assert_eq!(config.lock_after, Duration::from_secs(60 * 60));
    assert!(config.origin.ignored.is_empty());
}

#[test]
fn the_files_in_use_are_described_for_the_status_area() {
    let files = Files::new();
    files.machine(&[]);
    files.user(&[("lookup_deadline_ms", "2500")]);
    let config = files.load(Defaults::None).expect("valid");
    assert_eq!(
        config.origin.describe_files(),
        [
            format!("{} (machine-wide)", files.machine_path().display()),
            format!("{} (your own)", files.user_path().display()),
        ]
    );
}

#[test]
fn release_defaults_are_absent_and_every_missing_setting_is_named() {
    let files = Files::new();
    let error = files
        .load(Defaults::None)
        .expect_err("a release build without configuration must not start");
    let ConfigError::NotConfigured {
        missing,
        machine_file,
        user_file,
    } = &error
    else {
        panic!("expected NotConfigured, got {error:?}");
    };
    assert_eq!(missing, &REQUIRED_SETTINGS.to_vec());
    assert_eq!(machine_file, &files.machine_path());
    assert_eq!(user_file.as_deref(), Some(files.user_path().as_path()));
    let message = error.to_string();
    for field in REQUIRED_SETTINGS {
        assert!(message.contains(&format!("`{field}`")), "{message}");
    }
    assert!(
        message.contains(&files.machine_path().display().to_string()),
        "{message}"
    );
    assert!(
        message.contains(&files.user_path().display().to_string()),
        "{message}"
    );
    assert!(!message.contains("127.0.0.1"), "{message}");
    assert_eq!(
        error.problems(),
        REQUIRED_SETTINGS
            .iter()
            .map(|field| format!("The setting `{field}` is missing."))
            .collect::<Vec<_>>()
    );
}

#[test]
fn release_defaults_name_only_the_settings_still_missing() {
    let files = Files::new();
    files.user(&[
        (
            "services.cpis_url",
            "\"https://cpis.example.test/cpis/FHIR/R4\"",
        ),
        ("sign_in.broker_url", "\"https://broker.example.test\""),
    ]);
    match files.load(Defaults::None) {
        Err(ConfigError::NotConfigured { missing, .. }) => {
            assert_eq!(missing, ["services.demographics_url", "services.audit_url"]);
        }
        other => panic!("expected NotConfigured, got {other:?}"),
    }
}

#[test]
fn a_release_build_has_no_built_in_broker() {
    let files = Files::new();
    files.machine(&with(
        &MACHINE_BASE,
        &[("sign_in.broker_url", "\"https://broker.example.test\"")],
    ));
    let config = files.load(Defaults::None).expect("valid");
    assert_eq!(
        config.sign_in.broker_url.as_str(),
        "https://broker.example.test/"
    );
    assert!(!config.tls.allow_http_loopback);
    let without = Files::new();
    without.write(
        "machine.toml",
        &MACHINE_BASE
            .iter()
            .copied()
            .filter(|(field, _)| *field != "sign_in.broker_url")
            .collect::<Vec<_>>(),
    );
    match without.load(Defaults::None) {
        Err(ConfigError::NotConfigured { missing, .. }) => {
            assert_eq!(missing, ["sign_in.broker_url"]);
        }
        other => panic!("expected NotConfigured, got {other:?}"),
    }
}

#[test]
fn the_old_oidc_table_is_refused_naming_it() {
    let files = Files::new();
    files.machine(&[("oidc.issuer", "\"https://idp.example.test\"")]);
    assert_eq!(field_error_of(files.load(Defaults::None)).0, "oidc");
}

#[test]
fn development_defaults_are_the_local_demo() {
    let files = Files::new();
    let config = files.load(Defaults::LocalDemo).expect("the local demo");
    assert_eq!(
        config.services.cpis_url.as_str(),
        "http://127.0.0.1:8080/cpis/FHIR/R4"
    );
    assert_eq!(config.sign_in.broker_url.as_str(), "http://127.0.0.1:9091/");
    assert!(config.tls.allow_http_loopback);
    assert!(config.origin.describe_files().is_empty());
}

fn field_error_of(result: Result<Config, ConfigError>) -> (String, PathBuf) {
    match result {
        Err(ConfigError::Field { field, file, .. }) => (field, file),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn plain_http_to_another_computer_is_refused_in_every_build() {
    for defaults in [Defaults::LocalDemo, Defaults::None] {
        for (field, value) in [
            (
                "services.cpis_url",
                "\"http://cpis.example.test/cpis/FHIR/R4\"",
            ),
            ("services.demographics_url", "\"http://10.1.2.3/pds\""),
            ("services.audit_url", "\"http://[2001:db8::1]/audit\""),
            ("sign_in.broker_url", "\"http://broker.example.test\""),
        ] {
            let files = Files::new();
            files.machine(&[(field, value), ("tls.allow_http_loopback", "true")]);
            let (named, file) = field_error_of(files.load(defaults));
            assert_eq!(named, field, "{defaults:?} {value}");
            assert_eq!(file, files.machine_path());
        }
    }
}

#[test]
fn plain_http_to_loopback_is_refused_without_the_explicit_setting_under_release_defaults() {
    let loopback = [
        (
            "services.cpis_url",
            "\"http://127.0.0.1:8080/cpis/FHIR/R4\"",
        ),
        (
            "services.demographics_url",
            "\"http://localhost:8080/personal-demographics/FHIR/R4\"",
        ),
        ("services.audit_url", "\"http://[::1]:8080/audit/FHIR/R4\""),
        ("sign_in.broker_url", "\"http://127.0.0.1:9091\""),
    ];
    let files = Files::new();
    files.user(&loopback);
    let error = files.load(Defaults::None).expect_err("refused");
    assert!(
        error.to_string().contains("allow_http_loopback"),
        "the message says which setting allows it: {error}"
    );
    assert_eq!(field_error_of(Err(error)).0, "services.cpis_url");

    files.user(&with(&loopback, &[("tls.allow_http_loopback", "true")]));
    let config = files.load(Defaults::None).expect("allowed explicitly");
    assert!(config.tls.allow_http_loopback);
    assert_eq!(config.sign_in.broker_url.as_str(), "http://127.0.0.1:9091/");
}

#[test]
fn plain_http_to_loopback_can_be_refused_in_a_development_build_too() {
    let files = Files::new();
    files.user(&[
        ("tls.allow_http_loopback", "false"),
        ("sign_in.broker_url", "\"http://127.0.0.1:9091\""),
    ]);
    assert_eq!(
        field_error_of(files.load(Defaults::LocalDemo)).0,
        "sign_in.broker_url"
    );
}

#[test]
fn a_bad_phone_number_is_refused_naming_the_field() {
    for field in [
        "trust.safeguarding_in_hours_phone",
        "trust.safeguarding_out_of_hours_phone",
    ] {
        for bad in [
            "\"999\"",
            "\"0114 496 00\"",
            "\"+1 212 555 0100\"",
            "\"call the office\"",
            "\"\"",
            "1144960000",
        ] {
            let files = Files::new();
            files.machine(&[(field, bad)]);
            let (named, file) = field_error_of(files.load(Defaults::None));
            assert_eq!(named, field, "{bad}");
            assert_eq!(file, files.machine_path());
        }
    }
}

#[test]
fn over_long_or_unprintable_trust_text_is_refused_naming_the_field() {
    let long_name = format!("\"{}\"", "N".repeat(81));
    let long_times = format!("\"{}\"", "9am to 5pm ".repeat(8));
    let long_procedure = format!("\"{}\"", "Use the paper form. ".repeat(31));
    let many_lines = format!("\"{}\"", "Step.\\n".repeat(9));
    let cases = [
        ("trust.organisation_name", long_name.as_str()),
        ("trust.organisation_name", "\"Two\\nlines\""),
        ("trust.organisation_name", "\"   \""),
        ("trust.safeguarding_in_hours_times", long_times.as_str()),
        ("trust.safeguarding_in_hours_times", "\"9am\\tto 5pm\""),
        ("trust.downtime_procedure", long_procedure.as_str()),
        ("trust.downtime_procedure", many_lines.as_str()),
        ("trust.downtime_procedure", "\"Bell\\u0007\""),
        ("trust.downtime_procedure", "[\"a list\"]"),
    ];
    for (field, value) in cases {
        let files = Files::new();
        files.machine(&[(field, value)]);
        let error = files.load(Defaults::None).expect_err(value);
        assert!(error.to_string().contains(&format!("`{field}`")), "{error}");
        assert_eq!(field_error_of(Err(error)).0, field, "{value}");
    }
}

#[test]
fn an_invalid_machine_file_names_the_field_and_the_file() {
    let files = Files::new();
    files.machine(&[("lock_minutes", "0")]);
    let error = files.load(Defaults::None).expect_err("invalid");
    assert_eq!(
        error.to_string(),
        format!(
            "configuration field `lock_minutes` in {} must be a whole number from 1 to 720",
            files.machine_path().display()
        )
    );
}

#[test]
fn a_missing_or_unusable_extra_ca_file_is_refused_naming_the_field() {
    let files = Files::new();
    let text = files.path("not-pem.pem");
    std::fs::write(&text, "just some words\n").expect("write");
    let empty = files.path("empty.pem");
    std::fs::write(&empty, "").expect("write");
    let garbage = files.path("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let missing = files.path("missing.pem");
    for path in [
        &text,
        &empty,
        &garbage,
        &missing,
        &files.directory.path().to_path_buf(),
    ] {
        let value = format!("{:?}", path.display().to_string());
        files.machine(&[("tls.extra_ca_file", &value)]);
        let (named, _) = field_error_of(files.load(Defaults::None));
        assert_eq!(named, "tls.extra_ca_file", "{}", path.display());
    }
    files.machine(&[("tls.extra_ca_file", "\"relative/ca.pem\"")]);
    assert_eq!(
        field_error_of(files.load(Defaults::None)).0,
        "tls.extra_ca_file"
    );
}
