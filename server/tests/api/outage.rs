//! The database goes away under a running registry (a TCP proxy in front of PostgreSQL, cut and restored):
//! writes fail fast with 503 and `Retry-After`, cached reads keep answering, readiness holds for
//! `storage.unready_after` and then follows the store, and everything works again once the database is back.

use super::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A loopback proxy to `target` that can be cut (listener and every connection dropped) and restored on
/// the same port.
struct Proxy {
    port: u16,
    target: String,
    tasks: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let port = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let p = Proxy {
            port,
            target,
            tasks: Default::default(),
        };
        p.restore().await;
        p
    }

    /// A proxy in front of the tests' PostgreSQL.
    async fn to_test_postgres() -> Proxy {
        let url = url::Url::parse(&common::postgres_url()).unwrap();
        let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
        Proxy::start(target).await
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let (target, tasks) = (self.target.clone(), self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

const UNREADY_AFTER: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_fails_writes_fast_and_serves_cached_reads() {
    let direct = TestServer::start(Kind::Postgres).await;
    let proxy = Proxy::to_test_postgres().await;
    let srv = TestServer::start_through(&direct, proxy.port, Duration::from_secs(2), |c| {
        c.cache.ttl = Duration::from_secs(300);
        c.storage.unready_after = UNREADY_AFTER;
    })
    .await;
    let (st, v) = srv
        .publish(
            Some(PUBLISHER_TOKEN),
            &server("com.example/outage", "1.0.0"),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    srv.publish(
        Some(PUBLISHER_TOKEN),
        &server("com.example/steady", "1.0.0"),
    )
    .await;
    // A write, even a failed one, retires the cache entries of its name: read another one during the outage.
    let page = "/v0.1/servers/com.example%2Fsteady/versions/latest";
    assert_eq!(srv.get(page).await.0, StatusCode::OK, "cached now");
    assert_eq!(srv.get("/readyz").await.0, StatusCode::OK);

    proxy.cut();
    let t = Instant::now();
    let (st, v, h) = srv
        .req(
            Method::POST,
            "/v0.1/publish",
            Some(PUBLISHER_TOKEN),
            Some(&server("com.example/outage", "2.0.0")),
        )
        .await;
    let took = t.elapsed();
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(h["retry-after"], "2");
    assert!(
        took < Duration::from_millis(3500),
        "a write failed after {took:?}, not fast"
    );
    let mut served = 0;
    for _ in 0..20 {
        if srv.get(page).await.0 == StatusCode::OK {
            served += 1;
        }
    }
    assert_eq!(served, 20, "cached reads answer during the outage");
    let (st, v) = srv.get("/readyz").await;
    assert_eq!(
        (st, &v["store"]),
        (StatusCode::OK, &json!("unreachable")),
        "a short outage keeps the pod in the Service: {v}"
    );
    tokio::time::sleep(UNREADY_AFTER.saturating_sub(t.elapsed()) + Duration::from_secs(1)).await;
    let (st, v) = srv.get("/readyz").await;
    assert_eq!(
        st,
        StatusCode::SERVICE_UNAVAILABLE,
        "past storage.unready_after readiness follows the store: {v}"
    );

    proxy.restore().await;
    let t = Instant::now();
    loop {
        let (st, _) = srv
            .publish(
                Some(PUBLISHER_TOKEN),
                &server("com.example/outage", "2.0.0"),
            )
            .await;
        if st == StatusCode::OK {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no recovery within 10 s (last {st})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered = t.elapsed();
    assert_eq!(srv.get("/readyz").await.0, StatusCode::OK);
    let (_, v) = direct
        .get("/v0.1/servers/com.example%2Foutage/versions")
        .await;
    assert_eq!(
        v["metadata"]["count"], 2,
        "every acknowledged publish is there: {v}"
    );
    // The figures of the drill, for the record (`cargo test … outage -- --nocapture`).
    eprintln!(
        "outage drill: a write failed after {took:?} (503, Retry-After 2); {served}/20 cached reads served during the outage; writes recovered {recovered:?} after the database came back; 2 of 2 acknowledged publishes present"
    );
}

/// `storage.unready_after` covers only a pod that has been ready: one that never reached its store (wrong
/// address or credentials after an upgrade) never enters the Service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_that_never_reached_its_store_is_not_ready() {
    let direct = TestServer::start(Kind::Postgres).await;
    let proxy = Proxy::to_test_postgres().await;
    proxy.cut();
    let srv = TestServer::start_through(&direct, proxy.port, Duration::from_secs(1), |_| {}).await;
    let (st, v) = srv.get("/readyz").await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["status"], "unavailable", "{v}");
    proxy.restore().await;
    let (st, v) = srv.get("/readyz").await;
    assert_eq!((st, &v["store"]), (StatusCode::OK, &json!("up")), "{v}");
}
