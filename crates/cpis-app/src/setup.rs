//! The app before and without its core: when the configuration is missing or invalid (or the
//! core cannot start) the window still opens and shows what to set and where, and no core
//! exists, so nothing is contacted. Every command the shell offers has an answer here that
//! cannot panic: signed out, the default settings, or a fixed, safe error.

use std::sync::Arc;

use cpis_client::{Config, ConfigError, ConfigLocations};
use cpis_ipc::{
    AuditStatusView, IpcError, IpcErrorCode, SessionView, SetupProblemView, StatusView,
    TrustContactsView, UiSettings,
};

use crate::{AppCore, StartError};

/// The app as the shell holds it: a working core, or why there is none.
#[derive(Debug)]
pub enum App {
    /// Configured and started.
    Ready(Arc<AppCore>),
    /// Not set up: no core, no network; the UI shows the problem.
    SetupNeeded {
        /// What to show.
        problem: SetupProblemView,
        /// The app's version, for the status bar.
        version: String,
    },
}

/// The error every core command answers while the app is not set up.
pub fn not_set_up_error() -> IpcError {
    IpcError::new(IpcErrorCode::NotSetUp)
}

/// The setup screen's view of a configuration problem: the problems one by one, and where the
/// machine-wide and the user's files go.
pub fn setup_problem_view(problems: Vec<String>, locations: &ConfigLocations) -> SetupProblemView {
    SetupProblemView {
        problems,
        machine_file: locations.machine_file.display().to_string(),
        user_file: locations
            .user_file
            .as_ref()
            .map(|path| path.display().to_string()),
    }
}

impl App {
    /// Start from a loaded configuration. With a configuration problem `start_core` is never
    /// called; with one, its failure is a setup problem too (never a silent exit).
    pub fn start(
        loaded: Result<Config, ConfigError>,
        locations: &ConfigLocations,
        version: String,
        start_core: impl FnOnce(Config) -> Result<AppCore, StartError>,
    ) -> App {
        let config = match loaded {
            Ok(config) => config,
            Err(error) => {
                tracing::error!(%error, "the configuration is missing or invalid; nothing will be contacted");
                return App::SetupNeeded {
                    problem: setup_problem_view(error.problems(), locations),
                    version,
                };
            }
        };
        for ignored in &config.origin.ignored {
            tracing::warn!(
                field = %ignored.field,
                because = ?ignored.because,
                "a setting in the user's own configuration file is ignored"
            );
        }
        match start_core(config) {
            Ok(core) => App::Ready(Arc::new(core)),
            Err(error) => {
                tracing::error!(%error, "the app's core could not start");
                App::SetupNeeded {
                    problem: setup_problem_view(
                        vec![format!("The app could not start: {error}.")],
                        locations,
                    ),
                    version,
                }
            }
        }
    }

    /// The problem to show, or `None` when the app is set up.
    pub fn setup_problem(&self) -> Option<SetupProblemView> {
        match self {
            App::Ready(_) => None,
            App::SetupNeeded { problem, .. } => Some(problem.clone()),
        }
    }

    /// The core, for a command that needs it.
    pub fn core(&self) -> Result<Arc<AppCore>, IpcError> {
        match self {
            App::Ready(core) => Ok(Arc::clone(core)),
            App::SetupNeeded { .. } => Err(not_set_up_error()),
        }
    }

    /// Who is signed in: nobody, when not set up.
    pub fn session_view(&self) -> SessionView {
        match self {
            App::Ready(core) => core.session_view(),
            App::SetupNeeded { .. } => SessionView::SignedOut,
        }
    }

    /// Sign out (nothing to do when not set up).
    pub async fn sign_out(&self) -> SessionView {
        match self {
            App::Ready(core) => core.sign_out().await,
            App::SetupNeeded { .. } => SessionView::SignedOut,
        }
    }

    /// Lock (nothing to do when not set up).
    pub async fn lock(&self) -> SessionView {
        match self {
            App::Ready(core) => core.lock().await,
            App::SetupNeeded { .. } => SessionView::SignedOut,
        }
    }

    /// Cancel a waiting sign-in (there is none when not set up).
    pub fn cancel_sign_in(&self) {
        if let App::Ready(core) = self {
            core.cancel_sign_in();
        }
    }

    /// Settings the UI needs: the defaults, without the trust's words, when not set up.
    pub fn ui_settings(&self) -> UiSettings {
        match self {
            App::Ready(core) => core.ui_settings(),
            App::SetupNeeded { .. } => UiSettings {
                lock_minutes: u32::try_from(cpis_client::config::DEFAULT_LOCK_MINUTES)
                    .unwrap_or(15),
                organisation_display_name: None,
                trust: TrustContactsView {
                    downtime_procedure: Vec::new(),
                    safeguarding_in_hours: None,
                    safeguarding_in_hours_times: None,
                    safeguarding_out_of_hours: None,
                },
            },
        }
    }

    /// The status bar: the version only, when not set up (no queue is opened).
    pub fn status(&self) -> StatusView {
        match self {
            App::Ready(core) => core.status(),
            App::SetupNeeded { version, .. } => StatusView {
                version: version.clone(),
                services_reachable: None,
                audit: AuditStatusView {
                    waiting: 0,
                    oldest_waiting_minutes: None,
                    last_success: None,
                    quarantined: 0,
                    warning: false,
                    unreadable_files: 0,
                    queue_error: None,
                },
                config_files: Vec::new(),
            },
        }
    }
}
