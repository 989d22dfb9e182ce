//! Publishing and editing: what is stored and returned, which version is latest, what is refused.

use super::*;

contract_test! {
    async fn first_publish_is_active_latest_with_equal_timestamps(k) {
        let s = store(k).await;
        let r = publish(&s, "com.example/a", "1.0.0").await;
        assert!(r.is_latest);
        assert_eq!(r.status, Status::Active);
        assert_eq!(r.published_at, r.updated_at);
        assert_eq!(r.published_at, r.status_changed_at);
        assert_eq!(r.status_message, None);
    }
}

contract_test! {
    async fn server_json_is_returned_byte_for_byte(k) {
        let s = store(k).await;
        let text = r#"{"version":"1.0.0","name":"com.example/order","description":"Zeta → alpha ✓","$schema":"x"}"#;
        let nv = mcp_registry::store::NewVersion {
            name: "com.example/order".into(),
            version: "1.0.0".into(),
            server_json: text.into(),
        };
        s.publish(nv).await.unwrap();
        let got = s
            .get("com.example/order", &VersionRef::Latest, false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.server_json, text);
    }
}

contract_test! {
    async fn latest_follows_semver_not_publish_order(k) {
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
}

contract_test! {
    async fn non_semver_versions_take_latest_by_publish_time(k) {
        let s = store(k).await;
        publish(&s, "com.example/n", "build-b").await;
        assert!(publish(&s, "com.example/n", "build-a").await.is_latest);
        assert_eq!(latest_versions(&s, "com.example/n").await, vec!["build-a"]);
    }
}

contract_test! {
    async fn duplicate_versions_are_refused_even_when_deleted(k) {
        let s = store(k).await;
        publish(&s, "com.example/a", "1.0.0").await;
        let e = s
            .publish(new_version(&server("com.example/a", "1.0.0")))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::Rejected(Rejection::DuplicateVersion { .. })),
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
            matches!(&e, StoreError::Rejected(Rejection::DuplicateVersion { .. })),
            "{e}"
        );
    }
}

contract_test! {
    async fn several_server_names_may_share_a_remote_url(k) {
        // As the official registry v1.8.9: no uniqueness rule across names, on publish, edit or restore.
        let s = store(k).await;
        let url = "https://mcp.example.com/sse";
        for (name, version) in [("com.example/a", "1.0.0"), ("com.example/a", "1.1.0"), ("com.example/b", "1.0.0")] {
            s.publish(new_version(&with_remote(name, version, url)))
                .await
                .unwrap_or_else(|e| panic!("{name} {version}: {e}"));
        }
        s.set_status("com.example/a", Some("1.0.0"), &change(Status::Deleted, None))
            .await
            .unwrap();
        s.set_status("com.example/a", Some("1.0.0"), &change(Status::Active, None))
            .await
            .expect("a restore is not re-checked either");
        s.edit(new_version(&with_remote("com.example/b", "1.0.0", url)))
            .await
            .expect("nor is an edit");
    }
}

contract_test! {
    async fn edit_replaces_the_document_and_keeps_metadata(k) {
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
}

contract_test! {
    async fn migrations_are_current_and_idempotent(k) {
        let s = store(k).await;
        let state = s.schema_state().await.unwrap();
        assert!(state.is_current(), "{state:?}");
        assert!(!state.known.is_empty());
        assert!(
            s.migrate().await.unwrap().is_empty(),
            "a second migrate applies nothing"
        );
    }
}
