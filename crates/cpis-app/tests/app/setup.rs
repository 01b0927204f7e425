//! A missing or invalid configuration: the app still answers every command the window asks,
//! shows what to set and where (`setup_problem`), and builds no core, so nothing is contacted.
//! A configured app shows the files it uses and the trust's words.

use std::cell::Cell;
use std::path::Path;

use cpis_app::{App, AppCore};
use cpis_client::config::REQUIRED_SETTINGS;
use cpis_client::{Config, ConfigLocations, Defaults};
use cpis_ipc::SessionView;

use crate::store;

fn locations(directory: &Path) -> ConfigLocations {
    ConfigLocations {
        machine_file: directory.join("machine.toml"),
        user_file: Some(directory.join("user.toml")),
        user_file_named: false,
    }
}

#[tokio::test]
async fn a_release_build_without_configuration_shows_the_setup_problem_and_builds_no_core() {
    let directory = tempfile::tempdir().expect("temp dir");
    let locations = locations(directory.path());
    let loaded = Config::load_from(&locations, Defaults::None);
    let core_started = Cell::new(false);
    let app = App::start(loaded, &locations, "9.9.9".into(), |_| {
        core_started.set(true);
        Err(cpis_app::StartError("must not be called".into()))
    });
    assert!(
        !core_started.get(),
        "no core may be built without a configuration"
    );
    let problem = app.setup_problem().expect("a setup problem");
    assert_eq!(
        problem.problems,
        REQUIRED_SETTINGS
            .iter()
            .map(|field| format!("The setting `{field}` is missing."))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        problem.machine_file,
        directory.path().join("machine.toml").display().to_string()
    );
    assert_eq!(
        problem.user_file,
        Some(directory.path().join("user.toml").display().to_string())
    );

    // Every other command answers without a core and without panicking.
    assert_eq!(
        app.core().expect_err("no core").code(),
        cpis_ipc::IpcErrorCode::NotSetUp
    );
    assert_eq!(app.session_view(), SessionView::SignedOut);
    assert_eq!(app.sign_out().await, SessionView::SignedOut);
    assert_eq!(app.lock().await, SessionView::SignedOut);
    app.cancel_sign_in();
    let settings = app.ui_settings();
    assert_eq!(settings.lock_minutes, 15);
    assert_eq!(settings.organisation_display_name, None);
    assert!(settings.trust.downtime_procedure.is_empty());
    let status = app.status();
    assert_eq!(status.version, "9.9.9");
    assert!(status.config_files.is_empty());
    assert_eq!(status.audit.queue_error, None);
}

#[test]
fn an_invalid_machine_file_is_a_setup_problem_naming_the_field_and_the_file() {
    let directory = tempfile::tempdir().expect("temp dir");
    let locations = locations(directory.path());
    std::fs::write(
        &locations.machine_file,
        "[trust]\nsafeguarding_in_hours_phone = \"999\"\n",
    )
    .expect("write");
    let loaded = Config::load_from(&locations, Defaults::LocalDemo);
    let app = App::start(loaded, &locations, "9.9.9".into(), |_| {
        panic!("no core may be built from an invalid configuration")
    });
    let problem = app.setup_problem().expect("a setup problem");
    assert_eq!(problem.problems.len(), 1);
    assert!(
        problem.problems[0].contains("`trust.safeguarding_in_hours_phone`"),
        "{problem:?}"
    );
    assert!(
        problem.problems[0].contains(&locations.machine_file.display().to_string()),
        "{problem:?}"
    );
}

#[test]
fn a_configured_app_shows_its_files_and_the_trusts_words() {
    let directory = tempfile::tempdir().expect("temp dir");
    let locations = locations(directory.path());
    std::fs::write(
        &locations.machine_file,
        format!(
            "lock_minutes = 10\ndata_dir = {:?}\n[trust]\norganisation_name = \"Northshire Hospitals (synthetic)\"\ndowntime_procedure = \"Use the paper checklist.\\nPhone the safeguarding team.\"\nsafeguarding_in_hours_phone = \"0114 496 0000\"\nsafeguarding_in_hours_times = \"Monday to Friday, 9am to 5pm\"\nsafeguarding_out_of_hours_phone = \"0161 496 0999\"\n",
            directory.path().join("data").display().to_string()
        ),
    )
    .expect("write");
    std::fs::write(
        locations.user_file.as_ref().expect("user file"),
        "lock_minutes = 5\n",
    )
    .expect("write");
    let loaded = Config::load_from(&locations, Defaults::LocalDemo);
    let store = store("configured");
    let app = App::start(loaded, &locations, "9.9.9".into(), |config| {
        AppCore::new(config, store, "9.9.9".into())
    });
    assert_eq!(app.setup_problem(), None);
    let core = app.core().expect("a core");
    assert_eq!(
        core.status().config_files,
        [
            format!("{} (machine-wide)", locations.machine_file.display()),
            format!(
                "{} (your own)",
                locations.user_file.as_ref().expect("user file").display()
            ),
        ]
    );
    let settings = app.ui_settings();
    assert_eq!(settings.lock_minutes, 5);
    assert_eq!(
        settings.organisation_display_name.as_deref(),
        Some("Northshire Hospitals (synthetic)")
    );
    assert_eq!(
        settings.trust.downtime_procedure,
        ["Use the paper checklist.", "Phone the safeguarding team."]
    );
    let in_hours = settings.trust.safeguarding_in_hours.expect("in hours");
    assert_eq!(in_hours.display, "0114 496 0000");
    assert_eq!(in_hours.tel.as_deref(), Some("tel:+441144960000"));
    assert_eq!(in_hours.extension, None);
    assert_eq!(
        settings.trust.safeguarding_in_hours_times.as_deref(),
        Some("Monday to Friday, 9am to 5pm")
    );
    assert_eq!(
        settings
            .trust
            .safeguarding_out_of_hours
            .and_then(|phone| phone.tel),
        Some("tel:+441614960999".to_owned())
    );
}
