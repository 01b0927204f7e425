//! Usage, input checking and faults, with a fake broker or none: exit 2 for bad input or usage,
//! 4 when sign-in is needed (no session, a token the broker does not know, a broker that cannot
//! be reached), 3 when the service is down, slow past the deadline or misbehaving. The access
//! token from `CPIS_ACCESS_TOKEN` is never printed, even at trace level.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::fake_broker::FakeBroker;
use crate::support::secret_service::require_secret_service;
use crate::support::*;

/// A broker address where nothing listens.
const BROKER: &str = "http://127.0.0.1:9";

fn closed_port_base() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn an_invalid_nhs_number_is_exit_2_and_sends_nothing() {
    let directory = tempfile::tempdir().expect("temp dir");
    let config = write_config(directory.path(), &closed_port_base(), BROKER, 1000);
    let mut command = cpis(&config, &keyring_namespace("invalid"));
    command.args(["lookup", "999 999 9991"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a real NHS number"),
        "{}",
        stderr(&output)
    );

    let mut command = cpis(&config, &keyring_namespace("invalid"));
    command.args(["lookup", "94347659X9", "--json"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(2));
    let json = json(&output);
    assert_eq!(json["outcome"], "invalid_nhs_number");
    assert_eq!(json["reason"]["code"], "invalid_characters");
    assert_eq!(json["plans"], serde_json::json!([]));
}

#[tokio::test]
async fn usage_errors_are_exit_2() {
    let directory = tempfile::tempdir().expect("temp dir");
    let config = write_config(directory.path(), &closed_port_base(), BROKER, 1000);
    for args in [
        &["lookup"][..],
        &["frobnicate"],
        &["lookup", "9990000018", "--colour"],
    ] {
        let mut command = cpis(&config, &keyring_namespace("usage"));
        command.args(args);
        assert_eq!(run(command).await.status.code(), Some(2), "{args:?}");
    }
}

#[tokio::test]
async fn a_bad_config_file_is_exit_2_and_names_the_field() {
    let directory = tempfile::tempdir().expect("temp dir");
    let config = directory.path().join("bad.toml");
    std::fs::write(&config, "lookup_deadline_ms = \"soon\"\n").expect("write");
    let mut command = cpis(&config, &keyring_namespace("config"));
    command.args(["lookup", "9990000018"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`lookup_deadline_ms`"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn without_a_session_sign_in_is_needed() {
    require_secret_service();
    let directory = tempfile::tempdir().expect("temp dir");
    let config = write_config(directory.path(), &closed_port_base(), BROKER, 1000);
    let keyring = keyring_namespace("signed-out");
    let mut command = cpis(&config, &keyring);
    command.args(["lookup", "9990000018"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(4));
    assert!(stderr(&output).contains("cpis login"));

    let mut command = cpis(&config, &keyring);
    command.args(["whoami", "--json"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(json(&output)["signed_in"], false);
}

#[tokio::test]
async fn a_token_the_broker_does_not_know_is_sign_in_needed() {
    let broker = FakeBroker::start().await;
    let directory = tempfile::tempdir().expect("temp dir");
    let config = write_config(directory.path(), &closed_port_base(), &broker.url, 1000);
    for command_line in [&["lookup", "9990000018"][..], &["whoami"][..]] {
        let mut command = cpis(&config, &keyring_namespace("unknown-token"));
        command
            .args(command_line)
            .env("CPIS_ACCESS_TOKEN", "opaque-token-value");
        let output = run(command).await;
        assert_eq!(output.status.code(), Some(4), "{command_line:?}");
        let text = stderr(&output);
        assert!(text.contains("does not know the token"), "{text}");
        assert!(text.contains("cpis login"), "{text}");
        assert!(!text.contains("opaque-token-value"));
    }
}

#[tokio::test]
async fn an_unreachable_broker_with_a_token_is_sign_in_needed_and_says_why() {
    let directory = tempfile::tempdir().expect("temp dir");
    let config = write_config(directory.path(), &closed_port_base(), BROKER, 1000);
    let mut command = cpis(&config, &keyring_namespace("no-broker"));
    command
        .args(["lookup", "9990000018", "--json"])
        .env("CPIS_ACCESS_TOKEN", "opaque-token-value");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(json(&output)["reason"]["code"], "sign_in_required");
    let text = stderr(&output);
    assert!(
        text.contains("could not ask the sign-in service") && text.contains("could not connect"),
        "{text}"
    );
    assert!(!text.contains("opaque-token-value"));
}

/// A server that accepts connections and never answers.
async fn hanging_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    base
}

/// A server that answers everything with a 500 and a bit of HTML.
async fn failing_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/html\r\ncontent-length: 5\r\nconnection: close\r\n\r\noops!")
                    .await;
            });
        }
    });
    base
}

#[tokio::test]
async fn down_slow_or_misbehaving_services_are_exit_3_and_never_no_plan() {
    let broker = FakeBroker::start().await;
    let (token, _) = broker.issue_session("ed-nurse");
    let deadline_ms = 1000;
    let cases = [
        ("down", closed_port_base(), "demographics_unavailable"),
        ("slow", hanging_server().await, "timeout"),
        (
            "misbehaving",
            failing_server().await,
            "demographics_unavailable",
        ),
    ];
    for (name, base, reason) in cases {
        let directory = tempfile::tempdir().expect("temp dir");
        let config = write_config(directory.path(), &base, &broker.url, deadline_ms);
        let mut command = cpis(&config, &keyring_namespace(name));
        command
            .args(["lookup", "9990000018", "--json"])
            .env("CPIS_ACCESS_TOKEN", &token)
            .env("RUST_LOG", "trace");
        let started = Instant::now();
        let output = run(command).await;
        assert!(
            started.elapsed() < Duration::from_millis(deadline_ms) + Duration::from_secs(3),
            "{name}: took {:?}",
            started.elapsed()
        );
        assert_eq!(output.status.code(), Some(3), "{name}: {}", stderr(&output));
        let json = json(&output);
        assert_eq!(json["outcome"], "could_not_check", "{name}");
        assert_eq!(json["reason"]["code"], reason, "{name}");
        for text in [stdout(&output), stderr(&output)] {
            assert!(!text.contains(&token), "{name}: the token was printed");
        }
        assert!(
            !stderr(&output).contains("9990000018"),
            "{name}: the NHS number reached a log line"
        );
    }
}

#[tokio::test]
async fn config_shows_the_files_and_the_settings_in_effect() {
    let directory = tempfile::tempdir().expect("temp dir");
    let config = directory.path().join("config.toml");
    std::fs::write(
        &config,
        "lock_minutes = 10\n[services]\ncpis_url = \"https://cpis.example.test/cpis/FHIR/R4\"\n\
         [trust]\norganisation_name = \"Northshire Hospitals (synthetic)\"\n\
         safeguarding_in_hours_phone = \"0114 496 0000\"\n",
    )
    .expect("write");
    let mut command = cpis(&config, &keyring_namespace("config"));
    command.args(["config", "--json"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json = json(&output);
    assert_eq!(json["configured"], true);
    assert_eq!(json["problems"], serde_json::json!([]));
    assert_eq!(json["machine_file"], "/etc/cpis-viewer/config.toml");
    assert_eq!(
        json["files_used"],
        serde_json::json!([{ "path": config.display().to_string(), "kind": "user" }])
    );
    assert_eq!(json["ignored"], serde_json::json!([]));
    let settings = &json["settings"];
    assert_eq!(
        settings["services"]["cpis_url"],
        "https://cpis.example.test/cpis/FHIR/R4"
    );
    assert_eq!(settings["lock_minutes"], 10);
    assert_eq!(settings["sign_in"]["broker_url"], "http://127.0.0.1:9091/");
    assert_eq!(settings["sign_in"]["client_id"], "cpis-viewer");
    assert!(settings.get("oidc").is_none());
    assert_eq!(settings["tls"]["extra_ca_file"], serde_json::Value::Null);
    assert_eq!(
        settings["trust"]["organisation_name"],
        "Northshire Hospitals (synthetic)"
    );
    assert_eq!(
        settings["trust"]["safeguarding_in_hours_phone"],
        serde_json::json!({ "display": "0114 496 0000", "tel": "+441144960000" })
    );

    let mut command = cpis(&config, &keyring_namespace("config"));
    command.arg("config");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains(&format!("{} (your own)", config.display())),
        "{text}"
    );
    assert!(
        text.contains("services.cpis_url = https://cpis.example.test/cpis/FHIR/R4"),
        "{text}"
    );
    assert!(
        text.contains("trust.safeguarding_in_hours_phone = 0114 496 0000 (dials +441144960000)"),
        "{text}"
    );
}

#[tokio::test]
async fn config_with_a_bad_setting_is_exit_2_and_names_it() {
    let directory = tempfile::tempdir().expect("temp dir");
    let config = directory.path().join("config.toml");
    std::fs::write(
        &config,
        "[services]\ncpis_url = \"http://cpis.example.test/cpis/FHIR/R4\"\n",
    )
    .expect("write");
    let mut command = cpis(&config, &keyring_namespace("config"));
    command.args(["config", "--json"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(2));
    let json = json(&output);
    assert_eq!(json["configured"], false);
    assert_eq!(json["settings"], serde_json::Value::Null);
    let problems = json["problems"].to_string();
    assert!(problems.contains("`services.cpis_url`"), "{problems}");
    assert!(stderr(&output).contains("must be an https URL"));
}

#[tokio::test]
async fn a_refused_answer_says_which_step_and_why_in_json_and_with_verbose() {
    let broker = FakeBroker::start().await;
    let (token, _) = broker.issue_session("ed-nurse");
    let base = failing_server().await;
    let directory = tempfile::tempdir().expect("temp dir");
    let config = write_config(directory.path(), &base, &broker.url, 1000);
    let mut runs = Vec::new();
    for verbose in [false, true] {
        let mut command = cpis(&config, &keyring_namespace("refused"));
        command
            .args(["lookup", "9990000018", "--json"])
            .env("CPIS_ACCESS_TOKEN", &token)
            .env_remove("RUST_LOG");
        if verbose {
            command.arg("-v");
        }
        let output = run(command).await;
        assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
        let json = json(&output);
        assert_eq!(json["outcome"], "could_not_check");
        assert_eq!(json["detail"], "demographics/http_status:500", "{json}");
        assert!(json["trace_id"].is_string(), "{json}");
        runs.push(stderr(&output));
    }
    let (quiet, verbose) = (&runs[0], &runs[1]);
    assert!(!quiet.contains("answer refused"), "{quiet}");
    assert!(
        verbose.contains("answer refused")
            && verbose.contains("demographics")
            && verbose.contains("http_status:500"),
        "{verbose}"
    );
    assert!(!verbose.contains("9990000018"), "{verbose}");
    assert!(!verbose.contains(&token), "the token was logged");
}
