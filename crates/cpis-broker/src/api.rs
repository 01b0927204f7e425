//! The broker's endpoints (docs/sign-in.md section 3): `/authorize`, `/callback`, `/token`,
//! `/session/refresh`, `/session/end`, `/session/userinfo`, `/jwks.json`, `/healthz`.
//!
//! Refusals are fixed texts, never token text or a user's name. Logs name a session by the first
//! 8 characters of its id at most.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use openidconnect::url::{Host, Url};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::cis2::Cis2Error;
use crate::platform::PlatformError;
use crate::secret::{
    Secret, constant_time_equal, open_sealed, pkce_s256, random_token, sha256_hex,
};
use crate::state::BrokerState;
use crate::store::{
    NewSession, PendingSignIn, Redemption, SessionRow, SessionUser, micros_after, short_id,
    to_micros,
};

/// How long a refresh waits for another replica's refresh of the same session.
const LEASE_WAIT: Duration = Duration::from_secs(20);
/// How long a refresh lease is held at most.
const LEASE_TTL: Duration = Duration::from_secs(30);
/// The largest form or query value taken.
const MAX_VALUE: usize = 4096;

/// The router over `state`.
pub fn router(state: BrokerState) -> Router {
    Router::new()
        .route("/authorize", get(authorize))
        .route("/callback", get(callback))
        .route("/token", post(token))
        .route("/session/refresh", post(session_refresh))
        .route("/session/end", post(session_end))
        .route("/session/userinfo", get(session_userinfo))
        .route("/jwks.json", get(jwks))
        .route("/healthz", get(healthz))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}

fn json_answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    )
        .into_response()
}

fn oauth_error(status: StatusCode, error: &'static str, description: &'static str) -> Response {
    json_answer(
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn invalid_session() -> Response {
    let mut response = oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_session",
        "the session is unknown, ended or expired: sign in again",
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_session\""),
    );
    response
}

fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, value),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "could not redirect"),
    }
}

/// The app's redirect URI with `pairs` added to its query.
fn app_redirect(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    match Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            redirect(url.as_str())
        }
        Err(_) => plain(StatusCode::BAD_REQUEST, "invalid redirect_uri"),
    }
}

fn app_error(pending: &PendingSignIn, error: &str, description: &str) -> Response {
    app_redirect(
        &pending.app_redirect_uri,
        &[
            ("error", error),
            ("error_description", description),
            ("state", &pending.app_state),
        ],
    )
}

/// A loopback redirect URI as the contract allows: `http://127.0.0.1:<port>/callback` or
/// `http://[::1]:<port>/callback`, nothing else.
pub fn is_loopback_redirect(uri: &str) -> bool {
    let Ok(url) = Url::parse(uri) else {
        return false;
    };
    let loopback = match url.host() {
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        _ => false,
    };
    url.scheme() == "http"
        && loopback
        && url.path() == "/callback"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

/// Whether a public URL's host is loopback (plain http is allowed only then).
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        Some(Host::Domain(name)) => {
            name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

/// RFC 7636 `code_challenge` / `code_verifier` characters and length.
fn is_pkce_text(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn field<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty() && value.len() <= MAX_VALUE)
}

async fn authorize(
    State(state): State<BrokerState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    state.prune_now_and_then();
    let Some(redirect_uri) = field(&params, "redirect_uri").filter(|uri| is_loopback_redirect(uri))
    else {
        return plain(
            StatusCode::BAD_REQUEST,
            "invalid redirect_uri: it must be http://127.0.0.1:<port>/callback",
        );
    };
    let settings = state.settings();
    let valid = field(&params, "response_type") == Some("code")
        && field(&params, "client_id") == Some(settings.app_client_id.as_str())
        && field(&params, "code_challenge_method") == Some("S256")
        && field(&params, "code_challenge").is_some_and(is_pkce_text)
        && field(&params, "state").is_some_and(|s| s.len() <= 512);
    let login_hint = params.get("login_hint").filter(|h| !h.is_empty());
    if !valid || login_hint.is_some_and(|hint| hint.len() > 256) {
        return plain(StatusCode::BAD_REQUEST, "invalid sign-in request");
    }
    let app_state = field(&params, "state").unwrap_or_default().to_owned();
    let challenge = field(&params, "code_challenge")
        .unwrap_or_default()
        .to_owned();
    let refuse = |error: &str, description: &str| {
        app_redirect(
            redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", &app_state),
            ],
        )
    };
    let provider = match state.cis2().provider().await {
        Ok(provider) => provider,
        Err(error) => {
            tracing::warn!(%error, "CIS2 discovery failed");
            return refuse("temporarily_unavailable", "CIS2 could not be reached");
        }
    };
    let authorization = provider.authorize(&settings.acr_values, login_hint.map(String::as_str));
    let now = OffsetDateTime::now_utc();
    let pending = PendingSignIn {
        app_redirect_uri: redirect_uri.to_owned(),
        app_state: app_state.clone(),
        app_code_challenge: challenge,
        nonce: authorization.nonce.clone(),
        pkce_verifier: authorization.pkce_verifier.clone(),
        expires_at: micros_after(now, settings.pending_ttl),
    };
    if let Err(error) = state
        .store()
        .insert_pending(&authorization.state.hash(), &pending, now)
        .await
    {
        tracing::error!(%error, "could not store a pending sign-in");
        return refuse("server_error", "the sign-in could not be started");
    }
    redirect(&authorization.url)
}

async fn callback(
    State(state): State<BrokerState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(broker_state) = field(&params, "state") else {
        return plain(StatusCode::BAD_REQUEST, "unknown sign-in");
    };
    let pending = match state.store().take_pending(&sha256_hex(broker_state)).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return plain(StatusCode::BAD_REQUEST, "unknown sign-in"),
        Err(error) => {
            tracing::error!(%error, "could not read a pending sign-in");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "the sign-in failed");
        }
    };
    let now = OffsetDateTime::now_utc();
    if pending.expires_at < to_micros(now) {
        return app_error(&pending, "access_denied", "the sign-in took too long");
    }
    if let Some(error) = field(&params, "error") {
        tracing::info!(cis2_error = %printable_code(error), "CIS2 refused a sign-in");
        return match error {
            "temporarily_unavailable" | "server_error" => app_error(
                &pending,
                "temporarily_unavailable",
                "CIS2 could not sign the user in now",
            ),
            _ => app_error(&pending, "access_denied", "CIS2 refused the sign-in"),
        };
    }
    let Some(code) = field(&params, "code") else {
        return app_error(&pending, "access_denied", "CIS2 sent no code");
    };
    match complete_sign_in(&state, &pending, code, params.get("iss"), now).await {
        Ok(app_code) => app_redirect(
            &pending.app_redirect_uri,
            &[("code", app_code.expose()), ("state", &pending.app_state)],
        ),
        Err((error, description)) => app_error(&pending, error, description),
    }
}

/// A CIS2 error code as logged: letters and underscores only.
fn printable_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphabetic() || *c == '_')
        .take(40)
        .collect()
}

type Refusal = (&'static str, &'static str);

async fn complete_sign_in(
    state: &BrokerState,
    pending: &PendingSignIn,
    code: &str,
    iss: Option<&String>,
    now: OffsetDateTime,
) -> Result<Secret, Refusal> {
    let settings = state.settings();
    let provider = state.cis2().provider().await.map_err(|error| {
        tracing::warn!(%error, "CIS2 discovery failed");
        ("temporarily_unavailable", "CIS2 could not be reached")
    })?;
    if let Some(iss) = iss
        && iss.trim_end_matches('/') != provider_issuer(state)
    {
        return Err(("access_denied", "the answer came from another issuer"));
    }
    let server_error = ("server_error", "the sign-in could not be completed");
    let cis2_assertion = state
        .assertion(state.cis2().client_id(), provider.token_url())
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not make the CIS2 client assertion");
            server_error
        })?;
    let user = provider
        .sign_in(
            state.http(),
            code,
            &pending.pkce_verifier,
            &pending.nonce,
            &cis2_assertion,
            &settings.acr_values,
        )
        .await
        .map_err(|error| {
            tracing::warn!(%error, "CIS2 sign-in failed");
            match error {
                Cis2Error::Unavailable(_) => {
                    ("temporarily_unavailable", "CIS2 could not be reached")
                }
                Cis2Error::Refused(_) => ("access_denied", "the CIS2 sign-in was not accepted"),
                Cis2Error::Configuration(_) => server_error,
            }
        })?;
    let platform = state.platform();
    let platform_assertion = state
        .assertion(platform.api_key(), platform.token_url())
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not make the platform client assertion");
            server_error
        })?;
    let tokens = platform
        .exchange(&user.id_token, &platform_assertion)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "the platform's token exchange failed");
            match error {
                PlatformError::Unavailable(_) => (
                    "temporarily_unavailable",
                    "the API platform could not be reached",
                ),
                PlatformError::Refused { .. } => {
                    ("access_denied", "the API platform refused the sign-in")
                }
                PlatformError::Invalid => server_error,
            }
        })?;
    let mut session_age = settings.session_max_age;
    if let Some(seconds) = tokens.refresh_token_expires_in {
        session_age = session_age.min(Duration::from_secs(seconds));
    }
    let session = NewSession {
        user: SessionUser {
            sub: user.sub,
            name: user.name,
            selected_roleid: user.selected_roleid,
            roles: Value::Array(user.roles),
            orgs: Value::Array(user.orgs),
            aal: user.aal,
        },
        access_token: tokens.access_token,
        access_expires_at: micros_after(now, Duration::from_secs(tokens.expires_in)),
        refresh_token: tokens.refresh_token,
        expires_at: micros_after(now, session_age),
    };
    let app_code = random_token();
    let id = state
        .store()
        .create_session(
            &session,
            &app_code,
            &pending.app_redirect_uri,
            &pending.app_code_challenge,
            micros_after(now, settings.app_code_ttl),
            now,
        )
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not store the session");
            server_error
        })?;
    tracing::info!(session = short_id(&id), "signed in");
    Ok(app_code)
}

fn provider_issuer(state: &BrokerState) -> String {
    state.cis2().issuer().trim_end_matches('/').to_owned()
}

fn user_json(user: &SessionUser) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert("sub".into(), json!(user.sub));
    map.insert("name".into(), json!(user.name));
    map.insert("selected_roleid".into(), json!(user.selected_roleid));
    map.insert("nhsid_nrbac_roles".into(), user.roles.clone());
    map.insert("nhsid_user_orgs".into(), user.orgs.clone());
    map.insert("authentication_assurance_level".into(), json!(user.aal));
    map
}

fn seconds_until(micros: i64, now: i64) -> i64 {
    ((micros - now) / 1_000_000).max(0)
}

fn token_answer(
    session: &SessionRow,
    access_token: &Secret,
    access_expires_at: i64,
    expires_at: i64,
    handle: Option<&Secret>,
    now: i64,
) -> Response {
    let mut map = serde_json::Map::new();
    map.insert("access_token".into(), json!(access_token.expose()));
    map.insert("token_type".into(), json!("Bearer"));
    map.insert(
        "expires_in".into(),
        json!(seconds_until(access_expires_at, now)),
    );
    if let Some(handle) = handle {
        map.insert("session".into(), json!(handle.expose()));
    }
    map.insert(
        "session_expires_in".into(),
        json!(seconds_until(expires_at, now)),
    );
    map.extend(user_json(&session.user));
    json_answer(StatusCode::OK, Value::Object(map))
}

async fn token(
    State(state): State<BrokerState>,
    Form(params): Form<HashMap<String, String>>,
) -> Response {
    let settings = state.settings();
    if field(&params, "grant_type") != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code is supported",
        );
    }
    if field(&params, "client_id") != Some(settings.app_client_id.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "unknown client_id",
        );
    }
    let (Some(code), Some(redirect_uri), Some(verifier)) = (
        field(&params, "code"),
        field(&params, "redirect_uri"),
        field(&params, "code_verifier"),
    ) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code, redirect_uri and code_verifier are required",
        );
    };
    if !is_pkce_text(verifier) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "invalid code_verifier",
        );
    }
    let invalid_grant = || {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code is unknown, used, expired or does not match",
        )
    };
    let now = OffsetDateTime::now_utc();
    let redeemed = match state.store().redeem_code(&sha256_hex(code), now).await {
        Ok(Redemption::Redeemed(redeemed)) => redeemed,
        Ok(Redemption::Unknown) => return invalid_grant(),
        Ok(Redemption::Spent { session_id }) => {
            // A code presented twice: whatever it gave is ended too (RFC 6749 section 4.1.2).
            tracing::warn!(
                session = short_id(&session_id),
                "a used code was presented again"
            );
            end_and_revoke(&state, &session_id).await;
            return invalid_grant();
        }
        Err(error) => {
            tracing::error!(%error, "could not redeem a code");
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "try again",
            );
        }
    };
    let now_micros = to_micros(now);
    let pkce_ok = constant_time_equal(
        pkce_s256(verifier).as_bytes(),
        redeemed.code_challenge.as_bytes(),
    );
    if redeemed.expires_at < now_micros || redeemed.redirect_uri != redirect_uri || !pkce_ok {
        tracing::info!(
            session = short_id(&redeemed.session_id),
            "a code was refused"
        );
        return invalid_grant();
    }
    let Some(access_token) = redeemed
        .sealed_access_token
        .as_deref()
        .and_then(|sealed| open_sealed(&Secret::new(code), sealed))
    else {
        return invalid_grant();
    };
    let session = match state.store().session(&redeemed.session_id).await {
        Ok(Some(session)) if session.is_live(now_micros) => session,
        Ok(_) => return invalid_grant(),
        Err(error) => {
            tracing::error!(%error, "could not read a session");
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "try again",
            );
        }
    };
    let handle = random_token();
    if let Err(error) = state.store().set_handle(&session.id, &handle.hash()).await {
        tracing::error!(%error, "could not store a session handle");
        return oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "try again",
        );
    }
    tracing::info!(session = short_id(&session.id), "session handed to the app");
    token_answer(
        &session,
        &access_token,
        session.access_expires_at,
        session.expires_at,
        Some(&handle),
        now_micros,
    )
}

fn bearer(headers: &HeaderMap) -> Option<Secret> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= MAX_VALUE)
        .then(|| Secret::new(token))
}

async fn live_session_by_handle(
    state: &BrokerState,
    headers: &HeaderMap,
) -> Result<Option<SessionRow>, Response> {
    let Some(handle) = bearer(headers) else {
        return Ok(None);
    };
    match state.store().session_by_handle(&handle.hash()).await {
        Ok(session) => Ok(session),
        Err(error) => {
            tracing::error!(%error, "could not read a session");
            Err(oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "try again",
            ))
        }
    }
}

async fn session_refresh(State(state): State<BrokerState>, headers: HeaderMap) -> Response {
    let session = match live_session_by_handle(&state, &headers).await {
        Ok(Some(session)) if session.is_live(to_micros(OffsetDateTime::now_utc())) => session,
        Ok(_) => return invalid_session(),
        Err(response) => return response,
    };
    let lock = state.refresh_lock(&session.id);
    let response = {
        let _held = lock.lock().await;
        refresh_one(&state, &session.id).await
    };
    state.forget_refresh_lock(&session.id, lock);
    response
}

fn server_error() -> Response {
    oauth_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "try again",
    )
}

/// One refresh of session `id`, holding its lease so no other replica uses the same refresh
/// token at the same time.
async fn refresh_one(state: &BrokerState, id: &str) -> Response {
    let store = state.store();
    let started = std::time::Instant::now();
    loop {
        let now = OffsetDateTime::now_utc();
        match store
            .take_refresh_lease(id, now, micros_after(now, LEASE_TTL))
            .await
        {
            Ok(true) => break,
            Ok(false) if started.elapsed() < LEASE_WAIT => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(false) => {
                return oauth_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "a refresh of this session is in progress",
                );
            }
            Err(error) => {
                tracing::error!(%error, "could not take a refresh lease");
                return server_error();
            }
        }
    }
    // Read again under the lease: the refresh token may have been rotated while we waited.
    let now = OffsetDateTime::now_utc();
    let now_micros = to_micros(now);
    let session = match store.session(id).await {
        Ok(Some(session)) if session.is_live(now_micros) => session,
        Ok(_) => return invalid_session(),
        Err(error) => {
            tracing::error!(%error, "could not read a session");
            return server_error();
        }
    };
    let Some(refresh_token) = session.refresh_token.clone() else {
        let _ = store.release_refresh_lease(id).await;
        return invalid_session();
    };
    match state.platform().refresh(&refresh_token).await {
        Ok(tokens) => {
            let access_expires_at = micros_after(now, Duration::from_secs(tokens.expires_in));
            let mut expires_at = session.expires_at;
            if let Some(seconds) = tokens.refresh_token_expires_in {
                expires_at = expires_at.min(micros_after(now, Duration::from_secs(seconds)));
            }
            let new_refresh = tokens.refresh_token.clone().unwrap_or(refresh_token);
            match store
                .store_refreshed(
                    id,
                    &tokens.access_token,
                    access_expires_at,
                    &new_refresh,
                    expires_at,
                )
                .await
            {
                Ok(true) => {
                    tracing::info!(session = short_id(id), "refreshed");
                    token_answer(
                        &session,
                        &tokens.access_token,
                        access_expires_at,
                        expires_at,
                        None,
                        now_micros,
                    )
                }
                Ok(false) => {
                    // Ended while the refresh was on its way: the new grant goes too.
                    let _ = state.platform().revoke(&new_refresh).await;
                    invalid_session()
                }
                Err(error) => {
                    tracing::error!(%error, "could not store refreshed tokens");
                    let _ = store.release_refresh_lease(id).await;
                    server_error()
                }
            }
        }
        Err(PlatformError::Refused { status, error }) => {
            tracing::info!(
                session = short_id(id),
                status,
                error = error.unwrap_or("-"),
                "the platform refused a refresh: session ended"
            );
            let _ = store.end_session(id, now).await;
            invalid_session()
        }
        Err(error) => {
            tracing::warn!(session = short_id(id), %error, "refresh failed");
            let _ = store.release_refresh_lease(id).await;
            oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the API platform could not be reached",
            )
        }
    }
}

async fn session_end(State(state): State<BrokerState>, headers: HeaderMap) -> Response {
    match live_session_by_handle(&state, &headers).await {
        Ok(Some(session)) => {
            if !end_and_revoke(&state, &session.id).await {
                return server_error();
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(response) => response,
    }
}

/// End session `id` (after a refresh in flight, so the token it rotates to is the one revoked)
/// and revoke its grant at the platform. `false` when the store failed.
async fn end_and_revoke(state: &BrokerState, id: &str) -> bool {
    let lock = state.refresh_lock(id);
    let ended = {
        let _held = lock.lock().await;
        state
            .store()
            .end_session(id, OffsetDateTime::now_utc())
            .await
    };
    state.forget_refresh_lock(id, lock);
    match ended {
        Ok(Some(refresh_token)) => {
            if let Some(refresh_token) = refresh_token
                && let Err(error) = state.platform().revoke(&refresh_token).await
            {
                tracing::warn!(session = short_id(id), %error, "revocation failed");
            }
            tracing::info!(session = short_id(id), "session ended");
            true
        }
        Ok(None) => true,
        Err(error) => {
            tracing::error!(%error, "could not end a session");
            false
        }
    }
}

async fn session_userinfo(State(state): State<BrokerState>, headers: HeaderMap) -> Response {
    let unauthorized = || {
        let mut response = oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is unknown or expired",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        response
    };
    let Some(token) = bearer(&headers) else {
        return unauthorized();
    };
    let now = to_micros(OffsetDateTime::now_utc());
    match state.store().session_by_access_token(&token.hash()).await {
        Ok(Some(session)) if session.is_live(now) && session.access_expires_at > now => {
            json_answer(StatusCode::OK, Value::Object(user_json(&session.user)))
        }
        Ok(_) => unauthorized(),
        Err(error) => {
            tracing::error!(%error, "could not read a session");
            server_error()
        }
    }
}

async fn jwks(State(state): State<BrokerState>) -> Response {
    match serde_json::to_value(state.key().jwks()) {
        Ok(value) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "max-age=300")],
            Json(value),
        )
            .into_response(),
        Err(_) => server_error(),
    }
}

async fn healthz(State(state): State<BrokerState>) -> Response {
    match state.store().ping().await {
        Ok(()) => plain(StatusCode::OK, "ok"),
        Err(_) => plain(StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_callbacks_are_redirect_uris() {
        assert!(is_loopback_redirect("http://127.0.0.1:53111/callback"));
        assert!(is_loopback_redirect("http://[::1]:53111/callback"));
        assert!(is_loopback_redirect("http://127.0.0.1/callback"));
        for bad in [
            "https://127.0.0.1:1/callback",
            "http://localhost:1/callback",
            "http://evil.example/callback",
            "http://127.0.0.1:1/other",
            "http://127.0.0.1:1/callback?x=1",
            "http://127.0.0.1:1/callback#f",
            "http://user@127.0.0.1:1/callback",
            "http://127.0.0.1.evil.example/callback",
            "not a url",
        ] {
            assert!(!is_loopback_redirect(bad), "{bad}");
        }
    }

    #[test]
    fn pkce_texts_are_checked() {
        assert!(is_pkce_text(&"a".repeat(43)));
        assert!(!is_pkce_text(&"a".repeat(42)));
        assert!(!is_pkce_text(&"a".repeat(129)));
        assert!(!is_pkce_text(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn bearer_is_read() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(
            bearer(&headers).map(|s| s.expose().to_owned()),
            Some("abc".into())
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(bearer(&headers).is_none());
    }
}
