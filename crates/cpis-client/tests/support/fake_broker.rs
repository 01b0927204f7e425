//! A controllable stand-in for the trust's token broker (`docs/sign-in.md`, section 3), an axum
//! server on 127.0.0.1 for the tests of the client, the app and the CLI: `/authorize` (checks
//! the client, the loopback redirect URI and PKCE S256, then sends the browser straight back
//! with a one-time code, as the broker does once CIS2 has signed the `login_hint` user in),
//! `/token` (checks the code, the verifier and the redirect URI), `/session/refresh` (can be
//! held until released, or never answered), `/session/end` (recorded) and
//! `/session/userinfo`. Everything it saw can be asked for.
//!
//! Also a minimal "browser" over raw TCP ([`browse`]), so crates that must not depend on an
//! HTTP client (the app's core) can drive a sign-in.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A user the fake broker can sign in, by `login_hint`.
#[derive(Debug, Clone)]
pub struct FakeUser {
    pub hint: &'static str,
    pub sub: &'static str,
    pub name: &'static str,
    pub role_id: &'static str,
    pub activity_codes: &'static [&'static str],
}

/// The synthetic users: an ED nurse (B0107), a health visitor (B0170) and another nurse.
pub const USERS: [FakeUser; 3] = [
    FakeUser {
        hint: "ed-nurse",
        sub: "900000000001",
        name: "Tess Triage-Test",
        role_id: "555000000101",
        activity_codes: &["B0107"],
    },
    FakeUser {
        hint: "health-visitor",
        sub: "900000000004",
        name: "Sam Scheduled-Test",
        role_id: "555000000104",
        activity_codes: &["B0170"],
    },
    FakeUser {
        hint: "other-nurse",
        sub: "900000000002",
        name: "Olly Other-Test",
        role_id: "555000000102",
        activity_codes: &["B0107"],
    },
];

fn user_json(user: &FakeUser) -> serde_json::Value {
    serde_json::json!({
        "sub": user.sub,
        "name": user.name,
        "selected_roleid": user.role_id,
        "nhsid_nrbac_roles": [{
            "person_roleid": user.role_id,
            "org_code": "ZZ1ED",
            "role_code": "R8001",
            "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
            "activity_codes": user.activity_codes,
        }],
        "nhsid_user_orgs": [{"org_code": "ZZ1ED", "org_name": "Northshire General Hospital"}],
        "authentication_assurance_level": "3",
    })
}

struct PendingCode {
    user: FakeUser,
    redirect_uri: String,
    challenge: String,
}

struct LiveSession {
    user: FakeUser,
    access_tokens: Vec<String>,
    ended: bool,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, PendingCode>,
    sessions: HashMap<String, LiveSession>,
    ended_calls: Vec<String>,
    refresh_calls: Vec<String>,
    authorize_queries: Vec<HashMap<String, String>>,
    token_forms: Vec<HashMap<String, String>>,
}

struct Shared {
    inner: Mutex<Inner>,
    counter: AtomicU64,
    /// Seconds the access tokens live (0: already due for refresh).
    expires_in: AtomicU64,
    /// Refreshes wait for a permit when held.
    hold_refreshes: AtomicBool,
    refresh_gate: tokio::sync::Semaphore,
    refreshes_waiting: AtomicUsize,
    refresh_entered: tokio::sync::Notify,
    /// `/session/end` answers this status (204 normally).
    end_status: AtomicU64,
}

/// The fake broker, stopped when dropped.
pub struct FakeBroker {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeBroker {
    /// Start on an ephemeral port; access tokens live 600 seconds.
    pub async fn start() -> FakeBroker {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            counter: AtomicU64::new(0),
            expires_in: AtomicU64::new(600),
            hold_refreshes: AtomicBool::new(false),
            refresh_gate: tokio::sync::Semaphore::new(0),
            refreshes_waiting: AtomicUsize::new(0),
            refresh_entered: tokio::sync::Notify::new(),
            end_status: AtomicU64::new(204),
        });
        let app = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/session/refresh", post(refresh))
            .route("/session/end", post(end))
            .route("/session/userinfo", get(userinfo))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        FakeBroker { url, shared, task }
    }

    /// Access tokens issued from now on live this many seconds (0: due for refresh at once).
    pub fn set_expires_in(&self, seconds: u64) {
        self.shared.expires_in.store(seconds, Ordering::SeqCst);
    }

    /// Hold every refresh until [`FakeBroker::release_refreshes`] (or for ever).
    pub fn hold_refreshes(&self) {
        self.shared.hold_refreshes.store(true, Ordering::SeqCst);
    }

    /// Let `count` held refreshes answer.
    pub fn release_refreshes(&self, count: usize) {
        self.shared.refresh_gate.add_permits(count);
    }

    /// `/session/end` answers this status from now on.
    pub fn set_end_status(&self, status: u16) {
        self.shared
            .end_status
            .store(u64::from(status), Ordering::SeqCst);
    }

    /// Wait until `count` refreshes are being held.
    pub async fn wait_for_held_refreshes(&self, count: usize) {
        tokio::time::timeout(Duration::from_secs(10), async {
            while self.shared.refreshes_waiting.load(Ordering::SeqCst) < count {
                let entered = self.shared.refresh_entered.notified();
                if self.shared.refreshes_waiting.load(Ordering::SeqCst) >= count {
                    break;
                }
                let _ = tokio::time::timeout(Duration::from_millis(20), entered).await;
            }
        })
        .await
        .expect("the refresh reached the broker");
    }

    /// The session handles `/session/refresh` was called with, in order.
    pub fn refresh_calls(&self) -> Vec<String> {
        self.lock().refresh_calls.clone()
    }

    /// The session handles `/session/end` was called with, in order.
    pub fn ended(&self) -> Vec<String> {
        self.lock().ended_calls.clone()
    }

    /// Wait until `/session/end` has been called `count` times.
    pub async fn wait_for_ended(&self, count: usize) -> Vec<String> {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let ended = self.ended();
                if ended.len() >= count {
                    return ended;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the broker session was ended")
    }

    /// The session handles issued, in order.
    pub fn handles(&self) -> Vec<String> {
        let mut handles: Vec<String> = self.lock().sessions.keys().cloned().collect();
        handles.sort_by_key(|handle| {
            handle
                .rsplit('-')
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        });
        handles
    }

    /// The queries `/authorize` received.
    pub fn authorize_queries(&self) -> Vec<HashMap<String, String>> {
        self.lock().authorize_queries.clone()
    }

    /// The forms `/token` received.
    pub fn token_forms(&self) -> Vec<HashMap<String, String>> {
        self.lock().token_forms.clone()
    }

    /// Sign `hint` in directly (as a finished browser sign-in would) and give the `/token`
    /// answer's access token and session handle.
    pub fn issue_session(&self, hint: &str) -> (String, String) {
        let user = user_by_hint(hint).expect("a known user");
        let n = self.shared.counter.fetch_add(1, Ordering::SeqCst);
        let handle = format!("handle-{n}");
        let access = format!("access-{n}-0");
        self.lock().sessions.insert(
            handle.clone(),
            LiveSession {
                user,
                access_tokens: vec![access.clone()],
                ended: false,
            },
        );
        (access, handle)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().expect("lock")
    }
}

fn user_by_hint(hint: &str) -> Option<FakeUser> {
    USERS.iter().find(|user| user.hint == hint).cloned()
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": error }))).into_response()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

fn form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (decode(key), decode(value)))
        .collect()
}

fn decode(text: &str) -> String {
    let text = text.replace('+', " ");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[index + 1..index + 3], 16)
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    shared
        .inner
        .lock()
        .expect("lock")
        .authorize_queries
        .push(query.clone());
    let redirect_uri = query.get("redirect_uri").cloned().unwrap_or_default();
    let loopback =
        redirect_uri.starts_with("http://127.0.0.1:") && redirect_uri.ends_with("/callback");
    if !loopback
        || query.get("client_id").map(String::as_str) != Some("cpis-viewer")
        || query.get("response_type").map(String::as_str) != Some("code")
        || query.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return (StatusCode::BAD_REQUEST, "bad authorize request").into_response();
    }
    let state = query.get("state").cloned().unwrap_or_default();
    let Some(user) = query.get("login_hint").and_then(|hint| user_by_hint(hint)) else {
        let location = format!(
            "{redirect_uri}?error=access_denied&error_description=unknown%20user&state={}",
            encode(&state)
        );
        return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    };
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let code = format!("code-{n}");
    shared.inner.lock().expect("lock").codes.insert(
        code.clone(),
        PendingCode {
            user,
            redirect_uri: redirect_uri.clone(),
            challenge: query.get("code_challenge").cloned().unwrap_or_default(),
        },
    );
    let location = format!("{redirect_uri}?code={code}&state={}", encode(&state));
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn token_answer(shared: &Shared, access: &str, handle: Option<&str>, user: &FakeUser) -> Response {
    let mut answer = user_json(user);
    answer["access_token"] = access.into();
    answer["token_type"] = "Bearer".into();
    // As a string, as the platform sends it.
    answer["expires_in"] = shared.expires_in.load(Ordering::SeqCst).to_string().into();
    if let Some(handle) = handle {
        answer["session"] = handle.into();
        answer["session_expires_in"] = 43200.into();
    }
    axum::Json(answer).into_response()
}

async fn token(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let form = form(&body);
    shared
        .inner
        .lock()
        .expect("lock")
        .token_forms
        .push(form.clone());
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    if field("grant_type") != "authorization_code" || field("client_id") != "cpis-viewer" {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let Some(pending) = shared
        .inner
        .lock()
        .expect("lock")
        .codes
        .remove(&field("code"))
    else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let challenge = {
        use sha2::Digest as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(field("code_verifier").as_bytes()))
    };
    if challenge != pending.challenge || field("redirect_uri") != pending.redirect_uri {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let handle = format!("handle-{n}");
    let access = format!("access-{n}-0");
    shared.inner.lock().expect("lock").sessions.insert(
        handle.clone(),
        LiveSession {
            user: pending.user.clone(),
            access_tokens: vec![access.clone()],
            ended: false,
        },
    );
    token_answer(&shared, &access, Some(&handle), &pending.user)
}

async fn refresh(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let handle = bearer(&headers).unwrap_or_default();
    shared
        .inner
        .lock()
        .expect("lock")
        .refresh_calls
        .push(handle.clone());
    if shared.hold_refreshes.load(Ordering::SeqCst) {
        shared.refreshes_waiting.fetch_add(1, Ordering::SeqCst);
        shared.refresh_entered.notify_waiters();
        if let Ok(permit) = shared.refresh_gate.acquire().await {
            permit.forget();
        }
        shared.refreshes_waiting.fetch_sub(1, Ordering::SeqCst);
    }
    let mut inner = shared.inner.lock().expect("lock");
    let Some(session) = inner
        .sessions
        .get_mut(&handle)
        .filter(|session| !session.ended)
    else {
        drop(inner);
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_session");
    };
    let access = format!("{handle}-access-{}", session.access_tokens.len());
    session.access_tokens.push(access.clone());
    let user = session.user.clone();
    drop(inner);
    token_answer(&shared, &access, None, &user)
}

async fn end(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let handle = bearer(&headers).unwrap_or_default();
    let mut inner = shared.inner.lock().expect("lock");
    inner.ended_calls.push(handle.clone());
    if let Some(session) = inner.sessions.get_mut(&handle) {
        session.ended = true;
    }
    let status = u16::try_from(shared.end_status.load(Ordering::SeqCst)).unwrap_or(500);
    StatusCode::from_u16(status)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}

async fn userinfo(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = bearer(&headers).unwrap_or_default();
    let inner = shared.inner.lock().expect("lock");
    let user = inner
        .sessions
        .values()
        .find(|session| !session.ended && session.access_tokens.contains(&token))
        .map(|session| session.user.clone());
    drop(inner);
    match user {
        Some(user) => axum::Json(user_json(&user)).into_response(),
        None => oauth_error(StatusCode::UNAUTHORIZED, "invalid_token"),
    }
}

/// One raw HTTP/1.1 GET; the status and the `Location` header.
pub async fn raw_get(url: &str) -> (u16, Option<String>) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = match rest.find('/') {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, "/"),
    };
    let mut stream = TcpStream::connect(authority).await.expect("connect");
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .expect("request");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let location = text
        .lines()
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_owned())
        });
    (status, location)
}

/// The system browser: open the broker's `/authorize` URL and follow its redirect to the
/// loopback listener. Returns the loopback's status.
pub async fn browse(authorize_url: String) -> u16 {
    let (status, location) = raw_get(&authorize_url).await;
    assert_eq!(status, 302, "the broker redirects back");
    raw_get(&location.expect("a Location")).await.0
}
