//! The bare baselines: axum on tokio's default multi-threaded runtime, no middleware.
//! `GET /json` answers a small JSON document; `GET /rs256` first verifies the bearer token
//! (RS256 signature and claims, every request, no cache); `POST /sink` reads the whole body and
//! answers a small JSON document.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::keys::BareVerifier;

const BODY: &str = r#"{"resourceType":"Bundle","type":"searchset","total":0}"#;

fn json_response() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], BODY)
}

async fn json_route() -> impl IntoResponse {
    json_response()
}

async fn rs256_route(
    State(verifier): State<Arc<BareVerifier>>,
    headers: HeaderMap,
) -> axum::response::Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match token {
        Some(token) if verifier.verify(token) => json_response().into_response(),
        _ => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn sink_route(body: Bytes) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!(r#"{{"received":{}}}"#, body.len()),
    )
}

/// The router, for the test and the server.
pub fn router() -> anyhow::Result<Router> {
    let verifier = Arc::new(BareVerifier::new()?);
    Ok(Router::new()
        .route("/json", get(json_route))
        .route("/rs256", get(rs256_route))
        .route(
            "/sink",
            post(sink_route).layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .with_state(verifier))
}

pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    println!("cpis-bench bare listening on http://{address}");
    axum::serve(listener, router()?).await?;
    Ok(())
}
