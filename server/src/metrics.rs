//! Prometheus metrics: HTTP requests by route template and status, latency histograms, storage operation
//! latency (via [`MeteredStore`], a decorator around any store), and build info.

use crate::model::ServerRecord;
use crate::store::{
    DynStore, ListQuery, NewVersion, SchemaState, StatusChange, Store, StoreResult, VersionRef,
};
use async_trait::async_trait;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::Arc;
use std::time::Instant;

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

/// A [`Store`] that times every operation of the store it wraps.
pub struct MeteredStore {
    inner: DynStore,
    metrics: Arc<Metrics>,
}

impl MeteredStore {
    pub fn wrap(inner: DynStore, metrics: Arc<Metrics>) -> DynStore {
        Arc::new(MeteredStore { inner, metrics })
    }

    async fn timed<T>(
        &self,
        op: &str,
        f: impl std::future::Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let start = Instant::now();
        let out = f.await;
        let outcome = match &out {
            Ok(_) => "ok",
            Err(crate::store::StoreError::NotFound(_)) => "not_found",
            Err(crate::store::StoreError::Rejected(_)) => "rejected",
            Err(_) => "error",
        };
        self.metrics
            .store_duration
            .with_label_values(&[self.inner.backend(), op, outcome])
            .observe(start.elapsed().as_secs_f64());
        out
    }
}

#[async_trait]
impl Store for MeteredStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        self.timed("migrate", self.inner.migrate()).await
    }
    async fn schema_state(&self) -> StoreResult<SchemaState> {
        self.timed("schema_state", self.inner.schema_state()).await
    }
    async fn list(&self, q: &ListQuery) -> StoreResult<Vec<ServerRecord>> {
        self.timed("list", self.inner.list(q)).await
    }
    async fn versions(&self, name: &str, include_deleted: bool) -> StoreResult<Vec<ServerRecord>> {
        self.timed("versions", self.inner.versions(name, include_deleted))
            .await
    }
    async fn get(
        &self,
        name: &str,
        v: &VersionRef,
        include_deleted: bool,
    ) -> StoreResult<Option<ServerRecord>> {
        self.timed("get", self.inner.get(name, v, include_deleted))
            .await
    }
    async fn publish(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        self.timed("publish", self.inner.publish(new)).await
    }
    async fn edit(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        self.timed("edit", self.inner.edit(new)).await
    }
    async fn set_status(
        &self,
        name: &str,
        version: Option<&str>,
        change: &StatusChange,
    ) -> StoreResult<Vec<ServerRecord>> {
        self.timed("set_status", self.inner.set_status(name, version, change))
            .await
    }
}
