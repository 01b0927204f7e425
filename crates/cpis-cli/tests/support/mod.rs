//! Helpers: the `cpis` process, fake services, and (shared with cpis-client's tests) the
//! development identity provider, the real sign-in stack (dev-idp, the broker and the
//! platform), the controllable fake broker and the Secret Service.

#[path = "../../../cpis-client/tests/support/dev_idp.rs"]
pub mod dev_idp;
#[path = "../../../cpis-client/tests/support/fake_broker.rs"]
pub mod fake_broker;
#[path = "../../../cpis-client/tests/support/secret_service.rs"]
pub mod secret_service;
#[path = "../../../cpis-client/tests/support/sign_in_stack.rs"]
pub mod sign_in_stack;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// A configuration file pointing every service at `base` (the reference service's layout) and
/// sign-in at the broker at `broker_url`.
pub fn write_config(directory: &Path, base: &str, broker_url: &str, deadline_ms: u64) -> PathBuf {
    let path = directory.join("config.toml");
    let data_dir = directory.join("data");
    std::fs::write(
        &path,
        format!(
            "lookup_deadline_ms = {deadline_ms}\ndata_dir = \"{}\"\n\n[services]\ncpis_url = \"{base}/cpis/FHIR/R4\"\ndemographics_url = \"{base}/personal-demographics/FHIR/R4\"\naudit_url = \"{base}/audit/FHIR/R4\"\n\n[sign_in]\nbroker_url = \"{broker_url}\"\n",
            data_dir.display()
        ),
    )
    .expect("write config");
    path
}

/// A `cpis` command with its own config and keyring namespace, and no inherited token.
pub fn cpis(config: &Path, keyring_service: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_cpis"));
    command
        .env("CPIS_CONFIG", config)
        .env("CPIS_KEYRING_SERVICE", keyring_service)
        .env_remove("CPIS_ACCESS_TOKEN")
        .env_remove("RUST_LOG")
        .kill_on_drop(true);
    command
}

pub async fn run(mut command: tokio::process::Command) -> Output {
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("cpis finished within a minute")
        .expect("cpis ran")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}): {}\nstderr: {}",
            stdout(output),
            stderr(output)
        )
    })
}

pub fn keyring_namespace(test: &str) -> String {
    format!(
        "uk.nhs.cpis-viewer.cli-tests.{test}.{}",
        uuid::Uuid::new_v4()
    )
}
