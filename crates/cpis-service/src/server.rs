//! Running the service: open storage, load keys, bind, serve until SIGINT or SIGTERM, then
//! finish in-flight requests (graceful shutdown).

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::api::router;
use crate::auth::{KeySource, Verifier};
use crate::config::ServeConfig;
use crate::state::{AppState, Limits};
use crate::store::Store;

/// Open the database and the keys for `config`.
pub async fn state_for(config: &ServeConfig) -> anyhow::Result<AppState> {
    let store = Store::connect(&config.database, config.db_max_connections)
        .await
        .context("could not open the database given by --database")?;
    let source = match &config.jwks_file {
        Some(path) => KeySource::JwksFile(path.clone()),
        None => KeySource::Discovery,
    };
    let verifier = Verifier::new(&config.issuer, &config.audience, source)
        .await
        .context("could not load the token signing keys")?;
    Ok(AppState::new(
        store,
        Arc::new(verifier),
        Limits {
            max_body_bytes: config.max_body_bytes,
            request_timeout: config.request_timeout,
        },
    ))
}

/// Serve `state` on `listener` until `shutdown` completes, then drain.
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
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

/// `cpis-service serve`.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let state = state_for(&config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("could not listen on {}", config.listen))?;
    let address = listener.local_addr().context("no local address")?;
    // The first line on stdout, for scripts that start the service on port 0.
    println!("cpis-service listening on http://{address}");
    tracing::info!(%address, "listening");
    serve_on(listener, state, shutdown_signal())
        .await
        .context("server failed")
}
