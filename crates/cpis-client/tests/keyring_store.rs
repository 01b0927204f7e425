//! The session store against the real OS keyring (the Secret Service on Linux): a round trip
//! of a session larger than Windows' 2,560-byte limit, replacement by another user, clearing,
//! recovery from a damaged entry, and a reader while the session is being rewritten.

use cpis_client::token_store::CHUNK_CHARS;
use cpis_client::{KeyringTokenStore, Secret, Session, Tokens};
use time::macros::datetime;

use crate::support::secret_service::require_secret_service;
use crate::support::synthetic::user_with;

const SERVICE: &str = "uk.nhs.cpis-viewer.tests";

fn store(test: &str) -> KeyringTokenStore {
    KeyringTokenStore::new(SERVICE, format!("{test}-{}", uuid::Uuid::new_v4()))
}

fn session(subject: &str, token_size: usize) -> Session {
    let mut user = user_with(&["B0107"]);
    user.subject = subject.to_owned();
    Session {
        user,
        tokens: Tokens {
            access_token: Secret::new(format!("eyJ{}", "a".repeat(token_size))),
            access_token_expires_at: Some(datetime!(2026-11-25 11:00 UTC)),
            session_handle: Secret::new(format!("handle-{}", "h".repeat(token_size))),
        },
        assurance_level: Some("3".into()),
        signed_in_at: datetime!(2026-11-25 10:00 UTC),
    }
}

#[test]
fn a_large_session_round_trips_through_the_real_keyring() {
    require_secret_service();
    let store = store("round-trip");
    let saved = session("900000000001", 3000);
    assert!(
        serde_json::to_string(&saved).expect("json").len() > 2560 + CHUNK_CHARS,
        "the test session must need several chunks"
    );
    assert_eq!(store.load().expect("load"), None);
    store.save(&saved).expect("save");
    assert_eq!(store.load().expect("load"), Some(saved));
    store.clear().expect("clear");
    assert_eq!(store.load().expect("load"), None);
}

#[test]
fn another_user_signing_in_replaces_the_session_and_leaves_no_chunks() {
    require_secret_service();
    let store = store("switch");
    store.save(&session("900000000001", 6000)).expect("save");
    let second = session("900000000002", 10);
    store.save(&second).expect("save");
    assert_eq!(store.load().expect("load"), Some(second));
    store.clear().expect("clear");
    assert_eq!(store.load().expect("load"), None);
}

#[test]
fn a_damaged_session_is_cleared_and_reported() {
    require_secret_service();
    let store = store("damaged");
    store.save(&session("900000000001", 3000)).expect("save");
    // Damage one chunk behind the store's back; the text stays valid JSON (the chunk lies
    // inside a token string), so only the manifest's digest can tell.
    let chunks = store.chunk_accounts().expect("chunks");
    assert!(chunks.len() > 2, "{chunks:?}");
    keyring::Entry::new(SERVICE, &chunks[1])
        .expect("entry")
        .set_password("not json")
        .expect("damage");
    let loaded = store.load();
    assert!(
        matches!(loaded, Err(cpis_client::TokenStoreError::Corrupt)),
        "{loaded:?}"
    );
    assert_eq!(store.load().expect("load after clear"), None);
}

#[test]
fn a_missing_chunk_is_damage_and_clearing_removes_the_rest() {
    require_secret_service();
    let store = store("gap");
    store.save(&session("900000000001", 3000)).expect("save");
    let chunks = store.chunk_accounts().expect("chunks");
    let chunk = |name: &str| keyring::Entry::new(SERVICE, name).expect("entry");
    chunk(&chunks[1]).delete_credential().expect("make a gap");
    assert!(matches!(
        store.load(),
        Err(cpis_client::TokenStoreError::Corrupt)
    ));
    for name in &chunks {
        assert!(
            matches!(chunk(name).get_password(), Err(keyring::Error::NoEntry)),
            "chunk {name} left behind"
        );
    }
}

/// The app rewrites the session on every refresh while `cpis`, another process, may be reading
/// it: a reader must always get one whole session, the old or the new, never nothing and never
/// "damaged" (which would clear the app's fresh session). Before issue 14's fix a save cleared
/// the entry first and rewrote the chunks in place.
#[test]
fn a_reader_during_saves_always_gets_a_whole_session() {
    require_secret_service();
    let store = store("concurrent");
    let first = session("900000000001", 2500);
    let second = session("900000000002", 3500);
    store.save(&first).expect("save");
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for round in 0..20 {
                let next = if round % 2 == 0 { &second } else { &first };
                store.save(next).expect("save");
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let reader = KeyringTokenStore::new(SERVICE, store.account());
        let mut reads = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) || reads < 5 {
            let loaded = reader.load().expect("a read during saves");
            assert!(
                loaded.as_ref() == Some(&first) || loaded.as_ref() == Some(&second),
                "read {reads} found no whole session"
            );
            reads += 1;
        }
    });
    assert_eq!(store.load().expect("load"), Some(first.clone()));
    // Only the last session's chunks are left, and clearing removes them.
    let left = store.chunk_accounts().expect("chunks");
    store.clear().expect("clear");
    for name in left {
        assert!(matches!(
            keyring::Entry::new(SERVICE, &name)
                .expect("entry")
                .get_password(),
            Err(keyring::Error::NoEntry)
        ));
    }
    assert_eq!(store.load().expect("load"), None);
}

/// The inactivity lock's last activity is its own small entry beside the session: saving the
/// session again (every token refresh) neither rewrites nor loses it, a record names the session
/// it belongs to (another session's is never taken for this one's), and clearing removes it.
#[test]
fn the_last_activity_sits_beside_the_session_and_goes_with_it() {
    require_secret_service();
    let store = store("activity");
    let first = session("900000000001", 10);
    store.save(&first).expect("save");
    assert_eq!(store.recorded_activity(&first).expect("read"), None);
    let at = datetime!(2026-11-25 10:07:31 UTC);
    store.record_activity(&first, at).expect("write");
    assert_eq!(store.recorded_activity(&first).expect("read"), Some(at));

    // A refresh: a new access token, the same broker session; the activity stays as it was.
    let mut refreshed = first.clone();
    refreshed.tokens.access_token = Secret::new("eyJrefreshed");
    store.save(&refreshed).expect("save");
    assert_eq!(store.recorded_activity(&refreshed).expect("read"), Some(at));

    // Another sign-in (another broker session): the old record is not this session's.
    let mut other = session("900000000002", 10);
    other.tokens.session_handle = Secret::new("another-handle");
    store.save(&other).expect("save");
    assert_eq!(store.recorded_activity(&other).expect("read"), None);

    store.record_activity(&other, at).expect("write");
    store.clear().expect("clear");
    assert_eq!(store.recorded_activity(&other).expect("read"), None);
    assert!(matches!(
        keyring::Entry::new(SERVICE, &format!("{}#activity", store.account()))
            .expect("entry")
            .get_password(),
        Err(keyring::Error::NoEntry)
    ));
}
