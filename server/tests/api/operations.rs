//! What operators rely on: health, readiness, metrics, OpenAPI, request ids, CORS, gzip, rate limits, shutdown.

use super::*;

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
    assert_eq!(v["store"], "up");
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
async fn reads_and_writes_have_separate_limits_with_retry_after(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start_with(k, |c| {
        c.rate_limit.reads_per_ip_per_minute = 60;
        c.rate_limit.read_burst = 5;
    })
    .await;
    let mut codes = Vec::new();
    for _ in 0..7 {
        let (st, v, h) = srv.req(Method::GET, "/v0.1/servers", None, None).await;
        codes.push(st.as_u16());
        if st == StatusCode::TOO_MANY_REQUESTS {
            assert!(h["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
            assert!(
                v["detail"]
                    .as_str()
                    .unwrap()
                    .contains("reads per client address"),
                "{v}"
            );
        }
    }
    assert_eq!(codes, [200, 200, 200, 200, 200, 429, 429]);
    // Reads used up do not stop writes: they have their own buckets.
    let (st, v) = srv
        .publish(Some(PUBLISHER_TOKEN), &server("com.example/rl", "1.0.0"))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        srv.get("/healthz").await.0,
        StatusCode::OK,
        "probes are never rate limited"
    );
}

/// The per-token limit counts the token's identity: padding or re-casing the header gets no fresh bucket.
#[rstest]
#[tokio::test]
async fn the_token_limit_cannot_be_bypassed_by_spelling_the_header_differently(
    #[values(Kind::Sqlite)] k: Kind,
) {
    let srv = TestServer::start_with(k, |c| c.rate_limit.writes_per_token_per_minute = 3).await;
    let mut codes = Vec::new();
    for (i, auth) in [
        format!("Bearer {PUBLISHER_TOKEN}"),
        format!("Bearer   {PUBLISHER_TOKEN}  "),
        format!("bearer {PUBLISHER_TOKEN}"),
        format!("BEARER {PUBLISHER_TOKEN}   "),
    ]
    .iter()
    .enumerate()
    {
        let resp = srv
            .client
            .post(format!("{}/v0.1/publish", srv.base))
            .header("authorization", auth)
            .json(&server("com.example/rl", &format!("1.0.{i}")))
            .send()
            .await
            .unwrap();
        codes.push(resp.status().as_u16());
    }
    assert_eq!(codes, [200, 200, 200, 429]);
}

/// Behind one trusted proxy the client is the entry that proxy appended (the rightmost): what a client
/// writes further left does not buy it a fresh bucket.
#[rstest]
#[tokio::test]
async fn forwarded_for_is_read_from_the_right(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start_with(k, |c| {
        c.rate_limit.read_burst = 2;
        c.rate_limit.reads_per_ip_per_minute = 1;
        c.rate_limit.trusted_proxies = 1;
    })
    .await;
    let get = |xff: &'static str| {
        let srv = &srv;
        async move {
            srv.client
                .get(format!("{}/v0.1/servers", srv.base))
                .header("x-forwarded-for", xff)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let spoofed = [
        get("1.1.1.1, 203.0.113.9").await,
        get("2.2.2.2, 203.0.113.9").await,
        get("3.3.3.3, 203.0.113.9").await,
    ];
    assert_eq!(spoofed, [200, 200, 429]);
    assert_eq!(
        get("203.0.113.10").await,
        200,
        "another client, another bucket"
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

/// ToolHive's registry server, before it syncs from an `api` source, fetches `/openapi.yaml` and accepts the
/// source as an official-API registry only when `info.version` is "1.0.0" and `info.description` names the
/// official repository. The same check, on the document as served (YAML, then JSON).
#[rstest]
#[tokio::test]
async fn sync_clients_identify_an_official_api_registry(#[values(Kind::Sqlite)] k: Kind) {
    let srv = TestServer::start(k).await;
    let (st, yaml) = srv.get("/openapi.yaml").await;
    assert_eq!(st, StatusCode::OK);
    let doc: Value = serde_norway::from_str(yaml.as_str().unwrap()).expect("the document is YAML");
    let (_, json_doc) = srv.get("/openapi.json").await;
    for d in [&doc, &json_doc] {
        assert_eq!(d["info"]["version"], "1.0.0");
        assert!(
            d["info"]["description"]
                .as_str()
                .unwrap()
                .contains("github.com/modelcontextprotocol/registry"),
            "{}",
            d["info"]["description"]
        );
        assert_eq!(
            d["info"]["x-mcp-registry-version"],
            env!("CARGO_PKG_VERSION")
        );
    }
}

/// `auth.read: token`: reads need a token (static or a registry token); the answer without one says where
/// to look (RFC 9728 metadata); the official identification endpoints and the probes stay open.
#[tokio::test]
async fn private_reads_need_a_token_and_point_at_the_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("jwt.key");
    std::fs::write(&key, "42".repeat(32)).unwrap();
    let srv = TestServer::start_with(Kind::Sqlite, move |c| {
        c.auth.read = mcp_registry::config::ReadAccess::Token;
        c.server.public_url = "https://registry.example.com".into();
        c.auth.jwt.signing_key_file = key.display().to_string();
        c.auth.exchanges.none.enabled = true;
    })
    .await;
    let (st, v, h) = srv.req(Method::GET, "/v0.1/servers", None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(
        h["www-authenticate"],
        "Bearer realm=\"mcp-registry\", resource_metadata=\"https://registry.example.com/.well-known/oauth-protected-resource\""
    );
    let (st, v, _) = srv
        .req(Method::GET, "/v0.1/servers", Some("wrong"), None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    let (st, _, _) = srv
        .req(Method::GET, "/v0.1/servers", Some(PUBLISHER_TOKEN), None)
        .await;
    assert_eq!(st, StatusCode::OK, "a static token reads");
    let (_, v, _) = srv.req(Method::POST, "/v0/auth/none", None, None).await;
    let jwt = v["registry_token"].as_str().unwrap().to_owned();
    let (st, _, _) = srv
        .req(Method::GET, "/v0/servers?limit=1", Some(&jwt), None)
        .await;
    assert_eq!(st, StatusCode::OK, "a registry token reads");
    for open in ["/v0.1/health", "/v0/version", "/healthz", "/readyz"] {
        assert_eq!(srv.get(open).await.0, StatusCode::OK, "{open}");
    }
    let (st, meta) = srv.get("/.well-known/oauth-protected-resource").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(meta["resource"], "https://registry.example.com");
    assert_eq!(
        meta["mcp_registry_token_exchanges"],
        json!(["/v0/auth/none"])
    );
    // Anonymous reads by default.
    let open = TestServer::start(Kind::Sqlite).await;
    assert_eq!(open.get("/v0.1/servers").await.0, StatusCode::OK);
}
