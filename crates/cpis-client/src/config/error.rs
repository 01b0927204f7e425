//! The configuration's errors: each names the field and the file, or which settings are missing
//! and where the files go; none holds a value from a file.

use std::path::{Path, PathBuf};

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
