//! The official `mcp-publisher` (built by scripts/install-tools from its Go module, `MCP_PUBLISHER_BIN`),
//! unchanged, against a real registry on loopback: `login none`, `login dns` (the registry asks a DNS
//! server this test runs on loopback for the TXT record), `login http` (the registry fetches the
//! well-known URL from a TLS server with a test CA), then `publish`, `status`, and a 403 outside the
//! grants — on SQLite and PostgreSQL.

#[path = "common/mod.rs"]
mod common;

use base64::Engine;
use common::Kind;
use common::http::TestServer;
use rstest::rstest;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DOMAIN: &str = "example.test";
/// What DOMAIN proves: its reversed form.
const NS: &str = "test.example";

fn publisher_bin() -> PathBuf {
    let bin = std::env::var_os("MCP_PUBLISHER_BIN").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "MCP_PUBLISHER_BIN is not set: these tests drive the official mcp-publisher. Run scripts/test \
             (it builds it), or scripts/install-tools mcp-publisher and set \
             MCP_PUBLISHER_BIN=$MCPR_CACHE_DIR/bin/mcp-publisher."
        )
    });
    assert!(
        bin.is_file(),
        "MCP_PUBLISHER_BIN={} does not exist",
        bin.display()
    );
    bin
}

/// One user of the CLI: a HOME of its own (where it keeps its token) and a working directory.
struct Cli {
    home: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs `mcp-publisher args…`; (success, stdout + stderr).
    fn run(&self, args: &[&str]) -> (bool, String) {
        let out = std::process::Command::new(publisher_bin())
            .args(args)
            .env_clear()
            .env("HOME", self.home.path())
            .env("PATH", "/usr/bin:/bin")
            .current_dir(self.home.path())
            .output()
            .expect("mcp-publisher runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, text) = self.run(args);
        assert!(ok, "mcp-publisher {args:?} failed:\n{text}");
        text
    }

    fn write_server(&self, name: &str, version: &str) {
        let doc = serde_json::json!({
            "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            "name": name, "description": "published by mcp-publisher", "version": version,
        });
        std::fs::write(self.home.path().join("server.json"), doc.to_string()).unwrap();
    }

    /// Publishes `name@version`; (success, output).
    fn publish(&self, name: &str, version: &str) -> (bool, String) {
        self.write_server(name, version);
        self.run(&["publish"])
    }
}

/// A DNS server on loopback UDP: TXT records per name, and A records (for the HTTP proof's fetch).
struct Dns {
    addr: SocketAddr,
}

impl Dns {
    async fn start(txt: HashMap<String, Vec<String>>, a: HashMap<String, [u8; 4]>) -> Dns {
        let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
                if let Some(reply) = answer(&buf[..n], &txt, &a) {
                    let _ = sock.send_to(&reply, peer).await;
                }
            }
        });
        Dns { addr }
    }
}

/// A reply to one query: its question, then the TXT or A answers for the name (NXDOMAIN for names
/// without any record at all).
fn answer(
    q: &[u8],
    txt: &HashMap<String, Vec<String>>,
    a: &HashMap<String, [u8; 4]>,
) -> Option<Vec<u8>> {
    let mut i = 12;
    let mut labels = Vec::new();
    while *q.get(i)? != 0 {
        let len = q[i] as usize;
        labels.push(String::from_utf8_lossy(q.get(i + 1..i + 1 + len)?).to_ascii_lowercase());
        i += 1 + len;
    }
    let qtype = u16::from_be_bytes([*q.get(i + 1)?, *q.get(i + 2)?]);
    let question_end = i + 5;
    let name = labels.join(".");
    let known = txt.contains_key(&name) || a.contains_key(&name);
    let mut rdatas: Vec<(u16, Vec<u8>)> = Vec::new();
    if qtype == 16 {
        for s in txt.get(&name).into_iter().flatten() {
            let mut rd = Vec::new();
            for chunk in s.as_bytes().chunks(255) {
                rd.push(chunk.len() as u8);
                rd.extend_from_slice(chunk);
            }
            rdatas.push((16, rd));
        }
    } else if qtype == 1
        && let Some(ip) = a.get(&name)
    {
        rdatas.push((1, ip.to_vec()));
    }
    let mut r = Vec::new();
    r.extend_from_slice(&q[..2]);
    r.extend_from_slice(if known { &[0x81, 0x80] } else { &[0x81, 0x83] });
    r.extend_from_slice(&[0, 1]);
    r.extend_from_slice(&(rdatas.len() as u16).to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r.extend_from_slice(q.get(12..question_end)?);
    for (t, rd) in rdatas {
        r.extend_from_slice(&[0xc0, 0x0c]);
        r.extend_from_slice(&t.to_be_bytes());
        r.extend_from_slice(&[0, 1, 0, 0, 0, 0]);
        r.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        r.extend_from_slice(&rd);
    }
    Some(r)
}

/// An HTTPS server on loopback for DOMAIN, with a certificate from a CA made for the test: it answers
/// every request with `body`.
struct WellKnownServer {
    port: u16,
    ca_file: PathBuf,
}

async fn well_known_server(dir: &Path, body: String) -> WellKnownServer {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec![DOMAIN.to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let ca_file = dir.join("test-ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, body) = (acceptor.clone(), body.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let path_ok = req.starts_with(b"GET /.well-known/mcp-registry-auth ");
                let (status, body) = if path_ok {
                    ("200 OK", body)
                } else {
                    ("404 Not Found", String::new())
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    WellKnownServer { port, ca_file }
}

/// The test's keys: an Ed25519 seed (DNS) and a P-384 scalar (HTTP), as the CLI takes them (hex).
const ED25519_SEED: [u8; 32] = [0x11; 32];
const P384_SCALAR: [u8; 48] = [0x22; 48];

fn ed25519_record(seed: &[u8; 32]) -> String {
    use ring::signature::KeyPair;
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed).unwrap();
    let key = base64::engine::general_purpose::STANDARD.encode(pair.public_key().as_ref());
    format!("v=MCPv1; k=ed25519; p={key}")
}

fn p384_record() -> String {
    let sk = p384::ecdsa::SigningKey::from_slice(&P384_SCALAR).unwrap();
    let point = sk.verifying_key().to_encoded_point(true);
    let key = base64::engine::general_purpose::STANDARD.encode(point.as_bytes());
    format!("v=MCPv1; k=ecdsap384; p={key}")
}

async fn registry(kind: Kind, dns: &Dns, wk: &WellKnownServer, dir: &Path) -> TestServer {
    let key_file = dir.join("jwt.key");
    std::fs::write(&key_file, hex::encode([0x33u8; 32])).unwrap();
    let (dns_addr, ca, port) = (dns.addr.to_string(), wk.ca_file.clone(), wk.port);
    TestServer::start_with(kind, move |c| {
        c.auth.jwt.signing_key_file = key_file.display().to_string();
        let ex = &mut c.auth.exchanges;
        ex.none.enabled = true;
        ex.dns.enabled = true;
        ex.dns.resolver = dns_addr.clone();
        ex.http.enabled = true;
        ex.http.resolver = dns_addr;
        ex.http.ca_file = ca.display().to_string();
        ex.http.port = port;
        ex.http.allow_private_addresses = true;
    })
    .await
}

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
    let (st, v, _) = srv
        .req(reqwest::Method::POST, "/v0/auth/none", None, None)
        .await;
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
    let (st, v, _) = srv
        .req(
            reqwest::Method::POST,
            "/v0/auth/dns",
            None,
            Some(&body(&old, &sig)),
        )
        .await;
    assert_eq!(st, reqwest::StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["detail"], "DNS authentication failed");
    assert_eq!(
        v["errors"][0]["message"],
        "timestamp outside valid window (±15 seconds)"
    );
    // A missing field is huma's 422.
    let (st, v, _) = srv
        .req(
            reqwest::Method::POST,
            "/v0/auth/dns",
            None,
            Some(&serde_json::json!({"domain": DOMAIN})),
        )
        .await;
    assert_eq!(st, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // An empty well-known document.
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let sig = hex::encode(pair.sign(now.as_bytes()).as_ref());
    let (st, v, _) = srv
        .req(
            reqwest::Method::POST,
            "/v0/auth/http",
            None,
            Some(&body(&now, &sig)),
        )
        .await;
    assert_eq!(st, reqwest::StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["detail"], "HTTP authentication failed");
    // The registry token of one registry is refused by another (another signing key).
    let (st, v, _) = srv
        .req(reqwest::Method::POST, "/v0/auth/none", None, None)
        .await;
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

/// A free loopback port (bound and released: the caller binds it again right away).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An OIDC issuer on loopback, signing RS256 with the test RSA key: discovery, JWKS, and GitHub Actions'
/// token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`: bearer request token, `&audience=` echoed into `aud`).
struct TestIssuer {
    url: String,
}

const REQUEST_TOKEN: &str = "actions-request-token";

fn rsa() -> ring::signature::RsaKeyPair {
    ring::signature::RsaKeyPair::from_der(include_bytes!("fixtures/keys/test-rsa-2048.pkcs1.der"))
        .unwrap()
}

fn sign_rs256(claims: &serde_json::Value) -> String {
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let header = serde_json::json!({"alg": "RS256", "kid": "test-key", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let pair = rsa();
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", b64(&sig))
}

impl TestIssuer {
    async fn start(extra_claims: serde_json::Value) -> TestIssuer {
        use axum::extract::{Query, State};
        use axum::http::HeaderMap;
        use axum::routing::get;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let public: ring::rsa::PublicKeyComponents<Vec<u8>> = rsa().public().into();
        let jwks = serde_json::json!({"keys": [{"kty": "RSA", "kid": "test-key", "alg": "RS256", "use": "sig",
            "n": b64(&public.n), "e": b64(&public.e)}]});
        let discovery = serde_json::json!({"issuer": url, "jwks_uri": format!("{url}/jwks")});
        let state = (url.clone(), extra_claims);
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { axum::Json(discovery) }),
            )
            // Strict like a Kubernetes API server: the JWKS only as application/jwk-set+json.
            .route(
                "/jwks",
                get(move |h: HeaderMap| async move {
                    let accept = h
                        .get("accept")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    if !accept.contains("application/jwk-set+json") {
                        return Err(axum::http::StatusCode::NOT_ACCEPTABLE);
                    }
                    Ok(axum::Json(jwks))
                }),
            )
            .route(
                "/token",
                get(
                    |State((iss, extra)): State<(String, serde_json::Value)>,
                     headers: HeaderMap,
                     Query(q): Query<HashMap<String, String>>| async move {
                        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
                        if auth != Some(&format!("Bearer {REQUEST_TOKEN}")) {
                            return Err(axum::http::StatusCode::UNAUTHORIZED);
                        }
                        let now = chrono::Utc::now().timestamp();
                        let mut claims = serde_json::json!({"iss": iss, "aud": q.get("audience"),
                            "iat": now, "nbf": now, "exp": now + 300});
                        for (k, v) in extra.as_object().unwrap() {
                            claims[k] = v.clone();
                        }
                        Ok(axum::Json(
                            serde_json::json!({"value": sign_rs256(&claims)}),
                        ))
                    },
                ),
            )
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        TestIssuer { url }
    }
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
            srv.req(
                reqwest::Method::POST,
                "/v0/auth/oidc",
                None,
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

/// A GitHub REST API on loopback: `/user` for one token, its organization memberships (admin of one,
/// member of another).
async fn fake_github() -> String {
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;
    let authorized = |h: &HeaderMap| {
        h.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer gho_good")
    };
    let app = axum::Router::new()
        .route(
            "/user",
            get(move |h: HeaderMap| async move {
                if authorized(&h) {
                    Ok(axum::Json(serde_json::json!({"login": "octocat"})))
                } else {
                    Err(StatusCode::UNAUTHORIZED)
                }
            }),
        )
        .route(
            "/user/memberships/orgs",
            get(move |h: HeaderMap| async move {
                if !authorized(&h) {
                    return Err(StatusCode::UNAUTHORIZED);
                }
                Ok(axum::Json(serde_json::json!([
                    {"state": "active", "role": "admin", "organization": {"login": "octo-org"}},
                    {"state": "active", "role": "member", "organization": {"login": "other-org"}},
                ])))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
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
