//! Running the broker: open the store, load the keys and the client secret, bind, serve until
//! SIGINT or SIGTERM, then finish in-flight requests.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::api::{is_loopback_host, router};
use crate::cis2::Cis2;
use crate::config::BrokerConfig;
use crate::http::Http;
use crate::keys::{KeyError, SigningKey};
use crate::platform::Platform;
use crate::secret::Secret;
use crate::state::{BrokerState, Settings};
use crate::store::{Store, StoreError};

/// Why the broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened.
    #[error("could not open the database given by --database: {0}")]
    Store(#[from] StoreError),
    /// The signing key could not be loaded.
    #[error("could not load the signing key: {0}")]
    Key(#[from] KeyError),
    /// The client secret file could not be read or is empty.
    #[error("could not read the client secret from --platform-client-secret-file {0}")]
    ClientSecret(String),
    /// The public URL is not usable.
    #[error("--public-url: {0}")]
    PublicUrl(&'static str),
    /// The HTTP client could not be built.
    #[error("{0}")]
    Http(#[from] crate::http::TransportError),
    /// Binding or serving failed.
    #[error("could not listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

/// The public URL: the configured one (https unless loopback), or `http://<bound>`.
pub fn public_url_for(config: &BrokerConfig, bound: SocketAddr) -> Result<String, StartError> {
    let Some(text) = &config.public_url else {
        return Ok(format!("http://{bound}"));
    };
    let url =
        openidconnect::url::Url::parse(text).map_err(|_| StartError::PublicUrl("not a URL"))?;
    if url.scheme() != "https" && !(url.scheme() == "http" && is_loopback_host(&url)) {
        return Err(StartError::PublicUrl(
            "must be https unless its host is loopback",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(StartError::PublicUrl("must have no query or fragment"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// Open the database and load the keys for `config`, the broker reached at `bound` unless a
/// public URL is configured.
pub async fn state_for(
    config: &BrokerConfig,
    bound: SocketAddr,
) -> Result<BrokerState, StartError> {
    let public_url = public_url_for(config, bound)?;
    let key = SigningKey::load(
        &config.signing_key,
        &config.signing_kid,
        config.extra_jwks.as_deref(),
    )?;
    let secret_path = config.platform_client_secret_file.display().to_string();
    let secret = std::fs::read_to_string(&config.platform_client_secret_file)
        .map_err(|_| StartError::ClientSecret(secret_path.clone()))?;
    let secret = secret.trim();
    if secret.is_empty() {
        return Err(StartError::ClientSecret(secret_path));
    }
    let store = Store::connect(&config.database, config.db_max_connections).await?;
    let http = Http::new()?;
    let cis2 = Cis2::new(
        &config.cis2_issuer,
        &config.cis2_client_id,
        &format!("{public_url}/callback"),
        http.clone(),
    );
    let platform = Platform::new(
        http.clone(),
        &config.platform_token_url,
        &config.platform_revoke_url,
        &config.platform_api_key,
        Secret::new(secret),
    );
    Ok(BrokerState::new(
        Settings {
            public_url,
            app_client_id: config.app_client_id.clone(),
            acr_values: config.acr_values.clone(),
            pending_ttl: config.pending_ttl,
            app_code_ttl: config.app_code_ttl,
            session_max_age: config.session_max_age,
        },
        key,
        cis2,
        platform,
        store,
        http,
    ))
}

/// Serve `state` on `listener` until `shutdown` completes, then drain.
pub async fn serve_on(
    listener: TcpListener,
    state: BrokerState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// `cpis-broker serve`: bind, print `cpis-broker listening on http://ADDR` as the first stdout
/// line, serve until a signal.
pub async fn serve(config: BrokerConfig) -> Result<(), StartError> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|error| StartError::Listen(config.listen, error))?;
    let address = listener
        .local_addr()
        .map_err(|error| StartError::Listen(config.listen, error))?;
    let state = state_for(&config, address).await?;
    println!("cpis-broker listening on http://{address}");
    tracing::info!(%address, public_url = %state.settings().public_url, "listening");
    serve_on(listener, state, shutdown_signal())
        .await
        .map_err(|error| StartError::Listen(address, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(public_url: Option<&str>) -> BrokerConfig {
        let mut config = BrokerConfig::new(
            "http://127.0.0.1:9090",
            "key.pem",
            "kid",
            "http://127.0.0.1:8080/oauth2/token",
            "cpis-broker-dev",
            "secret.txt",
        )
        .expect("config");
        config.public_url = public_url.map(str::to_owned);
        config
    }

    #[test]
    fn the_public_url_must_be_https_unless_loopback() {
        let bound = SocketAddr::from(([127, 0, 0, 1], 9091));
        assert_eq!(
            public_url_for(&config(None), bound).ok().as_deref(),
            Some("http://127.0.0.1:9091")
        );
        assert!(public_url_for(&config(Some("http://localhost:9091/")), bound).is_ok());
        assert!(public_url_for(&config(Some("https://broker.trust.example")), bound).is_ok());
        assert!(public_url_for(&config(Some("http://broker.trust.example")), bound).is_err());
    }
}
