//! Test harness: TEST-ONLY keys and token minting, an app on SQLite or PostgreSQL with a
//! movable clock, and request helpers.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use cpis_domain::{
    Gender, LocalAuthority, NhsNumber, PatientDemographics, PlanType, ProtectionPlan, SocialWorker,
};
use cpis_service::api::router;
use cpis_service::auth::{KeySource, Verifier, install_crypto_provider};
use cpis_service::state::{AppState, Limits};
use cpis_service::store::Store;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime};
use tower::ServiceExt;

pub const ISSUER: &str = "https://idp.test.invalid";
pub const AUDIENCE: &str = "cpis-service";
pub const POSTGRES_ENV: &str = "CPIS_TEST_DATABASE_URL_POSTGRES";

const RSA_KEY: &[u8] = include_bytes!("../keys/TEST-ONLY-rsa-signing-key.pem");
const OTHER_RSA_KEY: &[u8] = include_bytes!("../keys/TEST-ONLY-rsa-other-key.pem");
const EC_KEY: &[u8] = include_bytes!("../keys/TEST-ONLY-ec-p256-key.pem");

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

/// The JWKS the test service trusts: `test-rsa` (RS256) and `test-ec` (ES256).
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

pub fn now_seconds() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// A CIS2-shaped role entry.
pub fn role(id: &str, org: &str, name: &str, activities: &[&str]) -> Value {
    json!({
        "person_roleid": id,
        "org_code": org,
        "role_code": "R8000",
        "role_name": name,
        "activity_codes": activities,
    })
}

/// Claims for a user with one selected role.
pub fn claims(sub: &str, name: &str, org: &str, activities: &[&str]) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "name": name,
        "iat": now_seconds(),
        "exp": now_seconds() + 600,
        "selected_roleid": format!("role-{sub}"),
        "nhsid_nrbac_roles": [role(&format!("role-{sub}"), org, "Nurse Access Role", activities)],
        "nhsid_user_orgs": [{"org_code": org, "org_name": format!("{org} Hospital (synthetic)")}],
    })
}

pub fn sign(claims: &Value) -> String {
    sign_with(claims, Algorithm::RS256, "test-rsa", &rsa_key())
}

pub fn sign_with(claims: &Value, algorithm: Algorithm, kid: &str, key: &EncodingKey) -> String {
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

pub fn ed_nurse() -> String {
    sign(&claims("nurse-1", "Tess Triage-Test", "ZZ1ED", &["B0107"]))
}

pub fn other_nurse() -> String {
    sign(&claims("nurse-2", "Ola Other-Test", "ZZ2ED", &["B0107"]))
}

pub fn scheduled_user() -> String {
    sign(&claims("hv-1", "Sam Scheduled-Test", "ZZ3GP", &["B0170"]))
}

pub fn la_user(org: &str) -> String {
    sign(&claims(
        &format!("la-{org}"),
        "Lee Council-Test",
        org,
        &["B1235"],
    ))
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
        let verifier = Verifier::new(ISSUER, AUDIENCE, KeySource::Static(test_jwks()))
            .await
            .expect("verifier");
        let mut state = AppState::new(store.clone(), Arc::new(verifier), limits);
        let clock = Arc::new(Mutex::new(OffsetDateTime::now_utc()));
        let reader = clock.clone();
        state.clock = Arc::new(move || *reader.lock().expect("clock"));
        TestApp {
            state,
            store,
            clock,
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
        let response = self
            .router()
            .oneshot(builder.body(Body::from(body)).expect("request"))
            .await
            .expect("infallible");
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
