//! Input no store can hold, on every backend alike: a 4xx at the field, never a 5xx, nothing stored.

use super::*;

#[rstest]
#[tokio::test]
async fn nul_characters_in_a_body_are_422_at_their_field(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let srv = TestServer::start(k).await;
    let nul = "a\u{0}b";
    let cases: Vec<(Value, &str)> = vec![
        (server("com.example/nul", nul), "body.version"),
        (
            json!({"$schema": corpus_schema(), "name": "com.example/nul", "description": nul, "version": "1.0.0"}),
            "body.description",
        ),
        (
            {
                let mut d = server("com.example/nul", "1.0.0");
                d["packages"] = json!([{"registryType": "npm", "identifier": nul, "version": "1.0.0", "transport": {"type": "stdio"}}]);
                d
            },
            "body.packages[0].identifier",
        ),
        (
            {
                let mut d = server("com.example/nul", "1.0.0");
                d["_meta"] =
                    json!({"io.modelcontextprotocol.registry/publisher-provided": {"k": [nul]}});
                d
            },
            "body._meta.io.modelcontextprotocol.registry/publisher-provided.k[0]",
        ),
    ];
    for (doc, location) in cases {
        let (st, v) = srv.publish(Some(PUBLISHER_TOKEN), &doc).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{location}: {v}");
        assert_eq!(locations(&v), [location], "{v}");
        assert_eq!(
            v["errors"][0]["message"],
            "expected string without NUL characters"
        );
    }
    assert_eq!(
        srv.get("/v0.1/servers/com.example%2Fnul/versions").await.0,
        StatusCode::NOT_FOUND,
        "nothing was stored"
    );
    srv.publish(Some(PUBLISHER_TOKEN), &server("com.example/nul", "1.0.0"))
        .await;
    let (st, v, _) = srv
        .req(
            Method::PATCH,
            "/v0.1/servers/com.example%2Fnul/versions/1.0.0/status",
            Some(PUBLISHER_TOKEN),
            Some(&json!({"status": "deprecated", "statusMessage": nul})),
        )
        .await;
    assert_eq!(
        (st, locations(&v)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["body.statusMessage".to_string()]
        ),
        "{v}"
    );
}

/// A search longer than the longest name can match nothing: an empty page, without a store query (SQLite
/// refuses LIKE patterns of ~50,000 characters). A request target over 8 KiB is 414 before any of that.
#[rstest]
#[tokio::test]
async fn an_overlong_search_is_an_empty_page(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let srv = TestServer::start(k).await;
    srv.publish(Some(PUBLISHER_TOKEN), &server("com.example/long", "1.0.0"))
        .await;
    for n in [201, 8_000] {
        let (st, v) = srv
            .get(&format!("/v0.1/servers?search={}", "a".repeat(n)))
            .await;
        assert_eq!(
            (st, &v["servers"], &v["metadata"]["count"]),
            (StatusCode::OK, &json!([]), &json!(0)),
            "{n}"
        );
    }
    let (st, v) = srv
        .get(&format!("/v0.1/servers?search={}", "a".repeat(60_000)))
        .await;
    assert_eq!(st, StatusCode::URI_TOO_LONG, "{v}");
    assert_eq!(v["status"], 414, "problem JSON: {v}");
    let (_, v) = srv
        .get(&format!("/v0.1/servers?search={}", "com.example/long"))
        .await;
    assert_eq!(v["metadata"]["count"], 1);
}

fn corpus_schema() -> &'static str {
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
}

/// Values longer than anything the registry stores, up to the request-target limit, in every place a read
/// takes a string: answered as "nothing there" by every backend, never a storage error.
#[rstest]
#[tokio::test]
async fn overlong_read_parameters_find_nothing(
    #[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] k: Kind,
) {
    let srv = TestServer::start(k).await;
    srv.publish(Some(PUBLISHER_TOKEN), &server("com.example/long", "1.0.0"))
        .await;
    let long = "a".repeat(7_000);
    // A cursor sorting after every name: nothing follows it.
    let (st, v) = srv
        .get(&format!("/v0.1/servers?cursor={}", "z".repeat(7_000)))
        .await;
    assert_eq!((st, &v["servers"]), (StatusCode::OK, &json!([])), "cursor");
    let (st, v) = srv.get(&format!("/v0.1/servers?version={long}")).await;
    assert_eq!(
        (st, &v["servers"]),
        (StatusCode::OK, &json!([])),
        "version filter"
    );
    for path in [
        format!("/v0.1/servers/com.example%2F{long}/versions"),
        format!("/v0.1/servers/com.example%2F{long}/versions/latest"),
        format!("/v0.1/servers/com.example%2Flong/versions/{long}"),
    ] {
        let (st, v) = srv.get(&path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{}…: {v}", &path[..40]);
    }
}
