//! The stack under test: dev-idp (a child process), the reference platform (cpis-service
//! in-process, when the test needs it) and the broker in-process, each on a free port; and the
//! app's side: PKCE, a cookie-keeping HTTP client that follows redirects as a browser would until
//! the app's loopback callback, and the code redemption.

use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cpis_broker::config::BrokerConfig;
use reqwest::Url;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::dev_idp::DevIdp;

pub const SIGNING_KID: &str = "cpis-broker-dev-1";
pub const API_KEY: &str = "cpis-broker-dev";

pub fn dev_key(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("dev-keys")
        .join(name)
}

/// A server running in this process, stopped when dropped.
pub struct InProcess {
    pub url: String,
    _stop: oneshot::Sender<()>,
    _directory: TempDir,
}

/// The broker in-process, as another crate's test would start it.
pub struct Broker {
    pub url: String,
    database_file: PathBuf,
    _server: InProcess,
}

impl Broker {
    pub async fn start(
        issuer: &str,
        platform_token_url: &str,
        adjust: impl FnOnce(&mut BrokerConfig),
    ) -> Broker {
        let directory = tempfile::tempdir().expect("tempdir");
        let mut config = BrokerConfig::new(
            issuer,
            dev_key("DEV-ONLY-broker-signing-key.pem"),
            SIGNING_KID,
            platform_token_url,
            API_KEY,
            dev_key("DEV-ONLY-apim-client-secret.txt"),
        )
        .expect("config");
        let database_file = directory.path().join("broker.sqlite3");
        config.database = format!("sqlite://{}?mode=rwc", database_file.display());
        adjust(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address: SocketAddr = listener.local_addr().expect("address");
        let state = cpis_broker::server::state_for(&config, address)
            .await
            .expect("broker state");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(cpis_broker::server::serve_on(
            listener,
            state.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        let url = format!("http://{address}");
        Broker {
            url: url.clone(),
            database_file,
            _server: InProcess {
                url,
                _stop: stop,
                _directory: directory,
            },
        }
    }
}

impl Broker {
    /// Every byte of the database file and its write-ahead log, as text.
    pub async fn dump_database(&self) -> String {
        let mut text = String::new();
        for suffix in ["", "-wal"] {
            let path = PathBuf::from(format!("{}{suffix}", self.database_file.display()));
            if let Ok(bytes) = tokio::fs::read(&path).await {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        assert!(!text.is_empty(), "the database file is there");
        text
    }
}

/// The reference platform (cpis-service) in-process: the CIS2 issuer's ID tokens for client
/// `cpis-broker`, the broker's dev JWKS and client secret, the synthetic role directory.
pub async fn start_platform(issuer: &str) -> InProcess {
    let directory = tempfile::tempdir().expect("tempdir");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let url = format!("http://{address}");
    let database = format!(
        "sqlite://{}?mode=rwc",
        directory.path().join("service.sqlite3").display()
    );
    let args = cpis_service::config::ServeArgs {
        database: Some(database.clone()),
        listen: Some(address),
        issuer: Some(issuer.to_owned()),
        cis2_client_id: Some("cpis-broker".to_owned()),
        app_api_key: Some(API_KEY.to_owned()),
        app_jwks_file: Some(dev_key("DEV-ONLY-broker.jwks.public.json")),
        app_client_secret_file: Some(dev_key("DEV-ONLY-apim-client-secret.txt")),
        public_url: Some(url.clone()),
        ..Default::default()
    };
    let config = args.resolve().expect("service config");
    let store = cpis_service::store::Store::connect(&database, 2)
        .await
        .expect("service store");
    cpis_service::seed::seed_role_directory(&store)
        .await
        .expect("role directory");
    let state = cpis_service::server::state_for(&config)
        .await
        .expect("service state");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(cpis_service::server::serve_on(listener, state, async {
        let _ = stopped.await;
    }));
    InProcess {
        url,
        _stop: stop,
        _directory: directory,
    }
}

/// dev-idp, maybe the platform, and the broker.
pub struct Stack {
    pub idp: DevIdp,
    pub platform: Option<InProcess>,
    pub broker: Broker,
}

impl Stack {
    /// With the real platform.
    pub async fn full(adjust: impl FnOnce(&mut BrokerConfig)) -> Stack {
        let idp = DevIdp::start();
        let platform = start_platform(&idp.issuer).await;
        let broker = Broker::start(
            &idp.issuer,
            &format!("{}/oauth2/token", platform.url),
            adjust,
        )
        .await;
        Stack {
            idp,
            platform: Some(platform),
            broker,
        }
    }

    /// Without a platform (its token URL answers nothing): for refusals before the exchange.
    pub async fn without_platform(adjust: impl FnOnce(&mut BrokerConfig)) -> Stack {
        let idp = DevIdp::start();
        let broker = Broker::start(&idp.issuer, "http://127.0.0.1:9/oauth2/token", adjust).await;
        Stack {
            idp,
            platform: None,
            broker,
        }
    }

    pub fn platform_url(&self) -> &str {
        &self.platform.as_ref().expect("a platform").url
    }
}

/// The app's side of one sign-in.
pub struct App {
    pub redirect_uri: String,
    pub state: String,
    pub verifier: String,
    pub challenge: String,
}

impl App {
    pub fn new() -> App {
        let verifier = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        App {
            redirect_uri: "http://127.0.0.1:49152/callback".to_owned(),
            state: uuid::Uuid::new_v4().to_string(),
            verifier,
            challenge,
        }
    }

    pub fn authorize_url(&self, broker: &str, login_hint: &str) -> String {
        let mut url = Url::parse(&format!("{broker}/authorize")).expect("url");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", "cpis-viewer")
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("state", &self.state)
            .append_pair("code_challenge", &self.challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("login_hint", login_hint);
        url.to_string()
    }
}

/// Where the browser ended.
#[derive(Debug)]
pub enum Landing {
    /// Redirected to the app's loopback callback with this query.
    Callback(std::collections::HashMap<String, String>),
    /// A page that is not a redirect.
    Page { status: u16, url: String },
}

impl Landing {
    pub fn query(&self) -> &std::collections::HashMap<String, String> {
        match self {
            Landing::Callback(query) => query,
            Landing::Page { status, url } => panic!("stopped at {status} {url}, not the callback"),
        }
    }
}

/// Follow redirects from `start` as a browser would (keeping cookies) until the app's
/// `redirect_uri`, whose query is read instead of followed.
pub async fn browse(start: &str, redirect_uri: &str) -> Landing {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("browser");
    let mut url = Url::parse(start).expect("start url");
    for _ in 0..20 {
        if url.as_str().starts_with(redirect_uri) {
            return Landing::Callback(url.query_pairs().into_owned().collect());
        }
        let response = client
            .get(url.clone())
            .send()
            .await
            .expect("browser request");
        let status = response.status();
        if !status.is_redirection() {
            return Landing::Page {
                status: status.as_u16(),
                url: url.path().to_owned(),
            };
        }
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .expect("a redirect has a location");
        url = url.join(location).expect("location");
    }
    panic!("too many redirects");
}

/// A form body.
pub fn form(pairs: &[(&str, &str)]) -> String {
    openidconnect::url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `POST /token` at the broker.
pub async fn redeem(broker: &str, code: &str, redirect_uri: &str, verifier: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{broker}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
            ("client_id", "cpis-viewer"),
        ]))
        .send()
        .await
        .expect("token request");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// A whole sign-in of `login`: the one-time code and the app that asked for it.
pub async fn code_for(broker: &str, login: &str) -> (String, App) {
    let app = App::new();
    let landing = browse(&app.authorize_url(broker, login), &app.redirect_uri).await;
    let query = landing.query();
    assert_eq!(query.get("state"), Some(&app.state), "{query:?}");
    let code = query
        .get("code")
        .unwrap_or_else(|| panic!("no code: {query:?}"))
        .clone();
    (code, app)
}

/// A whole sign-in of `login`, redeemed: the `/token` answer.
pub async fn signed_in(broker: &str, login: &str) -> Value {
    let (code, app) = code_for(broker, login).await;
    let (status, body) = redeem(broker, &code, &app.redirect_uri, &app.verifier).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// `POST {broker}{path}` with `Authorization: Bearer token`.
pub async fn post_bearer(broker: &str, path: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{broker}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// `GET {url}` with `Authorization: Bearer token` and PDS's `X-Request-ID`.
pub async fn get_bearer(url: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}
