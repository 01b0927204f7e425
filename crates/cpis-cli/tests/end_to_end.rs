//! End to end: the development identity provider (node), the reference service (in-process,
//! seeded SQLite in a temporary folder, validating tokens through the provider's JWKS), the real
//! Secret Service, and `cpis` as a process. `cpis login` then `cpis lookup` gives the right
//! outcome for every scenario in the seed manifest.

use std::path::Path;
use std::time::Duration;

use cpis_service::config::ServeConfig;
use cpis_service::seed::{Manifest, SeedOptions, seed};
use cpis_service::store::Store;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;

use crate::support::dev_idp::DevIdp;
use crate::support::secret_service::require_secret_service;
use crate::support::*;

/// The reference service running in this process.
struct Service {
    base: String,
    manifest: Manifest,
    _directory: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn start_service(issuer: &str) -> Service {
    let directory = tempfile::tempdir().expect("temp dir");
    let database = format!(
        "sqlite://{}",
        directory.path().join("cpis.sqlite").display()
    );
    let store = Store::connect(&database, 4).await.expect("database");
    let manifest = seed(
        &store,
        SeedOptions {
            children: 2000,
            seed: 7,
            today: time::OffsetDateTime::now_utc().date(),
            examples_per_scenario: 2,
        },
    )
    .await
    .expect("seed");
    let config = ServeConfig {
        database,
        listen: "127.0.0.1:0".parse().expect("address"),
        issuer: issuer.to_owned(),
        audience: "cpis-service".to_owned(),
        jwks_file: None,
        max_body_bytes: 1024 * 1024,
        request_timeout: Duration::from_secs(10),
        db_max_connections: 4,
    };
    let state = cpis_service::server::state_for(&config)
        .await
        .expect("service state");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(cpis_service::server::serve_on(listener, state, async {
        let _ = stopped.await;
    }));
    Service {
        base,
        manifest,
        _directory: directory,
        _shutdown: shutdown,
    }
}

/// `cpis login --no-browser --login-hint USER`, with this test acting as the browser.
async fn login(config: &Path, keyring: &str, user: &str) -> std::process::Output {
    let mut command = cpis(config, keyring);
    command
        .args(["login", "--no-browser", "--login-hint", user])
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("cpis login");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = String::new();
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("cpis login printed the address")
            .expect("read")
            .expect("a line");
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("http") {
            break line;
        }
    };
    assert!(url.contains("code_challenge_method=S256"));
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("browser");
    let page = browser.get(&url).send().await.expect("sign-in");
    assert_eq!(page.status(), 200, "the loopback page answered");
    while let Ok(Some(line)) = lines.next_line().await {
        printed.push_str(&line);
        printed.push('\n');
    }
    let mut output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("cpis login finished")
        .expect("cpis login ran");
    output.stdout = printed.into_bytes();
    assert!(
        !stderr(&output).contains("eyJ"),
        "a token reached the sign-in log"
    );
    output
}

async fn lookup_json(
    config: &Path,
    keyring: &str,
    nhs_number: &str,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let mut command = cpis(config, keyring);
    command
        .args(["lookup", nhs_number, "--json"])
        .args(extra)
        .env("RUST_LOG", "trace");
    let output = run(command).await;
    (output.status.code(), json(&output), stderr(&output))
}

/// What each seed manifest scenario must give. A new scenario fails this test until it is
/// added here on purpose.
fn expected_outcome(scenario: &str) -> (&'static str, i32) {
    match scenario {
        "cpp"
        | "lac"
        | "multiple"
        | "ended_within_window"
        | "unborn"
        | "unborn_ended_within_window"
        | "social_worker"
        | "no_social_worker"
        | "aged_17" => ("plan_found", 0),
        "no_plan" | "ended_outside_window" | "aged_18" | "unborn_ended_outside_window" => {
            ("no_plan", 0)
        }
        "not_in_pds" => ("patient_not_found", 3),
        other => panic!("seed manifest scenario `{other}` has no expected outcome in this test"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_then_every_manifest_scenario_gives_the_right_outcome() {
    require_secret_service();
    let idp = DevIdp::start();
    let service = start_service(&idp.issuer).await;
    let directory = tempfile::tempdir().expect("temp dir");
    let config = write_config(directory.path(), &service.base, &idp.issuer, 15_000);
    let keyring = keyring_namespace("e2e");

    let output = login(&config, &keyring, "ed-nurse").await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("Signed in as Tess Triage-Test"));
    assert!(stdout(&output).contains("Nurse Access Role at Northshire General Hospital"));

    let mut command = cpis(&config, &keyring);
    command.args(["whoami", "--json"]);
    let whoami = run(command).await;
    assert_eq!(whoami.status.code(), Some(0));
    let whoami = json(&whoami);
    assert_eq!(whoami["source"], "keyring");
    assert_eq!(whoami["lookup_permission"], "unscheduled");
    assert_eq!(whoami["selected_role"]["org_code"], "ZZ1ED");

    assert!(!service.manifest.scenarios.is_empty());
    for (scenario, numbers) in &service.manifest.scenarios {
        let (outcome, status) = expected_outcome(scenario);
        let nhs_number = numbers.first().expect("an example");
        let (code, json, log) = lookup_json(&config, &keyring, nhs_number, &[]).await;
        assert_eq!(json["outcome"], outcome, "{scenario}: {json}");
        assert_eq!(code, Some(status), "{scenario}");
        assert!(
            !log.contains(nhs_number.as_str()),
            "{scenario}: NHS number in the log"
        );
        assert!(!log.contains("eyJ"), "{scenario}: a token in the log");
        if outcome == "plan_found" {
            let plans = json["plans"].as_array().expect("plans");
            assert!(!plans.is_empty(), "{scenario}");
            for plan in plans {
                assert!(plan["local_authority"]["office_hours_phone"].is_string());
                assert!(plan["local_authority"]["emergency_duty_phone"].is_string());
            }
            assert!(
                json["access_history"]
                    .as_array()
                    .is_some_and(|history| !history.is_empty()),
                "{scenario}: the current viewer is in the history"
            );
            assert_eq!(json["unscheduled_access"], true);
            assert!(json["patient"]["date_of_birth"].is_string());
        }
        if scenario == "unborn" {
            assert!(
                json["plans"]
                    .as_array()
                    .is_some_and(|plans| plans.iter().any(|plan| plan["plan_type"] == "UCPP")),
                "unborn: {json}"
            );
        }
        if scenario == "multiple" {
            assert!(
                json["plans"]
                    .as_array()
                    .is_some_and(|plans| plans.len() >= 2)
            );
        }
    }

    // Every lookup went to the durable local audit queue in the data folder.
    let queue = cpis_audit::AuditQueue::open(&directory.path().join("data")).expect("audit queue");
    assert_eq!(
        queue.status().expect("status").waiting,
        service.manifest.scenarios.len() as u64,
        "one audit record per lookup"
    );
    let chain = queue.verify_chain().expect("chain");
    assert!(chain.findings.is_empty(), "{:?}", chain.findings);
    drop(queue);

    // `cpis audit`: the queue's status, a sync to the central audit log, the local chain.
    let lookups = service.manifest.scenarios.len() as u64;
    let mut command = cpis(&config, &keyring);
    command.args(["audit", "status", "--json"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json(&output)["waiting"], lookups);
    let mut command = cpis(&config, &keyring);
    command.args(["audit", "sync"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("Sent {lookups} records")),
        "{}",
        stdout(&output)
    );
    let mut command = cpis(&config, &keyring);
    command.args(["audit", "status", "--json"]);
    let status = json(&run(command).await);
    assert_eq!(status["waiting"], 0);
    assert_eq!(status["sent"], lookups);
    assert!(status["last_success_at"].is_string());
    let mut command = cpis(&config, &keyring);
    command.args(["audit", "verify"]);
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("whole"));

    // The session's access token works for automation through CPIS_ACCESS_TOKEN, from a
    // keyring namespace with no session in it; it is never printed.
    let session = cpis_client::KeyringTokenStore::new(keyring.clone(), "session")
        .load()
        .expect("keyring")
        .expect("session");
    let token = session.tokens.access_token.expose().to_owned();
    let no_plan = &service.manifest.scenarios["no_plan"][0];
    let mut command = cpis(&config, &keyring_namespace("env-token"));
    command
        .args(["lookup", no_plan, "--json"])
        .env("CPIS_ACCESS_TOKEN", &token)
        .env("RUST_LOG", "trace");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json(&output)["outcome"], "no_plan");
    assert!(!stdout(&output).contains(&token) && !stderr(&output).contains(&token));

    // Sign-out removes the tokens: the next lookup needs sign-in.
    let mut command = cpis(&config, &keyring);
    command.arg("logout");
    let output = run(command).await;
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).contains("also ended at the identity provider"),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let (code, json, _) = lookup_json(&config, &keyring, no_plan, &[]).await;
    assert_eq!(code, Some(4));
    assert_eq!(json["outcome"], "could_not_check");
    assert_eq!(json["reason"]["code"], "sign_in_required");
    assert_eq!(
        cpis_client::KeyringTokenStore::new(keyring, "session")
            .load()
            .expect("keyring"),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_care_reads_silently_and_a_user_without_a_role_cannot_look_up() {
    require_secret_service();
    let idp = DevIdp::start();
    let service = start_service(&idp.issuer).await;
    let directory = tempfile::tempdir().expect("temp dir");
    let config = write_config(directory.path(), &service.base, &idp.issuer, 15_000);
    let cpp = &service.manifest.scenarios["cpp"][0];

    let keyring = keyring_namespace("scheduled");
    let output = login(&config, &keyring, "scheduled-care").await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (code, json, _) = lookup_json(&config, &keyring, cpp, &[]).await;
    assert_eq!(code, Some(0));
    assert_eq!(json["outcome"], "plan_found");
    assert_eq!(json["unscheduled_access"], false);

    // A B0107 user may also ask for a silent read.
    let keyring = keyring_namespace("nurse-scheduled");
    let output = login(&config, &keyring, "ed-nurse").await;
    assert_eq!(output.status.code(), Some(0));
    let (code, json, _) = lookup_json(&config, &keyring, cpp, &["--scheduled"]).await;
    assert_eq!(code, Some(0));
    assert_eq!(json["unscheduled_access"], false);

    // An audit queue that cannot be written does not stop the answer, and says so.
    let broken = tempfile::tempdir().expect("temp dir");
    let blocker = broken.path().join("not-a-folder");
    std::fs::write(&blocker, "a file where the data folder should be").expect("write");
    let broken_config = broken.path().join("config.toml");
    std::fs::write(
        &broken_config,
        std::fs::read_to_string(&config).expect("config").replace(
            &format!("data_dir = \"{}\"", directory.path().join("data").display()),
            &format!("data_dir = \"{}\"", blocker.join("data").display()),
        ),
    )
    .expect("write config");
    let (code, json, log) = lookup_json(&broken_config, &keyring, cpp, &[]).await;
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(json["outcome"], "plan_found");
    assert!(log.contains("WARNING") && log.contains("audit"), "{log}");

    let keyring = keyring_namespace("no-role");
    let output = login(&config, &keyring, "no-role").await;
    assert_eq!(
        output.status.code(),
        Some(4),
        "signed in, but cannot look up"
    );
    assert!(
        stdout(&output).contains("do not have a role"),
        "{}",
        stdout(&output)
    );
    let (code, json, log) = lookup_json(&config, &keyring, cpp, &[]).await;
    assert_eq!(code, Some(4));
    assert_eq!(json["outcome"], "could_not_check");
    assert_eq!(json["reason"]["code"], "role_not_permitted");
    assert!(log.contains("do not have a role"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_access_token_is_refreshed_and_kept_in_the_keyring() {
    require_secret_service();
    // Access tokens live 30 seconds, inside the client's one-minute refresh margin: every
    // lookup refreshes first.
    let idp = DevIdp::start_with(&[("DEV_IDP_ACCESS_TOKEN_TTL_SECONDS", "30")]);
    let service = start_service(&idp.issuer).await;
    let directory = tempfile::tempdir().expect("temp dir");
    let config = write_config(directory.path(), &service.base, &idp.issuer, 15_000);
    let keyring = keyring_namespace("refresh");
    let output = login(&config, &keyring, "midwife").await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let store = cpis_client::KeyringTokenStore::new(keyring.clone(), "session");
    let before = store.load().expect("keyring").expect("session");

    let (code, json, log) = lookup_json(
        &config,
        &keyring,
        &service.manifest.scenarios["unborn"][0],
        &[],
    )
    .await;
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(json["outcome"], "plan_found");

    let after = store.load().expect("keyring").expect("session");
    assert_ne!(
        after.tokens.access_token.expose(),
        before.tokens.access_token.expose(),
        "the refreshed access token was saved"
    );
    assert_eq!(after.user.subject, before.user.subject);
    assert_eq!(
        after.signed_in_at, before.signed_in_at,
        "refresh does not extend the 12 hours"
    );
}
