//! The storage contract: every case runs unchanged on every backend (`#[values]` below), so a backend is
//! correct exactly when it passes this file. Add a backend by adding a `Kind`.

mod common;

use common::{Kind, new_version, server, store, with_remote};
use mcp_registry::model::Status;
use mcp_registry::store::{
    Cursor, DynStore, ListQuery, Rejection, StatusChange, StoreError, VersionFilter, VersionRef,
};
use rstest::rstest;
use std::collections::BTreeSet;

async fn publish(s: &DynStore, name: &str, version: &str) -> mcp_registry::model::ServerRecord {
    s.publish(new_version(&server(name, version)))
        .await
        .unwrap()
}

fn q(limit: usize) -> ListQuery {
    ListQuery {
        limit,
        ..Default::default()
    }
}

async fn latest_versions(s: &DynStore, name: &str) -> Vec<String> {
    s.versions(name, true)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.is_latest)
        .map(|r| r.version)
        .collect()
}

fn change(status: Status, message: Option<&str>) -> StatusChange {
    StatusChange {
        status,
        message: message.map(str::to_owned),
    }
}

#[rstest]
#[tokio::test]
async fn first_publish_is_active_latest_with_equal_timestamps(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    let r = publish(&s, "com.example/a", "1.0.0").await;
    assert!(r.is_latest);
    assert_eq!(r.status, Status::Active);
    assert_eq!(r.published_at, r.updated_at);
    assert_eq!(r.published_at, r.status_changed_at);
    assert_eq!(r.status_message, None);
}

#[rstest]
#[tokio::test]
async fn server_json_is_returned_byte_for_byte(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    let text = r#"{"version":"1.0.0","name":"com.example/order","description":"Zeta → alpha ✓","$schema":"x"}"#;
    let nv = mcp_registry::store::NewVersion {
        name: "com.example/order".into(),
        version: "1.0.0".into(),
        server_json: text.into(),
        remote_urls: vec![],
    };
    s.publish(nv).await.unwrap();
    let got = s
        .get("com.example/order", &VersionRef::Latest, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.server_json, text);
}

#[rstest]
#[tokio::test]
async fn latest_follows_semver_not_publish_order(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    publish(&s, "com.example/a", "1.2.0").await;
    assert!(publish(&s, "com.example/a", "1.10.0").await.is_latest);
    assert!(!publish(&s, "com.example/a", "1.9.0").await.is_latest);
    assert!(!publish(&s, "com.example/a", "1.10.0-rc.1").await.is_latest);
    assert!(
        !publish(&s, "com.example/a", "1.10.0+build.5")
            .await
            .is_latest,
        "a build-metadata tie keeps the old latest"
    );
    assert!(
        !publish(&s, "com.example/a", "nightly").await.is_latest,
        "non-semver loses to a semver latest"
    );
    assert_eq!(latest_versions(&s, "com.example/a").await, vec!["1.10.0"]);
    let l = s
        .get("com.example/a", &VersionRef::Latest, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(l.version, "1.10.0");
}

#[rstest]
#[tokio::test]
async fn non_semver_versions_take_latest_by_publish_time(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    publish(&s, "com.example/n", "build-b").await;
    assert!(publish(&s, "com.example/n", "build-a").await.is_latest);
    assert_eq!(latest_versions(&s, "com.example/n").await, vec!["build-a"]);
}

#[rstest]
#[tokio::test]
async fn duplicate_versions_are_refused_even_when_deleted(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    publish(&s, "com.example/a", "1.0.0").await;
    let e = s
        .publish(new_version(&server("com.example/a", "1.0.0")))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Rejected(Rejection::DuplicateVersion)),
        "{e}"
    );
    s.set_status(
        "com.example/a",
        Some("1.0.0"),
        &change(Status::Deleted, None),
    )
    .await
    .unwrap();
    let e = s
        .publish(new_version(&server("com.example/a", "1.0.0")))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Rejected(Rejection::DuplicateVersion)),
        "{e}"
    );
}

#[rstest]
#[tokio::test]
async fn get_exact_latest_and_missing(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    publish(&s, "com.example/a", "1.0.0").await;
    publish(&s, "com.example/a", "2.0.0").await;
    let one = s
        .get("com.example/a", &VersionRef::Exact("1.0.0".into()), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.version, "1.0.0");
    assert!(!one.is_latest);
    assert!(
        s.get("com.example/a", &VersionRef::Exact("3.0.0".into()), false)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get("com.example/zzz", &VersionRef::Latest, false)
            .await
            .unwrap()
            .is_none()
    );
}

#[rstest]
#[tokio::test]
async fn deleted_rows_are_hidden_unless_asked_for(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    publish(&s, "com.example/a", "1.0.0").await;
    s.set_status(
        "com.example/a",
        Some("1.0.0"),
        &change(Status::Deleted, Some("bad")),
    )
    .await
    .unwrap();
    assert!(
        s.get("com.example/a", &VersionRef::Latest, false)
            .await
            .unwrap()
            .is_none()
    );
    let hidden = s
        .get("com.example/a", &VersionRef::Latest, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hidden.status, Status::Deleted);
    assert!(
        hidden.is_latest,
        "when every version is deleted the highest keeps the flag"
    );
    assert!(s.versions("com.example/a", false).await.unwrap().is_empty());
    assert_eq!(s.versions("com.example/a", true).await.unwrap().len(), 1);
    assert!(s.list(&q(10)).await.unwrap().is_empty());
    assert_eq!(
        s.list(&ListQuery {
            include_deleted: true,
            ..q(10)
        })
        .await
        .unwrap()
        .len(),
        1
    );
}

#[rstest]
#[tokio::test]
async fn deprecated_rows_stay_visible(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    publish(&s, "com.example/a", "1.0.0").await;
    s.set_status(
        "com.example/a",
        Some("1.0.0"),
        &change(Status::Deprecated, Some("use b")),
    )
    .await
    .unwrap();
    let r = s
        .get("com.example/a", &VersionRef::Latest, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, Status::Deprecated);
    assert_eq!(r.status_message.as_deref(), Some("use b"));
    assert_eq!(s.list(&q(10)).await.unwrap().len(), 1);
}

#[rstest]
#[tokio::test]
async fn list_is_in_byte_order_of_name_then_version(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    for (n, v) in [
        ("com.example/b", "1.9.0"),
        ("com.example/b", "1.10.0"),
        ("com.example/B", "1.0.0"),
        ("com.example/a-z", "1.0.0"),
        ("com.example/a", "2.0.0"),
    ] {
        publish(&s, n, v).await;
    }
    let got: Vec<(String, String)> = s
        .list(&q(100))
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.version))
        .collect();
    let mut want = got.clone();
    want.sort_by(|a, b| (a.0.as_bytes(), a.1.as_bytes()).cmp(&(b.0.as_bytes(), b.1.as_bytes())));
    assert_eq!(got, want);
    assert_eq!(got[0].0, "com.example/B");
    assert_eq!(
        got.iter()
            .filter(|(n, _)| n == "com.example/b")
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>(),
        ["1.10.0", "1.9.0"]
    );
}

#[rstest]
#[tokio::test]
async fn cursor_starts_strictly_after_and_name_only_cursor_skips_the_name(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    for (n, v) in [
        ("com.example/a", "1.0.0"),
        ("com.example/a", "2.0.0"),
        ("com.example/b", "1.0.0"),
    ] {
        publish(&s, n, v).await;
    }
    let after = |name: &str, v: Option<&str>| ListQuery {
        after: Some(Cursor {
            name: name.into(),
            version: v.map(str::to_owned),
        }),
        ..q(10)
    };
    let page = s
        .list(&after("com.example/a", Some("1.0.0")))
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|r| r.version.as_str()).collect::<Vec<_>>(),
        ["2.0.0", "1.0.0"]
    );
    let page = s.list(&after("com.example/a", None)).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].name, "com.example/b");
}

#[rstest]
#[tokio::test]
async fn search_is_case_insensitive_substring_with_literal_wildcards(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    for n in [
        "com.example/Weather-Tool",
        "com.example/my_tool",
        "com.example/myxtool",
        "org.other/files",
    ] {
        publish(&s, n, "1.0.0").await;
    }
    let search = |t: &str| ListQuery {
        search: Some(t.into()),
        ..q(100)
    };
    let names = |rows: Vec<mcp_registry::model::ServerRecord>| {
        rows.into_iter().map(|r| r.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(s.list(&search("weather")).await.unwrap()),
        ["com.example/Weather-Tool"]
    );
    assert_eq!(
        names(s.list(&search("MY_")).await.unwrap()),
        ["com.example/my_tool"],
        "_ is not a wildcard"
    );
    assert!(
        s.list(&search("%")).await.unwrap().is_empty(),
        "% is not a wildcard"
    );
    assert!(s.list(&search("\\")).await.unwrap().is_empty());
    assert_eq!(s.list(&search("com.example")).await.unwrap().len(), 3);
}

#[rstest]
#[tokio::test]
async fn version_filters_latest_and_exact(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    for (n, v) in [
        ("com.example/a", "1.0.0"),
        ("com.example/a", "2.0.0"),
        ("com.example/b", "1.0.0"),
    ] {
        publish(&s, n, v).await;
    }
    let latest = s
        .list(&ListQuery {
            version: Some(VersionFilter::Latest),
            ..q(10)
        })
        .await
        .unwrap();
    assert_eq!(
        latest
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str()))
            .collect::<Vec<_>>(),
        [("com.example/a", "2.0.0"), ("com.example/b", "1.0.0")]
    );
    let exact = s
        .list(&ListQuery {
            version: Some(VersionFilter::Exact("1.0.0".into())),
            ..q(10)
        })
        .await
        .unwrap();
    assert_eq!(exact.len(), 2);
}

#[rstest]
#[tokio::test]
async fn updated_since_is_strictly_later_and_sees_status_changes(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    let a = publish(&s, "com.example/a", "1.0.0").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let b = publish(&s, "com.example/b", "1.0.0").await;
    let since = |t| ListQuery {
        updated_since: Some(t),
        include_deleted: true,
        ..q(10)
    };
    let rows = s.list(&since(a.updated_at)).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["com.example/b"]
    );
    assert!(s.list(&since(b.updated_at)).await.unwrap().is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    s.set_status(
        "com.example/a",
        Some("1.0.0"),
        &change(Status::Deleted, None),
    )
    .await
    .unwrap();
    let rows = s.list(&since(b.updated_at)).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, Status::Deleted);
}

#[rstest]
#[tokio::test]
async fn versions_are_newest_first(#[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind) {
    let s = store(k).await;
    for v in ["2.0.0", "1.0.0", "3.0.0"] {
        publish(&s, "com.example/a", v).await;
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let vs: Vec<String> = s
        .versions("com.example/a", false)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.version)
        .collect();
    assert_eq!(vs, ["3.0.0", "1.0.0", "2.0.0"]);
}

#[rstest]
#[tokio::test]
async fn status_changes_move_timestamps_as_the_official_server(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    let r0 = publish(&s, "com.example/a", "1.0.0").await;
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let r1 = s
        .set_status(
            "com.example/a",
            Some("1.0.0"),
            &change(Status::Deprecated, Some("old")),
        )
        .await
        .unwrap()
        .remove(0);
    assert!(r1.status_changed_at > r0.status_changed_at);
    assert!(r1.updated_at > r0.updated_at);
    assert!(r1.is_latest, "a deprecated version can still be latest");
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    let r2 = s
        .set_status(
            "com.example/a",
            Some("1.0.0"),
            &change(Status::Deprecated, Some("older")),
        )
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        r2.status_changed_at, r1.status_changed_at,
        "message-only change keeps statusChangedAt"
    );
    assert!(r2.updated_at > r1.updated_at);
    let r3 = s
        .set_status(
            "com.example/a",
            Some("1.0.0"),
            &change(Status::Active, None),
        )
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        r3.status_message, None,
        "moving to active clears the message"
    );
}

#[rstest]
#[tokio::test]
async fn unchanged_status_and_missing_targets(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    publish(&s, "com.example/a", "1.0.0").await;
    let e = s
        .set_status(
            "com.example/a",
            Some("1.0.0"),
            &change(Status::Active, None),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Rejected(Rejection::NoChanges)),
        "{e}"
    );
    let e = s
        .set_status("com.example/a", None, &change(Status::Active, None))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Rejected(Rejection::NoChanges)),
        "{e}"
    );
    assert!(matches!(
        s.set_status(
            "com.example/a",
            Some("9.9.9"),
            &change(Status::Deleted, None)
        )
        .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.set_status("com.example/none", None, &change(Status::Deleted, None))
            .await,
        Err(StoreError::NotFound(_))
    ));
}

#[rstest]
#[tokio::test]
async fn deleting_the_latest_moves_the_flag_and_restoring_moves_it_back(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    for v in ["1.0.0", "2.0.0", "1.5.0"] {
        publish(&s, "com.example/a", v).await;
    }
    s.set_status(
        "com.example/a",
        Some("2.0.0"),
        &change(Status::Deleted, None),
    )
    .await
    .unwrap();
    assert_eq!(latest_versions(&s, "com.example/a").await, ["1.5.0"]);
    s.set_status(
        "com.example/a",
        Some("1.5.0"),
        &change(Status::Deprecated, None),
    )
    .await
    .unwrap();
    assert_eq!(latest_versions(&s, "com.example/a").await, ["1.5.0"]);
    s.set_status(
        "com.example/a",
        Some("2.0.0"),
        &change(Status::Active, None),
    )
    .await
    .unwrap();
    assert_eq!(latest_versions(&s, "com.example/a").await, ["2.0.0"]);
}

#[rstest]
#[tokio::test]
async fn a_tie_keeps_the_flag_where_it_is(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    publish(&s, "com.example/tie", "1.0.0+b").await;
    assert!(!publish(&s, "com.example/tie", "1.0.0+a").await.is_latest);
    s.set_status(
        "com.example/tie",
        Some("1.0.0+b"),
        &change(Status::Deprecated, None),
    )
    .await
    .unwrap();
    assert_eq!(
        latest_versions(&s, "com.example/tie").await,
        ["1.0.0+b"],
        "equal precedence: the holder keeps it"
    );
}

#[rstest]
#[tokio::test]
async fn bulk_status_returns_every_version_and_is_all_or_nothing(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    s.publish(new_version(&with_remote(
        "com.example/a",
        "1.0.0",
        "https://a.example.com/mcp",
    )))
    .await
    .unwrap();
    publish(&s, "com.example/a", "2.0.0").await;
    let all = s
        .set_status(
            "com.example/a",
            None,
            &change(Status::Deleted, Some("retired")),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|r| r.status == Status::Deleted));
    // Another server takes the URL while a's versions are deleted; restoring all of a must then fail
    // as a whole, leaving every row as it was.
    s.publish(new_version(&with_remote(
        "com.example/b",
        "1.0.0",
        "https://a.example.com/mcp",
    )))
    .await
    .unwrap();
    let e = s
        .set_status("com.example/a", None, &change(Status::Active, None))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e}");
    let rows = s.versions("com.example/a", true).await.unwrap();
    assert!(
        rows.iter()
            .all(|r| r.status == Status::Deleted && r.status_message.as_deref() == Some("retired"))
    );
}

#[rstest]
#[tokio::test]
async fn remote_urls_are_unique_across_server_names(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    let url = "https://mcp.example.com/sse";
    s.publish(new_version(&with_remote("com.example/a", "1.0.0", url)))
        .await
        .unwrap();
    s.publish(new_version(&with_remote("com.example/a", "1.1.0", url)))
        .await
        .expect("same name may reuse");
    let e = s
        .publish(new_version(&with_remote("com.example/b", "1.0.0", url)))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Rejected(Rejection::RemoteUrlTaken { url: u, other }) if u == url && other == "com.example/a"),
        "{e}"
    );
    s.set_status("com.example/a", None, &change(Status::Deleted, None))
        .await
        .unwrap();
    s.publish(new_version(&with_remote("com.example/b", "1.0.0", url)))
        .await
        .expect("deleting frees the URL");
    let e = s
        .set_status(
            "com.example/a",
            Some("1.0.0"),
            &change(Status::Active, None),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Rejected(_)),
        "restore re-checks the URL: {e}"
    );
    s.set_status(
        "com.example/a",
        Some("1.0.0"),
        &change(Status::Deprecated, None),
    )
    .await
    .expect("deleted → deprecated does not re-check");
}

#[rstest]
#[tokio::test]
async fn edit_replaces_the_document_and_keeps_metadata(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    let r0 = publish(&s, "com.example/a", "1.0.0").await;
    let mut doc = server("com.example/a", "1.0.0");
    doc["description"] = "edited".into();
    let r1 = s.edit(new_version(&doc)).await.unwrap();
    assert!(r1.server_json.contains("edited"));
    assert_eq!(r1.published_at, r0.published_at);
    assert!(r1.updated_at >= r0.updated_at);
    assert!(r1.is_latest);
    s.set_status(
        "com.example/a",
        Some("1.0.0"),
        &change(Status::Deleted, None),
    )
    .await
    .unwrap();
    assert!(
        matches!(
            s.edit(new_version(&doc)).await,
            Err(StoreError::NotFound(_))
        ),
        "restore before editing"
    );
    assert!(matches!(
        s.edit(new_version(&server("com.example/a", "7.0.0"))).await,
        Err(StoreError::NotFound(_))
    ));
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_parallel_publishes_of_one_version_succeed_once(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
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
            Err(StoreError::Rejected(Rejection::DuplicateVersion)) => duplicate += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((ok, duplicate), (1, 99));
    assert_eq!(s.versions("com.example/race", true).await.unwrap().len(), 1);
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_publishes_of_different_versions_leave_one_latest(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
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

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_status_changes_and_publishes_keep_exactly_one_latest(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
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

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cursor_walk_has_no_duplicates_or_gaps_while_data_changes(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
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

#[rstest]
#[tokio::test]
async fn migrations_are_current_and_idempotent(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let s = store(k).await;
    let state = s.schema_state().await.unwrap();
    assert!(state.is_current(), "{state:?}");
    assert!(!state.known.is_empty());
    assert!(
        s.migrate().await.unwrap().is_empty(),
        "a second migrate applies nothing"
    );
}
