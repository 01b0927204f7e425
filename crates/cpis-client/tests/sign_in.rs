//! Sign-in against the real development identity provider (`oidc-provider`): the full
//! authorization code flow with PKCE through the loopback redirect, refresh, the claims and the
//! role rules, and refusals for a wrong `state`, wrong `nonce`, wrong audience, bad signature,
//! expired ID token, wrong issuer, and `alg: none` or HS256.

use std::time::Duration;

use cpis_client::config::{OidcConfig, TlsConfig};
use cpis_client::{
    CallbackParams, KeyringTokenStore, LookupPermission, LoopbackRedirect, OidcError, Session,
    SignIn,
};

use crate::support::dev_idp::DevIdp;
use crate::support::secret_service::require_secret_service;

/// A stand-in for the system browser: keeps cookies, follows the provider's redirects, and
/// stops at the redirect to the loopback listener so the test can deliver (or alter) it.
fn browser(loopback_port: u16) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.url().port() == Some(loopback_port) {
                attempt.stop()
            } else if attempt.previous().len() > 10 {
                attempt.error("too many redirects")
            } else {
                attempt.follow()
            }
        }))
        .build()
        .expect("browser")
}

fn port_of(redirect_uri: &str) -> u16 {
    redirect_uri
        .parse::<reqwest::Url>()
        .expect("redirect uri")
        .port()
        .expect("port")
}

async fn discover(idp: &DevIdp) -> SignIn {
    SignIn::discover(
        &OidcConfig {
            issuer: idp.issuer.clone(),
            client_id: "cpis-viewer".into(),
        },
        &TlsConfig::local_demo(),
    )
    .await
    .expect("discovery")
}

/// Run the flow as the user `login_hint`; `alter` may change the redirect URL before it is
/// delivered to the loopback listener.
async fn sign_in_with(
    idp: &DevIdp,
    login_hint: &str,
    alter: impl FnOnce(String) -> String,
) -> Result<Session, OidcError> {
    let sign_in = discover(idp).await;
    let loopback = LoopbackRedirect::bind().await.expect("loopback");
    let redirect_uri = loopback.redirect_uri().to_owned();
    let pending = sign_in
        .begin(&redirect_uri, Some(login_hint))
        .expect("begin");
    let authorize_url = pending.authorize_url.to_string();
    assert!(authorize_url.contains("code_challenge_method=S256"));
    assert!(authorize_url.contains("nationalrbacaccess"));
    assert!(authorize_url.contains("selectedrole"));
    assert!(authorize_url.contains("prompt=login"));
    let waiter = tokio::spawn(loopback.wait_for_callback(Duration::from_secs(20)));

    let browser = browser(port_of(&redirect_uri));
    let response = browser.get(&authorize_url).send().await.expect("authorize");
    assert!(
        response.status().is_redirection(),
        "status {}",
        response.status()
    );
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .expect("redirect to the app")
        .to_owned();
    assert!(location.starts_with(&redirect_uri), "{location}");
    let page = browser.get(alter(location)).send().await.expect("loopback");
    assert_eq!(page.status(), 200);
    let callback = waiter.await.expect("task").expect("callback");
    sign_in.complete(pending, callback).await
}

async fn sign_in_as(idp: &DevIdp, login_hint: &str) -> Result<Session, OidcError> {
    sign_in_with(idp, login_hint, |location| location).await
}

#[tokio::test]
async fn the_full_code_flow_signs_an_ed_nurse_in() {
    let idp = DevIdp::start();
    let session = sign_in_as(&idp, "ed-nurse").await.expect("signed in");
    assert_eq!(session.user.subject, "900000000001");
    assert_eq!(session.user.name, "Tess Triage-Test");
    assert_eq!(
        session.user.selected_roleid.as_deref(),
        Some("555000000101")
    );
    let role = session.user.selected_role().expect("selected role");
    assert_eq!(role.org_code, "ZZ1ED");
    assert_eq!(role.activity_codes, vec!["B0107".to_owned()]);
    assert_eq!(
        session.user.lookup_permission(),
        LookupPermission::Unscheduled
    );
    assert!(session.tokens.access_token.expose().starts_with("eyJ"));
    assert!(
        session.tokens.refresh_token.is_some(),
        "a refresh token is issued"
    );
    assert!(session.tokens.access_token_expires_at.is_some());
    assert!(
        !format!("{session:?}").contains("eyJ"),
        "Debug never shows a token"
    );

    // Refresh keeps the user and gives a new access token.
    let sign_in = discover(&idp).await;
    let refreshed = sign_in.refresh(&session).await.expect("refresh");
    assert_eq!(refreshed.user.subject, session.user.subject);
    assert_eq!(refreshed.signed_in_at, session.signed_in_at);
    assert_ne!(
        refreshed.tokens.access_token.expose(),
        session.tokens.access_token.expose()
    );

    // Sign-out revokes the refresh token at the provider: a copy of it no longer works.
    assert_eq!(sign_in.revoke(&refreshed).await, Ok(true));
    assert!(matches!(
        sign_in.refresh(&refreshed).await,
        Err(OidcError::TokenRequest(_))
    ));

    // Past 12 hours there is no refresh: sign in again.
    let mut old = refreshed.clone();
    old.signed_in_at -= time::Duration::hours(13);
    assert_eq!(sign_in.refresh(&old).await, Err(OidcError::SignInRequired));
}

#[tokio::test]
async fn roles_decide_who_may_look_up() {
    let idp = DevIdp::start();
    let cases = [
        ("midwife", LookupPermission::Unscheduled),
        ("named-nurse", LookupPermission::Unscheduled),
        ("scheduled-care", LookupPermission::Scheduled),
        ("la-user", LookupPermission::NotPermitted),
        ("no-role", LookupPermission::NotPermitted),
        ("two-roles", LookupPermission::Scheduled),
    ];
    for (login, expected) in cases {
        let session = sign_in_as(&idp, login).await.expect(login);
        assert_eq!(session.user.lookup_permission(), expected, "{login}");
        assert_eq!(
            session.user.cannot_look_up_because().is_some(),
            expected == LookupPermission::NotPermitted,
            "{login}"
        );
    }
}

#[tokio::test]
async fn a_wrong_state_is_refused() {
    let idp = DevIdp::start();
    let result = sign_in_with(&idp, "ed-nurse", |location| {
        let mut url: reqwest::Url = location.parse().expect("url");
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "state" {
                    "forged-state".to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        url.to_string()
    })
    .await;
    assert_eq!(result, Err(OidcError::StateMismatch));
}

#[tokio::test]
async fn a_missing_state_is_refused() {
    let idp = DevIdp::start();
    let sign_in = discover(&idp).await;
    let pending = sign_in
        .begin("http://127.0.0.1:1/callback", None)
        .expect("begin");
    let callback = CallbackParams::from_query("code=abc");
    assert_eq!(
        sign_in.complete(pending, callback).await,
        Err(OidcError::StateMismatch)
    );
}

#[tokio::test]
async fn bad_id_tokens_are_refused() {
    let idp = DevIdp::start();
    for mode in [
        "wrong_nonce",
        "wrong_audience",
        "wrong_signature",
        "expired",
        "wrong_issuer",
        "alg_none",
        "alg_hs256",
    ] {
        idp.tamper_next_id_token(mode).await;
        let result = sign_in_as(&idp, "ed-nurse").await;
        match result {
            Err(OidcError::InvalidIdToken(message)) => {
                assert!(
                    !message.contains("eyJ"),
                    "{mode}: no token text in {message}"
                );
            }
            other => panic!("{mode}: expected the ID token to be refused, got {other:?}"),
        }
    }
    // And the provider still works afterwards: the hooks affect one response only.
    sign_in_as(&idp, "ed-nurse").await.expect("good sign-in");
}

#[tokio::test]
async fn the_issuer_in_the_redirect_must_match() {
    let idp = DevIdp::start();
    let result = sign_in_with(&idp, "ed-nurse", |location| {
        location.replace(
            "iss=http%3A%2F%2F127.0.0.1",
            "iss=http%3A%2F%2Fevil.example",
        )
    })
    .await;
    assert_eq!(result, Err(OidcError::IssuerMismatch));
}

#[tokio::test]
async fn a_real_session_round_trips_through_the_keyring() {
    require_secret_service();
    let idp = DevIdp::start();
    let session = sign_in_as(&idp, "named-nurse").await.expect("signed in");
    let store = KeyringTokenStore::new(
        "uk.nhs.cpis-viewer.tests",
        format!("real-session-{}", uuid::Uuid::new_v4()),
    );
    store.save(&session).expect("save");
    assert_eq!(store.load().expect("load"), Some(session));
    store.clear().expect("clear");
    assert_eq!(store.load().expect("load"), None);
}
