//! Test harness: TEST-ONLY keys; CIS2-style ID tokens (the TEST-ONLY keys play CIS2's keys),
//! the broker's RS512 client assertions (its DEV-ONLY key), and their exchange at
//! `/oauth2/token` for the opaque access tokens every API test uses; an app on SQLite or
//! PostgreSQL with a movable clock and the role directory seeded; request helpers.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use cpis_domain::{
    Gender, LocalAuthority, NhsNumber, PatientDemographics, PlanType, ProtectionPlan, SocialWorker,
};
use cpis_service::api::router;
use cpis_service::auth::{KeySource, PlatformApp, Verifier, install_crypto_provider};
use cpis_service::state::{AppState, Limits};
use cpis_service::store::{DirectoryRole, Store};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime};
use tower::ServiceExt;

/// The CIS2 issuer the test platform trusts.
pub const ISSUER: &str = "https://cis2.test.invalid";
/// The registered CIS2 client id: the `aud` of accepted ID tokens.
pub const CIS2_CLIENT_ID: &str = "cpis-broker";
/// The registered platform app's API key.
pub const API_KEY: &str = "cpis-broker-dev";
/// The test platform's token URL (`aud` of client assertions).
pub const TOKEN_URL: &str = "http://cpis.test.invalid/oauth2/token";
/// The test platform app's client secret.
pub const CLIENT_SECRET: &str = "TEST-ONLY-client-secret";
/// The broker's DEV-ONLY key id.
pub const BROKER_KID: &str = "cpis-broker-dev-1";
pub const POSTGRES_ENV: &str = "CPIS_TEST_DATABASE_URL_POSTGRES";

pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const RSA_KEY: &[u8] = include_bytes!("../keys/TEST-ONLY-rsa-signing-key.pem");
const OTHER_RSA_KEY: &[u8] = include_bytes!("../keys/TEST-ONLY-rsa-other-key.pem");
const EC_KEY: &[u8] = include_bytes!("../keys/TEST-ONLY-ec-p256-key.pem");
const BROKER_KEY: &[u8] =
    include_bytes!("../../../cpis-broker/dev-keys/DEV-ONLY-broker-signing-key.pem");
/// The broker's DEV-ONLY public JWKS (what the platform registers).
pub const BROKER_JWKS: &str =
    include_str!("../../../cpis-broker/dev-keys/DEV-ONLY-broker.jwks.public.json");

pub fn rsa_key() -> EncodingKey {
    install_crypto_provider();
    EncodingKey::from_rsa_pem(RSA_KEY).expect("TEST-ONLY RSA key")
}

pub fn other_rsa_key() -> EncodingKey {
    install_crypto_provider();
    EncodingKey::from_rsa_pem(OTHER_RSA_KEY).expect("TEST-ONLY other RSA key")
}

pub fn ec_key() -> EncodingKey {
    install_crypto_provider();
    EncodingKey::from_ec_pem(EC_KEY).expect("TEST-ONLY EC key")
}

/// The broker's DEV-ONLY signing key (client assertions).
pub fn broker_key() -> EncodingKey {
    install_crypto_provider();
    EncodingKey::from_rsa_pem(BROKER_KEY).expect("DEV-ONLY broker key")
}

/// The JWKS the test platform trusts for CIS2: `test-rsa` (RS256) and `test-ec` (ES256).
pub fn test_jwks() -> JwkSet {
    install_crypto_provider();
    let mut rsa = Jwk::from_encoding_key(&rsa_key(), Algorithm::RS256).expect("rsa jwk");
    rsa.common.key_id = Some("test-rsa".into());
    let mut ec = Jwk::from_encoding_key(&ec_key(), Algorithm::ES256).expect("ec jwk");
    ec.common.key_id = Some("test-ec".into());
    JwkSet {
        keys: vec![rsa, ec],
    }
}

/// The broker's public JWKS, parsed.
pub fn broker_jwks() -> JwkSet {
    serde_json::from_str(BROKER_JWKS).expect("broker JWKS")
}

pub fn now_seconds() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// A synthetic user of the tests: one role, which the directory holds once a token is minted.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub sub: String,
    pub user_name: String,
    pub org: String,
    pub activities: Vec<String>,
    /// `authentication_assurance_level`.
    pub aal: String,
}

impl TestUser {
    /// The role id (`person_roleid`, the ID token's `selected_roleid`).
    pub fn role_id(&self) -> String {
        format!("role-{}", self.sub)
    }

    /// Its role as the directory holds it.
    pub fn directory_role(&self) -> DirectoryRole {
        DirectoryRole {
            person_roleid: self.role_id(),
            user_id: self.sub.clone(),
            org_code: self.org.clone(),
            org_name: format!("{} Hospital (synthetic)", self.org),
            role_code: "R8000".into(),
            role_name: "Nurse Access Role".into(),
            activity_codes: self.activities.clone(),
        }
    }

    /// Its CIS2-style ID token claims.
    pub fn id_token_claims(&self) -> Value {
        id_token_claims(&self.sub, &self.user_name, Some(&self.role_id()), &self.aal)
    }

    pub fn at_aal(mut self, aal: &str) -> TestUser {
        self.aal = aal.into();
        self
    }
}

/// A user with one selected role at `org` with these activity codes, at AAL3.
pub fn claims(sub: &str, user_name: &str, org: &str, activities: &[&str]) -> TestUser {
    TestUser {
        sub: sub.into(),
        user_name: user_name.into(),
        org: org.into(),
        activities: activities.iter().map(|code| (*code).to_owned()).collect(),
        aal: "3".into(),
    }
}

/// CIS2-style ID token claims (no roles: those are the directory's).
pub fn id_token_claims(
    sub: &str,
    user_name: &str,
    selected_roleid: Option<&str>,
    aal: &str,
) -> Value {
    let mut claims = json!({
        "iss": ISSUER,
        "aud": CIS2_CLIENT_ID,
        "sub": sub,
        "name": user_name,
        "iat": now_seconds(),
        "exp": now_seconds() + 600,
        "acr": if aal == "3" { "AAL3_ANY" } else { "AAL2_OR_ABOVE" },
        "amr": if aal == "3" { json!(["SCA"]) } else { json!(["PWD", "OTP"]) },
        "authentication_assurance_level": aal,
        "id_assurance_level": "3",
        "nhsid_useruid": sub,
    });
    if let Some(role) = selected_roleid {
        claims["selected_roleid"] = json!(role);
    }
    claims
}

/// Sign ID token claims as CIS2 (RS256, `test-rsa`).
pub fn sign(claims: &Value) -> String {
    sign_with(claims, Algorithm::RS256, "test-rsa", &rsa_key())
}

pub fn sign_with(claims: &Value, algorithm: Algorithm, kid: &str, key: &EncodingKey) -> String {
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

/// Client assertion claims for `token_url`: `iss` = `sub` = the API key, a fresh `jti`, `exp`
/// four minutes ahead.
pub fn assertion_claims_for(token_url: &str) -> Value {
    json!({
        "iss": API_KEY,
        "sub": API_KEY,
        "aud": token_url,
        "jti": uuid::Uuid::new_v4().to_string(),
        "exp": now_seconds() + 240,
    })
}

pub fn assertion_claims() -> Value {
    assertion_claims_for(TOKEN_URL)
}

/// Sign client assertion claims as the broker (RS512, its DEV-ONLY key).
pub fn sign_assertion(claims: &Value) -> String {
    sign_with(claims, Algorithm::RS512, BROKER_KID, &broker_key())
}

/// A fresh, valid client assertion for the test platform.
pub fn client_assertion() -> String {
    sign_assertion(&assertion_claims())
}

/// The token exchange form.
pub fn exchange_form(subject_token: &str, assertion: &str) -> Vec<(String, String)> {
    vec![
        ("grant_type".into(), TOKEN_EXCHANGE.into()),
        ("subject_token_type".into(), ID_TOKEN_TYPE.into()),
        ("subject_token".into(), subject_token.into()),
        ("client_assertion_type".into(), JWT_BEARER.into()),
        ("client_assertion".into(), assertion.into()),
    ]
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// `application/x-www-form-urlencoded` of `fields`.
pub fn form_body(fields: &[(String, String)]) -> Vec<u8> {
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// Exchange an ID token at a running service (`base` is its URL) for an opaque access token.
pub async fn http_access_token(base: &str, id_token: &str) -> String {
    let token_url = format!("{base}/oauth2/token");
    let assertion = sign_assertion(&assertion_claims_for(&token_url));
    let response = reqwest::Client::new()
        .post(&token_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&exchange_form(id_token, &assertion)))
        .send()
        .await
        .expect("token exchange");
    assert_eq!(response.status(), 200, "token exchange refused");
    let body: Value = response.json().await.expect("json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

pub fn nhs(text: &str) -> NhsNumber {
    NhsNumber::parse(text).expect("valid test NHS number")
}

/// Valid synthetic numbers for tests, distinct from each other.
pub fn numbers(count: usize) -> Vec<NhsNumber> {
    (1..)
        .filter_map(|n: u32| {
            let mut digits = [9u8, 9, 9, 1, 0, 0, 0, 0, 0];
            let mut rest = n;
            for slot in digits[4..].iter_mut().rev() {
                *slot = (rest % 10) as u8;
                rest /= 10;
            }
            NhsNumber::from_first_nine(digits)
        })
        .take(count)
        .collect()
}

pub fn authority(ods: &str) -> LocalAuthority {
    LocalAuthority {
        name: format!("{ods} Council (synthetic)"),
        ods_code: ods.into(),
        office_hours_phone: "01632 960001".into(),
        emergency_duty_phone: "07700 900001".into(),
    }
}

pub fn plan(plan_type: PlanType, start: Date, end: Option<Date>, ods: &str) -> ProtectionPlan {
    ProtectionPlan {
        plan_type,
        start,
        end,
        local_authority: authority(ods),
        social_worker: Some(SocialWorker {
            name: "Sam Worker-Test".into(),
            phone: "07700 900222".into(),
        }),
    }
}

pub fn years_ago(today: Date, years: i32) -> Date {
    today
        .replace_year(today.year() - years)
        .unwrap_or(today - Duration::days(365 * i64::from(years)))
}

pub struct TestApp {
    pub state: AppState,
    pub store: Store,
    clock: Arc<Mutex<OffsetDateTime>>,
    /// How far the platform's clock is ahead of the system clock.
    platform_offset: Arc<Mutex<Duration>>,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh, empty PostgreSQL database on the test server, as a URL.
pub async fn fresh_postgres_url() -> String {
    let base = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
        panic!(
            "{POSTGRES_ENV} is not set: the PostgreSQL storage tests need a server. \
             Run `cargo xtask test`, which starts one, or set it to a postgres:// URL of a \
             user that may create databases."
        )
    });
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&base)
        .await
        .expect("connect to the PostgreSQL test server");
    // Once per test run: drop the databases earlier runs left (one in use refuses to drop,
    // so a concurrent run is not disturbed).
    static CLEANUP: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    CLEANUP
        .get_or_init(|| async {
            let rows =
                sqlx::query("SELECT datname::text FROM pg_database WHERE datname LIKE 'cpis_t_%'")
                    .fetch_all(&mut admin)
                    .await
                    .unwrap_or_default();
            for row in rows {
                let Ok(name) = sqlx::Row::try_get::<String, _>(&row, 0) else {
                    continue;
                };
                if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name}"
                    )))
                    .execute(&mut admin)
                    .await;
                }
            }
        })
        .await;
    let name = format!("cpis_t_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let (prefix, _) = base.rsplit_once('/').expect("URL with a database");
    format!("{prefix}/{name}")
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("cpis.db").display());
        TestApp::with_url(url, Some(dir), Limits::default()).await
    }

    pub async fn postgres() -> TestApp {
        TestApp::with_url(fresh_postgres_url().await, None, Limits::default()).await
    }

    pub async fn with_url(url: String, dir: Option<tempfile::TempDir>, limits: Limits) -> TestApp {
        let store = Store::connect(&url, 8).await.expect("store");
        cpis_service::seed::seed_role_directory(&store)
            .await
            .expect("role directory");
        let verifier = Verifier::new(ISSUER, CIS2_CLIENT_ID, KeySource::Static(test_jwks()))
            .await
            .expect("verifier");
        let platform = PlatformApp::new(
            API_KEY,
            KeySource::Static(broker_jwks()),
            Some(CLIENT_SECRET.into()),
            TOKEN_URL,
        )
        .await
        .expect("platform app");
        let mut state = AppState::new(
            store.clone(),
            Arc::new(verifier),
            Arc::new(platform),
            limits,
        );
        let clock = Arc::new(Mutex::new(OffsetDateTime::now_utc()));
        let reader = clock.clone();
        state.clock = Arc::new(move || *reader.lock().expect("clock"));
        let platform_offset = Arc::new(Mutex::new(Duration::ZERO));
        let offset = platform_offset.clone();
        state.platform_clock =
            Arc::new(move || OffsetDateTime::now_utc() + *offset.lock().expect("offset"));
        TestApp {
            state,
            store,
            clock,
            platform_offset,
            _dir: dir,
        }
    }

    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    pub fn now(&self) -> OffsetDateTime {
        *self.clock.lock().expect("clock")
    }

    /// The service's "today": the UK date.
    pub fn today(&self) -> Date {
        cpis_service::uk_time::uk_date(self.now())
    }

    pub fn set_now(&self, now: OffsetDateTime) {
        *self.clock.lock().expect("clock") = now;
    }

    pub fn advance(&self, by: Duration) {
        let mut clock = self.clock.lock().expect("clock");
        *clock += by;
    }

    /// Move the platform's clock (token lifetimes) ahead by `by`.
    pub fn advance_platform(&self, by: Duration) {
        *self.platform_offset.lock().expect("offset") += by;
    }

    /// POST a form to `uri`; the status and the JSON answer (`Null` when empty).
    pub async fn post_form(&self, uri: &str, fields: &[(String, String)]) -> (StatusCode, Value) {
        let (status, _, body) = self
            .request(
                Method::POST,
                uri,
                None,
                &[("Content-Type", "application/x-www-form-urlencoded")],
                form_body(fields),
            )
            .await;
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).expect("JSON answer")
        };
        (status, value)
    }

    /// Exchange an ID token with this client assertion.
    pub async fn exchange_with(&self, id_token: &str, assertion: &str) -> (StatusCode, Value) {
        self.post_form("/oauth2/token", &exchange_form(id_token, assertion))
            .await
    }

    /// Exchange an ID token with a fresh, valid client assertion.
    pub async fn exchange(&self, id_token: &str) -> (StatusCode, Value) {
        self.exchange_with(id_token, &client_assertion()).await
    }

    /// The opaque access token for an ID token (the exchange must succeed).
    pub async fn access_token(&self, id_token: &str) -> String {
        let (status, body) = self.exchange(id_token).await;
        assert_eq!(status, StatusCode::OK, "exchange refused: {body}");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// Put a user's role in the role directory.
    pub async fn add_role(&self, role: &DirectoryRole) {
        self.store
            .upsert_directory_role(role)
            .await
            .expect("directory role");
    }

    /// An opaque access token for a test user: their role put in the directory, a CIS2 ID
    /// token minted and exchanged.
    pub async fn token_for(&self, user: &TestUser) -> String {
        self.add_role(&user.directory_role()).await;
        self.access_token(&sign(&user.id_token_claims())).await
    }

    /// An unscheduled-care nurse (B0107) at ZZ1ED.
    pub async fn ed_nurse(&self) -> String {
        self.token_for(&claims("nurse-1", "Tess Triage-Test", "ZZ1ED", &["B0107"]))
            .await
    }

    /// Another unscheduled-care nurse (B0107), at ZZ2ED.
    pub async fn other_nurse(&self) -> String {
        self.token_for(&claims("nurse-2", "Ola Other-Test", "ZZ2ED", &["B0107"]))
            .await
    }

    /// A scheduled-care user (B0170).
    pub async fn scheduled_user(&self) -> String {
        self.token_for(&claims("hv-1", "Sam Scheduled-Test", "ZZ3GP", &["B0170"]))
            .await
    }

    /// A local authority user (B1235) of `org`.
    pub async fn la_user(&self, org: &str) -> String {
        self.token_for(&claims(
            &format!("la-{org}"),
            "Lee Council-Test",
            org,
            &["B1235"],
        ))
        .await
    }

    /// Add a person to the demographics stand-in.
    pub async fn person(&self, nhs_number: &NhsNumber, date_of_birth: Date, gender: Gender) {
        let person = PatientDemographics {
            nhs_number: nhs_number.clone(),
            family_name: "Quenthorne".into(),
            given_names: vec!["Wren".into(), "Isla".into()],
            date_of_birth,
            gender,
        };
        sqlx::query(
            "INSERT INTO people (nhs_number, family_name, given_names, date_of_birth, gender) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(person.nhs_number.as_str())
        .bind(&person.family_name)
        .bind(serde_json::to_string(&person.given_names).expect("json"))
        .bind(cpis_service::store::date_text(person.date_of_birth))
        .bind(cpis_fhir::gender_code(person.gender))
        .execute(self.store.pool())
        .await
        .expect("insert person");
    }

    pub async fn add_plan(&self, nhs_number: &NhsNumber, plan: &ProtectionPlan) {
        self.store
            .upsert_plan(nhs_number, plan, self.now())
            .await
            .expect("upsert plan");
    }

    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        // As our client does: every PDS request carries an X-Request-ID.
        if uri.starts_with("/personal-demographics/")
            && !headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("X-Request-ID"))
        {
            builder = builder.header("X-Request-ID", uuid::Uuid::new_v4().to_string());
        }
        self.send(builder.body(Body::from(body)).expect("request"))
            .await
    }

    /// Send a request as built.
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = self.router().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, headers, bytes.to_vec())
    }

    pub async fn get(
        &self,
        uri: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        self.request(Method::GET, uri, token, headers, Vec::new())
            .await
    }

    /// A CareTeam search with a fresh TraceID (plus `headers`).
    pub async fn care_team(
        &self,
        nhs_number: &NhsNumber,
        token: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Vec<u8>) {
        let trace = uuid::Uuid::new_v4().to_string();
        let mut all = vec![("TraceID", trace.as_str())];
        all.extend_from_slice(headers);
        let (status, _, body) = self
            .get(&care_team_uri(nhs_number.as_str()), Some(token), &all)
            .await;
        (status, body)
    }

    pub async fn history(
        &self,
        nhs_number: &NhsNumber,
        token: &str,
    ) -> Vec<cpis_domain::AccessRecord> {
        let trace = uuid::Uuid::new_v4().to_string();
        let uri = format!(
            "/cpis/FHIR/R4/AuditEvent?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C{}",
            nhs_number.as_str()
        );
        let (status, _, body) = self.get(&uri, Some(token), &[("TraceID", &trace)]).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        cpis_fhir::parse_access_history(&body, nhs_number).expect("history parses")
    }

    pub async fn notifications(
        &self,
        token: &str,
        since: OffsetDateTime,
    ) -> Vec<(String, NhsNumber, cpis_domain::AccessRecord)> {
        let since = since
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format");
        let uri = format!("/la/FHIR/R4/AuditEvent?since={}", since.replace('+', "%2B"));
        let (status, _, body) = self.get(&uri, Some(token), &[]).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        cpis_fhir::parse::parse_access_notifications(&body).expect("notifications parse")
    }
}

pub fn care_team_uri(nhs_digits: &str) -> String {
    format!(
        "/cpis/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C{nhs_digits}"
    )
}

/// The Spine code of an OperationOutcome body.
pub fn spine_code(body: &[u8]) -> String {
    cpis_fhir::parse_operation_outcome(body)
        .unwrap_or_else(|error| {
            panic!(
                "not an OperationOutcome ({error}): {}",
                String::from_utf8_lossy(body)
            )
        })
        .spine_code
        .map(|code| code.as_str().to_owned())
        .unwrap_or_default()
}

/// Run an async scenario on both backends, as two tests.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::it::support::TestApp::sqlite().await).await;
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::it::support::TestApp::postgres().await).await;
                }
            }
        )*
    };
}
