//! Helpers: the `cpis` process, fake services, and (shared with cpis-client's tests) the
//! development identity provider and the Secret Service.

#[allow(dead_code)] // Shared with cpis-client, which uses more of it.
#[path = "../../../cpis-client/tests/support/dev_idp.rs"]
pub mod dev_idp;
#[path = "../../../cpis-client/tests/support/secret_service.rs"]
pub mod secret_service;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use base64::Engine as _;

/// A configuration file pointing every service at `base` (the reference service's layout).
pub fn write_config(directory: &Path, base: &str, issuer: &str, deadline_ms: u64) -> PathBuf {
    let path = directory.join("config.toml");
    let data_dir = directory.join("data");
    std::fs::write(
        &path,
        format!(
            "lookup_deadline_ms = {deadline_ms}\ndata_dir = \"{}\"\n\n[services]\ncpis_url = \"{base}/cpis/FHIR/R4\"\ndemographics_url = \"{base}/personal-demographics/FHIR/R4\"\naudit_url = \"{base}/audit/FHIR/R4\"\n\n[oidc]\nissuer = \"{issuer}\"\nclient_id = \"cpis-viewer\"\n",
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

/// A JWT-shaped token with CIS2 role claims and a meaningless signature, for runs where no
/// service validates it (the service is down or fake).
pub fn unsigned_token(activity_codes: &[&str]) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = engine.encode(r#"{"alg":"RS256","typ":"at+jwt"}"#);
    let payload = engine.encode(
        serde_json::json!({
            "sub": "900000000001",
            "name": "Tess Triage-Test",
            "selected_roleid": "555000000101",
            "nhsid_nrbac_roles": [{
                "person_roleid": "555000000101", "org_code": "ZZ1ED", "role_code": "R8001",
                "role_name": "Nurse Access Role", "activity_codes": activity_codes,
            }],
        })
        .to_string(),
    );
    format!("{header}.{payload}.c2lnbmF0dXJl")
}

pub fn keyring_namespace(test: &str) -> String {
    format!(
        "uk.nhs.cpis-viewer.cli-tests.{test}.{}",
        uuid::Uuid::new_v4()
    )
}
