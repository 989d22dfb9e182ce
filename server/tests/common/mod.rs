//! Shared test support: server.json fixtures written for this project, and fresh stores per backend.
//!
//! PostgreSQL comes from `TEST_POSTGRES_URL` (scripts/test starts a throwaway server and sets it). A test
//! that needs it fails, naming the variable, when it is missing: it never passes silently.

#![allow(dead_code)]

pub mod http;

use mcp_registry::store::PostgresStore;
use mcp_registry::store::SqliteStore;
use mcp_registry::store::mongo::MongoStore;
use mcp_registry::store::{DynStore, NewVersion};
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const SCHEMA: &str =
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    /// A MongoDB-wire server: FerretDB here (scripts/test), real MongoDB in the GitHub workflow.
    Mongo,
}

/// A fresh, migrated store. Keeps its temp dir (SQLite) alive as long as the store.
pub struct TestStore {
    pub store: DynStore,
    /// PostgreSQL: how to open another store on the same schema (a second replica).
    pub pg: Option<PgConnectOptions>,
    _dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for TestStore {
    type Target = DynStore;
    fn deref(&self) -> &DynStore {
        &self.store
    }
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

pub fn postgres_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "TEST_POSTGRES_URL is not set: the PostgreSQL contract tests need a real server. \
             Run scripts/test (it installs and starts PostgreSQL on loopback), or set \
             TEST_POSTGRES_URL=postgres://USER:PASSWORD@127.0.0.1:PORT/DB yourself."
        )
    })
}

/// A schema of its own per test in the shared test database, so tests run in parallel without seeing
/// each other's rows. `public` stays on the path for extensions (pg_trgm).
pub async fn postgres_options() -> PgConnectOptions {
    let url = postgres_url();
    let base = PgConnectOptions::from_str(&url).expect("TEST_POSTGRES_URL parses");
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    let admin = sqlx::PgPool::connect_with(base.clone())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to TEST_POSTGRES_URL ({url}): {e}"));
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        .execute(&admin)
        .await
        .ok();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("create test schema");
    admin.close().await;
    base.options([("search_path", format!("{schema},public"))])
}

pub fn mongodb_url() -> String {
    std::env::var("TEST_MONGODB_URL").unwrap_or_else(|_| {
        panic!(
            "TEST_MONGODB_URL is not set: the MongoDB contract tests need a real MongoDB-wire server. \
             Run scripts/test (it builds and starts FerretDB on loopback), or set \
             TEST_MONGODB_URL=mongodb://127.0.0.1:PORT/ yourself."
        )
    })
}

pub async fn store(kind: Kind) -> TestStore {
    let mut pg = None;
    let (store, dir): (DynStore, _) = match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let s = SqliteStore::open(&dir.path().join("registry.db"))
                .await
                .expect("open sqlite");
            (Arc::new(s), Some(dir))
        }
        Kind::Postgres => {
            let opts = postgres_options().await;
            pg = Some(opts.clone());
            (Arc::new(PostgresStore::connect_lazy(opts, None, 20)), None)
        }
        Kind::Mongo => {
            // A database of its own per test.
            let db = format!(
                "t_{}_{}_{}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::SeqCst),
                chrono::Utc::now().timestamp_micros() % 1_000_000
            );
            let s = MongoStore::connect(&mongodb_url(), None, &db)
                .await
                .expect("mongodb client");
            (Arc::new(s), None)
        }
    };
    store.migrate().await.expect("migrate");
    TestStore {
        store,
        pg,
        _dir: dir,
    }
}

/// A minimal valid server.json.
pub fn server(name: &str, version: &str) -> Value {
    json!({
        "$schema": SCHEMA,
        "name": name,
        "description": "A test server",
        "version": version,
    })
}

pub fn with_remote(name: &str, version: &str, url: &str) -> Value {
    let mut s = server(name, version);
    s["remotes"] = json!([{ "type": "streamable-http", "url": url }]);
    s
}

pub fn new_version(doc: &Value) -> NewVersion {
    NewVersion {
        name: doc["name"].as_str().unwrap().to_owned(),
        version: doc["version"].as_str().unwrap().to_owned(),
        server_json: doc.to_string(),
    }
}
