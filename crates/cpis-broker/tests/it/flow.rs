//! The whole sign-in through the broker against dev-idp and the reference platform: the
//! one-time code redeemed with PKCE, API calls with the platform's token, userinfo, refresh
//! (rotating, single-flight), and the end of the session (revoked at the platform).

use std::time::Duration;

use serde_json::Value;

use super::support::{Stack, code_for, form, get_bearer, post_bearer, redeem, signed_in};

/// A PDS read: any answer but 401 means the platform took the token.
fn pds_url(stack: &Stack) -> String {
    format!(
        "{}/personal-demographics/FHIR/R4/Patient/9000000009",
        stack.platform_url()
    )
}

fn text(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {value}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_call_refresh_and_end() {
    let stack = Stack::full(|_| {}).await;
    let broker = &stack.broker.url;
    let answer = signed_in(broker, "ed-nurse").await;
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["sub"], "900000000001");
    assert_eq!(answer["name"], "Tess Triage-Test");
    assert_eq!(answer["selected_roleid"], "555000000101");
    assert_eq!(answer["authentication_assurance_level"], "3");
    assert_eq!(
        answer["nhsid_nrbac_roles"][0]["person_roleid"],
        "555000000101"
    );
    assert_eq!(answer["nhsid_user_orgs"][0]["org_code"], "ZZ1ED");
    let expires_in = answer["expires_in"].as_i64().expect("expires_in");
    assert!((1..=600).contains(&expires_in), "{expires_in}");
    let session_expires_in = answer["session_expires_in"]
        .as_i64()
        .expect("session_expires_in");
    assert!(
        (1..=43200).contains(&session_expires_in),
        "{session_expires_in}"
    );
    let access = text(&answer, "access_token");
    let session = text(&answer, "session");
    assert_ne!(access, session);

    // The platform takes the token.
    let (status, _) = get_bearer(&pds_url(&stack), &access).await;
    assert_ne!(status, 401, "the platform refused the exchanged token");

    // Userinfo by access token, not by session handle.
    let (status, user) = get_bearer(&format!("{broker}/session/userinfo"), &access).await;
    assert_eq!(status, 200);
    assert_eq!(user["sub"], "900000000001");
    assert_eq!(user["selected_roleid"], "555000000101");
    assert!(user.get("access_token").is_none() && user.get("session").is_none());
    let (status, _) = get_bearer(&format!("{broker}/session/userinfo"), &session).await;
    assert_eq!(status, 401);

    // Refresh: a new access token, no session in the answer; the old one is no longer userinfo's.
    let (status, refreshed) = post_bearer(broker, "/session/refresh", &session).await;
    assert_eq!(status, 200, "{refreshed}");
    assert!(refreshed.get("session").is_none());
    assert_eq!(refreshed["sub"], "900000000001");
    let access2 = text(&refreshed, "access_token");
    assert_ne!(access2, access);
    let (status, _) = get_bearer(&format!("{broker}/session/userinfo"), &access2).await;
    assert_eq!(status, 200);
    let (status, _) = get_bearer(&format!("{broker}/session/userinfo"), &access).await;
    assert_eq!(status, 401);
    let (status, _) = get_bearer(&pds_url(&stack), &access2).await;
    assert_ne!(status, 401);

    // End: 204, then refresh is invalid_session, and the platform refuses the token.
    let (status, _) = post_bearer(broker, "/session/end", &session).await;
    assert_eq!(status, 204);
    let (status, body) = post_bearer(broker, "/session/refresh", &session).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_session");
    let (status, _) = get_bearer(&pds_url(&stack), &access2).await;
    assert_eq!(status, 401, "the platform token was revoked");
    let (status, _) = get_bearer(&format!("{broker}/session/userinfo"), &access2).await;
    assert_eq!(status, 401);
    // Ending again, or an unknown session: 204.
    let (status, _) = post_bearer(broker, "/session/end", &session).await;
    assert_eq!(status, 204);
    let (status, _) = post_bearer(broker, "/session/end", "no-such-session").await;
    assert_eq!(status, 204);
    let (status, body) = post_bearer(broker, "/session/refresh", "no-such-session").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_session"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_needs_the_verifier_and_redirect_uri_and_works_once() {
    let stack = Stack::full(|_| {}).await;
    let broker = &stack.broker.url;

    // Wrong verifier: refused, and the code is spent.
    let (code, app) = code_for(broker, "ed-nurse").await;
    let wrong = format!("{}x", app.verifier);
    let (status, body) = redeem(broker, &code, &app.redirect_uri, &wrong).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = redeem(broker, &code, &app.redirect_uri, &app.verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Wrong redirect_uri: refused.
    let (code, app) = code_for(broker, "ed-nurse").await;
    let (status, body) = redeem(
        broker,
        &code,
        "http://127.0.0.1:49153/callback",
        &app.verifier,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Used once: the second redemption is refused.
    let (code, app) = code_for(broker, "ed-nurse").await;
    let (status, body) = redeem(broker, &code, &app.redirect_uri, &app.verifier).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = redeem(broker, &code, &app.redirect_uri, &app.verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Missing fields: invalid_request.
    let response = reqwest::Client::new()
        .post(format!("{broker}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "cpis-viewer"),
        ]))
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_is_refused() {
    let stack = Stack::full(|config| config.app_code_ttl = Duration::from_secs(1)).await;
    let broker = &stack.broker.url;
    let (code, app) = code_for(broker, "ed-nurse").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, body) = redeem(broker, &code, &app.redirect_uri, &app.verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_are_single_flight() {
    let stack = Stack::full(|_| {}).await;
    let broker = stack.broker.url.clone();
    let answer = signed_in(&broker, "ed-nurse").await;
    let session = text(&answer, "session");
    let refreshes: Vec<_> = (0..4)
        .map(|_| {
            let broker = broker.clone();
            let session = session.clone();
            tokio::spawn(async move { post_bearer(&broker, "/session/refresh", &session).await })
        })
        .collect();
    let mut tokens = std::collections::HashSet::new();
    for refresh in refreshes {
        let (status, body) = refresh.await.expect("task");
        // Had two used the same refresh token, the platform would refuse the second (rotation)
        // and the broker would end the session: 401.
        assert_eq!(status, 200, "{body}");
        tokens.insert(text(&body, "access_token"));
    }
    assert_eq!(tokens.len(), 4, "each refresh got its own token");
    let (status, body) = post_bearer(&broker, "/session/refresh", &session).await;
    assert_eq!(status, 200, "the session still refreshes: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_keeps_no_handle_code_or_access_token_in_clear() {
    let stack = Stack::full(|_| {}).await;
    let broker = &stack.broker.url;
    let (code, app) = code_for(broker, "ed-nurse").await;
    let (status, answer) = redeem(broker, &code, &app.redirect_uri, &app.verifier).await;
    assert_eq!(status, 200);
    let session = text(&answer, "session");
    let access = text(&answer, "access_token");
    let (_, refreshed) = post_bearer(broker, "/session/refresh", &session).await;
    let access2 = text(&refreshed, "access_token");
    let dump = stack.broker.dump_database().await;
    for (what, secret) in [
        ("handle", &session),
        ("code", &code),
        ("access token", &access),
        ("refreshed access token", &access2),
    ] {
        assert!(
            !dump.contains(secret.as_str()),
            "the {what} is stored in clear"
        );
    }
}
