//! Two of our registries chained: the upstream publishes, deprecates, deletes and publishes new versions,
//! the downstream reflects each with exact counts, on every backend; a third registry syncing from the
//! downstream on its own schedule converges too.

use super::*;
use crate::common::http::PUBLISHER_TOKEN;
use crate::common::server;
use rstest::rstest;
use serde_json::json;

async fn set_status(up: &TestServer, name: &str, version: &str, status: &str) {
    let path = format!("/v0.1/servers/com.example%2F{name}/versions/{version}/status");
    let body = json!({"status": status, "statusMessage": format!("{status} by the test")});
    let (st, v, _) = up
        .req(Method::PATCH, &path, Some(ADMIN_TOKEN), Some(&body))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

async fn publish(up: &TestServer, name: &str, version: &str) {
    let (st, body) = up
        .publish(
            Some(PUBLISHER_TOKEN),
            &server(&format!("com.example/{name}"), version),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chained_registry_reflects_every_change_with_exact_counts(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] kind: Kind,
) {
    let up = TestServer::start(kind).await;
    for n in 0..4 {
        for v in ["1.0.0", "1.1.0"] {
            publish(&up, &format!("s{n}"), v).await;
        }
    }
    let mut source = registry_source("upstream", &up.base);
    source.page_size = 3;
    let down = downstream(kind, source).await;
    let r = run_ok(&down, "upstream").await;
    assert_eq!(counts(&r), (8, 0, 0), "{r}");
    assert_eq!(r["requests"], 3, "8 versions in pages of 3: {r}");
    assert_eq!(listing(&down).await, listing(&up).await);

    // Status changes, a deletion of the latest and a new version, all in one interval.
    set_status(&up, "s0", "1.0.0", "deprecated").await;
    set_status(&up, "s1", "1.1.0", "deleted").await;
    publish(&up, "s2", "2.0.0").await;
    let r = run_ok(&down, "upstream").await;
    assert_eq!(counts(&r), (1, 1, 1), "{r}");
    assert_eq!(r["conflicts"], 0);
    let served = listing(&down).await;
    assert_eq!(
        served,
        listing(&up).await,
        "statuses, messages, latest flags and dates as upstream"
    );
    let latest_s1: Vec<_> = served
        .iter()
        .filter(|e| e.0 == "com.example/s1" && e.4)
        .collect();
    assert_eq!(
        latest_s1[0].1, "1.0.0",
        "the deleted latest handed the flag on"
    );

    // Nothing changed: nothing written.
    let r = run_ok(&down, "upstream").await;
    assert_eq!(counts(&r), (0, 0, 0), "{r}");

    // Provenance and ownership.
    let (st, v) = down
        .get("/v0.1/servers/com.example%2Fs0/versions/1.0.0")
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        v["_meta"]["io.github.mcp-registry/sync"]["source"], "upstream",
        "{v}"
    );
    assert!(v["_meta"]["io.github.mcp-registry/sync"]["upstreamUpdatedAt"].is_string());
    let (st, body) = down
        .publish(Some(PUBLISHER_TOKEN), &server("com.example/s0", "9.0.0"))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("source 'upstream'"),
        "{body}"
    );

    // A local server the upstream later publishes too: reported, not merged.
    let (st, _) = down
        .publish(Some(PUBLISHER_TOKEN), &server("com.example/mine", "1.0.0"))
        .await;
    assert_eq!(st, StatusCode::OK);
    publish(&up, "mine", "2.0.0").await;
    let r = run_ok(&down, "upstream").await;
    assert_eq!(
        (counts(&r), r["conflicts"].as_u64()),
        ((0, 0, 0), Some(1)),
        "{r}"
    );
    assert!(
        r["problems"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("published here"),
        "{r}"
    );

    // A third registry, on its own 1s schedule, syncing from the downstream: converges, deletions and all.
    let third = downstream_with(kind, registry_source("down", &down.base), |c| {
        c.sync.sources[0].interval = Duration::from_secs(1);
    })
    .await;
    converges(&down, &third, Duration::from_secs(10)).await;
    set_status(&up, "s3", "1.0.0", "deleted").await;
    run_ok(&down, "upstream").await;
    converges(&down, &third, Duration::from_secs(10)).await;

    // The status endpoint, once the run that brought the deletion has saved its state (the changes
    // become visible before the run ends).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let s = loop {
        let (st, s, _) = third
            .req(Method::GET, "/v0.1/admin/sync", Some(ADMIN_TOKEN), None)
            .await;
        assert_eq!(st, StatusCode::OK);
        if s["sources"][0]["runs"].as_u64().unwrap() >= 2 || tokio::time::Instant::now() > deadline
        {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let src = &s["sources"][0];
    assert_eq!(
        (src["name"].as_str(), src["type"].as_str()),
        (Some("down"), Some("registry")),
        "{s}"
    );
    assert!(src["runs"].as_u64().unwrap() >= 2, "{s}");
    assert!(
        src["lastSuccess"].is_string() && src["nextRun"].is_string(),
        "{s}"
    );
    let (st, _, _) = third
        .req(Method::GET, "/v0.1/admin/sync", Some(PUBLISHER_TOKEN), None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_cut_short_resumes_without_duplicates_or_gaps(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] kind: Kind,
) {
    let up = TestServer::start(kind).await;
    for n in 0..10 {
        publish(&up, &format!("r{n}"), "1.0.0").await;
    }
    // A port that the test can close and reopen: the upstream behind a proxy of ours.
    let proxy = crate::replicas::Proxy::start(up.addr).await;
    let mut source = registry_source("upstream", &format!("http://{}", proxy.addr));
    source.page_size = 2;
    source.max_pages = 2;
    let down = downstream(kind, source).await;

    // A bound stops the first run after 2 pages; it is kept as unfinished.
    let r = run_ok(&down, "upstream").await;
    assert_eq!(
        (counts(&r), r["truncated"].as_bool()),
        ((4, 0, 0), Some(true)),
        "{r}"
    );
    // Meanwhile the upstream changes behind the cursor and ahead of it, then goes away.
    publish(&up, "r0", "2.0.0").await;
    set_status(&up, "r8", "1.0.0", "deprecated").await;
    proxy.cut();
    let outcome = sync_now(&down, "upstream").await;
    let err = outcome["report"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!err.is_empty(), "the upstream is down: {outcome}");
    proxy.restore();
    // Resumed after the last applied page: the rest arrives (r8 deprecated, the 2 pages after the cut).
    let mut added = 4;
    let mut rounds = 0;
    loop {
        let r = run_ok(&down, "upstream").await;
        added += r["added"].as_u64().unwrap();
        rounds += 1;
        if !r["truncated"].as_bool().unwrap() || rounds > 10 {
            break;
        }
    }
    assert_eq!(added, 10, "every version once, none twice");
    assert!(rounds <= 10, "the walk never finished");
    // The change behind the cursor (r0@2.0.0) came after the walk began: the next walk (from before its
    // start) brings it, and only it is new.
    let mut added = 0;
    for _ in 0..10 {
        let r = run_ok(&down, "upstream").await;
        added += r["added"].as_u64().unwrap();
        if !r["truncated"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(added, 1, "r0@2.0.0, once");
    assert_eq!(
        listing(&down).await,
        listing(&up).await,
        "no gap, no duplicate"
    );
}
