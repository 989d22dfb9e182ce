//! What the stores keep for federation ([`crate::sync`]): versions owned by a sync source, and one record
//! per source with its lease and persisted state.
//!
//! - **Ownership.** A server name synced from a source is owned by it: every version of the name carries
//!   the source's name. Local publishes and edits of an owned name are refused
//!   ([`super::Rejection::OwnedBySource`]), and a second source claiming a name another owns (or one
//!   published here) is answered [`Applied::Conflict`], reported by the sync run, never merged.
//! - **Applying** a synced version is idempotent: the same version with the same document, status and
//!   message changes nothing ([`Applied::Unchanged`]), so a run that is repeated after a crash neither
//!   duplicates nor loses anything. `published_at` is the upstream's; `updated_at` is this registry's own
//!   time of the change, so registries that sync from this one see every change after their mark.
//! - **The lease** of a source: a holder and an expiry in the source's record. Taking it succeeds when it
//!   is free, expired or already the caller's; state is saved only by the current holder.

use crate::model::Status;
use chrono::{DateTime, Utc};

/// A version as a sync source reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncedVersion {
    pub name: String,
    pub version: String,
    /// The validated, normalized server.json as compact JSON text (what `publish` would store).
    pub server_json: String,
    pub status: Status,
    pub status_message: Option<String>,
    /// The upstream's `publishedAt`; sources without one (files, git) pass the time they first saw it.
    pub published_at: DateTime<Utc>,
    /// The upstream's `updatedAt` (registry sources), shown as provenance.
    pub upstream_updated_at: Option<DateTime<Utc>>,
}

/// What applying one synced version did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Added,
    Updated,
    Unchanged,
    /// The name is owned by someone else: another source (its name) or this registry (`None`).
    Conflict {
        owner: Option<String>,
    },
    /// A rule of the registry refuses it (e.g. the server already has the maximum number of versions).
    Refused {
        reason: String,
    },
}

/// A version a source owns, as the file and git sources compare it with their current contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedVersion {
    pub name: String,
    pub version: String,
    pub status: Status,
}

/// The stored record of one sync source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub name: String,
    pub lease_holder: Option<String>,
    pub lease_expires: Option<DateTime<Utc>>,
    /// The source's persisted state as JSON ([`crate::sync::SourceState`]).
    pub state: String,
}

impl SourceRecord {
    /// Held by a live holder at `now`.
    pub fn leased_at(&self, now: DateTime<Utc>) -> bool {
        self.lease_holder.is_some() && self.lease_expires.is_some_and(|t| t > now)
    }
}
