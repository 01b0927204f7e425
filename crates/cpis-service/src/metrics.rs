//! Prometheus metrics (`prometheus-client`, OpenMetrics text on `/metrics`). Labels are route
//! templates, methods, status codes and fixed reason codes: never a URI, query, header or body.
//! The middleware that feeds the request metrics is `api::observe`.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

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

    /// A request answered: its method, route template, status and latency.
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
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
