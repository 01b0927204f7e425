//! The store's rules on SQLite, and on PostgreSQL when `CPIS_TEST_DATABASE_URL_POSTGRES` names a
//! server whose user may create databases (`cargo xtask test` starts one and sets it): migrations
//! rerun, a state and a code are used once (also when raced), the refresh lease has one holder,
//! an ended session stays ended, a `jti` is recorded once.

use std::time::Duration;

use cpis_broker::secret::{Secret, open_sealed, random_token};
use cpis_broker::store::{
    NewSession, PendingSignIn, Redemption, SessionUser, Store, micros_after, to_micros,
};
use serde_json::json;
use time::OffsetDateTime;

const POSTGRES_ENV: &str = "CPIS_TEST_DATABASE_URL_POSTGRES";

/// Run `check` on a database of its own on the server at `base`, dropped afterwards.
async fn on_fresh_postgres(base: &str, check: &impl AsyncFn(String)) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(base)
        .await
        .expect("connect to the PostgreSQL test server");
    let name = format!("cpis_broker_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    let (prefix, _) = base.rsplit_once('/').expect("a database in the URL");
    check(format!("{prefix}/{name}")).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("drop database");
}

async fn each_database(check: impl AsyncFn(String)) {
    let directory = tempfile::tempdir().expect("tempdir");
    check(format!(
        "sqlite://{}?mode=rwc",
        directory.path().join("store.sqlite3").display()
    ))
    .await;
    match std::env::var(POSTGRES_ENV) {
        Ok(base) => on_fresh_postgres(&base, &check).await,
        Err(_) => eprintln!("{POSTGRES_ENV} is not set: the PostgreSQL half did not run"),
    }
}

fn new_session(now: OffsetDateTime) -> NewSession {
    NewSession {
        user: SessionUser {
            sub: "900000000001".into(),
            name: "Tess Triage-Test".into(),
            selected_roleid: Some("555000000101".into()),
            roles: json!([{"person_roleid": "555000000101"}]),
            orgs: json!([{"org_code": "ZZ1ED"}]),
            aal: "3".into(),
        },
        access_token: Secret::new("access-1"),
        access_expires_at: micros_after(now, Duration::from_secs(600)),
        refresh_token: Some(Secret::new("refresh-1")),
        expires_at: micros_after(now, Duration::from_secs(43200)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_keeps_its_rules_on_every_database() {
    each_database(async |url: String| {
        let store = Store::connect(&url, 8).await.expect("connect");
        // Migrations rerun.
        Store::connect(&url, 2).await.expect("connect again");
        let now = OffsetDateTime::now_utc();

        // A pending sign-in is taken once.
        let pending = PendingSignIn {
            app_redirect_uri: "http://127.0.0.1:1/callback".into(),
            app_state: "s".into(),
            app_code_challenge: "c".repeat(43),
            nonce: random_token(),
            pkce_verifier: random_token(),
            expires_at: micros_after(now, Duration::from_secs(600)),
        };
        store
            .insert_pending("h1", &pending, now)
            .await
            .expect("pending");
        let taken = store
            .take_pending("h1")
            .await
            .expect("take")
            .expect("there");
        assert_eq!(taken.nonce, pending.nonce);
        assert!(store.take_pending("h1").await.expect("take").is_none());

        // A code is redeemed once, even when raced; its access token opens with the code only.
        let code = random_token();
        let id = store
            .create_session(
                &new_session(now),
                &code,
                "http://127.0.0.1:1/callback",
                "challenge",
                micros_after(now, Duration::from_secs(60)),
                now,
            )
            .await
            .expect("session");
        let races: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                let hash = code.hash();
                tokio::spawn(
                    async move { store.redeem_code(&hash, OffsetDateTime::now_utc()).await },
                )
            })
            .collect();
        let mut winners = Vec::new();
        for race in races {
            match race.await.expect("task").expect("redeem") {
                Redemption::Redeemed(redeemed) => winners.push(redeemed),
                Redemption::Spent { session_id } => assert_eq!(session_id, id),
                Redemption::Unknown => panic!("the code is known"),
            }
        }
        assert_eq!(winners.len(), 1, "one redemption wins");
        assert!(matches!(
            store.redeem_code(&random_token().hash(), now).await,
            Ok(Redemption::Unknown)
        ));
        let sealed = winners[0].sealed_access_token.clone().expect("sealed");
        assert_eq!(open_sealed(&code, &sealed), Some(Secret::new("access-1")));

        // Unredeemed, it is unclaimed; once it has a handle, it is not.
        let later = micros_after(now, Duration::from_secs(1));
        assert_eq!(
            store.unclaimed_sessions(later).await.expect("unclaimed"),
            std::slice::from_ref(&id)
        );

        // Handles and access tokens find the session by hash.
        let handle = random_token();
        store.set_handle(&id, &handle.hash()).await.expect("handle");
        let session = store
            .session_by_handle(&handle.hash())
            .await
            .expect("read")
            .expect("there");
        assert_eq!(session.id, id);
        assert_eq!(
            session.user.roles,
            json!([{"person_roleid": "555000000101"}])
        );
        assert!(session.is_live(to_micros(now)));
        assert!(
            store
                .session_by_access_token(&Secret::new("access-1").hash())
                .await
                .expect("read")
                .is_some()
        );

        // One lease holder at a time.
        let until = micros_after(now, Duration::from_secs(30));
        assert!(
            store
                .take_refresh_lease(&id, now, until)
                .await
                .expect("lease")
        );
        assert!(
            !store
                .take_refresh_lease(&id, now, until)
                .await
                .expect("lease")
        );
        assert!(
            store
                .store_refreshed(
                    &id,
                    &Secret::new("access-2"),
                    until,
                    &Secret::new("refresh-2"),
                    until
                )
                .await
                .expect("refreshed")
        );
        assert!(
            store
                .take_refresh_lease(&id, now, until)
                .await
                .expect("lease")
        );
        store.release_refresh_lease(&id).await.expect("release");
        assert!(
            store
                .session_by_access_token(&Secret::new("access-1").hash())
                .await
                .expect("read")
                .is_none(),
            "the old access token no longer finds the session"
        );

        // Ended once; the refresh token comes back for revocation and is gone from the row.
        let ended = store.end_session(&id, now).await.expect("end");
        assert_eq!(ended, Some(Some(Secret::new("refresh-2"))));
        assert_eq!(store.end_session(&id, now).await.expect("end"), None);
        let session = store.session(&id).await.expect("read").expect("there");
        assert!(!session.is_live(to_micros(now)));
        assert!(session.refresh_token.is_none());
        assert!(
            !store
                .take_refresh_lease(&id, now, until)
                .await
                .expect("lease")
        );
        assert!(
            !store
                .store_refreshed(
                    &id,
                    &Secret::new("access-3"),
                    until,
                    &Secret::new("refresh-3"),
                    until
                )
                .await
                .expect("refreshed"),
            "a late refresh does not revive an ended session"
        );

        // A jti is recorded once.
        store.record_jti("jti-1", until).await.expect("jti");
        assert!(store.record_jti("jti-1", until).await.is_err());
        store.prune(now).await.expect("prune");
        store.ping().await.expect("ping");
    })
    .await;
}
