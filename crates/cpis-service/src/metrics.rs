//! Prometheus metrics (`prometheus-client`, OpenMetrics text on `/metrics`) and the middleware
//! that times, counts, logs and bounds every request. Labels and log fields are route
//! templates, methods and status codes: never a URI, query, header or body.

use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cpis_fhir::SpineErrorCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::api::{ApiError, AppState};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    auth_failures: Family<ReasonLabels, Counter>,
    lookups: Family<ReasonLabels, Counter>,
    upload_records: Family<ReasonLabels, Counter>,
    notifications: Counter,
    notification_failures: Counter,
    cached_tokens: Gauge,
    render_lock: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Register every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("cpis");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route template",
            latency.clone(),
        );
        let auth_failures = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "auth_failures",
            "Refused access tokens by reason",
            auth_failures.clone(),
        );
        let lookups = Family::<ReasonLabels, Counter>::default();
        registry.register("lookups", "CareTeam lookups by outcome", lookups.clone());
        let upload_records = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "upload_records",
            "Uploaded records by outcome or reject code",
            upload_records.clone(),
        );
        let notifications = Counter::default();
        registry.register(
            "notifications_recorded",
            "Access to Service Notifications recorded",
            notifications.clone(),
        );
        let notification_failures = Counter::default();
        registry.register(
            "notification_failures",
            "Unscheduled accesses whose notification could not be recorded",
            notification_failures.clone(),
        );
        let cached_tokens = Gauge::default();
        registry.register(
            "verified_token_cache_entries",
            "Verified access tokens held in the cache",
            cached_tokens.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            auth_failures,
            lookups,
            upload_records,
            notifications,
            notification_failures,
            cached_tokens,
            render_lock: Mutex::new(()),
        }
    }

    /// A refused token.
    pub fn auth_failure(&self, reason: &str) {
        self.auth_failures
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// A lookup outcome.
    pub fn lookup(&self, outcome: &str) {
        self.lookups
            .get_or_create(&ReasonLabels {
                reason: outcome.to_owned(),
            })
            .inc();
    }

    /// An uploaded record's outcome.
    pub fn upload_record(&self, outcome: &str) {
        self.upload_records
            .get_or_create(&ReasonLabels {
                reason: outcome.to_owned(),
            })
            .inc();
    }

    /// Notifications recorded.
    pub fn notifications_recorded(&self, count: usize) {
        self.notifications.inc_by(count as u64);
    }

    /// A notification that could not be recorded.
    pub fn notification_failure(&self) {
        self.notification_failures.inc();
    }

    /// The OpenMetrics text.
    pub fn render(&self, cached_tokens: usize) -> String {
        let _guard = self.render_lock.lock();
        self.cached_tokens
            .set(i64::try_from(cached_tokens).unwrap_or(i64::MAX));
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// Time, count, log and bound one request.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    // The caller's TraceID (a UUID, so never patient data) ties a log line to a client's record.
    let trace_id = request
        .headers()
        .get("TraceID")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| uuid::Uuid::parse_str(text.trim()).ok())
        .map(|uuid| uuid.to_string())
        .unwrap_or_default();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = match tokio::time::timeout(state.limits.request_timeout, next.run(request)).await
    {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            SpineErrorCode::Timeout,
            "The request took too long",
        )
        .into_response(),
    };
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status,
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        method,
        route,
        status,
        trace_id,
        latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}
