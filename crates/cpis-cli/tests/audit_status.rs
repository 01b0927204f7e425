//! `cpis audit status` and `cpis audit recover` with an encrypted queue whose key the keyring
//! lost: the file is set aside and reported (text and JSON, exit 1), never deleted.

use std::process::Command;

use crate::support::secret_service::require_secret_service;
use crate::support::{keyring_namespace, write_config};

fn cpis(config: &std::path::Path, keyring: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cpis"))
        .env("CPIS_CONFIG", config)
        .env("CPIS_KEYRING_SERVICE", keyring)
        .env_remove("CPIS_ACCESS_TOKEN")
        .env_remove("RUST_LOG")
        .args(args)
        .output()
        .expect("cpis ran")
}

fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn audit_status_reports_a_queue_the_keyring_key_cannot_read_and_recover_reads_it_with_the_old_key()
{
    require_secret_service();
    let directory = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        directory.path(),
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        500,
    );
    let keyring = keyring_namespace("audit-status");
    let keys = cpis_client::QueueKeyStore::new(keyring.clone());

    let output = cpis(&config, &keyring, &["audit", "status", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(json(&output)["unreadable_files"], serde_json::json!([]));
    let old_key = keys.load().expect("keyring").expect("cpis made the key");

    keys.delete().expect("the keyring loses the key");
    let output = cpis(&config, &keyring, &["audit", "status", "--json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "an incident for IT: {output:?}"
    );
    let files = json(&output)["unreadable_files"].clone();
    let file = files[0].as_str().expect("one file").to_owned();
    assert_eq!(files.as_array().map(Vec::len), Some(1));
    assert!(file.contains("audit-queue.unreadable-"), "{file}");
    assert!(std::path::Path::new(&file).exists(), "kept, never deleted");

    let output = cpis(&config, &keyring, &["audit", "status"]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Unreadable audit queue files kept: 1."),
        "{text}"
    );
    assert!(text.contains(&file), "{text}");

    // The new queue itself is whole.
    let output = cpis(&config, &keyring, &["audit", "verify"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");

    // `recover` with the keyring's current key cannot read it (exit 3); with the old key back
    // it reads it and goes on to send, which needs sign-in (exit 4 here).
    let output = cpis(&config, &keyring, &["audit", "recover", &file]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be read with this key"));
    keys.replace(&old_key).expect("IT restores the key");
    let output = cpis(&config, &keyring, &["audit", "recover", &file]);
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    keys.delete().expect("clean up");
}
