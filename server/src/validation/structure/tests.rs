//! Layer 1 against huma's behaviour: messages, locations, values and order.

use super::super::{check_status_body, check_structure};
use serde_json::{Value, json};

fn minimal() -> Value {
    json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": "io.github.user/weather",
        "description": "MCP server providing weather data and forecasts.",
        "version": "1.0.2"
    })
}

fn with_package() -> Value {
    json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": "io.github.user/local-weather",
        "description": "Local MCP server distributed as an npm package.",
        "version": "1.0.0",
        "packages": [{
            "registryType": "npm",
            "identifier": "@modelcontextprotocol/server-weather",
            "version": "1.0.0",
            "transport": {"type": "stdio"},
            "runtimeHint": "npx",
            "packageArguments": [
                {"type": "positional", "valueHint": "config_path"},
                {"type": "named", "name": "--port", "value": "8080"}
            ],
            "environmentVariables": [{"name": "API_KEY", "isSecret": true, "isRequired": true}]
        }]
    })
}

fn locs(body: &Value) -> Vec<(String, String)> {
    check_structure(body, "body")
        .into_iter()
        .map(|e| (e.location, e.message))
        .collect()
}

fn one(body: &Value) -> (String, String) {
    let errs = locs(body);
    assert_eq!(errs.len(), 1, "{errs:?}");
    errs.into_iter().next().unwrap()
}

fn pair(loc: &str, msg: &str) -> (String, String) {
    (loc.to_string(), msg.to_string())
}

#[test]
fn valid_examples_pass() {
    assert!(locs(&minimal()).is_empty());
    assert!(locs(&with_package()).is_empty());
}

#[test]
fn missing_name_is_reported_at_parent_with_body_value() {
    let mut b = minimal();
    b.as_object_mut().unwrap().remove("name");
    let errs = check_structure(&b, "body");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].location, "body");
    assert_eq!(
        errs[0].message,
        "expected required property name to be present"
    );
    assert_eq!(errs[0].value, Some(b.clone()));
}

#[test]
fn schema_is_required_and_non_empty() {
    let mut b = minimal();
    b.as_object_mut().unwrap().remove("$schema");
    assert_eq!(
        one(&b),
        pair("body", "expected required property $schema to be present")
    );
    b["$schema"] = json!("");
    assert_eq!(one(&b), pair("body.$schema", "expected length >= 1"));
}

#[test]
fn name_length_and_pattern() {
    let mut b = minimal();
    b["name"] = json!("no-namespace-separator");
    assert_eq!(
        one(&b),
        pair(
            "body.name",
            "expected string to match pattern ^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$"
        )
    );
    b["name"] = json!("a/");
    let errs = locs(&b);
    assert_eq!(errs[0], pair("body.name", "expected length >= 3"));
    assert_eq!(errs.len(), 2);
    b["name"] = json!(format!("io.github.user/{}", "x".repeat(186)));
    assert_eq!(one(&b), pair("body.name", "expected length <= 200"));
    // `a/b` passes the tags (the semantic layer rejects it).
    b["name"] = json!("a/b");
    assert!(locs(&b).is_empty());
}

#[test]
fn description_bounds() {
    let mut b = minimal();
    b["description"] = json!(
        "This description deliberately exceeds the one-hundred character maximum length enforced by the schema for sure."
    );
    let errs = check_structure(&b, "body");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].location, "body.description");
    assert_eq!(errs[0].message, "expected length <= 100");
    assert_eq!(errs[0].value, Some(b["description"].clone()));
    b["description"] = json!("");
    assert_eq!(one(&b), pair("body.description", "expected length >= 1"));
    // Code points, not bytes: 100 × "é" (200 bytes) is fine.
    b["description"] = json!("é".repeat(100));
    assert!(locs(&b).is_empty());
}

#[test]
fn title_bounds() {
    let mut b = minimal();
    b["title"] = json!("");
    assert_eq!(one(&b), pair("body.title", "expected length >= 1"));
    b["title"] = json!("t".repeat(101));
    assert_eq!(one(&b), pair("body.title", "expected length <= 100"));
    b["title"] = json!("Weather");
    assert!(locs(&b).is_empty());
}

#[test]
fn server_version_bounds() {
    let mut b = minimal();
    b["version"] = json!("");
    assert_eq!(one(&b), pair("body.version", "expected length >= 1"));
    b["version"] = json!("1".repeat(256));
    assert_eq!(one(&b), pair("body.version", "expected length <= 255"));
    b["version"] = json!("1".repeat(255));
    assert!(locs(&b).is_empty());
    b.as_object_mut().unwrap().remove("version");
    assert_eq!(
        one(&b),
        pair("body", "expected required property version to be present")
    );
}

#[test]
fn types_and_nulls() {
    let mut b = minimal();
    b["name"] = json!(42);
    let errs = check_structure(&b, "body");
    assert_eq!(errs[0].location, "body.name");
    assert_eq!(errs[0].message, "expected string");
    assert_eq!(errs[0].value, Some(json!(42)));
    // A required field set to null is a type error whose null value is not echoed.
    b["name"] = Value::Null;
    let errs = check_structure(&b, "body");
    assert_eq!(errs[0].message, "expected string");
    assert_eq!(errs[0].value, None);
    // Optional nulls are ignored.
    let mut b = minimal();
    b["title"] = Value::Null;
    b["packages"] = Value::Null;
    assert!(locs(&b).is_empty());
    b["packages"] = json!("npm");
    assert_eq!(one(&b), pair("body.packages", "expected array"));
    b["packages"] = json!(["npm"]);
    assert_eq!(one(&b), pair("body.packages[0]", "expected object"));
    assert_eq!(locs(&json!([1])), vec![pair("body", "expected object")]);
}

#[test]
fn keys_match_case_insensitively() {
    let b = json!({
        "$SCHEMA": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "Name": "io.github.user/weather",
        "DESCRIPTION": "d",
        "Version": "1.0.0"
    });
    assert!(locs(&b).is_empty());
}

#[test]
fn unknown_fields_are_unexpected_properties_after_the_known_ones() {
    let mut b = minimal();
    b["somethingElse"] = json!({"x": 1});
    b["packages"] = with_package()["packages"].clone();
    b["packages"][0]["unknown"] = json!(true);
    b["version"] = json!("");
    let errs = check_structure(&b, "body");
    let got: Vec<(&str, &str)> = errs
        .iter()
        .map(|e| (e.location.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("body.packages[0].unknown", "unexpected property"),
            ("body.version", "expected length >= 1"),
            ("body.somethingElse", "unexpected property"),
        ]
    );
    // The value is the object that holds the key, as huma reports it.
    assert_eq!(
        errs[2].value.as_ref().unwrap()["somethingElse"],
        json!({"x": 1})
    );
    // A key that matches a field case-insensitively is that field, not an unknown one.
    let mut b = minimal();
    b["Title"] = json!("t");
    assert!(locs(&b).is_empty());
}

#[test]
fn package_required_fields() {
    let mut b = with_package();
    let pkg = b["packages"][0].as_object_mut().unwrap();
    pkg.remove("registryType");
    pkg.remove("transport");
    assert_eq!(
        locs(&b),
        vec![
            pair(
                "body.packages[0]",
                "expected required property registryType to be present"
            ),
            pair(
                "body.packages[0]",
                "expected required property transport to be present"
            ),
        ]
    );
    let mut b = with_package();
    b["packages"][0]["identifier"] = json!("");
    b["packages"][0]["transport"] = json!({});
    assert_eq!(
        locs(&b),
        vec![
            pair("body.packages[0].identifier", "expected length >= 1"),
            pair(
                "body.packages[0].transport",
                "expected required property type to be present"
            ),
        ]
    );
}

#[test]
fn package_version_and_sha() {
    let mut b = with_package();
    b["packages"][0]["version"] = json!("");
    assert_eq!(
        one(&b),
        pair("body.packages[0].version", "expected length >= 1")
    );
    b["packages"][0]["version"] = json!("9".repeat(256));
    assert_eq!(
        one(&b),
        pair("body.packages[0].version", "expected length <= 255")
    );
    // Optional: absent is fine.
    b["packages"][0].as_object_mut().unwrap().remove("version");
    assert!(locs(&b).is_empty());
    b["packages"][0]["fileSha256"] = json!("ABC");
    assert_eq!(
        one(&b),
        pair(
            "body.packages[0].fileSha256",
            "expected string to match pattern ^[a-f0-9]{64}$"
        )
    );
    b["packages"][0]["fileSha256"] = json!("f".repeat(64));
    assert!(locs(&b).is_empty());
}

#[test]
fn arguments_and_env_vars() {
    let mut b = with_package();
    b["packages"][0]["packageArguments"][0] = json!({"valueHint": "x", "isRepeated": "yes"});
    b["packages"][0]["environmentVariables"][0] = json!({"format": "date", "isSecret": true});
    assert_eq!(
        locs(&b),
        // Properties in name order: environmentVariables before packageArguments, format before name.
        vec![
            pair(
                "body.packages[0].environmentVariables[0].format",
                "expected value to be one of \"string, number, boolean, filepath\""
            ),
            pair(
                "body.packages[0].environmentVariables[0]",
                "expected required property name to be present"
            ),
            pair(
                "body.packages[0].packageArguments[0].isRepeated",
                "expected boolean"
            ),
            pair(
                "body.packages[0].packageArguments[0]",
                "expected required property type to be present"
            ),
        ]
    );
    // The positional-without-value case is a semantic rule, not a tag rule.
    let mut b = with_package();
    b["packages"][0]["packageArguments"] = json!([{"type": "positional", "isRepeated": false}]);
    assert!(locs(&b).is_empty());
}

#[test]
fn remotes_and_variables() {
    let mut b = minimal();
    b["remotes"] = json!([
        {"type": "streamable-http", "url": "https://{host}/mcp", "variables": {"host": {"default": 3}}},
        {"url": "https://example.com/sse", "headers": [{"name": "X", "choices": ["a", 1]}]}
    ]);
    assert_eq!(
        locs(&b),
        vec![
            pair("body.remotes[0].variables.host.default", "expected string"),
            pair("body.remotes[1].headers[0].choices[1]", "expected string"),
            pair(
                "body.remotes[1]",
                "expected required property type to be present"
            ),
        ]
    );
}

#[test]
fn icons() {
    let mut b = minimal();
    b["icons"] = json!([
        {"src": "https://example.com/icon.png", "mimeType": "image/png", "sizes": ["48x48", "any"], "theme": "dark"}
    ]);
    assert!(locs(&b).is_empty());
    b["icons"] = json!([
        {"mimeType": "image/gif", "sizes": ["48", "any"], "theme": "blue"},
        {"src": format!("https://example.com/{}", "a".repeat(240))}
    ]);
    assert_eq!(
        locs(&b),
        vec![
            pair(
                "body.icons[0].mimeType",
                "expected value to be one of \"image/png, image/jpeg, image/jpg, image/svg+xml, image/webp\""
            ),
            pair(
                "body.icons[0].sizes[0]",
                r"expected string to match pattern ^(\d+x\d+|any)$"
            ),
            pair(
                "body.icons[0]",
                "expected required property src to be present"
            ),
            pair(
                "body.icons[0].theme",
                "expected value to be one of \"light, dark\""
            ),
            pair("body.icons[1].src", "expected length <= 255"),
        ]
    );
}

#[test]
fn uri_format_uses_go_url_parse() {
    let mut b = minimal();
    // Go's url.Parse accepts relative references; huma only checks that it parses.
    b["websiteUrl"] = json!("example.com/docs");
    assert!(locs(&b).is_empty());
    b["websiteUrl"] = json!("ht tp://example.com");
    assert_eq!(
        one(&b),
        pair(
            "body.websiteUrl",
            r#"expected string to be RFC 3986 uri: parse "ht tp://example.com": first path segment in URL cannot contain colon"#
        )
    );
    b["websiteUrl"] = json!("https://example.com");
    b["repository"] = json!({"url": "https://example.com:x/", "source": "github"});
    assert_eq!(
        one(&b),
        pair(
            "body.repository.url",
            r#"expected string to be RFC 3986 uri: parse "https://example.com:x/": invalid port ":x" after host"#
        )
    );
}

#[test]
fn meta_shapes() {
    let mut b = minimal();
    b["_meta"] = json!({"io.modelcontextprotocol.registry/publisher-provided": {"a": {"free": 1}}});
    assert!(locs(&b).is_empty());
    b["_meta"] = json!({"io.modelcontextprotocol.registry/publisher-provided": {"a": 1}, "x": 2});
    assert_eq!(one(&b), pair("body._meta.x", "unexpected property"));
    b["_meta"] = json!({"io.modelcontextprotocol.registry/publisher-provided": "nope"});
    assert_eq!(
        one(&b),
        pair(
            "body._meta.io.modelcontextprotocol.registry/publisher-provided",
            "expected object"
        )
    );
    b["_meta"] = json!([]);
    assert_eq!(one(&b), pair("body._meta", "expected object"));
}

#[test]
fn custom_prefix() {
    let b = json!({"name": 1});
    assert!(
        check_structure(&b, "payload")
            .iter()
            .all(|e| e.location.starts_with("payload"))
    );
}

#[test]
fn status_body() {
    assert!(
        check_status_body(
            &json!({"status": "deprecated", "statusMessage": "use 2.x"}),
            "body"
        )
        .is_empty()
    );
    assert!(
        check_status_body(&json!({"status": "active", "statusMessage": null}), "body").is_empty()
    );
    let errs = check_status_body(&json!({"status": "gone"}), "body");
    assert_eq!(errs[0].location, "body.status");
    assert_eq!(
        errs[0].message,
        "expected value to be one of \"active, deprecated, deleted\""
    );
    let errs = check_status_body(&json!({}), "body");
    assert_eq!(
        errs[0].message,
        "expected required property status to be present"
    );
    let errs = check_status_body(
        &json!({"status": "deleted", "statusMessage": "x".repeat(501)}),
        "body",
    );
    assert_eq!(errs[0].location, "body.statusMessage");
    assert_eq!(errs[0].message, "expected length <= 500");
    assert!(
        check_status_body(
            &json!({"status": "deleted", "statusMessage": "x".repeat(500)}),
            "body"
        )
        .is_empty()
    );
}
