//! The official `mcp-publisher` (built by scripts/install-tools from its Go module, `MCP_PUBLISHER_BIN`),
//! unchanged, against a real registry on loopback: `login none`, `login dns` (the registry asks a DNS
//! server this test runs on loopback for the TXT record), `login http` (the registry fetches the
//! well-known URL from a TLS server with a test CA), `login github` (a GitHub API on loopback),
//! `login github-oidc` (a local issuer as GitHub Actions' token endpoint), then `publish`, `status`, and a
//! 403 outside the grants — on SQLite and PostgreSQL. The generic OIDC exchange with Kubernetes-style
//! tokens, and the refusals with their reasons.

#[path = "../common/mod.rs"]
mod common;
mod fixtures;

use common::Kind;
use common::http::TestServer;
use fixtures::*;
use rstest::rstest;
use std::collections::HashMap;

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_publisher_logs_in_publishes_and_changes_status(
    #[values(Kind::Sqlite, Kind::Postgres)] kind: Kind,
) {
    let dir = tempfile::tempdir().unwrap();
    let dns = Dns::start(
        HashMap::from([(
            DOMAIN.to_string(),
            vec!["v=spf1 -all".into(), ed25519_record(&ED25519_SEED)],
        )]),
        HashMap::from([(DOMAIN.to_string(), [127, 0, 0, 1])]),
    )
    .await;
    let wk = well_known_server(dir.path(), p384_record()).await;
    let srv = registry(kind, &dns, &wk, dir.path()).await;
    let url = srv.base.clone();

    // login none: the official anonymous namespace.
    let anon = Cli::new();
    anon.ok(&["login", "none", "--registry", &url]);
    let name = "io.modelcontextprotocol.anonymous/demo";
    let (ok, out) = anon.publish(name, "1.0.0");
    assert!(ok, "{out}");
    anon.ok(&[
        "status",
        "--status",
        "deprecated",
        "--message",
        "use 2.x",
        name,
        "1.0.0",
    ]);
    let (st, v) = srv
        .get("/v0.1/servers/io.modelcontextprotocol.anonymous%2Fdemo/versions/1.0.0")
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(common::http::official(&v)["status"], "deprecated", "{v}");
    let (ok, out) = anon.publish("com.example/not-mine", "1.0.0");
    assert!(!ok && out.contains("403"), "outside the grants: {out}");

    // login dns: the registry reads the TXT record from the loopback DNS server.
    let dns_user = Cli::new();
    let seed = hex::encode(ED25519_SEED);
    dns_user.ok(&[
        "login",
        "dns",
        "--registry",
        &url,
        "--domain",
        DOMAIN,
        "--private-key",
        &seed,
    ]);
    let (ok, out) = dns_user.publish(&format!("{NS}/dns-server"), "1.0.0");
    assert!(ok, "{out}");
    let (ok, out) = dns_user.publish(&format!("{NS}.api/sub"), "1.0.0");
    assert!(ok, "DNS proofs cover subdomains: {out}");
    dns_user.ok(&[
        "status",
        "--status",
        "deleted",
        &format!("{NS}/dns-server"),
        "1.0.0",
    ]);
    let (ok, out) = dns_user.publish("org.other/x", "1.0.0");
    assert!(!ok && out.contains("403"), "{out}");

    // A stale record: signing with a key the domain does not publish.
    let stale = Cli::new();
    let (ok, out) = stale.run(&[
        "login",
        "dns",
        "--registry",
        &url,
        "--domain",
        DOMAIN,
        "--private-key",
        &hex::encode([0x44u8; 32]),
    ]);
    assert!(
        !ok && out.contains("the published record may be stale"),
        "{out}"
    );

    // login http with a P-384 key: the registry fetches the well-known URL over TLS (test CA).
    let http_user = Cli::new();
    http_user.ok(&[
        "login",
        "http",
        "--registry",
        &url,
        "--domain",
        DOMAIN,
        "--algorithm",
        "ecdsap384",
        "--private-key",
        &hex::encode(P384_SCALAR),
    ]);
    let (ok, out) = http_user.publish(&format!("{NS}/http-server"), "1.0.0");
    assert!(ok, "{out}");
    let (ok, out) = http_user.publish(&format!("{NS}.api/other"), "1.0.0");
    assert!(
        !ok && out.contains("403"),
        "HTTP proofs cover the domain only: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchanges_that_are_off_are_not_found_and_bad_proofs_are_401() {
    let srv = TestServer::start(Kind::Sqlite).await;
    let (st, v, _) = post(&srv, "/v0/auth/none", None).await;
    assert_eq!(
        (st, v["detail"].as_str()),
        (
            reqwest::StatusCode::NOT_FOUND,
            Some("Endpoint not found. See /docs for the API documentation.")
        )
    );

    let dir = tempfile::tempdir().unwrap();
    let dns = Dns::start(
        HashMap::from([(DOMAIN.to_string(), vec![ed25519_record(&ED25519_SEED)])]),
        HashMap::new(),
    )
    .await;
    let wk = well_known_server(dir.path(), String::new()).await;
    let srv = registry(Kind::Sqlite, &dns, &wk, dir.path()).await;
    let body = |ts: &str, sig: &str| serde_json::json!({"domain": DOMAIN, "timestamp": ts, "signed_timestamp": sig});
    // A replayed proof (its timestamp 10 minutes old), correctly signed.
    let old = (chrono::Utc::now() - chrono::Duration::minutes(10))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&ED25519_SEED).unwrap();
    let sig = hex::encode(pair.sign(old.as_bytes()).as_ref());
    let (st, v, _) = post(&srv, "/v0/auth/dns", Some(&body(&old, &sig))).await;
    assert_eq!(st, reqwest::StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["detail"], "DNS authentication failed");
    assert_eq!(
        v["errors"][0]["message"],
        "timestamp outside valid window (±15 seconds)"
    );
    // A missing field is huma's 422.
    let (st, v, _) = post(
        &srv,
        "/v0/auth/dns",
        Some(&serde_json::json!({"domain": DOMAIN})),
    )
    .await;
    assert_eq!(st, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // An empty well-known document.
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let sig = hex::encode(pair.sign(now.as_bytes()).as_ref());
    let (st, v, _) = post(&srv, "/v0/auth/http", Some(&body(&now, &sig))).await;
    assert_eq!(st, reqwest::StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["detail"], "HTTP authentication failed");
    // The registry token of one registry is refused by another (another signing key).
    let (st, v, _) = post(&srv, "/v0/auth/none", None).await;
    assert_eq!(st, reqwest::StatusCode::OK, "{v}");
    let token = v["registry_token"].as_str().unwrap().to_owned();
    assert!(v["expires_at"].as_i64().unwrap() > chrono::Utc::now().timestamp());
    let other = TestServer::start_with(Kind::Sqlite, |c| {
        let f = tempfile::NamedTempFile::new()
            .unwrap()
            .into_temp_path()
            .keep()
            .unwrap();
        std::fs::write(&f, hex::encode([0x55u8; 32])).unwrap();
        c.auth.jwt.signing_key_file = f.display().to_string();
    })
    .await;
    let doc = common::server("io.modelcontextprotocol.anonymous/token-check", "1.0.0");
    let (st, v) = other.publish(Some(&token), &doc).await;
    assert_eq!(st, reqwest::StatusCode::UNAUTHORIZED, "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("no key with id"),
        "{v}"
    );
    let (st, v) = srv.publish(Some(&token), &doc).await;
    assert_eq!(st, reqwest::StatusCode::OK, "{v}");
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_actions_oidc_login_publishes_under_the_repository_owner(
    #[values(Kind::Sqlite, Kind::Postgres)] kind: Kind,
) {
    let issuer = TestIssuer::start(serde_json::json!({
        "repository_owner": "octo-org", "repository": "octo-org/weather",
        "sub": "repo:octo-org/weather:ref:refs/heads/main",
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("jwt.key");
    std::fs::write(&key_file, hex::encode([0x33u8; 32])).unwrap();
    let port = free_port();
    let iss = issuer.url.clone();
    let srv = TestServer::start_with(kind, move |c| {
        c.server.listen = format!("127.0.0.1:{port}");
        c.server.public_url = format!("http://127.0.0.1:{port}");
        c.auth.jwt.signing_key_file = key_file.display().to_string();
        c.auth.exchanges.github_oidc.enabled = true;
        c.auth.exchanges.github_oidc.issuer = iss;
    })
    .await;
    let cli = Cli::new();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(publisher_bin())
            .args(args)
            .env_clear()
            .env("HOME", cli.home.path())
            .env("PATH", "/usr/bin:/bin")
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                format!("{}/token?api-version=2.0", issuer.url),
            )
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
            .current_dir(cli.home.path())
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (ok, out) = run(&["login", "github-oidc", "--registry", &srv.base]);
    assert!(ok, "{out}");
    let (ok, out) = cli.publish("io.github.octo-org/weather", "1.0.0");
    assert!(ok, "{out}");
    let (ok, out) = cli.publish("io.github.someone-else/weather", "1.0.0");
    assert!(!ok && out.contains("403"), "{out}");
    // The same login against a registry expecting another audience is refused with the reason.
    let other_port = free_port();
    let (iss, dir2) = (issuer.url.clone(), tempfile::tempdir().unwrap());
    let key2 = dir2.path().join("jwt.key");
    std::fs::write(&key2, hex::encode([0x34u8; 32])).unwrap();
    let other = TestServer::start_with(Kind::Sqlite, move |c| {
        c.server.listen = format!("127.0.0.1:{other_port}");
        c.auth.jwt.signing_key_file = key2.display().to_string();
        c.auth.exchanges.github_oidc.enabled = true;
        c.auth.exchanges.github_oidc.issuer = iss;
        c.auth.exchanges.github_oidc.audience = "https://registry.elsewhere.example".into();
    })
    .await;
    let (ok, out) = run(&["login", "github-oidc", "--registry", &other.base]);
    assert!(
        !ok && out.contains("wrong audience: expected https://registry.elsewhere.example"),
        "{out}"
    );
}

/// Generic OIDC with several issuers: a Kubernetes-style token (namespace claim → namespace grant), a
/// required claim, and every rejection with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_issuers_grant_from_claims_and_refuse_with_reasons() {
    let issuer = TestIssuer::start(serde_json::json!({})).await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("jwt.key");
    std::fs::write(&key_file, hex::encode([0x35u8; 32])).unwrap();
    let iss = issuer.url.clone();
    let srv = TestServer::start_with(Kind::Sqlite, move |c| {
        c.auth.jwt.signing_key_file = key_file.display().to_string();
        c.auth.exchanges.oidc.issuers = vec![
            mcp_registry::config::OidcIssuerConfig {
                name: "cluster".into(),
                issuer: iss,
                audience: "mcp-registry".into(),
                required_claims: [(
                    "[\"kubernetes.io\"].serviceaccount.name".to_string(),
                    "publisher-*".to_string(),
                )]
                .into(),
                publish: vec!["io.k8s.{claims[\"kubernetes.io\"].namespace}/*".into()],
                ..Default::default()
            },
            mcp_registry::config::OidcIssuerConfig {
                name: "idp".into(),
                issuer: "https://idp.example".into(),
                audience: "mcp-registry".into(),
                publish: vec!["com.acme.{claims.team}/*".into()],
                ..Default::default()
            },
        ];
    })
    .await;
    let now = chrono::Utc::now().timestamp();
    let token = |ns: &str, sa: &str, aud: &str, exp: i64| {
        sign_rs256(
            &serde_json::json!({"iss": issuer.url, "aud": [aud], "sub": format!("system:serviceaccount:{ns}:{sa}"),
            "iat": now, "nbf": now, "exp": exp,
            "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": sa}}}),
        )
    };
    let exchange = |t: String| {
        let srv = &srv;
        async move {
            post(
                srv,
                "/v0/auth/oidc",
                Some(&serde_json::json!({"oidc_token": t})),
            )
            .await
        }
    };
    let (st, v, _) = exchange(token("team-a", "publisher-ci", "mcp-registry", now + 300)).await;
    assert_eq!(st, 200, "{v}");
    let registry_token = v["registry_token"].as_str().unwrap().to_owned();
    let (st, v) = srv
        .publish(
            Some(&registry_token),
            &common::server("io.k8s.team-a/tool", "1.0.0"),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = srv
        .publish(
            Some(&registry_token),
            &common::server("io.k8s.team-b/tool", "1.0.0"),
        )
        .await;
    assert_eq!(st, 403, "another namespace: {v}");

    for (t, reason) in [
        (
            token("team-a", "publisher-ci", "someone-else", now + 300),
            "wrong audience: expected mcp-registry",
        ),
        (
            token("team-a", "publisher-ci", "mcp-registry", now - 120),
            "token expired at",
        ),
        (
            token("team-a", "default", "mcp-registry", now + 300),
            "serviceaccount.name is \"default\", expected publisher-*",
        ),
        (
            token("team.a", "publisher-ci", "mcp-registry", now + 300),
            "is not a plain name",
        ),
        (
            sign_rs256(
                &serde_json::json!({"iss": "https://unknown.example", "aud": "mcp-registry", "exp": now + 60}),
            ),
            "unknown issuer \"https://unknown.example\"",
        ),
        ("not-a-jwt".to_string(), "not a JWT"),
    ] {
        let (st, v, _) = exchange(t).await;
        assert_eq!(st, 401, "{v}");
        assert_eq!(v["detail"], "Token exchange failed");
        let msg = v["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(reason), "expected {reason:?} in {msg:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_token_login_grants_the_user_and_its_admin_organizations() {
    let api = fake_github().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("jwt.key");
    std::fs::write(&key_file, hex::encode([0x36u8; 32])).unwrap();
    let srv = TestServer::start_with(Kind::Sqlite, move |c| {
        c.auth.jwt.signing_key_file = key_file.display().to_string();
        c.auth.exchanges.github_at.enabled = true;
        c.auth.exchanges.github_at.api_url = api;
        c.auth.exchanges.github_at.client_id = "Iv1.test-client".into();
    })
    .await;
    let (_, health) = srv.get("/v0/health").await;
    assert_eq!(health["github_client_id"], "Iv1.test-client", "{health}");
    let cli = Cli::new();
    cli.ok(&[
        "login",
        "github",
        "--registry",
        &srv.base,
        "--token",
        "gho_good",
    ]);
    for (name, allowed) in [
        ("io.github.octocat/tool", true),
        ("io.github.octo-org/tool", true),
        ("io.github.other-org/tool", false),
    ] {
        let (ok, out) = cli.publish(name, "1.0.0");
        assert_eq!(ok, allowed, "{name}: {out}");
    }
    let bad = Cli::new();
    let (ok, out) = bad.run(&[
        "login",
        "github",
        "--registry",
        &srv.base,
        "--token",
        "gho_revoked",
    ]);
    assert!(!ok && out.contains("401"), "{out}");
}
