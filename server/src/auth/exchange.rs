//! The token exchanges, `POST /v0/auth/{none,dns,http,github-at,github-oidc,oidc}` (and under `/v0.1`): an identity proof in, a
//! registry token out, `{"registry_token": "<JWT>", "expires_at": <unix seconds>}` — what the official
//! `mcp-publisher login …` sends and reads. Each exchange is on only when configured
//! (`auth.exchanges.*`); a disabled one is the API's 404, as officially.
//!
//! Refusals are 401 problem documents with the official detail (`DNS authentication failed`, …) and the
//! reason in `errors[0].message`; the token or signature itself is never logged.

use super::jwt::{Permission, RegistryKeys};
use super::lookup::{Dns, WellKnown};
use super::oidc::{self, Issuer};
use super::proof;
use crate::api::AppState;
use crate::api::problem::{ApiResult, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

/// The enabled exchanges and the key that signs what they issue.
pub struct Exchanges {
    pub keys: Arc<RegistryKeys>,
    /// `none`: the namespace anonymous tokens may publish and edit.
    pub anonymous: Option<String>,
    pub dns: Option<Dns>,
    pub http: Option<WellKnown>,
    /// `github-at`: GitHub access tokens.
    pub github_at: Option<super::github::GithubApi>,
    /// `github-oidc`: GitHub Actions ID tokens.
    pub github_oidc: Option<Issuer>,
    /// `oidc`: the configured issuers, picked by the token's `iss`.
    pub oidc: Vec<Issuer>,
}

impl Exchanges {
    /// The exchange endpoints that are on, for discovery (`/.well-known/oauth-protected-resource`).
    pub fn enabled_paths(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (on, path) in [
            (self.anonymous.is_some(), "/v0/auth/none"),
            (self.dns.is_some(), "/v0/auth/dns"),
            (self.http.is_some(), "/v0/auth/http"),
            (self.github_at.is_some(), "/v0/auth/github-at"),
            (self.github_oidc.is_some(), "/v0/auth/github-oidc"),
            (!self.oidc.is_empty(), "/v0/auth/oidc"),
        ] {
            if on {
                out.push(path);
            }
        }
        out
    }

    fn answer(&self, method: &str, sub: &str, permissions: Vec<Permission>) -> Response {
        let (token, exp) = self.keys.issue(method, sub, permissions);
        tracing::info!(method, sub, "registry token issued");
        Json(json!({"registry_token": token, "expires_at": exp})).into_response()
    }
}

fn exchanges(s: &AppState) -> ApiResult<&Exchanges> {
    s.exchanges
        .as_deref()
        .ok_or_else(crate::api::ops::endpoint_not_found)
}

fn refused(detail: &str, why: String) -> Problem {
    tracing::info!(reason = %why, "{detail}");
    Problem::new(StatusCode::UNAUTHORIZED, detail).with_cause(why)
}

/// `POST /auth/none`: an anonymous token for the configured namespace. The body, if any, is ignored.
pub async fn none(State(s): State<AppState>) -> ApiResult<Response> {
    let ex = exchanges(&s)?;
    let ns = ex
        .anonymous
        .as_deref()
        .ok_or_else(crate::api::ops::endpoint_not_found)?;
    Ok(ex.answer(
        "none",
        "anonymous",
        vec![Permission::publish(ns), Permission::edit(ns)],
    ))
}

/// The body of a domain proof: exactly `domain`, `timestamp`, `signed_timestamp`, all strings (huma's
/// 422 for a missing, mistyped or unknown property).
fn proof_body(body: &Bytes) -> ApiResult<(String, String, String)> {
    const FIELDS: [&str; 3] = ["domain", "signed_timestamp", "timestamp"];
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Problem::bad_request("validation failed").with_cause(e.to_string()))?;
    let Some(obj) = v.as_object() else {
        return Err(Problem::validation([Problem::field(
            "body",
            "expected object",
            Some(v.clone()),
        )]));
    };
    let mut errors = Vec::new();
    for f in FIELDS {
        match obj.get(f) {
            None => errors.push(Problem::field(
                "body",
                format!("expected required property {f} to be present"),
                Some(v.clone()),
            )),
            Some(Value::String(_)) => {}
            Some(other) => errors.push(Problem::field(
                &format!("body.{f}"),
                "expected string",
                Some(other.clone()),
            )),
        }
    }
    for k in obj.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        errors.push(Problem::field(
            &format!("body.{k}"),
            "unexpected property",
            Some(v.clone()),
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let get = |f: &str| obj[f].as_str().unwrap_or_default().to_owned();
    Ok((get("domain"), get("timestamp"), get("signed_timestamp")))
}

/// Both domain proofs: checks, fetch the published strings, verify, grant the reversed domain.
async fn domain_proof<F, Fut>(
    body: &Bytes,
    detail: &str,
    fetch: F,
    with_subdomains: bool,
) -> Result<(String, Vec<Permission>), Problem>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<String>, String>>,
{
    let (domain, timestamp, signed) = proof_body(body)?;
    let now = chrono::Utc::now().timestamp();
    let signature =
        proof::check_request(&domain, &timestamp, &signed, now).map_err(|e| refused(detail, e))?;
    let strings = fetch(domain.clone())
        .await
        .map_err(|e| refused(detail, format!("failed to fetch keys: {e}")))?;
    let source = if with_subdomains {
        "DNS TXT records"
    } else {
        "HTTP response"
    };
    let keys = proof::keys_in(&strings, source).map_err(|e| refused(detail, e))?;
    proof::verify(&keys, &timestamp, &signature).map_err(|e| refused(detail, e))?;
    let ns = proof::reversed(&domain);
    let mut grants = vec![Permission::publish(format!("{ns}/*"))];
    if with_subdomains {
        grants.push(Permission::publish(format!("{ns}.*")));
    }
    Ok((domain, grants))
}

/// `POST /auth/dns`: the key is in a TXT record of the domain; grants `<reversed>/*` and `<reversed>.*`.
pub async fn dns(State(s): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let ex = exchanges(&s)?;
    let dns = ex
        .dns
        .as_ref()
        .ok_or_else(crate::api::ops::endpoint_not_found)?;
    let (domain, grants) = domain_proof(
        &body,
        "DNS authentication failed",
        |d| async move { dns.txt_at_apex(&d).await },
        true,
    )
    .await?;
    Ok(ex.answer("dns", &domain, grants))
}

/// `POST /auth/http`: the key is at `https://<domain>/.well-known/mcp-registry-auth`; grants `<reversed>/*`.
pub async fn http(State(s): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let ex = exchanges(&s)?;
    let wk = ex
        .http
        .as_ref()
        .ok_or_else(crate::api::ops::endpoint_not_found)?;
    let (domain, grants) = domain_proof(
        &body,
        "HTTP authentication failed",
        |d| async move { wk.fetch(&d).await.map(|s| vec![s]) },
        false,
    )
    .await?;
    Ok(ex.answer("http", &domain, grants))
}

/// The body of an identity-token exchange: exactly `{"oidc_token": "<JWT>"}`.
fn oidc_body(body: &Bytes) -> ApiResult<String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Problem::bad_request("validation failed").with_cause(e.to_string()))?;
    match v.get("oidc_token") {
        Some(Value::String(t)) if v.as_object().is_some_and(|o| o.len() == 1) => Ok(t.clone()),
        Some(Value::String(_)) => Err(Problem::validation(
            v.as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| *k != "oidc_token")
                .map(|(k, _)| {
                    Problem::field(&format!("body.{k}"), "unexpected property", Some(v.clone()))
                })
                .collect::<Vec<_>>(),
        )),
        Some(other) => Err(Problem::validation([Problem::field(
            "body.oidc_token",
            "expected string",
            Some(other.clone()),
        )])),
        None => Err(Problem::validation([Problem::field(
            "body",
            "expected required property oidc_token to be present",
            Some(v.clone()),
        )])),
    }
}

const EXCHANGE_FAILED: &str = "Token exchange failed";

/// An identity token of `issuer` for a registry token of `method`.
async fn identity_exchange(
    ex: &Exchanges,
    issuer: &Issuer,
    token: &str,
    method: &str,
) -> ApiResult<Response> {
    let id = issuer.exchange(token).await.map_err(|e| {
        refused(
            EXCHANGE_FAILED,
            format!("failed to validate OIDC token: {e}"),
        )
    })?;
    Ok(ex.answer(method, &id.sub, id.permissions))
}

/// `POST /auth/github-oidc`: a GitHub Actions ID token; grants `io.github.<repository_owner>/*`.
pub async fn github_oidc(State(s): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let ex = exchanges(&s)?;
    let issuer = ex
        .github_oidc
        .as_ref()
        .ok_or_else(crate::api::ops::endpoint_not_found)?;
    identity_exchange(ex, issuer, &oidc_body(&body)?, "github-oidc").await
}

/// `POST /auth/oidc`: an identity token of one of the configured issuers (GitLab, an IdP, Kubernetes).
pub async fn oidc(State(s): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let ex = exchanges(&s)?;
    if ex.oidc.is_empty() {
        return Err(crate::api::ops::endpoint_not_found());
    }
    let token = oidc_body(&body)?;
    let issuer = oidc::pick(&ex.oidc, &token).map_err(|e| refused(EXCHANGE_FAILED, e))?;
    identity_exchange(ex, issuer, &token, "oidc").await
}

/// `POST /auth/github-at`: `{"github_token": …}`; grants the user's and its admin organizations' namespaces.
pub async fn github_at(State(s): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let ex = exchanges(&s)?;
    let api = ex
        .github_at
        .as_ref()
        .ok_or_else(crate::api::ops::endpoint_not_found)?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request("validation failed").with_cause(e.to_string()))?;
    let Some(token) = v.get("github_token").and_then(Value::as_str) else {
        return Err(Problem::validation([Problem::field(
            "body",
            "expected required property github_token to be present",
            Some(v.clone()),
        )]));
    };
    let (login, grants) = api
        .exchange(token)
        .await
        .map_err(|e| refused(EXCHANGE_FAILED, e))?;
    Ok(ex.answer("github-at", &login, grants))
}
