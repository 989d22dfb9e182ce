//! The upstream walker against a real upstream (one of ours, on every backend): every version with its
//! status arrives through the pages, and a walk from the high-water mark brings exactly what changed since.

use crate::common::http::{ADMIN_TOKEN, PUBLISHER_TOKEN, TestServer};
use crate::common::{Kind, server};
use mcp_registry::sync::upstream::{self, Item, Limits};
use reqwest::{Method, StatusCode};
use rstest::rstest;
use serde_json::json;

async fn walk_all(
    base: &str,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> (Vec<upstream::Entry>, upstream::Summary) {
    let http = reqwest::Client::new();
    let mut got = Vec::new();
    let limits = Limits {
        page_size: 3,
        ..Limits::default()
    };
    let summary = upstream::walk(&http, base, since, limits, |items| {
        for i in items {
            match i {
                Item::Entry(e) => got.push(e),
                Item::Rejected { reason, .. } => panic!("rejected: {reason}"),
            }
        }
    })
    .await
    .unwrap();
    (got, summary)
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_brings_every_version_and_then_only_the_changes(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] kind: Kind,
) {
    let up = TestServer::start(kind).await;
    for n in 0..4 {
        for v in ["1.0.0", "1.1.0"] {
            let (st, body) = up
                .publish(
                    Some(PUBLISHER_TOKEN),
                    &server(&format!("com.example/s{n}"), v),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{body}");
        }
    }
    let status = |name: &str, version: &str, status: &str| {
        let path = format!("/v0.1/servers/com.example%2F{name}/versions/{version}/status");
        let body = json!({"status": status});
        let up = &up;
        async move {
            let (st, v, _) = up
                .req(Method::PATCH, &path, Some(ADMIN_TOKEN), Some(&body))
                .await;
            assert_eq!(st, StatusCode::OK, "{v}");
        }
    };
    status("s1", "1.0.0", "deprecated").await;
    status("s2", "1.1.0", "deleted").await;

    let (all, summary) = walk_all(&up.base, None).await;
    assert_eq!(all.len(), 8, "every version, deleted ones included");
    assert_eq!(summary.pages, 3, "8 entries in pages of 3");
    let of = |n: &str, v: &str| {
        all.iter()
            .find(|e| e.name == n && e.version == v)
            .unwrap()
            .status
            .clone()
    };
    assert_eq!(of("com.example/s1", "1.0.0"), "deprecated");
    assert_eq!(of("com.example/s2", "1.1.0"), "deleted");
    let mark = summary.high_water.unwrap();

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    status("s3", "1.0.0", "deprecated").await;
    up.publish(Some(PUBLISHER_TOKEN), &server("com.example/s9", "1.0.0"))
        .await;
    let (changed, summary) = walk_all(&up.base, Some(mark)).await;
    let mut got: Vec<(String, String, String)> = changed
        .into_iter()
        .map(|e| (e.name, e.version, e.status))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("com.example/s3".into(), "1.0.0".into(), "deprecated".into()),
            ("com.example/s9".into(), "1.0.0".into(), "active".into()),
        ],
        "exactly what changed after the mark"
    );
    assert!(summary.high_water.unwrap() > mark);
}
