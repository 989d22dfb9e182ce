//! The real data set: 358 server.json entries from the official registry's seed (tests/fixtures/sync),
//! published to one of our registries through its API, then synced to another.

use super::*;
use rstest::rstest;

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_seed_syncs_completely(#[values(Kind::Sqlite, Kind::Postgres)] kind: Kind) {
    let seed: Vec<Value> =
        serde_json::from_str(include_str!("../fixtures/sync/seed-2025-09-29.json")).unwrap();
    assert_eq!(seed.len(), 358);
    let up = TestServer::start_with(kind, |c| c.rate_limit.enabled = false).await;
    let mut accepted = 0;
    for mut entry in seed {
        // The seed predates the required `$schema`.
        entry["$schema"] = Value::String(crate::common::SCHEMA.into());
        let (st, body) = up.publish(Some(ADMIN_TOKEN), &entry).await;
        match st {
            StatusCode::OK => accepted += 1,
            // Entries the official rules of today refuse stay out of both registries.
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {}
            other => panic!("{other}: {body}"),
        }
    }
    assert!(
        accepted >= 200,
        "only {accepted} of 358 real entries were accepted upstream"
    );
    let down = downstream(kind, registry_source("official-seed", &up.base)).await;
    let r = run_ok(&down, "official-seed").await;
    assert_eq!(counts(&r), (accepted, 0, 0), "{r}");
    assert_eq!(
        (r["rejected"].as_u64(), r["conflicts"].as_u64()),
        (Some(0), Some(0)),
        "{r}"
    );
    assert_eq!(
        listing(&down).await,
        listing(&up).await,
        "byte-for-byte the same documents"
    );
    let r = run_ok(&down, "official-seed").await;
    assert_eq!(counts(&r), (0, 0, 0), "{r}");
}
