//! Reading and writing the stored documents: field decoding with precise errors, timestamps in
//! microseconds, and the query fragments every reader uses.

use crate::model::{ServerRecord, Status};
use crate::store::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use mongodb::bson::{Document, doc};
use std::str::FromStr;

pub(super) fn db_err(e: mongodb::error::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(super) fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == 11000,
        ErrorKind::Command(c) => c.code == 11000,
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .is_some_and(|w| w.iter().any(|x| x.code == 11000)),
        _ => e.to_string().contains("E11000"),
    }
}

pub(super) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(super) fn time_of(d: &Document, key: &str) -> StoreResult<DateTime<Utc>> {
    let us = d
        .get_i64(key)
        .map_err(|e| StoreError::Unavailable(format!("{key}: {e}")))?;
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| StoreError::Unavailable(format!("{key} out of range")))
}

pub(super) fn str_of(d: &Document, key: &str) -> StoreResult<String> {
    d.get_str(key)
        .map(str::to_owned)
        .map_err(|e| StoreError::Unavailable(format!("{key}: {e}")))
}

pub(super) fn opt_str(d: &Document, key: &str) -> Option<String> {
    d.get_str(key).ok().map(str::to_owned)
}

pub(super) fn record(d: &Document, latest: Option<&str>) -> StoreResult<ServerRecord> {
    let version = str_of(d, "version")?;
    Ok(ServerRecord {
        name: str_of(d, "name")?,
        is_latest: latest == Some(version.as_str()),
        version,
        server_json: str_of(d, "server_json")?,
        status: Status::from_str(&str_of(d, "status")?).map_err(StoreError::Unavailable)?,
        status_message: opt_str(d, "status_message"),
        published_at: time_of(d, "published_at")?,
        updated_at: time_of(d, "updated_at")?,
        status_changed_at: time_of(d, "status_changed_at")?,
        source: opt_str(d, "source"),
        source_updated_at: d
            .get_i64("source_updated_at")
            .ok()
            .and_then(DateTime::from_timestamp_micros),
    })
}

/// A regex matching `term` literally, case-insensitively (the official search is a plain substring).
pub(super) fn literal_regex(term: &str) -> String {
    let mut out = String::with_capacity(term.len() * 2);
    for c in term.chars() {
        if "\\^$.|?*+()[]{}-/#&~ ".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn not_deleted() -> Document {
    doc! { "status": { "$ne": "deleted" } }
}
