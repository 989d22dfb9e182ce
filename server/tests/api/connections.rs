//! The transport limits of `serve` on raw sockets: slow heads and idle connections are closed on their own
//! clocks, connections are capped, a slow body is 408, refusals from the HTTP parser are problem JSON,
//! and a write whose client left before it committed is not committed.

use super::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn limits(c: &mut mcp_registry::config::Config) {
    c.server.header_read_timeout = Duration::from_millis(400);
    c.server.idle_timeout = Duration::from_millis(1500);
    c.server.body_read_timeout = Duration::from_millis(400);
    c.server.max_connections = 4;
}

async fn start() -> TestServer {
    TestServer::start_with(Kind::Sqlite, limits).await
}

/// Reads one response (head and a `content-length` body); `None` when the server closed without one.
async fn response(s: &mut TcpStream) -> Option<(u16, String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    break;
                }
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the server neither answered nor closed within 10 s");
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((
        status,
        head,
        String::from_utf8_lossy(&buf[end + 4..]).into_owned(),
    ))
}

/// Whether the server closed the connection: EOF (or a reset) within `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut b = [0u8; 64];
    matches!(
        tokio::time::timeout(within, s.read(&mut b)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

fn problem(head: &str, body: &str, status: u16) -> Value {
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(v["status"], status, "{v}");
    assert!(v["title"].is_string() && v["detail"].is_string(), "{v}");
    v
}

const GET: &[u8] = b"GET /v0.1/servers HTTP/1.1\r\nhost: registry\r\n\r\n";

#[tokio::test]
async fn a_slow_request_head_is_cut_off_but_an_idle_connection_lives_longer() {
    let srv = start().await;
    let mut slow = TcpStream::connect(srv.addr).await.unwrap();
    slow.write_all(b"GET /v0.1/servers HTTP/1.1\r\nhost: r")
        .await
        .unwrap();
    let t = Instant::now();
    assert!(
        closed_within(&mut slow, Duration::from_secs(3)).await,
        "a slow head is cut off"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(350),
        "not before the header timeout"
    );

    let mut idle = TcpStream::connect(srv.addr).await.unwrap();
    idle.write_all(GET).await.unwrap();
    assert_eq!(response(&mut idle).await.unwrap().0, 200);
    // Longer than the header timeout, shorter than the idle timeout: still open, and it serves.
    tokio::time::sleep(Duration::from_millis(800)).await;
    idle.write_all(GET).await.unwrap();
    assert_eq!(
        response(&mut idle).await.unwrap().0,
        200,
        "kept alive past the header timeout"
    );
    let t = Instant::now();
    assert!(
        closed_within(&mut idle, Duration::from_secs(4)).await,
        "an idle connection is closed"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(1300),
        "not before the idle timeout"
    );
    let (_, metrics) = srv.get("/metrics").await;
    let metrics = metrics.as_str().unwrap_or_default();
    for reason in ["header_timeout", "idle_timeout"] {
        assert!(
            metrics.contains(&format!(
                "mcp_registry_http_connections_closed_total{{reason=\"{reason}\"}} 1"
            )),
            "{reason} counted"
        );
    }
}

#[tokio::test]
async fn connections_over_the_limit_are_refused_with_problem_json() {
    let srv = start().await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(srv.addr).await.unwrap();
        s.write_all(GET).await.unwrap();
        assert_eq!(response(&mut s).await.unwrap().0, 200);
        held.push(s);
    }
    let mut over = TcpStream::connect(srv.addr).await.unwrap();
    let (status, head, body) = response(&mut over)
        .await
        .expect("an answer before any request");
    assert_eq!(status, 503);
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    let v = problem(&head, &body, 503);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("server.max_connections"),
        "{v}"
    );
    assert!(closed_within(&mut over, Duration::from_secs(2)).await);

    drop(held.pop());
    // The freed slot is taken again once the server sees the close.
    let t = Instant::now();
    loop {
        let mut s = TcpStream::connect(srv.addr).await.unwrap();
        s.write_all(GET).await.unwrap();
        if response(&mut s).await.unwrap().0 == 200 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "the slot was not freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_408_not_504() {
    let srv = start().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(
        format!(
            "POST /v0.1/publish HTTP/1.1\r\nhost: r\r\nauthorization: Bearer {PUBLISHER_TOKEN}\r\n\
             content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"name\":"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let t = Instant::now();
    let (status, head, body) = response(&mut s).await.expect("an answer");
    assert_eq!(status, 408, "{head}\n{body}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let v = problem(&head, &body, 408);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("server.body_read_timeout"),
        "{v}"
    );
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
}

#[rstest]
#[case::bad_request_line(b"GARBAGE\r\n\r\n".to_vec(), 400)]
#[case::bad_header(b"GET / HTTP/1.1\r\nho st: x\r\n\r\n".to_vec(), 400)]
#[case::long_uri(format!("GET /v0.1/servers?search={} HTTP/1.1\r\nhost: r\r\n\r\n", "a".repeat(9000)).into_bytes(), 414)]
#[case::large_headers(format!("GET / HTTP/1.1\r\nhost: r\r\nx-pad: {}\r\n\r\n", "a".repeat(70_000)).into_bytes(), 431)]
#[tokio::test]
async fn refusals_below_the_router_are_problem_json(#[case] request: Vec<u8>, #[case] status: u16) {
    let srv = start().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let _ = s.write_all(&request).await;
    let (got, head, body) = response(&mut s).await.expect("an answer");
    assert_eq!(got, status, "{head}");
    problem(&head, &body, status);
}

/// A publish queued behind its server's lock while its client gave up is not committed when the lock is
/// released (it used to be, up to the request timeout later: a silent late commit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_whose_client_left_before_it_committed_is_not_committed() {
    use sqlx::Connection;
    let srv = TestServer::start(Kind::Postgres).await;
    let name = "com.example/late";
    let mut holder = sqlx::PgConnection::connect_with(&srv.pg_options())
        .await
        .unwrap();
    // The lock every writer of this name takes first (store/sql/postgres.rs).
    sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 7150))")
        .bind(name)
        .execute(&mut holder)
        .await
        .unwrap();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let gave_up = impatient
        .post(format!("{}/v0.1/publish", srv.base))
        .bearer_auth(PUBLISHER_TOKEN)
        .json(&server(name, "1.0.0"))
        .send()
        .await;
    assert!(gave_up.is_err(), "the client gave up: {gave_up:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 7150))")
        .bind(name)
        .execute(&mut holder)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (st, v) = srv.get("/v0.1/servers/com.example%2Flate/versions").await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "committed after its client left: {v}"
    );

    // The same publish with a patient client goes through.
    let (st, v) = srv
        .publish(Some(PUBLISHER_TOKEN), &server(name, "1.0.0"))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}
