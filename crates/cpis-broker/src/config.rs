//! Command line and environment for `cpis-broker`, and the resolved [`BrokerConfig`] that the
//! library runs on (tests build one directly).
//!
//! Precedence: a command-line flag, then its `CPIS_BROKER_*` environment variable, then the
//! default. Every error names the setting.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The broker's client id at the app's side: the desktop app and the CLI.
pub const APP_CLIENT_ID: &str = "cpis-viewer";
/// The default `acr_values` asked of CIS2.
pub const DEFAULT_ACR_VALUES: &str = "AAL3_ANY";
/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9091";
/// How long a sign-in may take between `/authorize` and `/callback`.
pub const DEFAULT_PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// How long the app's one-time code lives.
pub const DEFAULT_APP_CODE_TTL: Duration = Duration::from_secs(60);
/// The longest a broker session lives.
pub const DEFAULT_SESSION_MAX_AGE: Duration = Duration::from_secs(12 * 60 * 60);

/// `cpis-broker`: the trust-side token broker.
#[derive(Debug, Parser)]
#[command(
    name = "cpis-broker",
    version,
    about = "Trust-side token broker: CIS2 sign-in, the API platform's token exchange, refresh and revocation"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the broker's HTTP endpoints.
    Serve(ServeArgs),
}

/// `serve` settings, each also from the environment.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:9091]; port 0 picks a free port.
    #[arg(long, env = "CPIS_BROKER_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// The broker's URL as browsers reach it; CIS2 redirects to `{public_url}/callback`. Must be
    /// https unless its host is loopback [default: http://<the bound address>].
    #[arg(long, env = "CPIS_BROKER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// `sqlite://PATH?mode=rwc` (created if missing) or `postgres://USER:PASSWORD@HOST:PORT/DB`
    /// [default: sqlite://cpis-broker.sqlite3?mode=rwc in the working directory].
    #[arg(long, env = "CPIS_BROKER_DATABASE")]
    pub database: Option<String>,
    /// Database connections in the pool [default: 8].
    #[arg(long, env = "CPIS_BROKER_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<u32>,
    /// The CIS2 issuer; its discovery document gives the endpoints and keys.
    #[arg(long, env = "CPIS_BROKER_CIS2_ISSUER")]
    pub cis2_issuer: Option<String>,
    /// The broker's client id at CIS2 [default: cpis-broker].
    #[arg(long, env = "CPIS_BROKER_CIS2_CLIENT_ID")]
    pub cis2_client_id: Option<String>,
    /// PEM file with the broker's RSA private key (CIS2's private_key_jwt and the platform's
    /// client_assertion).
    #[arg(long, env = "CPIS_BROKER_SIGNING_KEY")]
    pub signing_key: Option<PathBuf>,
    /// The `kid` of that key, as registered with CIS2 and the platform.
    #[arg(long, env = "CPIS_BROKER_SIGNING_KID")]
    pub signing_kid: Option<String>,
    /// A JWKS file of further public keys to publish at /jwks.json beside the signing key's
    /// (the previous or the next key while rotating).
    #[arg(long, env = "CPIS_BROKER_EXTRA_JWKS")]
    pub extra_jwks: Option<PathBuf>,
    /// The API platform's token URL (`.../oauth2/token`).
    #[arg(long, env = "CPIS_BROKER_PLATFORM_TOKEN_URL")]
    pub platform_token_url: Option<String>,
    /// The platform's revocation URL [default: /oauth2/revoke on the token URL's origin].
    #[arg(long, env = "CPIS_BROKER_PLATFORM_REVOKE_URL")]
    pub platform_revoke_url: Option<String>,
    /// The broker's API key at the platform (`iss` and `sub` of the client assertion).
    #[arg(long, env = "CPIS_BROKER_PLATFORM_API_KEY")]
    pub platform_api_key: Option<String>,
    /// File holding the platform app's client secret (refresh and revocation).
    #[arg(long, env = "CPIS_BROKER_PLATFORM_CLIENT_SECRET_FILE")]
    pub platform_client_secret_file: Option<PathBuf>,
    /// `acr_values` asked of CIS2 [default: AAL3_ANY].
    #[arg(long, env = "CPIS_BROKER_ACR_VALUES")]
    pub acr_values: Option<String>,
}

/// A setting that is missing or wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required setting was not given.
    #[error("--{0} is required (or its CPIS_BROKER_* environment variable)")]
    Missing(&'static str),
    /// A setting's value is not valid.
    #[error("--{0}: {1}")]
    Invalid(&'static str, &'static str),
}

/// The resolved settings the broker runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerConfig {
    /// Listen address (the binary binds it; the library is given a listener).
    pub listen: SocketAddr,
    /// The public URL, or `None` for `http://<bound address>`.
    pub public_url: Option<String>,
    /// Database URL.
    pub database: String,
    /// Pool size.
    pub db_max_connections: u32,
    /// CIS2 issuer.
    pub cis2_issuer: String,
    /// The broker's client id at CIS2.
    pub cis2_client_id: String,
    /// The RSA private key (PEM file).
    pub signing_key: PathBuf,
    /// Its `kid`.
    pub signing_kid: String,
    /// Further public keys to publish.
    pub extra_jwks: Option<PathBuf>,
    /// The platform's token URL.
    pub platform_token_url: String,
    /// The platform's revocation URL.
    pub platform_revoke_url: String,
    /// The broker's API key at the platform.
    pub platform_api_key: String,
    /// File with the platform client secret.
    pub platform_client_secret_file: PathBuf,
    /// `acr_values` asked of CIS2.
    pub acr_values: String,
    /// The app's client id.
    pub app_client_id: String,
    /// How long a sign-in may take at CIS2.
    pub pending_ttl: Duration,
    /// How long the app's one-time code lives.
    pub app_code_ttl: Duration,
    /// The longest a session lives.
    pub session_max_age: Duration,
}

impl BrokerConfig {
    /// Settings with the defaults for everything not named here.
    pub fn new(
        cis2_issuer: impl Into<String>,
        signing_key: impl Into<PathBuf>,
        signing_kid: impl Into<String>,
        platform_token_url: impl Into<String>,
        platform_api_key: impl Into<String>,
        platform_client_secret_file: impl Into<PathBuf>,
    ) -> Result<BrokerConfig, ConfigError> {
        let platform_token_url = platform_token_url.into();
        let platform_revoke_url = revoke_url_for(&platform_token_url)?;
        Ok(BrokerConfig {
            listen: default_listen(),
            public_url: None,
            database: "sqlite://cpis-broker.sqlite3?mode=rwc".to_owned(),
            db_max_connections: 8,
            cis2_issuer: cis2_issuer.into(),
            cis2_client_id: "cpis-broker".to_owned(),
            signing_key: signing_key.into(),
            signing_kid: signing_kid.into(),
            extra_jwks: None,
            platform_token_url,
            platform_revoke_url,
            platform_api_key: platform_api_key.into(),
            platform_client_secret_file: platform_client_secret_file.into(),
            acr_values: DEFAULT_ACR_VALUES.to_owned(),
            app_client_id: APP_CLIENT_ID.to_owned(),
            pending_ttl: DEFAULT_PENDING_TTL,
            app_code_ttl: DEFAULT_APP_CODE_TTL,
            session_max_age: DEFAULT_SESSION_MAX_AGE,
        })
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9091))
}

/// `/oauth2/revoke` on the origin of `token_url`.
pub fn revoke_url_for(token_url: &str) -> Result<String, ConfigError> {
    let mut url = openidconnect::url::Url::parse(token_url)
        .map_err(|_| ConfigError::Invalid("platform-token-url", "not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::Invalid(
            "platform-token-url",
            "must be http or https",
        ));
    }
    url.set_path("/oauth2/revoke");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url.to_string())
}

impl ServeArgs {
    /// Apply defaults and check every setting.
    pub fn resolve(self) -> Result<BrokerConfig, ConfigError> {
        let mut config = BrokerConfig::new(
            self.cis2_issuer
                .ok_or(ConfigError::Missing("cis2-issuer"))?,
            self.signing_key
                .ok_or(ConfigError::Missing("signing-key"))?,
            self.signing_kid
                .ok_or(ConfigError::Missing("signing-kid"))?,
            self.platform_token_url
                .ok_or(ConfigError::Missing("platform-token-url"))?,
            self.platform_api_key
                .ok_or(ConfigError::Missing("platform-api-key"))?,
            self.platform_client_secret_file
                .ok_or(ConfigError::Missing("platform-client-secret-file"))?,
        )?;
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        config.public_url = self.public_url;
        if let Some(database) = self.database {
            config.database = database;
        }
        if let Some(connections) = self.db_max_connections {
            config.db_max_connections = connections;
        }
        if let Some(client_id) = self.cis2_client_id {
            config.cis2_client_id = client_id;
        }
        config.extra_jwks = self.extra_jwks;
        if let Some(url) = self.platform_revoke_url {
            config.platform_revoke_url = url;
        }
        if let Some(acr) = self.acr_values {
            config.acr_values = acr;
        }
        if config.signing_kid.trim().is_empty() {
            return Err(ConfigError::Invalid("signing-kid", "must not be empty"));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revoke_url_is_on_the_token_urls_origin() {
        assert_eq!(
            revoke_url_for("http://127.0.0.1:8080/oauth2/token").ok(),
            Some("http://127.0.0.1:8080/oauth2/revoke".to_owned())
        );
        assert!(revoke_url_for("not a url").is_err());
    }

    #[test]
    fn missing_settings_are_named() {
        let error = ServeArgs::default().resolve().err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("--cis2-issuer is required (or its CPIS_BROKER_* environment variable)")
        );
    }

    #[test]
    fn the_cli_parses_every_flag() {
        let cli = Cli::try_parse_from([
            "cpis-broker",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "http://127.0.0.1:9091",
            "--database",
            "sqlite://x.db?mode=rwc",
            "--cis2-issuer",
            "http://127.0.0.1:9090",
            "--cis2-client-id",
            "cpis-broker",
            "--signing-key",
            "key.pem",
            "--signing-kid",
            "kid-1",
            "--platform-token-url",
            "http://127.0.0.1:8080/oauth2/token",
            "--platform-api-key",
            "cpis-broker-dev",
            "--platform-client-secret-file",
            "secret.txt",
            "--acr-values",
            "AAL2_OR_ABOVE",
        ]);
        let Ok(Cli {
            command: Command::Serve(args),
        }) = cli
        else {
            panic!("parse failed");
        };
        let config = args.resolve().expect("resolves");
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.acr_values, "AAL2_OR_ABOVE");
        assert_eq!(
            config.platform_revoke_url,
            "http://127.0.0.1:8080/oauth2/revoke"
        );
    }
}
