//! The `cpis-service` binary: `seed` then `serve` answering over HTTP, configuration errors,
//! the config file, and graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use cpis_fhir::{CareTeamSearch, parse_care_team_search};

use super::support::*;

const BINARY: &str = env!("CARGO_BIN_EXE_cpis-service");

fn write_jwks(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("jwks.json");
    std::fs::write(&path, serde_json::to_vec(&test_jwks()).expect("jwks")).expect("write jwks");
    path
}

/// The broker's DEV-ONLY public JWKS, as the platform app's registered keys.
fn write_app_jwks(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("app-jwks.json");
    std::fs::write(&path, BROKER_JWKS).expect("write app jwks");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_then_serve_answers_the_three_outcomes_and_stops_on_sigterm_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    seed_then_serve(dir, database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_then_serve_answers_the_three_outcomes_and_stops_on_sigterm_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    seed_then_serve(dir, fresh_postgres_url().await).await;
}

async fn seed_then_serve(dir: tempfile::TempDir, database: String) {
    let manifest_path = dir.path().join("manifest.json");
    let output = Command::new(BINARY)
        .args([
            "seed",
            "--database",
            &database,
            "--children",
            "300",
            "--seed",
            "5",
            "--manifest",
        ])
        .arg(&manifest_path)
        .output()
        .expect("run seed");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest")).expect("json");
    let cpp = manifest["scenarios"]["cpp"][0]
        .as_str()
        .expect("a cpp number")
        .to_owned();
    let no_plan = manifest["scenarios"]["no_plan"][0]
        .as_str()
        .expect("a no-plan number")
        .to_owned();

    let config = dir.path().join("cpis.toml");
    std::fs::write(
        &config,
        format!(
            "database = \"{database}\"\nlisten = \"127.0.0.1:0\"\nissuer = \"{ISSUER}\"\njwks_file = \"{}\"\napp_jwks_file = \"{}\"\n",
            write_jwks(dir.path()).display(),
            write_app_jwks(dir.path()).display()
        ),
    )
    .expect("config");
    let mut child = Command::new(BINARY)
        .args(["serve", "--config"])
        .arg(&config)
        .env("CPIS_CIS2_CLIENT_ID", CIS2_CLIENT_ID)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut first_line = String::new();
    BufReader::new(stdout)
        .read_line(&mut first_line)
        .expect("first line");
    let base = first_line
        .trim()
        .strip_prefix("cpis-service listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .to_owned();

    // The synthetic users of dev-idp/users.json, which `seed` put in the role directory.
    let nurse = http_access_token(
        &base,
        &sign(&id_token_claims(
            "900000000001",
            "Tess Triage-Test",
            Some("555000000101"),
            "3",
        )),
    )
    .await;
    let la_user = http_access_token(
        &base,
        &sign(&id_token_claims(
            "900000000005",
            "Lee Council-Test",
            Some("555000000501"),
            "3",
        )),
    )
    .await;
    let client = reqwest::Client::new();
    let lookup = |nhs: String| {
        client
            .get(format!("{base}{}", care_team_uri(&nhs)))
            .bearer_auth(&nurse)
            .header("TraceID", uuid::Uuid::new_v4().to_string())
            .send()
    };
    let body = lookup(cpp.clone())
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    assert!(matches!(
        parse_care_team_search(&body, &nhs(&cpp)),
        Ok(CareTeamSearch::Plans(_))
    ));
    let body = lookup(no_plan.clone())
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    assert_eq!(
        parse_care_team_search(&body, &nhs(&no_plan)),
        Ok(CareTeamSearch::NoPlans)
    );
    let response = lookup("9990000019".into()).await.expect("send");
    assert_eq!(response.status(), 400);
    let unauthenticated = client
        .get(format!("{base}{}", care_team_uri(&cpp)))
        .header("TraceID", uuid::Uuid::new_v4().to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(unauthenticated.status(), 401);
    let wrong_role = client
        .get(format!("{base}{}", care_team_uri(&cpp)))
        .bearer_auth(&la_user)
        .header("TraceID", uuid::Uuid::new_v4().to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(wrong_role.status(), 403);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    assert!(
        output.status.success(),
        "serve did not exit cleanly: {:?}",
        output.status
    );
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("route=\"/cpis/FHIR/R4/CareTeam\""), "{log}");
    // No patient data or tokens in the log.
    for secret in [
        cpp.as_str(),
        no_plan.as_str(),
        "eyJ",
        "Triage-Test",
        nurse.as_str(),
        la_user.as_str(),
    ] {
        assert!(!log.contains(secret), "{secret} found in the service log");
    }
}

#[test]
fn bad_configuration_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", dir.path().join("c.db").display());
    let run = |args: &[&str]| {
        let output = Command::new(BINARY)
            .args(args)
            .env_remove("CPIS_CIS2_CLIENT_ID")
            .env_remove("CPIS_APP_JWKS_FILE")
            .env_remove("CPIS_APP_JWKS_URL")
            .env_remove("CPIS_ISSUER")
            .env_remove("CPIS_DATABASE")
            .env_remove("CPIS_CONFIG")
            .output()
            .expect("run");
        assert!(!output.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let app_jwks = write_app_jwks(dir.path());
    let app_jwks = app_jwks.to_str().expect("utf8");
    let message = run(&["serve", "--database", &database, "--issuer", ISSUER]);
    assert!(
        message.contains("app_jwks_file or app_jwks_url is required"),
        "{message}"
    );
    let message = run(&[
        "serve",
        "--database",
        &database,
        "--issuer",
        ISSUER,
        "--jwks-file",
        write_jwks(dir.path()).to_str().expect("utf8"),
        "--app-jwks-file",
        "/nonexistent/app-jwks.json",
    ]);
    assert!(message.contains("platform app's keys"), "{message}");
    let message = run(&[
        "serve",
        "--database",
        "mysql://x",
        "--issuer",
        ISSUER,
        "--app-jwks-file",
        app_jwks,
    ]);
    assert!(message.contains("database is not valid"), "{message}");
    let message = run(&[
        "serve",
        "--database",
        &database,
        "--issuer",
        "ftp://x",
        "--app-jwks-file",
        app_jwks,
    ]);
    assert!(message.contains("issuer is not valid"), "{message}");
    let bad_file = dir.path().join("bad.toml");
    std::fs::write(&bad_file, "databse = \"sqlite://x\"\n").expect("write");
    let message = run(&["serve", "--config", bad_file.to_str().expect("utf8")]);
    assert!(message.contains("databse"), "{message}");
    let message = run(&[
        "serve",
        "--database",
        &database,
        "--issuer",
        ISSUER,
        "--app-jwks-file",
        app_jwks,
        "--jwks-file",
        "/nonexistent/jwks.json",
    ]);
    assert!(message.contains("JWKS file"), "{message}");
    let message = run(&[
        "serve",
        "--database",
        &database,
        "--issuer",
        "http://127.0.0.1:9",
        "--app-jwks-file",
        app_jwks,
    ]);
    assert!(message.contains("could not fetch"), "{message}");
}

#[test]
fn openapi_subcommand_prints_the_committed_document() {
    let output = Command::new(BINARY).arg("openapi").output().expect("run");
    assert!(output.status.success());
    assert_eq!(output.stdout, cpis_service::api::OPENAPI_JSON.as_bytes());
}
