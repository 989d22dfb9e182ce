//! The HTTP API end to end: a real server on loopback (same builder and router as `serve`), real HTTP,
//! on every backend. Status codes, bodies and problem shapes are the official server's.

mod common;

use common::http::{ADMIN_TOKEN, PUBLISHER_TOKEN, TestServer, official};
use common::{Kind, server, with_remote};
use reqwest::{Method, StatusCode};
use rstest::rstest;
use serde_json::{Value, json};

fn locations(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x["location"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

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
async fn publisher_meta_is_kept_and_other_meta_dropped(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    let mut doc = server("com.example/meta", "1.0.0");
    doc["_meta"] = json!({
        "io.modelcontextprotocol.registry/publisher-provided": {"tool": "ci"},
        "io.modelcontextprotocol.registry/official": {"isLatest": false},
        "com.example": {"x": 1}
    });
    doc["unknownField"] = json!("dropped");
    let (st, v) = srv.publish(Some(PUBLISHER_TOKEN), &doc).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["server"]["_meta"],
        json!({"io.modelcontextprotocol.registry/publisher-provided": {"tool": "ci"}})
    );
    assert!(v["server"].get("unknownField").is_none());
    assert_eq!(
        official(&v)["isLatest"],
        true,
        "registry metadata never comes from the publisher"
    );
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
        "invalid version: cannot publish duplicate version"
    );
}

#[rstest]
#[tokio::test]
async fn errors_are_problem_json(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    let (st, v, h) = srv
        .req(Method::GET, "/v0.1/servers?limit=0", None, None)
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(h["content-type"], "application/problem+json");
    assert_eq!(v["title"], "Unprocessable Entity");
    assert_eq!(v["status"], 422);
    assert_eq!(locations(&v), ["query.limit"]);
    assert!(v.get("type").is_none() && v.get("$schema").is_none());
    let (st, v, h) = srv.req(Method::POST, "/v0.1/servers", None, None).await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(h["content-type"], "application/problem+json", "{v}");
    let (st, v) = srv.get("/servers").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(
        v["detail"].as_str().unwrap().contains("/v0.1/servers"),
        "{v}"
    );
    let (st, v, _) = srv
        .req(
            Method::POST,
            "/v0.1/publish",
            Some(ADMIN_TOKEN),
            Some(&json!("x".repeat(2 * 1024 * 1024))),
        )
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    let (st, _) = srv.get("/v0.1/servers/bad%ZZname/versions").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[rstest]
#[tokio::test]
async fn list_filters_and_pagination(#[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind) {
    let srv = TestServer::start(k).await;
    for i in 0..35 {
        let (st, v) = srv
            .publish(
                Some(ADMIN_TOKEN),
                &server(&format!("com.example/s{i:02}"), "1.0.0"),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    srv.publish(Some(ADMIN_TOKEN), &server("com.example/s00", "2.0.0"))
        .await;
    let (st, v) = srv.get("/v0.1/servers").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["metadata"]["count"], 30);
    let cursor = v["metadata"]["nextCursor"].as_str().unwrap().to_owned();
    let (_, v2) = srv
        .get(&format!("/v0.1/servers?cursor={}", urlencode(&cursor)))
        .await;
    assert_eq!(v2["metadata"]["count"], 6);
    assert!(
        v2["metadata"].get("nextCursor").is_none(),
        "no cursor on a short page"
    );
    let (_, v) = srv
        .get("/v0.1/servers?limit=3&version=latest&search=S0")
        .await;
    let got: Vec<(&str, &str)> = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["server"]["name"].as_str().unwrap(),
                s["server"]["version"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("com.example/s00", "2.0.0"),
            ("com.example/s01", "1.0.0"),
            ("com.example/s02", "1.0.0")
        ]
    );
    assert!(
        v["metadata"]["nextCursor"].is_string(),
        "a full page has a cursor"
    );
    for bad in ["limit=101", "limit=abc", "include_deleted=perhaps"] {
        assert_eq!(
            srv.get(&format!("/v0.1/servers?{bad}")).await.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
    assert_eq!(
        srv.get("/v0.1/servers?updated_since=notatime").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        srv.get("/v0.1/servers?updated_since=2020-01-01T00:00:00Z&include_deleted=false")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (st, v) = srv
        .get("/v0.1/servers?updated_since=2020-01-01T00:00:00.5Z&limit=100")
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["metadata"]["count"], 36);
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[rstest]
#[tokio::test]
async fn path_parameters_are_url_decoded(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    assert_eq!(
        srv.publish(
            Some(ADMIN_TOKEN),
            &server("com.example/plus", "1.0.0+build.7")
        )
        .await
        .0,
        StatusCode::OK
    );
    let (st, v) = srv
        .get("/v0.1/servers/com.example%2Fplus/versions/1.0.0%2Bbuild.7")
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["server"]["version"], "1.0.0+build.7");
    let (st, v) = srv
        .get("/v0.1/servers/com.example%2Fplus/versions/latest")
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["server"]["version"], "1.0.0+build.7");
    // Decoded exactly once: %25 is a literal '%', so %252F is not a slash.
    assert_eq!(
        srv.get("/v0.1/servers/com.example%252Fplus/versions/latest")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        srv.publish(Some(ADMIN_TOKEN), &server("com.example/plus", "2.0.0-100%"))
            .await
            .0,
        StatusCode::OK
    );
    let (st, v) = srv
        .get("/v0.1/servers/com.example%2Fplus/versions/2.0.0-100%25")
        .await;
    assert_eq!(
        (st, v["server"]["version"].as_str()),
        (StatusCode::OK, Some("2.0.0-100%")),
        "{v}"
    );
    let (st, v) = srv.get("/v0.1/servers/com.example%2Fnone/versions").await;
    assert_eq!(
        (st, v["detail"].as_str()),
        (StatusCode::NOT_FOUND, Some("Server not found"))
    );
    let (st, v) = srv
        .get("/v0.1/servers/com.example%2Fplus/versions/9.9.9")
        .await;
    assert_eq!(
        (st, v["detail"].as_str()),
        (StatusCode::NOT_FOUND, Some("Server not found"))
    );
}

#[rstest]
#[tokio::test]
async fn status_endpoints(#[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind) {
    let srv = TestServer::start(k).await;
    for v in ["1.0.0", "2.0.0"] {
        srv.publish(Some(PUBLISHER_TOKEN), &server("com.example/st", v))
            .await;
    }
    let path = "/v0.1/servers/com.example%2Fst/versions/2.0.0/status";
    let patch = |body: Value, token: Option<&'static str>| {
        let srv = &srv;
        async move { srv.req(Method::PATCH, path, token, Some(&body)).await }
    };
    let (st, v, _) = patch(
        json!({"status": "active", "statusMessage": "x"}),
        Some(PUBLISHER_TOKEN),
    )
    .await;
    assert_eq!(
        (st, v["detail"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("status_message cannot be provided when setting status to active")
        ),
        "{v}"
    );
    let (st, v, _) = patch(
        json!({"status": "deprecated", "statusMessage": "x".repeat(501)}),
        Some(PUBLISHER_TOKEN),
    )
    .await;
    assert_eq!(
        (st, locations(&v)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["body.statusMessage".to_string()]
        )
    );
    let (st, v, _) = patch(json!({"status": "archived"}), Some(PUBLISHER_TOKEN)).await;
    assert_eq!(
        (st, locations(&v)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["body.status".to_string()]
        )
    );
    let (st, v, _) = patch(json!({"status": "active"}), Some(PUBLISHER_TOKEN)).await;
    assert_eq!(
        (st, v["detail"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("No changes to apply: status and message are already set to the provided values")
        ),
        "no change: {v}"
    );
    let (st, v, _) = patch(json!({}), Some(PUBLISHER_TOKEN)).await;
    assert_eq!(
        (st, v["errors"][0]["message"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("expected required property status to be present")
        ),
        "{v}"
    );
    let (st, _, _) = patch(json!({"status": "deleted"}), None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "missing header");
    let (st, _, _) = patch(json!({"status": "deleted"}), Some("nope")).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v, _) = patch(
        json!({"status": "deprecated", "statusMessage": "use 3"}),
        Some(PUBLISHER_TOKEN),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(official(&v)["status"], "deprecated");
    assert_eq!(official(&v)["statusMessage"], "use 3");
    let (st, v, _) = srv
        .req(
            Method::PATCH,
            "/v0.1/servers/com.example%2Fst/versions/7.0.0/status",
            Some(PUBLISHER_TOKEN),
            Some(&json!({"status": "deleted"})),
        )
        .await;
    assert_eq!(
        (st, v["detail"].as_str()),
        (StatusCode::NOT_FOUND, Some("Server version not found"))
    );
    // Bulk: every version comes back and updatedCount counts them all.
    let (st, v, _) = srv
        .req(
            Method::PATCH,
            "/v0.1/servers/com.example%2Fst/status",
            Some(PUBLISHER_TOKEN),
            Some(&json!({"status": "deprecated", "statusMessage": "use 3"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["updatedCount"], 2);
    assert_eq!(v["servers"].as_array().unwrap().len(), 2);
    let (st, _, _) = srv
        .req(
            Method::PATCH,
            "/v0.1/servers/org.other%2Fst/status",
            Some(PUBLISHER_TOKEN),
            Some(&json!({"status": "deleted"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[rstest]
#[tokio::test]
async fn delete_is_soft_and_restorable(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    srv.publish(Some(PUBLISHER_TOKEN), &server("com.example/del", "1.0.0"))
        .await;
    let path = "/v0.1/servers/com.example%2Fdel/versions/1.0.0";
    let (st, v, _) = srv
        .req(Method::DELETE, path, Some(PUBLISHER_TOKEN), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(official(&v)["status"], "deleted");
    assert_eq!(
        srv.req(Method::DELETE, path, Some(PUBLISHER_TOKEN), None)
            .await
            .0,
        StatusCode::OK,
        "idempotent"
    );
    assert_eq!(srv.get(path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        srv.get(&format!("{path}?include_deleted=true")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        srv.publish(Some(PUBLISHER_TOKEN), &server("com.example/del", "1.0.0"))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (st, _, _) = srv
        .req(
            Method::PATCH,
            &format!("{path}/status"),
            Some(PUBLISHER_TOKEN),
            Some(&json!({"status": "active"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(srv.get(path).await.0, StatusCode::OK);
    assert_eq!(
        srv.req(Method::DELETE, path, Some("x"), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        srv.req(
            Method::DELETE,
            "/v0.1/servers/org.o%2Fx/versions/1",
            Some(PUBLISHER_TOKEN),
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
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
async fn remote_url_clash_is_a_400(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    let url = "https://mcp.example.com/mcp";
    assert_eq!(
        srv.publish(
            Some(ADMIN_TOKEN),
            &with_remote("com.example/r1", "1.0.0", url)
        )
        .await
        .0,
        StatusCode::OK
    );
    let (st, v) = srv
        .publish(
            Some(ADMIN_TOKEN),
            &with_remote("com.example/r2", "1.0.0", url),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["errors"][0]["message"].as_str().unwrap().contains(url),
        "{v}"
    );
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
#[tokio::test]
async fn operational_endpoints(#[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind) {
    let srv = TestServer::start(k).await;
    assert_eq!(
        srv.get("/healthz").await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let (st, v) = srv.get("/readyz").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "ready");
    assert_eq!(srv.get("/v0.1/health").await.1["status"], "ok");
    assert_eq!(srv.get("/v0/ping").await.1, json!({"pong": true}));
    assert_eq!(
        srv.get("/v0.1/version").await.1["version"],
        env!("CARGO_PKG_VERSION")
    );
    srv.get("/v0.1/servers").await;
    let (st, text) = srv.get("/metrics").await;
    assert_eq!(st, StatusCode::OK);
    let text = text.as_str().unwrap();
    for m in [
        "mcp_registry_http_requests_total{",
        "mcp_registry_http_request_duration_seconds_bucket",
        "mcp_registry_store_operation_duration_seconds",
        "mcp_registry_build_info",
    ] {
        assert!(text.contains(m), "missing {m}");
    }
    assert!(
        text.contains("route=\"/v0.1/servers\""),
        "routes are templates"
    );
    let (st, doc) = srv.get("/openapi.json").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .any(|p| p.ends_with("/publish"))
    );
    let (st, html) = srv.get("/docs").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.as_str().unwrap().contains("<html"));
    let (st, yaml) = srv.get("/openapi.yaml").await;
    assert_eq!(st, StatusCode::OK);
    assert!(yaml.as_str().unwrap().contains("openapi:"));
}

#[rstest]
#[tokio::test]
async fn openapi_servers_follow_public_url(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start_with(k, |c| {
        c.server.public_url = "https://registry.example.com/".into()
    })
    .await;
    let (_, doc) = srv.get("/openapi.json").await;
    assert_eq!(
        doc["servers"],
        json!([{"url": "https://registry.example.com"}])
    );
    let (_, yaml) = srv.get("/openapi.yaml").await;
    assert!(
        yaml.as_str()
            .unwrap()
            .contains("https://registry.example.com")
    );
}

#[rstest]
#[tokio::test]
async fn request_ids_cors_and_gzip(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    let r = srv
        .client
        .get(format!("{}/v0.1/servers", srv.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let r = srv
        .client
        .get(format!("{}/v0.1/servers", srv.base))
        .send()
        .await
        .unwrap();
    assert!(
        !r.headers()["x-request-id"].is_empty(),
        "generated when absent"
    );
    // A browser preflight for a read is allowed; for a write it is not.
    let pre = |method: &'static str| {
        srv.client
            .request(Method::OPTIONS, format!("{}/v0.1/servers", srv.base))
            .header("origin", "vscode-webview://gallery")
            .header("access-control-request-method", method)
            .send()
    };
    let r = pre("GET").await.unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    // Write responses carry no CORS headers, so a cross-origin page cannot read them.
    let (_, _, h) = srv
        .req(Method::POST, "/v0.1/publish", Some("x"), Some(&json!({})))
        .await;
    assert!(h.get("access-control-allow-origin").is_none(), "{h:?}");
    let r = pre("PUT").await.unwrap();
    let allowed = r
        .headers()
        .get("access-control-allow-methods")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(!allowed.contains("PUT"), "{allowed}");
    // reqwest strips Content-Encoding when it decompresses: look at the raw response.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let r = raw
        .get(format!("{}/v0.1/servers", srv.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
}

#[rstest]
#[tokio::test]
async fn rate_limit_answers_429_with_retry_after(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start_with(k, |c| {
        c.rate_limit.per_ip_per_minute = 60;
        c.rate_limit.burst = 5;
    })
    .await;
    let mut codes = Vec::new();
    for _ in 0..8 {
        let (st, _, h) = srv.req(Method::GET, "/v0.1/servers", None, None).await;
        codes.push(st.as_u16());
        if st == StatusCode::TOO_MANY_REQUESTS {
            assert!(h["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
        }
    }
    assert_eq!(codes, [200, 200, 200, 200, 200, 429, 429, 429]);
    assert_eq!(
        srv.get("/healthz").await.0,
        StatusCode::OK,
        "probes are never rate limited"
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

#[rstest]
#[tokio::test]
async fn shutdown_fails_readiness_first_then_stops(#[values(Kind::Sqlite)] k: Kind) {
    let mut srv = TestServer::start_with(k, |c| {
        c.server.shutdown_drain = std::time::Duration::from_millis(600)
    })
    .await;
    assert_eq!(srv.get("/readyz").await.0, StatusCode::OK);
    srv.trigger_stop();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let (st, v) = srv.get("/readyz").await;
    assert_eq!(
        (st, v["status"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("draining"))
    );
    let (st, _, h) = srv.req(Method::GET, "/v0.1/servers", None, None).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "requests are still served while draining"
    );
    assert_eq!(
        h["connection"], "close",
        "clients are told not to reuse connections to a draining server"
    );
    srv.handle.take().unwrap().await.unwrap().unwrap();
    assert!(
        srv.client
            .get(format!("{}/healthz", srv.base))
            .send()
            .await
            .is_err(),
        "listener closed"
    );
}
