//! Prometheus metrics: HTTP requests by route template and status, latency histograms, storage operation
//! latency (recorded by the store layer [`crate::store::layers::metered::Metered`]), and build info.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::Arc;

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub store_duration: HistogramVec,
    pub rate_limited: IntCounterVec,
    pub cache_requests: IntCounterVec,
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
        })
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
