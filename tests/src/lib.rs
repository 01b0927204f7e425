//! Harness for the end-to-end tests: starts `tauri-driver` (which starts WebKitWebDriver),
//! opens a WebDriver session on the built app, and stops everything cleanly. Every process runs
//! under `cpis-supervisor`.
//!
//! The app binary comes from `CPIS_E2E_APP` (set by `cargo xtask test`, which builds the app
//! first and runs these tests under Xvfb and a D-Bus session). Without it the tests fail with
//! a message saying how to run them; they never skip.
//!
//! `logs` says where every process's output goes, `driver` starts tauri-driver and opens the
//! app, `stack` starts the identity provider and the seeded service, and `page` reads, checks
//! and photographs what the window shows.

use std::path::{Path, PathBuf};
use std::time::Duration;

mod driver;
mod logs;
mod page;
mod stack;

pub use cpis_supervisor::Supervised;
pub use driver::Driver;
pub use logs::{log_dir, log_file, log_stdio};
pub use page::{
    FIRST_SCREEN, ZOOMED_200, assert_on_first_screen, axe_violations, check_screen, save_artifacts,
    screenshot, scroll_to, set_viewport, text_of, wait_for,
};
pub use stack::{
    Stack, TRUST_DOWNTIME_PROCEDURE, TRUST_IN_HOURS_PHONE, TRUST_IN_HOURS_TIMES,
    TRUST_ORGANISATION_NAME, TRUST_OUT_OF_HOURS_PHONE,
};

/// How long to wait for the driver, the window and rendered elements.
pub const WAIT: Duration = Duration::from_secs(20);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}
