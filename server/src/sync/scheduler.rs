//! One task per source: sleep until the run is due (from the stored end of the last run, so every replica
//! agrees) or until triggered, then try to run it. The lease decides which replica runs; the others find
//! it busy or, once it is done, not due.

use super::{Outcome, Source, SourceState, Syncer};
use std::sync::Arc;
use std::time::Duration;

/// How long a replica waits before looking again when another one holds a source's lease.
const BUSY_RETRY: Duration = Duration::from_secs(5);
/// The longest sleep between two looks at the stored state (a run made elsewhere moves the due time).
const MAX_SLEEP: Duration = Duration::from_secs(60);

impl Syncer {
    /// Start the scheduler of every source with an interval (sources with `0s` run on demand only,
    /// but are still triggered by `POST /v0.1/admin/sync`).
    pub fn spawn(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        (0..self.sources.len())
            .map(|i| {
                let syncer = self.clone();
                tokio::spawn(async move { syncer.schedule(i).await })
            })
            .collect()
    }

    async fn schedule(self: Arc<Self>, index: usize) {
        let source: &Source = &self.sources[index];
        let name = source.config.name.clone();
        loop {
            let state = match self.record_of(&name).await {
                Ok(r) => r.map(|r| SourceState::parse(&r.state)).unwrap_or_default(),
                Err(e) => {
                    tracing::warn!(source = %name, error = %e, "sync: cannot read the source's state");
                    tokio::time::sleep(BUSY_RETRY).await;
                    continue;
                }
            };
            self.metrics.observe_state(&name, &state);
            let wait = match Self::next_due(source, &state) {
                None => MAX_SLEEP,
                Some(due) => (due - crate::model::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(MAX_SLEEP),
            };
            let forced = tokio::select! {
                _ = tokio::time::sleep(wait) => false,
                _ = source.trigger.notified() => true,
            };
            if !forced && Self::next_due(source, &state).is_none() {
                continue; // on demand only
            }
            if !forced && wait == MAX_SLEEP && !wait.is_zero() {
                // Woken to look again, not because the run is due: re-read the state first.
                if Self::next_due(source, &state).is_some_and(|due| due > crate::model::now()) {
                    continue;
                }
            }
            match self.run_once(&name, forced).await {
                Ok(Outcome::Busy { .. }) => tokio::time::sleep(BUSY_RETRY).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(source = %name, error = %format!("{e:#}"), "sync run could not start");
                    tokio::time::sleep(BUSY_RETRY).await;
                }
            }
        }
    }
}
