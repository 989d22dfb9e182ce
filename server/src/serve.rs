//! Running the HTTP server with Kubernetes-friendly shutdown: on SIGTERM/SIGINT `/readyz` fails first
//! (`server.shutdown_drain`, so endpoints and load balancers stop routing here while requests are still
//! served), then the listener closes and in-flight requests get `server.shutdown_grace` to finish.

use crate::api::{self, AppState};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use tokio::net::TcpListener;

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
    let app = api::router(state);
    let (closing_tx, closing_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        stop.await;
        draining.store(true, Ordering::SeqCst);
        tracing::info!(drain = ?drain, "shutdown requested: readiness now fails; draining");
        tokio::time::sleep(drain).await;
        tracing::info!(grace = ?grace, "closing listener; waiting for in-flight requests");
        let _ = closing_tx.send(());
    };
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown);
    let deadline = async move {
        if closing_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        r = server => r.map_err(|e| anyhow::anyhow!("server error: {e}"))?,
        _ = deadline => tracing::warn!("shutdown grace elapsed with requests still in flight; exiting"),
    }
    tracing::info!("stopped");
    Ok(())
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
