//! Whole response bodies as snapshots (`snapshots/`), with the times redacted: the envelope of a published
//! version, a listing page, and the problem documents of every class of refusal. A change to any of them
//! shows up as a diff to review (`cargo insta review`, or `INSTA_UPDATE=always` and read the diff), not as a
//! field nobody thought to assert. On SQLite: every backend answers the same bodies, which the topic tests
//! and the contract suite check field by field.

use super::*;

/// The status code and body, with every timestamp replaced (they change on every run).
macro_rules! assert_body {
    ($name:expr, $status:expr, $body:expr) => {
        insta::assert_json_snapshot!(
            $name,
            json!({ "status": $status.as_u16(), "body": $body }),
            {
                ".**.publishedAt" => "[time]",
                ".**.updatedAt" => "[time]",
                ".**.statusChangedAt" => "[time]",
            }
        )
    };
}

#[tokio::test]
async fn published_version_and_listing() {
    let srv = TestServer::start(Kind::Sqlite).await;
    let mut doc = with_remote("com.example/snap", "1.0.0", "https://snap.example.com/mcp");
    doc["_meta"] = json!({
        "io.modelcontextprotocol.registry/publisher-provided": {"tool": "ci", "n": 1.0}
    });
    let (st, v) = srv.publish(Some(PUBLISHER_TOKEN), &doc).await;
    assert_body!("publish_ok", st, v);
    srv.publish(Some(PUBLISHER_TOKEN), &server("com.example/snap", "1.1.0"))
        .await;
    let (st, v) = srv.get("/v0.1/servers?limit=1").await;
    assert_body!("list_first_page", st, v);
    let (st, v) = srv.get("/v0.1/servers/com.example%2Fsnap/versions").await;
    assert_body!("versions", st, v);
    srv.shutdown().await;
}

#[tokio::test]
async fn publish_refusals() {
    let srv = TestServer::start(Kind::Sqlite).await;
    let mut bad = server("com.example/snap", "1.0.0");
    bad.as_object_mut().unwrap().remove("description");
    bad["name"] = json!("no-slash");
    bad["version"] = json!("");
    bad["websiteUrl"] = json!("not a url");
    let (st, v) = srv.publish(Some(PUBLISHER_TOKEN), &bad).await;
    assert_body!("publish_structure_422", st, v);
    let mut unknown = server("com.example/snap", "1.0.0");
    unknown["_meta"] = json!({"com.example/other": true});
    unknown["packages"] = json!([{"registryType": "npm", "identifier": "x", "version": "1.0.0",
                                  "transport": {"type": "stdio"}, "extra": 1}]);
    let (st, v) = srv.publish(Some(PUBLISHER_TOKEN), &unknown).await;
    assert_body!("publish_unknown_properties_422", st, v);
    let (st, v) = srv
        .publish(Some("not-a-token"), &server("com.example/snap", "1.0.0"))
        .await;
    assert_body!("publish_unknown_token_401", st, v);
    let (st, v) = srv
        .publish(Some(PUBLISHER_TOKEN), &server("org.other/snap", "1.0.0"))
        .await;
    assert_body!("publish_outside_namespace_403", st, v);
    let (st, v) = srv
        .publish(Some(PUBLISHER_TOKEN), &server("com.example/snap", "latest"))
        .await;
    assert_body!("publish_semantic_422", st, v);
    srv.publish(Some(PUBLISHER_TOKEN), &server("com.example/snap", "1.0.0"))
        .await;
    let (st, v) = srv
        .publish(Some(PUBLISHER_TOKEN), &server("com.example/snap", "1.0.0"))
        .await;
    assert_body!("publish_duplicate_400", st, v);
    srv.shutdown().await;
}

#[tokio::test]
async fn status_refusals_and_not_found() {
    let srv = TestServer::start(Kind::Sqlite).await;
    srv.publish(Some(PUBLISHER_TOKEN), &server("com.example/snap", "1.0.0"))
        .await;
    let one = "/v0.1/servers/com.example%2Fsnap/versions/1.0.0/status";
    let all = "/v0.1/servers/com.example%2Fsnap/status";
    let patch = |path: &'static str, body: Value| {
        let srv = &srv;
        async move {
            let (st, v, _) = srv
                .req(Method::PATCH, path, Some(PUBLISHER_TOKEN), Some(&body))
                .await;
            (st, v)
        }
    };
    let (st, v) = patch(one, json!({"status": "active", "statusMessage": "x"})).await;
    assert_body!("status_message_with_active_400", st, v);
    let (st, v) = patch(one, json!({"status": "active"})).await;
    assert_body!("status_no_change_400", st, v);
    let (st, v) = patch(all, json!({"status": "active"})).await;
    assert_body!("status_all_no_change_400", st, v);
    let (st, v) = patch(one, json!({"statusMessage": 1})).await;
    assert_body!("status_body_422", st, v);
    let (st, v) = srv
        .get("/v0.1/servers/com.example%2Fsnap/versions/9.9.9")
        .await;
    assert_body!("version_not_found_404", st, v);
    let (st, v) = srv.get("/v0.1/servers?limit=0&cursor=%20").await;
    assert_body!("list_query_422", st, v);
    srv.shutdown().await;
}

#[tokio::test]
async fn validate_report() {
    let srv = TestServer::start(Kind::Sqlite).await;
    let mut bad = server("com.example/snap", "latest");
    bad["description"] = json!("x".repeat(101));
    let (st, v, _) = srv
        .req(Method::POST, "/v0.1/validate", None, Some(&bad))
        .await;
    assert_body!("validate_invalid", st, v);
    srv.shutdown().await;
}
