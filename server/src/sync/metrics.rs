//! Prometheus metrics of the sync runs, per source: what each run did, how long it took, when a source
//! last synced and its interval (so an alert can compare the two: `charts/.../prometheusrule.yaml`).

use super::state::RunReport;
use crate::config::SourceConfig;
use chrono::{DateTime, Utc};
use prometheus::{GaugeVec, IntCounterVec, Opts};

pub struct SyncMetrics {
    runs: IntCounterVec,
    items: IntCounterVec,
    duration: GaugeVec,
    last_success: GaugeVec,
}

impl SyncMetrics {
    pub fn register(m: &crate::metrics::Metrics, sources: &[SourceConfig]) -> SyncMetrics {
        let runs = IntCounterVec::new(
            Opts::new(
                "mcp_registry_sync_runs_total",
                "Sync runs by source and outcome (ok, error, truncated)",
            ),
            &["source", "outcome"],
        )
        .expect("valid metric");
        let items = IntCounterVec::new(
            Opts::new(
                "mcp_registry_sync_items_total",
                "Versions seen by sync runs, by source and result (added, updated, deleted, unchanged, rejected, conflict, filtered)",
            ),
            &["source", "result"],
        )
        .expect("valid metric");
        let duration = GaugeVec::new(
            Opts::new(
                "mcp_registry_sync_last_run_duration_seconds",
                "Duration of the last sync run this replica made, by source",
            ),
            &["source"],
        )
        .expect("valid metric");
        let last_success = GaugeVec::new(
            Opts::new(
                "mcp_registry_sync_last_success_timestamp_seconds",
                "End of the last sync run without error, by source (0: never)",
            ),
            &["source"],
        )
        .expect("valid metric");
        let interval = GaugeVec::new(
            Opts::new(
                "mcp_registry_sync_interval_seconds",
                "Configured interval of each sync source (0: on demand only)",
            ),
            &["source"],
        )
        .expect("valid metric");
        for s in sources {
            interval
                .with_label_values(&[&s.name])
                .set(s.interval.as_secs_f64());
            last_success.with_label_values(&[&s.name]).set(0.0);
        }
        for c in [
            Box::new(runs.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(items.clone()),
            Box::new(duration.clone()),
            Box::new(last_success.clone()),
            Box::new(interval),
        ] {
            m.register(c);
        }
        SyncMetrics {
            runs,
            items,
            duration,
            last_success,
        }
    }

    /// The stored state as every replica sees it (the alert must not depend on which replica ran).
    pub fn observe_state(&self, source: &str, state: &super::state::SourceState) {
        if let Some(t) = state.last_success {
            self.last_success
                .with_label_values(&[source])
                .set(t.timestamp_millis() as f64 / 1000.0);
        }
    }

    pub fn record(&self, source: &str, r: &RunReport, last_success: Option<DateTime<Utc>>) {
        let outcome = match (&r.error, r.truncated) {
            (Some(_), _) => "error",
            (None, true) => "truncated",
            (None, false) => "ok",
        };
        self.runs.with_label_values(&[source, outcome]).inc();
        for (result, n) in [
            ("added", r.added),
            ("updated", r.updated),
            ("deleted", r.deleted),
            ("unchanged", r.unchanged),
            ("rejected", r.rejected),
            ("conflict", r.conflicts),
            ("filtered", r.filtered),
        ] {
            self.items.with_label_values(&[source, result]).inc_by(n);
        }
        self.duration
            .with_label_values(&[source])
            .set(r.duration_ms as f64 / 1000.0);
        if let Some(t) = last_success {
            self.last_success
                .with_label_values(&[source])
                .set(t.timestamp_millis() as f64 / 1000.0);
        }
    }
}
