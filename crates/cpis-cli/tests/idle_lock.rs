//! `cpis` honours the app's inactivity lock on the session they share in the keyring: a session
//! left idle past `lock_minutes` (the app closed, crashed or on its error screen) is refused with
//! exit 4 and removed, and ended at the broker; once the app has locked, `cpis` cannot bring the
//! session back; a lookup is activity, `whoami` and `audit sync` are not. The app's side of the
//! keyring (the session and its last activity, written as `cpis-app`'s tests show) is written
//! here with the same store, the real Secret Service; `cpis` runs as a process against the fake
//! broker. Before issue 16 `cpis` used such a session as if the clinician were still there.

use std::path::Path;
use std::time::Duration;

use cpis_client::KeyringTokenStore;
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::fake_broker::{FakeBroker, browse};
use crate::support::secret_service::require_secret_service;
use crate::support::*;

/// A valid NHS number of the synthetic data.
const NHS_NUMBER: &str = "9990000018";

fn closed_port_base() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    format!("http://127.0.0.1:{port}")
}

/// `cpis login --no-browser --login-hint ed-nurse`, with this test as the browser.
async fn login(config: &Path, keyring: &str) {
    let mut command = cpis(config, keyring);
    command
        .args(["login", "--no-browser", "--login-hint", "ed-nurse"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("cpis login");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("cpis login printed the address")
            .expect("read")
            .expect("a line");
        if line.starts_with("http") {
            break line;
        }
    };
    assert_eq!(browse(url).await, 200, "the loopback page answered");
    while let Ok(Some(_)) = lines.next_line().await {}
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("cpis login finished")
        .expect("cpis login ran");
    assert!(status.success(), "cpis login: {status}");
}

/// A signed-in `cpis` against the fake broker, every service at a closed port.
struct Signed {
    _directory: tempfile::TempDir,
    config: std::path::PathBuf,
    keyring: String,
    store: KeyringTokenStore,
    broker: FakeBroker,
}

async fn signed_in(test: &str) -> Signed {
    require_secret_service();
    let broker = FakeBroker::start().await;
    let directory = tempfile::tempdir().expect("temp dir");
    let config = write_config(directory.path(), &closed_port_base(), &broker.url, 1000);
    let keyring = keyring_namespace(test);
    login(&config, &keyring).await;
    let store = KeyringTokenStore::new(keyring.clone(), "session");
    // Signed in an hour ago (in the app, say): from here the recorded activity decides.
    let mut session = store.load().expect("keyring").expect("a session");
    session.signed_in_at -= time::Duration::hours(1);
    store.save(&session).expect("save");
    Signed {
        _directory: directory,
        config,
        keyring,
        store,
        broker,
    }
}

impl Signed {
    /// The app's last activity in the shared session, `ago` before now, as the app writes it.
    fn app_was_last_used(&self, ago: time::Duration) -> OffsetDateTime {
        let session = self.store.load().expect("keyring").expect("a session");
        let at = (OffsetDateTime::now_utc() - ago)
            .replace_nanosecond(0)
            .expect("a time");
        self.store.record_activity(&session, at).expect("write");
        at
    }

    fn last_activity(&self) -> Option<OffsetDateTime> {
        let session = self.store.load().expect("keyring")?;
        self.store.recorded_activity(&session).expect("read")
    }

    async fn run(&self, args: &[&str]) -> std::process::Output {
        let mut command = cpis(&self.config, &self.keyring);
        command.args(args);
        run(command).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_idle_past_the_limit_is_refused_removed_and_ended() {
    let signed = signed_in("idle-refused").await;
    let handle = signed.broker.handles()[0].clone();
    // The app was closed (or crashed, or showed its error screen) sixteen minutes after its
    // last activity.
    signed.app_was_last_used(time::Duration::minutes(16));
    let output = signed.run(&["lookup", NHS_NUMBER, "--json"]).await;
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let answer = json(&output);
    assert_eq!(answer["outcome"], "could_not_check");
    assert_eq!(answer["reason"]["code"], "sign_in_required");
    assert!(
        stderr(&output).contains("locked: nobody used CP-IS Viewer for 15 minutes")
            && stderr(&output).contains("Sign in with: cpis login"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        signed.store.load().expect("keyring"),
        None,
        "the locked session is removed"
    );
    assert_eq!(signed.broker.wait_for_ended(1).await, [handle]);
    // Nothing was sent for the patient: the services were never asked.
    let output = signed.run(&["lookup", NHS_NUMBER]).await;
    assert_eq!(output.status.code(), Some(4));
    assert!(
        stderr(&output).contains("not signed in"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpis_cannot_unlock_a_session_the_app_locked() {
    let signed = signed_in("idle-app-locked").await;
    signed.app_was_last_used(time::Duration::minutes(3));
    // The app locks: it forgets the session, which clears the shared keyring entry.
    signed.store.clear().expect("the app's lock");
    for args in [&["lookup", NHS_NUMBER][..], &["whoami"], &["audit", "sync"]] {
        let output = signed.run(args).await;
        assert_eq!(
            output.status.code(),
            Some(4),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(
        signed.store.load().expect("keyring"),
        None,
        "still locked: only signing in again brings a session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_is_activity_and_whoami_and_audit_sync_are_not() {
    let signed = signed_in("idle-activity").await;
    let app_last = signed.app_was_last_used(time::Duration::minutes(10));

    let output = signed.run(&["whoami"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = signed.run(&["audit", "sync"]).await;
    assert_ne!(output.status.code(), Some(4), "{}", stderr(&output));
    assert_eq!(
        signed.last_activity(),
        Some(app_last),
        "whoami and audit sync are not activity"
    );

    let before = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("time");
    let output = signed.run(&["lookup", NHS_NUMBER]).await;
    // The services are down: not checked, but the clinician did look up.
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let recorded = signed.last_activity().expect("recorded");
    assert!(
        recorded >= before,
        "a lookup is activity: {recorded} < {before}"
    );

    // Fifteen minutes after that, whoami says locked (and removes the session).
    signed.app_was_last_used(time::Duration::minutes(15));
    let output = signed.run(&["whoami"]).await;
    assert_eq!(output.status.code(), Some(4));
    assert!(stderr(&output).contains("locked"), "{}", stderr(&output));
    assert_eq!(signed.store.load().expect("keyring"), None);
}
