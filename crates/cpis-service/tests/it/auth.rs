//! Token validation negatives and role checks, on every API endpoint.

use axum::http::{Method, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

use super::support::*;

fn encode_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

const ENDPOINTS: [(&str, &str); 6] = [
    (
        "GET",
        "/cpis/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C9990000018",
    ),
    (
        "GET",
        "/cpis/FHIR/R4/AuditEvent?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C9990000018",
    ),
    ("GET", "/personal-demographics/FHIR/R4/Patient/9990000018"),
    ("POST", "/la/FHIR/R4"),
    ("POST", "/la/csv"),
    ("GET", "/la/FHIR/R4/AuditEvent?since=2026-01-01T00:00:00Z"),
];

async fn call(
    app: &TestApp,
    method: &str,
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    app.request(
        method,
        uri,
        token,
        &[
            ("TraceID", "6f1c7a52-9e62-4d8e-8a3f-1b2c3d4e5f60"),
            ("Content-Type", "application/fhir+json"),
        ],
        br#"{"resourceType":"Bundle","type":"batch"}"#.to_vec(),
    )
    .await
}

fn nurse_claims() -> serde_json::Value {
    claims("nurse-1", "Tess Triage-Test", "ZZ1ED", &["B0107"])
}

fn with(
    mut value: serde_json::Value,
    key: &str,
    replacement: serde_json::Value,
) -> serde_json::Value {
    value[key] = replacement;
    value
}

fn without(mut value: serde_json::Value, key: &str) -> serde_json::Value {
    value.as_object_mut().expect("object").remove(key);
    value
}

fn unsigned(claims: &serde_json::Value, header: serde_json::Value) -> String {
    format!(
        "{}.{}.",
        encode_url(header.to_string().as_bytes()),
        encode_url(claims.to_string().as_bytes())
    )
}

#[tokio::test]
async fn every_bad_token_is_refused_on_every_endpoint() {
    let app = TestApp::sqlite().await;
    let now = now_seconds();
    let hs256 = {
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some("test-rsa".into());
        jsonwebtoken::encode(
            &header,
            &nurse_claims(),
            &EncodingKey::from_secret(b"secret"),
        )
        .expect("hs256")
    };
    let tampered = {
        let good = ed_nurse();
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        parts[1] = encode_url(
            with(nurse_claims(), "sub", json!("someone-else"))
                .to_string()
                .as_bytes(),
        );
        parts.join(".")
    };
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("missing", None, "missing"),
        ("not a JWT", Some("not-a-token".into()), "malformed"),
        (
            "expired",
            Some(sign(&with(nurse_claims(), "exp", json!(now - 120)))),
            "expired",
        ),
        (
            "not yet valid",
            Some(sign(&with(nurse_claims(), "nbf", json!(now + 600)))),
            "not yet valid",
        ),
        (
            "wrong audience",
            Some(sign(&with(nurse_claims(), "aud", json!("someone-else")))),
            " audience",
        ),
        (
            "wrong issuer",
            Some(sign(&with(
                nurse_claims(),
                "iss",
                json!("https://evil.invalid"),
            ))),
            "issuer",
        ),
        (
            "no exp",
            Some(sign(&without(nurse_claims(), "exp"))),
            "claims",
        ),
        (
            "no aud",
            Some(sign(&without(nurse_claims(), "aud"))),
            "claims",
        ),
        (
            "no name",
            Some(sign(&without(nurse_claims(), "name"))),
            "claims",
        ),
        (
            "bad signature",
            Some(sign_with(
                &nurse_claims(),
                Algorithm::RS256,
                "test-rsa",
                &other_rsa_key(),
            )),
            "signature",
        ),
        ("tampered payload", Some(tampered), "signature"),
        (
            "unknown kid",
            Some(sign_with(
                &nurse_claims(),
                Algorithm::RS256,
                "who-knows",
                &rsa_key(),
            )),
            "key",
        ),
        (
            "alg none",
            Some(unsigned(
                &nurse_claims(),
                json!({"alg": "none", "typ": "JWT", "kid": "test-rsa"}),
            )),
            "algorithm",
        ),
        ("alg HS256", Some(hs256), "algorithm"),
        (
            "EC key claimed as RS256",
            Some(sign_with(
                &nurse_claims(),
                Algorithm::ES256,
                "test-rsa",
                &ec_key(),
            )),
            "algorithm",
        ),
    ];
    for (name, token, diagnostic) in &cases {
        for (method, uri) in ENDPOINTS {
            let (status, headers, body) = call(&app, method, uri, token.as_deref()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{name} on {method} {uri}");
            assert_eq!(spine_code(&body), "ACCESS_DENIED", "{name}");
            assert_eq!(
                headers["www-authenticate"],
                "Bearer error=\"invalid_token\""
            );
            let text = String::from_utf8_lossy(&body);
            assert!(text.contains(diagnostic.trim()), "{name}: {text}");
            assert!(!text.contains("eyJ"), "{name}: token echoed");
        }
    }
    let metrics = app.get("/metrics", None, &[]).await.2;
    let metrics = String::from_utf8(metrics).expect("utf8");
    assert!(
        metrics.contains("cpis_auth_failures_total{reason=\"expired\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn good_tokens_of_each_allowed_algorithm_are_accepted_and_cached() {
    let app = TestApp::sqlite().await;
    let es256 = sign_with(&nurse_claims(), Algorithm::ES256, "test-ec", &ec_key());
    let ps256 = {
        // PS256 with the RSA key: the JWK pins RS256, so it is refused.
        sign_with(&nurse_claims(), Algorithm::PS256, "test-rsa", &rsa_key())
    };
    let uri = ENDPOINTS[0].1;
    // One token, used twice: minting another could land in the next second and differ.
    let nurse = ed_nurse();
    let (status, _, _) = call(&app, "GET", uri, Some(&nurse)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&app, "GET", uri, Some(&es256)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&app, "GET", uri, Some(&ps256)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let cached = app.state.verifier.cached_tokens();
    assert_eq!(cached, 2);
    let (status, _, _) = call(&app, "GET", uri, Some(&nurse)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.state.verifier.cached_tokens(), 2);
}

#[tokio::test]
async fn roles_without_the_activity_are_forbidden() {
    let app = TestApp::sqlite().await;
    let no_activity = sign(&claims("u1", "No Activity", "ZZ1ED", &[]));
    let review_only = sign(&claims("u2", "Review Only", "ZZ1ED", &["B1234"]));
    let no_selected_role = sign(&without(nurse_claims(), "selected_roleid"));
    let selected_role_missing = sign(&with(
        nurse_claims(),
        "selected_roleid",
        json!("not-in-the-list"),
    ));
    let la = la_user("ZL001");
    let nurse = ed_nurse();
    let cases: Vec<(&str, &str, &str)> = vec![
        (&no_activity, "GET", ENDPOINTS[0].1),
        (&review_only, "GET", ENDPOINTS[0].1),
        (&no_selected_role, "GET", ENDPOINTS[0].1),
        (&selected_role_missing, "GET", ENDPOINTS[1].1),
        (&la, "GET", ENDPOINTS[0].1),
        (&la, "GET", ENDPOINTS[1].1),
        (&nurse, "POST", ENDPOINTS[3].1),
        (&nurse, "POST", ENDPOINTS[4].1),
        (&nurse, "GET", ENDPOINTS[5].1),
        (&no_selected_role, "GET", ENDPOINTS[2].1),
    ];
    for (token, method, uri) in cases {
        let (status, _, body) = call(&app, method, uri, Some(token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}");
        assert_eq!(spine_code(&body), "ACCESS_DENIED");
    }
}

/// A minimal OpenID provider: discovery document and a JWKS that the test can change.
async fn fake_issuer(
    jwks: std::sync::Arc<std::sync::Mutex<jsonwebtoken::jwk::JwkSet>>,
    claimed_issuer: Option<String>,
) -> String {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let issuer = claimed_issuer.unwrap_or_else(|| base.clone());
    let jwks_uri = format!("{base}/jwks");
    let router = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || {
                let body = json!({"issuer": issuer, "jwks_uri": jwks_uri});
                async move { axum::Json(body) }
            }),
        )
        .route(
            "/jwks",
            get(move || {
                let set = jwks.lock().expect("jwks").clone();
                async move { axum::Json(set) }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_come_from_the_issuers_discovery_document_and_rotate() {
    use cpis_service::auth::{AuthError, KeyLoadError, KeySource, Verifier};
    let mut only_rsa = test_jwks();
    only_rsa
        .keys
        .retain(|key| key.common.key_id.as_deref() == Some("test-rsa"));
    let jwks = std::sync::Arc::new(std::sync::Mutex::new(only_rsa));
    let issuer = fake_issuer(jwks.clone(), None).await;
    let verifier = Verifier::new(&issuer, AUDIENCE, KeySource::Discovery)
        .await
        .expect("discovery")
        .with_refresh_interval(std::time::Duration::ZERO);
    let for_issuer = |claims: serde_json::Value| with(claims, "iss", json!(issuer));
    let rsa_token = sign(&for_issuer(nurse_claims()));
    let principal = verifier
        .verify(&rsa_token)
        .await
        .expect("RS256 via discovery");
    assert_eq!(principal.actor.user_id, "nurse-1");
    assert!(principal.may_look_up());
    let ec_token = sign_with(
        &for_issuer(nurse_claims()),
        Algorithm::ES256,
        "test-ec",
        &ec_key(),
    );
    // The IdP rotates in a new key: an unknown kid refetches the JWKS.
    *jwks.lock().expect("jwks") = test_jwks();
    verifier
        .verify(&ec_token)
        .await
        .expect("ES256 after rotation");
    let stranger = sign_with(
        &for_issuer(nurse_claims()),
        Algorithm::RS256,
        "nobody",
        &rsa_key(),
    );
    assert_eq!(
        verifier.verify(&stranger).await.err(),
        Some(AuthError::UnknownKey)
    );

    // A discovery document that names another issuer is refused at start.
    let other = fake_issuer(jwks, Some("https://someone-else.invalid".into())).await;
    let error = Verifier::new(&other, AUDIENCE, KeySource::Discovery)
        .await
        .expect_err("mismatch");
    assert!(
        matches!(error, KeyLoadError::IssuerMismatch { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn the_dev_idp_public_jwks_file_loads() {
    use cpis_service::auth::{KeySource, Verifier};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../dev-idp/keys/jwks.public.json");
    let verifier =
        Verifier::new("http://127.0.0.1:9090", AUDIENCE, KeySource::JwksFile(path)).await;
    assert!(
        verifier.is_ok(),
        "{:?}",
        verifier.err().map(|error| error.to_string())
    );
    // A token signed by some other key under the dev-idp's kid is still refused.
    let verifier = verifier.expect("loaded");
    let token = sign_with(
        &with(nurse_claims(), "iss", json!("http://127.0.0.1:9090")),
        Algorithm::RS256,
        "cpis-dev-idp-2026",
        &rsa_key(),
    );
    assert_eq!(
        verifier.verify(&token).await.err(),
        Some(cpis_service::auth::AuthError::BadSignature)
    );
}
