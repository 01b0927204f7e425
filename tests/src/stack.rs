//! The whole local system for a journey: the development identity provider (CIS2's stand-in),
//! the reference service seeded with synthetic people (the national platform and its APIs), and
//! the trust's token broker, all under `cpis-supervisor`, wired as `docs/sign-in.md` says, and
//! the app's configuration with the trust's own words; plus the service's audit commands and
//! `cpis`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use cpis_supervisor::{Launch, Ready, Supervised};

use crate::logs::{log_sink, log_stdio, write_people, write_token_hashes};
use crate::{WAIT, workspace_root};

/// Start `command`, which announces `<prefix>URL` on stdout, and return it with the URL. Its
/// stdout and stderr go to log files named after `what` ("the identity provider":
/// `identity-provider-stdout`, ...).
fn start_and_read_url(command: Command, prefix: &str, what: &str) -> Result<(Supervised, String)> {
    let name = what.trim_start_matches("the ").replace(' ', "-");
    let process = Launch::new(name.clone(), command)
        .stdout(log_sink(&format!("{name}-stdout")))
        .stderr(log_sink(&format!("{name}-stderr")))
        .ready_when(Ready::StdoutLine(prefix.to_string()), WAIT)
        .start()
        .with_context(|| format!("starting {what}"))?;
    let url = process
        .announced()
        .map(str::to_string)
        .with_context(|| format!("{what} announced no URL"))?;
    Ok((process, url))
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
    pub identity_provider: Supervised,
    /// The trust's token broker.
    pub broker: Supervised,
    /// The broker's base URL.
    pub broker_url: String,
    /// The reference service (stop it to make the services unreachable).
    pub service: Supervised,
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
    /// Seed, start and configure everything. `CPIS_E2E_SERVICE` names the service binary and
    /// `CPIS_E2E_BROKER` the broker's.
    pub fn start() -> Result<Stack> {
        Stack::start_with_token_seconds(None)
    }

    /// As [`Stack::start`], with the platform's access tokens living `seconds` instead of its
    /// default ten minutes (to see the app refresh through the broker).
    pub fn start_with_token_seconds(seconds: Option<u32>) -> Result<Stack> {
        let service_binary = std::env::var("CPIS_E2E_SERVICE").context(
            "CPIS_E2E_SERVICE is not set: run the end-to-end tests with `cargo xtask test`",
        )?;
        let broker_binary = std::env::var("CPIS_E2E_BROKER").context(
            "CPIS_E2E_BROKER is not set: run the end-to-end tests with `cargo xtask test`",
        )?;
        let dev_keys = workspace_root().join("crates/cpis-broker/dev-keys");
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
        service
            .args([
                "serve",
                "--database",
                &database,
                "--listen",
                "127.0.0.1:0",
                "--issuer",
                &issuer,
                "--cis2-client-id",
                "cpis-broker",
                "--app-api-key",
                "cpis-broker-dev",
            ])
            .arg("--app-jwks-file")
            .arg(dev_keys.join("DEV-ONLY-broker.jwks.public.json"))
            .arg("--app-client-secret-file")
            .arg(dev_keys.join("DEV-ONLY-apim-client-secret.txt"));
        if let Some(seconds) = seconds {
            service.args(["--access-token-seconds", &seconds.to_string()]);
        }
        let (service, service_url) = start_and_read_url(
            service,
            "cpis-service listening on ",
            "the reference service",
        )?;
        let mut broker = Command::new(&broker_binary);
        broker
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--cis2-issuer",
                &issuer,
                "--cis2-client-id",
                "cpis-broker",
                "--signing-kid",
                "cpis-broker-dev-1",
                "--platform-api-key",
                "cpis-broker-dev",
            ])
            .arg("--database")
            .arg(format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("broker.sqlite3").display()
            ))
            .arg("--signing-key")
            .arg(dev_keys.join("DEV-ONLY-broker-signing-key.pem"))
            .arg("--platform-token-url")
            .arg(format!("{service_url}/oauth2/token"))
            .arg("--platform-client-secret-file")
            .arg(dev_keys.join("DEV-ONLY-apim-client-secret.txt"));
        let (broker, broker_url) =
            start_and_read_url(broker, "cpis-broker listening on ", "the token broker")?;
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "lookup_deadline_ms = 3000\nlock_minutes = 15\ndata_dir = \"{data}\"\n\n[services]\ncpis_url = \"{service_url}/cpis/FHIR/R4\"\ndemographics_url = \"{service_url}/personal-demographics/FHIR/R4\"\naudit_url = \"{service_url}/audit/FHIR/R4\"\n\n[sign_in]\nbroker_url = \"{broker_url}\"\n\n{trust}",
                data = dir.path().join("app-data").display(),
                trust = trust_table(),
            ),
        )?;
        Ok(Stack {
            dir,
            identity_provider,
            broker,
            broker_url,
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

    /// Write the local authority numbers of `nhs_number`'s plans into the reference service's
    /// database as an authority might have written them (the seed's are Ofcom drama numbers,
    /// which are not in use, so no link dials them). Returns how many authorities changed.
    pub fn set_local_authority_phones(
        &self,
        nhs_number: &str,
        office_hours: &str,
        emergency_duty: &str,
    ) -> Result<usize> {
        let connection = rusqlite::Connection::open(self.dir.path().join("cpis.sqlite3"))
            .context("opening the seeded database")?;
        connection
            .busy_timeout(WAIT)
            .context("waiting for the service's writes")?;
        let changed = connection
            .execute(
                "UPDATE local_authorities SET office_hours_phone = ?1, emergency_duty_phone = ?2 \
                 WHERE ods_code IN (SELECT la_ods_code FROM plans WHERE nhs_number = ?3)",
                rusqlite::params![office_hours, emergency_duty, nhs_number],
            )
            .context("changing the local authority's numbers")?;
        Ok(changed)
    }

    /// The first NHS number of a seed scenario.
    pub fn nhs_number(&self, scenario: &str) -> Result<String> {
        self.manifest["scenarios"][scenario][0]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("the manifest has no {scenario} scenario"))
    }

    /// Every event `cpis-service audit export` writes: the apps' views (observer `cpis-viewer`)
    /// and the reads the service recorded itself (observer `cpis-reference-service`).
    fn exported_events(&self) -> Result<Vec<serde_json::Value>> {
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

    fn exported_by(&self, observer: &str) -> Result<Vec<serde_json::Value>> {
        Ok(self
            .exported_events()?
            .into_iter()
            .filter(|event| event["source"]["observer"]["identifier"]["value"] == observer)
            .collect())
    }

    /// The views the apps' queues sent to the central audit log.
    pub fn central_audit_events(&self) -> Result<Vec<serde_json::Value>> {
        self.exported_by("cpis-viewer")
    }

    /// The reads the reference service recorded itself (demographics, CP-IS, the access
    /// history, the review).
    pub fn server_reads(&self) -> Result<Vec<serde_json::Value>> {
        self.exported_by("cpis-reference-service")
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
        write_token_hashes(&[
            session.tokens.access_token.expose(),
            session.tokens.session_handle.expose(),
        ])?;
        Ok(session.tokens.access_token.expose().to_string())
    }

    /// The HTTP status the platform answers a demographics read with `token` (200 while the
    /// token is live, 401 once it has expired or been revoked).
    pub async fn platform_status_for(&self, token: &str, nhs_number: &str) -> Result<u16> {
        let response = reqwest::Client::new()
            .get(format!(
                "{}/personal-demographics/FHIR/R4/Patient/{nhs_number}",
                self.service_url
            ))
            .bearer_auth(token)
            .header("X-Request-ID", uuid::Uuid::new_v4().to_string())
            .send()
            .await
            .context("asking the platform")?;
        Ok(response.status().as_u16())
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
            // The app's keyring service: `cpis` and the app share the queue and its key.
            .env("CPIS_KEYRING_SERVICE", self.keyring_service())
            .stdin(Stdio::null())
            .stderr(log_stdio("cli-stderr"))
            .output()
            .with_context(|| format!("running {cli}"))
    }

    /// This journey's keyring service (its own sessions and audit queue key).
    pub fn keyring_service(&self) -> String {
        format!(
            "cpis-viewer-e2e-{}",
            self.dir
                .path()
                .file_name()
                .map(|name| name.to_string_lossy().to_string())
                .unwrap_or_default()
        )
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
            ("CPIS_KEYRING_SERVICE".into(), self.keyring_service()),
        ]
    }
}
