//! Storage: one [`Store`] trait, several backends, one contract (`tests/store_contract/`) run on each.
//!
//! Every backend keeps the same invariants, whatever the concurrency:
//! - `(name, version)` is unique forever (deleted rows count), so versions are immutable;
//! - at most one row per name has `is_latest` (a unique partial index where the backend has them);
//! - writes to one server name are serialized (advisory lock, single writer, or a lock document), and
//!   the decision of what to write is made by the pure planners in [`plan`], identical for all backends.

pub mod layers;
pub mod liveness;
pub mod mongo;
pub mod plan;
pub mod sql;
pub mod synced;

/// The SQL stores under their familiar paths.
pub use sql::{PostgresStore, SqliteStore, postgres, sqlite};
pub use synced::{Applied, OwnedVersion, SourceRecord, SyncedVersion};

use crate::model::{ServerRecord, Status};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub type StoreResult<T> = Result<T, StoreError>;
/// A read of one version: the record, or `None` when there is no such version.
pub type Found = StoreResult<Option<ServerRecord>>;
/// Several versions: a listing, a server's versions, the versions a status change rewrote.
pub type Records = StoreResult<Vec<ServerRecord>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The addressed server or version does not exist (or is hidden). The text is the API's 404 detail.
    #[error("{0}")]
    NotFound(String),
    /// A write that the registry's rules refuse; the API answers 400 with the reason's text.
    #[error("{0}")]
    Rejected(#[from] Rejection),
    /// The backend could not be reached or failed; the API answers 5xx/503 and hides the cause from clients.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The request a write ran for ended (its client left, or it timed out) before the write committed, so
    /// it was not committed ([`liveness`]). Nobody is waiting for this answer; it is not a store failure.
    #[error("the request ended before the write was committed")]
    Abandoned,
    /// A failure that retrying will not fix, e.g. a migration the database refuses (missing privileges).
    #[error("{0}")]
    Fatal(String),
}

/// Why a write was refused. The texts are the official registry's (the API's 400 details).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// `(name, version)` exists already (deleted versions count: versions are never reused).
    #[error("invalid version: cannot publish duplicate version: {name}@{version} already exists")]
    DuplicateVersion { name: String, version: String },
    /// The server has [`crate::model::MAX_VERSIONS_PER_SERVER`] versions.
    #[error(
        "maximum number of versions for this server reached ({max}): please reach out at \
         https://github.com/modelcontextprotocol/registry to explain your use case"
    )]
    TooManyVersions { max: usize },
    /// A status change of one version that changes neither its status nor its message.
    #[error("No changes to apply: status and message are already set to the provided values")]
    NoChanges,
    /// A status change of all versions that would change none of them (a message sent with `active`
    /// ends up here too, as officially).
    #[error("No changes to apply: all versions already have the requested status and message")]
    NoChangesInAnyVersion,
    /// A `statusMessage` sent with status `active` (one version).
    #[error("status_message cannot be provided when setting status to active")]
    MessageWithActive,
    /// A local publish or edit of a name that a sync source owns (the API answers 409).
    #[error(
        "server {name} is synced from source '{owner}' and owned by it: publish it to that source \
         instead (see GET /v0.1/admin/sync)"
    )]
    OwnedBySource { name: String, owner: String },
}

impl Rejection {
    /// Status rules are answered with the rule as the 400 detail; the other rejections are the cause
    /// of the operation's failure ("Failed to publish server" with the reason in `errors`).
    pub fn is_status_rule(&self) -> bool {
        matches!(
            self,
            Rejection::NoChanges | Rejection::NoChangesInAnyVersion | Rejection::MessageWithActive
        )
    }
}

impl StoreError {
    pub fn unavailable(e: impl std::fmt::Display) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Filters of `GET /servers`; all combine with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// Start strictly after this `(name, version)`; `version` `None` means "after every version of name".
    pub after: Option<Cursor>,
    pub limit: usize,
    /// Case-insensitive substring of the name; `%`, `_` and `\` match literally.
    pub search: Option<String>,
    /// Only rows whose `updated_at` is strictly later.
    pub updated_since: Option<DateTime<Utc>>,
    pub version: Option<VersionFilter>,
    pub include_deleted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum VersionFilter {
    Latest,
    Exact(String),
}

/// Position of the last row of a page. The wire form is the official `<name>:<version>`; a cursor with
/// no `:` is a name-only lower bound: the page starts at the first name strictly greater than it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub name: String,
    pub version: Option<String>,
}

impl Cursor {
    pub fn parse(s: &str) -> Cursor {
        // Names never contain ':', versions may: split at the first one.
        match s.split_once(':') {
            Some((name, version)) => Cursor {
                name: name.to_owned(),
                version: Some(version.to_owned()),
            },
            None => Cursor {
                name: s.to_owned(),
                version: None,
            },
        }
    }

    pub fn of(record: &ServerRecord) -> String {
        format!("{}:{}", record.name, record.version)
    }
}

/// A version to insert; `server_json` is already validated and normalized.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub name: String,
    pub version: String,
    pub server_json: String,
}

impl NewVersion {
    /// The version to insert for a validated body, as it is stored (`POST /publish`, edit, import).
    pub fn from_stored(stored: &crate::validation::Stored) -> NewVersion {
        NewVersion {
            name: stored.name().to_owned(),
            version: stored.version().to_owned(),
            server_json: stored.value().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewStatus {
    pub status: Status,
    pub message: Option<String>,
}

/// Which row `get` addresses.
#[derive(Debug, Clone, PartialEq)]
pub enum VersionRef {
    Latest,
    Exact(String),
}

impl VersionRef {
    pub fn from_path(v: &str) -> Self {
        if v == "latest" {
            VersionRef::Latest
        } else {
            VersionRef::Exact(v.to_owned())
        }
    }
}

/// What `/readyz` and `migrate status` need to know about the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaState {
    pub applied: Vec<i64>,
    pub known: Vec<i64>,
}

impl SchemaState {
    pub fn pending(&self) -> Vec<i64> {
        self.known
            .iter()
            .filter(|v| !self.applied.contains(v))
            .copied()
            .collect()
    }
    pub fn is_current(&self) -> bool {
        self.pending().is_empty()
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite`, `postgres` or `mongodb`, for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Apply pending migrations (idempotent, safe when run concurrently). Returns the versions applied now.
    async fn migrate(&self) -> StoreResult<Vec<i64>>;
    /// Reachability plus which migrations are applied.
    async fn schema_state(&self) -> StoreResult<SchemaState>;

    /// One page of rows ordered by `(name, version)` in byte order, at most `q.limit` long.
    async fn list(&self, q: &ListQuery) -> Records;
    /// Every version of `name`, newest `published_at` first.
    async fn versions(&self, name: &str, include_deleted: bool) -> Records;
    async fn get(&self, name: &str, version: &VersionRef, include_deleted: bool) -> Found;

    /// Insert a new version and move `is_latest` as [`plan::plan_publish`] decides, atomically.
    async fn publish(&self, new: NewVersion) -> StoreResult<ServerRecord>;
    /// Replace the server.json of an existing, non-deleted version (admin edit); metadata is kept.
    async fn edit(&self, new: NewVersion) -> StoreResult<ServerRecord>;
    /// Change the status of one version (`Some(version)`) or of all versions (`None`), all-or-nothing,
    /// then recompute `is_latest`. Returns the changed row, or every version of the server for `None`.
    async fn set_status(&self, name: &str, version: Option<&str>, change: &NewStatus) -> Records;

    /// Insert or update one version owned by `source` as it reports it, then recompute `is_latest`
    /// ([`synced`] describes the rules). Idempotent.
    async fn apply_synced(&self, source: &str, v: &SyncedVersion) -> StoreResult<Applied>;
    /// Every version `source` owns, ordered by `(name, version)`.
    async fn owned_versions(&self, source: &str) -> StoreResult<Vec<OwnedVersion>>;
    /// Take (or renew) the lease of `source` for `holder` until `until`: succeeds when the lease is free,
    /// expired at `now`, or already `holder`'s. Creates the source's record on first use.
    async fn take_sync_lease(
        &self,
        source: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Save the state of `source` if `holder` still holds its lease (`false` otherwise: the lease was lost
    /// and the state is not written); `release` frees the lease in the same write.
    async fn save_sync_state(
        &self,
        source: &str,
        holder: &str,
        state: &str,
        release: bool,
    ) -> StoreResult<bool>;
    /// Every source's record, ordered by name.
    async fn sync_sources(&self) -> StoreResult<Vec<SourceRecord>>;
}

pub type DynStore = Arc<dyn Store>;

/// `%`, `_` and `\` in a search term match literally.
pub fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for c in term.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}
