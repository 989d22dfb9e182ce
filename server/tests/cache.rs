//! The read cache and rate limits against a real Redis: two registry processes sharing one store and one
//! Redis see each other's writes at once; a Redis outage degrades (reads from the store, per-process
//! limits, still ready) and recovers by itself; limits shared through Redis are exact under parallel load.

mod common;

use common::http::{ADMIN_TOKEN, TestServer};
use common::{Kind, server};
use mcp_registry::config::Config;
use reqwest::StatusCode;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("TEST_REDIS_URL is not set: the cache tests need a real Redis. Run scripts/test (it installs and starts Redis on loopback), or set TEST_REDIS_URL=redis://127.0.0.1:PORT/")
    })
}

/// A key prefix of its own per test, so tests sharing one Redis never see each other's keys.
fn prefix(test: &str) -> String {
    format!(
        "t{}-{test}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    )
}

fn with_redis(url: String, prefix: String) -> impl FnOnce(&mut Config) {
    move |c| {
        c.cache.redis_url = url;
        c.cache.key_prefix = prefix;
        c.cache.ttl = Duration::from_secs(60);
        c.rate_limit.enabled = false;
    }
}

async fn metric(srv: &TestServer, needle: &str) -> u64 {
    let (_, text) = srv.get("/metrics").await;
    text.as_str()
        .unwrap()
        .lines()
        .find(|l| l.starts_with(needle))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

const REDIS_HITS: &str = "mcp_registry_cache_requests_total{cache=\"redis\",result=\"hit\"}";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_replica_is_visible_on_the_other_at_once() {
    let p = prefix("xreplica");
    // Two registries on one PostgreSQL schema and one Redis: replicas of one deployment.
    let a = TestServer::start_with(Kind::Postgres, with_redis(redis_url(), p.clone())).await;
    let b = TestServer::start_sharing(&a, with_redis(redis_url(), p)).await;
    for i in 0..25 {
        let v = format!("1.0.{i}");
        // Warm B's view (twice: the second read is served from Redis).
        b.get("/v0.1/servers/com.example%2Fshared/versions/latest")
            .await;
        b.get("/v0.1/servers?search=shared").await;
        assert_eq!(
            a.publish(Some(ADMIN_TOKEN), &server("com.example/shared", &v))
                .await
                .0,
            StatusCode::OK
        );
        let (st, got) = b
            .get("/v0.1/servers/com.example%2Fshared/versions/latest")
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(
            got["server"]["version"],
            v.as_str(),
            "stale get on the other replica after write {i}"
        );
        let (_, list) = b.get("/v0.1/servers?search=shared").await;
        assert_eq!(
            list["metadata"]["count"],
            i + 1,
            "stale list page on the other replica after write {i}"
        );
    }
    let hits = metric(&b, REDIS_HITS).await;
    assert!(
        hits >= 20,
        "the cache was not used (hits={hits}): this test would prove nothing"
    );
}

struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    fn start(port: u16) -> OwnRedis {
        let bin = std::env::var("TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(&bin)
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {bin} (set TEST_REDIS_SERVER or install redis-server): {e}")
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        OwnRedis { child, port }
    }
    fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_outage_degrades_and_recovers_by_itself() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = OwnRedis::start(port);
    let url = format!("redis://127.0.0.1:{port}/");
    let srv = TestServer::start_with(Kind::Sqlite, |c| {
        with_redis(url.clone(), prefix("outage"))(c);
        c.rate_limit.enabled = true;
        c.rate_limit.reads_per_ip_per_minute = 6000;
        c.rate_limit.read_burst = 1000;
    })
    .await;
    srv.publish(Some(ADMIN_TOKEN), &server("com.example/out", "1.0.0"))
        .await;
    srv.get("/v0.1/servers/com.example%2Fout/versions/latest")
        .await;
    srv.get("/v0.1/servers/com.example%2Fout/versions/latest")
        .await;
    assert!(metric(&srv, REDIS_HITS).await >= 1);

    let port = redis.stop();
    // Reads come from the store, writes succeed and are visible, the server stays ready.
    let t0 = Instant::now();
    assert_eq!(
        srv.publish(Some(ADMIN_TOKEN), &server("com.example/out", "2.0.0"))
            .await
            .0,
        StatusCode::OK
    );
    let (st, v) = srv
        .get("/v0.1/servers/com.example%2Fout/versions/latest")
        .await;
    assert_eq!(
        (st, v["server"]["version"].as_str()),
        (StatusCode::OK, Some("2.0.0"))
    );
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "requests stalled on the dead Redis: {:?}",
        t0.elapsed()
    );
    let (st, ready) = srv.get("/readyz").await;
    assert_eq!(st, StatusCode::OK, "{ready}");
    assert_eq!(ready["redis"], "degraded");
    // Rate limiting still works, per process.
    assert_eq!(srv.get("/v0.1/servers").await.0, StatusCode::OK);

    // Redis comes back on the same address: the server picks it up without a restart.
    let _redis = OwnRedis::start(port);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let before = metric(&srv, REDIS_HITS).await;
        srv.get("/v0.1/servers/com.example%2Fout/versions/latest")
            .await;
        srv.get("/v0.1/servers/com.example%2Fout/versions/latest")
            .await;
        if metric(&srv, REDIS_HITS).await > before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the cache did not come back after Redis returned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        srv.publish(Some(ADMIN_TOKEN), &server("com.example/out", "3.0.0"))
            .await
            .0,
        StatusCode::OK
    );
    let (_, v) = srv
        .get("/v0.1/servers/com.example%2Fout/versions/latest")
        .await;
    assert_eq!(
        v["server"]["version"], "3.0.0",
        "invalidation works again after recovery"
    );
    assert_eq!(srv.get("/readyz").await.1["redis"], "up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readiness_can_require_redis() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let srv = TestServer::start_with(Kind::Sqlite, |c| {
        with_redis(format!("redis://127.0.0.1:{port}/"), prefix("ready"))(c);
        c.cache.required_for_readiness = true;
    })
    .await;
    assert_eq!(
        srv.get("/readyz").await.0,
        StatusCode::SERVICE_UNAVAILABLE,
        "no Redis yet"
    );
    assert_eq!(
        srv.get("/v0.1/servers").await.0,
        StatusCode::OK,
        "but reads are served"
    );
    let _redis = OwnRedis::start(port);
    let deadline = Instant::now() + Duration::from_secs(10);
    while srv.get("/readyz").await.0 != StatusCode::OK {
        assert!(Instant::now() < deadline, "not ready after Redis started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_rate_limit_is_exact_under_parallel_load_across_replicas() {
    let p = prefix("rl");
    let limit = |c: &mut Config| {
        c.rate_limit.enabled = true;
        c.rate_limit.reads_per_ip_per_minute = 1; // refill is negligible during the test
        c.rate_limit.read_burst = 40;
    };
    let a = TestServer::start_with(Kind::Sqlite, |c| {
        with_redis(redis_url(), p.clone())(c);
        limit(c);
    })
    .await;
    let b = TestServer::start_with(Kind::Sqlite, |c| {
        with_redis(redis_url(), p.clone())(c);
        limit(c);
    })
    .await;
    // One request each first, so both have their Redis connection: a limiter that cannot reach Redis in
    // time falls back to its per-process bucket, which is right in an outage but not what is measured here.
    assert_eq!(a.get("/v0.1/servers?limit=1").await.0, StatusCode::OK);
    assert_eq!(b.get("/v0.1/servers?limit=1").await.0, StatusCode::OK);
    let a = std::sync::Arc::new(a);
    let b = std::sync::Arc::new(b);
    let tasks: Vec<_> = (0..120)
        .map(|i| {
            let srv = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { srv.get("/v0.1/servers?limit=1").await.0 })
        })
        .collect();
    let mut ok = 0;
    let mut limited = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        (ok, limited),
        (38, 82),
        "one bucket of 40 per client IP, shared by both replicas"
    );
}
