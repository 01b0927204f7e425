//! Harness for the end-to-end tests: starts `tauri-driver` (which starts WebKitWebDriver),
//! opens a WebDriver session on the built app, and stops everything cleanly.
//!
//! The app binary comes from `CPIS_E2E_APP` (set by `cargo xtask test`, which builds the app
//! first and runs these tests under Xvfb and a D-Bus session). Without it the tests fail with
//! a message saying how to run them; they never skip.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
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
    /// Held for its `Drop`, which stops the driver.
    _process: Process,
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
        let child = Command::new("tauri-driver")
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .envs(
                env.iter()
                    .map(|(key, value)| (key.as_str(), value.as_str())),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .context("starting tauri-driver (run `cargo xtask setup` to install it)")?;
        let driver = Driver {
            _process: Process { child },
            port,
        };
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

/// A child process stopped with SIGTERM when dropped.
#[derive(Debug)]
pub struct Process {
    child: Child,
}

impl Process {
    /// Stop it now (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(&mut self) {
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

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Start `command` and read its first stdout line, which must start with `prefix` followed by
/// the URL it listens on.
fn start_and_read_url(mut command: Command, prefix: &str, what: &str) -> Result<(Process, String)> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let stdout = child.stdout.take().context("stdout")?;
    let process = Process { child };
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next();
        let _ = sender.send(first);
        // Keep draining so the child never blocks on a full pipe.
        for _ in lines {}
    });
    let line = receiver
        .recv_timeout(WAIT)
        .with_context(|| format!("{what} did not start"))?
        .with_context(|| format!("{what} printed nothing"))??;
    let url = line
        .strip_prefix(prefix)
        .with_context(|| format!("{what} printed an unexpected first line"))?
        .trim()
        .to_string();
    Ok((process, url))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The whole local system for a journey: the development identity provider, the reference
/// service seeded with synthetic people on SQLite, and a client configuration for the app.
#[derive(Debug)]
pub struct Stack {
    /// Temporary folder holding the database, the manifest, the config and the app's data.
    pub dir: tempfile::TempDir,
    /// The identity provider.
    pub identity_provider: Process,
    /// The reference service (stop it to make the services unreachable).
    pub service: Process,
    /// The service's base URL.
    pub service_url: String,
    /// The seed manifest: scenario name to NHS numbers.
    pub manifest: serde_json::Value,
    /// The app's configuration file.
    pub config: PathBuf,
    /// The service's database URL.
    pub database: String,
    /// The service binary.
    pub service_binary: String,
}

impl Stack {
    /// Seed, start and configure everything. `CPIS_E2E_SERVICE` names the service binary.
    pub fn start() -> Result<Stack> {
        let service_binary = std::env::var("CPIS_E2E_SERVICE").context(
            "CPIS_E2E_SERVICE is not set: run the end-to-end tests with `cargo xtask test`",
        )?;
        let dir = tempfile::tempdir().context("tempdir")?;
        let database = format!("sqlite://{}", dir.path().join("cpis.sqlite3").display());
        let manifest_path = dir.path().join("manifest.json");
        let status = Command::new(&service_binary)
            .args([
                "seed",
                "--database",
                &database,
                "--children",
                "2000",
                "--seed",
                "7",
            ])
            .arg("--manifest")
            .arg(&manifest_path)
            .stdout(Stdio::null())
            .status()
            .context("seeding")?;
        if !status.success() {
            bail!("seeding failed ({status})");
        }
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&manifest_path)?)?;
        let mut idp = Command::new("node");
        idp.args(["server.js", "--port", "0"])
            .current_dir(workspace_root().join("dev-idp"));
        let (identity_provider, issuer) =
            start_and_read_url(idp, "dev-idp listening on ", "the identity provider")?;
        let mut service = Command::new(&service_binary);
        service.args([
            "serve",
            "--database",
            &database,
            "--listen",
            "127.0.0.1:0",
            "--issuer",
            &issuer,
            "--audience",
            "cpis-service",
        ]);
        let (service, service_url) = start_and_read_url(
            service,
            "cpis-service listening on ",
            "the reference service",
        )?;
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "lookup_deadline_ms = 3000\nlock_minutes = 15\ndata_dir = \"{data}\"\n\n[services]\ncpis_url = \"{service_url}/cpis/FHIR/R4\"\ndemographics_url = \"{service_url}/personal-demographics/FHIR/R4\"\naudit_url = \"{service_url}/audit/FHIR/R4\"\n\n[oidc]\nissuer = \"{issuer}\"\nclient_id = \"cpis-viewer\"\n",
                data = dir.path().join("app-data").display()
            ),
        )?;
        Ok(Stack {
            dir,
            identity_provider,
            service,
            service_url,
            manifest,
            config,
            database,
            service_binary,
        })
    }

    /// Rewrite the app's configuration with another inactivity lock.
    pub fn set_lock_minutes(&mut self, minutes: u32) -> Result<()> {
        let text = std::fs::read_to_string(&self.config)?;
        let text = text.replace("lock_minutes = 15", &format!("lock_minutes = {minutes}"));
        std::fs::write(&self.config, text)?;
        Ok(())
    }

    /// The first NHS number of a seed scenario.
    pub fn nhs_number(&self, scenario: &str) -> Result<String> {
        self.manifest["scenarios"][scenario][0]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("the manifest has no {scenario} scenario"))
    }

    /// The events in the central audit log (`cpis-service audit export`), as JSON values.
    pub fn central_audit_events(&self) -> Result<Vec<serde_json::Value>> {
        let output = Command::new(&self.service_binary)
            .args(["audit", "export", "--database", &self.database])
            .output()
            .context("cpis-service audit export")?;
        if !output.status.success() {
            bail!("audit export failed ({})", output.status);
        }
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).context("an exported line is not JSON"))
            .collect()
    }

    /// Whether `cpis-service audit verify` finds every device's chain whole.
    pub fn central_audit_verifies(&self) -> Result<bool> {
        let status = Command::new(&self.service_binary)
            .args(["audit", "verify", "--database", &self.database])
            .stdout(Stdio::null())
            .status()
            .context("cpis-service audit verify")?;
        Ok(status.success())
    }

    /// The environment the app needs: its config, the headless browser, and who signs in.
    pub fn app_env(&self, login_hint: &str) -> Vec<(String, String)> {
        vec![
            ("CPIS_CONFIG".into(), self.config.display().to_string()),
            (
                "BROWSER".into(),
                workspace_root()
                    .join("tests/support/headless-browser.sh")
                    .display()
                    .to_string(),
            ),
            ("CPIS_LOGIN_HINT".into(), login_hint.into()),
            // Each journey its own keyring entry, so no session carries from one to the next.
            (
                "CPIS_KEYRING_SERVICE".into(),
                format!(
                    "cpis-viewer-e2e-{}",
                    self.dir
                        .path()
                        .file_name()
                        .map(|name| name.to_string_lossy().to_string())
                        .unwrap_or_default()
                ),
            ),
        ]
    }
}

/// Save a screenshot of the current state under `target/e2e-artifacts/screens/`.
pub async fn screenshot(client: &Client, name: &str) -> Result<()> {
    let dir = workspace_root().join("target/e2e-artifacts/screens");
    std::fs::create_dir_all(&dir)?;
    let png = client.screenshot().await?;
    std::fs::write(dir.join(format!("{name}.png")), png)?;
    Ok(())
}
