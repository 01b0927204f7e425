//! Who is signed in: the session restored from the keyring, sign-in through the system browser
//! and the trust's token broker, the token refresh (single-flight, tagged with the session's
//! generation: see `credentials.rs`), and forgetting everything on lock and sign-out, which
//! also end the broker session.
//!
//! The inactivity lock is enforced here, not only by the UI's timer: the clinician's last
//! activity is kept with the session (in memory, and in the keyring so that it survives a
//! restart or a crash), a session idle for `lock_minutes` is not restored at start, and every
//! command that needs a signed-in clinician passes [`App::active_core`], which locks a session
//! idle past the limit and answers [`IpcErrorCode::Locked`], never data. Reading who is signed
//! in ([`AppCore::session_view`]) locks it too, so a reload of the UI (after its error screen)
//! shows the lock screen; a background task ([`AppCore::run_idle_lock`]) locks it on time even
//! when nothing asks. Activity is what the clinician does: a command they trigger, and input in
//! the window, which the UI reports ([`AppCore::report_activity`], rate-limited); never the
//! status bar, the audit sync, a token refresh, starting the app or reading the session.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use cpis_client::identity::LookupPermission;
use cpis_client::{Secret, Session, SignInError, SignedInUser};
use cpis_domain::ACTIVITY_SAFEGUARDING_REVIEW;
use cpis_ipc::{IpcError, IpcErrorCode, SessionView, UserView};
use time::OffsetDateTime;

use crate::credentials::{Credentials, IdleCheck};
use crate::{App, AppCore};

/// How long to wait for the browser to bring the sign-in back.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(300);

/// Environment variable naming a user for the development identity provider to sign in
/// without a page (development and tests only; the national service ignores it).
pub const LOGIN_HINT_ENV: &str = "CPIS_LOGIN_HINT";

/// How often the background task checks the inactivity limit ([`AppCore::run_idle_lock`]).
pub const IDLE_CHECK_EVERY: Duration = Duration::from_secs(15);

/// The wall clock that the inactivity lock and the session's 12 hours are read from. The app
/// uses [`SystemClock`]; tests put in their own.
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The computer's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

impl App {
    /// The core, for a command that needs a signed-in clinician, which counts as the
    /// clinician's activity: refused with [`IpcErrorCode::Locked`] when the app is locked, or
    /// the session has been idle for `lock_minutes` (it is then locked: forgotten here and
    /// ended at the broker). With nobody signed in the command runs and says sign-in is needed.
    pub fn active_core(&self) -> Result<Arc<AppCore>, IpcError> {
        let core = self.core()?;
        core.require_active()?;
        Ok(core)
    }

    /// Input in the window, reported by the UI's inactivity timer (rate-limited there).
    pub fn report_activity(&self) -> Result<(), IpcError> {
        self.core()?.report_activity()
    }
}

impl AppCore {
    /// Take up the session kept in the keyring, unless it is past its 12 hours (signed out)
    /// or idle past the inactivity limit (locked, and ended at the broker).
    pub(crate) fn restore_session(&self) {
        if let Some(locked) = self
            .sessions
            .restore(self.clock.now(), self.config.lock_after)
        {
            self.sessions.end_at_broker(locked);
        }
    }

    fn current_session(&self) -> Option<Session> {
        self.sessions.current()
    }

    /// Check the inactivity limit now; when it has just locked the session, drop every
    /// lookup's context and end the session at the broker as a lock does.
    fn check_idle(&self, activity: bool) -> IdleCheck {
        let check = self
            .sessions
            .check_idle(self.clock.now(), self.config.lock_after, activity);
        if let IdleCheck::Locked(Some(session)) = &check {
            self.sequencer.invalidate_all();
            self.forget_lookups();
            self.sessions.end_at_broker((**session).clone());
        }
        check
    }

    /// Refused with [`IpcErrorCode::Locked`] when locked (or idle past the limit now, which
    /// locks); otherwise the clinician's activity is recorded (when signed in).
    pub(crate) fn require_active(&self) -> Result<(), IpcError> {
        match self.check_idle(true) {
            IdleCheck::Locked(_) => Err(IpcError::new(IpcErrorCode::Locked)),
            IdleCheck::SignedOut | IdleCheck::Active => Ok(()),
        }
    }

    /// Input in the window (keys, mouse, touch), as the UI's inactivity timer reports it:
    /// activity, unless the session is already idle past the limit, when it is locked and
    /// stays locked (a late report never brings a session back).
    pub fn report_activity(&self) -> Result<(), IpcError> {
        self.require_active()
    }

    /// Lock the session when it has been idle past the limit, every `every`, for as long as
    /// the app runs, so that the tokens are forgotten on time even when nothing asks (the UI
    /// showing its error screen, or its timer stopped). Not activity.
    pub async fn run_idle_lock(self: Arc<Self>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            self.check_idle(false);
        }
    }

    /// Who is signed in, or locked. Not activity; a session idle past the limit is locked
    /// now, so a UI that reloads (after its error screen) cannot bypass the lock.
    pub fn session_view(&self) -> SessionView {
        if let IdleCheck::Locked(_) = self.check_idle(false) {
            return SessionView::Locked;
        }
        match self.sessions.state() {
            (_, true) => SessionView::Locked,
            (Some(session), false) => SessionView::SignedIn {
                user: user_view(&session.user),
            },
            (None, false) => SessionView::SignedOut,
        }
    }

    /// Sign in through the system browser and the trust's broker: `open_url` opens the
    /// broker's authorization URL; the loopback redirect brings the one-time code back. A new
    /// sign-in replaces the previous session, which is ended at the broker.
    pub async fn sign_in(
        &self,
        open_url: impl FnOnce(&str) -> bool,
    ) -> Result<SessionView, IpcError> {
        // A new sign-in replaces any still waiting; only the newest may sign anyone in.
        let attempt = self.sign_in_attempt.fetch_add(1, Ordering::SeqCst) + 1;
        self.sign_in_cancel.notify_waiters();
        let cancelled = || IpcError::new(IpcErrorCode::SignInCancelled);
        let broker = self.sessions.broker().clone();
        let loopback = cpis_client::LoopbackRedirect::bind()
            .await
            .map_err(|_| IpcError::unexpected())?;
        let hint = std::env::var(LOGIN_HINT_ENV)
            .ok()
            .filter(|hint| !hint.is_empty());
        let pending = broker.begin(loopback.redirect_uri(), hint.as_deref());
        let cancel = self.sign_in_cancel.notified();
        tokio::pin!(cancel);
        cancel.as_mut().enable();
        if !open_url(pending.authorize_url.as_str()) {
            return Err(IpcError::new(IpcErrorCode::BrowserUnavailable));
        }
        let callback = tokio::select! {
            callback = loopback.wait_for_callback(pending.state().to_owned(), SIGN_IN_WAIT) => {
                callback.map_err(|_| IpcError::new(IpcErrorCode::SignInNotFinished))?
            }
            () = &mut cancel => return Err(cancelled()),
        };
        let session = broker.complete(pending, callback).await.map_err(|error| {
            tracing::warn!(error = %error, "sign-in refused");
            match error {
                SignInError::Broker(_) => IpcError::new(IpcErrorCode::IdentityProviderUnreachable),
                _ => IpcError::new(IpcErrorCode::SignInRefused),
            }
        })?;
        if self.sign_in_attempt.load(Ordering::SeqCst) != attempt {
            self.sessions.end_at_broker(session);
            return Err(cancelled());
        }
        let previous = self.current_session();
        if previous.is_some_and(|previous| previous.user.subject != session.user.subject) {
            self.forget_everything(false);
        }
        let (replaced, saved) = self.sessions.install(session.clone(), self.clock.now());
        if let Some(replaced) = replaced {
            self.sessions.end_at_broker(replaced);
        }
        if let Err(error) = saved {
            tracing::error!(error = %error, "keyring could not store the session");
            self.sessions.end_at_broker(session);
            return Err(IpcError::new(IpcErrorCode::KeyringUnavailable));
        }
        Ok(self.session_view())
    }

    /// Cancel a sign-in that is waiting for the browser; a late answer signs nobody in.
    pub fn cancel_sign_in(&self) {
        self.sign_in_attempt.fetch_add(1, Ordering::SeqCst);
        self.sign_in_cancel.notify_waiters();
    }

    /// Forget the session, its tokens (memory and keyring) and every lookup's context, and end
    /// the broker session in the background (best effort: forgetting never waits for it).
    /// `lock` says whether the app then says locked rather than signed out.
    fn forget_everything(&self, lock: bool) {
        self.sequencer.invalidate_all();
        if let Some(previous) = self.sessions.forget(lock) {
            self.sessions.end_at_broker(previous);
        }
        self.forget_lookups();
    }

    fn forget_lookups(&self) {
        if let Ok(mut lookups) = self.lookups.lock() {
            lookups.clear();
        }
    }

    /// Sign out: forgotten here at once, ended at the broker in the background.
    pub async fn sign_out(&self) -> SessionView {
        self.forget_everything(false);
        self.session_view()
    }

    /// Lock after inactivity: like signing out, but the app says it is locked (when someone
    /// was signed in, or it was locked already).
    pub async fn lock(&self) -> SessionView {
        self.forget_everything(true);
        self.session_view()
    }

    /// The access token and user for a request, refreshing (single-flight) or ending the
    /// session as needed. Callers bound it with their own deadline. A session idle past the
    /// limit gives none (it is locked), whoever calls: the guard in front of every command
    /// ([`App::active_core`]) has a second line behind it.
    pub(crate) async fn credentials(&self) -> Option<(Secret, SignedInUser)> {
        if let IdleCheck::Locked(_) = self.check_idle(false) {
            return None;
        }
        match self.sessions.credentials(self.clock.now()).await {
            Credentials::Ready(token, user) => Some((token, user)),
            Credentials::PastMaxAge => {
                self.forget_everything(false);
                None
            }
            Credentials::SignedOut => {
                if self.current_session().is_none() {
                    self.forget_lookups();
                }
                None
            }
        }
    }
}

fn user_view(user: &SignedInUser) -> UserView {
    let role = user.selected_role();
    let role_ref = user.selected_role_ref();
    let permission = user.lookup_permission();
    UserView {
        name: user.name.clone(),
        role_name: role
            .map(|role| cpis_ipc::display_role_name(&role.role_name))
            .unwrap_or_else(|| "No role selected".into()),
        organisation_ods: role_ref.organisation_ods,
        organisation_name: role_ref.organisation_name,
        can_look_up: permission != LookupPermission::NotPermitted,
        cannot_look_up_reason: user.cannot_look_up_because().map(str::to_string),
        unscheduled: permission == LookupPermission::Unscheduled,
        can_review: role.is_some_and(|role| role.has_activity(ACTIVITY_SAFEGUARDING_REVIEW)),
    }
}
