//! Layer 3: full JSON Schema validation against the embedded, published 2025-12-11
//! `server.schema.json` (only `POST /validate` runs it).
//!
//! The official server uses santhosh-tekuri/jsonschema (Go). Messages here follow its wording,
//! including the registry's rewrites (`missing properties:` → `missing required fields:`,
//! `is not valid` → `has invalid format`); locations use the same bracket notation
//! (`body.packages[0].transport.url`). Nested `anyOf`/`oneOf` causes are reported too, as the
//! official detailed output does. The schema is self-contained: nothing is fetched.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;
use std::sync::OnceLock;

use super::FieldError;

/// The published 2025-12-11 schema, byte for byte.
pub const SERVER_SCHEMA_2025_12_11: &str =
    include_str!("../../schemas/2025-12-11/server.schema.json");

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(SERVER_SCHEMA_2025_12_11).expect("embedded schema is JSON");
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("embedded schema compiles")
    })
}

pub(crate) fn check(body: &Value) -> Vec<FieldError> {
    let mut out = Vec::new();
    for error in validator().iter_errors(body) {
        push_error(&error, &mut out);
    }
    out
}

fn push_error(error: &ValidationError<'_>, out: &mut Vec<FieldError>) {
    let location = pointer_to_location(error.instance_path().as_str());
    let instance: &Value = error.instance();
    let message = match error.kind() {
        ValidationErrorKind::Required { property } => {
            format!("missing required fields: {}", quote_value(property))
        }
        ValidationErrorKind::MinLength { limit } => format!(
            "length must be >= {limit}, but got {}",
            instance.as_str().map_or(0, |s| s.chars().count())
        ),
        ValidationErrorKind::MaxLength { limit } => format!(
            "length must be <= {limit}, but got {}",
            instance.as_str().map_or(0, |s| s.chars().count())
        ),
        ValidationErrorKind::Pattern { pattern } => {
            format!("does not match pattern {}", quote(pattern))
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            format!("expected {expected}, but got {}", json_type(instance))
        }
        ValidationErrorKind::Enum { options } => {
            let values = options
                .as_array()
                .map(|a| a.iter().map(quote_value).collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            format!("value must be one of {values}")
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("value must be {}", quote_value(expected_value))
        }
        ValidationErrorKind::Format { format } => {
            format!(
                "{} has invalid format {}",
                quote_value(instance),
                quote(format)
            )
        }
        ValidationErrorKind::Not { .. } => "not failed".to_string(),
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            let keyword = error.kind().keyword().to_string();
            out.push(schema_issue(
                error,
                location.clone(),
                format!("{keyword} failed"),
            ));
            for branch in context {
                for nested in branch {
                    push_error(nested, out);
                }
            }
            return;
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            "valid against more than one oneOf subschema".to_string()
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => format!(
            "additionalProperties {} not allowed",
            unexpected
                .iter()
                .map(|s| quote(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => error.to_string(),
    };
    out.push(schema_issue(error, location, message));
}

/// A JSON Schema finding; its reference is the keyword location in the schema (`#/properties/…`).
fn schema_issue(error: &ValidationError<'_>, location: String, message: String) -> FieldError {
    FieldError {
        location,
        message,
        value: None,
        kind: "schema",
        reference: format!("#{}", error.schema_path().as_str()),
    }
}

/// `/packages/0/transport` → `body.packages[0].transport`; the root is `body`.
fn pointer_to_location(pointer: &str) -> String {
    let mut out = String::from("body");
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push('.');
            out.push_str(&seg);
        }
    }
    out
}

/// santhosh-tekuri's `quote`: single-quoted, Go-escaped.
fn quote(s: &str) -> String {
    let q = super::gourl::go_quote(s);
    let inner = &q[1..q.len() - 1];
    format!("'{}'", inner.replace("\\\"", "\"").replace('\'', "\\'"))
}

fn quote_value(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        other => other.to_string(),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::super::check_schema;
    use super::*;
    use serde_json::json;

    fn has(errs: &[FieldError], loc: &str, msg: &str) -> bool {
        errs.iter().any(|e| e.location == loc && e.message == msg)
    }

    #[test]
    fn embedded_schema_is_the_published_one() {
        let schema: Value = serde_json::from_str(SERVER_SCHEMA_2025_12_11).unwrap();
        assert_eq!(
            schema["$id"],
            "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
        );
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    }

    #[test]
    fn valid_examples() {
        let minimal = json!({
            "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            "name": "io.github.user/weather",
            "description": "MCP server providing weather data and forecasts.",
            "version": "1.0.2"
        });
        assert_eq!(check_schema(&minimal), vec![]);
        let remote = json!({
            "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
            "name": "io.github.user/remote-weather",
            "description": "Remote MCP server reachable over streamable HTTP.",
            "version": "2.1.0",
            "title": "Remote Weather",
            "websiteUrl": "https://modelcontextprotocol.io/examples",
            "repository": {"url": "https://github.com/modelcontextprotocol/servers", "source": "github", "subfolder": "src/weather"},
            "icons": [{"src": "https://example.com/icon.png", "mimeType": "image/png", "sizes": ["48x48", "96x96"]}],
            "remotes": [{
                "type": "streamable-http",
                "url": "https://{host}/mcp",
                "headers": [{"name": "Authorization", "isSecret": true, "isRequired": true}],
                "variables": {"host": {"description": "API host", "default": "api.example.com"}}
            }]
        });
        assert_eq!(check_schema(&remote), vec![]);
    }

    #[test]
    fn invalid_examples() {
        let errs = check_schema(
            &json!({"description": "Server without the required name field.", "version": "1.0.0"}),
        );
        assert!(
            has(&errs, "body", "missing required fields: 'name'"),
            "{errs:?}"
        );

        let errs = check_schema(
            &json!({"name": "no-namespace-separator", "description": "d", "version": "1.0.0"}),
        );
        assert!(
            has(
                &errs,
                "body.name",
                "does not match pattern '^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$'"
            ),
            "{errs:?}"
        );

        let long = "This description deliberately exceeds the one-hundred character maximum length enforced by the schema for sure.";
        let errs = check_schema(
            &json!({"name": "io.github.user/verbose", "description": long, "version": "1.0.0"}),
        );
        assert!(
            has(
                &errs,
                "body.description",
                "length must be <= 100, but got 111"
            ),
            "{errs:?}"
        );

        let errs = check_schema(&json!({
            "name": "io.github.user/bad-version", "description": "d", "version": "1.0.0",
            "packages": [{"registryType": "npm", "identifier": "x", "version": "latest", "transport": {"type": "stdio"}}]
        }));
        assert!(
            has(&errs, "body.packages[0].version", "not failed"),
            "{errs:?}"
        );

        let errs = check_schema(&json!({
            "name": "io.github.user/bad-argument", "description": "d", "version": "1.0.0",
            "packages": [{"registryType": "npm", "identifier": "x", "version": "1.0.0", "transport": {"type": "stdio"},
                          "packageArguments": [{"type": "positional", "isRepeated": false}]}]
        }));
        assert!(
            has(
                &errs,
                "body.packages[0].packageArguments[0]",
                "anyOf failed"
            ),
            "{errs:?}"
        );
    }

    #[test]
    fn types_enums_and_formats() {
        let errs = check_schema(&json!({
            "name": "io.github.user/x", "description": 5, "version": "1",
            "icons": [{"src": "not a uri", "theme": "blue"}],
            "remotes": [{"type": "streamable-http", "url": "ftp://x"}]
        }));
        assert!(
            has(&errs, "body.description", "expected string, but got number"),
            "{errs:?}"
        );
        assert!(
            has(
                &errs,
                "body.icons[0].theme",
                "value must be one of 'light', 'dark'"
            ),
            "{errs:?}"
        );
        assert!(
            has(
                &errs,
                "body.icons[0].src",
                "'not a uri' has invalid format 'uri'"
            ),
            "{errs:?}"
        );
        assert!(has(&errs, "body.remotes[0]", "anyOf failed"), "{errs:?}");
    }

    #[test]
    fn schema_allows_what_code_forbids() {
        // http remotes pass the published schema; the semantic layer rejects them.
        let body = json!({
            "name": "io.github.user/x", "description": "d", "version": "1",
            "remotes": [{"type": "sse", "url": "http://example.com/sse"}]
        });
        assert_eq!(check_schema(&body), vec![]);
    }

    #[test]
    fn pointer_conversion() {
        assert_eq!(pointer_to_location(""), "body");
        assert_eq!(
            pointer_to_location("/packages/10/transport/url"),
            "body.packages[10].transport.url"
        );
        assert_eq!(pointer_to_location("/_meta/a~1b~0c"), "body._meta.a/b~c");
        assert_eq!(quote("it's"), r"'it\'s'");
    }
}
