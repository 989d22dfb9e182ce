//! A real registry on a loopback port (the same builder and router as `mcp-registry serve`), and a
//! small client for tests.

use super::Kind;
use mcp_registry::app;
use mcp_registry::auth::sha256_hex;
use mcp_registry::config::{Config, TokenConfig};
use mcp_registry_client::RegistryClient;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;

pub const ADMIN_TOKEN: &str = "admin-token";
pub const PUBLISHER_TOKEN: &str = "publisher-token";

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// The workspace's API client on `client` (tests that need raw reqwest use `client`).
    api: RegistryClient,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
    _store: super::TestStore,
}

pub fn base_config(dir: &std::path::Path) -> Config {
    let mut c = Config::default();
    c.server.listen = "127.0.0.1:0".into();
    c.storage.sqlite.path = dir.join("registry.db");
    c.server.shutdown_drain = std::time::Duration::from_millis(0);
    c.server.shutdown_grace = std::time::Duration::from_secs(5);
    c.auth.tokens = vec![
        TokenConfig {
            name: "admin".into(),
            sha256: sha256_hex(ADMIN_TOKEN),
            admin: true,
            ..Default::default()
        },
        TokenConfig {
            name: "publisher".into(),
            sha256: sha256_hex(PUBLISHER_TOKEN),
            namespaces: vec!["com.example/*".into(), "io.github.someone/exact".into()],
            ..Default::default()
        },
    ];
    c
}

impl TestServer {
    pub async fn start(kind: Kind) -> TestServer {
        Self::start_with(kind, |_| {}).await
    }

    pub async fn start_with(kind: Kind, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let mut config = base_config(dir.path());
        tweak(&mut config);
        // The store the contract suite uses for this backend (a schema or database of its own).
        let store = super::store(kind).await;
        let state = app::state_for(config.resolve().unwrap(), store.store.clone()).unwrap();
        Self::serve(state, dir, store).await
    }

    /// A second registry on the same PostgreSQL schema as `other` (a replica of the same deployment).
    pub async fn start_sharing(other: &TestServer, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let opts = other
            ._store
            .pg
            .clone()
            .expect("start_sharing needs a PostgreSQL-backed server");
        let dir = tempfile::tempdir().unwrap();
        let mut config = base_config(dir.path());
        tweak(&mut config);
        let store: mcp_registry::store::DynStore = std::sync::Arc::new(
            mcp_registry::store::PostgresStore::connect_lazy(opts.clone(), None, 10),
        );
        let state = app::state_for(config.resolve().unwrap(), store.clone()).unwrap();
        Self::serve(
            state,
            dir,
            super::TestStore {
                store,
                pg: Some(opts),
                _dir: None,
            },
        )
        .await
    }

    /// A registry on the same PostgreSQL schema as `other`, reaching the database through `port` on
    /// loopback (a proxy the test can cut), failing fast after `connect_timeout`.
    pub async fn start_through(
        other: &TestServer,
        port: u16,
        connect_timeout: std::time::Duration,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        let opts = other
            ._store
            .pg
            .clone()
            .expect("start_through needs PostgreSQL");
        let via = opts.clone().host("127.0.0.1").port(port);
        let dir = tempfile::tempdir().unwrap();
        let mut config = base_config(dir.path());
        tweak(&mut config);
        let store: mcp_registry::store::DynStore = std::sync::Arc::new(
            mcp_registry::store::PostgresStore::connect_lazy_failing_after(
                via,
                None,
                10,
                connect_timeout,
            ),
        );
        let state = app::state_for(config.resolve().unwrap(), store.clone()).unwrap();
        let test_store = super::TestStore {
            store,
            pg: Some(opts),
            _dir: None,
        };
        Self::serve(state, dir, test_store).await
    }

    async fn serve(
        state: mcp_registry::api::AppState,
        dir: tempfile::TempDir,
        store: super::TestStore,
    ) -> TestServer {
        // A test that needs to know the address before the start (an audience, a public URL) sets
        // `server.listen` to a port of its own; otherwise any free port.
        let listener = tokio::net::TcpListener::bind(state.config.server.listen.as_str())
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let client = reqwest::Client::builder().build().unwrap();
        let handle = tokio::spawn(mcp_registry::serve::run(state, listener, async move {
            let _ = rx.await;
        }));
        TestServer {
            base: format!("http://{addr}"),
            addr,
            client: client.clone(),
            api: RegistryClient::from_http(client, format!("http://{addr}"), None),
            stop: Some(tx),
            handle: Some(handle),
            _dir: dir,
            _store: store,
        }
    }

    /// Send SIGTERM-equivalent and wait for the server to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
    }

    pub fn trigger_stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// One request through the workspace's API client; any status is an answer.
    pub async fn req(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let reply = self.api.send(method, path, token, body).await.unwrap();
        (reply.status, reply.body, reply.headers)
    }

    /// How to reach this server's PostgreSQL schema directly (panics on other backends).
    pub fn pg_options(&self) -> sqlx::postgres::PgConnectOptions {
        self._store.pg.clone().expect("a PostgreSQL test server")
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, v, _) = self.req(Method::GET, path, None, None).await;
        (s, v)
    }

    pub async fn publish(&self, token: Option<&str>, doc: &Value) -> (StatusCode, Value) {
        let (s, v, _) = self
            .req(Method::POST, "/v0.1/publish", token, Some(doc))
            .await;
        (s, v)
    }
}

/// `_meta["io.modelcontextprotocol.registry/official"]` of a ServerResponse.
pub fn official(v: &Value) -> &Value {
    &v["_meta"]["io.modelcontextprotocol.registry/official"]
}
