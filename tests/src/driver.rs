//! `tauri-driver` (which starts WebKitWebDriver, which starts the app) on free ports, and
//! WebDriver sessions on the app under test or any other Tauri binary.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use cpis_supervisor::{Launch, Ready, Supervised};
use fantoccini::{Client, ClientBuilder};

use crate::WAIT;
use crate::logs::log_sink;

/// A running `tauri-driver`, stopped with SIGTERM on drop so that it stops its
/// WebKitWebDriver child too (SIGKILL would leave an orphan holding our pipes open); whatever
/// of the tree below it is left after the grace period is killed.
#[derive(Debug)]
pub struct Driver {
    /// Stopped by its `Drop`.
    process: Supervised,
    port: u16,
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a free port")?;
    Ok(listener.local_addr()?.port())
}

impl Driver {
    /// Start `tauri-driver` on free ports and wait until it accepts connections.
    pub fn start() -> Result<Driver> {
        Driver::start_with_env(&[])
    }

    /// Start `tauri-driver` with extra environment for the app it starts (the app inherits
    /// the driver's environment).
    pub fn start_with_env(env: &[(String, String)]) -> Result<Driver> {
        let port = free_port()?;
        let native_port = free_port()?;
        let mut command = Command::new("tauri-driver");
        command
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .envs(
                env.iter()
                    .map(|(key, value)| (key.as_str(), value.as_str())),
            );
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let process = Launch::new("tauri-driver", command)
            // The app and WebKitWebDriver inherit these, so the app's logs land here too.
            .stdout(log_sink("app-stdout"))
            .stderr(log_sink("app-stderr"))
            .ready_when(Ready::Port(address), WAIT)
            .start()
            .context("starting tauri-driver (run `cargo xtask setup` to install it)")?;
        // tauri-driver starts WebKitWebDriver and then listens itself, without waiting for it:
        // a session asked for before WebKitWebDriver listens is dropped ("webdriver server did
        // not respond"). Wait for both.
        let native = SocketAddr::from(([127, 0, 0, 1], native_port));
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect_timeout(&native, std::time::Duration::from_millis(200))
            .is_err()
        {
            if started.elapsed() > WAIT {
                bail!("WebKitWebDriver (started by tauri-driver) never listened on {native}");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let driver = Driver { process, port };
        Ok(driver)
    }

    /// Open a WebDriver session that starts the app under test.
    pub async fn open_app(&self) -> Result<Client> {
        let app = std::env::var("CPIS_E2E_APP").context(
            "CPIS_E2E_APP is not set: run the end-to-end tests with `cargo xtask test`, which builds the app and sets it",
        )?;
        if !std::path::Path::new(&app).is_file() {
            bail!("CPIS_E2E_APP points at {app}, which does not exist");
        }
        self.open_binary(Path::new(&app)).await
    }

    /// The driver's process id (the app and its WebKit processes are its descendants).
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Open a WebDriver session that starts the app binary at `app` (the benchmarks also start
    /// an empty Tauri app this way).
    pub async fn open_binary(&self, app: &Path) -> Result<Client> {
        let app = app.to_string_lossy().to_string();
        // Only `tauri:options`: a `browserName` makes WebKitWebDriver refuse the session.
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        // rustls is built with both of its crypto providers in this workspace (one feature set
        // for every crate), so it cannot pick one itself: name the one the rest of the tree uses.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let client = ClientBuilder::rustls()
            .context("building the WebDriver client")?
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .context("opening a WebDriver session on the app")?;
        Ok(client)
    }
}
