//! Concurrency: parallel publishes and status changes keep the invariants; cursor walks stay exact.

use super::*;

contract_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn hundred_parallel_publishes_of_one_version_succeed_once(k) {
        let s = store(k).await;
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let st = s.store.clone();
                tokio::spawn(async move {
                    st.publish(new_version(&server("com.example/race", "1.0.0")))
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        let mut duplicate = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::Rejected(Rejection::DuplicateVersion { .. })) => duplicate += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!((ok, duplicate), (1, 99));
        assert_eq!(s.versions("com.example/race", true).await.unwrap().len(), 1);
    }
}

contract_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn parallel_publishes_of_different_versions_leave_one_latest(k) {
        let s = store(k).await;
        let tasks: Vec<_> = (0..60)
            .map(|i| {
                let st = s.store.clone();
                tokio::spawn(async move {
                    st.publish(new_version(&server(
                        "com.example/many",
                        &format!("1.{}.{}", i % 7, i),
                    )))
                    .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(latest_versions(&s, "com.example/many").await, ["1.6.55"]);
    }
}

contract_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_status_changes_and_publishes_keep_exactly_one_latest(k) {
        let s = store(k).await;
        for i in 0..10 {
            publish(&s, "com.example/mix", &format!("2.0.{i}")).await;
        }
        let mut tasks = Vec::new();
        for i in 0..10 {
            let st = s.store.clone();
            tasks.push(tokio::spawn(async move {
                let status = if i % 2 == 0 {
                    Status::Deleted
                } else {
                    Status::Deprecated
                };
                let _ = st
                    .set_status(
                        "com.example/mix",
                        Some(&format!("2.0.{i}")),
                        &change(status, None),
                    )
                    .await;
            }));
            let st = s.store.clone();
            tasks.push(tokio::spawn(async move {
                st.publish(new_version(&server("com.example/mix", &format!("3.0.{i}"))))
                    .await
                    .unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(latest_versions(&s, "com.example/mix").await, ["3.0.9"]);
    }
}

contract_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn cursor_walk_has_no_duplicates_or_gaps_while_data_changes(k) {
        let s = store(k).await;
        let mut present = BTreeSet::new();
        for i in 0..40 {
            let name = format!("com.example/s{:02}", i);
            for v in ["1.0.0", "1.1.0"] {
                publish(&s, &name, v).await;
                present.insert((name.clone(), v.to_owned()));
            }
        }
        // A writer adds versions (and servers) while a reader pages through.
        let writer = {
            let st = s.store.clone();
            tokio::spawn(async move {
                for i in 0..40 {
                    st.publish(new_version(&server(
                        &format!("com.example/s{:02}", i),
                        "2.0.0",
                    )))
                    .await
                    .unwrap();
                    st.publish(new_version(&server(
                        &format!("com.example/t{:02}", i),
                        "1.0.0",
                    )))
                    .await
                    .unwrap();
                    tokio::task::yield_now().await;
                }
            })
        };
        let mut seen: Vec<(String, String)> = Vec::new();
        let mut after = None;
        loop {
            let page = s
                .list(&ListQuery {
                    after: after.clone(),
                    ..q(7)
                })
                .await
                .unwrap();
            seen.extend(page.iter().map(|r| (r.name.clone(), r.version.clone())));
            if page.len() < 7 {
                break;
            }
            after = page.last().map(|r| Cursor {
                name: r.name.clone(),
                version: Some(r.version.clone()),
            });
        }
        writer.await.unwrap();
        let unique: BTreeSet<_> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "a row was returned twice");
        assert!(
            seen.windows(2).all(
                |w| (w[0].0.as_bytes(), w[0].1.as_bytes()) < (w[1].0.as_bytes(), w[1].1.as_bytes())
            ),
            "pages are not in order"
        );
        let missing: Vec<_> = present.difference(&unique).collect();
        assert!(
            missing.is_empty(),
            "rows present before the walk were skipped: {missing:?}"
        );
    }
}

/// Replicas starting at once each run the migrations: together they apply every one exactly once, and each
/// reports only what it applied itself (the e2e drill reads these reports from the init containers).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_migrators_apply_and_report_each_migration_once() {
    use mcp_registry::store::Store;
    let opts = common::postgres_options().await;
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let store = mcp_registry::store::PostgresStore::connect_lazy(opts.clone(), None, 2);
            tokio::spawn(async move { store.migrate().await.unwrap() })
        })
        .collect();
    let mut reported = Vec::new();
    for t in tasks {
        reported.push(t.await.unwrap());
    }
    let all: Vec<i64> = reported.iter().flatten().copied().collect();
    let distinct: std::collections::BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "reported twice: {reported:?}");
    let store = mcp_registry::store::PostgresStore::connect_lazy(opts, None, 2);
    let known: std::collections::BTreeSet<i64> = store
        .schema_state()
        .await
        .unwrap()
        .known
        .into_iter()
        .collect();
    assert_eq!(distinct, known, "{reported:?}");
}
