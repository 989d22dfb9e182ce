//! Reads: get, list (order, cursors, filters, search) and versions, with deleted and deprecated rows.

use super::*;

contract_test! {
    async fn get_exact_latest_and_missing(k) {
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
}

contract_test! {
    async fn deleted_rows_are_hidden_unless_asked_for(k) {
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
}

contract_test! {
    async fn deprecated_rows_stay_visible(k) {
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
}

contract_test! {
    async fn list_is_in_byte_order_of_name_then_version(k) {
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
}

contract_test! {
    async fn cursor_starts_strictly_after_and_name_only_cursor_skips_the_name(k) {
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
}

contract_test! {
    async fn search_is_case_insensitive_substring_with_literal_wildcards(k) {
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
}

contract_test! {
    async fn version_filters_latest_and_exact(k) {
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
}

contract_test! {
    async fn updated_since_is_strictly_later_and_sees_status_changes(k) {
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
}

contract_test! {
    async fn versions_are_newest_first(k) {
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
}
