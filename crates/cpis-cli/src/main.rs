//! `cpis`, the CP-IS Viewer command line: sign in, sign out, who am I, look up an NHS
//! number, and show the configuration, over the same crates as the desktop app.
//!
//! Exit status: 0 a definitive answer (plans found, or no plan); 2 invalid input or usage, or
//! a missing or invalid configuration; 3 the plans were not checked (could not check, or
//! person not found); 4 sign-in needed (not signed in, session ended, session locked after
//! `lock_minutes` without activity, or the selected role cannot look up).
//!
//! The inactivity lock is the app's, on the session they share in the keyring: a session idle
//! for `lock_minutes` is refused and removed (exit 4), never refreshed or used. A lookup is
//! activity (the same clinician at the same workstation) and is recorded in the keyring;
//! `whoami` and `audit sync` are not (a script or a timer may run them), so they never keep a
//! walked-away clinician's session open. Once the app has locked, the keyring holds no session
//! and `cpis` cannot bring one back: only signing in again can.

mod audit_commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use cpis_client::sign_in::DEFAULT_SIGN_IN_WAIT;
use cpis_client::{
    Activity, AlertClient, Broker, Config, ConfigError, ConfigLocations, Defaults,
    KeyringTokenStore, LookupPermission, LoopbackRedirect, Secret, SessionError, SessionLimits,
    SignInError, SignedInUser,
};
use cpis_domain::{CouldNotCheckReason, LookupOutcome, NhsNumber};
use time::OffsetDateTime;

use crate::output::{ConfigJson, LookupJson, WhoamiJson};

/// Exit status: a definitive answer.
const EXIT_DEFINITIVE: u8 = 0;
/// Exit status: invalid input or usage (clap uses 2 for usage errors too), or a missing or
/// invalid configuration.
const EXIT_INVALID: u8 = 2;
/// Exit status: the plans were not checked.
const EXIT_NOT_CHECKED: u8 = 3;
/// Exit status: sign-in needed.
const EXIT_SIGN_IN: u8 = 4;

/// Environment variable with an access token for automation. Never printed or logged.
const ACCESS_TOKEN_ENV: &str = "CPIS_ACCESS_TOKEN";
/// Environment variable naming the keyring service (tests and side-by-side installs).
const KEYRING_SERVICE_ENV: &str = "CPIS_KEYRING_SERVICE";

#[derive(Debug, Parser)]
#[command(
    name = "cpis",
    version,
    about = "CP-IS Viewer command line: check whether a child has a child protection plan"
)]
struct Cli {
    /// Your own configuration file (TOML). Default: $CPIS_CONFIG, else the platform config
    /// folder. A machine-wide file, when there is one, decides the services, sign-in, TLS,
    /// data folder and the trust's contacts whatever this file says.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Log to stderr why an answer was refused: which step (demographics, care_team,
    /// access_history) and which element, as a stable code, never a value or patient data
    /// (the client's debug lines, target `cpis_client`). `RUST_LOG` sets the rest.
    #[arg(short, long, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in through the browser and the trust's token broker (PKCE and a loopback
    /// redirect; the broker signs you in at the NHS Care Identity Service).
    Login {
        /// Do not open a browser: print the address and wait for the redirect.
        #[arg(long)]
        no_browser: bool,
        /// Suggest a user to the identity provider (the development provider signs that
        /// synthetic user in without a page).
        #[arg(long, value_name = "USER")]
        login_hint: Option<String>,
    },
    /// Sign out: remove the session from the OS keyring and end it at the broker.
    Logout,
    /// Show who is signed in, with which role, and whether they can look up.
    Whoami {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Look up an NHS number (demographics, then CP-IS, then the access history).
    Lookup {
        /// The NHS number: 10 digits, spaces or dashes allowed.
        nhs_number: String,
        /// Print one JSON object (documented in the README).
        #[arg(long)]
        json: bool,
        /// A scheduled-care read: the local authority is not notified.
        #[arg(long)]
        scheduled: bool,
    },
    /// The local audit queue: status, sync to the central log, verify the chain.
    Audit {
        /// What to do.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Show the configuration files in use, settings they set that are ignored, and the
    /// settings in effect (exit 2 when the configuration is missing or invalid).
    Config {
        /// Print one JSON object (documented in the README).
        #[arg(long)]
        json: bool,
    },
}

/// `cpis audit ...`.
#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Waiting count, oldest waiting, last confirmed sync, quarantined.
    Status {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Send every waiting record to the central audit log now.
    Sync,
    /// Check the local hash chain and sequence numbers (exit 1 on any finding).
    Verify,
    /// Send the records of a queue file set aside as unreadable, once its key is back in the
    /// keyring (docs/deployment.md).
    Recover {
        /// The set-aside file (`audit-queue.unreadable-….sqlite3`).
        file: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cpis: could not start: {error}");
            return ExitCode::from(EXIT_NOT_CHECKED);
        }
    };
    ExitCode::from(runtime.block_on(run(cli)))
}

/// Logs go to stderr, `warn` and above unless `RUST_LOG` says otherwise; `--verbose` adds the
/// client's debug lines (why an answer was refused).
fn init_logging(verbose: bool) {
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref(), verbose);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

/// The log filter for `RUST_LOG` (`warn` when unset or empty) and `--verbose`. The HTTP
/// libraries' own targets are always off: their trace lines can carry URLs with NHS numbers.
fn log_filter(rust_log: Option<&str>, verbose: bool) -> String {
    let requested = rust_log
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .unwrap_or("warn");
    let verbose = if verbose { ",cpis_client=debug" } else { "" };
    format!("{requested}{verbose},hyper=off,hyper_util=off,reqwest=off,h2=off,rustls=off")
}

async fn run(cli: Cli) -> u8 {
    // Check the NHS number before anything else: bad input changes nothing and sends nothing.
    if let Command::Lookup {
        nhs_number, json, ..
    } = &cli.command
        && let Err(error) = NhsNumber::parse(nhs_number)
    {
        if *json {
            print_json(&LookupJson::invalid(error));
        } else {
            eprintln!("cpis: {error}");
        }
        return EXIT_INVALID;
    }
    // The machine-wide file at its fixed path, the user's own file, and (in a debug build
    // only) the local demo's defaults. A release build without a configuration stops here,
    // having contacted nothing.
    let locations = ConfigLocations::for_this_computer(cli.config.as_deref());
    let loaded = Config::load_from(&locations, Defaults::for_this_build());
    if let Command::Config { json } = cli.command {
        return show_config(&locations, loaded, json);
    }
    let config = match loaded {
        Ok(config) => config,
        Err(error) => {
            eprintln!("cpis: {error}");
            return EXIT_INVALID;
        }
    };
    for notice in config.origin.notices() {
        eprintln!("cpis: note: {notice}");
    }
    let store = keyring_store();
    match cli.command {
        Command::Login {
            no_browser,
            login_hint,
        } => login(&config, &store, no_browser, login_hint.as_deref()).await,
        Command::Logout => logout(&config, &store).await,
        Command::Whoami { json } => whoami(&config, &store, json).await,
        Command::Lookup {
            nhs_number,
            json,
            scheduled,
        } => match NhsNumber::parse(&nhs_number) {
            Ok(nhs_number) => lookup(&config, &store, &nhs_number, json, scheduled).await,
            Err(_) => EXIT_INVALID,
        },
        Command::Audit { command } => match command {
            AuditCommand::Status { json } => audit_commands::status(&config, &store, json),
            AuditCommand::Sync => audit_commands::sync(&config, &store).await,
            AuditCommand::Verify => audit_commands::verify(&config, &store),
            AuditCommand::Recover { file } => audit_commands::recover(&config, &store, &file).await,
        },
        Command::Config { json } => show_config(&locations, Ok(config), json),
    }
}

/// `cpis config [--json]`: the files, the ignored settings and the settings in effect; or
/// what is missing or wrong, and where the files go (exit 2).
fn show_config(locations: &ConfigLocations, loaded: Result<Config, ConfigError>, json: bool) -> u8 {
    match loaded {
        Ok(config) => {
            if json {
                print_json(&ConfigJson::loaded(locations, &config));
            } else {
                print!("{}", output::config_text(&config));
            }
            EXIT_DEFINITIVE
        }
        Err(error) => {
            if json {
                print_json(&ConfigJson::problem(locations, &error));
            }
            eprintln!("cpis: {error}");
            EXIT_INVALID
        }
    }
}

fn keyring_store() -> KeyringTokenStore {
    match std::env::var(KEYRING_SERVICE_ENV) {
        Ok(service) if !service.is_empty() => KeyringTokenStore::new(service, "session"),
        _ => KeyringTokenStore::default(),
    }
}

fn print_json<T: serde::Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(error) => eprintln!("cpis: could not write JSON: {error}"),
    }
}

fn open_browser(url: &str) -> bool {
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(target_os = "windows") {
        let mut command = std::process::Command::new("rundll32");
        command.arg("url.dll,FileProtocolHandler");
        command
    } else {
        std::process::Command::new("xdg-open")
    };
    command
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

async fn login(
    config: &Config,
    store: &KeyringTokenStore,
    no_browser: bool,
    login_hint: Option<&str>,
) -> u8 {
    let result = async {
        let broker = Broker::new(&config.sign_in, &config.tls)?;
        let loopback = LoopbackRedirect::bind().await?;
        let pending = broker.begin(loopback.redirect_uri(), login_hint);
        let url = pending.authorize_url.to_string();
        if no_browser || !open_browser(&url) {
            println!("Open this address in a browser to sign in:");
        } else {
            println!(
                "Your browser has been opened to sign in. If it did not open, use this address:"
            );
        }
        println!("{url}");
        let callback = loopback
            .wait_for_callback(pending.state().to_owned(), DEFAULT_SIGN_IN_WAIT)
            .await?;
        Ok::<_, SignInError>((broker.complete(pending, callback).await?, broker))
    }
    .await;
    let (session, broker) = match result {
        Ok(signed_in) => signed_in,
        Err(error) => {
            eprintln!("cpis: sign-in failed: {error}");
            return EXIT_SIGN_IN;
        }
    };
    // Saving replaces any earlier session, another user's included; that one is ended at the
    // broker.
    let previous = store.load().ok().flatten();
    if let Err(error) = store.save(&session) {
        eprintln!("cpis: signed in, but the session could not be kept: {error}");
        end_at_broker(&broker, &session).await;
        return EXIT_SIGN_IN;
    }
    if let Some(previous) = previous
        && previous.tokens.session_handle != session.tokens.session_handle
    {
        end_at_broker(&broker, &previous).await;
    }
    print!(
        "{}",
        output::whoami_text(&session.user, Some(session.must_sign_in_again_at()))
    );
    if session.user.lookup_permission() == LookupPermission::NotPermitted {
        return EXIT_SIGN_IN;
    }
    EXIT_DEFINITIVE
}

/// End a broker session: best effort, a few seconds at most. `true` when the broker said so.
async fn end_at_broker(broker: &Broker, session: &cpis_client::Session) -> bool {
    let ended = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        broker.end(&session.tokens.session_handle),
    )
    .await;
    match ended {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            eprintln!("cpis: the sign-in service was not told: {error}");
            false
        }
        Err(_) => {
            eprintln!("cpis: the sign-in service was not told: it did not answer in time");
            false
        }
    }
}

/// Sign out: the keyring is cleared first, whatever else happens; then the session is ended
/// at the broker, which revokes its tokens at the platform (best effort).
async fn logout(config: &Config, store: &KeyringTokenStore) -> u8 {
    let session = store.load().ok().flatten();
    if let Err(error) = store.clear() {
        eprintln!("cpis: could not remove the session: {error}");
        return EXIT_NOT_CHECKED;
    }
    println!("Signed out. Your session has been removed from this computer's keyring.");
    if let Some(session) = session {
        match Broker::new(&config.sign_in, &config.tls) {
            Ok(broker) => {
                if end_at_broker(&broker, &session).await {
                    println!("The session was also ended at the sign-in service.");
                }
            }
            Err(error) => eprintln!("cpis: the sign-in service was not told: {error}"),
        }
    }
    EXIT_DEFINITIVE
}

fn access_token_from_env() -> Option<Secret> {
    std::env::var(ACCESS_TOKEN_ENV)
        .ok()
        .filter(|token| !token.trim().is_empty())
        .map(|token| Secret::new(token.trim()))
}

/// The user of a token from `CPIS_ACCESS_TOKEN`, as the broker names it (the platform's tokens
/// are opaque). `Err` is a message for exit 4.
async fn user_of_token(config: &Config, token: &Secret) -> Result<SignedInUser, String> {
    let broker = Broker::new(&config.sign_in, &config.tls).map_err(|error| error.to_string())?;
    match broker.userinfo(token).await {
        Ok((user, _)) => Ok(user),
        Err(SignInError::SignInRequired) => Err(format!(
            "the sign-in service does not know the token in {ACCESS_TOKEN_ENV} (expired or signed out). Sign in with: cpis login"
        )),
        Err(error) => Err(format!(
            "could not ask the sign-in service who {ACCESS_TOKEN_ENV} belongs to: {error}"
        )),
    }
}

/// The user, where they came from (`keyring` or `environment`), and when the session ends.
type WhoamiSource = (SignedInUser, &'static str, Option<OffsetDateTime>);

async fn whoami(config: &Config, store: &KeyringTokenStore, json: bool) -> u8 {
    let found: Result<Option<WhoamiSource>, String> = if let Some(token) = access_token_from_env() {
        user_of_token(config, &token)
            .await
            .map(|user| Some((user, "environment", None)))
    } else {
        // Reading who is signed in is not activity: a script may run it on its own.
        match cpis_client::checked_session(limits(config), store, OffsetDateTime::now_utc()).await {
            Ok(session) => {
                let ends = session.must_sign_in_again_at();
                Ok(Some((session.user, "keyring", Some(ends))))
            }
            Err(SessionError::NotSignedIn | SessionError::Ended) => Ok(None),
            Err(error @ SessionError::Locked { .. }) => {
                Err(format!("{error}. Sign in with: cpis login"))
            }
            Err(error) => Err(error.to_string()),
        }
    };
    match found {
        Ok(Some((user, source, ends))) => {
            if json {
                print_json(&WhoamiJson::for_user(&user, source, ends));
            } else {
                print!("{}", output::whoami_text(&user, ends));
            }
            EXIT_DEFINITIVE
        }
        Ok(None) => {
            if json {
                print_json(&WhoamiJson::signed_out());
            } else {
                println!("Not signed in. Sign in with: cpis login");
            }
            EXIT_SIGN_IN
        }
        Err(message) => {
            if json {
                print_json(&WhoamiJson::signed_out());
            }
            eprintln!("cpis: {message}");
            EXIT_SIGN_IN
        }
    }
}

/// The rules the keyring session is held to: the broker, and the app's inactivity limit.
fn limits(config: &Config) -> SessionLimits<'_> {
    SessionLimits {
        sign_in: &config.sign_in,
        tls: &config.tls,
        lock_after: config.lock_after,
    }
}

/// The access token and user for a command: from `CPIS_ACCESS_TOKEN` (the user from the
/// broker), else the keyring session (refused and removed when it has been idle for
/// `lock_minutes`, as the app locks; refreshed at the broker when its access token is about to
/// expire). `activity` says whether the command keeps the session from locking: a lookup does
/// (the same clinician at the same workstation), the audit sync does not. A token from the
/// environment is the caller's own and has no inactivity lock. `Err` is a message for exit 4.
async fn credentials(
    config: &Config,
    store: &KeyringTokenStore,
    activity: Activity,
) -> Result<(Secret, SignedInUser), String> {
    if let Some(token) = access_token_from_env() {
        let user = user_of_token(config, &token).await?;
        return Ok((token, user));
    }
    cpis_client::usable_session(limits(config), store, OffsetDateTime::now_utc(), activity)
        .await
        .map(|session| (session.tokens.access_token.clone(), session.user))
        .map_err(|error| match error {
            SessionError::Keyring(error) => error.to_string(),
            other => format!("{other}. Sign in with: cpis login"),
        })
}

fn device_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|name| name.trim().to_owned())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    format!("{} (cli) on {host}", cpis_client::PRODUCT)
}

async fn lookup(
    config: &Config,
    store: &KeyringTokenStore,
    nhs_number: &NhsNumber,
    json: bool,
    scheduled: bool,
) -> u8 {
    let (access_token, user) = match credentials(config, store, Activity::Counts).await {
        Ok(credentials) => credentials,
        Err(message) => {
            eprintln!("cpis: {message}");
            if json {
                print_json(&LookupJson::sign_in_required(nhs_number));
            }
            return EXIT_SIGN_IN;
        }
    };
    if let Some(reason) = user.cannot_look_up_because() {
        eprintln!("cpis: {reason}");
    }
    // Every lookup is appended to the durable local audit queue in the data folder; a queue
    // that cannot be opened makes the record fail visibly, never the lookup.
    let audit_sink = Arc::new(cpis_client::QueueSink::open(
        &config.data_dir,
        &cpis_client::QueueKeyStore::new(store.service()),
    ));
    let client = match AlertClient::new(config, audit_sink, device_name()) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("cpis: {error}");
            return EXIT_NOT_CHECKED;
        }
    };
    let report = client
        .lookup(&access_token, &user, nhs_number, scheduled)
        .await;
    if let Err(error) = &report.audit {
        eprintln!("cpis: WARNING: {error}. Report this to your IT service desk.");
    }
    if json {
        print_json(&LookupJson::from_report(nhs_number, &report));
    } else {
        print!("{}", output::lookup_text(&report));
    }
    exit_status(&report.outcome)
}

fn exit_status(outcome: &LookupOutcome) -> u8 {
    match outcome {
        LookupOutcome::PlansFound { .. } | LookupOutcome::NoPlan { .. } => EXIT_DEFINITIVE,
        LookupOutcome::InvalidInput(_) => EXIT_INVALID,
        LookupOutcome::CouldNotCheck {
            reason: CouldNotCheckReason::SignInRequired | CouldNotCheckReason::RoleNotPermitted,
            ..
        } => EXIT_SIGN_IN,
        LookupOutcome::CouldNotCheck { .. } | LookupOutcome::PatientNotFound { .. } => {
            EXIT_NOT_CHECKED
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn verbose_shows_the_clients_debug_lines_and_never_the_http_libraries() {
        let filter =
            |rust_log, verbose| tracing_subscriber::EnvFilter::new(log_filter(rust_log, verbose));
        let quiet = log_filter(None, false);
        assert!(quiet.starts_with("warn,"), "{quiet}");
        assert!(!quiet.contains("cpis_client"), "{quiet}");
        let verbose = log_filter(None, true);
        assert!(verbose.starts_with("warn,cpis_client=debug,"), "{verbose}");
        assert_eq!(log_filter(Some(" "), true), verbose);
        let with_rust_log = log_filter(Some("info"), true);
        assert!(
            with_rust_log.starts_with("info,cpis_client=debug,"),
            "{with_rust_log}"
        );
        for filter_text in [quiet, verbose, log_filter(Some("trace"), true)] {
            for library in ["hyper=off", "reqwest=off", "h2=off", "rustls=off"] {
                assert!(filter_text.contains(library), "{filter_text}");
            }
        }
        // The filters parse as EnvFilter directives.
        assert!(filter(None, true).to_string().contains("cpis_client=debug"));
        let cli = Cli::try_parse_from(["cpis", "-v", "lookup", "9990000018"]).expect("parses");
        assert!(cli.verbose);
        let cli =
            Cli::try_parse_from(["cpis", "lookup", "9990000018", "--verbose"]).expect("parses");
        assert!(cli.verbose);
    }

    #[test]
    fn exit_statuses_are_as_documented() {
        let now = OffsetDateTime::now_utc();
        let could_not_check = |reason| LookupOutcome::CouldNotCheck {
            reason,
            attempted_at: now,
        };
        assert_eq!(
            exit_status(&could_not_check(CouldNotCheckReason::Timeout)),
            3
        );
        assert_eq!(
            exit_status(&could_not_check(CouldNotCheckReason::SignInRequired)),
            4
        );
        assert_eq!(
            exit_status(&could_not_check(CouldNotCheckReason::RoleNotPermitted)),
            4
        );
        assert_eq!(
            exit_status(&LookupOutcome::PatientNotFound { checked_at: now }),
            3
        );
        assert_eq!(
            exit_status(&LookupOutcome::InvalidInput(
                cpis_domain::NhsNumberError::CheckDigit
            )),
            2
        );
    }
}
