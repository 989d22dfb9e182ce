//! Private reads (`auth.read: token`): every read of the API needs a bearer token — static, or a
//! registry token from an exchange — what no other MCP registry offers. A read without one is 401 with
//! `WWW-Authenticate: Bearer … resource_metadata="…"` pointing at the RFC 9728 protected-resource metadata
//! (`/.well-known/oauth-protected-resource`), which names where tokens come from. The official
//! `/health`, `/ping` and `/version` stay open (clients identify the registry with them), as do the
//! operational endpoints outside the version prefixes.

use super::AppState;
use super::problem::Problem;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

fn base(s: &AppState) -> String {
    s.config.server.public_url.trim_end_matches('/').to_owned()
}

fn metadata_url(s: &AppState) -> String {
    format!("{}/.well-known/oauth-protected-resource", base(s))
}

/// Middleware of the API routes: with `auth.read: token`, GET and HEAD need a valid token.
pub async fn require_read_token(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let open = !matches!(*req.method(), Method::GET | Method::HEAD)
        || ["/health", "/ping", "/version"]
            .iter()
            .any(|p| req.uri().path().ends_with(p));
    if s.config.auth.read != crate::config::ReadAccess::Token || open {
        return next.run(req).await;
    }
    let header_value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match s.tokens.authorize(header_value) {
        Ok(_) => next.run(req).await,
        Err(e) => {
            let detail = if header_value.is_empty() {
                "Authentication required: this registry's reads need a bearer token".to_owned()
            } else {
                e.to_string()
            };
            let mut problem = Problem::new(StatusCode::UNAUTHORIZED, detail);
            if let crate::auth::AuthError::BadJwt(why) = e {
                problem = problem.with_cause(why);
            }
            let challenge = format!(
                "Bearer realm=\"mcp-registry\", resource_metadata=\"{}\"",
                metadata_url(&s)
            );
            let mut resp = problem.into_response();
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            resp
        }
    }
}

/// `GET /.well-known/oauth-protected-resource` (RFC 9728): this registry as a protected resource, the
/// issuers whose identity tokens it exchanges as authorization servers, and its exchange endpoints.
pub async fn protected_resource(State(s): State<AppState>) -> Response {
    let ex = &s.config.auth.exchanges;
    let mut servers: Vec<String> = ex.oidc.issuers.iter().map(|i| i.issuer.clone()).collect();
    if ex.github_oidc.enabled {
        servers.push(ex.github_oidc.issuer.clone());
    }
    servers.retain(|i| !i.is_empty());
    Json(json!({
        "resource": base(&s),
        "authorization_servers": servers,
        "bearer_methods_supported": ["header"],
        "resource_name": "MCP registry",
        "resource_documentation": format!("{}/docs", base(&s)),
        "mcp_registry_token_exchanges": s.exchanges.as_ref().map(|e| e.enabled_paths()).unwrap_or_default(),
    }))
    .into_response()
}
