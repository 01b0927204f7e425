//! The inactivity lock enforced by the core, not only by the UI's timer, in the orders in which
//! it really happens: closing and reopening the app after the limit, a crash (no clean
//! shutdown: the last activity written to the keyring decides), a reload of the UI after its
//! error screen (Rust still says locked), activity just before the limit, the limit to the
//! second, and background calls that are not activity. Against the real keyring, the fake
//! broker (which sees the locked session ended) and a clock the test moves. Before issue 16 a
//! restart restored the previous clinician with no idle check and no command was refused.

use std::path::Path;
use std::sync::{Arc, Mutex};

use cpis_app::{App, AppCore, Clock};
use cpis_client::KeyringTokenStore;
use cpis_ipc::{IpcErrorCode, LookupView, SessionView};
use time::{Duration, OffsetDateTime};

use crate::fake_broker::{FakeBroker, browse};
use crate::secret_service::require_secret_service;
use crate::{same_store, store};

/// The inactivity limit of these tests (`lock_minutes = 15`, the default).
const LIMIT: Duration = Duration::minutes(15);

/// A valid NHS number of the synthetic data.
const NHS_NUMBER: &str = "9990000018";

/// A wall clock the test moves by hand.
#[derive(Clone)]
struct TestClock(Arc<Mutex<OffsetDateTime>>);

impl TestClock {
    /// A whole second a minute ahead of the real clock, so that the sign-in's own time (read
    /// from the real clock) is never later than the test's "now".
    fn new() -> TestClock {
        let now = OffsetDateTime::now_utc() + Duration::minutes(1);
        let whole = now.replace_nanosecond(0).expect("a valid time");
        TestClock(Arc::new(Mutex::new(whole)))
    }

    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock")
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock") += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        TestClock::now(self)
    }
}

/// Start the app (its core, as the shell holds it) on `store`, with the broker at `broker` and
/// every service at a port where nothing listens.
fn start(data_dir: &Path, broker: &FakeBroker, store: KeyringTokenStore, clock: &TestClock) -> App {
    let mut config = crate::config_with_broker(data_dir, broker);
    config.lock_after = std::time::Duration::from_secs(15 * 60);
    let core = AppCore::with_clock(config, store, "test".into(), Arc::new(clock.clone()))
        .expect("the core starts");
    App::Ready(Arc::new(core))
}

async fn sign_in(app: &App) {
    let view = app
        .core()
        .expect("a core")
        .sign_in(|url| {
            tokio::spawn(browse(format!("{url}&login_hint=ed-nurse")));
            true
        })
        .await
        .expect("signed in");
    assert!(matches!(view, SessionView::SignedIn { .. }), "{view:?}");
}

fn signed_in(app: &App) -> bool {
    matches!(app.session_view(), SessionView::SignedIn { .. })
}

/// What a command that needs a signed-in clinician gets: `Ok` or the error's code.
fn guard(app: &App) -> Result<(), IpcErrorCode> {
    app.active_core().map(|_| ()).map_err(|error| error.code())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_and_reopening_after_the_limit_restores_nothing_and_says_locked() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("idle-reopen");
    let behind = same_store(&store);
    let clock = TestClock::new();
    let app = start(data.path(), &fake, store, &clock);
    sign_in(&app).await;
    let handle = fake.handles()[0].clone();
    clock.advance(Duration::minutes(5));
    assert_eq!(guard(&app), Ok(()), "a command five minutes in is activity");
    drop(app);

    // Closed for fifteen minutes after the last activity, then opened again.
    clock.advance(LIMIT);
    let app = start(data.path(), &fake, same_store(&behind), &clock);
    assert_eq!(app.session_view(), SessionView::Locked);
    assert_eq!(guard(&app), Err(IpcErrorCode::Locked));
    assert_eq!(
        app.report_activity().map_err(|error| error.code()),
        Err(IpcErrorCode::Locked),
        "input on the lock screen does not bring the session back"
    );
    assert_eq!(behind.load().expect("load"), None, "no tokens left");
    assert_eq!(
        fake.wait_for_ended(1).await,
        [handle],
        "the session is ended at the broker"
    );
    // And a third start is simply signed out: nothing is left to restore.
    let app = start(data.path(), &fake, same_store(&behind), &clock);
    assert_eq!(app.session_view(), SessionView::SignedOut);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_within_the_limit_restores_the_session_and_starting_is_not_activity() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("idle-reopen-within");
    let behind = same_store(&store);
    let clock = TestClock::new();
    let app = start(data.path(), &fake, store, &clock);
    sign_in(&app).await;
    drop(app);

    clock.advance(LIMIT - Duration::SECOND);
    let app = start(data.path(), &fake, same_store(&behind), &clock);
    assert!(signed_in(&app), "a second before the limit it is taken up");
    drop(app);

    // Opening the app (and asking who is signed in) did not count: the limit still runs from
    // the sign-in.
    clock.advance(Duration::SECOND);
    let app = start(data.path(), &fake, same_store(&behind), &clock);
    assert_eq!(app.session_view(), SessionView::Locked);
    assert_eq!(behind.load().expect("load"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_the_last_activity_written_decides_and_never_late() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("idle-crash");
    let behind = same_store(&store);
    let clock = TestClock::new();
    let app = start(data.path(), &fake, store, &clock);
    sign_in(&app).await; // written: T
    clock.advance(Duration::seconds(30));
    assert_eq!(guard(&app), Ok(())); // in memory only: written less than a minute ago
    clock.advance(Duration::seconds(40));
    assert_eq!(app.report_activity(), Ok(())); // T+70s, written
    let written = clock.now();
    clock.advance(Duration::seconds(30));
    assert_eq!(app.report_activity(), Ok(())); // T+100s, in memory only
    // The process dies: nothing of the app runs on the way out.
    std::mem::forget(app);

    clock.advance(LIMIT - Duration::seconds(31));
    let app = start(data.path(), &fake, same_store(&behind), &clock);
    assert!(
        signed_in(&app),
        "restored a second before the limit from the last activity written"
    );
    std::mem::forget(app);

    // Fifteen minutes after the last activity written (T+70s) it is locked, although the app
    // had seen activity 30 seconds later: a crash makes the lock early, never late.
    clock.advance(Duration::SECOND);
    assert_eq!(clock.now() - written, LIMIT);
    let app = start(data.path(), &fake, same_store(&behind), &clock);
    assert_eq!(app.session_view(), SessionView::Locked);
    assert_eq!(behind.load().expect("load"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_after_the_error_screen_is_locked_by_rust_and_gives_no_data() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("idle-error-screen");
    let behind = same_store(&store);
    let clock = TestClock::new();
    let app = start(data.path(), &fake, store, &clock);
    sign_in(&app).await;
    let handle = fake.handles()[0].clone();
    assert_eq!(guard(&app), Ok(()));
    // The UI shows its error screen: its timer is gone and it reports nothing. The core
    // keeps running; the status bar is not the clinician.
    clock.advance(LIMIT);
    let _ = app.status();
    // The UI reloads and asks who is signed in first.
    assert_eq!(app.session_view(), SessionView::Locked);
    assert_eq!(behind.load().expect("load"), None);
    assert_eq!(fake.wait_for_ended(1).await, [handle]);
    // Every command that needs a clinician is refused as locked; the core's own lookup has
    // nobody's credentials.
    assert_eq!(guard(&app), Err(IpcErrorCode::Locked));
    let core = app.core().expect("a core");
    let looked_up = core.lookup(NHS_NUMBER).await;
    assert!(
        matches!(looked_up.view, LookupView::CouldNotCheck { .. }),
        "{:?}",
        looked_up.view
    );
    // Signing in again is the way out.
    sign_in(&app).await;
    assert_eq!(guard(&app), Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_past_the_limit_locks_and_gets_the_locked_error() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("idle-command");
    let behind = same_store(&store);
    let clock = TestClock::new();
    let app = start(data.path(), &fake, store, &clock);
    sign_in(&app).await;
    clock.advance(LIMIT + Duration::minutes(3));
    // The lookup's guard, with no session_state before it (a UI timer that stopped).
    assert_eq!(guard(&app), Err(IpcErrorCode::Locked));
    assert_eq!(app.session_view(), SessionView::Locked);
    assert_eq!(behind.load().expect("load"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_just_before_the_limit_keeps_the_session_and_the_limit_is_to_the_second() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("idle-edges");
    let behind = same_store(&store);
    let clock = TestClock::new();
    let app = start(data.path(), &fake, store, &clock);
    sign_in(&app).await;
    clock.advance(LIMIT - Duration::SECOND);
    assert_eq!(
        app.report_activity(),
        Ok(()),
        "input a second before the limit"
    );
    clock.advance(LIMIT - Duration::SECOND);
    assert!(signed_in(&app), "a second before the new limit");
    assert_eq!(
        guard(&app),
        Ok(()),
        "a lookup a second before the new limit"
    );
    // From that lookup, exactly fifteen minutes: locked.
    clock.advance(LIMIT);
    assert_eq!(app.session_view(), SessionView::Locked);
    assert_eq!(behind.load().expect("load"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_calls_are_not_activity() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("idle-background");
    let behind = same_store(&store);
    let clock = TestClock::new();
    let app = start(data.path(), &fake, store, &clock);
    sign_in(&app).await;
    let session = behind.load().expect("load").expect("a session");
    let signed_in_at = behind.recorded_activity(&session).expect("read");
    for _ in 0..14 {
        clock.advance(Duration::minutes(1));
        // The status bar's refresh, the settings and the session state, every minute.
        let _ = app.status();
        let _ = app.ui_settings();
        assert!(signed_in(&app));
    }
    assert_eq!(
        behind.recorded_activity(&session).expect("read"),
        signed_in_at,
        "nothing but the sign-in was written"
    );
    clock.advance(Duration::minutes(1));
    assert_eq!(app.session_view(), SessionView::Locked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_locks_on_time_when_nothing_asks() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("idle-watchdog");
    let behind = same_store(&store);
    let clock = TestClock::new();
    let app = start(data.path(), &fake, store, &clock);
    sign_in(&app).await;
    let handle = fake.handles()[0].clone();
    let core = app.core().expect("a core");
    let watchdog =
        tokio::spawn(Arc::clone(&core).run_idle_lock(std::time::Duration::from_millis(20)));
    clock.advance(LIMIT - Duration::SECOND);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        behind.load().expect("load").is_some(),
        "kept before the limit"
    );
    clock.advance(Duration::SECOND);
    // Nobody calls anything: the tokens are forgotten and the broker session ended anyway.
    assert_eq!(fake.wait_for_ended(1).await, [handle]);
    assert_eq!(behind.load().expect("load"), None);
    watchdog.abort();
    assert_eq!(app.session_view(), SessionView::Locked);
}
