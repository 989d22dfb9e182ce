//! `GET/POST /v0.1/admin/sync`: the status of every sync source, and runs on demand (admin tokens only).
//!
//! `POST` triggers the schedulers and answers 202 at once; with `wait=true` it runs the source(s) in this
//! request and answers their reports (200), or says which replica is running one already.

use super::AppState;
use super::problem::{ApiResult, Problem};
use super::write::{auth_header, authorize};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerQuery {
    /// One source; absent: every source.
    pub source: Option<String>,
    #[serde(default)]
    pub wait: bool,
}

fn require_admin(s: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let header = auth_header(headers)
        .map_err(|_| Problem::new(StatusCode::UNAUTHORIZED, "Authorization header is required"))?;
    if !authorize(s, &header)?.admin {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "The sync endpoints need an admin token",
        ));
    }
    Ok(())
}

fn syncer(s: &AppState) -> ApiResult<&std::sync::Arc<crate::sync::Syncer>> {
    s.sync
        .as_ref()
        .ok_or_else(|| Problem::not_found("No sync source is configured (sync.sources)"))
}

pub async fn status(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    require_admin(&s, &headers)?;
    let Some(syncer) = s.sync.as_ref() else {
        return Ok(Json(json!({ "sources": [] })).into_response());
    };
    let sources = syncer.status().await.map_err(|e| {
        tracing::error!(error = %format!("{e:#}"), "sync status");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sync status: storage unavailable",
        )
    })?;
    Ok(Json(json!({ "sources": sources })).into_response())
}

pub async fn trigger(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TriggerQuery>,
) -> ApiResult<Response> {
    require_admin(&s, &headers)?;
    let syncer = syncer(&s)?;
    let names: Vec<String> = match &q.source {
        Some(n) if !syncer.source_names().contains(&n.as_str()) => {
            return Err(Problem::not_found(format!("No sync source named '{n}'")));
        }
        Some(n) => vec![n.clone()],
        None => syncer
            .source_names()
            .iter()
            .map(|n| n.to_string())
            .collect(),
    };
    if !q.wait {
        syncer.trigger(q.source.as_deref());
        return Ok((StatusCode::ACCEPTED, Json(json!({ "triggered": names }))).into_response());
    }
    let mut outcomes = serde_json::Map::new();
    for n in &names {
        let outcome = syncer.run_once(n, true).await.map_err(|e| {
            tracing::error!(source = %n, error = %format!("{e:#}"), "sync run");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("sync of {n}: storage unavailable"),
            )
        })?;
        outcomes.insert(
            n.clone(),
            serde_json::to_value(outcome).expect("serializes"),
        );
    }
    Ok(Json(json!({ "sources": outcomes })).into_response())
}
