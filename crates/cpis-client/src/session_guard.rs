//! The signed-in session as a lookup needs it: loaded from the keyring, ended after 12 hours,
//! locked after `lock_minutes` without activity (the app's inactivity lock: `idle_lock.rs`),
//! and refreshed at the broker (and saved again) when its access token is about to expire.
//! Used by the CLI; the app keeps its session in memory and refreshes it single-flight.

use time::OffsetDateTime;

use crate::config::{SignInConfig, TlsConfig};
use crate::identity::Session;
use crate::idle_lock::{Idleness, idleness, last_activity, limit_minutes};
use crate::sign_in::{Broker, SignInError};
use crate::token_store::{KeyringTokenStore, TokenStoreError};

/// Why there is no usable session. Every variant means "sign in again", except
/// [`SessionError::Keyring`], which means the keyring itself is unavailable.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Nobody is signed in.
    #[error("not signed in")]
    NotSignedIn,
    /// The 12 hours have passed, or the broker ended the session; it has been cleared.
    #[error("the session has ended")]
    Ended,
    /// Nobody used the session for the inactivity limit: it is locked, as the app locks, and
    /// has been cleared (and ended at the broker).
    #[error(
        "the session is locked: nobody used CP-IS Viewer for {minutes} minutes or more, so it has been removed"
    )]
    Locked {
        /// The limit, `lock_minutes`.
        minutes: u64,
    },
    /// The access token could not be refreshed.
    #[error("the session could not be renewed: {0}")]
    Refresh(#[from] SignInError),
    /// The keyring could not be used.
    #[error(transparent)]
    Keyring(#[from] TokenStoreError),
}

/// Whether the command asking for the session is the clinician's activity, which keeps the
/// session from locking. A deliberate command such as a lookup is; anything a script or a
/// timer may run on its own (reading who is signed in, sending the audit queue) is not, so it
/// never keeps a walked-away clinician's session open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Counts as activity: recorded in the keyring once the session is known to be usable.
    Counts,
    /// Does not count.
    DoesNotCount,
}

/// The rules a stored session is held to.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits<'a> {
    /// Where the broker is (to refresh, and to end a locked session).
    pub sign_in: &'a SignInConfig,
    /// How to reach it.
    pub tls: &'a TlsConfig,
    /// The inactivity limit (`lock_minutes`).
    pub lock_after: std::time::Duration,
}

/// The stored session at `now` if it may still be used: not past its 12 hours (else cleared:
/// [`SessionError::Ended`]) and not idle past the limit (else cleared and ended at the broker:
/// [`SessionError::Locked`]). Neither refreshes nor records activity.
pub async fn checked_session(
    limits: SessionLimits<'_>,
    store: &KeyringTokenStore,
    now: OffsetDateTime,
) -> Result<Session, SessionError> {
    let session = store.load()?.ok_or(SessionError::NotSignedIn)?;
    if session.is_past_max_age(now) {
        store.clear()?;
        return Err(SessionError::Ended);
    }
    let recorded = store.recorded_activity(&session)?;
    if idleness(last_activity(&session, recorded), now, limits.lock_after) == Idleness::PastLimit {
        store.clear()?;
        end_at_broker(limits, &session).await;
        return Err(SessionError::Locked {
            minutes: limit_minutes(limits.lock_after),
        });
    }
    Ok(session)
}

/// End a locked session at the broker: best effort, a few seconds at most.
async fn end_at_broker(limits: SessionLimits<'_>, session: &Session) {
    let ended = async {
        let broker = Broker::new(limits.sign_in, limits.tls)?;
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            broker.end(&session.tokens.session_handle),
        )
        .await
        .unwrap_or_else(|_| Err(SignInError::Broker("no answer in time".into())))
    }
    .await;
    if let Err(error) = ended {
        tracing::warn!(%error, "the locked session could not be ended at the broker");
    }
}

/// The current session, ready for a lookup at `now`: [`checked_session`], then, for a
/// command that is [`Activity::Counts`], the activity recorded, then the access token
/// refreshed when it is about to expire.
pub async fn usable_session(
    limits: SessionLimits<'_>,
    store: &KeyringTokenStore,
    now: OffsetDateTime,
    activity: Activity,
) -> Result<Session, SessionError> {
    let session = checked_session(limits, store, now).await?;
    if activity == Activity::Counts
        && let Err(error) = store.record_activity(&session, now)
    {
        // The lookup goes on; the session will only lock earlier than it should.
        tracing::warn!(%error, "the activity could not be recorded in the keyring");
    }
    if !session.access_token_needs_refresh(now) {
        return Ok(session);
    }
    let refreshed = async {
        Broker::new(limits.sign_in, limits.tls)?
            .refresh(&session)
            .await
    }
    .await;
    match refreshed {
        Ok(refreshed) => {
            store.save(&refreshed)?;
            Ok(refreshed)
        }
        Err(SignInError::SignInRequired) => {
            store.clear()?;
            Err(SessionError::Ended)
        }
        // The broker being unreachable must not stop lookups while the token still works:
        // refreshing starts a minute early, so use the current token until it really expires.
        Err(error) if !session.access_token_expired(now) => {
            tracing::warn!(%error, "could not renew the session; using the current access token");
            Ok(session)
        }
        Err(error) => Err(SessionError::Refresh(error)),
    }
}
