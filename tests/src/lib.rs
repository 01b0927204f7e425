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

/// Where every process the tests start writes its logs, when `CPIS_E2E_LOG_DIR` is set
/// (`cargo xtask test` sets it, with `RUST_LOG=trace`, and afterwards scans every file there for
/// synthetic patient data and tokens). Without it, logs go nowhere.
pub fn log_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("CPIS_E2E_LOG_DIR")?);
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

/// A new log file in [`log_dir`] named after `what` (unique per process start), or `None`.
pub fn log_file(what: &str) -> Option<(std::fs::File, PathBuf)> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = log_dir()?;
    let number = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("{what}-{}-{number}.log", std::process::id()));
    let file = std::fs::File::create(&path).ok()?;
    Some((file, path))
}

/// Stdio for a child's stdout or stderr: its own log file under [`log_dir`], or nowhere.
pub fn log_stdio(what: &str) -> Stdio {
    match log_file(what) {
        Some((file, _)) => Stdio::from(file),
        None => Stdio::null(),
    }
}

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
            // The app and WebKitWebDriver inherit these, so the app's logs land here too.
            .stdout(log_stdio("app-stdout"))
            .stderr(log_stdio("app-stderr"))
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
        self.open_binary(Path::new(&app)).await
    }

    /// The driver's process id (the app and its WebKit processes are its descendants).
    pub fn pid(&self) -> u32 {
        self._process.child.id()
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
        let client = ClientBuilder::rustls()
            .context("building the WebDriver client")?
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .context("opening a WebDriver session on the app")?;
        Ok(client)
    }
}

/// Wait (up to [`WAIT`]) for an element to be present.
pub async fn wait_for(client: &Client, css: &str) -> Result<fantoccini::elements::Element> {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("waiting for {css}"))
}

/// Wait for an element to be present and return its visible text.
pub async fn text_of(client: &Client, css: &str) -> Result<String> {
    Ok(wait_for(client, css).await?.text().await?)
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
    let name = what.trim_start_matches("the ").replace(' ', "-");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_stdio(&format!("{name}-stderr")))
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let mut stdout_log = log_file(&format!("{name}-stdout")).map(|(file, _)| file);
    let stdout = child.stdout.take().context("stdout")?;
    let process = Process { child };
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Write;
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next();
        if let (Some(Ok(line)), Some(log)) = (&first, stdout_log.as_mut()) {
            let _ = writeln!(log, "{line}");
        }
        let _ = sender.send(first);
        // Keep draining (into the log) so the child never blocks on a full pipe.
        for line in lines.map_while(Result::ok) {
            if let Some(log) = stdout_log.as_mut() {
                let _ = writeln!(log, "{line}");
            }
        }
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

/// With a [`log_dir`], write every seeded person's NHS number, names and date of birth to
/// `<log dir>/people/<n>.ndjson`: what the log scan looks for. (Synthetic people only.)
fn write_people(database: &Path) -> Result<()> {
    use std::io::Write;
    let Some(dir) = log_dir() else {
        return Ok(());
    };
    let dir = dir.join("people");
    std::fs::create_dir_all(&dir)?;
    let connection = rusqlite::Connection::open(database).context("opening the seeded database")?;
    let mut statement = connection
        .prepare("SELECT nhs_number, family_name, given_names, date_of_birth FROM people")?;
    let rows = statement.query_map([], |row| {
        Ok(serde_json::json!({
            "nhs_number": row.get::<_, String>(0)?,
            "family_name": row.get::<_, String>(1)?,
            "given_names": row.get::<_, String>(2)?,
            "date_of_birth": row.get::<_, String>(3)?,
        }))
    })?;
    let path = dir.join(format!(
        "{}-{}.ndjson",
        std::process::id(),
        database
            .parent()
            .and_then(Path::file_name)
            .map(|name| name.to_string_lossy().to_string())
            .unwrap_or_default()
    ));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    for row in rows {
        writeln!(file, "{}", row?)?;
    }
    file.flush()?;
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The trust's display name in the test configuration's `[trust]` table.
pub const TRUST_ORGANISATION_NAME: &str = "Testshire Hospitals NHS Foundation Trust";
/// The trust's downtime procedure in the test configuration: one paragraph per line.
pub const TRUST_DOWNTIME_PROCEDURE: [&str; 2] = [
    "Use the paper safeguarding checklist in the red folder at the nurses' station.",
    "Phone the safeguarding team before the child leaves the department.",
];
/// The safeguarding team's in-hours number in the test configuration (an Ofcom drama number).
pub const TRUST_IN_HOURS_PHONE: &str = "0114 496 0123";
/// When the in-hours number is answered, in the trust's words.
pub const TRUST_IN_HOURS_TIMES: &str = "Monday to Friday, 9am to 5pm";
/// The safeguarding team's out-of-hours number in the test configuration (an Ofcom drama number).
pub const TRUST_OUT_OF_HOURS_PHONE: &str = "0114 496 0999";

/// The `[trust]` table of the test configuration, from the constants above.
fn trust_table() -> String {
    format!(
        "[trust]\norganisation_name = \"{TRUST_ORGANISATION_NAME}\"\ndowntime_procedure = \"\"\"\n{}\"\"\"\nsafeguarding_in_hours_phone = \"{TRUST_IN_HOURS_PHONE}\"\nsafeguarding_in_hours_times = \"{TRUST_IN_HOURS_TIMES}\"\nsafeguarding_out_of_hours_phone = \"{TRUST_OUT_OF_HOURS_PHONE}\"\n",
        TRUST_DOWNTIME_PROCEDURE.join("\n")
    )
}

/// The whole local system for a journey: the development identity provider, the reference
/// service seeded with synthetic people on SQLite, and a client configuration for the app
/// (the user's own file, named by `CPIS_CONFIG`) with the trust's own words in `[trust]`.
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
            .stdout(log_stdio("seed-stdout"))
            .stderr(log_stdio("seed-stderr"))
            .status()
            .context("seeding")?;
        if !status.success() {
            bail!("seeding failed ({status})");
        }
        write_people(&dir.path().join("cpis.sqlite3"))?;
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
                "lookup_deadline_ms = 3000\nlock_minutes = 15\ndata_dir = \"{data}\"\n\n[services]\ncpis_url = \"{service_url}/cpis/FHIR/R4\"\ndemographics_url = \"{service_url}/personal-demographics/FHIR/R4\"\naudit_url = \"{service_url}/audit/FHIR/R4\"\n\n[oidc]\nissuer = \"{issuer}\"\nclient_id = \"cpis-viewer\"\n\n{trust}",
                data = dir.path().join("app-data").display(),
                trust = trust_table(),
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
            .stderr(log_stdio("service-audit-verify-stderr"))
            .status()
            .context("cpis-service audit verify")?;
        Ok(status.success())
    }

    /// The access token the app saved in its keyring entry for `login_hint`'s session (the
    /// benchmarks and the command-line step use it as the same user).
    pub fn app_access_token(&self, login_hint: &str) -> Result<String> {
        let env = self.app_env(login_hint);
        let service = env
            .iter()
            .find(|(key, _)| key == "CPIS_KEYRING_SERVICE")
            .map(|(_, value)| value.clone())
            .context("no keyring service in the app's environment")?;
        let session = cpis_client::KeyringTokenStore::new(service, "session")
            .load()
            .context("reading the app's session from the keyring")?
            .context("the app saved no session")?;
        Ok(session.tokens.access_token.expose().to_string())
    }

    /// Run `cpis` (from `CPIS_E2E_CLI`) with this stack's configuration and `token` in
    /// `CPIS_ACCESS_TOKEN`. Its stderr (its log) goes to the log folder; stdout is returned.
    pub fn cli(&self, args: &[&str], token: &str) -> Result<std::process::Output> {
        let cli = std::env::var("CPIS_E2E_CLI")
            .context("CPIS_E2E_CLI is not set: run the end-to-end tests with `cargo xtask test`")?;
        Command::new(&cli)
            .args(args)
            .env("CPIS_CONFIG", &self.config)
            .env("CPIS_ACCESS_TOKEN", token)
            .stdin(Stdio::null())
            .stderr(log_stdio("cli-stderr"))
            .output()
            .with_context(|| format!("running {cli}"))
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

/// Run axe-core (the UI's own copy, `ui/node_modules/axe-core/axe.min.js`, injected over
/// WebDriver the first time) over the whole window, colour contrast included, and return one
/// line per violation: the rule, its impact and the elements' selectors. Never the elements'
/// HTML, which could hold (synthetic) patient data.
pub async fn axe_violations(client: &Client) -> Result<Vec<String>> {
    let loaded = client
        .execute("return typeof window.axe === 'object';", vec![])
        .await
        .context("asking whether axe-core is loaded")?;
    if loaded != serde_json::Value::Bool(true) {
        let path = workspace_root().join("ui/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {} (run `npm ci` in ui/)", path.display()))?;
        // The script sets `window.axe` when it sees a window.
        client
            .execute(
                &format!("{source}\nreturn typeof window.axe === 'object';"),
                vec![],
            )
            .await
            .context("injecting axe-core")?;
    }
    let answer = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
window.axe
  .run(document)
  .then((results) => done({
    rules_passed: results.passes.length,
    violations: results.violations.map((violation) =>
      `${violation.id} (${violation.impact}): ${violation.help} at ` +
      violation.nodes.map((node) => JSON.stringify(node.target)).join(', ')),
  }))
  .catch((error) => done({ error: String(error) }));"#,
            vec![],
        )
        .await
        .context("running axe-core")?;
    if let Some(error) = answer["error"].as_str() {
        bail!("axe-core failed: {error}");
    }
    // A run that checked nothing would pass silently: make sure it really ran.
    if answer["rules_passed"].as_u64().unwrap_or(0) == 0 {
        bail!("axe-core ran no rules: {answer}");
    }
    let lines = answer["violations"]
        .as_array()
        .context("axe-core answered without a list of violations")?
        .iter()
        .map(|line| {
            line.as_str()
                .unwrap_or("an unreadable violation")
                .to_string()
        })
        .collect();
    Ok(lines)
}

/// Scroll the element at `css` to the top of the window (below it, the sticky status bar
/// covers the last lines), so that a screenshot shows it.
pub async fn scroll_to(client: &Client, css: &str) -> Result<()> {
    let element = wait_for(client, css).await?;
    client
        .execute(
            "arguments[0].scrollIntoView({ block: 'start' });",
            vec![serde_json::to_value(&element)?],
        )
        .await
        .with_context(|| format!("scrolling to {css}"))?;
    Ok(())
}

/// Save a screenshot of the current state under `target/e2e-artifacts/screens/`.
pub async fn screenshot(client: &Client, name: &str) -> Result<()> {
    let dir = workspace_root().join("target/e2e-artifacts/screens");
    std::fs::create_dir_all(&dir)?;
    let png = client.screenshot().await?;
    std::fs::write(dir.join(format!("{name}.png")), png)?;
    Ok(())
}
