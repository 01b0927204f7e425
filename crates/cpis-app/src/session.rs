//! Who is signed in: the session restored from the keyring, sign-in through the system browser,
//! token refresh, and forgetting everything on lock and sign-out.

use std::sync::atomic::Ordering;
use std::time::Duration;

use cpis_client::identity::LookupPermission;
use cpis_client::{Secret, Session, SignIn, SignedInUser};
use cpis_domain::ACTIVITY_SAFEGUARDING_REVIEW;
use cpis_ipc::{IpcError, IpcErrorCode, SessionView, UserView};
use time::OffsetDateTime;

use crate::AppCore;

/// How long to wait for the browser to bring the sign-in back.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(300);

/// Environment variable naming a user for the development identity provider to sign in
/// without a page (development and tests only; the national service ignores it).
pub const LOGIN_HINT_ENV: &str = "CPIS_LOGIN_HINT";

impl AppCore {
    /// Take up a session kept in the keyring, if it is still within its 12 hours.
    pub(crate) fn restore_session(&self) {
        match self.store.load() {
            Ok(Some(session)) if !session.is_past_max_age(OffsetDateTime::now_utc()) => {
                self.set_session(Some(session));
            }
            Ok(Some(_)) => {
                let _ = self.store.clear();
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(error = %error, "keyring could not be read"),
        }
    }

    fn set_session(&self, session: Option<Session>) {
        if let Ok(mut guard) = self.session.lock() {
            *guard = session;
        }
    }

    fn current_session(&self) -> Option<Session> {
        self.session.lock().ok().and_then(|guard| guard.clone())
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

    async fn discovered(&self) -> Result<tokio::sync::MutexGuard<'_, Option<SignIn>>, IpcError> {
        let mut guard = self.sign_in.lock().await;
        if guard.is_none() {
            let discovered = SignIn::discover(&self.config.oidc, &self.config.tls).await;
            let sign_in = discovered.map_err(|error| {
                tracing::warn!(error = %error, "identity provider discovery failed");
                IpcError::new(IpcErrorCode::IdentityProviderUnreachable)
            })?;
            *guard = Some(sign_in);
        }
        Ok(guard)
    }

    /// Sign in through the system browser: `open_url` opens the authorization URL; the
    /// loopback redirect brings the code back. A different user replaces the previous one.
    pub async fn sign_in(
        &self,
        open_url: impl FnOnce(&str) -> bool,
    ) -> Result<SessionView, IpcError> {
        // A new sign-in replaces any still waiting; only the newest may sign anyone in.
        let attempt = self.sign_in_attempt.fetch_add(1, Ordering::SeqCst) + 1;
        self.sign_in_cancel.notify_waiters();
        let cancelled = || IpcError::new(IpcErrorCode::SignInCancelled);
        let sign_in = self
            .discovered()
            .await?
            .as_ref()
            .cloned()
            .ok_or_else(IpcError::unexpected)?;
        let loopback = cpis_client::LoopbackRedirect::bind()
            .await
            .map_err(|_| IpcError::unexpected())?;
        let hint = std::env::var(LOGIN_HINT_ENV)
            .ok()
            .filter(|hint| !hint.is_empty());
        let pending = sign_in
            .begin(loopback.redirect_uri(), hint.as_deref())
            .map_err(|_| IpcError::unexpected())?;
        let cancel = self.sign_in_cancel.notified();
        tokio::pin!(cancel);
        cancel.as_mut().enable();
        if !open_url(pending.authorize_url.as_str()) {
            return Err(IpcError::new(IpcErrorCode::BrowserUnavailable));
        }
        let callback = tokio::select! {
            callback = loopback.wait_for_callback(SIGN_IN_WAIT) => callback.map_err(|_| {
                IpcError::new(IpcErrorCode::SignInNotFinished)
            })?,
            () = &mut cancel => return Err(cancelled()),
        };
        let session = sign_in.complete(pending, callback).await.map_err(|error| {
            tracing::warn!(error = %error, "sign-in refused");
            IpcError::new(IpcErrorCode::SignInRefused)
        })?;
        if self.sign_in_attempt.load(Ordering::SeqCst) != attempt {
            return Err(cancelled());
        }
        let previous = self.current_session();
        if previous.is_some_and(|previous| previous.user.subject != session.user.subject) {
            self.forget_everything();
        }
        self.store.save(&session).map_err(|error| {
            tracing::error!(error = %error, "keyring could not store the session");
            IpcError::new(IpcErrorCode::KeyringUnavailable)
        })?;
        self.set_session(Some(session));
        self.locked.store(false, Ordering::SeqCst);
        Ok(self.session_view())
    }

    /// Cancel a sign-in that is waiting for the browser; a late answer signs nobody in.
    pub fn cancel_sign_in(&self) {
        self.sign_in_attempt.fetch_add(1, Ordering::SeqCst);
        self.sign_in_cancel.notify_waiters();
    }

    /// Forget the session, its tokens (memory and keyring) and every lookup's context.
    fn forget_everything(&self) {
        self.sequencer.invalidate_all();
        self.set_session(None);
        if let Err(error) = self.store.clear() {
            tracing::error!(error = %error, "keyring could not be cleared");
        }
        if let Ok(mut lookups) = self.lookups.lock() {
            lookups.clear();
        }
    }

    /// Sign out.
    pub fn sign_out(&self) -> SessionView {
        self.forget_everything();
        self.locked.store(false, Ordering::SeqCst);
        self.session_view()
    }

    /// Lock after inactivity: like signing out, but the app says it is locked.
    pub fn lock(&self) -> SessionView {
        let had_session = self.current_session().is_some();
        self.forget_everything();
        self.locked.store(had_session, Ordering::SeqCst);
        self.session_view()
    }

    /// The access token and user for a request, refreshing or ending the session as needed.
    pub(crate) async fn credentials(&self) -> Option<(Secret, SignedInUser)> {
        let session = self.current_session()?;
        let now = OffsetDateTime::now_utc();
        if session.is_past_max_age(now) {
            self.forget_everything();
            return None;
        }
        if session.access_token_needs_refresh(now)
            && session.tokens.refresh_token.is_some()
            && let Ok(guard) = self.discovered().await
            && let Some(sign_in) = guard.as_ref()
        {
            match sign_in.refresh(&session).await {
                Ok(refreshed) => {
                    let _ = self.store.save(&refreshed);
                    self.set_session(Some(refreshed.clone()));
                    return Some((refreshed.tokens.access_token, refreshed.user));
                }
                Err(error) => tracing::warn!(error = %error, "token refresh failed"),
            }
        }
        Some((session.tokens.access_token, session.user))
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
