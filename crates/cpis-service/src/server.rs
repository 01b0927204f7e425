//! Running the service: open storage, load keys, bind, serve until SIGINT or SIGTERM, then
//! finish in-flight requests (graceful shutdown).

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::api::router;
use crate::auth::{KeySource, PlatformApp, Verifier};
use crate::config::{AppJwks, ServeConfig};
use crate::state::{AppState, Limits};
use crate::store::Store;

/// Open the database and the keys for `config`. The token URL (the `aud` of client
/// assertions) is [`ServeConfig::token_url`]: set `public_url` when listening on port 0.
pub async fn state_for(config: &ServeConfig) -> anyhow::Result<AppState> {
    let store = Store::connect(&config.database, config.db_max_connections)
        .await
        .context("could not open the database given by --database")?;
    let source = match &config.jwks_file {
        Some(path) => KeySource::JwksFile(path.clone()),
        None => KeySource::Discovery,
    };
    let verifier = Verifier::new(&config.issuer, &config.cis2_client_id, source)
        .await
        .context("could not load the CIS2 signing keys (--issuer, --jwks-file)")?;
    let app_source = match &config.app_jwks {
        AppJwks::File(path) => KeySource::JwksFile(path.clone()),
        AppJwks::Url(url) => KeySource::JwksUrl(url.clone()),
    };
    let client_secret = match &config.app_client_secret_file {
        None => {
            tracing::warn!(
                "no --app-client-secret-file: refresh_token grants and revocation are refused"
            );
            None
        }
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| {
            format!(
                "could not read the platform app's client secret file {}",
                path.display()
            )
        })?),
    };
    let platform = PlatformApp::new(
        &config.app_api_key,
        app_source,
        client_secret,
        &config.token_url(),
    )
    .await
    .context("could not load the platform app's keys (--app-jwks-file or --app-jwks-url)")?
    .with_access_token_seconds(config.access_token_seconds);
    Ok(AppState::new(
        store,
        Arc::new(verifier),
        Arc::new(platform),
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

/// How often the central log's monthly partitions are checked (PostgreSQL only).
const PARTITION_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Every hour, create the central log's monthly partitions that are due (three months ahead),
/// so no event waits in the DEFAULT partition. Safe from every replica at once; a failure is
/// logged and tried again at the next check (events still land in DEFAULT meanwhile).
async fn keep_partitions_ahead(store: crate::store::Store) {
    let dialect = match store.backend() {
        crate::store::Backend::Sqlite => return,
        crate::store::Backend::Postgres => cpis_audit_log::Dialect::Postgres,
    };
    let mut ticks = tokio::time::interval(PARTITION_CHECK_EVERY);
    loop {
        ticks.tick().await;
        match cpis_audit_log::schema::ensure_partitions(
            store.pool(),
            dialect,
            time::OffsetDateTime::now_utc(),
        )
        .await
        {
            Ok(partitions) if !partitions.created.is_empty() => {
                tracing::info!(
                    created = partitions.created.len(),
                    "audit log partitions created"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "audit log partitions could not be checked"),
        }
    }
}

/// `cpis-service serve`.
pub async fn serve(mut config: ServeConfig) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("could not listen on {}", config.listen))?;
    let address = listener.local_addr().context("no local address")?;
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{address}"));
    }
    let state = state_for(&config).await?;
    tokio::spawn(keep_partitions_ahead(state.store.clone()));
    // The first line on stdout, for scripts that start the service on port 0.
    println!("cpis-service listening on http://{address}");
    tracing::info!(%address, "listening");
    serve_on(listener, state, shutdown_signal())
        .await
        .context("server failed")
}
