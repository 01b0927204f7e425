//! The signed-in session in memory and in the keyring, with its generation, and the access
//! token's refresh at the broker.
//!
//! Every change of who is signed in (sign-in, sign-out, lock, another user, a session the
//! broker ended) starts a new generation, under the same lock that writes the keyring. A
//! refresh is single-flight (one at a time; callers that need it meanwhile wait for that one
//! and share its result) and tagged with the generation it started in: a refresh that finishes
//! in a later generation is thrown away, never written to memory or the keyring, so a late
//! answer cannot bring back a session that was signed out or locked, or replace another
//! user's.

use std::sync::{Arc, Mutex, MutexGuard};

use cpis_client::{Broker, KeyringTokenStore, Secret, Session, SignInError, SignedInUser};
use time::OffsetDateTime;
use tokio::sync::watch;

/// How a refresh ended, as its waiters see it.
#[derive(Debug, Clone)]
pub(crate) enum Refreshed {
    /// A fresh access token, now in memory and in the keyring.
    Renewed(Box<Session>),
    /// The broker no longer knows the session: it has been forgotten; sign in again.
    Ended,
    /// The broker could not be asked, or refused for another reason; the session is kept.
    Failed,
    /// Finished after sign-out, lock or another sign-in: thrown away.
    Superseded,
}

/// What [`Sessions::credentials`] found.
#[derive(Debug)]
pub(crate) enum Credentials {
    /// A token and its user.
    Ready(Secret, SignedInUser),
    /// Nobody is signed in (or the session just ended).
    SignedOut,
    /// The session is past its 12 hours: the caller forgets everything.
    PastMaxAge,
}

struct Slot {
    session: Option<Session>,
    generation: u64,
    /// The refresh in flight, the generation it belongs to, and where its result appears.
    in_flight: Option<(u64, watch::Receiver<Option<Refreshed>>)>,
}

struct Inner {
    slot: Mutex<Slot>,
    store: KeyringTokenStore,
    broker: Broker,
}

/// The session, its generation and its refresh. Cheap to clone (shared).
#[derive(Clone)]
pub(crate) struct Sessions {
    inner: Arc<Inner>,
}

impl Sessions {
    pub(crate) fn new(store: KeyringTokenStore, broker: Broker) -> Sessions {
        Sessions {
            inner: Arc::new(Inner {
                slot: Mutex::new(Slot {
                    session: None,
                    generation: 0,
                    in_flight: None,
                }),
                store,
                broker,
            }),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.inner
            .slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn store(&self) -> &KeyringTokenStore {
        &self.inner.store
    }

    pub(crate) fn broker(&self) -> &Broker {
        &self.inner.broker
    }

    /// The session now.
    pub(crate) fn current(&self) -> Option<Session> {
        self.slot().session.clone()
    }

    /// Take up a session read from the keyring at start (a new generation; not saved again).
    pub(crate) fn restore(&self, session: Session) {
        let mut slot = self.slot();
        slot.generation += 1;
        slot.in_flight = None;
        slot.session = Some(session);
    }

    /// Install a new sign-in (a new generation): saved to the keyring, then kept in memory.
    /// Returns the session it replaced, whose broker session the caller ends, and whether
    /// the keyring took the new one. When the keyring refuses, nothing is kept (and the
    /// keyring is cleared).
    pub(crate) fn install(
        &self,
        session: Session,
    ) -> (Option<Session>, Result<(), cpis_client::TokenStoreError>) {
        let mut slot = self.slot();
        slot.generation += 1;
        slot.in_flight = None;
        let previous = slot.session.take();
        let saved = self.inner.store.save(&session);
        match &saved {
            Ok(()) => slot.session = Some(session),
            Err(_) => {
                let _ = self.inner.store.clear();
            }
        }
        (previous, saved)
    }

    /// Forget the session in memory and in the keyring (a new generation). Returns it, so the
    /// caller can end it at the broker.
    pub(crate) fn forget(&self) -> Option<Session> {
        let mut slot = self.slot();
        slot.generation += 1;
        slot.in_flight = None;
        let previous = slot.session.take();
        if let Err(error) = self.inner.store.clear() {
            tracing::error!(error = %error, "keyring could not be cleared");
        }
        previous
    }

    /// End a broker session in the background: best effort, never holding anything up.
    pub(crate) fn end_at_broker(&self, session: Session) {
        let broker = self.inner.broker.clone();
        let handle = session.tokens.session_handle;
        tokio::spawn(async move {
            if let Err(error) = broker.end(&handle).await {
                tracing::warn!(error = %error, "the broker session could not be ended");
            }
        });
    }

    /// The access token and user for a request at `now`. A token that needs refreshing but
    /// still works is used at once while the refresh runs; an expired one waits for the
    /// refresh (single-flight).
    pub(crate) async fn credentials(&self, now: OffsetDateTime) -> Credentials {
        let (session, mut done) = {
            let mut slot = self.slot();
            let Some(session) = slot.session.clone() else {
                return Credentials::SignedOut;
            };
            if session.is_past_max_age(now) {
                return Credentials::PastMaxAge;
            }
            if !session.access_token_needs_refresh(now) {
                return Credentials::Ready(session.tokens.access_token, session.user);
            }
            let done = self.refresh_locked(&mut slot, &session);
            (session, done)
        };
        if !session.access_token_expired(now) {
            return Credentials::Ready(session.tokens.access_token, session.user);
        }
        let outcome = match done.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone(),
            Err(_) => None,
        };
        match outcome {
            Some(Refreshed::Renewed(session)) => {
                Credentials::Ready(session.tokens.access_token, session.user)
            }
            Some(Refreshed::Ended | Refreshed::Superseded) => Credentials::SignedOut,
            // The broker could not be asked: the expired token will be refused by the service,
            // which the lookup reports as "could not check".
            Some(Refreshed::Failed) | None => {
                Credentials::Ready(session.tokens.access_token, session.user)
            }
        }
    }

    /// The refresh in flight for this generation, or a new one. Called with the slot locked,
    /// so a caller either joins the refresh or sees its result in the slot.
    fn refresh_locked(
        &self,
        slot: &mut Slot,
        session: &Session,
    ) -> watch::Receiver<Option<Refreshed>> {
        let generation = slot.generation;
        if let Some((in_flight, done)) = &slot.in_flight
            && *in_flight == generation
        {
            return done.clone();
        }
        let (sender, done) = watch::channel(None);
        slot.in_flight = Some((generation, done.clone()));
        let sessions = self.clone();
        let session = session.clone();
        tokio::spawn(async move {
            let result = sessions.inner.broker.refresh(&session).await;
            let outcome = sessions.finish_refresh(generation, result);
            let _ = sender.send(Some(outcome));
        });
        done
    }

    /// Write a refresh's result back, only if its generation is still the current one.
    fn finish_refresh(&self, generation: u64, result: Result<Session, SignInError>) -> Refreshed {
        let mut slot = self.slot();
        if slot.generation != generation {
            tracing::info!("a refresh finished after the session changed; it was thrown away");
            return Refreshed::Superseded;
        }
        slot.in_flight = None;
        match result {
            Ok(refreshed) => {
                if let Err(error) = self.inner.store.save(&refreshed) {
                    tracing::error!(error = %error, "keyring could not store the refreshed session");
                }
                slot.session = Some(refreshed.clone());
                Refreshed::Renewed(Box::new(refreshed))
            }
            Err(SignInError::SignInRequired) => {
                slot.generation += 1;
                slot.session = None;
                if let Err(error) = self.inner.store.clear() {
                    tracing::error!(error = %error, "keyring could not be cleared");
                }
                tracing::warn!("the broker ended the session; sign in again");
                Refreshed::Ended
            }
            Err(error) => {
                tracing::warn!(error = %error, "token refresh failed");
                Refreshed::Failed
            }
        }
    }
}
