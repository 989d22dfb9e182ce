//! Read endpoints: anonymous, CORS-enabled, cacheable.

use super::AppState;
use super::path::{ServerName, ServerVersion};
use super::problem::{ApiResult, Problem};
use super::query;
use crate::model::{ServerList, ServerRecord};
use crate::store::{Cursor, VersionRef, plan};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};

/// `GET /servers`: one page in `(name, version)` order; `nextCursor` only when the page is full.
pub async fn list_servers(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = query::list_query(&query::params(raw.as_deref()))?;
    // A search longer than the longest possible name matches nothing: answered as such without asking the
    // store (SQLite refuses LIKE patterns of ~50k characters; no backend needs to see one).
    let impossible = q
        .search
        .as_ref()
        .is_some_and(|t| t.chars().count() > crate::model::MAX_NAME_CHARS);
    let rows = if impossible {
        Vec::new()
    } else {
        s.store
            .list(&q)
            .await
            .map_err(|e| Problem::from_store(e, "Failed to get list of servers"))?
    };
    let next = (rows.len() == q.limit)
        .then(|| rows.last().map(Cursor::of))
        .flatten();
    Ok(Json(ServerList::new(&rows, next)).into_response())
}

/// `GET /servers/{name}/versions`: every visible version, newest first; 404 when none is visible.
pub async fn list_versions(
    State(s): State<AppState>,
    ServerName(name): ServerName,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let include_deleted = query::include_deleted(&query::params(raw.as_deref()))?;
    let rows = s
        .store
        .versions(&name, include_deleted)
        .await
        .map_err(|e| Problem::from_store(e, "Failed to get server versions"))?;
    if rows.is_empty() {
        return Err(Problem::not_found(plan::SERVER_NOT_FOUND));
    }
    Ok(Json(ServerList::new(&rows, None)).into_response())
}

/// `GET /servers/{name}/versions/{version|latest}`.
pub async fn get_version(
    State(s): State<AppState>,
    ServerVersion(name, version): ServerVersion,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let include_deleted = query::include_deleted(&query::params(raw.as_deref()))?;
    let row: Option<ServerRecord> = s
        .store
        .get(&name, &VersionRef::from_path(&version), include_deleted)
        .await
        .map_err(|e| Problem::from_store(e, "Failed to get server details"))?;
    match row {
        Some(r) => Ok(Json(r.response()).into_response()),
        None => Err(Problem::not_found(plan::SERVER_NOT_FOUND)),
    }
}
