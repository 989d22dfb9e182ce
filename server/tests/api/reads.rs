//! Reads: problem JSON for bad requests, listing filters and cursors, URL-decoded path parameters.

use super::*;

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
        .get("/v0.1/servers?limit=3&version=latest&search=/S0")
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
    for bad in [
        "limit=101",
        "limit=abc",
        "include_deleted=perhaps",
        "search=s0",
    ] {
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
async fn nul_bytes_in_path_or_query_are_400(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let srv = TestServer::start(k).await;
    for (path, detail) in [
        (
            "/v0.1/servers?search=ab%00c",
            "Invalid request: query parameters contain null bytes",
        ),
        (
            "/v0.1/servers?cursor=%00",
            "Invalid request: query parameters contain null bytes",
        ),
        (
            "/v0.1/servers/a%00b/versions",
            "Invalid request: URL path contains null bytes",
        ),
        (
            "/v0.1/servers/com.example%2Fa/versions/1%000",
            "Invalid request: URL path contains null bytes",
        ),
    ] {
        let (st, v, h) = srv.req(Method::GET, path, None, None).await;
        assert_eq!(
            (st, v["detail"].as_str()),
            (StatusCode::BAD_REQUEST, Some(detail)),
            "{path}"
        );
        assert_eq!(
            h["content-type"], "application/json",
            "{path}: as the official middleware"
        );
    }
}
