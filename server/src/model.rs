//! The registry's domain types: one stored server version and the response envelopes of the official API.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::fmt;
use std::str::FromStr;

/// The `_meta` key under which the registry (never the publisher) reports status and timestamps.
pub const OFFICIAL_META_KEY: &str = "io.modelcontextprotocol.registry/official";
/// The `_meta` key under which a version synced from another registry, file or git repository carries its
/// provenance (which source owns it, the upstream's own `updatedAt`). Absent on versions published here.
pub const SYNC_META_KEY: &str = "io.github.mcp-registry/sync";
/// Each server name can hold at most this many versions, whatever their status (official limit).
pub const MAX_VERSIONS_PER_SERVER: usize = 10_000;
/// `statusMessage` longer than this is rejected (huma `maxLength`; also the status body's structure rule).
pub const MAX_STATUS_MESSAGE_CHARS: usize = 500;
/// Longest server name (the official `maxLength`): a `search` longer than this can match nothing.
pub const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Deprecated,
    Deleted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Deprecated => "deprecated",
            Status::Deleted => "deleted",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Status::Active),
            "deprecated" => Ok(Status::Deprecated),
            "deleted" => Ok(Status::Deleted),
            other => Err(format!(
                "invalid status '{other}': expected one of active, deprecated, deleted"
            )),
        }
    }
}

/// One published version of a server, as stored (and as the read cache keeps it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerRecord {
    pub name: String,
    pub version: String,
    /// The normalized server.json, as compact JSON text (kept as text so list responses need no re-parse).
    pub server_json: String,
    pub status: Status,
    pub status_message: Option<String>,
    pub published_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub status_changed_at: DateTime<Utc>,
    pub is_latest: bool,
    /// The sync source that owns this version (`sync.sources[].name`); `None` when published here.
    #[serde(default)]
    pub source: Option<String>,
    /// The upstream's `updatedAt` of this version when it was last synced (registry sources only).
    #[serde(default)]
    pub source_updated_at: Option<DateTime<Utc>>,
}

/// Provenance of a synced version, under `_meta["io.github.mcp-registry/sync"]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyncMeta {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_updated_at: Option<String>,
}

/// Registry-managed metadata, reported under `_meta["io.modelcontextprotocol.registry/official"]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OfficialMeta {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    pub status_changed_at: String,
    pub published_at: String,
    pub updated_at: String,
    pub is_latest: bool,
}

#[derive(Serialize)]
struct ResponseMeta {
    #[serde(rename = "io.modelcontextprotocol.registry/official")]
    official: OfficialMeta,
    #[serde(
        rename = "io.github.mcp-registry/sync",
        skip_serializing_if = "Option::is_none"
    )]
    sync: Option<SyncMeta>,
}

/// `ServerResponse` of the API: `{"server": …, "_meta": {"io.modelcontextprotocol.registry/official": …}}`.
#[derive(Serialize)]
pub struct ServerResponse<'a> {
    server: &'a RawValue,
    #[serde(rename = "_meta")]
    meta: ResponseMeta,
}

impl ServerRecord {
    pub fn official_meta(&self) -> OfficialMeta {
        OfficialMeta {
            status: self.status,
            status_message: self.status_message.clone(),
            status_changed_at: format_time(self.status_changed_at),
            published_at: format_time(self.published_at),
            updated_at: format_time(self.updated_at),
            is_latest: self.is_latest,
        }
    }

    /// The response envelope; borrows the stored JSON text instead of re-parsing it.
    pub fn response(&self) -> ServerResponse<'_> {
        let server: &RawValue = serde_json::from_str(&self.server_json)
            .unwrap_or_else(|_| serde_json::from_str("null").expect("null is JSON"));
        ServerResponse {
            server,
            meta: ResponseMeta {
                official: self.official_meta(),
                sync: self.source.as_ref().map(|source| SyncMeta {
                    source: source.clone(),
                    upstream_updated_at: self.source_updated_at.map(format_time),
                }),
            },
        }
    }

    pub fn response_json(&self) -> serde_json::Value {
        serde_json::to_value(self.response()).expect("response serializes")
    }
}

/// Timestamps as Go's RFC3339Nano renders them: UTC `Z`, fractional seconds without trailing zeros.
pub fn format_time(t: DateTime<Utc>) -> String {
    let micros = t.timestamp_subsec_micros();
    let base = t.to_rfc3339_opts(SecondsFormat::Secs, true);
    if micros == 0 {
        return base;
    }
    let frac = format!("{micros:06}");
    let frac = frac.trim_end_matches('0');
    format!("{}.{frac}Z", base.trim_end_matches('Z'))
}

/// Current time truncated to microseconds, the precision every store keeps.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).expect("in range")
}

/// `{"servers": […], "metadata": {"nextCursor"?, "count"}}`.
#[derive(Serialize)]
pub struct ServerList<'a> {
    pub servers: Vec<ServerResponse<'a>>,
    pub metadata: ListMetadata,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ListMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub count: usize,
}

impl<'a> ServerList<'a> {
    pub fn new(records: &'a [ServerRecord], next_cursor: Option<String>) -> Self {
        ServerList {
            servers: records.iter().map(ServerRecord::response).collect(),
            metadata: ListMetadata {
                next_cursor,
                count: records.len(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format_trims_trailing_zeros_like_go() {
        let t = DateTime::parse_from_rfc3339("2025-01-02T03:04:05.120000Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_time(t), "2025-01-02T03:04:05.12Z");
        let t = DateTime::parse_from_rfc3339("2025-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(format_time(t), "2025-01-02T03:04:05Z");
    }

    #[test]
    fn response_nests_official_meta() {
        let t = now();
        let r = ServerRecord {
            name: "com.example/a".into(),
            version: "1.0.0".into(),
            server_json: r#"{"name":"com.example/a","version":"1.0.0"}"#.into(),
            status: Status::Active,
            status_message: None,
            published_at: t,
            updated_at: t,
            status_changed_at: t,
            is_latest: true,
            source: None,
            source_updated_at: None,
        };
        let v = r.response_json();
        assert_eq!(v["server"]["name"], "com.example/a");
        let meta = &v["_meta"][OFFICIAL_META_KEY];
        assert_eq!(meta["status"], "active");
        assert_eq!(meta["isLatest"], true);
        assert!(meta.get("statusMessage").is_none());
        assert!(
            v["_meta"].get(SYNC_META_KEY).is_none(),
            "published here: no provenance"
        );
        let synced = ServerRecord {
            source: Some("upstream".into()),
            source_updated_at: Some(t),
            ..r
        };
        let v = synced.response_json();
        assert_eq!(v["_meta"][SYNC_META_KEY]["source"], "upstream");
        assert_eq!(
            v["_meta"][SYNC_META_KEY]["upstreamUpdatedAt"],
            format_time(t)
        );
    }
}
