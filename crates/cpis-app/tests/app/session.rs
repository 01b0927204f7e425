//! Lock and sign-out forget the session in memory and in the real keyring; a session past its
//! 12 hours is not taken up again (hazard log H6).

use cpis_client::identity::{Organisation, Role};
use cpis_client::{Secret, Session, SignedInUser, Tokens};
use cpis_ipc::SessionView;
use time::{Duration, OffsetDateTime};

use crate::secret_service::require_secret_service;
use crate::{same_store, start, store};

fn session(signed_in_at: OffsetDateTime) -> Session {
    Session {
        user: SignedInUser {
            subject: "900000000001".into(),
            name: "Tess Triage-Test".into(),
            selected_roleid: Some("R1".into()),
            roles: vec![Role {
                person_roleid: "R1".into(),
                org_code: "RX1".into(),
                role_code: "S0030:G0100:R0570".into(),
                role_name: "Nurse".into(),
                activity_codes: vec!["B0107".into()],
            }],
            organisations: vec![Organisation {
                org_code: "RX1".into(),
                org_name: "Test Hospital".into(),
            }],
        },
        tokens: Tokens {
            access_token: Secret::new("eyJaccess"),
            access_token_expires_at: Some(signed_in_at + Duration::hours(1)),
            session_handle: Secret::new("handle-value"),
        },
        assurance_level: Some("3".into()),
        signed_in_at,
    }
}

#[tokio::test]
async fn signing_out_clears_the_keyring_and_the_session() {
    require_secret_service();
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("sign-out");
    let behind = same_store(&store);
    behind
        .save(&session(OffsetDateTime::now_utc()))
        .expect("save");
    let core = start(data.path(), store);
    assert!(
        matches!(core.session_view(), SessionView::SignedIn { .. }),
        "the kept session is taken up at start"
    );
    assert_eq!(core.sign_out().await, SessionView::SignedOut);
    assert_eq!(core.session_view(), SessionView::SignedOut);
    assert_eq!(
        behind.load().expect("load"),
        None,
        "no tokens left in the keyring"
    );
}

#[tokio::test]
async fn locking_clears_the_keyring_and_says_locked() {
    require_secret_service();
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("lock");
    let behind = same_store(&store);
    behind
        .save(&session(OffsetDateTime::now_utc()))
        .expect("save");
    let core = start(data.path(), store);
    assert!(matches!(core.session_view(), SessionView::SignedIn { .. }));
    assert_eq!(core.lock().await, SessionView::Locked);
    assert_eq!(
        behind.load().expect("load"),
        None,
        "no tokens left in the keyring"
    );
    // A restart after the lock does not bring the session back.
    let again = start(data.path(), same_store(&behind));
    assert_eq!(again.session_view(), SessionView::SignedOut);
}

#[test]
fn a_session_past_twelve_hours_is_not_restored() {
    require_secret_service();
    let data = tempfile::tempdir().expect("tempdir");
    let store = store("max-age");
    let behind = same_store(&store);
    behind
        .save(&session(OffsetDateTime::now_utc() - Duration::hours(13)))
        .expect("save");
    let core = start(data.path(), store);
    assert_eq!(core.session_view(), SessionView::SignedOut);
    assert_eq!(
        behind.load().expect("load"),
        None,
        "the old session is cleared"
    );
}
