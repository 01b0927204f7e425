//! `cpis config`: the configuration in use, its files and ignored settings, as JSON and text.

use cpis_client::config::{IgnoredBecause, PhoneNumber};
use cpis_client::{Config, ConfigError, ConfigLocations};
use serde::Serialize;

/// The `--json` object of `cpis config`. Every key is always present.
#[derive(Debug, Serialize)]
pub struct ConfigJson {
    /// `true` when the configuration is complete and valid (exit status 0).
    pub configured: bool,
    /// What is missing or wrong, one entry each (empty when `configured`).
    pub problems: Vec<String>,
    /// Where the machine-wide file goes on this computer (used when it exists).
    pub machine_file: String,
    /// Where the user's own file is looked for, if anywhere.
    pub user_file: Option<String>,
    /// The files read: `{path, kind}` with `kind` `machine_wide` or `user`.
    pub files_used: Vec<ConfigFileJson>,
    /// Settings in the user's file that were not used.
    pub ignored: Vec<IgnoredJson>,
    /// The settings in effect, when `configured`.
    pub settings: Option<SettingsJson>,
}

/// A configuration file that was read.
#[derive(Debug, Serialize)]
pub struct ConfigFileJson {
    path: String,
    kind: &'static str,
}

/// A user's setting that was not used.
#[derive(Debug, Serialize)]
pub struct IgnoredJson {
    field: String,
    /// `machine_wide_only` or `longer_than_machine_wide`.
    reason: &'static str,
    notice: String,
}

/// The settings in effect.
#[derive(Debug, Serialize)]
pub struct SettingsJson {
    services: ServicesJson,
    sign_in: SignInJson,
    tls: TlsJson,
    lookup_deadline_ms: u128,
    lock_minutes: u64,
    data_dir: String,
    trust: TrustJson,
}

#[derive(Debug, Serialize)]
struct ServicesJson {
    cpis_url: String,
    demographics_url: String,
    audit_url: String,
}

#[derive(Debug, Serialize)]
struct SignInJson {
    broker_url: String,
    /// The app's client id at the broker (fixed).
    client_id: &'static str,
}

#[derive(Debug, Serialize)]
struct TlsJson {
    allow_http_loopback: bool,
    extra_ca_file: Option<String>,
    extra_ca_certificates: usize,
}

#[derive(Debug, Serialize)]
struct PhoneJson {
    display: String,
    tel: String,
}

#[derive(Debug, Serialize)]
struct TrustJson {
    organisation_name: Option<String>,
    downtime_procedure: Vec<String>,
    safeguarding_in_hours_phone: Option<PhoneJson>,
    safeguarding_in_hours_times: Option<String>,
    safeguarding_out_of_hours_phone: Option<PhoneJson>,
}

fn phone_json(phone: Option<&PhoneNumber>) -> Option<PhoneJson> {
    phone.map(|phone| PhoneJson {
        display: phone.display().to_owned(),
        tel: phone.tel().to_owned(),
    })
}

impl ConfigJson {
    fn empty(locations: &ConfigLocations) -> ConfigJson {
        ConfigJson {
            configured: false,
            problems: Vec::new(),
            machine_file: locations.machine_file.display().to_string(),
            user_file: locations
                .user_file
                .as_ref()
                .map(|path| path.display().to_string()),
            files_used: Vec::new(),
            ignored: Vec::new(),
            settings: None,
        }
    }

    /// The object for a configuration that loaded.
    pub fn loaded(locations: &ConfigLocations, config: &Config) -> ConfigJson {
        let origin = &config.origin;
        let files_used = origin
            .machine_file
            .iter()
            .map(|path| (path, "machine_wide"))
            .chain(origin.user_file.iter().map(|path| (path, "user")))
            .map(|(path, kind)| ConfigFileJson {
                path: path.display().to_string(),
                kind,
            })
            .collect();
        let ignored = origin
            .ignored
            .iter()
            .zip(origin.notices())
            .map(|(ignored, notice)| IgnoredJson {
                field: ignored.field.clone(),
                reason: match ignored.because {
                    IgnoredBecause::MachineWideOnly => "machine_wide_only",
                    IgnoredBecause::LongerThanMachineWide => "longer_than_machine_wide",
                },
                notice,
            })
            .collect();
        let trust = &config.trust;
        ConfigJson {
            configured: true,
            files_used,
            ignored,
            settings: Some(SettingsJson {
                services: ServicesJson {
                    cpis_url: config.services.cpis_url.to_string(),
                    demographics_url: config.services.demographics_url.to_string(),
                    audit_url: config.services.audit_url.to_string(),
                },
                sign_in: SignInJson {
                    broker_url: config.sign_in.broker_url.to_string(),
                    client_id: cpis_client::sign_in::CLIENT_ID,
                },
                tls: TlsJson {
                    allow_http_loopback: config.tls.allow_http_loopback,
                    extra_ca_file: config
                        .tls
                        .extra_ca
                        .as_ref()
                        .map(|bundle| bundle.path().display().to_string()),
                    extra_ca_certificates: config.tls.extra_ca.as_ref().map_or(0, |b| b.len()),
                },
                lookup_deadline_ms: config.lookup_deadline.as_millis(),
                lock_minutes: config.lock_after.as_secs() / 60,
                data_dir: config.data_dir.display().to_string(),
                trust: TrustJson {
                    organisation_name: trust.organisation_name.clone(),
                    downtime_procedure: trust.downtime_procedure.clone(),
                    safeguarding_in_hours_phone: phone_json(
                        trust.safeguarding_in_hours_phone.as_ref(),
                    ),
                    safeguarding_in_hours_times: trust.safeguarding_in_hours_times.clone(),
                    safeguarding_out_of_hours_phone: phone_json(
                        trust.safeguarding_out_of_hours_phone.as_ref(),
                    ),
                },
            }),
            ..ConfigJson::empty(locations)
        }
    }

    /// The object for a configuration that is missing or invalid (exit status 2).
    pub fn problem(locations: &ConfigLocations, error: &ConfigError) -> ConfigJson {
        ConfigJson {
            problems: error.problems(),
            ..ConfigJson::empty(locations)
        }
    }
}

/// The plain-text form of `cpis config`.
pub fn config_text(config: &Config) -> String {
    let mut out = String::from("Configuration files in use:\n");
    let files = config.origin.describe_files();
    if files.is_empty() {
        out.push_str("  none: the built-in settings of a development build (the local demo)\n");
    }
    for file in files {
        out.push_str(&format!("  {file}\n"));
    }
    let notices = config.origin.notices();
    if !notices.is_empty() {
        out.push_str("\nIgnored settings:\n");
        for notice in notices {
            out.push_str(&format!("  {notice}\n"));
        }
    }
    let not_set = || "not set".to_owned();
    let phone = |phone: Option<&PhoneNumber>| {
        phone.map_or_else(not_set, |phone| {
            format!("{} (dials {})", phone.display(), phone.tel())
        })
    };
    let trust = &config.trust;
    let settings = [
        ("services.cpis_url", config.services.cpis_url.to_string()),
        (
            "services.demographics_url",
            config.services.demographics_url.to_string(),
        ),
        ("services.audit_url", config.services.audit_url.to_string()),
        ("sign_in.broker_url", config.sign_in.broker_url.to_string()),
        (
            "tls.allow_http_loopback",
            config.tls.allow_http_loopback.to_string(),
        ),
        (
            "tls.extra_ca_file",
            config.tls.extra_ca.as_ref().map_or_else(not_set, |bundle| {
                format!(
                    "{} ({} certificate{})",
                    bundle.path().display(),
                    bundle.len(),
                    if bundle.len() == 1 { "" } else { "s" }
                )
            }),
        ),
        (
            "lookup_deadline_ms",
            config.lookup_deadline.as_millis().to_string(),
        ),
        (
            "lock_minutes",
            (config.lock_after.as_secs() / 60).to_string(),
        ),
        ("data_dir", config.data_dir.display().to_string()),
        (
            "trust.organisation_name",
            trust.organisation_name.clone().unwrap_or_else(not_set),
        ),
        (
            "trust.safeguarding_in_hours_phone",
            phone(trust.safeguarding_in_hours_phone.as_ref()),
        ),
        (
            "trust.safeguarding_in_hours_times",
            trust
                .safeguarding_in_hours_times
                .clone()
                .unwrap_or_else(not_set),
        ),
        (
            "trust.safeguarding_out_of_hours_phone",
            phone(trust.safeguarding_out_of_hours_phone.as_ref()),
        ),
    ];
    out.push_str("\nSettings in effect:\n");
    for (name, value) in settings {
        out.push_str(&format!("  {name} = {value}\n"));
    }
    if trust.downtime_procedure.is_empty() {
        out.push_str("  trust.downtime_procedure = not set\n");
    } else {
        out.push_str("  trust.downtime_procedure =\n");
        for paragraph in &trust.downtime_procedure {
            out.push_str(&format!("    {paragraph}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_text_lists_ignored_settings_without_their_values() {
        let mut config = Config::from_toml(
            "data_dir = \"/tmp/cpis\"",
            std::path::Path::new("/home/x/c.toml"),
        )
        .expect("valid");
        config.origin.machine_file = Some("/etc/cpis-viewer/config.toml".into());
        config.origin.ignored = vec![cpis_client::config::IgnoredSetting {
            field: "services.cpis_url".into(),
            because: IgnoredBecause::MachineWideOnly,
        }];
        let text = config_text(&config);
        assert!(text.starts_with(
            "Configuration files in use:\n  /etc/cpis-viewer/config.toml (machine-wide)\n  /home/x/c.toml (your own)\n"
        ), "{text}");
        assert!(text.contains(
            "Ignored settings:\n  the setting `services.cpis_url` in /home/x/c.toml is ignored: on this computer only /etc/cpis-viewer/config.toml may set it\n"
        ), "{text}");
        assert!(
            text.contains("  trust.downtime_procedure = not set\n"),
            "{text}"
        );
        assert!(
            text.contains("  sign_in.broker_url = http://127.0.0.1:9091/\n"),
            "{text}"
        );
        assert!(!text.contains("oidc"), "{text}");
    }
}
