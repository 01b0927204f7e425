//! Integration tests of the app's core without a window: the session against the real OS
//! keyring and a controllable fake token broker (refresh, sign-out, lock, user switch, the
//! lookup deadline, the inactivity lock across restarts, crashes and reloads), the local data
//! folder, and the app without (or with) a configuration.

// Modules live under app/ so that cargo does not build each as a test binary of its own.
#[path = "app/idle_lock.rs"]
mod idle_lock;
#[path = "app/refresh.rs"]
mod refresh;
#[path = "app/session.rs"]
mod session;
#[path = "app/setup.rs"]
mod setup;
#[path = "app/storage.rs"]
mod storage;

/// The keyring helper of the client's tests: a real Secret Service, never a skip.
#[path = "../../cpis-client/tests/support/secret_service.rs"]
mod secret_service;

/// The controllable fake token broker of the client's tests.
#[path = "../../cpis-client/tests/support/fake_broker.rs"]
mod fake_broker;

use std::path::Path;

use cpis_app::AppCore;
use cpis_client::{Config, KeyringTokenStore};

/// A configuration with the local demo defaults and its data folder at `data_dir`.
pub fn config(data_dir: &Path) -> Config {
    let mut config = Config::from_toml("", Path::new("test.toml")).expect("empty config");
    config.data_dir = data_dir.to_path_buf();
    config
}

/// [`config`] with the broker at `broker` and every service at a port where nothing listens
/// (for tests about sign-in, credentials and the lock, not lookups).
pub(crate) fn config_with_broker(data_dir: &Path, broker: &fake_broker::FakeBroker) -> Config {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}", dead.local_addr().expect("address"));
    let mut config = config(data_dir);
    config.sign_in.broker_url = broker.url.parse().expect("broker url");
    for url in [
        &mut config.services.cpis_url,
        &mut config.services.demographics_url,
        &mut config.services.audit_url,
    ] {
        *url = format!("{dead}/fhir").parse().expect("url");
    }
    config
}

/// A keyring entry of the tests' own, unique to one test.
pub fn store(test: &str) -> KeyringTokenStore {
    KeyringTokenStore::new(
        "uk.nhs.cpis-viewer.app-tests",
        format!("{test}-{}", uuid::Uuid::new_v4()),
    )
}

/// The same keyring entry as `store`, for looking at it behind the app's back.
pub fn same_store(store: &KeyringTokenStore) -> KeyringTokenStore {
    KeyringTokenStore::new("uk.nhs.cpis-viewer.app-tests", store.account())
}

/// Start the core with `store`.
pub fn start(data_dir: &Path, store: KeyringTokenStore) -> AppCore {
    AppCore::new(config(data_dir), store, "test".to_string()).expect("the core starts")
}
