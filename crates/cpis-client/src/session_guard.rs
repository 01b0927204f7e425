//! The signed-in session as a lookup needs it: loaded from the keyring, ended after 12 hours,
//! and refreshed at the broker (and saved again) when its access token is about to expire.
//! Used by the CLI; the app keeps its session in memory and refreshes it single-flight.

use time::OffsetDateTime;

use crate::config::{SignInConfig, TlsConfig};
use crate::identity::Session;
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
    /// The access token could not be refreshed.
    #[error("the session could not be renewed: {0}")]
    Refresh(#[from] SignInError),
    /// The keyring could not be used.
    #[error(transparent)]
    Keyring(#[from] TokenStoreError),
}

/// The current session, ready for a lookup at `now`.
pub async fn usable_session(
    sign_in: &SignInConfig,
    tls: &TlsConfig,
    store: &KeyringTokenStore,
    now: OffsetDateTime,
) -> Result<Session, SessionError> {
    let session = store.load()?.ok_or(SessionError::NotSignedIn)?;
    if session.is_past_max_age(now) {
        store.clear()?;
        return Err(SessionError::Ended);
    }
    if !session.access_token_needs_refresh(now) {
        return Ok(session);
    }
    let refreshed = async { Broker::new(sign_in, tls)?.refresh(&session).await }.await;
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
