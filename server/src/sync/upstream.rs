//! Walking an upstream MCP Registry API (v0.1: the official registry, another of ours, ToolHive's) page by
//! page, incrementally: `GET /v0.1/servers?updated_since=<mark>&include_deleted=true&limit=N`, following
//! `metadata.nextCursor`, so status changes (deprecated, deleted) and new versions arrive, not only new
//! servers. Each page is handed to the caller before the next is fetched, so memory stays flat in the
//! number of servers; everything is bounded (request timeout, page and item counts, body size per page).
//!
//! Every entry is checked with the registry's own structure rules; one that fails is reported with its
//! reason and the walk goes on. The high-water mark of a walk is the newest `updatedAt` it saw: the next
//! walk asks for changes after it.

use crate::model::OFFICIAL_META_KEY;
use crate::validation;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub page_size: usize,
    pub max_pages: usize,
    pub max_items: usize,
    /// Largest page body accepted.
    pub max_page_bytes: usize,
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            page_size: 100,
            max_pages: 10_000,
            max_items: 1_000_000,
            max_page_bytes: 16 * 1024 * 1024,
            timeout: Duration::from_secs(30),
        }
    }
}

/// One upstream version with what the upstream registry says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The server.json, without the upstream's `_meta` official block.
    pub server: Value,
    pub name: String,
    pub version: String,
    pub status: String,
    pub status_message: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The upstream's `isLatest` when the page was read.
    pub is_latest: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Entry(Entry),
    /// An entry that cannot be taken, and why (the walk goes on).
    Rejected {
        name: String,
        version: String,
        reason: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub pages: usize,
    pub entries: usize,
    pub rejected: usize,
    /// The newest `updatedAt` seen: the next walk's `updated_since`.
    pub high_water: Option<DateTime<Utc>>,
    /// The walk stopped at a bound before the end of the listing.
    pub truncated: bool,
}

fn time_at(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Reads one element of `servers[]`.
pub fn item_of(element: &Value) -> Item {
    let mut server = element["server"].clone();
    let official = &element["_meta"][OFFICIAL_META_KEY];
    let name = server["name"].as_str().unwrap_or_default().to_owned();
    let version = server["version"].as_str().unwrap_or_default().to_owned();
    let reject = |reason: String| Item::Rejected {
        name: name.clone(),
        version: version.clone(),
        reason,
    };
    if !server.is_object() {
        return reject("no server object".into());
    }
    // The upstream's own registry metadata is not part of what its publisher sent.
    if let Some(meta) = server.get_mut("_meta").and_then(Value::as_object_mut) {
        meta.remove(OFFICIAL_META_KEY);
        if meta.is_empty() {
            server
                .as_object_mut()
                .expect("checked above")
                .remove("_meta");
        }
    }
    let errors = validation::check_structure(&server, "server");
    if let Some(e) = errors.first() {
        return reject(format!("{}: {}", e.location, e.message));
    }
    let Some(updated_at) = time_at(&official["updatedAt"]) else {
        return reject("no _meta official updatedAt".into());
    };
    let status = official["status"].as_str().unwrap_or("active").to_owned();
    if !["active", "deprecated", "deleted"].contains(&status.as_str()) {
        return reject(format!("unknown status {status:?}"));
    }
    Item::Entry(Entry {
        server,
        name,
        version,
        status,
        status_message: official["statusMessage"].as_str().map(str::to_owned),
        updated_at,
        published_at: time_at(&official["publishedAt"]),
        is_latest: official["isLatest"].as_bool().unwrap_or(false),
    })
}

/// One page of a walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// Where the walk continues after this page (`None`: this was the last page). A walk resumed with it
    /// (and the same `since`) brings the rest.
    pub next_cursor: Option<String>,
}

/// A walk of `base` from `since`, pulled page by page with [`Walker::next`].
pub struct Walker<'a> {
    http: &'a reqwest::Client,
    base: String,
    since: Option<DateTime<Utc>>,
    limits: Limits,
    cursor: Option<String>,
    done: bool,
    pub summary: Summary,
    /// The upstream's clock (`Date` header) at its first answer: every change after it may have been
    /// missed by this walk (pages are ordered by name, not time), so the next walk must start before it.
    pub upstream_time: Option<DateTime<Utc>>,
}

impl<'a> Walker<'a> {
    /// Starts at `cursor` (a resumed walk) or at the beginning.
    pub fn new(
        http: &'a reqwest::Client,
        base: &str,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
        limits: Limits,
    ) -> Self {
        Walker {
            http,
            base: base.trim_end_matches('/').to_owned(),
            since,
            limits,
            cursor,
            done: false,
            summary: Summary::default(),
            upstream_time: None,
        }
    }

    /// The next page, or `None` at the end of the listing or at a bound (`summary.truncated`).
    pub async fn next(&mut self) -> anyhow::Result<Option<Page>> {
        let limits = self.limits;
        if self.done {
            return Ok(None);
        }
        if self.summary.pages >= limits.max_pages
            || self.summary.entries + self.summary.rejected >= limits.max_items
        {
            self.summary.truncated = true;
            self.done = true;
            return Ok(None);
        }
        let mut query: Vec<(&str, String)> = vec![
            ("limit", limits.page_size.to_string()),
            ("include_deleted", "true".into()),
        ];
        if let Some(t) = self.since {
            query.push((
                "updated_since",
                t.to_rfc3339_opts(SecondsFormat::Micros, true),
            ));
        }
        if let Some(c) = &self.cursor {
            query.push(("cursor", c.clone()));
        }
        let base = &self.base;
        let url = url::Url::parse_with_params(&format!("{base}/v0.1/servers"), &query)
            .map_err(|e| anyhow::anyhow!("{base}: not a URL: {e}"))?
            .to_string();
        let mut resp = self
            .http
            .get(&url)
            .timeout(limits.timeout)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{url}: {}", mcp_registry_client::error_chain(&e)))?;
        if !resp.status().is_success() {
            anyhow::bail!("{url}: HTTP {}", resp.status().as_u16());
        }
        if self.upstream_time.is_none() {
            self.upstream_time = resp
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|d| d.to_str().ok())
                .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
                .map(|t| t.with_timezone(&Utc));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| anyhow::anyhow!("{url}: {}", mcp_registry_client::error_chain(&e)))?
        {
            body.extend_from_slice(&chunk);
            anyhow::ensure!(
                body.len() <= limits.max_page_bytes,
                "{url}: a page over {} bytes",
                limits.max_page_bytes
            );
        }
        let doc: Value =
            serde_json::from_slice(&body).map_err(|e| anyhow::anyhow!("{url}: not JSON: {e}"))?;
        let items: Vec<Item> = doc["servers"]
            .as_array()
            .ok_or_else(|| anyhow::anyhow!("{url}: no servers list"))?
            .iter()
            .map(item_of)
            .collect();
        self.summary.pages += 1;
        for i in &items {
            match i {
                Item::Entry(e) => {
                    self.summary.entries += 1;
                    self.summary.high_water = self.summary.high_water.max(Some(e.updated_at));
                }
                Item::Rejected { .. } => self.summary.rejected += 1,
            }
        }
        let next_cursor = match doc["metadata"]["nextCursor"].as_str() {
            Some(c) if !c.is_empty() && !items.is_empty() => Some(c.to_owned()),
            _ => None,
        };
        self.done = next_cursor.is_none();
        self.cursor = next_cursor.clone();
        Ok(Some(Page { items, next_cursor }))
    }
}

/// Walks `base` from `since` to the end (or a bound), calling `page` with each page's items in order.
pub async fn walk<F>(
    http: &reqwest::Client,
    base: &str,
    since: Option<DateTime<Utc>>,
    limits: Limits,
    mut page: F,
) -> anyhow::Result<Summary>
where
    F: FnMut(Vec<Item>),
{
    let mut walker = Walker::new(http, base, since, None, limits);
    while let Some(p) = walker.next().await? {
        page(p.items);
    }
    Ok(walker.summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_carry_the_upstream_state_and_bad_ones_their_reason() {
        let good = json!({"server": {"$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            "name": "com.example/a", "description": "d", "version": "1.0.0",
            "_meta": {OFFICIAL_META_KEY: {"x": 1}}},
            "_meta": {OFFICIAL_META_KEY: {"status": "deprecated", "statusMessage": "old",
              "updatedAt": "2026-12-01T10:00:00Z", "publishedAt": "2026-11-01T10:00:00Z"}}});
        let Item::Entry(e) = item_of(&good) else {
            panic!()
        };
        assert_eq!(
            (e.name.as_str(), e.version.as_str(), e.status.as_str()),
            ("com.example/a", "1.0.0", "deprecated")
        );
        assert!(
            e.server.get("_meta").is_none(),
            "the upstream's official block is not the publisher's"
        );
        let bad = json!({"server": {"name": "x", "version": "1"}, "_meta": {OFFICIAL_META_KEY: {"updatedAt": "2026-12-01T10:00:00Z"}}});
        let Item::Rejected { reason, .. } = item_of(&bad) else {
            panic!()
        };
        assert!(reason.starts_with("server"), "{reason}");
        let no_time = json!({"server": good["server"].clone(), "_meta": {}});
        assert!(matches!(item_of(&no_time), Item::Rejected { .. }));
    }
}
