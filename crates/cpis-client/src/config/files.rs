//! Reading one file: which settings exist and who may set them (the machine-wide file only, or
//! the user's too), splitting a file into its settings, and setting aside a user's setting that
//! only the machine-wide file may set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{ConfigError, IgnoredBecause, IgnoredSetting};

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
const SETTINGS: [(&str, Rule); 14] = [
    ("services.cpis_url", Rule::MachineWideOnly),
    ("services.demographics_url", Rule::MachineWideOnly),
    ("services.audit_url", Rule::MachineWideOnly),
    ("sign_in.broker_url", Rule::MachineWideOnly),
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
const TABLES: [&str; 4] = ["services", "sign_in", "tls", "trust"];

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
pub(super) struct FileValues {
    pub(super) path: PathBuf,
    pub(super) values: BTreeMap<&'static str, toml::Value>,
}

pub(super) fn field_error(field: &str, file: &Path, problem: impl Into<String>) -> ConfigError {
    ConfigError::Field {
        field: field.to_owned(),
        file: file.to_path_buf(),
        problem: problem.into(),
    }
}

/// Split a file into its settings. With `machine_wide_elsewhere`, this is a user's file on a
/// computer with a machine-wide file: every machine-wide-only setting (known or not, valid or
/// not) is set aside as ignored instead of read.
pub(super) fn read_values(
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
pub(super) struct Chosen<'a> {
    pub(super) values: BTreeMap<&'static str, (&'a toml::Value, &'a Path)>,
}

impl<'a> Chosen<'a> {
    pub(super) fn get(&self, field: &str) -> Option<(&'a toml::Value, &'a Path)> {
        self.values.get(field).copied()
    }
}
