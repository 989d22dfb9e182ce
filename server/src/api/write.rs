//! Write endpoints, in the official server's order of checks: request constraints (422, before auth) →
//! token (401) → permission (403) → semantic validation (422) → storage rules (400 with the cause).

use super::AppState;
use super::path::{ServerName, ServerVersion};
use super::problem::{ApiResult, ErrorDetail, Problem};
use crate::auth::Principal;
use crate::model::{ServerRecord, Status};
use crate::store::{NewStatus, NewVersion, Rejection, StoreError, plan};
use crate::validation::{self, Stored};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const PUBLISH_FAILED: &str = "Failed to publish server";

/// The `Authorization` header is a required parameter: its absence (or an empty value) is a 422 like any
/// missing field, reported with the empty value as huma does.
pub(super) fn auth_header(headers: &HeaderMap) -> Result<String, ErrorDetail> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            Problem::field(
                "header.Authorization",
                "required header parameter is missing",
                Some(Value::String(String::new())),
            )
        })
}

/// The body as JSON, refused as huma refuses it: no body is "request body is required", a body that is not
/// JSON is "validation failed" at `body` with the body text as value (the parser's message is ours).
fn parse_body(body: &Bytes) -> ApiResult<Value> {
    if body.is_empty() {
        return Err(Problem::bad_request("request body is required"));
    }
    serde_json::from_slice(body).map_err(|e| {
        Problem::bad_request("validation failed").with_errors([Problem::field(
            "body",
            e.to_string(),
            Some(Value::String(String::from_utf8_lossy(body).into_owned())),
        )])
    })
}

pub(super) fn authorize(s: &AppState, header: &str) -> ApiResult<Principal> {
    s.tokens.authorize(header).map_err(|e| {
        let problem = Problem::new(StatusCode::UNAUTHORIZED, e.to_string());
        match e {
            crate::auth::AuthError::BadJwt(why) => problem.with_cause(why),
            _ => problem,
        }
    })
}

/// The semantic rules (422). The detail is the official one, `what` being "publish" or "edit"; the
/// `errors` list is ours (the official answer has none and points to `/validate`).
fn semantic_gate(body: &Stored, what: &str) -> ApiResult<()> {
    let findings = body.check_semantic();
    if findings.errors.is_empty() {
        return Ok(());
    }
    Err(Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("Failed to {what} server, invalid schema: call /validate for details"),
    )
    .with_errors(findings.errors.into_iter().map(ErrorDetail::from)))
}

fn record_response(r: &ServerRecord) -> Response {
    Json(r.response()).into_response()
}

/// `POST /publish`.
pub async fn publish(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let header = auth_header(&headers);
    let json = parse_body(&body)?;
    let mut errors: Vec<ErrorDetail> = header.as_ref().err().cloned().into_iter().collect();
    errors.extend(
        validation::check_structure(&json, "body")
            .into_iter()
            .map(ErrorDetail::from),
    );
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let principal = authorize(&s, &header.expect("checked above"))?;
    // Normalized once: the name as it will be stored (keys match case-insensitively, as in the official
    // model), the semantic gate, the `_meta` cap and the stored document all read it.
    let stored = Stored::of(&json);
    if !principal.can_publish(stored.name()) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            principal.publish_refusal(stored.name()),
        ));
    }
    semantic_gate(&stored, "publish")?;
    // The publisher `_meta` cap is a service rule in the official server: 400 with the cause.
    stored
        .check_publisher_meta_size()
        .map_err(|m| Problem::bad_request(PUBLISH_FAILED).with_cause(m))?;
    let rec = s
        .store
        .publish(NewVersion::from_stored(&stored))
        .await
        .map_err(|e| Problem::from_store(e, PUBLISH_FAILED))?;
    tracing::info!(server = %rec.name, version = %rec.version, token = %principal.name, latest = rec.is_latest, "published");
    Ok(record_response(&rec))
}

/// `PUT /servers/{name}/versions/{version}`: admin edit of a published version (official `edit` permission).
pub async fn edit(
    State(s): State<AppState>,
    ServerVersion(name, version): ServerVersion,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let header = auth_header(&headers);
    let json = parse_body(&body)?;
    let mut errors: Vec<ErrorDetail> = header.as_ref().err().cloned().into_iter().collect();
    errors.extend(
        validation::check_structure(&json, "body")
            .into_iter()
            .map(ErrorDetail::from),
    );
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let principal = authorize(&s, &header.expect("checked above"))?;
    // As officially: the version must exist (and not be deleted) before permissions are looked at.
    s.store
        .get(
            &name,
            &crate::store::VersionRef::Exact(version.clone()),
            false,
        )
        .await
        .map_err(|e| Problem::from_store(e, "Failed to get current server"))?
        .ok_or_else(|| Problem::not_found("Server not found"))?;
    if !principal.can_edit(&name) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "You do not have edit permissions for this server",
        ));
    }
    if json["name"].as_str() != Some(name.as_str()) {
        return Err(Problem::bad_request("Cannot rename server"));
    }
    if json["version"].as_str() != Some(version.as_str()) {
        return Err(Problem::bad_request(
            "Version in request body must match URL path parameter",
        ));
    }
    let stored = Stored::of(&json);
    semantic_gate(&stored, "edit")?;
    stored
        .check_publisher_meta_size()
        .map_err(|m| Problem::bad_request("Failed to edit server").with_cause(m))?;
    let rec = s
        .store
        .edit(NewVersion::from_stored(&stored))
        .await
        .map_err(|e| Problem::from_store(e, "Failed to edit server"))?;
    tracing::info!(server = %rec.name, version = %rec.version, token = %principal.name, "edited");
    Ok(record_response(&rec))
}

/// Checks shared by the status endpoints: the body's shape (422, with the missing header), the token
/// (401) and the permission (403). The transition rules (400) are the store's, in [`plan::plan_status`].
fn status_request(
    s: &AppState,
    name: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult<NewStatus> {
    let header = auth_header(headers);
    let json = parse_body(body)?;
    let mut errors: Vec<ErrorDetail> = header.as_ref().err().cloned().into_iter().collect();
    errors.extend(
        validation::check_status_body(&json, "body")
            .into_iter()
            .map(ErrorDetail::from),
    );
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let principal = authorize(s, &header.expect("checked above"))?;
    if !principal.can_change_status(name) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "You do not have publish or edit permissions for this server",
        ));
    }
    let field = |key| validation::lookup_field(&json, key);
    Ok(NewStatus {
        status: field("status")
            .and_then(Value::as_str)
            .and_then(|v| v.parse::<Status>().ok())
            .expect("the body check accepts only a known status"),
        message: field("statusMessage")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// `PATCH /servers/{name}/versions/{version}/status`.
pub async fn set_version_status(
    State(s): State<AppState>,
    ServerVersion(name, version): ServerVersion,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let change = status_request(&s, &name, &headers, &body)?;
    let rows = s
        .store
        .set_status(&name, Some(&version), &change)
        .await
        .map_err(|e| Problem::from_store(e, "Failed to update server status"))?;
    Ok(record_response(&rows[0]))
}

/// `PATCH /servers/{name}/status`: all versions, all-or-nothing. `updatedCount` is the number of
/// versions returned (every version of the server), as the official server reports it.
pub async fn set_server_status(
    State(s): State<AppState>,
    ServerName(name): ServerName,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let change = status_request(&s, &name, &headers, &body)?;
    let rows = s
        .store
        .set_status(&name, None, &change)
        .await
        .map_err(|e| Problem::from_store(e, "Failed to update server status"))?;
    let servers: Vec<_> = rows.iter().map(ServerRecord::response).collect();
    Ok(Json(json!({ "updatedCount": servers.len(), "servers": servers })).into_response())
}

/// `DELETE /servers/{name}/versions/{version}`: a soft delete (status `deleted`), so the version stays
/// reserved and can be restored by a status change; deleting a deleted version answers its current state.
pub async fn delete_version(
    State(s): State<AppState>,
    ServerVersion(name, version): ServerVersion,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let header = auth_header(&headers).map_err(|e| Problem::validation([e]))?;
    let principal = authorize(&s, &header)?;
    if !principal.can_change_status(&name) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "You do not have permission to delete this server",
        ));
    }
    // Already deleted: answer its state without writing (a second DELETE must not clear its message).
    let current = s
        .store
        .get(
            &name,
            &crate::store::VersionRef::Exact(version.clone()),
            true,
        )
        .await
        .map_err(|e| Problem::from_store(e, "Failed to delete server version"))?
        .ok_or_else(|| Problem::not_found(plan::VERSION_NOT_FOUND))?;
    if current.status == Status::Deleted {
        return Ok(record_response(&current));
    }
    let change = NewStatus {
        status: Status::Deleted,
        message: None,
    };
    let rec = match s.store.set_status(&name, Some(&version), &change).await {
        Ok(rows) => rows.into_iter().next().expect("one row"),
        Err(StoreError::Rejected(Rejection::NoChanges)) => s
            .store
            .get(
                &name,
                &crate::store::VersionRef::Exact(version.clone()),
                true,
            )
            .await
            .map_err(|e| Problem::from_store(e, "Failed to delete server version"))?
            .ok_or_else(|| Problem::not_found(plan::VERSION_NOT_FOUND))?,
        Err(e) => return Err(Problem::from_store(e, "Failed to delete server version")),
    };
    Ok(record_response(&rec))
}

/// `POST /validate`: the full report (JSON Schema, constraints and semantic rules) without storing.
pub async fn validate(body: Bytes) -> ApiResult<Response> {
    let json = parse_body(&body)?;
    let findings = validation::validate_all(&json);
    // The official issue shape (`type`, `path`, `message`, `severity`, `reference`), as `mcp-publisher
    // validate` prints it.
    let issue = |e: &validation::FieldError, severity: &str| {
        json!({
            "type": e.kind,
            "path": e.location.strip_prefix("body.").unwrap_or(&e.location),
            "message": e.message,
            "severity": severity,
            "reference": e.reference,
        })
    };
    let issues: Vec<Value> = findings
        .errors
        .iter()
        .map(|e| issue(e, "error"))
        .chain(findings.warnings.iter().map(|w| issue(w, "warning")))
        .collect();
    Ok(Json(json!({ "valid": findings.errors.is_empty(), "issues": issues })).into_response())
}
