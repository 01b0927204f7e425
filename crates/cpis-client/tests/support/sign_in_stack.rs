//! The real pieces of a sign-in, wired together as `docs/sign-in.md` says, for the client's,
//! the app's and the CLI's tests: dev-idp (the CIS2 stand-in, a Node process), the reference
//! platform (`cpis-service` in-process: the token exchange for ID tokens of client
//! `cpis-broker`, the broker's development JWKS and client secret, the synthetic role
//! directory, and, when asked, the seeded patients) and the token broker (`cpis-broker`
//! in-process, with its development key). Each on a free port on 127.0.0.1, stopped when
//! dropped. Also a cookie-keeping browser that follows every redirect, the app's loopback
//! callback included.

#![allow(dead_code)]

use std::path::PathBuf;

use cpis_service::seed::{Manifest, SeedOptions};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::dev_idp::DevIdp;

/// The broker's signing key id and its API key at the platform (development only).
pub const SIGNING_KID: &str = "cpis-broker-dev-1";
pub const API_KEY: &str = "cpis-broker-dev";

/// A file of the broker's development-only keys.
pub fn dev_key(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../cpis-broker/dev-keys")
        .join(name)
}

/// A server in this process, stopped when dropped.
struct InProcess {
    _stop: oneshot::Sender<()>,
    _directory: tempfile::TempDir,
}

/// dev-idp, the platform and the broker.
pub struct SignInStack {
    pub idp: DevIdp,
    /// The platform's base URL: `/oauth2/token`, `/cpis/FHIR/R4`, `/personal-demographics/FHIR/R4`,
    /// `/audit/FHIR/R4`.
    pub platform_url: String,
    /// The broker's base URL (`[sign_in] broker_url`).
    pub broker_url: String,
    /// The seed manifest, when the platform was seeded with patients.
    pub manifest: Option<Manifest>,
    _platform: InProcess,
    _broker: InProcess,
}

impl SignInStack {
    /// The three pieces; the platform knows the users' roles but no patients.
    pub async fn start() -> SignInStack {
        SignInStack::start_with(None).await
    }

    /// The three pieces, the platform seeded with synthetic patients.
    pub async fn start_seeded(options: SeedOptions) -> SignInStack {
        SignInStack::start_with(Some(options)).await
    }

    async fn start_with(seed: Option<SeedOptions>) -> SignInStack {
        let idp = DevIdp::start();
        let (platform_url, manifest, platform) = start_platform(&idp.issuer, seed).await;
        let (broker_url, broker) =
            start_broker(&idp.issuer, &format!("{platform_url}/oauth2/token")).await;
        SignInStack {
            idp,
            platform_url,
            broker_url,
            manifest,
            _platform: platform,
            _broker: broker,
        }
    }

    /// A `config.toml` body pointing every service at the platform and sign-in at the broker.
    pub fn config_toml(&self, data_dir: &std::path::Path, deadline_ms: u64) -> String {
        format!(
            "lookup_deadline_ms = {deadline_ms}\ndata_dir = \"{}\"\n\n[services]\ncpis_url = \"{base}/cpis/FHIR/R4\"\ndemographics_url = \"{base}/personal-demographics/FHIR/R4\"\naudit_url = \"{base}/audit/FHIR/R4\"\n\n[sign_in]\nbroker_url = \"{broker}\"\n",
            data_dir.display(),
            base = self.platform_url,
            broker = self.broker_url,
        )
    }
}

async fn start_platform(
    issuer: &str,
    seed: Option<SeedOptions>,
) -> (String, Option<Manifest>, InProcess) {
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
    let store = cpis_service::store::Store::connect(&database, 4)
        .await
        .expect("service store");
    let manifest = match seed {
        // Seeding writes the role directory too.
        Some(options) => Some(
            cpis_service::seed::seed(&store, options)
                .await
                .expect("seed"),
        ),
        None => {
            cpis_service::seed::seed_role_directory(&store)
                .await
                .expect("role directory");
            None
        }
    };
    let state = cpis_service::server::state_for(&config)
        .await
        .expect("service state");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(cpis_service::server::serve_on(listener, state, async {
        let _ = stopped.await;
    }));
    (
        url,
        manifest,
        InProcess {
            _stop: stop,
            _directory: directory,
        },
    )
}

async fn start_broker(issuer: &str, platform_token_url: &str) -> (String, InProcess) {
    let directory = tempfile::tempdir().expect("tempdir");
    let mut config = cpis_broker::config::BrokerConfig::new(
        issuer,
        dev_key("DEV-ONLY-broker-signing-key.pem"),
        SIGNING_KID,
        platform_token_url,
        API_KEY,
        dev_key("DEV-ONLY-apim-client-secret.txt"),
    )
    .expect("broker config");
    config.database = format!(
        "sqlite://{}?mode=rwc",
        directory.path().join("broker.sqlite3").display()
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let state = cpis_broker::server::state_for(&config, address)
        .await
        .expect("broker state");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(cpis_broker::server::serve_on(listener, state, async {
        let _ = stopped.await;
    }));
    (
        format!("http://{address}"),
        InProcess {
            _stop: stop,
            _directory: directory,
        },
    )
}

/// The system browser: keeps cookies and follows every redirect, from the broker to dev-idp,
/// back to the broker and on to the app's loopback listener. Returns the last status.
pub async fn browse(authorize_url: &str) -> u16 {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("browser");
    browser
        .get(authorize_url)
        .send()
        .await
        .expect("sign-in in the browser")
        .status()
        .as_u16()
}
