//! Tests of the public entry points: the example fixtures through every layer, `validate_all`,
//! storage normalization, the `_meta` size cap and permission patterns.

use super::*;
use serde_json::json;

const SCHEMA: &str = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

fn minimal() -> Value {
    json!({"$schema": SCHEMA, "name": "io.github.user/weather",
           "description": "MCP server providing weather data and forecasts.", "version": "1.0.2"})
}

/// Publish gate as the official handler applies it: tags, then semantic.
fn publish_gate(body: &Value) -> Result<(), &'static str> {
    if !check_structure(body, "body").is_empty() {
        return Err("structure");
    }
    if !check_semantic(body).is_ok() {
        return Err("semantic");
    }
    Ok(())
}

#[test]
fn example_fixtures_through_the_publish_gate() {
    assert_eq!(publish_gate(&minimal()), Ok(()));
    // invalid/bad-name-pattern (no $schema, as in the fixture): tags reject it.
    let bad_name = json!({"name": "no-namespace-separator", "description": "The name must contain exactly one slash separating namespace from name.", "version": "1.0.0"});
    let errs = check_structure(&bad_name, "body");
    assert_eq!(
        errs[0].message,
        "expected required property $schema to be present"
    );
    assert_eq!(errs[1].location, "body.name");
    // invalid/package-version-latest: passes the tags, fails the semantic layer.
    let latest = json!({"$schema": SCHEMA, "name": "io.github.user/bad-version", "description": "Package pins the disallowed floating tag 'latest'.", "version": "1.0.0",
        "packages": [{"registryType": "npm", "identifier": "@modelcontextprotocol/server-weather", "version": "latest", "transport": {"type": "stdio"}}]});
    assert_eq!(publish_gate(&latest), Err("semantic"));
    assert_eq!(
        check_semantic(&latest).errors[0].location,
        "body.packages[0].version"
    );
    // invalid/positional-argument-missing-value: a semantic rule since the official v1.8.9, so publish
    // refuses it as /validate does.
    let positional = json!({"$schema": SCHEMA, "name": "io.github.user/bad-argument", "description": "Positional argument provides neither valueHint nor value.", "version": "1.0.0",
        "packages": [{"registryType": "npm", "identifier": "@modelcontextprotocol/server-weather", "version": "1.0.0", "transport": {"type": "stdio"},
                      "packageArguments": [{"type": "positional", "isRepeated": false}]}]});
    assert_eq!(publish_gate(&positional), Err("semantic"));
    assert!(!validate_all(&positional).is_ok());
}

#[test]
fn validate_all_merges_and_dedups() {
    let body = json!({"$schema": SCHEMA, "name": "io.github.user/x", "description": "d", "version": "1.0.0",
        "remotes": [{"type": "streamable-http", "url": "not-a-valid-url"}]});
    let f = validate_all(&body);
    let remote_errs: Vec<_> = f
        .errors
        .iter()
        .filter(|e| e.location == "body.remotes[0].url")
        .collect();
    // The semantic layer reports the bad URL twice; validate_all keeps one; the schema adds its own.
    assert_eq!(
        remote_errs
            .iter()
            .filter(|e| e.message == "invalid remote URL: not-a-valid-url")
            .count(),
        1
    );
    assert!(
        f.errors
            .iter()
            .any(|e| e.location.starts_with("body.remotes[0]") && e.message == "anyOf failed")
    );
    // Warnings pass through; a clean current body has none.
    assert_eq!(validate_all(&minimal()), Findings::default());
    let mut old = minimal();
    old["$schema"] =
        json!("https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json");
    let f = validate_all(&old);
    assert!(f.is_ok());
    assert_eq!(f.warnings.len(), 1);
    // Structure errors are included too (huma messages), next to the schema's.
    let f = validate_all(
        &json!({"$schema": SCHEMA, "name": "io.github.user/x", "description": "", "version": "1"}),
    );
    assert!(
        f.errors
            .iter()
            .any(|e| e.location == "body.description" && e.message == "expected length >= 1")
    );
    assert!(
        f.errors
            .iter()
            .any(|e| e.location == "body.description"
                && e.message == "length must be >= 1, but got 0")
    );
}

#[test]
fn field_error_serializes_like_huma() {
    let e = FieldError::constraint("body.name".into(), "m".into(), None);
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"location": "body.name", "message": "m"})
    );
    let e = FieldError {
        value: Some(json!("x")),
        ..e
    };
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"location": "body.name", "message": "m", "value": "x"})
    );
}

#[test]
fn normalize_drops_foreign_meta_and_unknown_fields() {
    let mut body = minimal();
    body["_meta"] = json!({
        "io.modelcontextprotocol.registry/publisher-provided": {"tool": "cli", "n": 1.0},
        "io.modelcontextprotocol.registry/official": {"isLatest": true},
        "com.example": {"x": 1}
    });
    body["unknownTop"] = json!(1);
    body["packages"] = json!([{"registryType": "npm", "identifier": "p", "transport": {"type": "stdio", "extra": 1}, "junk": true}]);
    let n = normalize_for_storage(&body);
    assert_eq!(
        n["_meta"],
        json!({"io.modelcontextprotocol.registry/publisher-provided": {"tool": "cli", "n": 1}})
    );
    assert!(n.get("unknownTop").is_none());
    assert_eq!(
        n["packages"][0],
        json!({"registryType": "npm", "identifier": "p", "transport": {"type": "stdio"}})
    );
    // Only foreign keys: Go keeps an empty `_meta` object (non-nil pointer).
    let mut body = minimal();
    body["_meta"] = json!({"com.example": {"x": 1}});
    assert_eq!(normalize_for_storage(&body)["_meta"], json!({}));
    body["_meta"] = Value::Null;
    assert!(normalize_for_storage(&body).get("_meta").is_none());
}

#[test]
fn normalize_applies_omitempty() {
    let body = json!({
        "$schema": SCHEMA, "name": "io.github.user/x", "description": "d", "version": "1.0.0",
        "title": "", "websiteUrl": null, "icons": [], "remotes": [],
        "repository": {"url": "", "source": ""},
        "packages": [{"registryType": "npm", "identifier": "p", "version": "", "transport": {"type": "stdio", "headers": []},
                      "environmentVariables": [{"name": "K", "isSecret": false, "isRequired": true, "choices": [], "variables": {}}],
                      "packageArguments": [{"type": "named", "name": "--x", "isRepeated": false, "format": "string"}]}]
    });
    let n = normalize_for_storage(&body);
    assert_eq!(
        n,
        json!({
            "$schema": SCHEMA, "name": "io.github.user/x", "description": "d", "version": "1.0.0",
            "repository": {},
            "packages": [{"registryType": "npm", "identifier": "p", "transport": {"type": "stdio"},
                          "environmentVariables": [{"name": "K", "isRequired": true}],
                          "packageArguments": [{"type": "named", "name": "--x", "format": "string"}]}]
        })
    );
    // Pointer strings keep "" (icons mimeType/theme are *string).
    let mut b = minimal();
    b["icons"] =
        json!([{"src": "https://x.example/i.png", "mimeType": "", "theme": null, "sizes": []}]);
    assert_eq!(
        normalize_for_storage(&b)["icons"],
        json!([{"src": "https://x.example/i.png", "mimeType": ""}])
    );
}

#[test]
fn normalize_canonicalizes_case_and_keeps_remote_variables() {
    let body = json!({"$SCHEMA": SCHEMA, "NAME": "io.github.user/x", "Description": "d", "version": "1",
        "remotes": [{"TYPE": "sse", "url": "https://{h}/sse", "variables": {"h": {"default": "x.example", "bogus": 1}}}]});
    let n = normalize_for_storage(&body);
    assert_eq!(n["name"], "io.github.user/x");
    assert_eq!(n["$schema"], SCHEMA);
    assert_eq!(
        n["remotes"][0],
        json!({"type": "sse", "url": "https://{h}/sse", "variables": {"h": {"default": "x.example"}}})
    );
    // Idempotent.
    assert_eq!(normalize_for_storage(&n), n);
}

#[test]
fn publisher_meta_size_cap() {
    let with_meta = |payload: Value| {
        let mut b = minimal();
        b["_meta"] = json!({"io.modelcontextprotocol.registry/publisher-provided": payload});
        b
    };
    // {"k":"<n × a>"} is 8 + n bytes.
    assert_eq!(
        Stored::of(&with_meta(json!({"k": "a".repeat(4088)}))).check_publisher_meta_size(),
        Ok(())
    );
    assert_eq!(
        Stored::of(&with_meta(json!({"k": "a".repeat(4089)})))
            .check_publisher_meta_size()
            .unwrap_err(),
        "_meta.io.modelcontextprotocol.registry/publisher-provided extension exceeds 4KB limit (4097 bytes)"
    );
    // Go escapes '<' as \u003c (6 bytes), so this is over the cap too.
    assert!(
        Stored::of(&with_meta(json!({"k": "<".repeat(700)})))
            .check_publisher_meta_size()
            .is_err()
    );
    // Foreign _meta keys are not counted (they are dropped).
    let mut b = minimal();
    b["_meta"] = json!({"com.example": {"k": "a".repeat(10_000)}});
    assert_eq!(Stored::of(&b).check_publisher_meta_size(), Ok(()));
    assert_eq!(Stored::of(&minimal()).check_publisher_meta_size(), Ok(()));
}

#[test]
fn permission_patterns() {
    assert!(pattern_allows(
        "io.github.alice/*",
        "io.github.alice/weather"
    ));
    assert!(!pattern_allows(
        "io.github.alice/*",
        "io.github.alicex/weather"
    ));
    assert!(pattern_allows("com.example.*", "com.example.api/server"));
    assert!(pattern_allows("com.example/*", "com.example/x"));
    assert!(!pattern_allows("com.example/*", "com.example.api/x"));
    assert!(pattern_allows("com.example/server", "com.example/server"));
    assert!(!pattern_allows("com.example/server", "com.example/server2"));
    assert!(pattern_allows("*", "anything/at-all"));
    // A '*' elsewhere is literal.
    assert!(!pattern_allows("com.*/x", "com.example/x"));
    assert!(pattern_allows("com.*/x", "com.*/x"));
}

#[test]
fn statuses_constant() {
    assert_eq!(STATUSES, &["active", "deprecated", "deleted"]);
    assert_eq!(crate::model::MAX_STATUS_MESSAGE_CHARS, 500);
    assert_eq!(CURRENT_SCHEMA_URL, SCHEMA);
    assert_eq!(SCHEMA_VERSIONS.last(), Some(&CURRENT_SCHEMA_VERSION));
}
