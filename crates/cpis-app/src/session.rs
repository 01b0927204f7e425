//! Who is signed in: the session restored from the keyring, sign-in through the system browser
//! and the trust's token broker, the token refresh (single-flight, tagged with the session's
//! generation: see `credentials.rs`), and forgetting everything on lock and sign-out, which
//! also end the broker session.

use std::sync::atomic::Ordering;
use std::time::Duration;

use cpis_client::identity::LookupPermission;
use cpis_client::{Secret, Session, SignInError, SignedInUser};
use cpis_domain::ACTIVITY_SAFEGUARDING_REVIEW;
use cpis_ipc::{IpcError, IpcErrorCode, SessionView, UserView};
use time::OffsetDateTime;

use crate::AppCore;
use crate::credentials::Credentials;

/// How long to wait for the browser to bring the sign-in back.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(300);

/// Environment variable naming a user for the development identity provider to sign in
/// without a page (development and tests only; the national service ignores it).
pub const LOGIN_HINT_ENV: &str = "CPIS_LOGIN_HINT";

impl AppCore {
    /// Take up a session kept in the keyring, if it is still within its 12 hours.
    pub(crate) fn restore_session(&self) {
        match self.sessions.store().load() {
            Ok(Some(session)) if !session.is_past_max_age(OffsetDateTime::now_utc()) => {
                self.sessions.restore(session);
            }
            Ok(Some(_)) => {
                let _ = self.sessions.store().clear();
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(error = %error, "keyring could not be read"),
        }
    }

    fn current_session(&self) -> Option<Session> {
        self.sessions.current()
    }

    /// Who is signed in.
    pub fn session_view(&self) -> SessionView {
        if self.locked.load(Ordering::SeqCst) {
            return SessionView::Locked;
        }
        match self.current_session() {
            Some(session) => SessionView::SignedIn {
                user: user_view(&session.user),
            },
            None => SessionView::SignedOut,
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
            self.forget_everything();
        }
        let (replaced, saved) = self.sessions.install(session.clone());
        if let Some(replaced) = replaced {
            self.sessions.end_at_broker(replaced);
        }
        if let Err(error) = saved {
            tracing::error!(error = %error, "keyring could not store the session");
            self.sessions.end_at_broker(session);
            return Err(IpcError::new(IpcErrorCode::KeyringUnavailable));
        }
        self.locked.store(false, Ordering::SeqCst);
        Ok(self.session_view())
    }

    /// Cancel a sign-in that is waiting for the browser; a late answer signs nobody in.
    pub fn cancel_sign_in(&self) {
        self.sign_in_attempt.fetch_add(1, Ordering::SeqCst);
        self.sign_in_cancel.notify_waiters();
    }

    /// Forget the session, its tokens (memory and keyring) and every lookup's context, and end
    /// the broker session in the background (best effort: forgetting never waits for it).
    fn forget_everything(&self) {
        self.sequencer.invalidate_all();
        if let Some(previous) = self.sessions.forget() {
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
        self.forget_everything();
        self.locked.store(false, Ordering::SeqCst);
        self.session_view()
    }

    /// Lock after inactivity: like signing out, but the app says it is locked.
    pub async fn lock(&self) -> SessionView {
        let had_session = self.current_session().is_some();
        self.forget_everything();
        self.locked.store(had_session, Ordering::SeqCst);
        self.session_view()
    }

    /// The access token and user for a request, refreshing (single-flight) or ending the
    /// session as needed. Callers bound it with their own deadline.
    pub(crate) async fn credentials(&self) -> Option<(Secret, SignedInUser)> {
        match self.sessions.credentials(OffsetDateTime::now_utc()).await {
            Credentials::Ready(token, user) => Some((token, user)),
            Credentials::PastMaxAge => {
                self.forget_everything();
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
