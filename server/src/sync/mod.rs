//! Federation: keeping this registry in sync with upstream registries, files and git repositories
//! (`sync.sources`). Each source is walked by its kind's runner ([`registry`], [`snapshot`]), every
//! version taken through the same filters and checks ([`apply`]) into versions the source owns
//! ([`crate::store::synced`]).
//!
//! Exactly one replica syncs a source at a time: a run first takes the source's lease in the store and
//! renews it at every checkpoint (after each page, or every [`CHECKPOINT_EVERY`] entries), saving its
//! progress there too, so a replica that dies mid-run is replaced after `sync.lease_ttl` and its
//! successor resumes where it stopped. Runs are scheduled from the stored end of the last run, so the
//! replicas agree on when the next one is due: one run per interval, whoever runs it.

pub mod apply;
pub mod git;
pub mod registry;
pub mod snapshot;
pub mod state;
pub mod upstream;

mod metrics;
mod scheduler;

use crate::config::{SourceConfig, SourceKind, SyncConfig};
use crate::store::{DynStore, SourceRecord};
use chrono::{DateTime, Utc};
use serde::Serialize;
use state::{RunReport, SourceState};
use std::sync::Arc;
use std::time::Duration;

pub use metrics::SyncMetrics;

/// A run renews its lease and saves its progress at least this often (entries of a file or git source).
pub const CHECKPOINT_EVERY: usize = 100;

/// A configured source, ready to run.
pub struct Source {
    pub config: SourceConfig,
    http: reqwest::Client,
    /// `token_file`'s content, read once at start.
    token: Option<String>,
    /// Held while this process runs the source (the lease covers the other replicas).
    running: tokio::sync::Mutex<()>,
    trigger: tokio::sync::Notify,
}

pub struct Syncer {
    store: DynStore,
    sources: Vec<Source>,
    lease_ttl: Duration,
    /// This process's name in leases and reports: the pod name when there is one.
    holder: String,
    metrics: SyncMetrics,
}

/// The outcome of asking for a run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum Outcome {
    /// The run happened; its report (also stored as the source's last run).
    Ran { report: RunReport },
    /// Another replica (or another task of this one) is running it.
    Busy { holder: Option<String> },
    /// Scheduled runs only: the run is not due yet (another replica ran it).
    NotDue,
}

/// One source as `GET /v0.1/admin/sync` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStatus {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: SourceKind,
    pub interval_seconds: u64,
    pub lease_holder: Option<String>,
    pub running: bool,
    pub high_water: Option<DateTime<Utc>>,
    pub revision: Option<String>,
    pub resuming: bool,
    pub last_run: Option<RunReport>,
    pub last_success: Option<DateTime<Utc>>,
    pub next_run: Option<DateTime<Utc>>,
    pub runs: u64,
}

/// What a kind's runner gets: the source and a way to checkpoint.
pub struct RunCtx<'a> {
    pub syncer: &'a Syncer,
    pub source: &'a Source,
}

impl RunCtx<'_> {
    pub fn store(&self) -> &DynStore {
        &self.syncer.store
    }
    pub fn config(&self) -> &SourceConfig {
        &self.source.config
    }
    pub fn http(&self) -> &reqwest::Client {
        &self.source.http
    }
    pub fn token(&self) -> Option<&str> {
        self.source.token.as_deref()
    }
    /// Save `state` and renew the lease; an error when the lease was lost (the run must stop: another
    /// replica has taken over).
    pub async fn checkpoint(&self, state: &SourceState) -> anyhow::Result<()> {
        let s = self.syncer;
        let name = &self.source.config.name;
        let now = crate::model::now();
        let renewed = s
            .store
            .take_sync_lease(name, &s.holder, now, now + chrono_span(s.lease_ttl))
            .await?
            && s.store
                .save_sync_state(name, &s.holder, &state.to_json(), false)
                .await?;
        anyhow::ensure!(
            renewed,
            "lost the lease of source '{name}' (a run slower than sync.lease_ttl?)"
        );
        Ok(())
    }
}

fn chrono_span(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Syncer {
    /// The syncer of `config`, or `None` when no source is configured. Reads every `token_file` and
    /// `ca_file` now, so a bad one fails the start, naming the key.
    pub fn new(
        store: DynStore,
        config: &SyncConfig,
        metrics: &crate::metrics::Metrics,
    ) -> anyhow::Result<Option<Arc<Syncer>>> {
        if config.sources.is_empty() {
            return Ok(None);
        }
        let mut sources = Vec::new();
        for (i, c) in config.sources.iter().enumerate() {
            let at = format!("sync.sources[{i}]");
            let token = (!c.token_file.is_empty())
                .then(|| {
                    crate::config::read_secret_file(&format!("{at}.token_file"), &c.token_file)
                })
                .transpose()?;
            let mut http = reqwest::Client::builder()
                .user_agent(concat!(
                    "mcp-registry/",
                    env!("CARGO_PKG_VERSION"),
                    " (sync)"
                ))
                .connect_timeout(c.timeout)
                .timeout(c.timeout);
            if !c.ca_file.is_empty() {
                let pem = std::fs::read(&c.ca_file)
                    .map_err(|e| anyhow::anyhow!("{at}.ca_file {}: {e}", c.ca_file))?;
                for cert in reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| anyhow::anyhow!("{at}.ca_file {}: {e}", c.ca_file))?
                {
                    http = http.add_root_certificate(cert);
                }
            }
            if let (SourceKind::Registry, Some(t)) = (c.kind, &token) {
                let mut headers = reqwest::header::HeaderMap::new();
                let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", t.trim()))
                    .map_err(|_| anyhow::anyhow!("{at}.token_file: not a valid header value"))?;
                headers.insert(reqwest::header::AUTHORIZATION, value);
                http = http.default_headers(headers);
            }
            sources.push(Source {
                config: c.clone(),
                http: http.build()?,
                token: token.map(|t| t.trim().to_owned()),
                running: tokio::sync::Mutex::new(()),
                trigger: tokio::sync::Notify::new(),
            });
        }
        let holder = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "mcp-registry".into());
        let holder = format!(
            "{holder}/{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Ok(Some(Arc::new(Syncer {
            store,
            sources,
            lease_ttl: config.lease_ttl,
            holder,
            metrics: SyncMetrics::register(metrics, &config.sources),
        })))
    }

    pub fn source_names(&self) -> Vec<&str> {
        self.sources
            .iter()
            .map(|s| s.config.name.as_str())
            .collect()
    }

    /// The sources a request names: `only`, or every source; `Err` names the configured ones.
    pub fn select(&self, only: Option<&str>) -> Result<Vec<String>, String> {
        let names = self.source_names();
        match only {
            Some(n) if !names.contains(&n) => Err(format!(
                "no sync source named '{n}' (configured: {})",
                names.join(", ")
            )),
            Some(n) => Ok(vec![n.to_owned()]),
            None => Ok(names.iter().map(|n| n.to_string()).collect()),
        }
    }

    fn source(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.config.name == name)
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Ask the scheduler of `name` (or of every source) to run now; `false` when there is no such source.
    pub fn trigger(&self, name: Option<&str>) -> bool {
        let mut any = false;
        for s in &self.sources {
            if name.is_none_or(|n| n == s.config.name) {
                s.trigger.notify_one();
                any = true;
            }
        }
        any
    }

    async fn record_of(&self, name: &str) -> anyhow::Result<Option<SourceRecord>> {
        Ok(self
            .store
            .sync_sources()
            .await?
            .into_iter()
            .find(|r| r.name == name))
    }

    /// When the next scheduled run of `source` is due, from its stored state.
    fn next_due(source: &Source, state: &SourceState) -> Option<DateTime<Utc>> {
        let interval = source.config.interval;
        if interval.is_zero() {
            return None;
        }
        match state.last_run.as_ref().and_then(|r| r.finished_at) {
            Some(t) => Some(t + chrono_span(interval)),
            None => Some(DateTime::<Utc>::MIN_UTC),
        }
    }

    /// Run `name` now (`forced`: whether or not it is due), if no one else is running it.
    pub async fn run_once(&self, name: &str, forced: bool) -> anyhow::Result<Outcome> {
        let source = self
            .source(name)
            .ok_or_else(|| anyhow::anyhow!("no sync source named '{name}'"))?;
        let Ok(_running) = source.running.try_lock() else {
            return Ok(Outcome::Busy {
                holder: Some(self.holder.clone()),
            });
        };
        let now = crate::model::now();
        let until = now + chrono_span(self.lease_ttl);
        if !self
            .store
            .take_sync_lease(name, &self.holder, now, until)
            .await?
        {
            let holder = self.record_of(name).await?.and_then(|r| r.lease_holder);
            return Ok(Outcome::Busy { holder });
        }
        let mut state = self
            .record_of(name)
            .await?
            .map(|r| SourceState::parse(&r.state))
            .unwrap_or_default();
        // Checked again under the lease: another replica may have just finished this run.
        if !forced && Self::next_due(source, &state).is_none_or(|due| due > now) {
            self.store
                .save_sync_state(name, &self.holder, &state.to_json(), true)
                .await?;
            return Ok(Outcome::NotDue);
        }
        let started = std::time::Instant::now();
        let mut report = RunReport {
            holder: self.holder.clone(),
            started_at: Some(now),
            ..Default::default()
        };
        let ctx = RunCtx {
            syncer: self,
            source,
        };
        let result = match source.config.kind {
            SourceKind::Registry => registry::run(&ctx, &mut state, &mut report).await,
            SourceKind::File | SourceKind::Git => {
                snapshot::run(&ctx, &mut state, &mut report).await
            }
        };
        let finished = crate::model::now();
        report.finished_at = Some(finished);
        report.duration_ms = started.elapsed().as_millis() as u64;
        if let Err(e) = &result {
            report.error = Some(format!("{e:#}"));
            tracing::warn!(source = name, error = %format!("{e:#}"), "sync run failed");
        } else {
            state.last_success = Some(finished);
            tracing::info!(
                source = name,
                added = report.added,
                updated = report.updated,
                deleted = report.deleted,
                rejected = report.rejected,
                conflicts = report.conflicts,
                ms = report.duration_ms,
                "sync run done"
            );
        }
        state.runs += 1;
        state.last_run = Some(report.clone());
        self.metrics.record(name, &report, state.last_success);
        if !self
            .store
            .save_sync_state(name, &self.holder, &state.to_json(), true)
            .await?
        {
            tracing::warn!(
                source = name,
                "the lease was lost before the run's state was saved"
            );
        }
        Ok(Outcome::Ran { report })
    }

    /// Every source's status, from the store (what any replica would answer).
    pub async fn status(&self) -> anyhow::Result<Vec<SourceStatus>> {
        let records = self.store.sync_sources().await?;
        let now = crate::model::now();
        Ok(self
            .sources
            .iter()
            .map(|s| {
                let rec = records.iter().find(|r| r.name == s.config.name);
                let state = rec
                    .map(|r| SourceState::parse(&r.state))
                    .unwrap_or_default();
                let running = rec.is_some_and(|r| r.leased_at(now));
                SourceStatus {
                    name: s.config.name.clone(),
                    kind: s.config.kind,
                    interval_seconds: s.config.interval.as_secs(),
                    lease_holder: rec.filter(|_| running).and_then(|r| r.lease_holder.clone()),
                    running,
                    high_water: state.high_water,
                    revision: state.revision.clone(),
                    resuming: state.in_progress.is_some(),
                    next_run: Self::next_due(s, &state).map(|t| t.max(now)),
                    last_run: state.last_run,
                    last_success: state.last_success,
                    runs: state.runs,
                }
            })
            .collect())
    }
}
