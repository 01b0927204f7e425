//! Which files the configuration came from, and the settings of the user's file that were not
//! used (named, never their values), with the sentences that tell the user so.

use std::path::PathBuf;

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
