//! The storage contract: every case runs unchanged on every backend, so a backend is correct exactly when
//! it passes this suite. The backend matrix is declared once, in [`contract_test!`]; add a backend by adding
//! a `Kind` there and in `tests/common`. The cases are split by topic into the modules below.

#[path = "../common/mod.rs"]
mod common;

/// One contract case, run on every backend: `contract_test! { async fn name(k) { … } }`, optionally with a
/// `#[tokio::test(…)]` runtime of its own first. `k` is the [`Kind`] of the store under test.
macro_rules! contract_test {
    (#[tokio::test($($rt:tt)*)] async fn $name:ident($k:ident) $body:block) => {
        #[rstest::rstest]
        #[tokio::test($($rt)*)]
        async fn $name(#[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] $k: Kind) $body
    };
    (async fn $name:ident($k:ident) $body:block) => {
        #[rstest::rstest]
        #[tokio::test]
        async fn $name(#[values(Kind::Sqlite, Kind::Postgres, Kind::Mongo)] $k: Kind) $body
    };
}

mod concurrency;
mod publish;
mod reads;
mod status;
mod synced;

use common::{Kind, new_version, server, store, with_remote};
use mcp_registry::model::Status;
use mcp_registry::store::{
    Cursor, DynStore, ListQuery, NewStatus, Rejection, StoreError, VersionFilter, VersionRef,
};
use std::collections::BTreeSet;

async fn publish(s: &DynStore, name: &str, version: &str) -> mcp_registry::model::ServerRecord {
    s.publish(new_version(&server(name, version)))
        .await
        .unwrap()
}

fn q(limit: usize) -> ListQuery {
    ListQuery {
        limit,
        ..Default::default()
    }
}

async fn latest_versions(s: &DynStore, name: &str) -> Vec<String> {
    s.versions(name, true)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.is_latest)
        .map(|r| r.version)
        .collect()
}

fn change(status: Status, message: Option<&str>) -> NewStatus {
    NewStatus {
        status,
        message: message.map(str::to_owned),
    }
}
