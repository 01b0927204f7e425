//! The local stack for the demo (and anything else that needs it): the development identity
//! provider (CIS2's stand-in), the reference service seeded with synthetic data on an embedded
//! SQLite file (the national platform and its APIs), the trust's token broker, wired as
//! `docs/sign-in.md` says, and a client configuration pointing at the broker and the service. The processes run under `cpis-supervisor`: stopped
//! with SIGTERM (then killed) when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use cpis_supervisor::{Launch, Ready, Sink, Supervised};

use crate::{root, run};

/// The identity provider's issuer in the demo.
pub const ISSUER: &str = "http://127.0.0.1:9090";
/// Where the reference service listens in the demo.
pub const SERVICE_ADDRESS: &str = "127.0.0.1:8080";
/// Where the token broker listens in the demo.
pub const BROKER_ADDRESS: &str = "127.0.0.1:9091";
/// The broker's client id at the identity provider (and the audience of its ID tokens).
pub const CIS2_CLIENT_ID: &str = "cpis-broker";
/// The broker's API key at the platform.
pub const PLATFORM_API_KEY: &str = "cpis-broker-dev";
/// How long the identity provider and the service have to start listening.
const READY_DEADLINE: Duration = Duration::from_secs(60);

fn port_is_free(address: &str) -> bool {
    std::net::TcpListener::bind(address).is_ok()
}

/// The demo's folder: database, manifest, client configuration, app data.
pub fn demo_dir() -> PathBuf {
    root().join("target/demo")
}

/// Seed the demo database once (synthetic people), returning its URL and the manifest path.
pub fn seed_demo_database(dir: &Path, service: &Path) -> Result<(String, PathBuf)> {
    std::fs::create_dir_all(dir).context("creating target/demo")?;
    let database = dir.join("cpis.sqlite3");
    let url = format!("sqlite://{}", database.display());
    let manifest = dir.join("manifest.json");
    if !database.exists() || !manifest.exists() {
        let _ = std::fs::remove_file(&database);
        run(
            &root(),
            &service.to_string_lossy(),
            &[
                "seed",
                "--database",
                &url,
                "--children",
                "20000",
                "--seed",
                "42",
                "--manifest",
                &manifest.to_string_lossy(),
            ],
        )?;
    }
    // A demo database seeded before the platform's role directory existed gets it now.
    run(
        &root(),
        &service.to_string_lossy(),
        &["seed-roles", "--database", &url],
    )?;
    Ok((url, manifest))
}

/// Start the development identity provider on 127.0.0.1:9090.
pub fn start_identity_provider() -> Result<Supervised> {
    if !port_is_free("127.0.0.1:9090") {
        bail!("port 9090 is in use: stop whatever is listening there (an earlier demo?)");
    }
    let mut command = Command::new("node");
    command.arg("server.js").current_dir(root().join("dev-idp"));
    Launch::new("dev-idp", command)
        .ready_when(Ready::Port(([127, 0, 0, 1], 9090).into()), READY_DEADLINE)
        .start()
        .context("starting the development identity provider (node dev-idp/server.js)")
}

/// Start the reference service on 127.0.0.1:8080 over `database_url`.
pub fn start_service(service: &Path, database_url: &str) -> Result<Supervised> {
    if !port_is_free(SERVICE_ADDRESS) {
        bail!("port 8080 is in use: stop whatever is listening there (an earlier demo?)");
    }
    let keys = dev_keys();
    let mut command = Command::new(service);
    command
        .args([
            "serve",
            "--database",
            database_url,
            "--listen",
            SERVICE_ADDRESS,
            "--issuer",
            ISSUER,
            "--cis2-client-id",
            CIS2_CLIENT_ID,
            "--app-api-key",
            PLATFORM_API_KEY,
        ])
        .arg("--app-jwks-file")
        .arg(keys.join("DEV-ONLY-broker.jwks.public.json"))
        .arg("--app-client-secret-file")
        .arg(keys.join("DEV-ONLY-apim-client-secret.txt"));
    let address = SERVICE_ADDRESS.parse().context("address")?;
    Launch::new("cpis-service", command)
        .stdout(Sink::Null)
        .ready_when(Ready::Port(address), READY_DEADLINE)
        .start()
        .context("starting cpis-service")
}

/// The broker's development-only keys (public in this repository).
fn dev_keys() -> PathBuf {
    root().join("crates/cpis-broker/dev-keys")
}

/// Start the token broker on 127.0.0.1:9091, its sessions in `dir`.
pub fn start_broker(broker: &Path, dir: &Path) -> Result<Supervised> {
    if !port_is_free(BROKER_ADDRESS) {
        bail!("port 9091 is in use: stop whatever is listening there (an earlier demo?)");
    }
    let keys = dev_keys();
    let mut command = Command::new(broker);
    command
        .args([
            "serve",
            "--listen",
            BROKER_ADDRESS,
            "--cis2-issuer",
            ISSUER,
            "--cis2-client-id",
            CIS2_CLIENT_ID,
            "--signing-kid",
            "cpis-broker-dev-1",
            "--platform-api-key",
            PLATFORM_API_KEY,
        ])
        .arg("--database")
        .arg(format!(
            "sqlite://{}?mode=rwc",
            dir.join("broker.sqlite3").display()
        ))
        .arg("--signing-key")
        .arg(keys.join("DEV-ONLY-broker-signing-key.pem"))
        .arg("--platform-token-url")
        .arg(format!("http://{SERVICE_ADDRESS}/oauth2/token"))
        .arg("--platform-client-secret-file")
        .arg(keys.join("DEV-ONLY-apim-client-secret.txt"));
    let address = BROKER_ADDRESS.parse().context("address")?;
    Launch::new("cpis-broker", command)
        .stdout(Sink::Null)
        .ready_when(Ready::Port(address), READY_DEADLINE)
        .start()
        .context("starting cpis-broker")
}

/// Write the client configuration for the demo (defaults point at the local stack; the app's
/// data, including its audit queue, lives under target/demo).
pub fn write_client_config(dir: &Path) -> Result<PathBuf> {
    let path = dir.join("config.toml");
    let data = dir.join("app-data");
    let text = format!(
        "# CP-IS Viewer configuration for `cargo xtask demo` (synthetic data only).\n\
         lock_minutes = 15\n\
         lookup_deadline_ms = 3000\n\
         data_dir = \"{}\"\n\n\
         [services]\n\
         cpis_url = \"http://{SERVICE_ADDRESS}/cpis/FHIR/R4\"\n\
         demographics_url = \"http://{SERVICE_ADDRESS}/personal-demographics/FHIR/R4\"\n\
         audit_url = \"http://{SERVICE_ADDRESS}/audit/FHIR/R4\"\n\n\
         [sign_in]\n\
         broker_url = \"http://{BROKER_ADDRESS}\"\n",
        data.display()
    );
    std::fs::write(&path, text).context("writing target/demo/config.toml")?;
    Ok(path)
}

/// Print which NHS numbers show which case, from the seed manifest (three of each).
pub fn print_scenarios(manifest: &Path) -> Result<()> {
    let text = std::fs::read_to_string(manifest).context("reading the seed manifest")?;
    let json: serde_json::Value = serde_json::from_str(&text).context("parsing the manifest")?;
    let scenarios = json
        .get("scenarios")
        .and_then(serde_json::Value::as_object)
        .context("the manifest has no scenarios")?;
    eprintln!(
        "\nSynthetic patients to try (all of them in {}):",
        manifest.display()
    );
    for (name, numbers) in scenarios {
        let shown: Vec<String> = numbers
            .as_array()
            .map(|numbers| {
                numbers
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .filter(|number| number.len() == 10)
                    .take(3)
                    .map(|number| format!("{} {} {}", &number[0..3], &number[3..6], &number[6..10]))
                    .collect()
            })
            .unwrap_or_default();
        eprintln!("  {name:<22} {}", shown.join(", "));
    }
    eprintln!();
    Ok(())
}
