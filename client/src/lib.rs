//! The one client of the registry's HTTP API (docs/api.md) in this workspace: `mcp-registry smoke`, the e2e
//! harness and the server's HTTP tests all send their requests through [`RegistryClient`].
//!
//! Two ways to call:
//! - [`RegistryClient::send`]: any method, path, token and body; the answer whatever its status
//!   ([`Reply`]: status, headers, body as JSON, or as a JSON string when it is not JSON). For tests that
//!   assert on error answers.
//! - [`RegistryClient::call`]: the client's own token, and an expected status; anything else is an error
//!   naming the request and the answer. For smoke and data checks.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

/// The `$schema` of the server.json documents the checks publish.
pub const SCHEMA: &str =
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

/// `/` in a server name must be sent as `%2F` in a path.
pub fn encode_name(name: &str) -> String {
    name.replace('/', "%2F")
}

/// An error with every cause in its chain (reqwest's top level says only "error sending request").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// An answer of the registry.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON; a body that is not JSON becomes a JSON string of its text.
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct RegistryClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl RegistryClient {
    /// A client of the registry at `base` (`http://host:port`), with a per-request `timeout`. It never uses
    /// a proxy from the environment: every registry this workspace talks to is local (loopback, a
    /// port-forward or a ClusterIP).
    pub fn new(
        base: impl Into<String>,
        token: Option<String>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        // reqwest is built without a default TLS crypto provider (the workspace picks ring): make sure one
        // is installed; a no-op when the program installed it already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .build()?;
        Ok(RegistryClient {
            http,
            base: base.into().trim_end_matches('/').to_string(),
            token,
        })
    }

    /// A client on an HTTP client of the caller's (its own timeout, user agent, proxy settings).
    pub fn from_http(
        http: reqwest::Client,
        base: impl Into<String>,
        token: Option<String>,
    ) -> Self {
        RegistryClient {
            http,
            base: base.into().trim_end_matches('/').to_string(),
            token,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// One request with an explicit token (or none) and an optional JSON body; any status is an answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<Reply> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{method} {url}: {e}"))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp
            .text()
            .await
            .map_err(|e| anyhow::anyhow!("{method} {url}: reading the body: {e}"))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// One request with the client's token; the body of the answer when its status is `expect`, else an
    /// error naming the request, the status and the body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        expect: u16,
    ) -> anyhow::Result<Value> {
        let reply = self
            .send(method.clone(), path, self.token.as_deref(), body)
            .await?;
        anyhow::ensure!(
            reply.status.as_u16() == expect,
            "{method} {}{path}: expected HTTP {expect}, got {}: {}",
            self.base,
            reply.status.as_u16(),
            reply.body
        );
        Ok(reply.body)
    }

    /// `GET path`, expecting 200.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, None, 200).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_path_encoded() {
        assert_eq!(encode_name("io.github.x/weather"), "io.github.x%2Fweather");
    }

    #[test]
    fn base_loses_trailing_slashes() {
        let c = RegistryClient::new("http://127.0.0.1:1/", None, Duration::from_secs(1)).unwrap();
        assert_eq!(c.base(), "http://127.0.0.1:1");
    }
}
