//! Harness for the end-to-end tests: starts `tauri-driver` (which starts WebKitWebDriver),
//! opens a WebDriver session on the built app, and stops everything cleanly.
//!
//! The app binary comes from `CPIS_E2E_APP` (set by `cargo xtask test`, which builds the app
//! first and runs these tests under Xvfb and a D-Bus session). Without it the tests fail with
//! a message saying how to run them; they never skip.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};

/// How long to wait for the driver, the window and rendered elements.
pub const WAIT: Duration = Duration::from_secs(20);

/// A running `tauri-driver`, stopped with SIGTERM on drop so that it stops its
/// WebKitWebDriver child too (SIGKILL would leave an orphan holding our pipes open).
#[derive(Debug)]
pub struct Driver {
    child: Child,
    port: u16,
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a free port")?;
    Ok(listener.local_addr()?.port())
}

impl Driver {
    /// Start `tauri-driver` on free ports and wait until it accepts connections.
    pub fn start() -> Result<Driver> {
        let port = free_port()?;
        let native_port = free_port()?;
        let child = Command::new("tauri-driver")
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .context("starting tauri-driver (run `cargo xtask setup` to install it)")?;
        let driver = Driver { child, port };
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if started.elapsed() > WAIT {
                bail!("tauri-driver did not start listening on {address}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
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
        // Only `tauri:options`: a `browserName` makes WebKitWebDriver refuse the session.
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        let client = ClientBuilder::rustls()
            .context("building the WebDriver client")?
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .context("opening a WebDriver session on the app")?;
        Ok(client)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait for an element to be present and return its visible text.
pub async fn text_of(client: &Client, css: &str) -> Result<String> {
    let element = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("waiting for {css}"))?;
    Ok(element.text().await?)
}

/// Save a screenshot and the page source under `target/e2e-artifacts/` to explain a failure.
/// Only synthetic data is ever on screen in these tests.
pub async fn save_artifacts(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-artifacts");
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if let Ok(png) = client.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
    if let Ok(source) = client.source().await {
        let _ = std::fs::write(dir.join(format!("{name}.html")), source);
    }
    eprintln!("saved failure artifacts in {}", dir.display());
}
