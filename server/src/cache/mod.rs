//! Read cache for list pages, version lists and gets: the backends ([`memory`], [`redis`]) behind the store layer
//! [`crate::store::layers::cached::Cached`].
//!
//! Invalidation is by generation, so it is exact and works across replicas: every cached entry's key
//! contains the current generation of its scope (one for all list pages, one per server name), and every
//! write bumps the generations it affects **before** the write's response is sent. A reader that starts
//! after a write returned reads the new generation and misses; a reader that raced the write may store an
//! entry under the old generation, which nobody reads again. With Redis, generation and entry are read in
//! one round trip (a Lua script); without Redis the same scheme runs in process.
//!
//! Redis failures never fail a request: reads fall through to the store. A write whose invalidation could
//! not reach Redis marks an outage; when Redis answers again the cache's epoch is bumped, which retires
//! every entry written before the outage.

pub mod memory;
pub mod redis;

use async_trait::async_trait;

/// What a cached entry depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Any list page: every write changes some page.
    Lists,
    /// Everything about one server name.
    Server(String),
}

/// A cache lookup: the entry, or the generation to store a fresh value under.
pub enum Lookup {
    Hit(Vec<u8>),
    Miss(String),
    Unavailable,
}

#[async_trait]
pub trait CacheBackend: Send + Sync {
    fn kind(&self) -> &'static str;
    async fn get(&self, scope: &Scope, key: &str) -> Lookup;
    async fn put(&self, scope: &Scope, generation: &str, key: &str, value: Vec<u8>);
    /// Retire everything that depends on `name` (its entries and every list page).
    async fn invalidate(&self, name: &str);
}
