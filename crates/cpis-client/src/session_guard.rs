//! The signed-in session as a lookup needs it: loaded from the keyring, ended after 12 hours,
//! and refreshed (and saved again) when its access token is about to expire. Shared by the app
//! and the CLI so both follow the same rules.

use time::OffsetDateTime;

use crate::config::{OidcConfig, TlsConfig};
use crate::identity::Session;
use crate::oidc::{OidcError, SignIn};
use crate::token_store::{KeyringTokenStore, TokenStoreError};

/// Why there is no usable session. Every variant means "sign in again", except
/// [`SessionError::Keyring`], which means the keyring itself is unavailable.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Nobody is signed in.
    #[error("not signed in")]
    NotSignedIn,
    /// The 12 hours have passed; the session has been cleared.
    #[error("the session has ended after 12 hours")]
    Ended,
    /// The access token could not be refreshed.
    #[error("the session could not be renewed: {0}")]
    Refresh(#[from] OidcError),
    /// The keyring could not be used.
    #[error(transparent)]
    Keyring(#[from] TokenStoreError),
}

/// The current session, ready for a lookup at `now`.
pub async fn usable_session(
    oidc: &OidcConfig,
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
    let refreshed = async {
        let sign_in = SignIn::discover(oidc, tls).await?;
        sign_in.refresh(&session).await
    }
    .await;
    match refreshed {
        Ok(refreshed) => {
            store.save(&refreshed)?;
            Ok(refreshed)
        }
        // The provider being unreachable must not stop lookups while the token still works:
        // refreshing starts a minute early, so use the current token until it really expires.
        Err(error) if !session.access_token_expired(now) => {
            tracing::warn!(%error, "could not renew the session; using the current access token");
            Ok(session)
        }
        Err(error) => Err(SessionError::Refresh(error)),
    }
}
