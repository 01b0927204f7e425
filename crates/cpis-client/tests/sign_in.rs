//! Sign-in through the broker as the client speaks it, against the controllable fake broker
//! (`support/fake_broker.rs`): the code flow with PKCE S256 through the loopback redirect, the
//! `/token` form, refresh, `invalid_session`, sign-out's `/session/end`, the user of a bare
//! access token from `/session/userinfo`, refusals, and a session through the real keyring.
//! The same flow against the real broker, dev-idp and platform is in `sign_in_real.rs`.

use std::time::Duration;

use cpis_client::config::{SignInConfig, TlsConfig};
use cpis_client::{
    Broker, CallbackParams, KeyringTokenStore, LookupPermission, LoopbackRedirect, Secret, Session,
    SignInError,
};

use crate::support::fake_broker::{FakeBroker, browse, raw_get};
use crate::support::secret_service::require_secret_service;

fn broker(fake: &FakeBroker) -> Broker {
    Broker::new(
        &SignInConfig {
            broker_url: fake.url.parse().expect("url"),
        },
        &TlsConfig::local_demo(),
    )
    .expect("broker")
}

async fn sign_in_as(fake: &FakeBroker, login_hint: &str) -> Result<Session, SignInError> {
    let broker = broker(fake);
    let loopback = LoopbackRedirect::bind().await.expect("loopback");
    let pending = broker.begin(loopback.redirect_uri(), Some(login_hint));
    let waiter = tokio::spawn(
        loopback.wait_for_callback(pending.state().to_owned(), Duration::from_secs(10)),
    );
    assert_eq!(browse(pending.authorize_url.to_string()).await, 200);
    let callback = waiter.await.expect("task")?;
    broker.complete(pending, callback).await
}

#[tokio::test]
async fn the_code_flow_through_the_broker_signs_an_ed_nurse_in() {
    let fake = FakeBroker::start().await;
    let session = sign_in_as(&fake, "ed-nurse").await.expect("signed in");
    assert_eq!(session.user.subject, "900000000001");
    assert_eq!(session.user.name, "Tess Triage-Test");
    assert_eq!(
        session.user.selected_roleid.as_deref(),
        Some("555000000101")
    );
    assert_eq!(
        session.user.lookup_permission(),
        LookupPermission::Unscheduled
    );
    assert_eq!(session.assurance_level.as_deref(), Some("3"));
    assert!(session.tokens.access_token_expires_at.is_some());
    assert!(
        session
            .tokens
            .session_handle
            .expose()
            .starts_with("handle-")
    );
    let debug = format!("{session:?}");
    assert!(
        !debug.contains("access-") && !debug.contains("handle-"),
        "{debug}"
    );

    // What the broker saw: PKCE S256 and a state at /authorize, the verifier and the exact
    // redirect URI at /token, and no client secret anywhere.
    let authorize = &fake.authorize_queries()[0];
    assert_eq!(authorize["client_id"], "cpis-viewer");
    assert_eq!(authorize["code_challenge_method"], "S256");
    assert_eq!(authorize["login_hint"], "ed-nurse");
    let form = &fake.token_forms()[0];
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["redirect_uri"], authorize["redirect_uri"]);
    assert_eq!(form["code_verifier"].len(), 43);
    assert!(!form.contains_key("client_secret"));
}

#[tokio::test]
async fn refresh_gives_a_new_access_token_and_end_makes_the_handle_useless() {
    let fake = FakeBroker::start().await;
    let broker = broker(&fake);
    let session = sign_in_as(&fake, "ed-nurse").await.expect("signed in");
    let refreshed = broker.refresh(&session).await.expect("refresh");
    assert_eq!(refreshed.user.subject, session.user.subject);
    assert_eq!(refreshed.signed_in_at, session.signed_in_at);
    assert_eq!(
        refreshed.tokens.session_handle,
        session.tokens.session_handle
    );
    assert_ne!(refreshed.tokens.access_token, session.tokens.access_token);
    assert_eq!(
        fake.refresh_calls(),
        [session.tokens.session_handle.expose().to_owned()]
    );

    // The user of a bare access token, as `cpis` asks for CPIS_ACCESS_TOKEN.
    let (user, aal) = broker
        .userinfo(&refreshed.tokens.access_token)
        .await
        .expect("userinfo");
    assert_eq!(user.subject, "900000000001");
    assert_eq!(aal.as_deref(), Some("3"));
    assert_eq!(
        broker.userinfo(&Secret::new("unknown")).await.map(|_| ()),
        Err(SignInError::SignInRequired)
    );

    // Sign-out ends the broker session: refresh and userinfo are refused from then on.
    broker
        .end(&refreshed.tokens.session_handle)
        .await
        .expect("end");
    assert_eq!(
        fake.ended(),
        [session.tokens.session_handle.expose().to_owned()]
    );
    assert_eq!(
        broker.refresh(&refreshed).await,
        Err(SignInError::SignInRequired)
    );
    assert_eq!(
        broker
            .userinfo(&refreshed.tokens.access_token)
            .await
            .map(|_| ()),
        Err(SignInError::SignInRequired)
    );

    // Past 12 hours there is no refresh at all: sign in again.
    let mut old = session.clone();
    old.signed_in_at -= time::Duration::hours(13);
    assert_eq!(broker.refresh(&old).await, Err(SignInError::SignInRequired));
}

#[tokio::test]
async fn a_refusal_at_the_broker_comes_back_as_refused() {
    let fake = FakeBroker::start().await;
    assert!(matches!(
        sign_in_as(&fake, "nobody-known").await,
        Err(SignInError::Refused(message)) if message == "access_denied"
    ));
}

#[tokio::test]
async fn a_code_is_refused_with_the_wrong_verifier_or_twice() {
    let fake = FakeBroker::start().await;
    let broker = broker(&fake);
    let loopback = LoopbackRedirect::bind().await.expect("loopback");
    let redirect_uri = loopback.redirect_uri().to_owned();
    drop(loopback);
    let pending = broker.begin(&redirect_uri, Some("ed-nurse"));
    let state = pending.state().to_owned();
    let (status, location) = raw_get(pending.authorize_url.as_str()).await;
    assert_eq!(status, 302);
    let location = location.expect("location");
    let query = location.split_once('?').expect("query").1;
    let callback = CallbackParams::from_query(query);
    assert_eq!(callback.state.as_deref(), Some(state.as_str()));
    // Another sign-in's verifier (as an attacker who saw the code would have) is refused.
    let other = broker.begin(&redirect_uri, Some("ed-nurse"));
    let forged = CallbackParams {
        state: Some(other.state().to_owned()),
        ..callback.clone()
    };
    assert!(matches!(
        broker.complete(other, forged).await,
        Err(SignInError::Broker(message)) if message.contains("invalid_grant")
    ));
    // The code was used up by that attempt (the broker's codes are one-time).
    assert!(broker.complete(pending, callback).await.is_err());
}

#[tokio::test]
async fn an_unreachable_broker_is_a_broker_error_without_detail() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let broker = Broker::new(
        &SignInConfig {
            broker_url: url.parse().expect("url"),
        },
        &TlsConfig::local_demo(),
    )
    .expect("broker");
    assert_eq!(
        broker.userinfo(&Secret::new("t")).await.map(|_| ()),
        Err(SignInError::Broker("could not connect".to_owned()))
    );
}

#[tokio::test]
async fn a_broker_session_round_trips_through_the_keyring_without_refresh_or_id_token() {
    require_secret_service();
    let fake = FakeBroker::start().await;
    let session = sign_in_as(&fake, "health-visitor")
        .await
        .expect("signed in");
    let store = KeyringTokenStore::new(
        "uk.nhs.cpis-viewer.tests",
        format!("broker-session-{}", uuid::Uuid::new_v4()),
    );
    store.save(&session).expect("save");
    assert_eq!(store.load().expect("load"), Some(session.clone()));
    let json = serde_json::to_string(&session).expect("json");
    assert!(!json.contains("refresh_token") && !json.contains("id_token"));
    store.clear().expect("clear");
    assert_eq!(store.load().expect("load"), None);
}
