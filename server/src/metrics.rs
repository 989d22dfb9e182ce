//! Prometheus metrics: HTTP requests by route template and status, latency histograms, storage operation
//! latency (recorded by the store layer [`crate::store::layers::metered::Metered`]), and build info.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use std::sync::Arc;

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub store_duration: HistogramVec,
    pub rate_limited: IntCounterVec,
    pub cache_requests: IntCounterVec,
    pub connections_open: IntGauge,
    pub connections_closed: IntCounterVec,
    /// When the store last answered and last failed to (readiness reads it).
    pub store_health: StoreHealth,
}

/// The store's reachability as the requests see it: every operation records whether the store answered
/// (including "not found" and refusals) or was unavailable. `/readyz` trusts a recent answer instead of
/// queueing its own probe behind busy requests, so it does not flap under load.
#[derive(Default)]
pub struct StoreHealth {
    /// Milliseconds since `epoch` (+1, so 0 means never).
    last_answer: std::sync::atomic::AtomicU64,
    last_failure: std::sync::atomic::AtomicU64,
    epoch: std::sync::OnceLock<std::time::Instant>,
}

impl StoreHealth {
    fn now(&self) -> u64 {
        let epoch = self.epoch.get_or_init(std::time::Instant::now);
        epoch.elapsed().as_millis() as u64 + 1
    }

    pub fn record(&self, answered: bool) {
        let slot = if answered {
            &self.last_answer
        } else {
            &self.last_failure
        };
        slot.fetch_max(self.now(), std::sync::atomic::Ordering::Relaxed);
    }

    /// The store answered within `window` and has not failed since.
    pub fn recently_answered(&self, window: std::time::Duration) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let (answer, failure) = (
            self.last_answer.load(Relaxed),
            self.last_failure.load(Relaxed),
        );
        answer > 0 && answer >= failure && self.now() - answer <= window.as_millis() as u64
    }

    /// The store failed within `window` and has not answered since.
    pub fn recently_failed(&self, window: std::time::Duration) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let (answer, failure) = (
            self.last_answer.load(Relaxed),
            self.last_failure.load(Relaxed),
        );
        failure > answer && self.now() - failure <= window.as_millis() as u64
    }

    /// The store answered at some point within `window`, whatever happened since.
    pub fn answered_within(&self, window: std::time::Duration) -> bool {
        let answer = self.last_answer.load(std::sync::atomic::Ordering::Relaxed);
        answer > 0 && self.now() - answer <= window.as_millis() as u64
    }
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    pub fn new(backend: &str) -> Arc<Self> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "mcp_registry_http_requests_total",
                "HTTP requests by route template, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "mcp_registry_http_request_duration_seconds",
                "HTTP request latency",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method"],
        )
        .expect("valid metric");
        let store_duration = HistogramVec::new(
            HistogramOpts::new(
                "mcp_registry_store_operation_duration_seconds",
                "Storage operation latency",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["backend", "operation", "outcome"],
        )
        .expect("valid metric");
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "mcp_registry_rate_limited_total",
                "Requests refused with 429, by limit",
            ),
            &["limit"],
        )
        .expect("valid metric");
        let cache_requests = IntCounterVec::new(
            Opts::new(
                "mcp_registry_cache_requests_total",
                "Read-cache lookups by cache (local, redis) and result (hit, miss, error)",
            ),
            &["cache", "result"],
        )
        .expect("valid metric");
        let connections_open = IntGauge::new(
            "mcp_registry_http_connections_open",
            "Client connections open now",
        )
        .expect("valid metric");
        let connections_closed = IntCounterVec::new(
            Opts::new(
                "mcp_registry_http_connections_closed_total",
                "Connections closed by the server's limits, by reason (header_timeout, idle_timeout, over_limit)",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let build_info = IntGaugeVec::new(
            Opts::new("mcp_registry_build_info", "Build information; always 1"),
            &["version", "backend"],
        )
        .expect("valid metric");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION"), backend])
            .set(1);
        for c in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(store_duration.clone()),
            Box::new(rate_limited.clone()),
            Box::new(cache_requests.clone()),
            Box::new(connections_open.clone()),
            Box::new(connections_closed.clone()),
            Box::new(build_info),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Arc::new(Metrics {
            registry,
            http_requests,
            http_duration,
            store_duration,
            rate_limited,
            cache_requests,
            connections_open,
            connections_closed,
            store_health: StoreHealth::default(),
        })
    }

    /// Add the metrics of a subsystem that exists only when configured (sync).
    pub fn register(&self, c: Box<dyn prometheus::core::Collector>) {
        self.registry.register(c).expect("metric registered once");
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding cannot fail");
        String::from_utf8(buf).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::StoreHealth;
    use std::time::Duration;

    #[test]
    fn a_recent_answer_counts_until_a_failure_or_the_window_ends() {
        let h = StoreHealth::default();
        assert!(
            !h.recently_answered(Duration::from_secs(5)),
            "never answered"
        );
        h.record(true);
        assert!(h.recently_answered(Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(5));
        h.record(false);
        assert!(!h.recently_answered(Duration::from_secs(5)), "failed since");
        std::thread::sleep(Duration::from_millis(5));
        h.record(true);
        assert!(h.recently_answered(Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            !h.recently_answered(Duration::from_millis(10)),
            "too long ago"
        );
    }
}
