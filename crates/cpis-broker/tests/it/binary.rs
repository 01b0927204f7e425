//! The `cpis-broker` binary: `serve --listen 127.0.0.1:0` announces its address as the first
//! stdout line (harnesses wait for that prefix) and serves; a missing setting is named.

use std::process::Command;
use std::time::Duration;

use cpis_supervisor::{Launch, Ready, Sink};

use super::support::dev_key;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_announces_its_address_and_answers() {
    let directory = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_cpis-broker"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--cis2-issuer", "http://127.0.0.1:9/"])
        .arg("--signing-key")
        .arg(dev_key("DEV-ONLY-broker-signing-key.pem"))
        .args(["--signing-kid", "cpis-broker-dev-1"])
        .args(["--platform-token-url", "http://127.0.0.1:9/oauth2/token"])
        .arg("--platform-client-secret-file")
        .arg(dev_key("DEV-ONLY-apim-client-secret.txt"))
        .env("CPIS_BROKER_PLATFORM_API_KEY", "cpis-broker-dev")
        .env(
            "CPIS_BROKER_DATABASE",
            format!(
                "sqlite://{}?mode=rwc",
                directory.path().join("broker.sqlite3").display()
            ),
        );
    let process = Launch::new("cpis-broker", command)
        .stdout(Sink::Null)
        .stderr(Sink::Null)
        .ready_when(
            Ready::StdoutLine("cpis-broker listening on ".to_owned()),
            Duration::from_secs(30),
        )
        .start()
        .expect("cpis-broker starts");
    let url = process.announced().expect("announced").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let health = reqwest::get(format!("{url}/healthz"))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let jwks: serde_json::Value = reqwest::get(format!("{url}/jwks.json"))
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    assert_eq!(jwks["keys"][0]["kid"], "cpis-broker-dev-1");
}

#[test]
fn a_missing_setting_is_named() {
    let output = Command::new(env!("CARGO_BIN_EXE_cpis-broker"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("CPIS_BROKER_CIS2_ISSUER")
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--cis2-issuer"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing announced");
}
