//! The session store against the real OS keyring (the Secret Service on Linux): a round trip
//! of a session larger than Windows' 2,560-byte limit, replacement by another user, clearing,
//! and recovery from a damaged entry.

use cpis_client::token_store::CHUNK_CHARS;
use cpis_client::{KeyringTokenStore, Secret, Session, Tokens};
use time::macros::datetime;

use crate::support::secret_service::require_secret_service;
use crate::support::synthetic::user_with;

fn store(test: &str) -> KeyringTokenStore {
    KeyringTokenStore::new(
        "uk.nhs.cpis-viewer.tests",
        format!("{test}-{}", uuid::Uuid::new_v4()),
    )
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
    let service = "uk.nhs.cpis-viewer.tests";
    let account = format!("{}#1", store_account(&store));
    keyring::Entry::new(service, &account)
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

fn store_account(store: &KeyringTokenStore) -> String {
    store.account().to_owned()
}

#[test]
fn clearing_removes_chunks_past_a_missing_one() {
    require_secret_service();
    let store = store("gap");
    store.save(&session("900000000001", 3000)).expect("save");
    let service = "uk.nhs.cpis-viewer.tests";
    let chunk = |index: usize| {
        keyring::Entry::new(service, &format!("{}#{index}", store.account())).expect("entry")
    };
    chunk(1).delete_credential().expect("make a gap");
    store.clear().expect("clear");
    for index in 0..8 {
        assert!(
            matches!(chunk(index).get_password(), Err(keyring::Error::NoEntry)),
            "chunk {index} left behind"
        );
    }
}
