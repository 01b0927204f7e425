//! The API platform's token endpoint, as NHS England's API platform (APIM) answers it for the
//! "CIS2 separate authentication" pattern (see `docs/sign-in.md`, section 2):
//!
//! - `POST /oauth2/token` with `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`
//!   (RFC 8693): a CIS2 ID token (`subject_token`) and the registered app's RS512
//!   `client_assertion` exchanged for an opaque access token (10 minutes, `expires_in` `"599"`)
//!   and refresh token (12 hours), with scopes by the ID token's
//!   `authentication_assurance_level`;
//! - `POST /oauth2/token` with `grant_type=refresh_token`, `client_id`, `client_secret`: the
//!   refresh token rotated (the old one refused after use), never past 12 hours from the
//!   exchange;
//! - `POST /oauth2/revoke` (RFC 7009, a reference extension) with `token`, `client_id`,
//!   `client_secret`: the grant's access and refresh tokens ended; `200` whatever the token.
//!
//! Tokens are stored only as SHA-256 hashes. Errors are `{"error", "error_description",
//! "message_id"}` with APIM's statuses and texts, from NHSDigital/identity-service-api (its
//! `proxies/live/apiproxy/policies/AssignMessage.*.xml` and `e2e/tests/oauth/test_token_exchange.py`);
//! rows marked *reference* are this service's where APIM's text was not found:
//!
//! | case | status | `error` | `error_description` |
//! |---|---|---|---|
//! | `grant_type` missing or unknown | 400 | `invalid_request` | `grant_type is invalid` |
//! | `grant_type` another OAuth grant (`password`, `authorization_code`, `client_credentials`) | 400 | `unsupported_grant_type` | `grant_type is invalid` |
//! | `subject_token_type` missing or not `...:id_token` | 400 | `invalid_request` | `missing or invalid subject_token_type - must be 'urn:ietf:params:oauth:token-type:id_token'` |
//! | `client_assertion_type` missing or not `...:jwt-bearer` | 400 | `invalid_request` | `Missing or invalid client_assertion_type - must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer` (sic) |
//! | `client_assertion` missing | 400 | `invalid_request` | `Missing client_assertion` |
//! | `subject_token` missing | 400 | `invalid_request` | `Missing subject_token` |
//! | `client_assertion` not a JWT | 400 | `invalid_request` | `Malformed JWT in client_assertion` |
//! | `alg` not RS512 (RS256, HS256, `none`, ...) | 400 | `invalid_request` | `Unsupported JWT Algorithm` |
//! | no `kid` | 400 | `invalid_request` | `Missing 'kid' header in JWT` |
//! | `typ` given and not `JWT` | 400 | `invalid_request` | `Invalid 'typ' header in JWT - must be 'JWT'` |
//! | `iss`/`sub` missing or different | 400 | `invalid_request` | `Missing or non-matching iss/sub claims in JWT` |
//! | `iss` = `sub` but not the registered API key | 401 | `invalid_request` | `client_id is invalid` |
//! | no `jti` | 400 | `invalid_request` | `Missing jti claim in JWT` |
//! | no `exp` | 400 | `invalid_request` | `Missing exp claim in JWT` |
//! | `exp` not an integer | 400 | `invalid_request` | `Failed to decode JWT` |
//! | `exp` more than 5 minutes ahead | 400 | `invalid_request` | `Invalid exp claim in JWT - more than 5 minutes in future` |
//! | `exp` past | 400 | `invalid_request` | `JWT token has expired` |
//! | `aud` missing or not the token URL | 401 | `invalid_request` | `Missing or invalid 'aud' claim in client_assertion JWT` |
//! | `kid` not in the app's JWKS | 401 | `invalid_request` | `Invalid 'kid' header in JWT - no matching public key` |
//! | signature does not verify | 401 | `invalid_request` | `JWT signature verification failed due to invalid token` |
//! | `jti` used before | 400 | `invalid_request` | `Non-unique jti claim in JWT` |
//! | ID token: no `iss` | 400 | `invalid_request` | `Missing or non-matching iss/sub claims in JWT` |
//! | ID token: no `aud` | 400 | `invalid_request` | `Missing aud claim in JWT` |
//! | ID token: no `exp` | 400 | `invalid_request` | `Missing exp claim in JWT` |
//! | ID token: `kid` not in the CIS2 JWKS | 401 | `invalid_request` | `Invalid 'kid' header in subject_token JWT - no matching public key` |
//! | ID token otherwise refused (signature, algorithm, issuer, audience, expired, no `sub`/`name`, not a JWT) | 400 | `invalid_request` | `subject_token is invalid` |
//! | ID token's `authentication_assurance_level` missing or not `3`/`2` (*reference*) | 400 | `invalid_request` | `subject_token is invalid` |
//! | CIS2 keys could not be fetched (*reference*) | 503 | `temporarily_unavailable` | `The identity provider's keys are unavailable` |
//! | refresh: `refresh_token` missing (*reference*) | 400 | `invalid_request` | `refresh_token is missing` |
//! | refresh or revoke: `client_id`/`client_secret` wrong or missing | 401 | `invalid_request` | `client_id or client_secret is invalid` |
//! | refresh: unknown, used, revoked or another app's refresh token | 401 | `invalid_grant` | `refresh_token is invalid` |
//! | refresh: past 12 hours from the exchange | 401 | `invalid_request` | `Refresh Token expired` (APIM's key is `error_message`) |
//! | revoke: `token` missing (*reference*) | 400 | `invalid_request` | `token is missing` |
//! | the form cannot be read (*reference*) | 400 | `invalid_request` | `The request body must be application/x-www-form-urlencoded` |
//! | the database is unavailable (*reference*) | 503 | `temporarily_unavailable` | `The service's database is unavailable` |

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header::{CACHE_CONTROL, PRAGMA};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use time::OffsetDateTime;

use crate::auth::assertion::AssertionError;
use crate::auth::opaque::{new_token, token_hash};
use crate::auth::scopes::scopes_for_assurance_level;
use crate::auth::{AuthError, raw_payload};
use crate::state::AppState;
use crate::store::{NewGrant, RefreshOutcome, StoreError, TokenPair};

/// `grant_type` of the token exchange.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// `subject_token_type` of a CIS2 ID token.
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
/// `client_assertion_type` of a signed JWT.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// `issued_token_type` of the answer.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// How long an access token lives.
pub const ACCESS_TOKEN_SECONDS: i64 = crate::auth::assertion::DEFAULT_ACCESS_TOKEN_SECONDS;
/// How long a grant (its refresh tokens) lives from the exchange.
pub const REFRESH_TOKEN_SECONDS: i64 = 12 * 60 * 60;

/// The token endpoint's routes, merged by the router in `api/mod.rs`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth2/token", post(token))
        .route("/oauth2/revoke", post(revoke))
}

/// Every refusal the token endpoint answers, with APIM's status, `error` and
/// `error_description` (the table above).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    /// `grant_type` missing or unknown.
    InvalidGrantType,
    /// Another OAuth grant type.
    UnsupportedGrantType,
    /// `subject_token_type`.
    SubjectTokenType,
    /// `client_assertion_type`.
    ClientAssertionType,
    /// No `client_assertion`.
    MissingClientAssertion,
    /// No `subject_token`.
    MissingSubjectToken,
    /// The client assertion was refused.
    Assertion(AssertionError),
    /// The `jti` was used before.
    ReusedJti,
    /// ID token without `iss`.
    SubjectMissingIss,
    /// ID token without `aud`.
    SubjectMissingAud,
    /// ID token without `exp`.
    SubjectMissingExp,
    /// ID token `kid` unknown.
    SubjectUnknownKey,
    /// ID token refused otherwise.
    InvalidSubjectToken,
    /// The CIS2 keys could not be fetched.
    KeysUnavailable,
    /// No `refresh_token`.
    MissingRefreshToken,
    /// `client_id`/`client_secret` wrong.
    InvalidClient,
    /// The refresh token is not live.
    InvalidRefreshToken,
    /// The grant is past its 12 hours.
    RefreshTokenExpired,
    /// No `token` to revoke.
    MissingToken,
    /// The form could not be read.
    BadForm,
    /// The database failed.
    Unavailable,
}

impl OAuthError {
    /// The status, `error` and `error_description`.
    pub fn answer(self) -> (StatusCode, &'static str, &'static str) {
        use OAuthError as E;
        const BAD: StatusCode = StatusCode::BAD_REQUEST;
        const UNAUTHORISED: StatusCode = StatusCode::UNAUTHORIZED;
        const INVALID: &str = "invalid_request";
        match self {
            E::InvalidGrantType => (BAD, INVALID, "grant_type is invalid"),
            E::UnsupportedGrantType => (BAD, "unsupported_grant_type", "grant_type is invalid"),
            E::SubjectTokenType => (
                BAD,
                INVALID,
                "missing or invalid subject_token_type - must be 'urn:ietf:params:oauth:token-type:id_token'",
            ),
            E::ClientAssertionType => (
                BAD,
                INVALID,
                "Missing or invalid client_assertion_type - must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            E::MissingClientAssertion => (BAD, INVALID, "Missing client_assertion"),
            E::MissingSubjectToken => (BAD, INVALID, "Missing subject_token"),
            E::Assertion(error) => assertion_answer(error),
            E::ReusedJti => (BAD, INVALID, "Non-unique jti claim in JWT"),
            E::SubjectMissingIss => (
                BAD,
                INVALID,
                "Missing or non-matching iss/sub claims in JWT",
            ),
            E::SubjectMissingAud => (BAD, INVALID, "Missing aud claim in JWT"),
            E::SubjectMissingExp => (BAD, INVALID, "Missing exp claim in JWT"),
            E::SubjectUnknownKey => (
                UNAUTHORISED,
                INVALID,
                "Invalid 'kid' header in subject_token JWT - no matching public key",
            ),
            E::InvalidSubjectToken => (BAD, INVALID, "subject_token is invalid"),
            E::KeysUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "The identity provider's keys are unavailable",
            ),
            E::MissingRefreshToken => (BAD, INVALID, "refresh_token is missing"),
            E::InvalidClient => (
                UNAUTHORISED,
                INVALID,
                "client_id or client_secret is invalid",
            ),
            E::InvalidRefreshToken => (UNAUTHORISED, "invalid_grant", "refresh_token is invalid"),
            E::RefreshTokenExpired => (UNAUTHORISED, INVALID, "Refresh Token expired"),
            E::MissingToken => (BAD, INVALID, "token is missing"),
            E::BadForm => (
                BAD,
                INVALID,
                "The request body must be application/x-www-form-urlencoded",
            ),
            E::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "The service's database is unavailable",
            ),
        }
    }

    /// A stable code for metrics and logs.
    pub fn code(self) -> &'static str {
        use OAuthError as E;
        match self {
            E::InvalidGrantType | E::UnsupportedGrantType => "grant_type",
            E::SubjectTokenType => "subject_token_type",
            E::ClientAssertionType => "client_assertion_type",
            E::MissingClientAssertion => "missing_client_assertion",
            E::MissingSubjectToken => "missing_subject_token",
            E::Assertion(_) => "client_assertion",
            E::ReusedJti => "reused_jti",
            E::SubjectMissingIss
            | E::SubjectMissingAud
            | E::SubjectMissingExp
            | E::SubjectUnknownKey
            | E::InvalidSubjectToken => "subject_token",
            E::KeysUnavailable => "keys_unavailable",
            E::MissingRefreshToken | E::InvalidRefreshToken | E::RefreshTokenExpired => {
                "refresh_token"
            }
            E::InvalidClient => "client",
            E::MissingToken | E::BadForm => "request",
            E::Unavailable => "unavailable",
        }
    }
}

fn assertion_answer(error: AssertionError) -> (StatusCode, &'static str, &'static str) {
    use AssertionError as A;
    const BAD: StatusCode = StatusCode::BAD_REQUEST;
    const UNAUTHORISED: StatusCode = StatusCode::UNAUTHORIZED;
    const INVALID: &str = "invalid_request";
    match error {
        A::Malformed => (BAD, INVALID, "Malformed JWT in client_assertion"),
        A::Algorithm => (BAD, INVALID, "Unsupported JWT Algorithm"),
        A::MissingKid => (BAD, INVALID, "Missing 'kid' header in JWT"),
        A::Typ => (BAD, INVALID, "Invalid 'typ' header in JWT - must be 'JWT'"),
        A::IssSub => (
            BAD,
            INVALID,
            "Missing or non-matching iss/sub claims in JWT",
        ),
        A::UnknownClient => (UNAUTHORISED, INVALID, "client_id is invalid"),
        A::MissingJti => (BAD, INVALID, "Missing jti claim in JWT"),
        A::MissingExp => (BAD, INVALID, "Missing exp claim in JWT"),
        A::BadExp => (BAD, INVALID, "Failed to decode JWT"),
        A::ExpTooFar => (
            BAD,
            INVALID,
            "Invalid exp claim in JWT - more than 5 minutes in future",
        ),
        A::Expired => (BAD, INVALID, "JWT token has expired"),
        A::Audience => (
            UNAUTHORISED,
            INVALID,
            "Missing or invalid 'aud' claim in client_assertion JWT",
        ),
        A::UnknownKey => (
            UNAUTHORISED,
            INVALID,
            "Invalid 'kid' header in JWT - no matching public key",
        ),
        A::Signature => (
            UNAUTHORISED,
            INVALID,
            "JWT signature verification failed due to invalid token",
        ),
    }
}

impl From<StoreError> for OAuthError {
    fn from(error: StoreError) -> OAuthError {
        tracing::error!(%error, "token store failed");
        OAuthError::Unavailable
    }
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let (status, error, description) = self.answer();
        let body = json!({
            "error": error,
            "error_description": description,
            "message_id": uuid::Uuid::new_v4().to_string(),
        });
        let mut response = no_store((status, axum::Json(body)).into_response());
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

type Fields = HashMap<String, String>;

fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
}

fn seconds(moment: OffsetDateTime) -> u64 {
    u64::try_from(moment.unix_timestamp()).unwrap_or(0)
}

/// Seconds from `now` to `until`, less one, as APIM counts them (`600` s answers `"599"`).
fn expires_in(now: OffsetDateTime, until: OffsetDateTime) -> String {
    ((until - now).whole_seconds() - 1).max(0).to_string()
}

async fn token(
    State(state): State<AppState>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let result = match form {
        Err(_) => Err(OAuthError::BadForm),
        Ok(Form(fields)) => match field(&fields, "grant_type") {
            Some(TOKEN_EXCHANGE_GRANT) => exchange(&state, &fields).await,
            Some("refresh_token") => refresh(&state, &fields).await,
            Some("authorization_code" | "client_credentials" | "password") => {
                Err(OAuthError::UnsupportedGrantType)
            }
            _ => Err(OAuthError::InvalidGrantType),
        },
    };
    match result {
        Ok(response) => response,
        Err(error) => {
            state.metrics.auth_failure(error.code());
            tracing::info!(reason = error.code(), "token request refused");
            error.into_response()
        }
    }
}

fn subject_token_error(error: AuthError) -> OAuthError {
    match error {
        AuthError::UnknownKey => OAuthError::SubjectUnknownKey,
        AuthError::KeysUnavailable => OAuthError::KeysUnavailable,
        _ => OAuthError::InvalidSubjectToken,
    }
}

/// A new token pair for a grant ending at `grant_end`: the tokens and what is stored of them.
/// The access token lives `access_seconds` (the platform app's setting; [`ACCESS_TOKEN_SECONDS`]
/// unless configured otherwise).
fn new_pair(
    now: OffsetDateTime,
    grant_end: OffsetDateTime,
    access_seconds: i64,
) -> (String, String, TokenPair) {
    let access = new_token();
    let refresh = new_token();
    let pair = TokenPair {
        access_hash: token_hash(&access),
        access_expires_at: (now + time::Duration::seconds(access_seconds)).min(grant_end),
        refresh_hash: token_hash(&refresh),
        refresh_expires_at: grant_end,
    };
    (access, refresh, pair)
}

async fn exchange(state: &AppState, fields: &Fields) -> Result<Response, OAuthError> {
    if field(fields, "subject_token_type") != Some(ID_TOKEN_TYPE) {
        return Err(OAuthError::SubjectTokenType);
    }
    if field(fields, "client_assertion_type") != Some(JWT_BEARER_ASSERTION) {
        return Err(OAuthError::ClientAssertionType);
    }
    let assertion = field(fields, "client_assertion").ok_or(OAuthError::MissingClientAssertion)?;
    let subject_token = field(fields, "subject_token").ok_or(OAuthError::MissingSubjectToken)?;
    let now = state.platform_now();
    let verified = state
        .platform
        .verify_assertion(assertion, seconds(now))
        .await
        .map_err(OAuthError::Assertion)?;
    let jti_expires =
        OffsetDateTime::from_unix_timestamp(i64::try_from(verified.exp).unwrap_or(i64::MAX))
            .unwrap_or(now + time::Duration::seconds(300));
    if !state
        .store
        .use_jti(state.platform.api_key(), &verified.jti, jti_expires, now)
        .await?
    {
        return Err(OAuthError::ReusedJti);
    }
    // The ID token's missing claims, named as the platform names them.
    let raw = raw_payload(subject_token).ok_or(OAuthError::InvalidSubjectToken)?;
    if raw.get("iss").is_none() {
        return Err(OAuthError::SubjectMissingIss);
    }
    if raw.get("aud").is_none() {
        return Err(OAuthError::SubjectMissingAud);
    }
    if raw.get("exp").is_none() {
        return Err(OAuthError::SubjectMissingExp);
    }
    let claims = state
        .verifier
        .verify(subject_token)
        .await
        .map_err(subject_token_error)?;
    let scopes = scopes_for_assurance_level(claims.authentication_assurance_level.as_deref())
        .ok_or(OAuthError::InvalidSubjectToken)?;
    let scope = scopes.join(" ");
    let grant_end = now + time::Duration::seconds(REFRESH_TOKEN_SECONDS);
    let (access, refresh, pair) = new_pair(now, grant_end, state.platform.access_token_seconds());
    let grant = NewGrant {
        client_id: state.platform.api_key().to_owned(),
        user_id: claims.sub.clone(),
        user_name: claims.name.clone(),
        selected_roleid: claims.selected_roleid.clone(),
        assurance_level: claims
            .authentication_assurance_level
            .clone()
            .unwrap_or_default(),
        scope: scope.clone(),
        created_at: now,
        refresh_expires_at: grant_end,
    };
    state.store.create_grant(&grant, &pair).await?;
    tracing::info!(scope = %scope, "token exchanged");
    Ok(no_store(
        axum::Json(json!({
            "access_token": access,
            "expires_in": expires_in(now, pair.access_expires_at),
            "token_type": "Bearer",
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "refresh_token": refresh,
            "refresh_token_expires_in": expires_in(now, grant_end),
            "refresh_count": "0",
            "scope": scope,
        }))
        .into_response(),
    ))
}

fn authenticate_client(state: &AppState, fields: &Fields) -> Result<String, OAuthError> {
    let client_id = field(fields, "client_id").unwrap_or_default();
    let client_secret = field(fields, "client_secret").unwrap_or_default();
    if state.platform.authenticates(client_id, client_secret) {
        Ok(client_id.to_owned())
    } else {
        Err(OAuthError::InvalidClient)
    }
}

async fn refresh(state: &AppState, fields: &Fields) -> Result<Response, OAuthError> {
    let client_id = authenticate_client(state, fields)?;
    let refresh_token = field(fields, "refresh_token").ok_or(OAuthError::MissingRefreshToken)?;
    let now = state.platform_now();
    let mut issued = None;
    let outcome = state
        .store
        .rotate_refresh(&token_hash(refresh_token), &client_id, now, |grant| {
            let (access, refresh, pair) = new_pair(
                now,
                grant.refresh_expires_at,
                state.platform.access_token_seconds(),
            );
            issued = Some((access, refresh, pair.access_expires_at));
            pair
        })
        .await?;
    let grant = match outcome {
        RefreshOutcome::Rotated(grant) => grant,
        RefreshOutcome::Invalid => return Err(OAuthError::InvalidRefreshToken),
        RefreshOutcome::Expired => return Err(OAuthError::RefreshTokenExpired),
    };
    let (access, refresh, access_expires_at) = issued.ok_or(OAuthError::Unavailable)?;
    Ok(no_store(
        axum::Json(json!({
            "access_token": access,
            "expires_in": expires_in(now, access_expires_at),
            "token_type": "Bearer",
            "refresh_token": refresh,
            "refresh_token_expires_in": expires_in(now, grant.refresh_expires_at),
            "refresh_count": grant.refresh_count.to_string(),
        }))
        .into_response(),
    ))
}

async fn revoke(
    State(state): State<AppState>,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let result = async {
        let Form(fields) = form.map_err(|_| OAuthError::BadForm)?;
        let client_id = authenticate_client(&state, &fields)?;
        let token = field(&fields, "token").ok_or(OAuthError::MissingToken)?;
        if let Some(grant_id) = state
            .store
            .revoke_grant_of(&token_hash(token), &client_id, state.platform_now())
            .await?
        {
            state.callers.forget_grant(&grant_id);
        }
        Ok::<_, OAuthError>(())
    }
    .await;
    match result {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(error) => {
            state.metrics.auth_failure(error.code());
            error.into_response()
        }
    }
}
