//! Running the HTTP server: our own accept loop over hyper, for what `axum::serve` does not offer.
//!
//! - **Connection limits.** At most `server.max_connections` at once; one more is answered `503` with
//!   `Retry-After` and closed, rather than left waiting in the kernel's backlog. A request head must arrive
//!   within `server.header_read_timeout` (slowloris), an idle keep-alive connection closes after
//!   `server.idle_timeout`, a body must arrive within `server.body_read_timeout` (else `408`), heads are
//!   limited to `server.max_header_bytes` (`431`) and URIs to [`MAX_URI_BYTES`] (`414`). Every refusal,
//!   including hyper's own for a malformed request, is problem JSON ([`connection`]).
//! - **Kubernetes-friendly shutdown.** On SIGTERM/SIGINT `/readyz` fails first (`server.shutdown_drain`,
//!   so endpoints and load balancers stop routing here while requests are still served), then the
//!   listener closes and in-flight requests get `server.shutdown_grace` to finish.

mod body;
pub mod connection;

use crate::api::problem::Problem;
use crate::api::{self, AppState};
use crate::config::ServerConfig;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Longest request target (path and query) accepted. The API's longest legitimate URI (a 200-character
/// name and a 255-character version, both percent-encoded, or a search with a cursor) is well under it;
/// the same as nginx's default header buffer.
pub const MAX_URI_BYTES: usize = 8192;

/// The connection settings of `server.*`.
struct Limits {
    max_connections: usize,
    max_header_bytes: usize,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    body_read_timeout: Duration,
}

impl From<&ServerConfig> for Limits {
    fn from(c: &ServerConfig) -> Self {
        Limits {
            max_connections: c.max_connections,
            max_header_bytes: c.max_header_bytes,
            header_read_timeout: c.header_read_timeout,
            idle_timeout: c.idle_timeout,
            body_read_timeout: c.body_read_timeout,
        }
    }
}

pub async fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

/// Serve until `stop` resolves, then drain and shut down gracefully.
pub async fn run(
    state: AppState,
    listener: TcpListener,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let drain = state.config.server.shutdown_drain;
    let grace = state.config.server.shutdown_grace;
    let draining = state.draining.clone();
    let limits = Arc::new(Limits::from(&state.config.server));
    let metrics = state.metrics.clone();
    // The sync schedulers live as long as the server (and stop with it: a run cut short resumes on the
    // replica that takes the lease next).
    let schedulers = state.sync.as_ref().map(|s| s.spawn()).unwrap_or_default();
    let _stop_schedulers = AbortOnDrop(schedulers);
    let app = api::router(state);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http
        // The watchdog keeps the header and idle clocks (connection.rs); hyper's single timer would
        // close idle keep-alive connections at the header deadline.
        .header_read_timeout(None)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_header_size(limits.max_header_bytes);

    let closing = async move {
        stop.await;
        draining.store(true, Ordering::SeqCst);
        tracing::info!(drain = ?drain, "shutdown requested: readiness now fails; draining");
        // Still accepting and serving: endpoints are being removed, requests keep arriving meanwhile.
        tokio::time::sleep(drain).await;
    };
    tokio::pin!(closing);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut closing => break,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors, mostly: wait for connections to end instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            metrics
                .connections_closed
                .with_label_values(&["over_limit"])
                .inc();
            tokio::spawn(refuse(stream, limits.max_connections));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let activity = connection::Activity::new();
        let io = TokioIo::new(connection::GuardedStream::new(
            stream,
            activity.clone(),
            limits.max_header_bytes,
        ));
        let service = Service {
            app: app.clone(),
            peer,
            activity: activity.clone(),
            limits: limits.clone(),
        };
        let conn = graceful.watch(http.serve_connection(io, service));
        let (limits, metrics) = (limits.clone(), metrics.clone());
        tokio::spawn(async move {
            metrics.connections_open.inc();
            let watchdog = connection::Watchdog {
                header_read_timeout: limits.header_read_timeout,
                idle_timeout: limits.idle_timeout,
            };
            tokio::select! {
                r = conn => if let Err(e) = r {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                },
                closed = watchdog.expired(&activity) => {
                    metrics.connections_closed.with_label_values(&[closed.label()]).inc();
                    tracing::debug!(reason = closed.label(), %peer, "connection closed");
                },
            }
            metrics.connections_open.dec();
            drop(permit);
        });
    }

    drop(listener);
    tracing::info!(grace = ?grace, "closing listener; waiting for in-flight requests");
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace elapsed with requests still in flight; exiting");
    }
    tracing::info!("stopped");
    Ok(())
}
/// One connection's service: the router, with the peer address, the connection's activity and the
/// transport limits applied around it.
#[derive(Clone)]
struct Service {
    app: Router,
    peer: SocketAddr,
    activity: Arc<connection::Activity>,
    limits: Arc<Limits>,
}

impl hyper::service::Service<Request<Incoming>> for Service {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let busy = self.activity.request_started();
        let this = self.clone();
        Box::pin(async move {
            let _busy = busy;
            if req.uri().path_and_query().map_or(0, |p| p.as_str().len()) > MAX_URI_BYTES {
                return Ok(close(Problem::new(
                    StatusCode::URI_TOO_LONG,
                    format!("request URI longer than {MAX_URI_BYTES} bytes"),
                )));
            }
            let (mut parts, incoming) = req.into_parts();
            parts.extensions.insert(ConnectInfo(this.peer));
            let (req, expired) = if http_body::Body::is_end_stream(&incoming) {
                (Request::from_parts(parts, Body::new(incoming)), None)
            } else {
                let (body, expired) =
                    body::DeadlineBody::new(incoming, this.limits.body_read_timeout);
                (Request::from_parts(parts, Body::new(body)), Some(expired))
            };
            let resp = this.app.oneshot(req).await?;
            if expired.is_some_and(|e| e.load(Ordering::SeqCst)) {
                // Whatever the handler made of the failed read, the client was too slow: say so.
                return Ok(close(Problem::new(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "request body not received within {} (server.body_read_timeout)",
                        humantime::format_duration(this.limits.body_read_timeout)
                    ),
                )));
            }
            Ok(resp)
        })
    }
}

/// A refusal after which the connection is closed (the rest of the request may still be on its way).
fn close(problem: Problem) -> Response {
    let mut resp = problem.into_response();
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Answers a connection over `server.max_connections` with 503 and closes it, without reading its request.
async fn refuse(mut stream: TcpStream, limit: usize) {
    let body = serde_json::to_vec(&Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("too many open connections (server.max_connections: {limit})"),
    ))
    .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answer = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&body).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), answer).await;
}

/// Resolves on SIGTERM or SIGINT.
pub async fn termination_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Aborts the tasks when dropped.
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}
