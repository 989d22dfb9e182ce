//! The HTTP surface. [`router`] assembles the official API (mounted under `/v0.1` and `/v0`), the
//! operational endpoints and the middleware stack, outermost first:
//!
//! 1. request ID — `x-request-id` taken from the client or generated, echoed back, and put on the log span;
//! 2. trace — one JSON log line per request with method, route, status and latency;
//! 3. metrics — counts and latency by route template (never by raw path: names would explode cardinality);
//! 4. compression — gzip when accepted;
//! 5. problem JSON — framework rejections (405, 413, bad path escapes) are rewritten in the official shape;
//!    NUL bytes in the path or the query (literal or `%00`) are refused here with 400, before any handler
//!    (the official `NulByteValidationMiddleware`: no store can hold them);
//! 6. timeout — `server.request_timeout`, answered 504;
//! 7. on the API only: rate limits (429 + `Retry-After`), and CORS on the read routes, so the VS Code MCP
//!    gallery can read from a browser while writes stay out of reach of cross-origin pages.

pub mod admin_sync;
pub mod ops;
pub mod path;
pub mod private;
pub mod problem;
pub mod query;
pub mod read;
pub mod write;

use crate::auth::TokenSet;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::DynStore;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use problem::Problem;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tower_http::LatencyUnit;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Everything a handler can reach. Cheap to clone (all shared).
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub tokens: Arc<TokenSet>,
    /// The enabled token exchanges (`/auth/*`); `None`: every exchange is off (404).
    pub exchanges: Option<Arc<crate::auth::exchange::Exchanges>>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub limiters: Arc<crate::ratelimit::Limiters>,
    /// The shared Redis, when configured (readiness may depend on it).
    pub redis: Option<Arc<crate::redis_handle::RedisHandle>>,
    /// Set on SIGTERM: `/readyz` fails so load balancers stop sending traffic before the listener closes.
    pub draining: Arc<AtomicBool>,
    /// Set once `/readyz` found the schema current; until then readiness always probes.
    pub schema_checked: Arc<AtomicBool>,
    /// The sync sources (`sync.sources`), when any is configured.
    pub sync: Option<Arc<crate::sync::Syncer>>,
}

impl AppState {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

/// The official API, mounted once per version prefix.
fn api_routes(state: &AppState) -> Router<AppState> {
    let reads = Router::new()
        .route("/servers", get(read::list_servers))
        .route("/servers/{name}/versions", get(read::list_versions))
        .route(
            "/servers/{name}/versions/{version}",
            get(read::get_version)
                .put(write::edit)
                .delete(write::delete_version),
        )
        .route(
            "/servers/{name}/versions/{version}/status",
            patch(write::set_version_status),
        )
        .route("/servers/{name}/status", patch(write::set_server_status))
        .route("/publish", post(write::publish))
        .route("/auth/none", post(crate::auth::exchange::none))
        .route("/auth/dns", post(crate::auth::exchange::dns))
        .route("/auth/http", post(crate::auth::exchange::http))
        .route("/auth/github-at", post(crate::auth::exchange::github_at))
        .route(
            "/auth/github-oidc",
            post(crate::auth::exchange::github_oidc),
        )
        .route("/auth/oidc", post(crate::auth::exchange::oidc))
        .route("/validate", post(write::validate))
        .route(
            "/admin/sync",
            get(admin_sync::status).post(admin_sync::trigger),
        )
        .route("/health", get(ops::api_health))
        .route("/ping", get(ops::ping))
        .route("/version", get(ops::version));
    let cors = cors_layer(&state.config.server.cors_allowed_origins);
    let limited = reads
        .layer(middleware::from_fn_with_state(
            state.clone(),
            private::require_read_token,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit));
    match cors {
        // Read and write methods share routes, so the CORS layer sees writes too: strip what it adds
        // to their responses, so no cross-origin page can read the answer of a write.
        Some(c) => limited
            .layer(c)
            .layer(middleware::from_fn(no_cors_on_writes)),
        None => limited,
    }
}

/// CORS for reads only: GET/HEAD from the configured origins; no credentials, no Authorization header,
/// so a cross-origin page can never drive a write.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::HEAD])
            .allow_headers([header::ACCEPT, header::CONTENT_TYPE, header::IF_NONE_MATCH])
            .max_age(std::time::Duration::from_secs(3600)),
    )
}

pub fn router(state: AppState) -> Router {
    let api = api_routes(&state);
    let mut app = Router::new()
        .nest("/v0.1", api.clone())
        .nest("/v0", api)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/openapi.yaml", get(ops::openapi_yaml))
        .route("/openapi.json", get(ops::openapi_json))
        .route("/docs", get(ops::docs))
        .route(
            "/.well-known/oauth-protected-resource",
            get(private::protected_resource),
        )
        .route("/", get(ops::root));
    if state.config.metrics.enabled {
        app = app.route("/metrics", get(ops::metrics));
    }
    let mut app = app
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(state.config.server.body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), timeout))
        .layer(middleware::from_fn(problem_json))
        .layer(middleware::from_fn(refuse_nul_bytes));
    if state.config.server.gzip {
        app = app.layer(CompressionLayer::new());
    }
    app.layer(middleware::from_fn_with_state(state.clone(), close_when_draining))
        .layer(middleware::from_fn_with_state(state.clone(), record_metrics))
        .layer(
            TraceLayer::new_for_http()
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Micros))
                // Handlers log the causes of their failures; a 5xx is not an error of the HTTP layer.
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG))
                .make_span_with(|req: &Request<Body>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// While draining, every response says `Connection: close`. Clients then stop reusing keep-alive
/// connections to this pod (which the load balancer no longer routes new connections to) before the
/// listener closes; without it a request sent on an idle keep-alive connection can race the close and
/// fail with "connection closed before message completed" — the e2e rollback test caught exactly that.
async fn close_when_draining(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if s.is_draining() {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

async fn no_cors_on_writes(req: Request, next: Next) -> Response {
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut resp = next.run(req).await;
    if write {
        let h = resp.headers_mut();
        for name in [
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
        ] {
            h.remove(name);
        }
    }
    resp
}

async fn timeout(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let limit = s.config.server.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "request did not complete within {}",
                humantime::format_duration(limit)
            ),
        )
        .into_response(),
    }
}

async fn record_metrics(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    s.metrics
        .http_requests
        .with_label_values(&[&route, &method, resp.status().as_str()])
        .inc();
    s.metrics
        .http_duration
        .with_label_values(&[&route, &method])
        .observe(start.elapsed().as_secs_f64());
    resp
}

/// 400 for a NUL byte in the path or the query string, with the official details.
async fn refuse_nul_bytes(req: Request, next: Next) -> Response {
    let has_nul = |s: &str| s.contains('\0') || s.contains("%00");
    let uri = req.uri();
    let refusal = if has_nul(uri.path()) {
        Some("Invalid request: URL path contains null bytes")
    } else if uri.query().is_some_and(has_nul) {
        Some("Invalid request: query parameters contain null bytes")
    } else {
        None
    };
    match refusal {
        // The official middleware answers these two as `application/json` (not problem+json).
        Some(detail) => {
            let mut resp = Problem::bad_request(detail).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        None => next.run(req).await,
    }
}

/// Rewrite error responses that did not come from our handlers (axum's plain-text rejections) into
/// problem JSON, keeping their status and text.
async fn problem_json(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    if is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let mut detail = String::from_utf8_lossy(&text).trim().to_owned();
    if detail.is_empty() {
        detail = status.canonical_reason().unwrap_or("Error").to_owned();
    }
    let mut out = Problem::new(status, detail).into_response();
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

/// The client's address: the peer, or behind `rate_limit.trusted_proxies` proxies the `X-Forwarded-For`
/// entry the outermost trusted proxy appended (entries further left are the client's own word).
fn client_ip(s: &AppState, req: &Request) -> String {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    crate::ratelimit::forwarded_client(&forwarded, s.config.rate_limit.trusted_proxies)
        .map_or(peer, str::to_owned)
}

async fn rate_limit(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if !s.config.rate_limit.enabled || req.method() == Method::OPTIONS {
        return next.run(req).await;
    }
    let refuse = |limit: &str, retry: std::time::Duration| {
        s.metrics.rate_limited.with_label_values(&[limit]).inc();
        let secs = retry.as_secs_f64().ceil().max(1.0) as u64;
        Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("rate limit exceeded ({limit}); retry after {secs}s"),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from(secs))
        .into_response()
    };
    let is_write = !matches!(*req.method(), Method::GET | Method::HEAD);
    let ip = client_ip(&s, &req);
    if is_write {
        if let Err(retry) = s.limiters.write_ip.check(&ip).await {
            return refuse("writes per client address", retry);
        }
        // Keyed on who the token is, so no spelling of the header (spaces, case) gets a fresh bucket. An
        // unknown token is refused by the handler; the per-address limit above already counted it.
        let who = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| s.tokens.authorize(h).ok());
        if let Some(p) = who
            && let Err(retry) = s.limiters.write_token.check(&p.name).await
        {
            return refuse("writes per token", retry);
        }
    } else if let Err(retry) = s.limiters.read_ip.check(&ip).await {
        return refuse("reads per client address", retry);
    }
    next.run(req).await
}
