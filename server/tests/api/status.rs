//! Status changes and the soft delete.

use super::*;

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
