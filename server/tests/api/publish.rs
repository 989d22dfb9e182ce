//! Publish, admin edit and validate: the official envelope, `_meta` handling, the order of checks.

use super::*;

#[rstest]
#[tokio::test]
async fn publish_returns_the_official_envelope(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let srv = TestServer::start(k).await;
    let (st, v) = srv
        .publish(
            Some(PUBLISHER_TOKEN),
            &server("com.example/weather", "1.0.0"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["server"]["name"], "com.example/weather");
    let m = official(&v);
    assert_eq!(m["status"], "active");
    assert_eq!(m["isLatest"], true);
    assert!(m.get("statusMessage").is_none());
    for k in ["publishedAt", "updatedAt", "statusChangedAt"] {
        let t = m[k].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'),
            "{k}={t}"
        );
    }
    assert_eq!(
        v["_meta"].as_object().unwrap().len(),
        1,
        "only the official key in response _meta"
    );
    // Read it back through both prefixes.
    for prefix in ["/v0.1", "/v0"] {
        let (st, got) = srv
            .get(&format!(
                "{prefix}/servers/com.example%2Fweather/versions/1.0.0"
            ))
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(got, v);
    }
    srv.shutdown().await;
}

#[rstest]
#[tokio::test]
async fn publisher_meta_is_kept_and_unknown_keys_are_refused(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    let mut doc = server("com.example/meta", "1.0.0");
    doc["_meta"] =
        json!({"io.modelcontextprotocol.registry/publisher-provided": {"tool": "ci", "n": 1.0}});
    let (st, v) = srv.publish(Some(PUBLISHER_TOKEN), &doc).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["server"]["_meta"],
        json!({"io.modelcontextprotocol.registry/publisher-provided": {"tool": "ci", "n": 1}})
    );
    assert_eq!(official(&v)["isLatest"], true);
    // What is not in the model is refused with its location, never silently dropped: other `_meta` keys
    // (the registry's own included: its metadata never comes from the publisher) and unknown fields.
    for (key, value, location) in [
        (
            "_meta",
            json!({"io.modelcontextprotocol.registry/official": {"isLatest": false}}),
            "body._meta.io.modelcontextprotocol.registry/official",
        ),
        (
            "_meta",
            json!({"com.example": {"x": 1}}),
            "body._meta.com.example",
        ),
        ("unknownField", json!("x"), "body.unknownField"),
    ] {
        let mut doc = server("com.example/meta", "1.1.0");
        doc[key] = value;
        let (st, v) = srv.publish(Some(PUBLISHER_TOKEN), &doc).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(locations(&v), [location], "{v}");
        assert_eq!(v["errors"][0]["message"], "unexpected property");
    }
    let mut big = server("com.example/meta", "2.0.0");
    big["_meta"] =
        json!({"io.modelcontextprotocol.registry/publisher-provided": {"blob": "x".repeat(4100)}});
    let (st, v) = srv.publish(Some(PUBLISHER_TOKEN), &big).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["errors"][0]["message"].as_str().unwrap().contains("4KB"),
        "{v}"
    );
}

#[rstest]
#[tokio::test]
async fn publish_checks_run_in_the_official_order(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    // No Authorization header: a 422 like any missing required field, before auth.
    let (st, v) = srv.publish(None, &server("com.example/app", "1.0.0")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["detail"], "validation failed");
    assert_eq!(locations(&v), ["header.Authorization"]);
    // Missing field and missing header are reported together.
    let (st, v) = srv
        .publish(None, &json!({"version": "1.0.0", "description": "x"}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let locs = locations(&v);
    assert!(
        locs.contains(&"header.Authorization".to_string())
            && locs.iter().any(|l| l.starts_with("body")),
        "{locs:?}"
    );
    // Unknown token: 401.
    let (st, v) = srv
        .publish(Some("wrong"), &server("com.example/app", "1.0.0"))
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    // Namespace not granted: 403 naming the caller's patterns.
    let (st, v) = srv
        .publish(Some(PUBLISHER_TOKEN), &server("org.other/a", "1.0.0"))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(
        v["detail"].as_str().unwrap().contains("com.example/*"),
        "{v}"
    );
    // Exact (non-wildcard) grants match exactly.
    assert_eq!(
        srv.publish(
            Some(PUBLISHER_TOKEN),
            &server("io.github.someone/exact", "1.0.0")
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        srv.publish(
            Some(PUBLISHER_TOKEN),
            &server("io.github.someone/exactly", "1.0.0")
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // Semantic failure (passes the name pattern, fails the semantic rule): 422.
    let (st, v) = srv
        .publish(Some(ADMIN_TOKEN), &server("a/b", "1.0.0"))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // Storage rule: duplicate → 400 with the cause in errors[0].message.
    srv.publish(Some(PUBLISHER_TOKEN), &server("com.example/app", "1.0.0"))
        .await;
    let (st, v) = srv
        .publish(Some(PUBLISHER_TOKEN), &server("com.example/app", "1.0.0"))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["detail"], "Failed to publish server");
    assert_eq!(
        v["errors"][0]["message"],
        "invalid version: cannot publish duplicate version: com.example/app@1.0.0 already exists"
    );
}

#[rstest]
#[tokio::test]
async fn admin_edit(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    srv.publish(Some(PUBLISHER_TOKEN), &server("com.example/ed", "1.0.0"))
        .await;
    let path = "/v0.1/servers/com.example%2Fed/versions/1.0.0";
    let mut doc = server("com.example/ed", "1.0.0");
    doc["description"] = json!("edited by admin");
    assert_eq!(
        srv.req(Method::PUT, path, Some(PUBLISHER_TOKEN), Some(&doc))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (st, v, _) = srv
        .req(Method::PUT, path, Some(ADMIN_TOKEN), Some(&doc))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["server"]["description"], "edited by admin");
    let renamed = server("com.example/other", "1.0.0");
    assert_eq!(
        srv.req(Method::PUT, path, Some(ADMIN_TOKEN), Some(&renamed))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let wrong_version = server("com.example/ed", "1.0.1");
    assert_eq!(
        srv.req(Method::PUT, path, Some(ADMIN_TOKEN), Some(&wrong_version))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    srv.req(Method::DELETE, path, Some(ADMIN_TOKEN), None).await;
    assert_eq!(
        srv.req(Method::PUT, path, Some(ADMIN_TOKEN), Some(&doc))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[rstest]
#[tokio::test]
async fn one_remote_url_under_two_names_is_accepted(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    let url = "https://mcp.example.com/mcp";
    for name in ["com.example/r1", "com.example/r2"] {
        let (st, v) = srv
            .publish(Some(ADMIN_TOKEN), &with_remote(name, "1.0.0", url))
            .await;
        assert_eq!(st, StatusCode::OK, "{name}: {v}");
    }
}

#[rstest]
#[tokio::test]
async fn validate_reports_without_storing(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    let (st, v, _) = srv
        .req(
            Method::POST,
            "/v0.1/validate",
            None,
            Some(&server("com.example/vv", "1.0.0")),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["valid"], true, "{v}");
    let mut bad = server("com.example/vv", "latest");
    bad["description"] = json!("x".repeat(101));
    let (_, v, _) = srv
        .req(Method::POST, "/v0.1/validate", None, Some(&bad))
        .await;
    assert_eq!(v["valid"], false);
    let paths: Vec<&str> = v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.iter().any(|p| p.contains("description"))
            && paths.iter().any(|p| p.contains("version")),
        "{v}"
    );
    assert_eq!(
        srv.get("/v0.1/servers/com.example%2Fvv/versions").await.0,
        StatusCode::NOT_FOUND
    );
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_parallel_http_publishes_one_success(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let srv =
        std::sync::Arc::new(TestServer::start_with(k, |c| c.rate_limit.enabled = false).await);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let srv = srv.clone();
            tokio::spawn(async move {
                srv.publish(Some(ADMIN_TOKEN), &server("com.example/race", "1.0.0"))
                    .await
            })
        })
        .collect();
    let mut codes = std::collections::BTreeMap::new();
    let mut other = None;
    for t in tasks {
        let (st, body) = t.await.unwrap();
        if st != StatusCode::OK && st != StatusCode::BAD_REQUEST {
            other = Some(body);
        }
        *codes.entry(st.as_u16()).or_insert(0) += 1;
    }
    assert_eq!(
        codes,
        [(200, 1), (400, 99)].into_iter().collect(),
        "{other:?}"
    );
}

/// `packageArguments[].value` and `valueHint` keep an explicit "" (a valid command-line argument), as the
/// official model does; other empty optional strings are dropped as Go's `omitempty` drops them.
#[rstest]
#[tokio::test]
async fn empty_strings_are_kept_or_dropped_field_by_field(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let srv = TestServer::start(k).await;
    let mut doc = server("com.example/empty", "1.0.0");
    doc["websiteUrl"] = json!("");
    doc["packages"] = json!([{
        "registryType": "npm", "identifier": "x", "version": "1.0.0", "runtimeHint": "",
        "transport": {"type": "stdio"},
        "packageArguments": [{"type": "positional", "value": ""}, {"type": "positional", "valueHint": ""}],
        "environmentVariables": [{"name": "E", "default": "", "description": ""}]
    }]);
    let (st, v) = srv.publish(Some(PUBLISHER_TOKEN), &doc).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let pkg = &v["server"]["packages"][0];
    assert_eq!(
        pkg["packageArguments"],
        json!([{"type": "positional", "value": ""}, {"type": "positional", "valueHint": ""}])
    );
    assert_eq!(pkg["environmentVariables"], json!([{"name": "E"}]));
    assert!(
        pkg.get("runtimeHint").is_none() && v["server"].get("websiteUrl").is_none(),
        "{v}"
    );
}
