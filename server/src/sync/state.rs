//! What a source's record keeps between runs (in the store, so every replica sees it and a restart
//! resumes): the high-water mark, an unfinished walk's position, the revision a file or git source last
//! applied, and the figures of the last run.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceState {
    /// `registry`: the newest upstream `updatedAt` of every completed walk; the next walk asks for the
    /// changes after it (less [`super::registry::OVERLAP`]).
    pub high_water: Option<DateTime<Utc>>,
    /// `registry`: a walk that stopped before its end (upstream failure, a bound, a crash): the next run
    /// continues it from the page after the last one applied.
    pub in_progress: Option<Progress>,
    /// `file`, `git`: the content (sha256) or commit last applied completely.
    pub revision: Option<String>,
    pub last_run: Option<RunReport>,
    /// The end of the last run that finished without error.
    pub last_success: Option<DateTime<Utc>>,
    pub runs: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    pub since: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
    /// The newest `updatedAt` seen by the walk so far.
    pub max_seen: Option<DateTime<Utc>>,
    /// The upstream's clock when the walk's first page was read (see [`super::registry`]).
    pub started: Option<DateTime<Utc>>,
}

/// The figures of one run, as `GET /v0.1/admin/sync` shows them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RunReport {
    pub holder: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: u64,
    pub added: u64,
    pub updated: u64,
    /// Versions that became deleted in this run (upstream deletions, entries gone from a file).
    pub deleted: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// Versions of names owned by another source or published here (not applied).
    pub conflicts: u64,
    /// Entries left out by the source's filters.
    pub filtered: u64,
    /// Requests sent upstream (registry pages, git fetches).
    pub requests: u64,
    /// The run stopped at a bound; the next run continues.
    pub truncated: bool,
    /// The revision applied (file digest, git commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first rejected and conflicting entries with their reasons (at most [`MAX_LISTED`]).
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub name: String,
    pub version: String,
    pub reason: String,
}

/// How many problems a report lists (the counts cover all).
pub const MAX_LISTED: usize = 20;

impl RunReport {
    pub fn problem(&mut self, name: &str, version: &str, reason: String) {
        if self.problems.len() < MAX_LISTED {
            self.problems.push(Problem {
                name: name.to_owned(),
                version: version.to_owned(),
                reason,
            });
        }
    }
}

impl SourceState {
    pub fn parse(text: &str) -> SourceState {
        // A record written by another version of the registry that cannot be read starts afresh: every
        // apply is idempotent, so a full walk repairs rather than duplicates.
        serde_json::from_str(text).unwrap_or_default()
    }
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("state serializes")
    }
}
