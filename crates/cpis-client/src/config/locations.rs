//! Where the configuration files are: the machine-wide file at a fixed path per platform, the
//! user's file (`--config`, `CPIS_CONFIG` or the platform config folder), and the default data
//! folder.

use std::path::{Path, PathBuf};

use super::{CONFIG_ENV, ConfigError};

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

pub(super) fn default_data_dir() -> Result<PathBuf, ConfigError> {
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
