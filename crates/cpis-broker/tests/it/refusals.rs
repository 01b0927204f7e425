//! Refusals that need no platform: bad `/authorize` requests, an unknown state at `/callback`,
//! tampered ID tokens and a user below the asked assurance level (each an error to the app,
//! never a session), and the public endpoints.

use super::support::{App, Landing, Stack, browse};

fn assert_access_denied(landing: &Landing, app: &App, what: &str) {
    let query = landing.query();
    assert_eq!(
        query.get("error").map(String::as_str),
        Some("access_denied"),
        "{what}: {query:?}"
    );
    assert_eq!(query.get("state"), Some(&app.state), "{what}");
    assert!(
        query.get("code").is_none(),
        "{what}: no code, so no session"
    );
    let description = query.get("error_description").cloned().unwrap_or_default();
    assert!(
        !description.contains("eyJ"),
        "{what}: no token text in {description}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_uri_that_is_not_loopback_is_refused_without_a_redirect() {
    let stack = Stack::without_platform(|_| {}).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for redirect_uri in [
        "https://evil.example/callback",
        "http://evil.example:1234/callback",
        "http://localhost:1234/callback",
        "http://127.0.0.1:1234/elsewhere",
    ] {
        let mut app = App::new();
        app.redirect_uri = redirect_uri.to_owned();
        let response = client
            .get(app.authorize_url(&stack.broker.url, "ed-nurse"))
            .send()
            .await
            .expect("authorize");
        assert_eq!(response.status(), 400, "{redirect_uri}");
        assert!(
            response.headers().get("location").is_none(),
            "{redirect_uri}"
        );
    }
    // Other bad requests: 400 too.
    let app = App::new();
    let good = app.authorize_url(&stack.broker.url, "ed-nurse");
    for bad in [
        good.replace("client_id=cpis-viewer", "client_id=someone-else"),
        good.replace("code_challenge_method=S256", "code_challenge_method=plain"),
        good.replace("response_type=code", "response_type=token"),
    ] {
        let response = client.get(&bad).send().await.expect("authorize");
        assert_eq!(response.status(), 400, "{bad}");
    }
    // A good one goes to CIS2 with the broker's own state, nonce, PKCE, prompt and acr_values.
    let response = client.get(&good).send().await.expect("authorize");
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(location.starts_with(&stack.idp.issuer), "{location}");
    let query: std::collections::HashMap<String, String> = reqwest::Url::parse(&location)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query["client_id"], "cpis-broker");
    assert_eq!(
        query["redirect_uri"],
        format!("{}/callback", stack.broker.url)
    );
    assert_eq!(query["prompt"], "login");
    assert_eq!(query["acr_values"], "AAL3_ANY");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["login_hint"], "ed-nurse");
    assert_ne!(query["state"], app.state);
    assert_ne!(query["code_challenge"], app.challenge);
    assert!(query.contains_key("nonce"));
    let scopes: Vec<&str> = query["scope"].split(' ').collect();
    for scope in [
        "openid",
        "profile",
        "nationalrbacaccess",
        "associatedorgs",
        "selectedrole",
    ] {
        assert!(scopes.contains(&scope), "{scope}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_state_at_the_callback_is_400() {
    let stack = Stack::without_platform(|_| {}).await;
    let response = reqwest::Client::new()
        .get(format!(
            "{}/callback?code=abc&state=not-one-we-sent",
            stack.broker.url
        ))
        .send()
        .await
        .expect("callback");
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_id_tokens_are_access_denied_to_the_app() {
    let stack = Stack::without_platform(|_| {}).await;
    for mode in [
        "wrong_audience",
        "expired",
        "wrong_signature",
        "wrong_nonce",
        "wrong_issuer",
        "alg_none",
        "alg_hs256",
    ] {
        stack.idp.tamper_next_id_token(mode).await;
        let app = App::new();
        let landing = browse(
            &app.authorize_url(&stack.broker.url, "ed-nurse"),
            &app.redirect_uri,
        )
        .await;
        assert_access_denied(&landing, &app, mode);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_below_the_asked_assurance_level_is_refused() {
    let stack = Stack::without_platform(|_| {}).await;
    let app = App::new();
    let landing = browse(
        &app.authorize_url(&stack.broker.url, "aal2-nurse"),
        &app.redirect_uri,
    )
    .await;
    assert_access_denied(&landing, &app, "aal2-nurse at AAL3_ANY");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_platform_down_the_app_hears_temporarily_unavailable() {
    let stack = Stack::without_platform(|_| {}).await;
    let app = App::new();
    let landing = browse(
        &app.authorize_url(&stack.broker.url, "ed-nurse"),
        &app.redirect_uri,
    )
    .await;
    let query = landing.query();
    assert_eq!(
        query.get("error").map(String::as_str),
        Some("temporarily_unavailable"),
        "{query:?}"
    );
    assert_eq!(query.get("state"), Some(&app.state));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_and_healthz_answer() {
    let stack = Stack::without_platform(|_| {}).await;
    let jwks: serde_json::Value = reqwest::get(format!("{}/jwks.json", stack.broker.url))
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    assert_eq!(jwks["keys"][0]["kid"], "cpis-broker-dev-1");
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert!(jwks["keys"][0].get("d").is_none(), "no private part");
    let committed: serde_json::Value = serde_json::from_str(include_str!(
        "../../dev-keys/DEV-ONLY-broker.jwks.public.json"
    ))
    .expect("json");
    assert_eq!(jwks["keys"][0]["n"], committed["keys"][0]["n"]);
    let health = reqwest::get(format!("{}/healthz", stack.broker.url))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
}
