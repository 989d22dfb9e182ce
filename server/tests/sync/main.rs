//! Federation against real registries: the upstream walker, then two of our registries chained (every
//! backend), resumption after a bound and an upstream outage, file and git sources, replicas sharing a
//! lease, and the real data set.

#[path = "../common/mod.rs"]
mod common;

mod chain;
mod dataset;
mod replicas;
mod snapshot;
mod walker;

use common::Kind;
use common::http::{ADMIN_TOKEN, TestServer};
use mcp_registry::config::{Config, SourceConfig};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

/// A registry on `kind` syncing from `source` (interval `0s` unless the tweak sets one: runs are then
/// triggered by the test, so the counts of each run are exact).
pub async fn downstream(kind: Kind, source: SourceConfig) -> TestServer {
    downstream_with(kind, source, |_| {}).await
}

pub async fn downstream_with(
    kind: Kind,
    source: SourceConfig,
    tweak: impl FnOnce(&mut Config),
) -> TestServer {
    TestServer::start_with(kind, |c| {
        c.sync.sources = vec![source];
        tweak(c);
    })
    .await
}

pub fn registry_source(name: &str, url: &str) -> SourceConfig {
    SourceConfig {
        name: name.into(),
        url: url.into(),
        interval: Duration::ZERO,
        ..SourceConfig::default()
    }
}

/// `POST /v0.1/admin/sync?source=…&wait=true`: the run's outcome.
pub async fn sync_now(down: &TestServer, source: &str) -> Value {
    let (st, body, _) = down
        .req(
            Method::POST,
            &format!("/v0.1/admin/sync?source={source}&wait=true"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body["sources"][source].clone()
}

/// The report of a run that must have happened without error.
pub async fn run_ok(down: &TestServer, source: &str) -> Value {
    let outcome = sync_now(down, source).await;
    assert_eq!(outcome["outcome"], "ran", "{outcome}");
    let report = outcome["report"].clone();
    assert!(report.get("error").is_none(), "{report}");
    report
}

/// `(added, updated, deleted)` of a report.
pub fn counts(report: &Value) -> (u64, u64, u64) {
    let n = |k: &str| report[k].as_u64().unwrap();
    (n("added"), n("updated"), n("deleted"))
}

/// Every version a registry serves (deleted ones included), as the comparison of two registries needs:
/// `(name, version, status, statusMessage, isLatest, publishedAt, server)`.
pub async fn listing(
    srv: &TestServer,
) -> Vec<(String, String, String, Value, bool, String, Value)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/v0.1/servers?include_deleted=true&limit=100".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", urlencoding(c)));
        }
        let (st, page) = srv.get(&path).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        for e in page["servers"].as_array().unwrap() {
            let m = &e["_meta"]["io.modelcontextprotocol.registry/official"];
            out.push((
                e["server"]["name"].as_str().unwrap().to_owned(),
                e["server"]["version"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
                m["statusMessage"].clone(),
                m["isLatest"].as_bool().unwrap(),
                m["publishedAt"].as_str().unwrap().to_owned(),
                e["server"].clone(),
            ));
        }
        match page["metadata"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Wait (at most `within`) until `down` serves what `up` serves.
pub async fn converges(up: &TestServer, down: &TestServer, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (a, b) = (listing(up).await, listing(down).await);
        if a == b {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            assert_eq!(b, a, "the downstream did not converge within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
