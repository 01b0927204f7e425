//! The signed-in session in memory and in the keyring, with its generation, the clinician's
//! last activity (the inactivity lock), and the access token's refresh at the broker.
//!
//! Every change of who is signed in (sign-in, sign-out, lock, another user, a session the
//! broker ended) starts a new generation, under the same lock that writes the keyring. A
//! refresh is single-flight (one at a time; callers that need it meanwhile wait for that one
//! and share its result) and tagged with the generation it started in: a refresh that finishes
//! in a later generation is thrown away, never written to memory or the keyring, so a late
//! answer cannot bring back a session that was signed out or locked, or replace another
//! user's.
//!
//! The last activity lives in the same slot as the session, and the inactivity limit is checked
//! and acted on under the slot's lock ([`Sessions::check_idle`]): a session found idle past the
//! limit is forgotten and the slot says locked in one step, so a sign-in that lands meanwhile is
//! never forgotten in its place. The activity is written to the keyring beside the session
//! (`cpis_client::idle_lock`) at sign-in and then at most once a minute, never by a refresh.

use std::sync::{Arc, Mutex, MutexGuard};

use cpis_client::idle_lock::{Idleness, PERSIST_EVERY, idleness, last_activity};
use cpis_client::{Broker, KeyringTokenStore, Secret, Session, SignInError, SignedInUser};
use time::OffsetDateTime;
use tokio::sync::watch;

/// How long ending a session at the broker may take before it is given up (best effort).
const END_AT_BROKER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

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

/// What [`Sessions::check_idle`] found.
#[derive(Debug)]
pub(crate) enum IdleCheck {
    /// Nobody is signed in, and the app is not locked.
    SignedOut,
    /// Locked: now, or before. When it was locked just now, the session that was forgotten,
    /// for the caller to end at the broker.
    Locked(Option<Box<Session>>),
    /// Signed in and within the limit (and, when asked, the activity recorded).
    Active,
}

/// When the clinician was last active in the session in memory, and the last time written to
/// the keyring.
#[derive(Debug, Clone, Copy)]
struct Activity {
    last: OffsetDateTime,
    written: Option<OffsetDateTime>,
}

struct Slot {
    session: Option<Session>,
    generation: u64,
    /// The refresh in flight, the generation it belongs to, and where its result appears.
    in_flight: Option<(u64, watch::Receiver<Option<Refreshed>>)>,
    /// The clinician's last activity in `session` (`None` with no session).
    activity: Option<Activity>,
    /// The session was forgotten by the inactivity lock (until someone signs in or out).
    locked: bool,
}

impl Slot {
    /// Forget the session (a new generation); `lock` says whether the app now says locked.
    fn forget(&mut self, store: &KeyringTokenStore, lock: bool) -> Option<Session> {
        self.generation += 1;
        self.in_flight = None;
        self.activity = None;
        let previous = self.session.take();
        self.locked = lock && (previous.is_some() || self.locked);
        if let Err(error) = store.clear() {
            tracing::error!(error = %error, "keyring could not be cleared");
        }
        previous
    }
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
                    activity: None,
                    locked: false,
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

    pub(crate) fn broker(&self) -> &Broker {
        &self.inner.broker
    }

    /// The session now, and whether the app is locked.
    pub(crate) fn state(&self) -> (Option<Session>, bool) {
        let slot = self.slot();
        (slot.session.clone(), slot.locked)
    }

    /// The session now.
    pub(crate) fn current(&self) -> Option<Session> {
        self.slot().session.clone()
    }

    /// Take up the session kept in the keyring at start, at `now` (a new generation; the
    /// session is not saved again, and starting is not activity). One past its 12 hours is
    /// cleared: signed out. One whose last activity (recorded beside it, else its sign-in) is
    /// `lock_after` or more ago is cleared and the app says locked: it is returned, for the
    /// caller to end at the broker. Closing and reopening the app, or a crash, never skips the
    /// inactivity lock.
    pub(crate) fn restore(
        &self,
        now: OffsetDateTime,
        lock_after: std::time::Duration,
    ) -> Option<Session> {
        let store = &self.inner.store;
        let session = match store.load() {
            Ok(Some(session)) => session,
            Ok(None) => return None,
            Err(error) => {
                tracing::warn!(error = %error, "keyring could not be read");
                return None;
            }
        };
        let mut slot = self.slot();
        if session.is_past_max_age(now) {
            slot.forget(store, false);
            return None;
        }
        let recorded = match store.recorded_activity(&session) {
            Ok(recorded) => recorded,
            Err(error) => {
                // Counted from the sign-in: the session can only lock earlier than it should.
                tracing::warn!(error = %error, "the last activity could not be read");
                None
            }
        };
        let last = last_activity(&session, recorded);
        if idleness(last, now, lock_after) == Idleness::PastLimit {
            tracing::info!("the kept session was idle past the inactivity limit; locked");
            slot.session = Some(session);
            return slot.forget(store, true);
        }
        slot.generation += 1;
        slot.in_flight = None;
        slot.session = Some(session);
        slot.activity = Some(Activity {
            last,
            written: recorded,
        });
        None
    }

    /// Install a new sign-in at `now` (a new generation): saved to the keyring, then kept in
    /// memory, with signing in as its last activity; the app is no longer locked. Returns the
    /// session it replaced, whose broker session the caller ends, and whether the keyring took
    /// the new one. When the keyring refuses, nothing is kept (and the keyring is cleared).
    pub(crate) fn install(
        &self,
        session: Session,
        now: OffsetDateTime,
    ) -> (Option<Session>, Result<(), cpis_client::TokenStoreError>) {
        let mut slot = self.slot();
        slot.generation += 1;
        slot.in_flight = None;
        slot.activity = None;
        let previous = slot.session.take();
        let saved = self.inner.store.save(&session);
        match &saved {
            Ok(()) => {
                slot.locked = false;
                slot.activity = Some(Activity {
                    last: now,
                    written: None,
                });
                write_activity(&self.inner.store, &session, &mut slot.activity, now);
                slot.session = Some(session);
            }
            Err(_) => {
                let _ = self.inner.store.clear();
            }
        }
        (previous, saved)
    }

    /// Forget the session in memory and in the keyring (a new generation). Returns it, so the
    /// caller can end it at the broker. `lock` says whether the app then says locked (when
    /// there was a session, or it was locked already) or signed out.
    pub(crate) fn forget(&self, lock: bool) -> Option<Session> {
        self.slot().forget(&self.inner.store, lock)
    }

    /// The inactivity limit at `now`, checked and acted on in one step: a session whose last
    /// activity is `lock_after` or more ago is forgotten (memory and keyring) and the app says
    /// locked. Within the limit, `activity` records `now` as the clinician's last activity
    /// (written to the keyring when the last write is a minute old or more).
    pub(crate) fn check_idle(
        &self,
        now: OffsetDateTime,
        lock_after: std::time::Duration,
        activity: bool,
    ) -> IdleCheck {
        let mut slot = self.slot();
        let Some(session) = slot.session.clone() else {
            return if slot.locked {
                IdleCheck::Locked(None)
            } else {
                IdleCheck::SignedOut
            };
        };
        let last = slot
            .activity
            .map_or(session.signed_in_at, |activity| activity.last);
        if idleness(last, now, lock_after) == Idleness::PastLimit {
            tracing::info!("no activity for the inactivity limit; the session is locked");
            let forgotten = slot.forget(&self.inner.store, true);
            return IdleCheck::Locked(forgotten.map(Box::new));
        }
        if activity {
            let written = slot.activity.and_then(|activity| activity.written);
            slot.activity = Some(Activity { last: now, written });
            write_activity(&self.inner.store, &session, &mut slot.activity, now);
        }
        IdleCheck::Active
    }

    /// End a broker session in the background: best effort, never holding anything up. Called
    /// from async commands, and also where there is no async runtime (at start, or from a
    /// command the shell runs on its main thread): then on a thread of its own.
    pub(crate) fn end_at_broker(&self, session: Session) {
        let broker = self.inner.broker.clone();
        let handle = session.tokens.session_handle;
        let end = async move {
            let ended = tokio::time::timeout(END_AT_BROKER_WAIT, broker.end(&handle)).await;
            match ended {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(error = %error, "the broker session could not be ended");
                }
                Err(_) => tracing::warn!("the broker did not answer the end of the session"),
            }
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(end);
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("end-broker-session".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(end),
                    Err(error) => {
                        tracing::warn!(error = %error, "the broker session was not ended")
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(error = %error, "the broker session was not ended");
        }
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
                slot.activity = None;
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

/// Write the last activity to the keyring unless it was written less than
/// [`PERSIST_EVERY`] ago (a sign-in writes at once). A failed write is logged: the running app
/// goes by memory, and a restart can then only lock earlier than it should.
fn write_activity(
    store: &KeyringTokenStore,
    session: &Session,
    activity: &mut Option<Activity>,
    now: OffsetDateTime,
) {
    let Some(activity) = activity else {
        return;
    };
    let due = activity
        .written
        .is_none_or(|written| now - written >= PERSIST_EVERY || written > now);
    if !due {
        return;
    }
    match store.record_activity(session, now) {
        Ok(()) => activity.written = Some(now),
        Err(error) => tracing::warn!(error = %error, "the last activity could not be written"),
    }
}
