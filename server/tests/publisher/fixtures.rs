//! What the publisher tests run against: the official CLI as a user runs it, a DNS server, an HTTPS
//! server with a test CA, an OIDC issuer (GitHub Actions' token endpoint too) and a GitHub API, all on
//! loopback, and a registry with the exchanges configured.

use super::common::Kind;
use super::common::http::TestServer;
use base64::Engine;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const DOMAIN: &str = "example.test";
/// What DOMAIN proves: its reversed form.
pub const NS: &str = "test.example";

pub fn publisher_bin() -> PathBuf {
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
pub struct Cli {
    pub home: tempfile::TempDir,
}

impl Cli {
    pub fn new() -> Cli {
        Cli {
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs `mcp-publisher args…`; (success, stdout + stderr).
    pub fn run(&self, args: &[&str]) -> (bool, String) {
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

    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, text) = self.run(args);
        assert!(ok, "mcp-publisher {args:?} failed:\n{text}");
        text
    }

    pub fn write_server(&self, name: &str, version: &str) {
        let doc = serde_json::json!({
            "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            "name": name, "description": "published by mcp-publisher", "version": version,
        });
        std::fs::write(self.home.path().join("server.json"), doc.to_string()).unwrap();
    }

    /// Publishes `name@version`; (success, output).
    pub fn publish(&self, name: &str, version: &str) -> (bool, String) {
        self.write_server(name, version);
        self.run(&["publish"])
    }
}

/// A DNS server on loopback UDP: TXT records per name, and A records (for the HTTP proof's fetch).
pub struct Dns {
    pub addr: SocketAddr,
}

impl Dns {
    pub async fn start(txt: HashMap<String, Vec<String>>, a: HashMap<String, [u8; 4]>) -> Dns {
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
pub fn answer(
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
pub struct WellKnownServer {
    pub port: u16,
    pub ca_file: PathBuf,
}

pub async fn well_known_server(dir: &Path, body: String) -> WellKnownServer {
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
pub const ED25519_SEED: [u8; 32] = [0x11; 32];
pub const P384_SCALAR: [u8; 48] = [0x22; 48];

pub fn ed25519_record(seed: &[u8; 32]) -> String {
    use ring::signature::KeyPair;
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed).unwrap();
    let key = base64::engine::general_purpose::STANDARD.encode(pair.public_key().as_ref());
    format!("v=MCPv1; k=ed25519; p={key}")
}

pub fn p384_record() -> String {
    let sk = p384::ecdsa::SigningKey::from_slice(&P384_SCALAR).unwrap();
    let point = sk.verifying_key().to_encoded_point(true);
    let key = base64::engine::general_purpose::STANDARD.encode(point.as_bytes());
    format!("v=MCPv1; k=ecdsap384; p={key}")
}

pub async fn registry(kind: Kind, dns: &Dns, wk: &WellKnownServer, dir: &Path) -> TestServer {
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

/// A free loopback port (bound and released: the caller binds it again right away).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An OIDC issuer on loopback, signing RS256 with the test RSA key: discovery, JWKS, and GitHub Actions'
/// token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`: bearer request token, `&audience=` echoed into `aud`).
pub struct TestIssuer {
    pub url: String,
}

pub const REQUEST_TOKEN: &str = "actions-request-token";

pub fn rsa() -> ring::signature::RsaKeyPair {
    ring::signature::RsaKeyPair::from_der(include_bytes!(
        "../fixtures/keys/test-rsa-2048.pkcs1.der"
    ))
    .unwrap()
}

pub fn sign_rs256(claims: &serde_json::Value) -> String {
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
    pub async fn start(extra_claims: serde_json::Value) -> TestIssuer {
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

/// A GitHub REST API on loopback: `/user` for one token, its organization memberships (admin of one,
/// member of another).
pub async fn fake_github() -> String {
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

/// `POST path` with an optional JSON body and no token; any status is an answer.
pub async fn post(
    srv: &TestServer,
    path: &str,
    body: Option<&serde_json::Value>,
) -> (
    reqwest::StatusCode,
    serde_json::Value,
    reqwest::header::HeaderMap,
) {
    srv.req(reqwest::Method::POST, path, None, body).await
}
