//! Taking one upstream version into the store: the source's filters, the structure rules, the apply,
//! and the count of what happened — the same for every kind of source.

use super::state::RunReport;
use crate::config::{SourceConfig, VersionsPolicy, glob_matches};
use crate::model::Status;
use crate::store::{Applied, DynStore, StoreResult, SyncedVersion, VersionRef};
use crate::validation;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// A version as a source reports it, before filters and checks.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub server: Value,
    pub name: String,
    pub version: String,
    pub status: Status,
    pub status_message: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub upstream_updated_at: Option<DateTime<Utc>>,
    pub is_latest: bool,
}

/// Whether the source's name globs select `name`.
pub fn name_selected(cfg: &SourceConfig, name: &str) -> bool {
    (cfg.include.is_empty() || cfg.include.iter().any(|g| glob_matches(g, name)))
        && !cfg.exclude.iter().any(|g| glob_matches(g, name))
}

/// What became of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// In the store as the source reports it (added, updated or unchanged).
    Kept,
    Filtered,
    Rejected,
    Conflict,
}

/// Filter, check and apply one candidate, counting the outcome in `report`.
pub async fn take(
    store: &DynStore,
    cfg: &SourceConfig,
    c: Candidate,
    report: &mut RunReport,
) -> StoreResult<Taken> {
    if !name_selected(cfg, &c.name) {
        report.filtered += 1;
        return Ok(Taken::Filtered);
    }
    // Status and latest-only filters decide which versions come in; a version already taken follows
    // every change (its deletion upstream must arrive).
    let wanted =
        cfg.statuses.contains(&c.status) && (cfg.versions == VersionsPolicy::All || c.is_latest);
    if !wanted {
        let present = store
            .get(&c.name, &VersionRef::Exact(c.version.clone()), true)
            .await?
            .is_some_and(|r| r.source.as_deref() == Some(cfg.name.as_str()));
        if !present {
            report.filtered += 1;
            return Ok(Taken::Filtered);
        }
    }
    let errors = validation::check_structure(&c.server, "server");
    let stored = validation::Stored::of(&c.server);
    let reason = match errors.first() {
        Some(e) => Some(format!("{}: {}", e.location, e.message)),
        None => stored.check_publisher_meta_size().err(),
    };
    if let Some(reason) = reason {
        report.rejected += 1;
        report.problem(&c.name, &c.version, reason);
        return Ok(Taken::Rejected);
    }
    let v = SyncedVersion {
        name: stored.name().to_owned(),
        version: stored.version().to_owned(),
        server_json: stored.value().to_string(),
        status: c.status,
        status_message: c.status_message,
        published_at: c.published_at.unwrap_or_else(crate::model::now),
        upstream_updated_at: c.upstream_updated_at,
    };
    Ok(match store.apply_synced(&cfg.name, &v).await? {
        Applied::Added => {
            report.added += 1;
            Taken::Kept
        }
        Applied::Updated if v.status == Status::Deleted => {
            report.deleted += 1;
            Taken::Kept
        }
        Applied::Updated => {
            report.updated += 1;
            Taken::Kept
        }
        Applied::Unchanged => {
            report.unchanged += 1;
            Taken::Kept
        }
        Applied::Conflict { owner } => {
            report.conflicts += 1;
            let owner = match owner {
                Some(o) => format!("source '{o}'"),
                None => "this registry (published here)".to_owned(),
            };
            report.problem(&v.name, &v.version, format!("the name is owned by {owner}"));
            Taken::Conflict
        }
        Applied::Refused { reason } => {
            report.rejected += 1;
            report.problem(&v.name, &v.version, reason);
            Taken::Rejected
        }
    })
}
