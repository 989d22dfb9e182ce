//! [`Metered`]: the latency and outcome of every operation of the store it wraps
//! (`mcp_registry_store_duration_seconds{backend, op, outcome}`).

use super::Layer;
use crate::metrics::Metrics;
use crate::store::{DynStore, StoreError, StoreResult};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Instant;

pub struct Metered {
    inner: DynStore,
    metrics: Arc<Metrics>,
}

impl Metered {
    pub fn wrap(inner: DynStore, metrics: Arc<Metrics>) -> DynStore {
        Arc::new(Metered { inner, metrics })
    }
}

impl Layer for Metered {
    fn inner(&self) -> &DynStore {
        &self.inner
    }
    fn around<'a, T: Send + 'a>(
        &'a self,
        op: &'static str,
        call: BoxFuture<'a, StoreResult<T>>,
    ) -> BoxFuture<'a, StoreResult<T>> {
        Box::pin(async move {
            let start = Instant::now();
            let out = call.await;
            let outcome = match &out {
                Ok(_) => "ok",
                Err(StoreError::NotFound(_)) => "not_found",
                Err(StoreError::Rejected(_)) => "rejected",
                Err(StoreError::Abandoned) => "abandoned",
                Err(_) => "error",
            };
            self.metrics
                .store_health
                .record(!matches!(&out, Err(StoreError::Unavailable(_))));
            self.metrics
                .store_duration
                .with_label_values(&[self.inner.backend(), op, outcome])
                .observe(start.elapsed().as_secs_f64());
            out
        })
    }
}
