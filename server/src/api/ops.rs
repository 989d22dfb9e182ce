//! Operational endpoints: liveness, readiness, metrics, the API document and its `/docs` page, the
//! official `/health` `/ping` `/version`, and the not-found answer.

use super::AppState;
use super::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;
use std::time::Duration;

const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");
const DOCS_HTML: &str = include_str!("docs.html");
/// Readiness must answer quickly even when the store hangs: probes have their own short timeouts.
const READY_CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// How recent a store answer must be for readiness to trust it without a probe.
const READY_RECENT_ANSWER: std::time::Duration = std::time::Duration::from_secs(5);

/// Build metadata, set by the release build through environment variables at compile time.
pub fn build_info() -> serde_json::Value {
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "git_commit": option_env!("MCP_REGISTRY_BUILD_COMMIT").unwrap_or("unknown"),
        "build_time": option_env!("MCP_REGISTRY_BUILD_TIME").unwrap_or("unknown"),
    })
}

/// Liveness: the process serves HTTP. Never depends on the store, so a database outage does not get
/// every replica restarted.
pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// Readiness: not draining, store reachable, schema current.
///
/// Before its first successful check a pod is never ready without its store (a pod that cannot reach its
/// database, say after an upgrade with wrong credentials, never enters the Service). Once it has been
/// ready, an outage shorter than `storage.unready_after` keeps it ready, marked `"store": "unreachable"`:
/// when the database restarts or fails over, every replica loses it at once, and taking them all out of
/// the Service would turn fast 503s and cached reads into refused connections. A longer outage, or one of
/// this pod alone, takes it out.
pub async fn readyz(State(s): State<AppState>) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    if s.is_draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "draining" })),
        )
            .into_response();
    }
    let health = &s.metrics.store_health;
    let was_ready = s.schema_checked.load(Relaxed);
    // Requests have told recently whether the store answers: trust them instead of queueing a probe
    // behind busy requests (the pool is theirs), so readiness neither flaps under load nor waits out a
    // connect timeout during an outage. Otherwise probe.
    let unreachable = if was_ready && health.recently_answered(READY_RECENT_ANSWER) {
        None
    } else if was_ready && health.recently_failed(READY_RECENT_ANSWER) {
        Some("store unreachable (see the server log)")
    } else {
        match tokio::time::timeout(READY_CHECK_TIMEOUT, s.store.schema_state()).await {
            Err(_) => Some("store did not answer within 2s"),
            Ok(Err(e)) => {
                // The cause can name hosts and users: log it, answer generically.
                tracing::warn!(error = %e, "readiness: store unreachable");
                Some("store unreachable (see the server log)")
            }
            Ok(Ok(schema)) if !schema.is_current() => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({ "status": "schema behind", "pending_migrations": schema.pending() })),
                )
                    .into_response();
            }
            Ok(Ok(_)) => {
                s.schema_checked.store(true, Relaxed);
                None
            }
        }
    };
    match unreachable {
        None => ready(&s, "up").await,
        Some(_)
            if s.schema_checked.load(Relaxed)
                && health.answered_within(s.config.storage.unready_after) =>
        {
            ready(&s, "unreachable").await
        }
        Some(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "error": error })),
        )
            .into_response(),
    }
}

/// The answer once the store is known reachable and its schema current: Redis decides the rest.
async fn ready(s: &AppState, store: &str) -> Response {
    if let (true, Some(redis)) = (s.config.cache.required_for_readiness, &s.redis)
        && !redis.ping().await
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "error": "redis is unreachable (cache.required_for_readiness)" })),
        )
            .into_response();
    }
    let redis = match &s.redis {
        Some(r) if r.ping().await => Some("up"),
        Some(_) => Some("degraded"),
        None => None,
    };
    Json(json!({ "status": "ready", "backend": s.store.backend(), "store": store, "redis": redis }))
        .into_response()
}

/// The official `/health`: with `github_client_id` when the github-at exchange has one (the CLI's
/// `login github` device flow reads it from here).
pub async fn api_health(State(s): State<AppState>) -> Response {
    let gh = &s.config.auth.exchanges.github_at;
    if gh.enabled && !gh.client_id.is_empty() {
        return Json(json!({ "status": "ok", "github_client_id": gh.client_id })).into_response();
    }
    Json(json!({ "status": "ok" })).into_response()
}

pub async fn ping() -> Response {
    Json(json!({ "pong": true })).into_response()
}

pub async fn version() -> Response {
    Json(build_info()).into_response()
}

pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

/// The API document, with this build's version in `info.x-mcp-registry-version` and `servers` set to
/// `server.public_url` when configured (clients such as the `/docs` page and generators then call the
/// public address, not the pod's).
fn openapi_document(public_url: &str) -> Result<serde_json::Value, String> {
    let mut doc: serde_json::Value =
        serde_norway::from_str(OPENAPI_YAML).map_err(|e| format!("openapi.yaml: {e}"))?;
    doc["info"]["x-mcp-registry-version"] = json!(env!("CARGO_PKG_VERSION"));
    if !public_url.is_empty() {
        doc["servers"] = json!([{ "url": public_url.trim_end_matches('/') }]);
    }
    Ok(doc)
}

pub async fn openapi_yaml(State(s): State<AppState>) -> Response {
    match openapi_document(&s.config.server.public_url)
        .and_then(|d| serde_norway::to_string(&d).map_err(|e| e.to_string()))
    {
        Ok(y) => ([(header::CONTENT_TYPE, "application/yaml")], y).into_response(),
        Err(e) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

pub async fn openapi_json(State(s): State<AppState>) -> Response {
    match openapi_document(&s.config.server.public_url) {
        Ok(v) => Json(v).into_response(),
        Err(e) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

pub async fn docs() -> Html<&'static str> {
    Html(DOCS_HTML)
}

pub async fn root() -> Response {
    Json(json!({
        "name": "mcp-registry",
        "api": ["/v0.1", "/v0"],
        "docs": "/docs",
        "openapi": "/openapi.yaml",
    }))
    .into_response()
}

/// Unknown routes: a problem body; when the version prefix is missing, say which path was meant.
pub async fn not_found(uri: Uri) -> Response {
    // The official texts: outside the version prefixes, suggest them.
    let path = uri.path();
    let detail = if !path.starts_with("/v0/") && !path.starts_with("/v0.1/") {
        format!(
            "Endpoint not found. Did you mean '/v0.1{path}' or '/v0{path}'? See /docs for the API documentation."
        )
    } else {
        return endpoint_not_found().into_response();
    };
    Problem::not_found(detail).into_response()
}

/// The 404 of a path under a version prefix that is not served (also a disabled token exchange).
pub fn endpoint_not_found() -> Problem {
    Problem::not_found("Endpoint not found. See /docs for the API documentation.")
}
