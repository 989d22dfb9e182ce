//! Two downstream replicas on one PostgreSQL schema, both scheduling the same source: the lease lets one
//! run per interval happen, whoever runs it. And the proxy other tests cut to take an upstream away.

use super::*;
use crate::common::http::PUBLISHER_TOKEN;
use crate::common::server;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A TCP proxy to `target` on a port of its own; [`Proxy::cut`] drops every connection and refuses new
/// ones until [`Proxy::restore`].
pub struct Proxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    generation: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let (flag, gen_tx) = (up.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !flag.load(Ordering::SeqCst) {
                    drop(inbound); // refused: closed at once
                    continue;
                }
                let mut cut = gen_tx.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy {
            addr,
            up,
            generation,
        }
    }

    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn status(srv: &TestServer) -> Value {
    let (st, s, _) = srv
        .req(Method::GET, "/v0.1/admin/sync", Some(ADMIN_TOKEN), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{s}");
    s["sources"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_make_one_run_per_interval() {
    let up = TestServer::start(Kind::Postgres).await;
    for n in 0..5 {
        let (st, _) = up
            .publish(
                Some(PUBLISHER_TOKEN),
                &server(&format!("com.example/p{n}"), "1.0.0"),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
    }
    let interval = Duration::from_secs(2);
    let mut source = registry_source("upstream", &up.base);
    source.interval = interval;
    let a = downstream(Kind::Postgres, source.clone()).await;
    let b = TestServer::start_sharing(&a, |c| c.sync.sources = vec![source.clone()]).await;
    converges(&up, &a, Duration::from_secs(10)).await;
    // Watch the shared record for several intervals.
    let watch = interval * 5;
    let before = status(&a).await["runs"].as_u64().unwrap();
    tokio::time::sleep(watch).await;
    let after_a = status(&a).await;
    let after_b = status(&b).await;
    assert_eq!(
        after_a["runs"], after_b["runs"],
        "both replicas read one record"
    );
    let runs = after_a["runs"].as_u64().unwrap() - before;
    // One run per interval (a run ends, the next is due `interval` later): 5 intervals → 4 to 6 runs,
    // not twice that.
    assert!(
        (4..=6).contains(&runs),
        "{runs} runs in {watch:?} at {interval:?}: {after_a}"
    );
    // Both replicas took part over time or one did all: either way the holders are theirs.
    let holder = after_a["lastRun"]["holder"].as_str().unwrap();
    assert!(!holder.is_empty(), "{after_a}");
}
