//! The desktop shell: creates the window, registers the commands, and nothing else.
//!
//! Architecture invariant: this crate is thin. Every command is a few lines that call
//! `cpis-app` (or `cpis-ipc`) and return IPC types; logic lives in `crates/`.

use std::sync::Arc;

use cpis_app::{App, AppCore};
use cpis_client::{Config, ConfigLocations, Defaults};
use cpis_ipc::{
    IpcError, LaContactRequest, LookupResponse, ReviewPeriod, ReviewView, SessionView,
    SetupProblemView, StatusView, UiSettings,
};
use tauri::{Manager, State, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_opener::OpenerExt;

/// The app (its core, or why there is none), shared by every command.
struct Core(App);

/// Why the app is not set up on this computer, or `None` when it is. The UI asks first.
#[tauri::command]
fn setup_problem(core: State<'_, Core>) -> Option<SetupProblemView> {
    core.0.setup_problem()
}

/// Who is signed in.
#[tauri::command]
fn session_state(core: State<'_, Core>) -> SessionView {
    core.0.session_view()
}

/// Sign in through the system browser.
#[tauri::command]
async fn sign_in(app: tauri::AppHandle, core: State<'_, Core>) -> Result<SessionView, IpcError> {
    let core = core.0.core()?;
    core.sign_in(move |url| app.opener().open_url(url, None::<&str>).is_ok())
        .await
}

/// Cancel a sign-in that is waiting for the browser.
#[tauri::command]
fn cancel_sign_in(core: State<'_, Core>) {
    core.0.cancel_sign_in();
}

/// Sign out: the session is forgotten here (memory and keyring) and ended at the broker.
#[tauri::command]
async fn sign_out(core: State<'_, Core>) -> Result<SessionView, IpcError> {
    Ok(core.0.sign_out().await)
}

/// Lock after inactivity: as sign-out, and the window says it is locked.
#[tauri::command]
async fn lock(core: State<'_, Core>) -> Result<SessionView, IpcError> {
    Ok(core.0.lock().await)
}

/// Input in the window (the UI's inactivity timer, rate-limited): refused as locked past the
/// inactivity limit.
#[tauri::command]
fn report_activity(core: State<'_, Core>) -> Result<(), IpcError> {
    core.0.report_activity()
}

// Every command that gives or records patient data takes the core through `active_core`,
// which refuses as locked a session idle past the inactivity limit (a test holds them to it).

/// Look a patient up.
#[tauri::command]
async fn lookup(input: String, core: State<'_, Core>) -> Result<LookupResponse, IpcError> {
    let core = core.0.active_core()?;
    Ok(core.lookup(&input).await)
}

/// Record that the local authority was contacted.
#[tauri::command]
fn record_la_contact(request: LaContactRequest, core: State<'_, Core>) -> Result<(), IpcError> {
    core.0.active_core()?.record_la_contact(&request)
}

/// What the status bar shows.
#[tauri::command]
fn status(core: State<'_, Core>) -> StatusView {
    core.0.status()
}

/// The named nurse review of views with plans found at the user's organisation.
#[tauri::command]
async fn review(period: ReviewPeriod, core: State<'_, Core>) -> Result<ReviewView, IpcError> {
    let core = core.0.active_core()?;
    core.review(period).await
}

/// Save the review as CSV in the user's downloads folder; returns the file's path.
#[tauri::command]
async fn save_review_csv(
    period: ReviewPeriod,
    app: tauri::AppHandle,
    core: State<'_, Core>,
) -> Result<String, IpcError> {
    let folder = app
        .path()
        .download_dir()
        .map_err(|_| IpcError::unexpected())?;
    let core = core.0.active_core()?;
    core.save_review_csv(period, &folder).await
}

/// Settings the UI needs.
#[tauri::command]
fn ui_settings(core: State<'_, Core>) -> UiSettings {
    core.0.ui_settings()
}

/// The invoke handler for `$command`s, and their names as [`REGISTERED`], so that a test can
/// hold the handler list to the one shared list ([`cpis_ipc::COMMANDS`]).
macro_rules! commands {
    ($($command:ident),* $(,)?) => {
        /// The names of the commands the handler registers, in order.
        #[cfg_attr(not(test), allow(dead_code))]
        const REGISTERED: &[&str] = &[$(stringify!($command)),*];

        /// The handler that routes each registered command.
        fn invoke_handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($command),*]
        }
    };
}

commands![
    setup_problem,
    session_state,
    sign_in,
    cancel_sign_in,
    sign_out,
    lock,
    report_activity,
    lookup,
    record_la_contact,
    status,
    ui_settings,
    review,
    save_review_csv,
];

/// Whether the main window may navigate to `url`: only the app's own bundled pages.
pub fn is_app_url(url: &tauri::Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
    }
}

/// Logs go to stderr, with HTTP libraries silenced (their traces could carry headers).
fn init_logging() {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    for quiet in [
        "hyper=off",
        "hyper_util=off",
        "reqwest=off",
        "h2=off",
        "rustls=off",
    ] {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Start the app.
pub fn run() {
    // No offset is read here: UK dates and times come from the tz rules at each instant
    // (cpis_domain::uk_time), so they stay right when the clocks change in a running app.
    init_logging();
    // The machine-wide file, the user's own (CPIS_CONFIG or the platform config folder) and,
    // in a debug build only, the local demo's defaults. A problem does not stop the window:
    // the UI asks `setup_problem` and shows what to set and where; no core, no network.
    let locations = ConfigLocations::for_this_computer(None);
    let loaded = Config::load_from(&locations, Defaults::for_this_build());
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(invoke_handler())
        .setup(move |app| {
            let version = app.package_info().version.to_string();
            // CPIS_KEYRING_SERVICE names another keyring entry (as for `cpis`): tests and
            // side-by-side installs keep their sessions apart.
            let store = match std::env::var("CPIS_KEYRING_SERVICE") {
                Ok(service) if !service.is_empty() => {
                    cpis_client::KeyringTokenStore::new(service, "session")
                }
                _ => cpis_client::KeyringTokenStore::default(),
            };
            let started = App::start(loaded, &locations, version.clone(), |config| {
                AppCore::new(config, store, version)
            });
            if let App::Ready(core) = &started {
                tauri::async_runtime::spawn(Arc::clone(core).run_audit_sync());
                tauri::async_runtime::spawn(
                    Arc::clone(core).run_idle_lock(cpis_app::IDLE_CHECK_EVERY),
                );
            }
            app.manage(Core(started));
            let handle = app.handle().clone();
            WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
                .title("CP-IS Viewer")
                .inner_size(1100.0, 820.0)
                .min_inner_size(360.0, 480.0)
                .on_navigation(move |url| {
                    // A phone number link goes to the system's dialler; nothing else leaves the app.
                    if url.scheme() == "tel" {
                        let _ = handle.opener().open_url(url.as_str(), None::<&str>);
                        return false;
                    }
                    is_app_url(url)
                })
                .build()?;
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("CP-IS Viewer could not start: {error}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_json(path: &str) -> serde_json::Value {
        let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        let text = std::fs::read_to_string(&full).expect("readable");
        serde_json::from_str(&text).expect("JSON")
    }

    #[test]
    fn the_capability_grants_exactly_the_apps_own_commands() {
        let capability = read_json("capabilities/main.json");
        assert_eq!(capability["windows"], serde_json::json!(["main"]));
        let mut granted: Vec<String> = capability["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .map(|permission| permission.as_str().expect("a name").to_string())
            .collect();
        let mut expected: Vec<String> = cpis_ipc::COMMANDS
            .iter()
            .map(|command| format!("allow-{}", command.replace('_', "-")))
            .collect();
        granted.sort();
        expected.sort();
        assert_eq!(granted, expected, "no core, plugin or extra permissions");
    }

    #[test]
    fn the_handler_registers_exactly_the_shared_commands() {
        assert_eq!(REGISTERED, cpis_ipc::COMMANDS.as_slice());
    }

    /// The commands that may take the core without the inactivity lock's guard
    /// (`App::active_core`): signing in (the lock screen's way out) and nothing else.
    const UNGUARDED: &[&str] = &["sign_in"];

    #[test]
    fn every_command_that_uses_the_core_passes_the_inactivity_lock() {
        let source = include_str!("lib.rs");
        // Written in two pieces so that this line is not taken for a command.
        let commands = source
            .split(concat!("#[tauri", "::command]"))
            .skip(1)
            .map(|rest| {
                let name = rest
                    .split("fn ")
                    .nth(1)
                    .and_then(|after| after.split('(').next())
                    .expect("a command's name");
                let body = rest.split("\n}\n").next().expect("a command's body");
                (name, body)
            })
            .collect::<Vec<_>>();
        assert_eq!(commands.len(), REGISTERED.len(), "every command is read");
        for (name, body) in commands {
            let unguarded = body.contains(".core()");
            assert_eq!(
                unguarded,
                UNGUARDED.contains(&name),
                "`{name}` must take the core through `active_core`"
            );
        }
        for guarded in ["lookup", "record_la_contact", "review", "save_review_csv"] {
            let body = source
                .split(&format!("fn {guarded}("))
                .nth(1)
                .and_then(|rest| rest.split("\n}\n").next())
                .expect("the command");
            assert!(body.contains(".active_core()?"), "{guarded}");
        }
    }

    #[test]
    fn the_csp_and_security_settings_stay_strict() {
        let config = read_json("../tauri.conf.json");
        let security = &config["app"]["security"];
        assert_eq!(security["freezePrototype"], true);
        assert_eq!(config["app"]["withGlobalTauri"], false);
        assert!(
            security
                .get("dangerousDisableAssetCspModification")
                .is_none()
        );
        let csp = security["csp"].as_object().expect("the CSP is explicit");
        for directive in [
            "default-src",
            "script-src",
            "style-src",
            "frame-src",
            "object-src",
        ] {
            assert!(csp.contains_key(directive), "{directive} must be set");
        }
        assert_eq!(csp["frame-src"], "'none'");
        assert_eq!(csp["object-src"], "'none'");
        assert_eq!(csp["base-uri"], "'none'");
        for (directive, value) in csp {
            let value = value.as_str().expect("a string");
            for source in value.split_whitespace() {
                let allowed = matches!(source, "'self'" | "'none'" | "data:")
                    || (directive == "connect-src"
                        && matches!(source, "ipc:" | "http://ipc.localhost"));
                assert!(
                    allowed,
                    "{directive} allows {source}: no remote origins, no unsafe-*"
                );
            }
        }
    }

    #[test]
    fn devtools_are_not_compiled_in() {
        let manifest = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"),
        )
        .expect("Cargo.toml");
        assert!(
            !manifest.contains("devtools"),
            "the devtools feature must stay off"
        );
    }

    #[test]
    fn navigation_is_limited_to_the_app_itself() {
        let allowed = ["tauri://localhost/index.html", "http://tauri.localhost/"];
        let refused = [
            "https://example.org/",
            "http://localhost:5173/",
            "file:///etc/passwd",
            "tauri://evil/",
            "javascript:alert(1)",
        ];
        for url in allowed {
            assert!(is_app_url(&url.parse().expect("url")), "{url}");
        }
        for url in refused {
            assert!(!is_app_url(&url.parse().expect("url")), "{url}");
        }
    }
}
