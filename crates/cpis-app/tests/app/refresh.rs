//! The session's refresh and end at the broker, against the controllable fake broker and the
//! real keyring: a refresh that finishes after sign-out, lock or another user's sign-in is
//! thrown away (hazard log: a late refresh restoring an ended session); lookups that need a
//! refresh at the same time share one; sign-out, lock and user switch end the broker session
//! (no revocation at sign-out); and the lookup deadline covers getting credentials (the
//! deadline not covering credentials). Each fails against the app as it was before issue 14.

use std::path::Path;
use std::time::{Duration, Instant};

use cpis_app::AppCore;
use cpis_client::{Config, KeyringTokenStore};
use cpis_ipc::{CouldNotCheckCode, LookupView, SessionView};

use crate::fake_broker::{FakeBroker, browse};
use crate::secret_service::require_secret_service;
use crate::{same_store, store};

/// A valid NHS number of the synthetic data.
const NHS_NUMBER: &str = "9990000018";

/// The local demo's configuration with the broker at `broker` and every service at a port
/// where nothing listens (the lookups here are about getting credentials).
fn config(data_dir: &Path, broker: &FakeBroker, deadline: Duration) -> Config {
    let mut config = crate::config_with_broker(data_dir, broker);
    config.lookup_deadline = deadline;
    config
}

fn start(data_dir: &Path, broker: &FakeBroker, store: KeyringTokenStore) -> AppCore {
    start_with_deadline(data_dir, broker, store, Duration::from_secs(5))
}

fn start_with_deadline(
    data_dir: &Path,
    broker: &FakeBroker,
    store: KeyringTokenStore,
    deadline: Duration,
) -> AppCore {
    AppCore::new(
        config(data_dir, broker, deadline),
        store,
        "test".to_string(),
    )
    .expect("the core starts")
}

/// Sign `hint` in through the app's own sign-in, the fake broker and a stand-in browser.
async fn sign_in(core: &AppCore, hint: &str) {
    let hint = hint.to_owned();
    let view = core
        .sign_in(move |url| {
            let url = format!("{url}&login_hint={hint}");
            tokio::spawn(browse(url));
            true
        })
        .await
        .expect("signed in");
    assert!(matches!(view, SessionView::SignedIn { .. }), "{view:?}");
}

fn user_name(core: &AppCore) -> Option<String> {
    match core.session_view() {
        SessionView::SignedIn { user } => Some(user.name),
        _ => None,
    }
}

fn support_reference(view: &LookupView) -> Option<&str> {
    match view {
        LookupView::CouldNotCheck {
            support_reference, ..
        } => support_reference.as_deref(),
        _ => None,
    }
}

fn reason(view: &LookupView) -> Option<CouldNotCheckCode> {
    match view {
        LookupView::CouldNotCheck { reason_code, .. } => Some(*reason_code),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_that_finishes_after_sign_out_is_thrown_away() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    fake.set_expires_in(0);
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("late-refresh-sign-out");
    let behind = same_store(&store);
    let core = start(data.path(), &fake, store);
    sign_in(&core, "ed-nurse").await;
    let handle = fake.handles()[0].clone();
    fake.hold_refreshes();
    let (looked_up, ()) = tokio::join!(core.lookup(NHS_NUMBER), async {
        fake.wait_for_held_refreshes(1).await;
        assert_eq!(core.sign_out().await, SessionView::SignedOut);
        fake.release_refreshes(1);
    });
    // Signing out drops the answer of the lookup in flight.
    assert!(
        matches!(looked_up.view, LookupView::Superseded),
        "{:?}",
        looked_up.view
    );
    // Give a late write every chance to happen.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(core.session_view(), SessionView::SignedOut);
    assert_eq!(
        behind.load().expect("load"),
        None,
        "the keyring stays empty"
    );
    assert_eq!(fake.wait_for_ended(1).await, [handle]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_that_finishes_after_lock_is_thrown_away() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    fake.set_expires_in(0);
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("late-refresh-lock");
    let behind = same_store(&store);
    let core = start(data.path(), &fake, store);
    sign_in(&core, "ed-nurse").await;
    let handle = fake.handles()[0].clone();
    fake.hold_refreshes();
    let (looked_up, ()) = tokio::join!(core.lookup(NHS_NUMBER), async {
        fake.wait_for_held_refreshes(1).await;
        assert_eq!(core.lock().await, SessionView::Locked);
        fake.release_refreshes(1);
    });
    assert!(
        matches!(looked_up.view, LookupView::Superseded),
        "{:?}",
        looked_up.view
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(core.session_view(), SessionView::Locked);
    assert_eq!(
        behind.load().expect("load"),
        None,
        "the keyring stays empty"
    );
    // A restart after the lock does not bring the session back either.
    let again = start(data.path(), &fake, same_store(&behind));
    assert_eq!(again.session_view(), SessionView::SignedOut);
    assert_eq!(fake.wait_for_ended(1).await, [handle]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_that_finishes_after_another_user_signs_in_keeps_the_new_user() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    fake.set_expires_in(0);
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("late-refresh-switch");
    let behind = same_store(&store);
    let core = start(data.path(), &fake, store);
    sign_in(&core, "ed-nurse").await;
    let first_handle = fake.handles()[0].clone();
    fake.hold_refreshes();
    let (_, ()) = tokio::join!(core.lookup(NHS_NUMBER), async {
        fake.wait_for_held_refreshes(1).await;
        sign_in(&core, "other-nurse").await;
        fake.release_refreshes(1);
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(user_name(&core).as_deref(), Some("Olly Other-Test"));
    let kept = behind.load().expect("load").expect("a session");
    assert_eq!(kept.user.subject, "900000000002", "the new user's session");
    assert_ne!(kept.tokens.session_handle.expose(), first_handle);
    assert_eq!(
        fake.wait_for_ended(1).await,
        [first_handle],
        "the first user's broker session is ended"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_that_need_a_refresh_at_the_same_time_share_one() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    fake.set_expires_in(0);
    let data = tempfile::tempdir().expect("tempdir");
    let core = start(data.path(), &fake, store("single-flight"));
    sign_in(&core, "ed-nurse").await;
    fake.hold_refreshes();
    let (first, second, ()) =
        tokio::join!(core.lookup(NHS_NUMBER), core.lookup(NHS_NUMBER), async {
            fake.wait_for_held_refreshes(1).await;
            // Time for a second refresh to arrive if one were sent.
            tokio::time::sleep(Duration::from_millis(300)).await;
            fake.release_refreshes(10);
        });
    assert_eq!(
        fake.refresh_calls().len(),
        1,
        "one refresh for both lookups"
    );
    // Both went on to the (unreachable) services with the refreshed token.
    for view in [&first.view, &second.view] {
        assert!(
            matches!(
                reason(view),
                Some(
                    CouldNotCheckCode::ServiceUnreachable
                        | CouldNotCheckCode::DemographicsUnavailable
                )
            ) || matches!(view, LookupView::Superseded),
            "{view:?}"
        );
    }
    assert_eq!(user_name(&core).as_deref(), Some("Tess Triage-Test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_and_lock_end_the_broker_session_even_when_it_fails() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("end-at-broker");
    let behind = same_store(&store);
    let core = start(data.path(), &fake, store);
    sign_in(&core, "ed-nurse").await;
    let first = fake.handles()[0].clone();
    core.sign_out().await;
    assert_eq!(fake.wait_for_ended(1).await, std::slice::from_ref(&first));
    // The broker failing to end the session never keeps it here.
    fake.set_end_status(500);
    sign_in(&core, "ed-nurse").await;
    let second = fake.handles()[1].clone();
    assert_eq!(core.lock().await, SessionView::Locked);
    assert_eq!(behind.load().expect("load"), None);
    assert_eq!(fake.wait_for_ended(2).await, [first, second]);
    assert_eq!(core.session_view(), SessionView::Locked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_refresh_ends_in_could_not_check_within_the_deadline() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    fake.set_expires_in(0);
    let data = tempfile::tempdir().expect("tempdir");
    let deadline = Duration::from_millis(1000);
    let core = start_with_deadline(data.path(), &fake, store("deadline"), deadline);
    sign_in(&core, "ed-nurse").await;
    fake.hold_refreshes(); // and never released
    let started = Instant::now();
    let looked_up = core.lookup(NHS_NUMBER).await;
    let took = started.elapsed();
    assert_eq!(reason(&looked_up.view), Some(CouldNotCheckCode::Timeout));
    // Nothing was sent, so there is no TraceID to give the service desk.
    assert_eq!(support_reference(&looked_up.view), None);
    assert!(
        took < deadline + Duration::from_millis(300),
        "answered after {took:?}"
    );
    assert!(took >= deadline, "answered early, after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_could_not_check_offers_a_support_reference_with_the_trace_id_and_no_patient_data() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let core = start(data.path(), &fake, store("support-reference"));
    sign_in(&core, "ed-nurse").await;
    // The services do not listen: the demographics request is sent, with a TraceID, and fails.
    let looked_up = core.lookup(NHS_NUMBER).await;
    let code = reason(&looked_up.view).expect("could not check");
    let reference = support_reference(&looked_up.view).expect("a support reference");
    let trace_id = reference
        .strip_prefix("TraceID ")
        .and_then(|rest| rest.split(';').next())
        .expect("starts with the TraceID");
    assert!(
        uuid::Uuid::parse_str(trace_id).is_ok(),
        "a TraceID, not {trace_id}: {reference}"
    );
    assert!(
        reference.contains(&format!("; reason {}", code.as_str())),
        "{reference}"
    );
    assert!(!reference.contains(NHS_NUMBER), "{reference}");
    assert!(!reference.contains("999 000 0018"), "{reference}");
}
