//! End to end, signing in as the national platform requires: the development identity provider
//! (node, the CIS2 stand-in), the token broker and the reference platform (in-process, seeded
//! SQLite in temporary folders; the platform exchanges the broker's ID tokens for opaque
//! tokens, the only tokens its APIs take), the real Secret Service, and `cpis` as a process
//! (`support/sign_in_stack.rs`). `cpis login` then `cpis lookup` gives the right outcome for
//! every scenario in the seed manifest; refresh and sign-out go through the broker.

use std::path::Path;
use std::time::Duration;

use cpis_service::seed::{Manifest, SeedOptions};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::secret_service::require_secret_service;
use crate::support::sign_in_stack::SignInStack;
use crate::support::*;

/// The three pieces, the platform seeded with synthetic patients.
async fn start_stack() -> SignInStack {
    SignInStack::start_seeded(SeedOptions {
        children: 2000,
        seed: 7,
        // The service's day is the UK date (not the UTC date, an hour behind in summer).
        today: cpis_domain::uk_time::uk_today(),
        examples_per_scenario: 2,
    })
    .await
}

fn manifest(stack: &SignInStack) -> &Manifest {
    stack.manifest.as_ref().expect("a seeded platform")
}

/// A configuration for `cpis` pointing at the stack.
fn stack_config(directory: &Path, stack: &SignInStack) -> std::path::PathBuf {
    write_config(directory, &stack.platform_url, &stack.broker_url, 15_000)
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
    let stack = start_stack().await;
    let directory = tempfile::tempdir().expect("temp dir");
    let config = stack_config(directory.path(), &stack);
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

    assert!(!manifest(&stack).scenarios.is_empty());
    for (scenario, numbers) in &manifest(&stack).scenarios {
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
                for phone in ["office_hours_phone", "emergency_duty_phone"] {
                    assert!(
                        plan["local_authority"][phone]["display"].is_string(),
                        "{scenario}: {phone}"
                    );
                }
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
        if scenario == "unborn_ended_within_window" {
            // Due 0 to 28 days ago: "Due date passed N days ago", as the app shows it, never
            // "Ended".
            let plan = &json["plans"][0];
            let due = time::Date::parse(
                plan["end"].as_str().expect("a due date"),
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .expect("a date");
            let checked_at = time::OffsetDateTime::parse(
                json["checked_at"].as_str().expect("checked_at"),
                &time::format_description::well_known::Rfc3339,
            )
            .expect("a time");
            let days = (cpis_domain::uk_time::uk_date(checked_at) - due).whole_days();
            let expected = match days {
                0 => ("due_today", "Due date is today".to_owned()),
                1 => ("due_passed", "Due date passed 1 day ago".to_owned()),
                days => ("due_passed", format!("Due date passed {days} days ago")),
            };
            assert_eq!(plan["status"]["code"], expected.0, "{json}");
            assert_eq!(plan["status"]["text"], expected.1, "{json}");
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
    // Encrypted under the key `cpis` keeps in the keyring beside the session.
    let queue_key = cpis_client::QueueKeyStore::new(keyring.clone())
        .load()
        .expect("keyring")
        .expect("the queue's key is in the keyring");
    let queue_file = directory
        .path()
        .join("data")
        .join(cpis_audit::QUEUE_FILE_NAME);
    assert!(
        !std::fs::read(&queue_file)
            .expect("queue file")
            .starts_with(b"SQLite format 3\0"),
        "the queue on disk is encrypted"
    );
    let queue = cpis_audit::AuditQueue::open_encrypted(&directory.path().join("data"), &queue_key)
        .expect("audit queue");
    assert_eq!(
        queue.status().expect("status").waiting,
        manifest(&stack).scenarios.len() as u64,
        "one audit record per lookup"
    );
    let chain = queue.verify_chain().expect("chain");
    assert!(chain.findings.is_empty(), "{:?}", chain.findings);
    drop(queue);

    // `cpis audit`: the queue's status, a sync to the central audit log, the local chain.
    let lookups = manifest(&stack).scenarios.len() as u64;
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
    let no_plan = &manifest(&stack).scenarios["no_plan"][0];
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
        stdout(&output).contains("also ended at the sign-in service"),
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
    let stack = start_stack().await;
    let directory = tempfile::tempdir().expect("temp dir");
    let config = stack_config(directory.path(), &stack);
    let cpp = &manifest(&stack).scenarios["cpp"][0];

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
    let stack = start_stack().await;
    let directory = tempfile::tempdir().expect("temp dir");
    let config = stack_config(directory.path(), &stack);
    let keyring = keyring_namespace("refresh");
    let output = login(&config, &keyring, "midwife").await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let store = cpis_client::KeyringTokenStore::new(keyring.clone(), "session");
    // The access token is about to expire (inside the client's one-minute refresh margin):
    // the next lookup refreshes it at the broker first.
    let mut before = store.load().expect("keyring").expect("session");
    before.tokens.access_token_expires_at =
        Some(time::OffsetDateTime::now_utc() + time::Duration::seconds(30));
    store.save(&before).expect("save");

    let (code, json, log) = lookup_json(
        &config,
        &keyring,
        &manifest(&stack).scenarios["unborn"][0],
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
