//! The in-process cache ([`LocalCache`]): the generation scheme of the module docs in memory, bounded by
//! bytes (`cache.max_bytes`), not by entries: a few large pages must not grow the process without limit.

use super::{CacheBackend, Lookup, Scope};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What an entry costs besides its key and value (map slots, the order index, the expiry).
const ENTRY_OVERHEAD: usize = 96;

pub struct LocalCache {
    ttl: Duration,
    max_bytes: usize,
    inner: Mutex<LocalInner>,
}

struct Entry {
    expires: Instant,
    value: Vec<u8>,
    seq: u64,
}

#[derive(Default)]
struct LocalInner {
    generations: HashMap<String, u64>,
    entries: HashMap<String, Entry>,
    /// Insertion order, oldest first: what is evicted when the bytes run out.
    order: BTreeMap<u64, String>,
    next_seq: u64,
    bytes: usize,
}

fn scope_key(scope: &Scope) -> String {
    match scope {
        Scope::Lists => "lists".into(),
        Scope::Server(n) => format!("server:{n}"),
    }
}

fn cost(key: &str, value: &[u8]) -> usize {
    2 * key.len() + value.len() + ENTRY_OVERHEAD
}

impl LocalInner {
    fn remove(&mut self, key: &str) {
        if let Some(e) = self.entries.remove(key) {
            self.order.remove(&e.seq);
            self.bytes -= cost(key, &e.value);
        }
    }

    /// Make room for `need` bytes within `max`: expired entries first, then the oldest.
    fn make_room(&mut self, need: usize, max: usize) {
        if self.bytes + need <= max {
            return;
        }
        let now = Instant::now();
        let expired: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| e.expires <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in expired {
            self.remove(&k);
        }
        while self.bytes + need > max {
            let Some((_, k)) = self.order.pop_first() else {
                break;
            };
            if let Some(e) = self.entries.remove(&k) {
                self.bytes -= cost(&k, &e.value);
            }
        }
    }
}

impl LocalCache {
    pub fn new(ttl: Duration, max_bytes: usize) -> Arc<Self> {
        Arc::new(LocalCache {
            ttl,
            max_bytes,
            inner: Mutex::new(LocalInner::default()),
        })
    }

    /// Bytes held now (keys, values and the per-entry overhead).
    pub fn bytes(&self) -> usize {
        self.inner.lock().expect("cache lock").bytes
    }
}

#[async_trait]
impl CacheBackend for LocalCache {
    fn kind(&self) -> &'static str {
        "local"
    }
    async fn get(&self, scope: &Scope, key: &str) -> Lookup {
        let inner = self.inner.lock().expect("cache lock");
        let sk = scope_key(scope);
        let g = inner.generations.get(&sk).copied().unwrap_or(0).to_string();
        match inner.entries.get(&format!("{sk}|{g}|{key}")) {
            Some(e) if e.expires > Instant::now() => Lookup::Hit(e.value.clone()),
            _ => Lookup::Miss(g),
        }
    }
    async fn put(&self, scope: &Scope, generation: &str, key: &str, value: Vec<u8>) {
        let k = format!("{}|{generation}|{key}", scope_key(scope));
        let need = cost(&k, &value);
        // An entry that would take more than an eighth of the cache is not worth the evictions.
        if need > self.max_bytes / 8 {
            return;
        }
        let mut inner = self.inner.lock().expect("cache lock");
        inner.remove(&k);
        inner.make_room(need, self.max_bytes);
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.order.insert(seq, k.clone());
        inner.bytes += need;
        let expires = Instant::now() + self.ttl;
        inner.entries.insert(
            k,
            Entry {
                expires,
                value,
                seq,
            },
        );
    }
    async fn invalidate(&self, name: &str) {
        let mut inner = self.inner.lock().expect("cache lock");
        for sk in [
            scope_key(&Scope::Lists),
            scope_key(&Scope::Server(name.to_owned())),
        ] {
            *inner.generations.entry(sk.clone()).or_insert(0) += 1;
            let prefix = format!("{sk}|");
            let gone: Vec<String> = inner
                .entries
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .cloned()
                .collect();
            for k in gone {
                inner.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_cache_stays_within_its_bytes_and_evicts_the_oldest() {
        let c = LocalCache::new(Duration::from_secs(60), 100_000);
        for i in 0..3000 {
            c.put(
                &Scope::Lists,
                "0",
                &format!("search-{i}"),
                vec![b'x'; 3_000],
            )
            .await;
            assert!(c.bytes() <= 100_000, "{} bytes after {i}", c.bytes());
        }
        assert!(matches!(
            c.get(&Scope::Lists, "search-2999").await,
            Lookup::Hit(_)
        ));
        assert!(matches!(
            c.get(&Scope::Lists, "search-0").await,
            Lookup::Miss(_)
        ));
        // An entry too big for the cache is not stored (and evicts nothing).
        let before = c.bytes();
        c.put(&Scope::Lists, "0", "huge", vec![0; 50_000]).await;
        assert!(matches!(
            c.get(&Scope::Lists, "huge").await,
            Lookup::Miss(_)
        ));
        assert_eq!(c.bytes(), before);
    }

    #[tokio::test]
    async fn invalidation_frees_the_bytes() {
        let c = LocalCache::new(Duration::from_secs(60), 1 << 20);
        c.put(&Scope::Server("a".into()), "0", "get", vec![1; 1000])
            .await;
        c.put(&Scope::Lists, "0", "page", vec![1; 1000]).await;
        assert!(c.bytes() > 2000);
        c.invalidate("a").await;
        assert_eq!(c.bytes(), 0);
        assert!(matches!(c.get(&Scope::Lists, "page").await, Lookup::Miss(g) if g == "1"));
    }
}
