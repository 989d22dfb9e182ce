//! Federation: versions owned by a sync source (applied idempotently, moving `is_latest`, refusing local
//! writes and other sources) and the per-source lease and state.

use super::*;
use chrono::{DateTime, Duration as Span, Utc};
use mcp_registry::store::{Applied, SyncedVersion};

fn synced(name: &str, version: &str, status: Status, at: i64) -> SyncedVersion {
    SyncedVersion {
        name: name.into(),
        version: version.into(),
        server_json: server(name, version).to_string(),
        status,
        status_message: (status != Status::Active).then(|| format!("{status} upstream")),
        published_at: DateTime::from_timestamp(at, 0).unwrap(),
        upstream_updated_at: DateTime::from_timestamp(at + 1, 0),
    }
}

contract_test! {
    async fn synced_versions_are_applied_once_and_move_latest(k) {
        let s = store(k).await;
        let v1 = synced("com.example/up", "1.0.0", Status::Active, 1_700_000_000);
        let v2 = synced("com.example/up", "2.0.0", Status::Active, 1_700_000_100);
        assert_eq!(s.apply_synced("upstream", &v1).await.unwrap(), Applied::Added);
        assert_eq!(s.apply_synced("upstream", &v1).await.unwrap(), Applied::Unchanged);
        assert_eq!(s.apply_synced("upstream", &v2).await.unwrap(), Applied::Added);
        assert_eq!(latest_versions(&s, "com.example/up").await, ["2.0.0"]);
        let got = s.get("com.example/up", &VersionRef::Exact("1.0.0".into()), false).await.unwrap().unwrap();
        assert_eq!(got.published_at, v1.published_at, "the upstream's publishedAt is kept");
        assert_eq!(got.source.as_deref(), Some("upstream"));
        assert_eq!(got.source_updated_at, v1.upstream_updated_at);
        assert!(got.updated_at > v1.published_at, "updated_at is this registry's own time of the change");

        // Deleted upstream: the status moves, the flag goes to the remaining version.
        let gone = synced("com.example/up", "2.0.0", Status::Deleted, 1_700_000_100);
        assert_eq!(s.apply_synced("upstream", &gone).await.unwrap(), Applied::Updated);
        assert_eq!(latest_versions(&s, "com.example/up").await, ["1.0.0"]);
        let r = s.get("com.example/up", &VersionRef::Exact("2.0.0".into()), true).await.unwrap().unwrap();
        assert_eq!((r.status, r.status_message.as_deref()), (Status::Deleted, Some("deleted upstream")));
        assert_eq!(s.apply_synced("upstream", &gone).await.unwrap(), Applied::Unchanged);

        // A changed document is an update; a version first seen deleted is kept, deleted.
        let mut edited = v1.clone();
        edited.server_json = server("com.example/up", "1.0.0").to_string().replace("A test server", "Edited upstream");
        assert_eq!(s.apply_synced("upstream", &edited).await.unwrap(), Applied::Updated);
        let born_deleted = synced("com.example/up", "0.9.0", Status::Deleted, 1_600_000_000);
        assert_eq!(s.apply_synced("upstream", &born_deleted).await.unwrap(), Applied::Added);
        assert!(s.get("com.example/up", &VersionRef::Exact("0.9.0".into()), false).await.unwrap().is_none());

        let owned: Vec<(String, Status)> = s.owned_versions("upstream").await.unwrap()
            .into_iter().map(|o| (o.version, o.status)).collect();
        assert_eq!(owned, [("0.9.0".to_owned(), Status::Deleted), ("1.0.0".into(), Status::Active), ("2.0.0".into(), Status::Deleted)]);
        assert!(s.owned_versions("other").await.unwrap().is_empty());
    }
}

contract_test! {
    async fn an_owned_name_refuses_local_writes_and_other_sources(k) {
        let s = store(k).await;
        let v1 = synced("com.example/owned", "1.0.0", Status::Active, 1_700_000_000);
        s.apply_synced("upstream", &v1).await.unwrap();
        let e = s.publish(new_version(&server("com.example/owned", "2.0.0"))).await.unwrap_err();
        assert!(matches!(e, StoreError::Rejected(Rejection::OwnedBySource { ref owner, .. }) if owner == "upstream"), "{e}");
        let e = s.edit(new_version(&server("com.example/owned", "1.0.0"))).await.unwrap_err();
        assert!(matches!(e, StoreError::Rejected(Rejection::OwnedBySource { .. })), "{e}");
        let other = synced("com.example/owned", "3.0.0", Status::Active, 1_700_000_000);
        assert_eq!(s.apply_synced("mirror", &other).await.unwrap(), Applied::Conflict { owner: Some("upstream".into()) });
        publish(&s, "com.example/local", "1.0.0").await;
        let claim = synced("com.example/local", "2.0.0", Status::Active, 1_700_000_000);
        assert_eq!(s.apply_synced("upstream", &claim).await.unwrap(), Applied::Conflict { owner: None });
        assert_eq!(s.versions("com.example/local", true).await.unwrap().len(), 1, "nothing merged");
        let page = s.list(&q(10)).await.unwrap();
        assert_eq!(page.len(), 2, "conflicting versions were not written");
    }
}

contract_test! {
    async fn one_holder_per_source_lease_and_only_the_holder_saves(k) {
        let s = store(k).await;
        let now = Utc::now();
        let until = now + Span::seconds(30);
        assert!(s.take_sync_lease("upstream", "replica-a", now, until).await.unwrap());
        assert!(!s.take_sync_lease("upstream", "replica-b", now, until).await.unwrap(), "held");
        assert!(s.take_sync_lease("upstream", "replica-a", now, until).await.unwrap(), "renewal");
        assert!(s.take_sync_lease("other", "replica-b", now, until).await.unwrap(), "per source");
        assert!(!s.save_sync_state("upstream", "replica-b", r#"{"x":1}"#, false).await.unwrap());
        assert!(s.save_sync_state("upstream", "replica-a", r#"{"x":2}"#, false).await.unwrap());
        let recs = s.sync_sources().await.unwrap();
        let names: Vec<&str> = recs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["other", "upstream"]);
        assert_eq!(recs[1].state, r#"{"x":2}"#);
        assert_eq!(recs[1].lease_holder.as_deref(), Some("replica-a"));
        assert!(recs[1].leased_at(now));
        // Released with the last save: free for anyone.
        assert!(s.save_sync_state("upstream", "replica-a", r#"{"x":3}"#, true).await.unwrap());
        assert!(s.take_sync_lease("upstream", "replica-b", now, until).await.unwrap());
        // An expired lease (its holder died) is taken over.
        let later = until + Span::seconds(1);
        assert!(s.take_sync_lease("upstream", "replica-c", later, later + Span::seconds(30)).await.unwrap());
        assert!(!s.save_sync_state("upstream", "replica-b", "{}", true).await.unwrap(), "the old holder lost it");
        let rec = s.sync_sources().await.unwrap().into_iter().find(|r| r.name == "upstream").unwrap();
        assert_eq!(rec.state, r#"{"x":3}"#);
        assert_eq!(rec.lease_holder.as_deref(), Some("replica-c"));
    }
}

contract_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn racing_replicas_take_a_free_lease_once(k) {
        let s = store(k).await;
        for round in 0..5 {
            let source = format!("race-{round}");
            let now = Utc::now();
            let tries = (0..8).map(|i| {
                let s = s.store.clone();
                let source = source.clone();
                tokio::spawn(async move {
                    s.take_sync_lease(&source, &format!("replica-{i}"), now, now + Span::seconds(30)).await.unwrap()
                })
            });
            let won = futures::future::join_all(tries).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
            assert_eq!(won, 1, "round {round}");
        }
    }
}
