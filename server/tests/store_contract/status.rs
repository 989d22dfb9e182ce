//! Status changes: timestamps, refusals, the latest flag moving with deletes and restores, bulk changes.

use super::*;

contract_test! {
    async fn status_changes_move_timestamps_as_the_official_server(k) {
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
}

contract_test! {
    async fn unchanged_status_and_missing_targets(k) {
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
            matches!(&e, StoreError::Rejected(Rejection::NoChangesInAnyVersion)),
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
}

contract_test! {
    async fn deleting_the_latest_moves_the_flag_and_restoring_moves_it_back(k) {
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
}

contract_test! {
    async fn a_tie_keeps_the_flag_where_it_is(k) {
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
}

contract_test! {
    async fn bulk_status_returns_every_version_and_is_all_or_nothing(k) {
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
        // A change no version accepts (a message with `active`) is refused as a whole: every row stays.
        let e = s
            .set_status("com.example/a", None, &change(Status::Active, Some("back")))
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Rejected(Rejection::NoChangesInAnyVersion)), "{e}");
        let rows = s.versions("com.example/a", true).await.unwrap();
        assert!(
            rows.iter()
                .all(|r| r.status == Status::Deleted && r.status_message.as_deref() == Some("retired"))
        );
    }
}

contract_test! {
    async fn a_message_with_active_is_refused_and_nothing_changes(k) {
        let s = store(k).await;
        publish(&s, "com.example/a", "1.0.0").await;
        let dep = s
            .set_status("com.example/a", Some("1.0.0"), &change(Status::Deprecated, Some("old")))
            .await
            .unwrap()
            .remove(0);
        let back = change(Status::Active, Some("back"));
        let e = s.set_status("com.example/a", Some("1.0.0"), &back).await.unwrap_err();
        assert!(matches!(&e, StoreError::Rejected(Rejection::MessageWithActive)), "{e}");
        let e = s.set_status("com.example/a", None, &back).await.unwrap_err();
        assert!(matches!(&e, StoreError::Rejected(Rejection::NoChangesInAnyVersion)), "{e}");
        let now = s
            .get("com.example/a", &VersionRef::Exact("1.0.0".into()), true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((now.status, now.status_message, now.updated_at), (dep.status, dep.status_message, dep.updated_at));
    }
}
