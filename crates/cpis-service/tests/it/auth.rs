//! The platform's token exchange with APIM's negative cases (client assertion, ID token, form
//! fields), refresh rotation, revocation, scopes by assurance level, the role from
//! `NHSD-Session-URID` and the role directory, and the APIs refusing anything but a live opaque
//! token, on every API endpoint.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use time::Duration;

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
    call_with(app, method, uri, token, &[]).await
}

async fn call_with(
    app: &TestApp,
    method: &str,
    uri: &str,
    token: Option<&str>,
    extra: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut headers = vec![
        ("TraceID", "6f1c7a52-9e62-4d8e-8a3f-1b2c3d4e5f60"),
        ("Content-Type", "application/fhir+json"),
    ];
    headers.extend_from_slice(extra);
    app.request(
        method,
        uri,
        token,
        &headers,
        br#"{"resourceType":"Bundle","type":"batch"}"#.to_vec(),
    )
    .await
}

fn nurse() -> TestUser {
    claims("nurse-1", "Tess Triage-Test", "ZZ1ED", &["B0107"])
}

fn nurse_claims() -> Value {
    nurse().id_token_claims()
}

fn with(mut value: Value, key: &str, replacement: Value) -> Value {
    value[key] = replacement;
    value
}

fn without(mut value: Value, key: &str) -> Value {
    value.as_object_mut().expect("object").remove(key);
    value
}

fn unsigned(claims: &Value, header: Value) -> String {
    format!(
        "{}.{}.",
        encode_url(header.to_string().as_bytes()),
        encode_url(claims.to_string().as_bytes())
    )
}

fn hs256(claims: &Value, kid: &str) -> String {
    let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(b"secret")).expect("hs256")
}

/// An assertion signed as the broker with a header of our choosing.
fn assertion_with_header(claims: &Value, header: Value) -> String {
    let signing_input = format!(
        "{}.{}",
        encode_url(header.to_string().as_bytes()),
        encode_url(claims.to_string().as_bytes())
    );
    // The broker's signature over another header: it no longer verifies, but the platform
    // refuses these headers before it checks the signature.
    let signed = sign_assertion(claims);
    let signature = signed.rsplit('.').next().expect("signature");
    format!("{signing_input}.{signature}")
}

fn assert_refusal(
    body: &Value,
    status: StatusCode,
    want_status: StatusCode,
    error: &str,
    description: &str,
    case: &str,
) {
    assert_eq!(status, want_status, "{case}: {body}");
    assert_eq!(body["error"], error, "{case}: {body}");
    assert_eq!(body["error_description"], description, "{case}: {body}");
    assert!(body["message_id"].is_string(), "{case}: {body}");
    assert!(!body.to_string().contains("eyJ"), "{case}: token echoed");
}

const BAD: StatusCode = StatusCode::BAD_REQUEST;
const UNAUTHORISED: StatusCode = StatusCode::UNAUTHORIZED;

#[tokio::test]
async fn a_good_exchange_answers_as_the_platform_does_and_stores_only_hashes() {
    let app = TestApp::sqlite().await;
    app.add_role(&nurse().directory_role()).await;
    let (status, headers, body) = app
        .request(
            Method::POST,
            "/oauth2/token",
            None,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form_body(&exchange_form(&sign(&nurse_claims()), &client_assertion())),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["cache-control"], "no-store");
    let body: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["expires_in"], "599");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(body["refresh_token_expires_in"], "43199");
    assert_eq!(body["refresh_count"], "0");
    let scope = body["scope"].as_str().expect("scope");
    for wanted in [
        "urn:nhsd:apim:user-nhs-cis2:aal3:child-protection-information-sharing",
        "urn:nhsd:apim:user-nhs-cis2:aal3:personal-demographics-service",
    ] {
        assert!(scope.split(' ').any(|granted| granted == wanted), "{scope}");
    }
    let access = body["access_token"].as_str().expect("access").to_owned();
    let refresh = body["refresh_token"].as_str().expect("refresh").to_owned();
    assert!(access.len() >= 40 && !access.contains('.'), "opaque");
    assert_ne!(access, refresh);
    // Stored only as hashes.
    let rows = sqlx::query("SELECT token_hash FROM oauth_tokens")
        .fetch_all(app.store.pool())
        .await
        .expect("rows");
    assert_eq!(rows.len(), 2);
    for row in rows {
        let hash: String = sqlx::Row::try_get(&row, 0).expect("hash");
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, access);
        assert_ne!(hash, refresh);
    }
    let (status, _) = app.care_team(&numbers(1)[0], &access, &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn client_assertion_negatives_are_refused_with_the_platforms_answers() {
    let app = TestApp::sqlite().await;
    let id_token = sign(&nurse_claims());
    let good = assertion_claims();
    let other_key = sign_with(&good, Algorithm::RS512, BROKER_KID, &other_rsa_key());
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        (
            "not a JWT",
            "not-a-jwt".into(),
            BAD,
            "Malformed JWT in client_assertion",
        ),
        (
            "RS256",
            sign_with(&good, Algorithm::RS256, BROKER_KID, &broker_key()),
            BAD,
            "Unsupported JWT Algorithm",
        ),
        (
            "HS256",
            hs256(&good, BROKER_KID),
            BAD,
            "Unsupported JWT Algorithm",
        ),
        (
            "alg none",
            unsigned(
                &good,
                json!({"alg": "none", "typ": "JWT", "kid": BROKER_KID}),
            ),
            BAD,
            "Unsupported JWT Algorithm",
        ),
        (
            "missing kid",
            assertion_with_header(&good, json!({"alg": "RS512", "typ": "JWT"})),
            BAD,
            "Missing 'kid' header in JWT",
        ),
        (
            "typ not JWT",
            assertion_with_header(
                &good,
                json!({"alg": "RS512", "typ": "invalid", "kid": BROKER_KID}),
            ),
            BAD,
            "Invalid 'typ' header in JWT - must be 'JWT'",
        ),
        (
            "unknown kid",
            sign_with(&good, Algorithm::RS512, "who-knows", &broker_key()),
            UNAUTHORISED,
            "Invalid 'kid' header in JWT - no matching public key",
        ),
        (
            "iss differs from sub",
            sign_assertion(&with(good.clone(), "iss", json!("someone-else"))),
            BAD,
            "Missing or non-matching iss/sub claims in JWT",
        ),
        (
            "no iss",
            sign_assertion(&without(good.clone(), "iss")),
            BAD,
            "Missing or non-matching iss/sub claims in JWT",
        ),
        (
            "no sub",
            sign_assertion(&without(good.clone(), "sub")),
            BAD,
            "Missing or non-matching iss/sub claims in JWT",
        ),
        (
            "another app's API key",
            sign_assertion(&with(
                with(good.clone(), "iss", json!("another-app")),
                "sub",
                json!("another-app"),
            )),
            UNAUTHORISED,
            "client_id is invalid",
        ),
        (
            "no jti",
            sign_assertion(&without(good.clone(), "jti")),
            BAD,
            "Missing jti claim in JWT",
        ),
        (
            "no exp",
            sign_assertion(&without(good.clone(), "exp")),
            BAD,
            "Missing exp claim in JWT",
        ),
        (
            "exp not a number",
            sign_assertion(&with(good.clone(), "exp", json!("invalid"))),
            BAD,
            "Failed to decode JWT",
        ),
        (
            "exp over 5 minutes",
            sign_assertion(&with(good.clone(), "exp", json!(now_seconds() + 301 + 5))),
            BAD,
            "Invalid exp claim in JWT - more than 5 minutes in future",
        ),
        (
            "expired",
            sign_assertion(&with(good.clone(), "exp", json!(now_seconds() - 10))),
            BAD,
            "JWT token has expired",
        ),
        (
            "aud another URL",
            sign_assertion(&with(
                good.clone(),
                "aud",
                json!("https://elsewhere.invalid/oauth2/token"),
            )),
            UNAUTHORISED,
            "Missing or invalid 'aud' claim in client_assertion JWT",
        ),
        (
            "no aud",
            sign_assertion(&without(good.clone(), "aud")),
            UNAUTHORISED,
            "Missing or invalid 'aud' claim in client_assertion JWT",
        ),
        (
            "another key under the broker's kid",
            other_key,
            UNAUTHORISED,
            "JWT signature verification failed due to invalid token",
        ),
    ];
    for (case, assertion, want, description) in cases {
        // A fresh jti each time, so a refused case is not refused as a reuse.
        let (status, body) = app.exchange_with(&id_token, &assertion).await;
        assert_refusal(&body, status, want, "invalid_request", description, case);
    }
    // A jti is used once.
    let assertion = client_assertion();
    let (status, body) = app.exchange_with(&id_token, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.exchange_with(&id_token, &assertion).await;
    assert_refusal(
        &body,
        status,
        BAD,
        "invalid_request",
        "Non-unique jti claim in JWT",
        "reused jti",
    );
    let metrics = String::from_utf8(app.get("/metrics", None, &[]).await.2).expect("utf8");
    assert!(
        metrics.contains("cpis_auth_failures_total{reason=\"reused_jti\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn form_field_errors_are_the_platforms() {
    let app = TestApp::sqlite().await;
    let id_token = sign(&nurse_claims());
    let form = |drop: &str, replace: Option<(&str, &str)>| {
        let mut fields = exchange_form(&id_token, &client_assertion());
        fields.retain(|(name, _)| name != drop);
        if let Some((name, value)) = replace {
            for field in &mut fields {
                if field.0 == name {
                    field.1 = value.into();
                }
            }
        }
        fields
    };
    let sto = "missing or invalid subject_token_type - must be 'urn:ietf:params:oauth:token-type:id_token'";
    let cat = "Missing or invalid client_assertion_type - must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    type Form = Vec<(String, String)>;
    let cases: Vec<(&str, Form, &str, &str)> = vec![
        (
            "no grant_type",
            form("grant_type", None),
            "invalid_request",
            "grant_type is invalid",
        ),
        (
            "bad grant_type",
            form("", Some(("grant_type", "invalid"))),
            "invalid_request",
            "grant_type is invalid",
        ),
        (
            "password grant",
            form("", Some(("grant_type", "password"))),
            "unsupported_grant_type",
            "grant_type is invalid",
        ),
        (
            "no subject_token_type",
            form("subject_token_type", None),
            "invalid_request",
            sto,
        ),
        (
            "bad subject_token_type",
            form("", Some(("subject_token_type", "invalid"))),
            "invalid_request",
            sto,
        ),
        (
            "no client_assertion_type",
            form("client_assertion_type", None),
            "invalid_request",
            cat,
        ),
        (
            "bad client_assertion_type",
            form("", Some(("client_assertion_type", "invalid"))),
            "invalid_request",
            cat,
        ),
        (
            "no client_assertion",
            form("client_assertion", None),
            "invalid_request",
            "Missing client_assertion",
        ),
        (
            "no subject_token",
            form("subject_token", None),
            "invalid_request",
            "Missing subject_token",
        ),
    ];
    for (case, fields, error, description) in cases {
        let (status, body) = app.post_form("/oauth2/token", &fields).await;
        assert_refusal(&body, status, BAD, error, description, case);
    }
}

#[tokio::test]
async fn id_token_negatives_are_refused() {
    let app = TestApp::sqlite().await;
    let now = now_seconds();
    let invalid = "subject_token is invalid";
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        ("not a JWT", "not-a-jwt".into(), BAD, invalid),
        (
            "expired",
            sign(&with(nurse_claims(), "exp", json!(now - 120))),
            BAD,
            invalid,
        ),
        (
            "not yet valid",
            sign(&with(nurse_claims(), "nbf", json!(now + 600))),
            BAD,
            invalid,
        ),
        (
            "foreign issuer",
            sign(&with(nurse_claims(), "iss", json!("https://evil.invalid"))),
            BAD,
            invalid,
        ),
        (
            "foreign audience",
            sign(&with(nurse_claims(), "aud", json!("someone-else"))),
            BAD,
            invalid,
        ),
        (
            "foreign key under CIS2's kid",
            sign_with(
                &nurse_claims(),
                Algorithm::RS256,
                "test-rsa",
                &other_rsa_key(),
            ),
            BAD,
            invalid,
        ),
        (
            "foreign key, unknown kid",
            sign_with(
                &nurse_claims(),
                Algorithm::RS256,
                "who-knows",
                &other_rsa_key(),
            ),
            UNAUTHORISED,
            "Invalid 'kid' header in subject_token JWT - no matching public key",
        ),
        (
            "alg none",
            unsigned(
                &nurse_claims(),
                json!({"alg": "none", "typ": "JWT", "kid": "test-rsa"}),
            ),
            BAD,
            invalid,
        ),
        (
            "alg HS256",
            hs256(&nurse_claims(), "test-rsa"),
            BAD,
            invalid,
        ),
        (
            "EC key claimed as RS256",
            sign_with(&nurse_claims(), Algorithm::ES256, "test-rsa", &ec_key()),
            BAD,
            invalid,
        ),
        (
            "PS256 under a key pinned to RS256",
            sign_with(&nurse_claims(), Algorithm::PS256, "test-rsa", &rsa_key()),
            BAD,
            invalid,
        ),
        (
            "no iss",
            sign(&without(nurse_claims(), "iss")),
            BAD,
            "Missing or non-matching iss/sub claims in JWT",
        ),
        (
            "no aud",
            sign(&without(nurse_claims(), "aud")),
            BAD,
            "Missing aud claim in JWT",
        ),
        (
            "no exp",
            sign(&without(nurse_claims(), "exp")),
            BAD,
            "Missing exp claim in JWT",
        ),
        (
            "no sub",
            sign(&without(nurse_claims(), "sub")),
            BAD,
            invalid,
        ),
        (
            "no name",
            sign(&without(nurse_claims(), "name")),
            BAD,
            invalid,
        ),
        (
            "no assurance level",
            sign(&without(nurse_claims(), "authentication_assurance_level")),
            BAD,
            invalid,
        ),
        (
            "assurance level 1",
            sign(&with(
                nurse_claims(),
                "authentication_assurance_level",
                json!("1"),
            )),
            BAD,
            invalid,
        ),
    ];
    for (case, id_token, want, description) in cases {
        let (status, body) = app.exchange(&id_token).await;
        assert_refusal(&body, status, want, "invalid_request", description, case);
    }
    // Each allowed algorithm of CIS2's keys: RS256 and ES256; a verified ID token is cached.
    let es256 = sign_with(&nurse_claims(), Algorithm::ES256, "test-ec", &ec_key());
    let cached = app.state.verifier.cached_tokens();
    let (status, body) = app.exchange(&es256).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.exchange(&es256).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.state.verifier.cached_tokens(), cached + 1);
}

#[tokio::test]
async fn the_apis_refuse_anything_but_a_live_opaque_token_on_every_endpoint() {
    let app = TestApp::sqlite().await;
    let nurse_user = nurse();
    app.add_role(&nurse_user.directory_role()).await;
    let id_token = sign(&nurse_claims());
    let revoked = app.access_token(&id_token).await;
    let (status, _) = app
        .post_form(
            "/oauth2/revoke",
            &[
                ("token".into(), revoked.clone()),
                ("client_id".into(), API_KEY.into()),
                ("client_secret".into(), CLIENT_SECRET.into()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let expired = app.access_token(&id_token).await;
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("not one of ours", Some("not-a-token".into())),
        ("a CIS2 ID token presented directly", Some(id_token.clone())),
        ("revoked", Some(revoked)),
        ("expired", Some(expired)),
    ];
    app.advance_platform(Duration::seconds(601));
    for (name, token) in &cases {
        for (method, uri) in ENDPOINTS {
            let (status, headers, body) = call(&app, method, uri, token.as_deref()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{name} on {method} {uri}");
            assert_eq!(spine_code(&body), "ACCESS_DENIED", "{name}");
            assert_eq!(
                headers["www-authenticate"],
                "Bearer error=\"invalid_token\""
            );
            let text = String::from_utf8_lossy(&body);
            assert!(!text.contains("eyJ"), "{name}: token echoed");
        }
    }
    let metrics = String::from_utf8(app.get("/metrics", None, &[]).await.2).expect("utf8");
    assert!(
        metrics.contains("cpis_auth_failures_total{reason=\"unknown_token\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn scopes_follow_the_assurance_level() {
    let app = TestApp::sqlite().await;
    let aal2 = nurse().at_aal("2");
    let token = app.token_for(&aal2).await;
    let (status, body) = app.exchange(&sign(&aal2.id_token_claims())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["scope"],
        "urn:nhsd:apim:user-nhs-cis2:aal2:personal-demographics-service"
    );
    // PDS allows AAL2: the read goes through (404: nobody with that number).
    let (status, _, body) = call(&app, "GET", ENDPOINTS[2].1, Some(&token)).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "{}",
        String::from_utf8_lossy(&body)
    );
    // CP-IS, the LA side and the central audit log need AAL3.
    for (method, uri) in ENDPOINTS
        .iter()
        .copied()
        .filter(|(_, uri)| !uri.starts_with("/personal-demographics"))
        .chain([("POST", "/audit/FHIR/R4")])
    {
        let (status, _, body) = call(&app, method, uri, Some(&token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(spine_code(&body), "ACCESS_DENIED");
        assert!(String::from_utf8_lossy(&body).contains("scope"));
    }
    // The dev-idp's AAL2 user, from the seeded directory.
    let token = app
        .access_token(&sign(&id_token_claims(
            "900000000008",
            "Ada Passcode-Test",
            Some("555000000801"),
            "2",
        )))
        .await;
    let (status, _, _) = call(&app, "GET", ENDPOINTS[0].1, Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pds_needs_a_uuid_x_request_id() {
    let app = TestApp::sqlite().await;
    let token = app.ed_nurse().await;
    let request = |value: Option<&str>| {
        let mut builder = Request::builder()
            .uri(ENDPOINTS[2].1)
            .header("Authorization", format!("Bearer {token}"));
        if let Some(value) = value {
            builder = builder.header("X-Request-ID", value);
        }
        builder.body(Body::empty()).expect("request")
    };
    let (status, _, body) = app.send(request(None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(spine_code(&body), "MISSING_VALUE");
    let (status, _, body) = app.send(request(Some("1234"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(spine_code(&body), "INVALID_VALUE");
    assert!(!String::from_utf8_lossy(&body).contains("1234"));
    let (status, _, _) = app
        .send(request(Some("6f1c7a52-9e62-4d8e-8a3f-1b2c3d4e5f60")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn refresh(app: &TestApp, refresh_token: &str, secret: &str) -> (StatusCode, Value) {
    app.post_form(
        "/oauth2/token",
        &[
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), refresh_token.into()),
            ("client_id".into(), API_KEY.into()),
            ("client_secret".into(), secret.into()),
        ],
    )
    .await
}

async fn refresh_and_revoke(app: TestApp) {
    app.add_role(&nurse().directory_role()).await;
    let (status, first) = app.exchange(&sign(&nurse_claims())).await;
    assert_eq!(status, StatusCode::OK);
    let first_refresh = first["refresh_token"].as_str().expect("refresh").to_owned();
    // The wrong secret is refused and does not use the token up.
    let (status, body) = refresh(&app, &first_refresh, "wrong").await;
    assert_refusal(
        &body,
        status,
        UNAUTHORISED,
        "invalid_request",
        "client_id or client_secret is invalid",
        "wrong secret",
    );
    let (status, second) = refresh(&app, &first_refresh, CLIENT_SECRET).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["refresh_count"], "1");
    assert_eq!(second["expires_in"], "599");
    assert_eq!(second["token_type"], "Bearer");
    let keys: std::collections::BTreeSet<&str> = second
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_count",
            "refresh_token",
            "refresh_token_expires_in",
            "token_type"
        ]
        .into_iter()
        .collect()
    );
    // Rotated: the old refresh token is refused after use.
    let (status, body) = refresh(&app, &first_refresh, CLIENT_SECRET).await;
    assert_refusal(
        &body,
        status,
        UNAUTHORISED,
        "invalid_grant",
        "refresh_token is invalid",
        "reused refresh token",
    );
    let access = second["access_token"].as_str().expect("access").to_owned();
    let (status, _) = app.care_team(&numbers(1)[0], &access, &[]).await;
    assert_eq!(status, StatusCode::OK);
    // Revoking (with any of the grant's tokens) ends both.
    let second_refresh = second["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let revoke = |token: String, secret: &str| {
        vec![
            ("token".to_owned(), token),
            ("client_id".to_owned(), API_KEY.to_owned()),
            ("client_secret".to_owned(), secret.to_owned()),
        ]
    };
    let (status, body) = app
        .post_form("/oauth2/revoke", &revoke(access.clone(), "wrong"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = app
        .post_form("/oauth2/revoke", &revoke(access.clone(), CLIENT_SECRET))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.care_team(&numbers(1)[0], &access, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = refresh(&app, &second_refresh, CLIENT_SECRET).await;
    assert_refusal(
        &body,
        status,
        UNAUTHORISED,
        "invalid_grant",
        "refresh_token is invalid",
        "revoked grant",
    );
    // 200 whatever the token.
    let (status, _) = app
        .post_form(
            "/oauth2/revoke",
            &revoke("never-issued".into(), CLIENT_SECRET),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // A grant ends 12 hours after the exchange, however often it is refreshed.
    let (_, grant) = app.exchange(&sign(&nurse_claims())).await;
    let mut refresh_token = grant["refresh_token"].as_str().expect("refresh").to_owned();
    app.advance_platform(Duration::hours(11));
    let (status, body) = refresh(&app, &refresh_token, CLIENT_SECRET).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let left: i64 = body["refresh_token_expires_in"]
        .as_str()
        .expect("text")
        .parse()
        .expect("number");
    assert!((3590..=3599).contains(&left), "{left}");
    refresh_token = body["refresh_token"].as_str().expect("refresh").to_owned();
    app.advance_platform(Duration::hours(1) + Duration::seconds(1));
    let (status, body) = refresh(&app, &refresh_token, CLIENT_SECRET).await;
    assert_refusal(
        &body,
        status,
        UNAUTHORISED,
        "invalid_request",
        "Refresh Token expired",
        "past 12 hours",
    );
    // Grants past their end are dropped (with their tokens) as new ones are made. (The
    // platform's clock is 12 hours and a second ahead: so is the assertion's expiry.)
    let assertion = sign_assertion(&with(
        assertion_claims(),
        "exp",
        json!(now_seconds() + 12 * 3600 + 1 + 200),
    ));
    let (status, body) = app.exchange_with(&sign(&nurse_claims()), &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let count = |table: &'static str| {
        let pool = app.store.pool().clone();
        async move {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&pool)
                .await
                .expect("count");
            sqlx::Row::try_get::<i64, _>(&row, 0).expect("count")
        }
    };
    assert_eq!(count("oauth_grants").await, 1);
    assert_eq!(count("oauth_tokens").await, 2);
}

crate::on_both_backends!(refresh_and_revoke, role_from_urid_and_directory);

async fn role_from_urid_and_directory(app: TestApp) {
    // dev-idp's `two-roles` user, from the seeded directory.
    let id_token = sign(&id_token_claims(
        "900000000007",
        "Toni Tworole-Test",
        Some("555000000702"),
        "3",
    ));
    let token = app.access_token(&id_token).await;
    let uri = ENDPOINTS[0].1;
    // No header: the ID token's selected role.
    let (status, _, _) = call(&app, "GET", uri, Some(&token)).await;
    let selected_ok = status;
    for (urid, want) in [
        ("555000000701", None),
        ("555000000702", None),
        ("555000000101", Some(StatusCode::FORBIDDEN)), // ed-nurse's role
        ("no-such-role", Some(StatusCode::FORBIDDEN)),
    ] {
        let (status, _, body) = call_with(
            &app,
            "GET",
            uri,
            Some(&token),
            &[("NHSD-Session-URID", urid)],
        )
        .await;
        match want {
            Some(want) => {
                assert_eq!(status, want, "{urid}");
                assert_eq!(spine_code(&body), "ACCESS_DENIED");
            }
            None => assert_ne!(status, StatusCode::UNAUTHORIZED, "{urid}"),
        }
    }
    assert_ne!(selected_ok, StatusCode::UNAUTHORIZED);
    // The access history names the user and role the platform passed.
    let nurse_token = app
        .access_token(&sign(&id_token_claims(
            "900000000001",
            "Tess Triage-Test",
            Some("555000000101"),
            "3",
        )))
        .await;
    let child = numbers(1).remove(0);
    let today = app.today();
    app.person(&child, years_ago(today, 5), cpis_domain::Gender::Female)
        .await;
    app.add_plan(
        &child,
        &plan(
            cpis_domain::PlanType::ChildProtectionPlan,
            today - Duration::days(3),
            None,
            "ZL001",
        ),
    )
    .await;
    let (status, _) = app.care_team(&child, &nurse_token, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let row = sqlx::query(
        "SELECT user_id, user_name, role_profile_id, organisation_ods, organisation_name \
         FROM accesses",
    )
    .fetch_one(app.store.pool())
    .await
    .expect("one access");
    let get = |index: usize| sqlx::Row::try_get::<String, _>(&row, index).expect("text");
    assert_eq!(get(0), "900000000001");
    assert_eq!(get(1), "Tess Triage-Test");
    assert_eq!(get(2), "555000000101");
    assert_eq!(get(3), "ZZ1ED");
    assert_eq!(get(4), "Northshire General Hospital (synthetic)");
}

#[tokio::test]
async fn roles_without_the_activity_are_forbidden() {
    let app = TestApp::sqlite().await;
    let no_activity = app
        .token_for(&claims("u1", "No Activity", "ZZ1ED", &[]))
        .await;
    let review_only = app
        .token_for(&claims("u2", "Review Only", "ZZ1ED", &["B1234"]))
        .await;
    let no_selected_role = app
        .access_token(&sign(&without(nurse_claims(), "selected_roleid")))
        .await;
    let selected_role_missing = app
        .access_token(&sign(&with(
            nurse_claims(),
            "selected_roleid",
            json!("not-in-the-directory"),
        )))
        .await;
    let la = app.la_user("ZL001").await;
    let nurse = app.ed_nurse().await;
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
    let verifier = Verifier::new(&issuer, CIS2_CLIENT_ID, KeySource::Discovery)
        .await
        .expect("discovery")
        .with_refresh_interval(std::time::Duration::ZERO);
    let for_issuer = |claims: serde_json::Value| with(claims, "iss", json!(issuer));
    let rsa_token = sign(&for_issuer(nurse_claims()));
    let claims = verifier
        .verify(&rsa_token)
        .await
        .expect("RS256 via discovery");
    assert_eq!(claims.sub, "nurse-1");
    assert_eq!(claims.authentication_assurance_level.as_deref(), Some("3"));
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
    let error = Verifier::new(&other, CIS2_CLIENT_ID, KeySource::Discovery)
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
    let verifier = Verifier::new(
        "http://127.0.0.1:9090",
        CIS2_CLIENT_ID,
        KeySource::JwksFile(path),
    )
    .await;
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
