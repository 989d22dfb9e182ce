//! Helpers shared by the semantic-layer tests (`semantic/tests.rs`, `packages/tests.rs`).

use super::check_semantic;
use serde_json::{Value, json};

pub(super) fn base() -> Value {
    json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": "io.github.user/weather",
        "description": "MCP server providing weather data and forecasts.",
        "version": "1.0.2"
    })
}

pub(super) fn errors(body: &Value) -> Vec<(String, String)> {
    check_semantic(body)
        .errors
        .into_iter()
        .map(|e| (e.location, e.message))
        .collect()
}

pub(super) fn only(body: &Value) -> (String, String) {
    let e = errors(body);
    assert_eq!(e.len(), 1, "{e:?}");
    e.into_iter().next().unwrap()
}

pub(super) fn pair(l: &str, m: &str) -> (String, String) {
    (l.to_string(), m.to_string())
}

pub(super) fn with(key: &str, v: Value) -> Value {
    let mut b = base();
    b[key] = v;
    b
}
